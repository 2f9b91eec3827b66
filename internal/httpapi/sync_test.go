package httpapi_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// street is where each of the seed story's households lives: Angie at
// 14 SE Maple St; Ben two blocks down (≈160 m); Cleo round the corner
// (≈310 m); Dan across the river (far).
var households = map[string]map[string]any{
	"angie": {"name": "Angie Baker", "address": "14 SE Maple St, Portland", "lat": 45.46550, "lon": -122.65010, "consent_same_day": true},
	"ben":   {"name": "Ben Ortiz", "address": "30 SE Maple St, Portland", "lat": 45.46550, "lon": -122.64805, "consent_same_day": true},
	"cleo":  {"name": "Cleo Park", "address": "7 SE Birch Ave, Portland", "lat": 45.46830, "lon": -122.65010, "consent_same_day": true},
	"dan":   {"name": "Dan Wu", "address": "900 NW Front Ave, Portland", "lat": 45.53000, "lon": -122.68000, "consent_same_day": true},
}

func (h *harness) household(names ...string) {
	h.t.Helper()
	for _, n := range names {
		h.must(201, "PUT", "/api/v1/customers/"+n, households[n])
	}
}

// visit puts a visit of customer on day with crew north and an invoice
// (draft unless status given) billing it.
func (h *harness) visitAndInvoice(customer, day, invoiceStatus string) {
	h.t.Helper()
	id := customer + "-" + day
	h.must(-1, "PUT", "/api/v1/visits/v-"+id, map[string]any{"customer_id": customer, "crew_id": "north", "service_date": day, "price_cents": 4500})
	if invoiceStatus != "" {
		h.must(-1, "PUT", "/api/v1/invoices/i-"+id, map[string]any{"customer_id": customer, "status": invoiceStatus,
			"lines": []any{map[string]any{"visit_id": "v-" + id, "description": "Weekly mow", "amount_cents": 4500}}})
	}
}

func (h *harness) link(a, b string) {
	h.t.Helper()
	r := h.do("POST", "/api/v1/neighbor-links", h.keys[tenant.RoleDispatcher], map[string]any{"customer_a": a, "customer_b": b})
	if r.Status != 201 {
		h.t.Fatalf("link %s–%s: %d %s", a, b, r.Status, r.Raw)
	}
}

// discounts returns the sync discount lines of an invoice.
func (h *harness) discounts(invoice string) (lines []map[string]any, total float64) {
	h.t.Helper()
	r := h.must(200, "GET", "/api/v1/invoices/"+invoice, nil)
	for _, l := range r.Body["lines"].([]any) {
		m := l.(map[string]any)
		if m["kind"] == "sync_discount" {
			lines = append(lines, m)
		}
	}
	if sub, disc, tot := r.Body["subtotal_cents"].(float64), r.Body["discount_cents"].(float64), r.Body["total_cents"].(float64); sub-disc != tot || tot < 0 {
		h.t.Fatalf("%s: subtotal %v − discount %v ≠ total %v", invoice, sub, disc, tot)
	}
	return lines, r.Body["total_cents"].(float64)
}

