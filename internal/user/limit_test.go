package user

import (
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/clock"
)

func TestLimiterSlidingWindow(t *testing.T) {
	c := clock.NewFixed(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
	l := NewLimiter(c, 3, 10*time.Minute)
	for range 3 {
		if ok, _ := l.Allow("k"); !ok {
			t.Fatal("refused before the limit")
		}
		l.Fail("k")
		c.Advance(time.Minute)
	}
	if ok, wait := l.Allow("k"); ok || wait != 7*time.Minute {
		t.Fatalf("after 3 failures: %v %v", ok, wait)
	}
	if ok, _ := l.Allow("other"); !ok {
		t.Fatal("another key refused")
	}
	c.Advance(7 * time.Minute)
	if ok, _ := l.Allow("k"); !ok {
		t.Fatal("still refused once the first failure left the window")
	}
	l.Fail("k")
	if ok, _ := l.Allow("k"); ok {
		t.Fatal("allowed with 3 failures in the window")
	}
	l.Reset("k")
	if ok, _ := l.Allow("k"); !ok || len(l.failures) != 0 {
		t.Fatal("reset did not forget")
	}
}
