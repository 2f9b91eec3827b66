package httpapi_test

import (
	"testing"

	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// The scheduler re-sends Angie's visit with a new price but no status
// after her crew completed it: it stays completed. A new visit sent
// without status is scheduled.
func TestAVisitPUTWithoutStatusKeepsIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.seed(h.keys[tenant.RoleAdmin], "") // v1, sent without status
		if r := h.must(200, "GET", "/api/v1/visits/v1", nil); r.Body["status"] != "scheduled" {
			t.Fatalf("a new visit without status: %s", r.Raw)
		}
		visit := map[string]any{"customer_id": "angie", "crew_id": "north", "service_date": "2026-05-05", "price_cents": 4500, "status": "completed"}
		h.must(200, "PUT", "/api/v1/visits/v1", visit)
		delete(visit, "status")
		visit["price_cents"] = 4800
		if r := h.must(200, "PUT", "/api/v1/visits/v1", visit); r.Body["status"] != "completed" || r.Body["price_cents"] != 4800.0 {
			t.Fatalf("re-sent without status: %s", r.Raw)
		}
		if r := h.must(200, "GET", "/api/v1/visits/v1", nil); r.Body["status"] != "completed" {
			t.Fatalf("stored: %s", r.Raw)
		}
	})
}