func TestAngieAndBenSameTuesday(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.must(201, "PUT", "/api/v1/crews/north", map[string]any{"name": "North", "depot_lat": 45.5, "depot_lon": -122.66})
		h.household("angie", "ben", "cleo", "dan")
		h.link("angie", "ben")

		// Week 1: both on Tuesday 5 May.
		h.visitAndInvoice("angie", "2026-05-05", "draft")
		h.visitAndInvoice("ben", "2026-05-05", "draft")
		for who, other := range map[string]string{"angie": "30 SE Maple St", "ben": "14 SE Maple St"} {
			lines, total := h.discounts("i-" + who + "-2026-05-05")
			if len(lines) != 1 || lines[0]["amount_cents"] != -450.0 || total != 4050 {
				t.Fatalf("%s week 1: %v total %v", who, lines, total)
			}
			reason := lines[0]["reason"].(string)
			if !strings.Contains(reason, "serviced the same day as "+other) || !strings.Contains(reason, "on 2026-05-05") || !strings.Contains(reason, " m away") {
				t.Fatalf("%s week 1 reason: %q", who, reason)
			}
			if lines[0]["visit_id"] != "v-"+who+"-2026-05-05" {
				t.Fatalf("%s: discount refers to %v", who, lines[0]["visit_id"])
			}
		}

		// Week 2: Ben is moved to Wednesday — no discount that week.
		h.visitAndInvoice("angie", "2026-05-12", "draft")
		h.visitAndInvoice("ben", "2026-05-13", "draft")
		if lines, total := h.discounts("i-angie-2026-05-12"); len(lines) != 0 || total != 4500 {
			t.Fatalf("Ben on Wednesday, Angie still discounted: %v", lines)
		}
		// The scheduler moves Ben back to Tuesday: both drafts follow.
		h.must(200, "PUT", "/api/v1/visits/v-ben-2026-05-13", map[string]any{"customer_id": "ben", "crew_id": "north", "service_date": "2026-05-12", "price_cents": 4500})
		for _, inv := range []string{"i-angie-2026-05-12", "i-ben-2026-05-13"} {
			if lines, _ := h.discounts(inv); len(lines) != 1 {
				t.Fatalf("%s after the move back: %v", inv, lines)
			}
		}
		// Dan is not linked: his visit that Tuesday syncs nothing.
		h.visitAndInvoice("dan", "2026-05-12", "draft")
		if lines, _ := h.discounts("i-dan-2026-05-12"); len(lines) != 0 {
			t.Fatalf("Dan, not linked, got %v", lines)
		}

		// Week 3: Angie, Ben and Cleo all linked and all on Tuesday: still one discount per line.
		h.link("angie", "cleo")
		h.link("ben", "cleo")
		for _, who := range []string{"angie", "ben", "cleo"} {
			h.visitAndInvoice(who, "2026-05-19", "draft")
		}
		for _, who := range []string{"angie", "ben", "cleo"} {
			lines, total := h.discounts("i-" + who + "-2026-05-19")
			if len(lines) != 1 || total != 4050 {
				t.Fatalf("%s with three neighbours: %v total %v", who, lines, total)
			}
		}
		cleo, _ := h.discounts("i-cleo-2026-05-19")
		if reason := cleo[0]["reason"].(string); !strings.HasPrefix(reason, "serviced the same day as 14 SE Maple St, ") || !strings.HasSuffix(reason, " m away, on 2026-05-19") {
			t.Fatalf("Cleo's discount should name her nearest linked neighbour, Angie: %q", reason)
		}

		// Ben cancels week 3: Angie keeps hers (Cleo came), Cleo keeps hers (Angie came).
		h.must(200, "PUT", "/api/v1/visits/v-ben-2026-05-19", map[string]any{"customer_id": "ben", "crew_id": "north", "service_date": "2026-05-19", "status": "cancelled", "price_cents": 4500})
		for _, who := range []string{"angie", "cleo"} {
			if lines, _ := h.discounts("i-" + who + "-2026-05-19"); len(lines) != 1 {
				t.Fatalf("%s after Ben cancelled: %v", who, lines)
			}
		}
		if lines, _ := h.discounts("i-ben-2026-05-19"); len(lines) != 0 {
			t.Fatalf("Ben's cancelled visit still discounted: %v", lines)
		}

		// The history says what each visit earned.
		hist := h.must(200, "GET", "/api/v1/customers/angie/sync-history?from=2026-05-01&to=2026-05-31", nil)
		entries := hist.Body["synced_visits"].([]any)
		if len(entries) != 3 {
			t.Fatalf("Angie's history: %s", hist.Raw)
		}
		first := entries[len(entries)-1].(map[string]any)
		if first["service_date"] != "2026-05-05" || first["discount_cents"] != 450.0 || first["how"] != "discounted" || first["invoice_id"] != "i-angie-2026-05-05" {
			t.Fatalf("history entry: %v", first)
		}

		// Reconciling the days again changes nothing.
		before := rowCounts(t, s)
		for _, d := range []string{"2026-05-05", "2026-05-12", "2026-05-19"} {
			h.must(200, "POST", "/api/v1/reconcile", map[string]any{"date": d})
			h.must(200, "POST", "/api/v1/reconcile", map[string]any{"date": d})
		}
		if after := rowCounts(t, s); after != before {
			t.Fatalf("reconcile changed rows: %s → %s", before, after)
		}
	})
}

