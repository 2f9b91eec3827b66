package user

import (
	"sync"
	"time"

	"github.com/routeloop/routeloop/internal/clock"
)

// The sign-in throttle: after LoginFailures failed attempts for one e-mail
// from one address within LoginWindow, further attempts are refused until
// the oldest failure is LoginWindow old.
const (
	LoginFailures = 5
	LoginWindow   = 15 * time.Minute
)

// Limiter counts failures per key in a sliding window in the process. It
// is the throttle on SQLite, where one process owns the file; on PostgreSQL
// the replicas share a SharedLimiter instead.
type Limiter struct {
	clock  clock.Clock
	max    int
	window time.Duration

	mu       sync.Mutex
	failures map[string][]time.Time
}

// maxKeys bounds the memory a flood of distinct keys can take: when
// exceeded, stale keys are swept, and if that is not enough the map is
// cleared (forgetting counts beats running out of memory).
const maxKeys = 100_000

// NewLimiter allows max failures per key within window.
func NewLimiter(c clock.Clock, max int, window time.Duration) *Limiter {
	return &Limiter{clock: c, max: max, window: window, failures: map[string][]time.Time{}}
}

// recent drops failures older than the window; callers hold mu.
func (l *Limiter) recent(key string, now time.Time) []time.Time {
	fs := l.failures[key]
	i := 0
	for i < len(fs) && now.Sub(fs[i]) >= l.window {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		delete(l.failures, key)
		return nil
	}
	l.failures[key] = fs
	return fs
}

// Allow says whether key may try now, and if not, how long until it may.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	fs := l.recent(key, now)
	if len(fs) < l.max {
		return true, 0
	}
	return false, fs[len(fs)-l.max].Add(l.window).Sub(now)
}

// Fail records a failed attempt.
func (l *Limiter) Fail(key string) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.failures) >= maxKeys {
		for k := range l.failures {
			l.recent(k, now)
		}
		if len(l.failures) >= maxKeys {
			clear(l.failures)
		}
	}
	fs := append(l.recent(key, now), now)
	if len(fs) > l.max {
		fs = fs[len(fs)-l.max:]
	}
	l.failures[key] = fs
}

// Reset forgets key's failures (after a successful sign-in).
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	delete(l.failures, key)
	l.mu.Unlock()
}
