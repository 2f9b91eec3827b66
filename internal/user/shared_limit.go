package user

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/store"
)

// failureCounter is the sign-in throttle's memory: failures per key in a
// sliding window.
type failureCounter interface {
	// Allow says whether key may try now, and if not, how long until it may.
	Allow(ctx context.Context, key string) (bool, time.Duration, error)
	// Fail records a failed attempt; Reset forgets key's failures.
	Fail(ctx context.Context, key string) error
	Reset(ctx context.Context, key string) error
}

// newFailureCounter counts in the database on PostgreSQL, so every replica
// sees the same failures, and in the process on SQLite (one process owns
// the file).
func newFailureCounter(s *store.Store, c clock.Clock) failureCounter {
	if s.Dialect == store.Postgres {
		return NewSharedLimiter(s, c, LoginFailures, LoginWindow)
	}
	return processCounter{NewLimiter(c, LoginFailures, LoginWindow)}
}

// processCounter is a Limiter as a failureCounter.
type processCounter struct{ l *Limiter }

func (p processCounter) Allow(_ context.Context, key string) (bool, time.Duration, error) {
	ok, wait := p.l.Allow(key)
	return ok, wait, nil
}
func (p processCounter) Fail(_ context.Context, key string) error  { p.l.Fail(key); return nil }
func (p processCounter) Reset(_ context.Context, key string) error { p.l.Reset(key); return nil }

// SharedLimiter counts failures per key in a sliding window, like Limiter,
// in the login_failures table: every replica counts the same failures, so
// N replicas allow max attempts per window, not N×max. Keys are stored as
// their SHA-256.
type SharedLimiter struct {
	store  *store.Store
	clock  clock.Clock
	max    int
	window time.Duration
}

// NewSharedLimiter allows max failures per key within window, counted in s.
func NewSharedLimiter(s *store.Store, c clock.Clock, max int, window time.Duration) *SharedLimiter {
	return &SharedLimiter{store: s, clock: c, max: max, window: window}
}

func hashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// Allow says whether key may try now, and if not, how long until it may:
// until the oldest of its last max failures leaves the window.
func (l *SharedLimiter) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	now := l.clock.Now().UTC()
	var recent []time.Time
	if err := l.store.DB.WithContext(ctx).Raw(
		`SELECT failed_at FROM login_failures WHERE key_hash = ? AND failed_at > ? ORDER BY failed_at DESC LIMIT ?`,
		hashKey(key), now.Add(-l.window), l.max).Scan(&recent).Error; err != nil {
		return false, 0, fmt.Errorf("sign-in throttle: %w", err)
	}
	if len(recent) < l.max {
		return true, 0, nil
	}
	return false, recent[l.max-1].Add(l.window).Sub(now), nil
}

// Fail records a failed attempt and deletes every failure that has left
// the window.
func (l *SharedLimiter) Fail(ctx context.Context, key string) error {
	now := l.clock.Now().UTC()
	db := l.store.DB.WithContext(ctx)
	if err := db.Exec(`INSERT INTO login_failures (key_hash, failed_at) VALUES (?, ?)`, hashKey(key), now).Error; err != nil {
		return fmt.Errorf("sign-in throttle: %w", err)
	}
	if err := db.Exec(`DELETE FROM login_failures WHERE failed_at <= ?`, now.Add(-l.window)).Error; err != nil {
		return fmt.Errorf("sign-in throttle: %w", err)
	}
	return nil
}

// Reset forgets key's failures (after a successful sign-in).
func (l *SharedLimiter) Reset(ctx context.Context, key string) error {
	if err := l.store.DB.WithContext(ctx).Exec(`DELETE FROM login_failures WHERE key_hash = ?`, hashKey(key)).Error; err != nil {
		return fmt.Errorf("sign-in throttle: %w", err)
	}
	return nil
}