func TestIssuedInvoicesNeverChangeLateDiscountsBecomeCredits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.must(201, "PUT", "/api/v1/crews/north", map[string]any{"name": "North", "depot_lat": 45.5, "depot_lon": -122.66})
		h.household("angie", "ben")
		h.link("angie", "ben")

		// Angie's invoice for 26 May is issued before Ben is booked that day.
		h.visitAndInvoice("angie", "2026-05-26", "issued")
		issued := h.must(200, "GET", "/api/v1/invoices/i-angie-2026-05-26", nil).Raw
		h.visitAndInvoice("ben", "2026-05-26", "draft")
		if after := h.must(200, "GET", "/api/v1/invoices/i-angie-2026-05-26", nil).Raw; string(after) != string(issued) {
			t.Fatalf("an issued invoice changed:\n%s\n%s", issued, after)
		}
		owed := h.must(200, "GET", "/api/v1/sync-adjustments?kind=late_discount", nil).Body["sync_adjustments"].([]any)
		if len(owed) != 1 || owed[0].(map[string]any)["status"] != "pending" || owed[0].(map[string]any)["amount_cents"] != 450.0 {
			t.Fatalf("late discount owed: %v", owed)
		}
		// Her next draft carries the credit, pointing back at what it corrects.
		h.visitAndInvoice("angie", "2026-06-02", "draft")
		r := h.must(200, "GET", "/api/v1/invoices/i-angie-2026-06-02", nil)
		var credit map[string]any
		for _, l := range r.Body["lines"].([]any) {
			if m := l.(map[string]any); m["kind"] == "credit" {
				credit = m
			}
		}
		if credit == nil || credit["amount_cents"] != -450.0 || credit["visit_id"] != "v-angie-2026-05-26" ||
			!strings.Contains(credit["description"].(string), "i-angie-2026-05-26") || !strings.Contains(credit["reason"].(string), "30 SE Maple St") {
			t.Fatalf("credit line: %v in %s", credit, r.Raw)
		}
		if r.Body["total_cents"] != 4050.0 {
			t.Fatalf("total with credit: %s", r.Raw)
		}
		// Recomputing, reconciling and replaying add no second credit.
		h.visitAndInvoice("angie", "2026-06-02", "draft")
		h.must(200, "POST", "/api/v1/reconcile", map[string]any{"date": "2026-05-26"})
		h.must(200, "POST", "/api/v1/reconcile", map[string]any{"date": "2026-06-02"})
		if n := storetest.Count(t, s.DB.Where("kind = ?", "credit"), "invoice_lines"); n != 1 {
			t.Fatalf("%d credit lines", n)
		}
		applied := h.must(200, "GET", "/api/v1/sync-adjustments?status=applied", nil).Body["sync_adjustments"].([]any)
		if len(applied) != 1 || applied[0].(map[string]any)["credited_on_invoice_id"] != "i-angie-2026-06-02" {
			t.Fatalf("applied credits: %v", applied)
		}

		// A discount given on an issued invoice that no longer holds is
		// recorded for the admin, not clawed back.
		h.visitAndInvoice("angie", "2026-06-09", "draft")
		h.visitAndInvoice("ben", "2026-06-09", "draft")
		h.visitAndInvoice("angie", "2026-06-09", "issued")
		h.must(200, "PUT", "/api/v1/visits/v-ben-2026-06-09", map[string]any{"customer_id": "ben", "crew_id": "north", "service_date": "2026-06-09", "status": "cancelled", "price_cents": 4500})
		if lines, total := h.discounts("i-angie-2026-06-09"); len(lines) != 1 || total != 4050 {
			t.Fatalf("the issued invoice lost its discount: %v", lines)
		}
		errs := h.must(200, "GET", "/api/v1/sync-adjustments?kind=given_in_error", nil).Body["sync_adjustments"].([]any)
		if len(errs) != 1 || errs[0].(map[string]any)["status"] != "recorded" || !strings.Contains(errs[0].(map[string]any)["reason"].(string), "not clawed back") {
			t.Fatalf("recorded: %v", errs)
		}
		// Ending the link stops future discounts.
		links := h.must(200, "GET", "/api/v1/neighbor-links?customer_id=angie", nil).Body["neighbor_links"].([]any)
		id := links[0].(map[string]any)["id"].(float64)
		ended := h.must(200, "DELETE", fmt.Sprintf("/api/v1/neighbor-links/%.0f?reason=moved", id), nil)
		if ended.Body["ends_on"] != "2026-05-01" || ended.Body["end_reason"] != "moved" {
			t.Fatalf("ended: %s", ended.Raw)
		}
		h.visitAndInvoice("angie", "2026-06-16", "draft")
		h.visitAndInvoice("ben", "2026-06-16", "draft")
		if lines, _ := h.discounts("i-angie-2026-06-16"); len(lines) != 0 {
			t.Fatalf("discount after the link ended: %v", lines)
		}
	})
}

