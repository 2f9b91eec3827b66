package ledger_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/apptest"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/ledger"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
)

// TestReconcileDayInBatchesSideBySide: a day of 90 customers, 30 linked
// pairs among them, every visit on a $45 draft, with none of its discounts
// written yet (as after a scheduler's bulk import). Reconciled in batches
// of 7 customers, several at once, the day comes out as reconciled in one
// transaction: each linked visit's draft carries exactly one 10% line of
// $4.50 and a ledger item, the others none, one invoice.discounted event
// per discounted draft; a second run changes and announces nothing.
func TestReconcileDayInBatchesSideBySide(t *testing.T) {
	const customers, links = 90, 30
	day := localdate.Date{Year: 2026, Month: 5, Day: 5}
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a, ten := apptest.New(t, s, clock.System{}, "Green Thumb")
		billedDays(t, s, ten.ID, customers, links, dayExpr(s, day))

		reconcile := func(batch int) {
			t.Helper()
			defer ledger.SetReconcileBatch(batch)()
			res, err := a.Ledger.ReconcileDay(ctx, ten.ID, day)
			if err != nil || len(res.Errors) != 0 || res.Visits != customers || res.Customers != customers {
				t.Fatalf("reconcile in batches of %d: %v, %+v", batch, err, res)
			}
		}
		reconcile(customers) // one transaction: what the day should be
		one := dayState(t, s, ten.ID)
		if one.lines != 2*links || one.items != 2*links || one.discount != 2*links*450 || one.events != 2*links {
			t.Fatalf("in one transaction: %+v, want %d lines and items of $4.50 and as many events", one, 2*links)
		}
		forget(s, ten.ID)
		reconcile(7)
		side := dayState(t, s, ten.ID)
		if side.rows != one.rows || side.lines != one.lines || side.items != one.items || side.discount != one.discount {
			t.Fatalf("in batches side by side the day differs:\n%+v\nwant\n%+v", side, one)
		}
		if side.events != 2*one.events {
			t.Fatalf("%d events after the second reconciliation, want %d", side.events, 2*one.events)
		}
		reconcile(7)
		if again := dayState(t, s, ten.ID); again != side {
			t.Fatalf("running it again changed the day:\n%+v\nwas\n%+v", again, side)
		}
	})
}

// TestReconcileReadsOnOneConnectionOrTwo: on PostgreSQL a day's read
// takes a second connection for the customers' links, rewards and ledger
// rows. The day comes out the same when that connection is not to be had
// (another read holds the right to it, or the pool is bounded to one
// connection, where waiting for a second would never end).
func TestReconcileReadsOnOneConnectionOrTwo(t *testing.T) {
	const customers, links = 40, 12
	day := localdate.Date{Year: 2026, Month: 5, Day: 5}
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a, ten := apptest.New(t, s, clock.System{}, "Green Thumb")
		billedDays(t, s, ten.ID, customers, links, dayExpr(s, day))
		reconcile := func(how string) state {
			t.Helper()
			done := make(chan error, 1)
			go func() {
				res, err := a.Ledger.ReconcileDay(ctx, ten.ID, day)
				if err == nil && (len(res.Errors) != 0 || res.Customers != customers) {
					err = fmt.Errorf("%+v", res)
				}
				done <- err
			}()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("%s: %v", how, err)
				}
			case <-time.After(time.Minute):
				t.Fatalf("%s: the reconciliation did not finish in a minute", how)
			}
			st := dayState(t, s, ten.ID)
			if st.lines != 2*links || st.items != 2*links || st.discount != 2*links*450 {
				t.Fatalf("%s: %+v, want %d lines and items of $4.50", how, st, 2*links)
			}
			forget(s, ten.ID)
			return st
		}
		two := reconcile("as it comes")
		release := ledger.HoldSecondConn()
		one := reconcile("with the second connection taken")
		release()
		if one.rows != two.rows {
			t.Fatalf("on one connection the day differs:\n%s\nwant\n%s", one.rows, two.rows)
		}
		sqlDB, err := s.DB.DB()
		if err != nil {
			t.Fatal(err)
		}
		sqlDB.SetMaxOpenConns(1)
		if bounded := reconcile("with a pool of one"); bounded.rows != two.rows {
			t.Fatalf("with a pool of one the day differs:\n%s\nwant\n%s", bounded.rows, two.rows)
		}
	})
}

func dayExpr(s *store.Store, d localdate.Date) string {
	if s.Dialect == store.Postgres {
		return "DATE '" + d.String() + "'"
	}
	return "'" + d.String() + "'"
}

// state is what a reconciliation writes of a tenant's day: every
// computed line, ledger item and draft total, as one text to compare, and
// the counts of each.
type state struct {
	rows                 string
	lines, items, events int64
	discount             int64
}

func dayState(t *testing.T, s *store.Store, tid string) state {
	t.Helper()
	var st state
	var rows []string
	for _, q := range []string{
		`SELECT i.external_id || ':' || l.position || ':' || l.kind || ':' || l.amount_cents || ':' || COALESCE(l.item_key, '') || ':' || l.reason
		 FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id WHERE l.tenant_id = ? AND l.source_key IS NOT NULL ORDER BY 1`,
		`SELECT li.item_key || ':' || li.customer_id || ':' || li.owed_cents || ':' || li.given_cents || ':' || li.pending_cents || ':' || li.status || ':' || li.reason
		 FROM ledger_items li WHERE li.tenant_id = ? ORDER BY 1`,
		`SELECT external_id || ':' || subtotal_cents || ':' || discount_cents || ':' || total_cents FROM invoices WHERE tenant_id = ? ORDER BY 1`,
	} {
		var got []string
		if err := s.DB.Raw(q, tid).Scan(&got).Error; err != nil {
			t.Fatal(err)
		}
		rows = append(rows, got...)
	}
	for _, c := range []struct {
		q   string
		out *int64
	}{
		{`SELECT COUNT(*) FROM invoice_lines WHERE tenant_id = ? AND kind = 'sync_discount'`, &st.lines},
		{`SELECT COUNT(*) FROM ledger_items WHERE tenant_id = ?`, &st.items},
		{`SELECT COUNT(*) FROM outbox_events WHERE tenant_id = ? AND kind = 'invoice.discounted'`, &st.events},
		{`SELECT COALESCE(SUM(discount_cents), 0) FROM invoices WHERE tenant_id = ?`, &st.discount},
	} {
		if err := s.DB.Raw(c.q, tid).Scan(c.out).Error; err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range rows {
		st.rows += r + "\n"
	}
	return st
}
