// Package ratelimit holds one token bucket per API key in the memory of one
// process: the expensive requests a key may make per minute, with a burst of
// the same size.
package ratelimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// PerKey limits each key to perMinute requests a minute. Buckets of keys
// idle for longer than a full refill are dropped: a fresh bucket is the
// same as a full one, so forgetting them changes nothing.
type PerKey struct {
	mu        sync.Mutex
	perMinute int
	buckets   map[int64]*bucket
	lastSweep time.Time
	now       func() time.Time
}

type bucket struct {
	limiter *rate.Limiter
	seen    time.Time
}

// refill is how long an empty bucket takes to fill up again.
const refill = time.Minute

// New limits every key to perMinute requests a minute; 0 or less allows
// everything.
func New(perMinute int) *PerKey {
	return &PerKey{perMinute: perMinute, buckets: map[int64]*bucket{}, now: time.Now}
}

// Allow takes one request from key's bucket. When the bucket is empty it
// takes nothing and says how long until the next request would be allowed.
func (p *PerKey) Allow(key int64) (bool, time.Duration) {
	if p == nil || p.perMinute <= 0 {
		return true, 0
	}
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if now.Sub(p.lastSweep) >= refill {
		p.sweep(now)
	}
	b := p.buckets[key]
	if b == nil {
		b = &bucket{limiter: rate.NewLimiter(rate.Limit(float64(p.perMinute)/refill.Seconds()), p.perMinute)}
		p.buckets[key] = b
	}
	b.seen = now
	r := b.limiter.ReserveN(now, 1)
	if wait := r.DelayFrom(now); wait > 0 {
		r.CancelAt(now)
		return false, wait
	}
	return true, 0
}

// sweep drops the buckets not used for a full refill.
func (p *PerKey) sweep(now time.Time) {
	for k, b := range p.buckets {
		if now.Sub(b.seen) >= refill {
			delete(p.buckets, k)
		}
	}
	p.lastSweep = now
}