func TestLinksNeedConsentAndTheRadius(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.household("angie", "ben", "dan")
		h.must(201, "PUT", "/api/v1/customers/nora", map[string]any{"name": "Nora", "address": "16 SE Maple St", "lat": 45.4656, "lon": -122.6500, "consent_same_day": false})
		disp := h.keys[tenant.RoleDispatcher]
		// says is the whole message of the error (field "") or of the field
		// it is about, a number standing for a distance.
		for name, c := range map[string]struct {
			body  map[string]any
			code  string
			field string
			says  string
		}{
			"no consent":    {map[string]any{"customer_a": "angie", "customer_b": "nora"}, "unprocessable", "", `^Nora \(nora\) has not agreed to same-day service$`},
			"too far":       {map[string]any{"customer_a": "angie", "customer_b": "dan"}, "unprocessable", "", `^angie and dan live [0-9]+ m apart; the program links neighbours within 500 m$`},
			"self":          {map[string]any{"customer_a": "angie", "customer_b": "angie"}, "validation_failed", "customer_b", `^a customer cannot be their own neighbour$`},
			"unknown":       {map[string]any{"customer_a": "angie", "customer_b": "zed"}, "validation_failed", "customer_b", `^customer zed not found$`},
			"bad date":      {map[string]any{"customer_a": "angie", "customer_b": "ben", "starts_on": "soon"}, "validation_failed", "starts_on", `^"soon" is not a date in the form YYYY-MM-DD$`},
			"unknown field": {map[string]any{"customer_a": "angie", "customer_b": "ben", "radius": 5}, "validation_failed", "radius", `^is not a known field$`},
		} {
			r := h.do("POST", "/api/v1/neighbor-links", disp, c.body)
			got := r.message()
			if c.field != "" {
				got = r.field(c.field)
			}
			if r.Status != 422 || r.errorCode() != c.code || !regexp.MustCompile(c.says).MatchString(got) {
				t.Errorf("%s: %d %s", name, r.Status, r.Raw)
			}
		}
		if n := storetest.Count(t, s.DB, "neighbor_links"); n != 0 {
			t.Fatalf("refused links stored: %d", n)
		}
		if r := h.do("POST", "/api/v1/neighbor-links", h.keys[tenant.RoleCrew], map[string]any{"customer_a": "angie", "customer_b": "ben"}); r.Status != 403 {
			t.Fatalf("crew linked: %d", r.Status)
		}
		first := h.must(201, "POST", "/api/v1/neighbor-links", map[string]any{"customer_a": "ben", "customer_b": "angie"})
		again := h.must(200, "POST", "/api/v1/neighbor-links", map[string]any{"customer_a": "angie", "customer_b": "ben"})
		if first.Body["id"] != again.Body["id"] || first.Body["distance_m"].(float64) < 150 || first.Body["distance_m"].(float64) > 170 {
			t.Fatalf("link: %s / %s", first.Raw, again.Raw)
		}
		near := h.must(200, "GET", "/api/v1/customers/angie/nearby?radius_m=400", nil).Body["customers"].([]any)
		var got []string
		for _, c := range near {
			m := c.(map[string]any)
			got = append(got, fmt.Sprintf("%s:%v:%v", m["external_id"], m["linked"], m["consent_same_day"]))
		}
		if strings.Join(got, ",") != "nora:false:false,ben:true:true" {
			t.Fatalf("nearby: %v", got)
		}
		if r := h.do("GET", "/api/v1/customers/angie/nearby?radius_m=0", h.keys[tenant.RoleAdmin], nil); r.Status != 422 {
			t.Fatalf("radius 0: %d", r.Status)
		}
		// Withdrawing consent ends the link; the history keeps it.
		withdrawn := households["ben"]
		withdrawn["consent_same_day"] = false
		defer func() { withdrawn["consent_same_day"] = true }()
		h.must(200, "PUT", "/api/v1/customers/ben", withdrawn)
		l := h.must(200, "GET", fmt.Sprintf("/api/v1/neighbor-links/%.0f", first.Body["id"].(float64)), nil)
		if l.Body["ends_on"] != "2026-05-01" || !strings.Contains(l.Body["end_reason"].(string), "has not agreed") {
			t.Fatalf("link after consent withdrawn: %s", l.Raw)
		}
	})
}

