package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/app"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/config"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/tenant"
)

// harness is a routeloop over a test database with two tenants: Greenway
// (ours, Los Angeles) and Rival (another company, Berlin), and a key of each
// role for Greenway.
type harness struct {
	t     *testing.T
	app   *app.App
	store *store.Store
	clock *clock.Fixed
	// keys of tenant Greenway by role, and Rival's admin key.
	keys     map[string]string
	rivalKey string
	greenway string
	rival    string
}

func newHarness(t *testing.T, s *store.Store) *harness {
	t.Helper()
	return newHarnessWith(t, s, config.Defaults())
}

// newHarnessWith is newHarness with other settings.
func newHarnessWith(t *testing.T, s *store.Store, cfg config.Config) *harness {
	t.Helper()
	c := clock.NewFixed(time.Date(2026, 5, 1, 16, 0, 0, 0, time.UTC))
	a := app.Wire(cfg, s, c, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelError})))
	h := &harness{t: t, app: a, store: s, clock: c, keys: map[string]string{}}
	ctx := context.Background()
	g, adminKey, err := a.Tenants.Create(ctx, tenant.NewTenant{Name: "Greenway", Timezone: "America/Los_Angeles", Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	h.greenway = g.ID
	h.keys[tenant.RoleAdmin] = adminKey
	for _, role := range []string{tenant.RoleDispatcher, tenant.RoleCrew, tenant.RoleIntegration} {
		k, _, err := a.Tenants.IssueKey(ctx, g.ID, role, "test")
		if err != nil {
			t.Fatal(err)
		}
		h.keys[role] = k
	}
	r, rivalKey, err := a.Tenants.Create(ctx, tenant.NewTenant{Name: "Rival", Timezone: "Europe/Berlin", Currency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	h.rival, h.rivalKey = r.ID, rivalKey
	return h
}

// response is a decoded answer.
type response struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

// errorCode returns error.code of an error answer.
func (r response) errorCode() string {
	e, _ := r.Body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

// field returns error.fields[name].
func (r response) field(name string) string {
	e, _ := r.Body["error"].(map[string]any)
	f, _ := e["fields"].(map[string]any)
	s, _ := f[name].(string)
	return s
}

// do sends a request with the given key ("" for none); body may be a string
// (sent as is) or a value (sent as JSON).
func (h *harness) do(method, path, key string, body any) response {
	h.t.Helper()
	return h.exchange(method, path, key, body, true)
}

// doRefused is do for a body that openapi.json refuses on purpose but the
// server answers 2xx (a batch reporting its bad objects one by one): only
// the answer is checked against the document.
func (h *harness) doRefused(method, path, key string, body any) response {
	h.t.Helper()
	return h.exchange(method, path, key, body, false)
}

func (h *harness) exchange(method, path, key string, body any, checkRequest bool) response {
	h.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			h.t.Fatal(err)
		}
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	rec := h.serveChecking(req, raw, checkRequest)
	out := response{Status: rec.Code, Header: rec.Header(), Raw: rec.Body.Bytes()}
	if len(out.Raw) > 0 {
		if err := json.Unmarshal(out.Raw, &out.Body); err != nil {
			h.t.Fatalf("%s %s answered non-JSON (%d): %s", method, path, rec.Code, out.Raw)
		}
	}
	return out
}

// must sends a request as admin of Greenway and fails unless the status is
// want (-1: 200 or 201).
func (h *harness) must(want int, method, path string, body any) response {
	h.t.Helper()
	r := h.do(method, path, h.keys[tenant.RoleAdmin], body)
	return h.expect(r, want, method, path)
}

// mustRefused is must for a body openapi.json refuses on purpose (see doRefused).
func (h *harness) mustRefused(want int, method, path string, body any) response {
	h.t.Helper()
	r := h.doRefused(method, path, h.keys[tenant.RoleAdmin], body)
	return h.expect(r, want, method, path)
}

// expect fails unless r's status is want (-1: 200 or 201).
func (h *harness) expect(r response, want int, method, path string) response {
	h.t.Helper()
	if want == -1 && (r.Status == 200 || r.Status == 201) { // either created or updated
		return r
	}
	if r.Status != want {
		h.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Raw)
	}
	return r
}

// seed gives a tenant (by admin key) one customer, crew, visit and invoice.
func (h *harness) seed(key, suffix string) {
	h.t.Helper()
	steps := []struct {
		path string
		body any
	}{
		{"/api/v1/customers/angie" + suffix, map[string]any{"name": "Angie Baker", "address": "14 Maple St", "lat": 45.4655, "lon": -122.6501, "consent_same_day": true}},
		{"/api/v1/crews/north" + suffix, map[string]any{"name": "North crew", "depot_lat": 45.55, "depot_lon": -122.66, "members": []any{map[string]any{"external_id": "sam" + suffix, "name": "Sam"}}}},
		{"/api/v1/visits/v1" + suffix, map[string]any{"customer_id": "angie" + suffix, "crew_id": "north" + suffix, "service_date": "2026-05-05", "price_cents": 4500}},
		{"/api/v1/invoices/inv1" + suffix, map[string]any{"customer_id": "angie" + suffix, "lines": []any{map[string]any{"visit_id": "v1" + suffix, "description": "Mowing", "amount_cents": 4500}}}},
	}
	for _, s := range steps {
		if r := h.do(http.MethodPut, s.path, key, s.body); r.Status != http.StatusCreated && r.Status != http.StatusOK {
			h.t.Fatalf("seed %s: %d %s", s.path, r.Status, r.Raw)
		}
	}
}

// testWriter sends server error logs to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
