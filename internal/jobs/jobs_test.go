package jobs_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/app"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/config"
	"github.com/routeloop/routeloop/internal/ledger"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// At 10:05 UTC it is 03:05 in Los Angeles (reconcile hour 3) and 12:05 in
// Berlin: only the Los Angeles tenant gets yesterday reconciled, and it is
// its local yesterday.
func TestTickReconcilesEachTenantsYesterdayAtItsLocalHour(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := clock.NewFixed(time.Date(2026, 5, 6, 10, 5, 0, 0, time.UTC))
		a := app.Wire(config.Defaults(), s, c, slog.New(slog.DiscardHandler))
		la, _, _ := a.Tenants.Create(ctx, tenant.NewTenant{Name: "LA", Timezone: "America/Los_Angeles", Currency: "USD"})
		if _, _, err := a.Tenants.Create(ctx, tenant.NewTenant{Name: "Berlin", Timezone: "Europe/Berlin", Currency: "EUR"}); err != nil {
			t.Fatal(err)
		}
		done := a.Jobs.Tick(ctx)
		if len(done) != 1 || done[0].TenantID != la.ID || done[0].Day.String() != "2026-05-05" {
			t.Fatalf("tick did %+v", done)
		}
		c.Advance(time.Hour) // 04:05 in LA: nothing to do
		if done := a.Jobs.Tick(ctx); len(done) != 0 {
			t.Fatalf("second tick did %+v", done)
		}
	})
}

func TestTryLockLetsOneHolderRun(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		held, release := make(chan struct{}), make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			if did, err := s.TryLock(ctx, "test.lock", func() error { close(held); <-release; return nil }); !did || err != nil {
				t.Errorf("first holder: %v %v", did, err)
			}
		}()
		<-held
		if did, err := s.TryLock(ctx, "test.lock", func() error { t.Error("ran while held"); return nil }); did || err != nil {
			t.Fatalf("second holder while held: %v %v", did, err)
		}
		if did, _ := s.TryLock(ctx, "other.lock", func() error { return nil }); !did {
			t.Fatal("another name was blocked")
		}
		close(release)
		wg.Wait()
		if did, err := s.TryLock(ctx, "test.lock", func() error { return nil }); !did || err != nil {
			t.Fatalf("lock not released: %v %v", did, err)
		}
	})
}

// A hand-run reconciliation under the same lock as the nightly job.
func TestReconcileByHandTakesTheLock(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	a := app.Wire(config.Defaults(), s, clock.System{}, slog.New(slog.DiscardHandler))
	ten, _, _ := a.Tenants.Create(ctx, tenant.NewTenant{Name: "LA", Timezone: "America/Los_Angeles", Currency: "USD"})
	day := localdate.Date{Year: 2026, Month: 5, Day: 5}
	_, _ = s.TryLock(ctx, ledger.LockName(ten.ID), func() error {
		if _, ran, err := a.Ledger.ReconcileRange(ctx, ten.ID, day, day, nil); ran || err != nil {
			t.Fatalf("ran beside another holder: %v %v", ran, err)
		}
		return nil
	})
	if _, ran, err := a.Ledger.ReconcileRange(ctx, ten.ID, day, day, nil); !ran || err != nil {
		t.Fatalf("did not run: %v %v", ran, err)
	}
}