// A tenant in Los Angeles: a visit starting 23:30 local is on that day even
// though it is the next day in UTC, and the spring-forward night moves no
// visit to another day.
func TestSameDayIsTheTenantsLocalDay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.must(201, "PUT", "/api/v1/crews/north", map[string]any{"name": "North", "depot_lat": 45.5, "depot_lon": -122.66})
		h.household("angie", "ben")
		// Linked in February (a link starts today or later), so March's
		// spring-forward night is covered.
		h.clock.Set(time.Date(2026, 2, 20, 17, 0, 0, 0, time.UTC))
		h.must(201, "POST", "/api/v1/neighbor-links", map[string]any{"customer_a": "angie", "customer_b": "ben", "starts_on": "2026-03-01"})
		cases := []struct{ day, angieStart, benStart string }{
			{"2026-05-05", "2026-05-05T08:00:00-07:00", "2026-05-05T23:30:00-07:00"}, // 06:30 UTC on the 6th
			{"2026-03-08", "2026-03-08T01:30:00-08:00", "2026-03-08T03:30:00-07:00"}, // clocks spring forward at 02:00
			{"2026-11-01", "2026-11-01T01:30:00-07:00", "2026-11-01T01:30:00-08:00"}, // the hour that happens twice
		}
		for _, c := range cases {
			for who, start := range map[string]string{"angie": c.angieStart, "ben": c.benStart} {
				h.must(-1, "PUT", "/api/v1/visits/v-"+who+"-"+c.day, map[string]any{"customer_id": who, "crew_id": "north",
					"service_date": c.day, "start_at": start, "price_cents": 4500})
				h.must(-1, "PUT", "/api/v1/invoices/i-"+who+"-"+c.day, map[string]any{"customer_id": who,
					"lines": []any{map[string]any{"visit_id": "v-" + who + "-" + c.day, "description": "Mow", "amount_cents": 4500}}})
			}
			for _, who := range []string{"angie", "ben"} {
				if lines, _ := h.discounts("i-" + who + "-" + c.day); len(lines) != 1 {
					t.Errorf("%s on %s: %v", who, c.day, lines)
				}
			}
		}
		// A start that is the next local day is refused, not silently moved.
		r := h.do("PUT", "/api/v1/visits/v-late", h.keys[tenant.RoleAdmin], map[string]any{"customer_id": "ben",
			"service_date": "2026-05-05", "start_at": "2026-05-06T00:30:00-07:00"})
		if r.Status != 422 || r.field("start_at") == "" {
			t.Fatalf("next-day start: %d %s", r.Status, r.Raw)
		}
	})
}

