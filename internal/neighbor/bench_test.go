package neighbor_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/app"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/config"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// BenchmarkNearbyDatabase1M answers "who lives within 500 m of this
// customer" through the database path (cell index, exact distance) for a
// tenant with 1,000,000 customers. Reports p50 and p99 per query.
//
//	go test ./internal/neighbor -run x -bench NearbyDatabase1M -benchtime 2000x
func BenchmarkNearbyDatabase1M(b *testing.B) {
	s := storetest.Open(b, store.Postgres)
	ctx := context.Background()
	a := app.Wire(config.Defaults(), s, clock.System{}, slog.New(slog.DiscardHandler))
	ten, _, _ := a.Tenants.Create(ctx, tenant.NewTenant{Name: "Big", Timezone: "America/Los_Angeles", Currency: "USD"})
	rng := rand.New(rand.NewPCG(7, 7))
	const n = 1_000_000
	storetest.BulkCustomers(b, s, ten.ID, n, rng)
	lat := make([]time.Duration, 0, b.N)
	found := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		ns, err := a.Neighbors.Nearby(ctx, ten.ID, fmt.Sprintf("c%d", rng.IntN(n)), 500, 50)
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		found += len(ns)
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(found)/float64(b.N), "found/op")
}

// BenchmarkReconcileDay reconciles one day of a tenant with 100,000 visits
// and 20,000 links (40,000 synced visits), each visit billed on a draft.
// "first" starts with no discount lines (40,000 to write); "again" runs on a
// reconciled day (nothing to change).
//
//	go test ./internal/neighbor -run x -bench ReconcileDay -benchtime 1x
func BenchmarkReconcileDay(b *testing.B) {
	s := storetest.Open(b, store.Postgres)
	ctx := context.Background()
	a := app.Wire(config.Defaults(), s, clock.System{}, slog.New(slog.DiscardHandler))
	ten, _, _ := a.Tenants.Create(ctx, tenant.NewTenant{Name: "Big", Timezone: "America/Los_Angeles", Currency: "USD"})
	tid := ten.ID
	const visits, links = 100_000, 20_000
	rng := rand.New(rand.NewPCG(9, 9))
	storetest.BulkCustomers(b, s, tid, visits, rng)
	steps := []string{
		`INSERT INTO visits (tenant_id, external_id, customer_id, service_date, status, price_cents, created_at, updated_at)
		 SELECT tenant_id, 'v' || id, id, DATE '2026-05-05', 'scheduled', 4500, now(), now() FROM customers WHERE tenant_id = ?`,
		`INSERT INTO neighbor_links (tenant_id, customer_a_id, customer_b_id, distance_m, source, starts_on, created_at, updated_at)
		 SELECT c1.tenant_id, c1.id, c2.id, 120, 'dispatcher', DATE '2026-05-01', now(), now()
		 FROM customers c1 JOIN customers c2 ON c2.tenant_id = c1.tenant_id AND c2.external_id = 'c' || (substr(c1.external_id, 2)::int + 1)
		 WHERE c1.tenant_id = ? AND substr(c1.external_id, 2)::int % 2 = 0 AND substr(c1.external_id, 2)::int < ` + fmt.Sprint(2*links),
		`INSERT INTO invoices (tenant_id, external_id, customer_id, status, currency, subtotal_cents, discount_cents, total_cents, public_token, created_at, updated_at)
		 SELECT tenant_id, 'i' || id, customer_id, 'draft', 'USD', 4500, 0, 4500, md5(random()::text || id), now(), now() FROM visits WHERE tenant_id = ?`,
		`INSERT INTO invoice_lines (tenant_id, invoice_id, position, kind, visit_id, description, amount_cents)
		 SELECT i.tenant_id, i.id, 1, 'service', v.id, 'Mow', 4500 FROM invoices i JOIN visits v ON v.external_id = 'v' || substr(i.external_id, 2)::bigint AND v.tenant_id = i.tenant_id
		 WHERE i.tenant_id = ?`,
		`ANALYZE`,
	}
	for _, q := range steps {
		args := []any{tid}
		if q == "ANALYZE" {
			args = nil
		}
		if err := s.DB.Exec(q, args...).Error; err != nil {
			b.Fatal(err)
		}
	}
	day := localdate.Date{Year: 2026, Month: 5, Day: 5}
	b.Run("first", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			s.DB.Exec(`DELETE FROM invoice_lines WHERE tenant_id = ? AND source_key IS NOT NULL`, tid)
			s.DB.Exec(`DELETE FROM ledger_items WHERE tenant_id = ?`, tid)
			s.DB.Exec(`UPDATE invoices SET discount_cents = 0, total_cents = subtotal_cents WHERE tenant_id = ?`, tid)
			b.StartTimer()
			res, err := a.Ledger.ReconcileDay(ctx, tid, day)
			if err != nil || res.Visits != visits {
				b.Fatal(err, res)
			}
		}
		b.StopTimer()
		var n int64
		s.DB.Raw(`SELECT COUNT(*) FROM invoice_lines WHERE tenant_id = ? AND kind = 'sync_discount'`, tid).Scan(&n)
		if n != 2*links {
			b.Fatalf("%d discount lines, want %d", n, 2*links)
		}
	})
	b.Run("again", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := a.Ledger.ReconcileDay(ctx, tid, day); err != nil {
				b.Fatal(err)
			}
		}
	})
}
