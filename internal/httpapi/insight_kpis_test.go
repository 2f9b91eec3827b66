package httpapi_test

import (
	"fmt"
	"testing"

	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

func TestKPIsByMonthAndRouteSavingsOverHTTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.seed(h.keys[tenant.RoleAdmin], "")
		r := h.do("GET", "/api/v1/insights/kpis?from=2026-03-15&to=2026-05-01&group=month", h.keys[tenant.RoleDispatcher], nil)
		groups, _ := r.Body["groups"].([]any)
		var got []string
		for _, g := range groups {
			m, _ := g.(map[string]any)
			got = append(got, fmt.Sprintf("%v %v..%v", m["group"], m["from"], m["to"]))
		}
		want := "[2026-03 2026-03-15..2026-03-31 2026-04 2026-04-01..2026-04-30 2026-05 2026-05-01..2026-05-01]"
		if r.Status != 200 || r.Body["group_by"] != "month" || r.Body["gross_margin_bps"] != 4000.0 || fmt.Sprint(got) != want {
			t.Fatalf("kpis by month: %d %v %s", r.Status, got, r.Raw)
		}
		// The older parameter name still splits.
		if r := h.do("GET", "/api/v1/insights/kpis?group_by=crew", h.keys[tenant.RoleDispatcher], nil); r.Status != 200 || r.Body["group_by"] != "crew" {
			t.Fatalf("group_by=crew: %d %s", r.Status, r.Raw)
		}
		// A margin set through the program is the one the KPIs use.
		h.must(200, "PUT", "/api/v1/program", map[string]any{"gross_margin_bps": 2500})
		if r := h.do("GET", "/api/v1/insights/kpis", h.keys[tenant.RoleDispatcher], nil); r.Body["gross_margin_bps"] != 2500.0 {
			t.Fatalf("margin: %s", r.Raw)
		}
		if r := h.do("PUT", "/api/v1/program", h.keys[tenant.RoleAdmin], map[string]any{"gross_margin_bps": 10001}); r.Status != 422 || r.field("gross_margin_bps") == "" {
			t.Fatalf("margin 10001: %d %s", r.Status, r.Raw)
		}
		r = h.do("GET", "/api/v1/insights/route-savings?from=2026-04-01&to=2026-04-30", h.keys[tenant.RoleDispatcher], nil)
		if rows, ok := r.Body["rows"].([]any); r.Status != 200 || !ok || len(rows) != 0 || r.Body["visits"] != 0.0 {
			t.Fatalf("route savings: %d %s", r.Status, r.Raw)
		}
	})
}