// Reconciliation running while fifty invoice PUTs for the same day land gives
// exactly one discount per synced line.
func TestReconcileBesideConcurrentInvoiceWrites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.must(201, "PUT", "/api/v1/crews/north", map[string]any{"name": "North", "depot_lat": 45.5, "depot_lon": -122.66})
		const pairs = 5
		for i := 0; i < pairs; i++ {
			for j, who := range []string{"a", "b"} {
				h.must(201, "PUT", fmt.Sprintf("/api/v1/customers/%s%d", who, i), map[string]any{"name": who,
					"address": fmt.Sprintf("%d Elm St", 10*i+j), "lat": 45.40 + 0.01*float64(i), "lon": -122.60 + 0.001*float64(j), "consent_same_day": true})
			}
			h.link(fmt.Sprintf("a%d", i), fmt.Sprintf("b%d", i))
			for _, who := range []string{"a", "b"} {
				h.visitAndInvoice(fmt.Sprintf("%s%d", who, i), "2026-05-05", "")
			}
		}
		var wg sync.WaitGroup
		errs := make(chan string, 60)
		for k := 0; k < 50; k++ {
			wg.Add(1)
			go func(k int) {
				defer wg.Done()
				who := fmt.Sprintf("%s%d", []string{"a", "b"}[k%2], (k/2)%pairs)
				id := who + "-2026-05-05"
				r := h.do("PUT", "/api/v1/invoices/i-"+id, h.keys[tenant.RoleAdmin], map[string]any{"customer_id": who,
					"lines": []any{map[string]any{"visit_id": "v-" + id, "description": "Mow", "amount_cents": 4500}}})
				if r.Status != 200 && r.Status != 201 {
					errs <- fmt.Sprintf("PUT %s: %d %s", id, r.Status, r.Raw)
				}
			}(k)
		}
		for k := 0; k < 3; k++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := h.app.Ledger.ReconcileDay(context.Background(), h.greenway, localdate.Date{Year: 2026, Month: 5, Day: 5}); err != nil {
					errs <- "reconcile: " + err.Error()
				}
			}()
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
		if n := storetest.Count(t, s.DB.Where("kind = ?", "sync_discount"), "invoice_lines"); n != 2*pairs {
			t.Fatalf("%d sync discount lines, want %d", n, 2*pairs)
		}
		for i := 0; i < pairs; i++ {
			if lines, total := h.discounts(fmt.Sprintf("i-a%d-2026-05-05", i)); len(lines) != 1 || total != 4050 {
				t.Fatalf("pair %d: %v %v", i, lines, total)
			}
		}
	})
}

