package user_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/user"
)

// Two replicas over one database count the same failures: the window is
// the same sliding window as in one process.
func TestSharedLimiterCountsAcrossReplicas(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := clock.NewFixed(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
		a := user.NewSharedLimiter(s, c, 3, 10*time.Minute)
		b := user.NewSharedLimiter(s, c, 3, 10*time.Minute)
		allow := func(l *user.SharedLimiter, key string) (bool, time.Duration) {
			t.Helper()
			ok, wait, err := l.Allow(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			return ok, wait
		}
		for i, l := range []*user.SharedLimiter{a, b, a} {
			if ok, _ := allow(l, "k"); !ok {
				t.Fatalf("try %d refused before the limit", i+1)
			}
			if err := l.Fail(ctx, "k"); err != nil {
				t.Fatal(err)
			}
			c.Advance(time.Minute)
		}
		if ok, wait := allow(b, "k"); ok || wait != 7*time.Minute {
			t.Fatalf("after 3 failures on two replicas: %v %v", ok, wait)
		}
		if ok, _ := allow(a, "other"); !ok {
			t.Fatal("another key refused")
		}
		c.Advance(7 * time.Minute)
		if ok, _ := allow(a, "k"); !ok {
			t.Fatal("still refused once the first failure left the window")
		}
		if err := b.Fail(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := allow(a, "k"); ok {
			t.Fatal("allowed with 3 failures in the window")
		}
		// Failures that left the window are deleted; no e-mail is kept.
		if n := storetest.Count(t, s.DB, "login_failures"); n != 3 {
			t.Fatalf("%d rows after the sweep, want 3", n)
		}
		if err := b.Reset(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := allow(a, "k"); !ok || storetest.Count(t, s.DB, "login_failures") != 0 {
			t.Fatal("reset did not forget")
		}
	})
}

// On PostgreSQL a second replica's sign-in service is held back by the
// first one's failures.
func TestLoginThrottleIsSharedOnPostgres(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		ctx := context.Background()
		if _, _, err := f.users.Create(ctx, f.green.ID, user.NewUser{Email: "dana@example.com", Role: "admin", Password: pw}); err != nil {
			t.Fatal(err)
		}
		other := user.NewService(s, f.clock)
		for i := range user.LoginFailures {
			replica := []*user.Service{f.users, other}[i%2]
			if _, err := replica.Login(ctx, "dana@example.com", "wrong password", "", "203.0.113.5"); !errors.Is(err, user.ErrBadCredentials) {
				t.Fatalf("failure %d: %v", i+1, err)
			}
		}
		_, err := other.Login(ctx, "dana@example.com", pw, "", "203.0.113.5")
		var th *user.Throttled
		switch s.Dialect {
		case store.Postgres:
			if !errors.As(err, &th) {
				t.Fatalf("the other replica let a sixth try through: %v", err)
			}
		default: // SQLite: one process, each service counts its own.
			if err != nil {
				t.Fatalf("a separate process counter on SQLite: %v", err)
			}
		}
	})
}
