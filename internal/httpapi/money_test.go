package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/ledger"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// ledgerOf reads a customer's ledger back.
func (h *harness) ledgerOf(customer string) map[string]any {
	h.t.Helper()
	return h.must(200, "GET", "/api/v1/customers/"+customer+"/ledger", nil).Body
}

// syncItem returns the customer's ledger item for a visit on an invoice.
func (h *harness) syncItem(customer, visit, inv string) map[string]any {
	h.t.Helper()
	for _, it := range h.ledgerOf(customer)["items"].([]any) {
		m := it.(map[string]any)
		if m["kind"] == "sync_discount" && m["visit_id"] == visit && m["invoice_id"] == inv {
			return m
		}
	}
	return nil
}

func cents(m map[string]any, field string) float64 {
	if m == nil {
		return 0
	}
	v, _ := m[field].(float64)
	return v
}

// lateCredit issues Angie's invoice for Tuesday before Ben's visit that day
// is known, so the discount she missed is owed to her as a late credit.
func lateCredit(h *harness) {
	h.t.Helper()
	h.must(201, "PUT", "/api/v1/crews/north", map[string]any{"name": "North", "depot_lat": 45.5, "depot_lon": -122.66})
	h.household("angie", "ben")
	h.link("angie", "ben")
	h.visitAndInvoice("angie", "2026-05-05", "issued")
	h.visitAndInvoice("ben", "2026-05-05", "")
	it := h.syncItem("angie", "v-angie-2026-05-05", "i-angie-2026-05-05")
	if cents(it, "owed_cents") != 450 || cents(it, "pending_cents") != 450 || it["status"] != "pending" {
		h.t.Fatalf("late credit not owed: %v", it)
	}
}

// Defect 1: a pending late credit whose discount stops holding (Ben's visit
// cancelled or moved, consent withdrawn, Angie moving away, the link
// ended) used to answer 500 forever with the change half-saved. Now each of
// these answers 200, the credit is no longer owed, and nothing is pending.
func TestAPendingLateCreditThatStopsHoldingIsWithdrawnNot500(t *testing.T) {
	endings := map[string]func(h *harness){
		"ben cancels": func(h *harness) {
			h.must(200, "PUT", "/api/v1/visits/v-ben-2026-05-05", map[string]any{"customer_id": "ben", "crew_id": "north",
				"service_date": "2026-05-05", "status": "cancelled", "price_cents": 4500})
		},
		"ben moves to Wednesday": func(h *harness) {
			h.must(200, "PUT", "/api/v1/visits/v-ben-2026-05-05", map[string]any{"customer_id": "ben", "crew_id": "north",
				"service_date": "2026-05-06", "price_cents": 4500})
		},
		"the link ends on the day": func(h *harness) {
			links := h.must(200, "GET", "/api/v1/neighbor-links?customer_id=angie", nil).Body["neighbor_links"].([]any)
			id := links[0].(map[string]any)["id"].(float64)
			h.must(200, "DELETE", fmt.Sprintf("/api/v1/neighbor-links/%.0f?ends_on=2026-05-01", id), nil)
		},
	}
	for name, end := range endings {
		t.Run(name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, s *store.Store) {
				h := newHarness(t, s)
				lateCredit(h)
				end(h)
				it := h.syncItem("angie", "v-angie-2026-05-05", "i-angie-2026-05-05")
				if it != nil {
					t.Fatalf("a late credit that no longer holds is still on the ledger: %v", it)
				}
				// Her next draft gets nothing for it, and a reconcile of the day is clean.
				h.visitAndInvoice("angie", "2026-05-12", "draft")
				if c := h.lines("i-angie-2026-05-12", "credit"); len(c) != 0 {
					t.Fatalf("credit landed anyway: %v", c)
				}
				r := h.must(200, "POST", "/api/v1/reconcile", map[string]any{"date": "2026-05-05"})
				if errs := r.Body["errors"].([]any); len(errs) != 0 {
					t.Fatalf("reconcile errors: %v", errs)
				}
			})
		})
	}
	// Withdrawing consent on Friday ends the link that day: Tuesday's visit
	// was still synced, so the credit stays owed — and the write answers
	// 200, the link is ended, and the credit lands once on the next draft.
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		lateCredit(h)
		h.clock.Set(time.Date(2026, 5, 8, 17, 0, 0, 0, time.UTC))
		withdrawn := map[string]any{}
		for k, v := range households["angie"] {
			withdrawn[k] = v
		}
		withdrawn["consent_same_day"] = false
		h.must(200, "PUT", "/api/v1/customers/angie", withdrawn)
		links := h.must(200, "GET", "/api/v1/neighbor-links?customer_id=angie", nil).Body["neighbor_links"].([]any)
		if len(links) != 1 || links[0].(map[string]any)["ends_on"] != "2026-05-08" {
			t.Fatalf("link not ended when consent was withdrawn: %v", links)
		}
		h.visitAndInvoice("angie", "2026-05-12", "draft")
		if c := h.lines("i-angie-2026-05-12", "credit"); len(c) != 1 || c[0]["amount_cents"] != -450.0 {
			t.Fatalf("the credit for Tuesday (still synced) did not land once: %v", c)
		}
	})
}

