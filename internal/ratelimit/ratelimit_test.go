package ratelimit

import (
	"testing"
	"time"
)

func TestAKeyGetsItsBurstThenWaitsWhileAnotherKeyIsUntouched(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	p := New(3)
	p.now = func() time.Time { return now }
	for i := 0; i < 3; i++ {
		if ok, _ := p.Allow(1); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := p.Allow(1)
	if ok || wait <= 0 || wait > 20*time.Second {
		t.Fatalf("fourth request: allowed %v, wait %v (want refused, ≈20s)", ok, wait)
	}
	if ok, _ := p.Allow(2); !ok {
		t.Fatal("another key was refused")
	}
	now = now.Add(20 * time.Second)
	if ok, _ := p.Allow(1); !ok {
		t.Fatal("a token was not back after 20s")
	}
	if ok, _ := p.Allow(1); ok {
		t.Fatal("a refused request took a token, or two came back")
	}
}

func TestIdleKeysAreForgotten(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	p := New(60)
	p.now = func() time.Time { return now }
	for k := int64(1); k <= 100; k++ {
		p.Allow(k)
	}
	now = now.Add(30 * time.Second)
	p.Allow(1)
	now = now.Add(40 * time.Second)
	p.Allow(2)
	if n := p.Len(); n != 2 {
		t.Fatalf("%d buckets after a minute, want the 2 keys used within it", n)
	}
}

func TestZeroAllowsEverything(t *testing.T) {
	p := New(0)
	for i := 0; i < 1000; i++ {
		if ok, _ := p.Allow(1); !ok {
			t.Fatal("refused with no limit")
		}
	}
}

// Len is how many keys have a bucket.
func (p *PerKey) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.buckets)
}
