package invoice_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
)

// Get answers what is stored now, whatever wrote it last: the invoice
// service's own writes, the ledger re-filling a draft when a neighbour's
// visit is cancelled, a link rotated, and statements that touch only a
// line (changed, removed, added) or only the invoice's row. On PostgreSQL
// Get remembers invoices at the version it read them; each answer here is
// compared with a whole read of the database, twice in a row (the second
// from what Get remembers, when nothing changed), and so is its JSON
// answer (Encoded).
func TestGetAnswersWhatIsStoredNow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newPayWorld(t, s)
		ctx := context.Background()
		svc := w.a.Invoices
		check := func(when string) {
			t.Helper()
			for range 2 {
				got, err := svc.Get(ctx, w.tenant, "inv-1")
				if err != nil {
					t.Fatalf("%s: Get: %v", when, err)
				}
				now, err := svc.ReadNow(ctx, w.tenant, "inv-1")
				if err != nil {
					t.Fatalf("%s: read: %v", when, err)
				}
				g, _ := json.Marshal(got)
				n, _ := json.Marshal(now)
				if string(g) != string(n) {
					t.Fatalf("%s: Get answers\n  %s\nbut the database holds\n  %s", when, g, n)
				}
				body, err := svc.Encoded(ctx, w.tenant, "inv-1")
				if err != nil || string(body) != string(n)+"\n" {
					t.Fatalf("%s: Encoded answers (%v)\n  %s\nbut the database holds\n  %s", when, err, body, n)
				}
			}
		}
		exec := func(q string, args ...any) {
			t.Helper()
			if err := s.DB.Exec(q, args...).Error; err != nil {
				t.Fatal(err)
			}
		}
		discount := func(want int64, when string) {
			t.Helper()
			if got, err := svc.Get(ctx, w.tenant, "inv-1"); err != nil || got.DiscountCents != want {
				t.Fatalf("%s: discount %d (%v), want %d", when, got.DiscountCents, err, want)
			}
		}
		if _, err := svc.Get(ctx, w.tenant, "inv-1"); !apperror.HasCode(err, apperror.CodeNotFound) {
			t.Fatalf("an invoice not yet sent: %v, want not found", err)
		}
		if _, err := w.put(w.body("draft", nil)); err != nil {
			t.Fatal(err)
		}
		check("a draft")
		discount(450, "a draft beside Ben's visit")

		// Ben's visit is cancelled: the ledger takes Angie's discount off.
		if _, _, err := w.a.Mirror.PutVisit(ctx, w.tenant, w.loc, "v-ben", mirror.VisitInput{CustomerID: "ben",
			ServiceDate: "2026-05-05", Status: "cancelled", PriceCents: 4500}); err != nil {
			t.Fatal(err)
		}
		check("Ben's visit cancelled")
		discount(0, "Ben's visit cancelled")
		if _, _, err := w.a.Mirror.PutVisit(ctx, w.tenant, w.loc, "v-ben", mirror.VisitInput{CustomerID: "ben",
			ServiceDate: "2026-05-05", Status: "completed", PriceCents: 4500}); err != nil {
			t.Fatal(err)
		}
		check("Ben's visit back")
		discount(450, "Ben's visit back")

		var id int64
		if err := s.DB.Raw(`SELECT id FROM invoices WHERE tenant_id = ? AND external_id = 'inv-1'`, w.tenant).Scan(&id).Error; err != nil {
			t.Fatal(err)
		}
		exec(`UPDATE invoice_lines SET description = 'Weekly mow, front and back' WHERE invoice_id = ? AND kind = 'service'`, id)
		check("a line's description changed alone")
		exec(`DELETE FROM invoice_lines WHERE invoice_id = ? AND kind = 'sync_discount'`, id)
		check("a line removed alone")
		exec(`INSERT INTO invoice_lines (tenant_id, invoice_id, position, kind, description, amount_cents, reason)
			VALUES (?, ?, 9, 'addon', 'Hedge trim', 2000, '')`, w.tenant, id)
		check("a line added alone")
		exec(`UPDATE invoices SET pay_url = 'https://pay.example.com/inv-1' WHERE id = ?`, id)
		check("the invoice's row changed alone")
		if _, err := svc.RotateLink(ctx, w.tenant, "inv-1"); err != nil {
			t.Fatal(err)
		}
		check("the link rotated")
		if _, err := w.put(w.body("issued", nil)); err != nil {
			t.Fatal(err)
		}
		check("issued")
		discount(450, "issued")
	})
}