// Defect 1, the day's other customers: when one customer's money cannot
// be worked out, the reconciliation records why and completes the rest.
func TestOneStuckCustomerDoesNotStopTheDay(t *testing.T) {
	// Not in parallel: the fault hook is the process's.
	for _, d := range storetest.Dialects {
		s := storetest.Open(t, d)
		h := newHarness(t, s)
		h.must(201, "PUT", "/api/v1/crews/north", map[string]any{"name": "North", "depot_lat": 45.5, "depot_lon": -122.66})
		h.household("angie", "ben", "cleo")
		for _, c := range []string{"angie", "ben", "cleo"} {
			h.visitAndInvoice(c, "2026-05-05", "draft")
		}
		// The whole batch fails once, then the first customer alone.
		var calls atomic.Int32
		crash := func(point string) error {
			if calls.Add(1) <= 2 {
				return errors.New("disk on fire")
			}
			return nil
		}
		ledger.FaultHook.Store(&crash)
		defer ledger.FaultHook.Store(nil)
		r := h.must(200, "POST", "/api/v1/reconcile", map[string]any{"date": "2026-05-05"})
		errs := r.Body["errors"].([]any)
		if len(errs) != 1 || r.Body["customers"] != 3.0 {
			t.Fatalf("want one customer not settled of 3: %s", r.Raw)
		}
		e := errs[0].(map[string]any)
		if e["customer_id"] != "angie" || e["reason"] != "disk on fire" {
			t.Fatalf("error: %v", e)
		}
		var n int64
		s.DB.Raw(`SELECT COUNT(*) FROM reconcile_errors WHERE tenant_id = ?`, h.greenway).Scan(&n)
		if n != 1 {
			t.Fatalf("%s: %d errors recorded", d, n)
		}
		ledger.FaultHook.Store(nil)
	}
}

// Defect 2: voiding an issued invoice with a sync discount and billing the
// visit again gives the discount once, on the new draft — not the discount
// and a late credit.
func TestVoidAndReissueGivesTheDiscountOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.must(201, "PUT", "/api/v1/crews/north", map[string]any{"name": "North", "depot_lat": 45.5, "depot_lon": -122.66})
		h.household("angie", "ben")
		h.link("angie", "ben")
		h.visitAndInvoice("ben", "2026-05-05", "")
		h.visitAndInvoice("angie", "2026-05-05", "draft")
		bill := func(id, status string) {
			h.must(-1, "PUT", "/api/v1/invoices/"+id, map[string]any{"customer_id": "angie", "status": status,
				"lines": []any{map[string]any{"visit_id": "v-angie-2026-05-05", "description": "Weekly mow", "amount_cents": 4500}}})
		}
		bill("i-angie-2026-05-05", "issued")
		if d, _ := h.discounts("i-angie-2026-05-05"); len(d) != 1 {
			t.Fatalf("issued without its discount: %v", d)
		}
		bill("i-angie-2026-05-05", "void")
		bill("i-angie-2026-05-05-again", "draft")
		d, total := h.discounts("i-angie-2026-05-05-again")
		if len(d) != 1 || d[0]["amount_cents"] != -450.0 || total != 4050 {
			t.Fatalf("reissue: discounts %v, total %v", d, total)
		}
		if c := h.lines("i-angie-2026-05-05-again", "credit"); len(c) != 0 {
			t.Fatalf("a late credit besides the discount: %v", c)
		}
		l := h.ledgerOf("angie")
		if l["owed_cents"] != 450.0 || l["given_cents"] != 450.0 || l["pending_cents"] != 0.0 {
			t.Fatalf("ledger: %v", l)
		}
	})
}

