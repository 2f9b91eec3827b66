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
	return h.serve(req, nil)
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
			"/api/v1/insights/kpis?from=May":                                              "from",
			"/api/v1/insights/kpis?to=2026-13-01":                                         "to",
			"/api/v1/insights/kpis?from=2026-05-10&to=2026-05-01":                         "to",
			"/api/v1/insights/kpis?from=2024-01-01&to=2026-01-01":                         "to",
			"/api/v1/insights/kpis?group_by=week":                                         "group_by",
			"/api/v1/insights/kpis?group=week":                                            "group",
			"/api/v1/insights/kpis?group=crews&group_by=crew":                             "group",
			"/api/v1/insights/route-savings?to=2026-05-01":                                "from",
			"/api/v1/insights/route-savings?from=2026-05-10&to=2026-05-01":                "to",
			"/api/v1/insights/route-savings?from=2024-01-01&to=2026-01-01":                "to",
			"/api/v1/insights/route-savings?from=2026-05-01&to=2026-05-31&crew_id=nobody": "crew_id",
			"/api/v1/insights/kpis?format=xml":                                            "format",
			"/api/v1/insights/ab?kind=colour":                                             "kind",
			"/api/v1/insights/ab?from=2026-05-10&to=2026-05-01":                           "to",
			"/api/v1/insights/word-of-mouth?from=2026-02-30":                              "from",
			"/api/v1/insights/word-of-mouth?from=2023-01-01&to=2026-01-01":                "to",
		} {
			if r := h.do("GET", q, h.keys[tenant.RoleAdmin], nil); r.Status != 422 || r.field(field) == "" {
				t.Errorf("%s: %d %s", q, r.Status, r.Raw)
			}
		}
	})
}

// An owner named the offers like formulas (or someone did it for them):
// the CSV exports open in a spreadsheet as text — the byte order mark
// first, each such cell behind a single quote — while numbers stay numbers.
func TestInsightCSVNeverCarriesALiveFormula(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.seed(h.keys[tenant.RoleAdmin], "")
		link, sum := `=HYPERLINK("http://x.example","Win")`, "@SUM(1+1)"
		reward := map[string]any{"kind": "fixed_credit", "amount_cents": 500}
		h.must(200, "PUT", "/api/v1/program", map[string]any{"offers": []any{
			map[string]any{"name": link, "referrer": reward, "referee": reward},
			map[string]any{"name": sum, "referrer": reward, "referee": reward}}})
		h.must(201, "POST", "/api/v1/referrals", map[string]any{"channel": "card", "referrer_id": "angie", "variant": sum,
			"referee": map[string]any{"name": "Dot", "email": "dot@example.com"}})
		h.must(201, "POST", "/api/v1/referrals", map[string]any{"channel": "card", "referrer_id": "angie", "variant": link,
			"referee": map[string]any{"name": "Eve", "email": "eve@example.com"}})
		for _, path := range []string{"/api/v1/insights/kpis?format=csv&group_by=variant", "/api/v1/insights/ab?format=csv"} {
			rec := h.csvGet(path, h.keys[tenant.RoleDispatcher], "")
			body, bom := strings.CutPrefix(rec.Body.String(), "\uFEFF")
			rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
			if rec.Code != 200 || !bom || err != nil || len(rows) < 3 {
				t.Fatalf("%s: %d (byte order mark %v) %v %q", path, rec.Code, bom, err, rec.Body.String())
			}
			seen := map[string]bool{}
			for _, row := range rows {
				for _, cell := range row {
					if cell != "" && strings.ContainsRune("=+@\t\r", rune(cell[0])) {
						t.Fatalf("%s: a live formula %q in %q", path, cell, row)
					}
					seen[cell] = true
				}
			}
			if !seen["'"+link] || !seen["'"+sum] || !seen["1"] {
				t.Fatalf("%s: the offers are not there as quoted text: %q", path, rows)
			}
		}
	})
}
