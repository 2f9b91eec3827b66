package jobs_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/apptest"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/ledger"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/mirror"
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
		a, la := apptest.New(t, s, c, "LA")
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
	a, ten := apptest.New(t, s, clock.System{}, "LA")
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

// The nightly job catches up: two nights missed (the process was down), the
// next run reconciles all three days, records the last one, and a visit of
// an older day written since the last run brings that day back too.
func TestTheNightlyJobCatchesUpEveryDayMissedOrChanged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := clock.NewFixed(time.Date(2026, 5, 6, 10, 5, 0, 0, time.UTC)) // 03:05 on the 6th in Los Angeles
		a, la := apptest.New(t, s, c, "LA")
		days := func(rs []ledger.ReconcileResult) []string {
			var out []string
			for _, r := range rs {
				out = append(out, r.Day.String())
			}
			return out
		}
		if got := days(a.Jobs.Tick(ctx)); len(got) != 1 || got[0] != "2026-05-05" {
			t.Fatalf("first night: %v", got)
		}
		c.Advance(3 * 24 * time.Hour) // the 7th and 8th nights were missed: 03:05 on the 9th
		got := days(a.Jobs.Tick(ctx))
		if strings.Join(got, ",") != "2026-05-06,2026-05-07,2026-05-08" {
			t.Fatalf("catch-up: %v", got)
		}
		st, err := a.Ledger.ReadState(ctx, la.ID)
		if err != nil || st.LastDay.String() != "2026-05-08" {
			t.Fatalf("state: %+v %v", st, err)
		}
		// A visit of the 2nd written during the day is reconciled next night.
		c.Advance(12 * time.Hour)
		lat, lon := 45.5, -122.6
		if _, _, err := a.Mirror.PutCustomer(ctx, la.ID, "angie", mirror.CustomerInput{Name: "Angie", Lat: &lat, Lon: &lon}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := a.Mirror.PutVisit(ctx, la.ID, la.Location(), "v1", mirror.VisitInput{CustomerID: "angie", ServiceDate: "2026-05-02", PriceCents: 4500}); err != nil {
			t.Fatal(err)
		}
		c.Advance(12 * time.Hour)
		if got := days(a.Jobs.Tick(ctx)); strings.Join(got, ",") != "2026-05-02,2026-05-09" {
			t.Fatalf("changed day: %v", got)
		}
	})
}

// Every tick brings each tenant's KPI rollups up to date, whatever its local
// hour: the marks the invoice writes left are taken and the zone recorded.
func TestTickRefreshesTheKPIRollup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := clock.NewFixed(time.Date(2026, 5, 6, 10, 5, 0, 0, time.UTC))
		a := apptest.Wire(s, c)
		ten := apptest.Tenant(t, a.Tenants, tenant.NewTenant{Name: "Berlin", Timezone: "Europe/Berlin", Currency: "EUR"})
		var cust int64
		if err := s.DB.Raw(`INSERT INTO customers (tenant_id, external_id, name, referral_code, created_at, updated_at) VALUES (?, 'c1', 'Ann', 'ANN1', ?, ?) RETURNING id`,
			ten.ID, c.Now(), c.Now()).Scan(&cust).Error; err != nil {
			t.Fatal(err)
		}
		var inv int64
		if err := s.DB.Raw(`INSERT INTO invoices (tenant_id, external_id, customer_id, status, currency, subtotal_cents, discount_cents, total_cents, public_token, issued_at, created_at, updated_at)
			VALUES (?, 'i1', ?, 'issued', 'EUR', 5000, 0, 5000, 'tok-jobs-kpi', ?, ?, ?) RETURNING id`, ten.ID, cust, c.Now(), c.Now(), c.Now()).Scan(&inv).Error; err != nil {
			t.Fatal(err)
		}
		if err := s.DB.Exec(`INSERT INTO invoice_lines (tenant_id, invoice_id, position, kind, description, amount_cents) VALUES (?, ?, 1, 'service', 'Mow', 5000)`,
			ten.ID, inv).Error; err != nil {
			t.Fatal(err)
		}
		if n := storetest.Count(t, s.DB.Where("tenant_id = ?", ten.ID), "kpi_dirty"); n == 0 {
			t.Fatal("the invoice left no mark")
		}
		a.Jobs.Tick(ctx)
		if n := storetest.Count(t, s.DB.Where("tenant_id = ?", ten.ID), "kpi_dirty"); n != 0 {
			t.Fatalf("%d marks left after the tick", n)
		}
		var zone string
		s.DB.Raw(`SELECT timezone FROM kpi_rollup_state WHERE tenant_id = ?`, ten.ID).Scan(&zone)
		if zone != "Europe/Berlin" {
			t.Fatalf("rollup zone %q", zone)
		}
		if n := storetest.Count(t, s.DB.Where("tenant_id = ?", ten.ID), "route_rollup_state"); n != 1 {
			t.Fatal("the route rollup was not worked out")
		}
	})
}
