package httpapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/routeloop/routeloop/internal/config"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// scrape asks GET /metrics with the given Authorization header ("" for
// none) and returns the status and the text.
func (h *harness) scrape(authorization string) (int, string) {
	h.t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	rec := h.serve(req, nil)
	body, _ := io.ReadAll(rec.Body)
	return rec.Code, string(body)
}

// The scheduler reads an invoice twice and reconciles a day; the scrape
// counts them by route pattern, never by the invoice's own path.
func TestMetricsCountRequestsByRoute(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.seed(h.keys[tenant.RoleAdmin], "")
		for i := 0; i < 2; i++ {
			h.must(200, "GET", "/api/v1/invoices/inv1", nil)
		}
		h.must(404, "GET", "/api/v1/invoices/no-such-invoice", nil)
		h.must(404, "GET", "/api/v1/nowhere-at-all/4242", nil)
		h.must(200, "POST", "/api/v1/reconcile", map[string]any{"date": "2026-05-05"})
		status, text := h.scrape("")
		if status != 200 {
			t.Fatalf("scrape: %d %s", status, text)
		}
		for _, want := range []string{
			`routeloop_http_requests_total{method="GET",route="/api/v1/invoices/:external_id",status="200"} 2`,
			`routeloop_http_requests_total{method="GET",route="/api/v1/invoices/:external_id",status="404"} 1`,
			`routeloop_http_requests_total{method="PUT",route="/api/v1/customers/:external_id",status="201"} 1`,
			`routeloop_http_request_duration_seconds_count{method="GET",route="/api/v1/invoices/:external_id"} 3`,
			`routeloop_reconcile_runs_total{result="ok"} 1`,
			`routeloop_outbox_pending `,
			`go_goroutines `,
		} {
			if !strings.Contains(text, want) {
				t.Errorf("the scrape lacks %s", want)
			}
		}
		if strings.Contains(text, "inv1") || strings.Contains(text, "no-such-invoice") || strings.Contains(text, "nowhere") {
			t.Error("a raw path became a label")
		}
	})
}

func TestMetricsTokenIsRequiredWhenSet(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		cfg := config.Defaults()
		cfg.MetricsToken = "scrape-me-4b1d"
		h := newHarnessWith(t, s, cfg)
		for _, auth := range []string{"", "Bearer wrong", "Bearer " + h.keys[tenant.RoleAdmin], "scrape-me-4b1d"} {
			if status, text := h.scrape(auth); status != 401 || strings.Contains(text, "routeloop_") {
				t.Errorf("Authorization %q: %d %.100s", auth, status, text)
			}
		}
		if status, text := h.scrape("Bearer scrape-me-4b1d"); status != 200 || !strings.Contains(text, "routeloop_outbox_pending") {
			t.Fatalf("with the token: %d %.200s", status, text)
		}
	})
}

func TestMetricsOffAnswer404(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		cfg := config.Defaults()
		cfg.Metrics = false
		h := newHarnessWith(t, s, cfg)
		if status, text := h.scrape(""); status != 404 || strings.Contains(text, "routeloop_") {
			t.Fatalf("metrics off: %d %.200s", status, text)
		}
	})
}
