package httpapi_test

import (
	"testing"

	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
)

func credit(name string, cents int) map[string]any {
	return map[string]any{"name": name, "referrer": map[string]any{"kind": "fixed_credit", "amount_cents": cents},
		"referee": map[string]any{"kind": "fixed_credit", "amount_cents": cents}}
}

// Angie was offered B ($25 for her and her friend). The owner then drops B
// for A ($10): Ben, whom she referred under B, converts afterwards and both
// get B's $25 as promised; Angie's next friend is referred under A.
func TestARemovedOffersReferralsKeepTheirPromise(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.household("angie", "cleo")
		h.must(200, "PUT", "/api/v1/program", map[string]any{"offers": []any{credit("A", 1000), credit("B", 2500)}})
		r := h.must(201, "POST", "/api/v1/referrals", map[string]any{"channel": "code", "referrer_id": "angie", "variant": "B",
			"referee": map[string]any{"name": "Ben Ortiz", "email": "ben@example.com"}})
		if r.Body["variant"] != "B" {
			t.Fatalf("variant %v", r.Body["variant"])
		}
		if st := h.must(200, "GET", "/api/v1/customers/angie/referral-status", nil); st.Body["offer"] != "B" {
			t.Fatalf("Angie's offer after her first referral under B: %s", st.Raw)
		}
		// Re-weighting and adding a variant moves nobody.
		h.must(200, "PUT", "/api/v1/program", map[string]any{"offers": []any{credit("A", 1000), credit("B", 2500), credit("C", 500)}})
		if st := h.must(200, "GET", "/api/v1/customers/angie/referral-status", nil); st.Body["offer"] != "B" {
			t.Fatalf("adding C moved Angie: %s", st.Raw)
		}

		h.must(200, "PUT", "/api/v1/program", map[string]any{"offers": []any{credit("A", 1000)}})
		h.must(201, "PUT", "/api/v1/customers/ben", map[string]any{"name": "Ben Ortiz", "email": "ben@example.com",
			"lat": 45.46550, "lon": -122.64805})
		h.completeFirstVisit("ben", "2026-05-05")
		if got := h.referral(r.Body["id"])["status"]; got != "converted" {
			t.Fatalf("Ben's referral is %v", got)
		}
		if n, v := h.rewardsOf("angie"); n != 1 || v != 2500 {
			t.Fatalf("Angie got %d rewards worth %.0f, promised B's 2500", n, v)
		}
		if n, v := h.rewardsOf("ben"); n != 1 || v != 2500 {
			t.Fatalf("Ben got %d rewards worth %.0f, promised B's 2500", n, v)
		}
		next := h.refer(201, "angie", map[string]any{"name": "Dora Lee", "email": "dora@example.com"})
		if next.Body["variant"] != "A" {
			t.Fatalf("Angie's next friend, after B was removed: variant %v", next.Body["variant"])
		}
		// Cleo, a new referrer, is assigned among the offers now: only A.
		if c := h.refer(201, "cleo", map[string]any{"name": "Eve Moss", "email": "eve@example.com"}); c.Body["variant"] != "A" {
			t.Fatalf("a new referrer got %v", c.Body["variant"])
		}
	})
}