// Defect 2, the other half: a late credit owed for an invoice that is then
// voided is withdrawn from the draft that carried it; once that draft is
// issued, voiding the corrected invoice records the credit as given in
// error (never clawed back).
func TestALateCreditForAVoidedInvoiceIsWithdrawn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		lateCredit(h)
		h.visitAndInvoice("angie", "2026-05-12", "draft")
		if c := h.lines("i-angie-2026-05-12", "credit"); len(c) != 1 {
			t.Fatalf("late credit not placed: %v", c)
		}
		void := map[string]any{"customer_id": "angie", "status": "void",
			"lines": []any{map[string]any{"visit_id": "v-angie-2026-05-05", "description": "Weekly mow", "amount_cents": 4500}}}
		h.must(200, "PUT", "/api/v1/invoices/i-angie-2026-05-05", void)
		if c := h.lines("i-angie-2026-05-12", "credit"); len(c) != 0 {
			t.Fatalf("credit for a voided invoice still on the draft: %v", c)
		}
		if l := h.ledgerOf("angie"); l["owed_cents"] != 0.0 || l["given_cents"] != 0.0 {
			t.Fatalf("ledger: %v", l)
		}

		// Again, but the credit's draft is issued before the void.
		h2 := newHarness(t, storetest.Open(t, s.Dialect))
		lateCredit(h2)
		h2.visitAndInvoice("angie", "2026-05-12", "draft")
		h2.visitAndInvoice("angie", "2026-05-12", "issued")
		h2.must(200, "PUT", "/api/v1/invoices/i-angie-2026-05-05", void)
		adj := h2.must(200, "GET", "/api/v1/sync-adjustments?kind=given_in_error", nil).Body["sync_adjustments"].([]any)
		if len(adj) != 1 || adj[0].(map[string]any)["amount_cents"] != 450.0 || adj[0].(map[string]any)["status"] != "recorded" ||
			!strings.Contains(adj[0].(map[string]any)["reason"].(string), "on invoice i-angie-2026-05-05, but that invoice was voided") {
			t.Fatalf("given in error: %v", adj)
		}
		if c := h2.lines("i-angie-2026-05-12", "credit"); len(c) != 1 {
			t.Fatalf("an issued invoice changed: %v", c)
		}
	})
}

// Defect 3: 60 pairs of neighbours, each sending "issue Angie's invoice"
// and "write Ben's visit that same day" at the same moment. Whatever the
// order, every invoice either carries the discount or it is owed as a
// late credit: nothing is lost, nothing doubled.
func TestIssueRacingANeighboursVisitLosesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.must(201, "PUT", "/api/v1/crews/north", map[string]any{"name": "North", "depot_lat": 45.5, "depot_lon": -122.66})
		const pairs = 60
		for i := 0; i < pairs; i++ {
			lat := 45.40 + float64(i)*0.01 // pairs 1 km apart
			for j, who := range []string{"a", "b"} {
				h.must(201, "PUT", fmt.Sprintf("/api/v1/customers/%s%d", who, i), map[string]any{"name": who, "address": fmt.Sprintf("%d Elm St", i*10+j),
					"lat": lat, "lon": -122.60 + float64(j)*0.001, "consent_same_day": true})
			}
			h.link(fmt.Sprintf("a%d", i), fmt.Sprintf("b%d", i))
			h.must(201, "PUT", fmt.Sprintf("/api/v1/visits/va%d", i), map[string]any{"customer_id": fmt.Sprintf("a%d", i), "crew_id": "north",
				"service_date": "2026-05-05", "price_cents": 4500})
			h.must(201, "PUT", fmt.Sprintf("/api/v1/invoices/ia%d", i), map[string]any{"customer_id": fmt.Sprintf("a%d", i),
				"lines": []any{map[string]any{"visit_id": fmt.Sprintf("va%d", i), "description": "Mow", "amount_cents": 4500}}})
		}
		key := h.keys[tenant.RoleIntegration]
		var wg sync.WaitGroup
		fails := make(chan string, 2*pairs)
		for i := 0; i < pairs; i++ {
			wg.Add(2)
			go func() {
				defer wg.Done()
				r := h.do("PUT", fmt.Sprintf("/api/v1/invoices/ia%d", i), key, map[string]any{"customer_id": fmt.Sprintf("a%d", i), "status": "issued",
					"lines": []any{map[string]any{"visit_id": fmt.Sprintf("va%d", i), "description": "Mow", "amount_cents": 4500}}})
				if r.Status != 200 {
					fails <- fmt.Sprintf("issue %d: %d %s", i, r.Status, r.Raw)
				}
			}()
			go func() {
				defer wg.Done()
				r := h.do("PUT", fmt.Sprintf("/api/v1/visits/vb%d", i), key, map[string]any{"customer_id": fmt.Sprintf("b%d", i), "crew_id": "north",
					"service_date": "2026-05-05", "price_cents": 4500})
				if r.Status != 201 {
					fails <- fmt.Sprintf("visit %d: %d %s", i, r.Status, r.Raw)
				}
			}()
		}
		wg.Wait()
		close(fails)
		for f := range fails {
			t.Error(f)
		}
		onInvoice := 0
		for i := 0; i < pairs; i++ {
			it := h.syncItem(fmt.Sprintf("a%d", i), fmt.Sprintf("va%d", i), fmt.Sprintf("ia%d", i))
			d, _ := h.discounts(fmt.Sprintf("ia%d", i))
			if len(d) == 1 {
				onInvoice++
			}
			if cents(it, "owed_cents") != 450 || cents(it, "given_cents")+cents(it, "pending_cents") != 450 || len(d) > 1 {
				t.Errorf("pair %d: discount lines %v, ledger %v", i, d, it)
			}
		}
		t.Logf("%d of %d issued with the discount, the rest owed as late credits", onInvoice, pairs)
	})
}

