package ledger_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/app"
	"github.com/routeloop/routeloop/internal/apptest"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
)

// reconcileBench builds, on Postgres, a tenant with 100,000 customers, one
// visit each on a day of May 2026 picked by dayOf(customer number), 20,000
// links between customers 2k and 2k+1 (whose visits share a day), and every
// visit billed on its own draft.
func reconcileBench(b *testing.B, dayOf string) (*app.App, *store.Store, string) {
	s := storetest.Open(b, store.Postgres)
	a, ten := apptest.New(b, s, clock.System{}, "Big")
	billedDays(b, s, ten.ID, benchVisits, benchLinks, dayOf)
	return a, s, ten.ID
}

// billedDays gives the tenant n customers, one visit each on the day
// dayOf (an SQL expression over the customer number, num) says, links
// between customers 2k and 2k+1 for k < links (whose visits share a day),
// and every visit billed at $45 on its own draft — on either database.
func billedDays(tb testing.TB, s *store.Store, tid string, n, links int, dayOf string) {
	tb.Helper()
	storetest.BulkCustomers(tb, s, tid, n, rand.New(rand.NewPCG(9, 9)))
	num := func(col string) string { return "CAST(substr(" + col + ", 2) AS INTEGER)" }
	// PostgreSQL types a parameter in a SELECT list as text.
	now, start := "@now", "@start"
	if s.Dialect == store.Postgres {
		now, start = "CAST(@now AS TIMESTAMPTZ)", "CAST(@start AS DATE)"
	}
	steps := []string{
		`INSERT INTO visits (tenant_id, external_id, customer_id, service_date, status, price_cents, created_at, updated_at)
		 SELECT tenant_id, 'v' || id, id, ` + strings.ReplaceAll(dayOf, "num", num("external_id")) + `, 'scheduled', 4500, ` + now + `, ` + now + `
		 FROM customers WHERE tenant_id = @tid`,
		`INSERT INTO neighbor_links (tenant_id, customer_a_id, customer_b_id, distance_m, source, starts_on, created_at, updated_at)
		 SELECT c1.tenant_id, c1.id, c2.id, 120, 'dispatcher', ` + start + `, ` + now + `, ` + now + `
		 FROM customers c1 JOIN customers c2 ON c2.tenant_id = c1.tenant_id AND c2.external_id = 'c' || (` + num("c1.external_id") + ` + 1)
		 WHERE c1.tenant_id = @tid AND ` + num("c1.external_id") + ` % 2 = 0 AND ` + num("c1.external_id") + ` < ` + fmt.Sprint(2*links),
		`INSERT INTO invoices (tenant_id, external_id, customer_id, status, currency, subtotal_cents, discount_cents, total_cents, public_token, created_at, updated_at)
		 SELECT tenant_id, 'i' || id, customer_id, 'draft', 'USD', 4500, 0, 4500, tenant_id || '-' || id, ` + now + `, ` + now + ` FROM visits WHERE tenant_id = @tid`,
		`INSERT INTO invoice_lines (tenant_id, invoice_id, position, kind, visit_id, description, amount_cents)
		 SELECT i.tenant_id, i.id, 1, 'service', v.id, 'Mow', 4500 FROM invoices i JOIN visits v ON v.external_id = 'v' || substr(i.external_id, 2) AND v.tenant_id = i.tenant_id
		 WHERE i.tenant_id = @tid`,
		`ANALYZE`,
	}
	args := map[string]any{"tid": tid, "now": time.Now().UTC(), "start": localdate.Date{Year: 2026, Month: 5, Day: 1}}
	for _, q := range steps {
		var err error
		if q == "ANALYZE" {
			err = s.DB.Exec(q).Error
		} else {
			err = s.DB.Exec(q, args).Error
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
}

const benchVisits, benchLinks = 100_000, 20_000

// statements counts the SQL statements gorm sends through s (transaction
// control aside): a measure of a reconciliation that does not depend on
// the machine's load.
func statements(b *testing.B, s *store.Store) *atomic.Int64 {
	var n atomic.Int64
	count := func(*gorm.DB) { n.Add(1) }
	cb := s.DB.Callback()
	for _, err := range []error{
		cb.Create().After("gorm:create").Register("bench:count", count),
		cb.Query().After("gorm:query").Register("bench:count", count),
		cb.Update().After("gorm:update").Register("bench:count", count),
		cb.Delete().After("gorm:delete").Register("bench:count", count),
		cb.Row().After("gorm:row").Register("bench:count", count),
		cb.Raw().After("gorm:raw").Register("bench:count", count),
	} {
		if err != nil {
			b.Fatal(err)
		}
	}
	return &n
}

// forget removes what reconciling wrote, so the next run starts from
// drafts without any discount.
func forget(s *store.Store, tid string) {
	s.DB.Exec(`DELETE FROM invoice_lines WHERE tenant_id = ? AND source_key IS NOT NULL`, tid)
	s.DB.Exec(`DELETE FROM ledger_items WHERE tenant_id = ?`, tid)
	s.DB.Exec(`UPDATE invoices SET discount_cents = 0, total_cents = subtotal_cents WHERE tenant_id = ?`, tid)
}

func countDiscounts(b *testing.B, s *store.Store, tid string) {
	var n int64
	s.DB.Raw(`SELECT COUNT(*) FROM invoice_lines WHERE tenant_id = ? AND kind = 'sync_discount'`, tid).Scan(&n)
	if n != 2*benchLinks {
		b.Fatalf("%d discount lines, want %d", n, 2*benchLinks)
	}
}

// BenchmarkReconcileDay reconciles one day with 100,000 visits and 20,000
// links (40,000 synced visits), each visit billed on a draft. "first"
// starts with no discount lines (40,000 to write, 40,000 ledger items);
// "again" runs on a reconciled day (nothing to change).
//
//	go test ./internal/ledger -run x -bench ReconcileDay -benchtime 1x
func BenchmarkReconcileDay(b *testing.B) {
	a, s, tid := reconcileBench(b, `DATE '2026-05-05'`)
	ctx := context.Background()
	day := localdate.Date{Year: 2026, Month: 5, Day: 5}
	sent := statements(b, s)
	b.Run("first", func(b *testing.B) {
		var n int64
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			forget(s, tid)
			sent.Store(0)
			b.StartTimer()
			res, err := a.Ledger.ReconcileDay(ctx, tid, day)
			n += sent.Load()
			if err != nil || res.Visits != benchVisits || len(res.Errors) != 0 {
				b.Fatal(err, res.Visits, res.Errors)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(n)/float64(b.N), "stmts/op")
		countDiscounts(b, s, tid)
	})
	b.Run("again", func(b *testing.B) {
		sent.Store(0)
		for i := 0; i < b.N; i++ {
			if _, err := a.Ledger.ReconcileDay(ctx, tid, day); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(sent.Load())/float64(b.N), "stmts/op")
	})
}

// BenchmarkReconcileMonth reconciles the 31 days of May for the same
// tenant with its 100,000 visits spread over the month (a linked pair on
// one day), as `routeloop reconcile --from 2026-05-01 --to 2026-05-31` does.
//
//	go test ./internal/ledger -run x -bench ReconcileMonth -benchtime 1x
func BenchmarkReconcileMonth(b *testing.B) {
	a, s, tid := reconcileBench(b, `DATE '2026-05-01' + ((num / 2) % 31)`)
	ctx := context.Background()
	from, to := localdate.Date{Year: 2026, Month: 5, Day: 1}, localdate.Date{Year: 2026, Month: 5, Day: 31}
	run := func(b *testing.B) {
		res, ran, err := a.Ledger.ReconcileRange(ctx, tid, from, to, nil)
		if err != nil || !ran || len(res) != 31 {
			b.Fatal(err, ran, len(res))
		}
	}
	sent := statements(b, s)
	b.Run("first", func(b *testing.B) {
		var n int64
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			forget(s, tid)
			sent.Store(0)
			b.StartTimer()
			run(b)
			n += sent.Load()
		}
		b.StopTimer()
		b.ReportMetric(float64(n)/float64(b.N), "stmts/op")
		countDiscounts(b, s, tid)
	})
	b.Run("again", func(b *testing.B) {
		sent.Store(0)
		for i := 0; i < b.N; i++ {
			run(b)
		}
		b.ReportMetric(float64(sent.Load())/float64(b.N), "stmts/op")
	})
}