func TestProgramChangesReachDraftsAndLinks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.must(201, "PUT", "/api/v1/crews/north", map[string]any{"name": "North", "depot_lat": 45.5, "depot_lon": -122.66})
		h.household("angie", "ben", "cleo")
		h.link("angie", "ben")
		h.link("angie", "cleo")
		for _, who := range []string{"angie", "ben", "cleo"} {
			h.visitAndInvoice(who, "2026-05-05", "draft")
		}
		def := h.must(200, "GET", "/api/v1/program", nil)
		if def.Body["neighbor_radius_m"] != 500.0 || def.Body["sync_discount_bps"] != 1000.0 || def.Body["max_discount_bps"] != 2000.0 {
			t.Fatalf("defaults: %s", def.Raw)
		}
		// 15% from now on, everything else as it was.
		p := h.must(200, "PUT", "/api/v1/program", map[string]any{"sync_discount_bps": 1500})
		if p.Body["neighbor_radius_m"] != 500.0 || p.Body["max_discount_bps"] != 2000.0 || p.Body["sync_discount_bps"] != 1500.0 {
			t.Fatalf("partial update: %s", p.Raw)
		}
		if lines, total := h.discounts("i-angie-2026-05-05"); len(lines) != 1 || lines[0]["amount_cents"] != -675.0 || total != 3825 {
			t.Fatalf("draft after 15%%: %v %v", lines, total)
		}
		for name, body := range map[string]map[string]any{
			"max below sync":   {"max_discount_bps": 1000},
			"radius too big":   {"neighbor_radius_m": 9000},
			"bad area":         {"service_areas": `{"type":"Point","coordinates":[0,0]}`},
			"not a percentage": {"sync_discount_bps": 10001},
		} {
			if r := h.do("PUT", "/api/v1/program", h.keys[tenant.RoleAdmin], body); r.Status != 422 {
				t.Errorf("%s: %d %s", name, r.Status, r.Raw)
			}
		}
		if r := h.do("PUT", "/api/v1/program", h.keys[tenant.RoleDispatcher], map[string]any{"sync_discount_bps": 0}); r.Status != 403 {
			t.Fatalf("a dispatcher changed the program: %d", r.Status)
		}
		// A smaller radius ends the link to Cleo (≈310 m) but keeps Ben's (≈160 m).
		h.must(200, "PUT", "/api/v1/program", map[string]any{"neighbor_radius_m": 250})
		open := h.must(200, "GET", "/api/v1/neighbor-links?customer_id=angie&active_on=2026-05-05", nil).Body["neighbor_links"].([]any)
		if len(open) != 1 || open[0].(map[string]any)["customer_b"] != "ben" && open[0].(map[string]any)["customer_a"] != "ben" {
			t.Fatalf("links after the radius shrank: %v", open)
		}
		if lines, _ := h.discounts("i-cleo-2026-05-05"); len(lines) != 0 {
			t.Fatalf("Cleo still discounted after her link ended: %v", lines)
		}
	})
}

func TestCustomersOutsideTheServiceAreaAreFlagged(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	h := newHarness(t, s)
	h.household("angie", "dan")
	if r := h.must(200, "GET", "/api/v1/customers/dan", nil); r.Body["outside_service_area"] != false {
		t.Fatalf("no areas defined, yet flagged: %s", r.Raw)
	}
	// Southeast Portland only: Angie (Sellwood) is in, Dan (Northwest) is out.
	area := `{"type":"Polygon","coordinates":[[[-122.70,45.44],[-122.60,45.44],[-122.60,45.50],[-122.70,45.50],[-122.70,45.44]]]}`
	h.must(200, "PUT", "/api/v1/program", map[string]any{"service_areas": area})
	if r := h.must(200, "GET", "/api/v1/customers/angie", nil); r.Body["outside_service_area"] != false {
		t.Fatalf("Angie flagged: %s", r.Raw)
	}
	if r := h.must(200, "GET", "/api/v1/customers/dan", nil); r.Body["outside_service_area"] != true {
		t.Fatalf("Dan not flagged: %s", r.Raw)
	}
	list := h.must(200, "GET", "/api/v1/customers", nil).Body["customers"].([]any)
	flagged := 0
	for _, c := range list {
		if c.(map[string]any)["outside_service_area"] == true {
			flagged++
		}
	}
	if flagged != 1 {
		t.Fatalf("%d flagged in the list", flagged)
	}
}