// Defect 4: what the per-line cap trims off a reward is carried to the next
// draft, never recorded as spent. Five 10% rewards worth 600 each on a
// 6,000 draft with a 20% cap: two fit, three wait, and the next draft takes
// two more.
func TestRewardsTrimmedByTheCapCarryOver(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.crewWithSam()
		h.household("angie")
		h.must(201, "PUT", "/api/v1/visits/v-angie-1", map[string]any{"customer_id": "angie", "crew_id": "north", "service_date": "2026-05-05", "price_cents": 6000})
		for n := 0; n < 5; n++ {
			h.referAndConvert("angie", n, "2026-05-04")
		}
		h.must(201, "PUT", "/api/v1/invoices/i-angie-1", map[string]any{"customer_id": "angie",
			"lines": []any{map[string]any{"visit_id": "v-angie-1", "description": "Mow", "amount_cents": 6000}}})
		if r := h.lines("i-angie-1", "referral_reward"); len(r) != 2 || r[0]["amount_cents"] != -600.0 || r[1]["amount_cents"] != -600.0 {
			t.Fatalf("first draft: %v", r)
		}
		l := h.ledgerOf("angie")
		if l["owed_cents"] != 3000.0 || l["given_cents"] != 1200.0 || l["pending_cents"] != 1800.0 {
			t.Fatalf("ledger after the first draft: %v", l)
		}
		h.must(200, "PUT", "/api/v1/invoices/i-angie-1", map[string]any{"customer_id": "angie", "status": "issued",
			"lines": []any{map[string]any{"visit_id": "v-angie-1", "description": "Mow", "amount_cents": 6000}}})
		h.must(201, "PUT", "/api/v1/visits/v-angie-2", map[string]any{"customer_id": "angie", "crew_id": "north", "service_date": "2026-05-12", "price_cents": 6000})
		h.must(201, "PUT", "/api/v1/invoices/i-angie-2", map[string]any{"customer_id": "angie",
			"lines": []any{map[string]any{"visit_id": "v-angie-2", "description": "Mow", "amount_cents": 6000}}})
		if r := h.lines("i-angie-2", "referral_reward"); len(r) != 2 {
			t.Fatalf("second draft: %v", r)
		}
		if l := h.ledgerOf("angie"); l["given_cents"] != 2400.0 || l["pending_cents"] != 600.0 {
			t.Fatalf("ledger after the second draft: %v", l)
		}
		// The rewards list says what of each was spent.
		spent := 0.0
		for _, rw := range h.must(200, "GET", "/api/v1/rewards?customer_id=angie", nil).Body["rewards"].([]any) {
			spent += rw.(map[string]any)["applied_cents"].(float64)
		}
		if spent != 2400 {
			t.Fatalf("rewards say %v spent", spent)
		}
	})
}

