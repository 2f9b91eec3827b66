package httpapi_test

import (
	"encoding/csv"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// csvGet sends a GET with an Accept header and returns the raw answer.
func (h *harness) csvGet(path, key, accept string) *httptest.ResponseRecorder {
	h.t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	rec := httptest.NewRecorder()
	h.app.HTTP.ServeHTTP(rec, req)
	return rec
}

func TestInsightsAnswerJSONAndCSV(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.seed(h.keys[tenant.RoleAdmin], "")
		h.must(201, "POST", "/api/v1/referrals", map[string]any{"channel": "card", "referrer_id": "angie",
			"referee": map[string]any{"name": "Dot", "phone": "503 555 0123"}})
		// The clock is 2026-05-01 09:00 in LA: the default is April 2 .. May 1.
		r := h.do("GET", "/api/v1/insights/kpis", h.keys[tenant.RoleDispatcher], nil)
		tot, _ := r.Body["total"].(map[string]any)
		if r.Status != 200 || r.Body["from"] != "2026-04-02" || r.Body["to"] != "2026-05-01" || tot["referrals"] != 1.0 || tot["new_customers"] != 1.0 {
			t.Fatalf("kpis: %d %s", r.Status, r.Raw)
		}
		for _, path := range []string{"/api/v1/insights/kpis?format=csv&group_by=variant", "/api/v1/insights/ab?format=csv",
			"/api/v1/insights/ab?kind=script&format=csv", "/api/v1/insights/word-of-mouth?format=csv"} {
			rec := h.csvGet(path, h.keys[tenant.RoleDispatcher], "")
			rows, err := csv.NewReader(strings.NewReader(rec.Body.String())).ReadAll()
			if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") || err != nil || len(rows) == 0 {
				t.Fatalf("%s: %d %s %v %q", path, rec.Code, rec.Header().Get("Content-Type"), err, rec.Body.String())
			}
		}
		rec := h.csvGet("/api/v1/insights/kpis?group_by=channel", h.keys[tenant.RoleAdmin], "text/csv")
		rows, _ := csv.NewReader(strings.NewReader(rec.Body.String())).ReadAll()
		// Header, the total, the card channel.
		if len(rows) != 3 || rows[0][3] != "group" || rows[1][3] != "all" || rows[2][3] != "card" || rows[2][4] != "1" {
			t.Fatalf("kpis csv: %q", rec.Body.String())
		}
		if r := h.do("GET", "/api/v1/insights/kpis", h.keys[tenant.RoleCrew], nil); r.Status != 403 {
			t.Fatalf("crew read KPIs: %d", r.Status)
		}
	})
}

func TestInsightsRefuseBadInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		for q, field := range map[string]string{
			"/api/v1/insights/kpis?from=May":                               "from",
			"/api/v1/insights/kpis?to=2026-13-01":                          "to",
			"/api/v1/insights/kpis?from=2026-05-10&to=2026-05-01":          "to",
			"/api/v1/insights/kpis?from=2024-01-01&to=2026-01-01":          "to",
			"/api/v1/insights/kpis?group_by=crew":                          "group_by",
			"/api/v1/insights/kpis?format=xml":                             "format",
			"/api/v1/insights/ab?kind=colour":                              "kind",
			"/api/v1/insights/ab?from=2026-05-10&to=2026-05-01":            "to",
			"/api/v1/insights/word-of-mouth?from=2026-02-30":               "from",
			"/api/v1/insights/word-of-mouth?from=2023-01-01&to=2026-01-01": "to",
		} {
			if r := h.do("GET", q, h.keys[tenant.RoleAdmin], nil); r.Status != 422 || r.field(field) == "" {
				t.Errorf("%s: %d %s", q, r.Status, r.Raw)
			}
		}
	})
}
