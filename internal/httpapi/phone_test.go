package httpapi_test

import (
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// Phones must be phone numbers of the tenant's country (US here) or
// international ones: "call me maybe" is refused with 422 naming the field,
// for a customer, a referred friend, a referrer named by phone and a friend
// a crew member logs on site, and nothing changes.
func TestAPhoneThatIsNoNumberIsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		tuesdayRoute(h)
		const bad = "call me maybe"
		angie := h.must(200, "GET", "/api/v1/customers/angie", nil)
		for path, body := range map[string]map[string]any{
			"/api/v1/customers/angie": {"name": "Angie Baker", "phone": bad},
			"/api/v1/customers/zoe":   {"name": "Zoe", "phone": bad},
		} {
			if r := h.do("PUT", path, h.keys[tenant.RoleAdmin], body); r.Status != 422 || r.field("phone") == "" {
				t.Fatalf("PUT %s with phone %q: %d %s", path, bad, r.Status, r.Raw)
			}
		}
		if again := h.must(200, "GET", "/api/v1/customers/angie", nil); string(again.Raw) != string(angie.Raw) {
			t.Fatalf("a refused write changed Angie: %s, was %s", again.Raw, angie.Raw)
		}
		if r := h.do("GET", "/api/v1/customers/zoe", h.keys[tenant.RoleAdmin], nil); r.Status != 404 {
			t.Fatalf("Zoe was stored: %d %s", r.Status, r.Raw)
		}
		for field, body := range map[string]map[string]any{
			"referee.phone":  {"channel": "code", "referrer_id": "angie", "referee": map[string]any{"name": "Dot", "phone": bad}},
			"referrer_phone": {"channel": "card", "referrer_name": "Angie Baker", "referrer_phone": "555", "referee": map[string]any{"name": "Dot", "email": "dot@example.com"}},
		} {
			if r := h.do("POST", "/api/v1/referrals", h.keys[tenant.RoleDispatcher], body); r.Status != 422 || r.field(field) == "" {
				t.Fatalf("referral with a bad %s: %d %s", field, r.Status, r.Raw)
			}
		}
		h.clock.Set(time.Date(2026, 5, 5, 20, 0, 0, 0, time.UTC))
		if r := h.pitchAs(h.keys[tenant.RoleCrew], "v-dan-2026-05-05", "sam", "referral_given", map[string]any{"name": "Eve", "phone": bad}); r.Status != 422 || r.field("referee.phone") == "" {
			t.Fatalf("pitch with a friend's phone %q: %d %s", bad, r.Status, r.Raw)
		}
		if n := storetest.Count(t, s.DB, "referrals"); n != 0 {
			t.Fatalf("%d referrals stored", n)
		}
		if n := storetest.Count(t, s.DB, "pitches"); n != 0 {
			t.Fatalf("%d pitches stored", n)
		}
		// A real number, national or international, is taken.
		h.must(200, "PUT", "/api/v1/customers/angie", map[string]any{"name": "Angie Baker", "phone": "(503) 555-0142"})
		h.must(201, "POST", "/api/v1/referrals", map[string]any{"channel": "code", "referrer_id": "angie",
			"referee": map[string]any{"name": "Dot", "phone": "+44 20 7946 0958"}})
	})
}