// Defect 5: a visit moved to another customer stops discounting the old
// customer's draft.
func TestAVisitMovedToAnotherCustomerStopsDiscountingTheOld(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.must(201, "PUT", "/api/v1/crews/north", map[string]any{"name": "North", "depot_lat": 45.5, "depot_lon": -122.66})
		h.household("angie", "ben", "dan")
		h.link("angie", "ben")
		h.visitAndInvoice("ben", "2026-05-05", "")
		h.visitAndInvoice("angie", "2026-05-05", "draft")
		if d, _ := h.discounts("i-angie-2026-05-05"); len(d) != 1 {
			t.Fatalf("no discount to begin with: %v", d)
		}
		h.must(200, "PUT", "/api/v1/visits/v-angie-2026-05-05", map[string]any{"customer_id": "dan", "crew_id": "north",
			"service_date": "2026-05-05", "price_cents": 4500})
		if d, total := h.discounts("i-angie-2026-05-05"); len(d) != 0 || total != 4500 {
			t.Fatalf("Angie's draft still discounts a visit that is Dan's now: %v", d)
		}
	})
}

// Defect 6: a link starting in the past is refused, naming the field, and
// re-prices nothing.
func TestALinkCannotStartInThePast(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.must(201, "PUT", "/api/v1/crews/north", map[string]any{"name": "North", "depot_lat": 45.5, "depot_lon": -122.66})
		h.household("angie", "ben")
		r := h.do("POST", "/api/v1/neighbor-links", h.keys[tenant.RoleDispatcher], map[string]any{"customer_a": "angie", "customer_b": "ben", "starts_on": "2025-01-01"})
		if r.Status != 422 || r.field("starts_on") == "" {
			t.Fatalf("backdated link: %d %s", r.Status, r.Raw)
		}
		if n := len(h.must(200, "GET", "/api/v1/neighbor-links", nil).Body["neighbor_links"].([]any)); n != 0 {
			t.Fatalf("%d links stored", n)
		}
		today := h.do("POST", "/api/v1/neighbor-links", h.keys[tenant.RoleDispatcher], map[string]any{"customer_a": "angie", "customer_b": "ben", "starts_on": "2026-05-01"})
		if today.Status != 201 {
			t.Fatalf("a link from today: %d %s", today.Status, today.Raw)
		}
	})
}

// Points are spendable: a points reward is a credit worth points ×
// point_value_cents.
func TestPointsRewardsBecomeCredit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.crewWithSam()
		h.household("angie")
		h.must(200, "PUT", "/api/v1/program", map[string]any{"point_value_cents": 10, "offers": []any{
			map[string]any{"name": "P", "referrer": map[string]any{"kind": "points", "points": 150},
				"referee": map[string]any{"kind": "fixed_credit", "amount_cents": 500}}}})
		h.referAndConvert("angie", 1, "2026-05-04")
		h.visitAndInvoice("angie", "2026-05-05", "draft")
		c := h.lines("i-angie-2026-05-05", "credit")
		if len(c) != 1 || c[0]["amount_cents"] != -1500.0 || c[0]["description"] != "Referral points (150 points)" {
			t.Fatalf("points credit: %v", c)
		}
	})
}

// POST /reconcile takes the nightly job's lock (409 while it runs), takes
// one day or a range, and refuses bad ranges naming the field.
func TestReconcileByAPIRangesAndTheJobsLock(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		r := h.must(200, "POST", "/api/v1/reconcile", map[string]any{"from": "2026-05-01", "to": "2026-05-03"})
		if days := r.Body["days"].([]any); len(days) != 3 || days[2].(map[string]any)["day"] != "2026-05-03" {
			t.Fatalf("range: %s", r.Raw)
		}
		for _, bad := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"from": "2026-05-03", "to": "2026-05-01"}, "to"},
			{map[string]any{"date": "2026-05-03", "from": "2026-05-01"}, "date"},
			{map[string]any{"from": "2024-01-01", "to": "2026-05-01"}, "to"},
			{map[string]any{}, "date"},
			{map[string]any{"date": "May 3"}, "date"},
		} {
			if r := h.do("POST", "/api/v1/reconcile", h.keys[tenant.RoleAdmin], bad.body); r.Status != 422 || r.field(bad.field) == "" {
				t.Errorf("%v: %d %s", bad.body, r.Status, r.Raw)
			}
		}
		held, release := make(chan struct{}), make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = s.TryLock(context.Background(), ledger.LockName(h.greenway), func() error { close(held); <-release; return nil })
		}()
		<-held
		r = h.do("POST", "/api/v1/reconcile", h.keys[tenant.RoleAdmin], map[string]any{"date": "2026-05-03"})
		close(release)
		<-done
		if r.Status != 409 {
			t.Fatalf("beside the nightly job: %d %s", r.Status, r.Raw)
		}
	})
}
