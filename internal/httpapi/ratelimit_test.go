package httpapi_test

import (
	"encoding/json"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/routeloop/routeloop/internal/config"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// A dispatcher looping route optimisations is stopped after its burst; the
// integration key keeps optimising and invoices keep answering.
func TestExpensiveRequestsAreLimitedPerKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		cfg := config.Defaults()
		cfg.ExpensiveRequestsPerMinute = 3
		h := newHarnessWith(t, s, cfg)
		h.seed(h.keys[tenant.RoleAdmin], "")
		body := map[string]any{"depot": map[string]any{"lat": 45.45, "lon": -122.66},
			"stops": []any{map[string]any{"id": "a", "lat": 45.46, "lon": -122.65}, map[string]any{"id": "b", "lat": 45.47, "lon": -122.64}}}
		dispatcher, integration := h.keys[tenant.RoleDispatcher], h.keys[tenant.RoleIntegration]
		for i := 0; i < 3; i++ {
			if r := h.do("POST", "/api/v1/routes/optimize", dispatcher, body); r.Status != 200 {
				t.Fatalf("optimisation %d of the burst: %d %s", i+1, r.Status, r.Raw)
			}
		}
		r := h.do("POST", "/api/v1/routes/optimize", dispatcher, body)
		if r.Status != 429 || r.errorCode() != "too_many_requests" {
			t.Fatalf("fourth optimisation: %d %s", r.Status, r.Raw)
		}
		if secs, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || secs < 1 || secs > 20 {
			t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
		}
		if r := h.do("GET", "/api/v1/insights/kpis", dispatcher, nil); r.Status != 429 {
			t.Fatalf("KPIs share the dispatcher's allowance: %d", r.Status)
		}
		if r := h.do("POST", "/api/v1/routes/optimize", integration, body); r.Status != 200 {
			t.Fatalf("another key: %d %s", r.Status, r.Raw)
		}
		for i := 0; i < 10; i++ {
			if r := h.do("GET", "/api/v1/invoices/inv1", dispatcher, nil); r.Status != 200 {
				t.Fatalf("a cheap read by the limited key: %d %s", r.Status, r.Raw)
			}
		}
	})
}

// The OpenAPI document's 429 responses are exactly the rate-limited
// routes: once a key has used its allowance, every operation documenting
// 429 answers it, and no other operation does.
func TestTheDocumentedTooManyRequestsAreTheLimitedRoutes(t *testing.T) {
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Responses map[string]any `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`\{[a-z_]+\}`)
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		cfg := config.Defaults()
		cfg.ExpensiveRequestsPerMinute = 1
		h := newHarnessWith(t, s, cfg)
		admin := h.keys[tenant.RoleAdmin]
		h.do("POST", "/api/v1/routes/optimize", admin, map[string]any{"depot": map[string]any{"lat": 45.45, "lon": -122.66},
			"stops": []any{map[string]any{"id": "a", "lat": 45.46, "lon": -122.65}}})
		limited := 0
		for path, item := range doc.Paths {
			if !strings.HasPrefix(path, "/api/v1/") || path == "/api/v1/openapi.json" {
				continue
			}
			for method, op := range item {
				_, documented := op.Responses["429"]
				r := h.do(strings.ToUpper(method), param.ReplaceAllString(path, "x"), admin, "{}")
				if got := r.Status == 429; got != documented {
					t.Errorf("%s %s: status %d, but the document says 429 is %v", strings.ToUpper(method), path, r.Status, documented)
				}
				if documented {
					limited++
				}
			}
		}
		if limited < 9 {
			t.Fatalf("only %d operations document 429", limited)
		}
	})
}
