package httpapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

func TestCustomerGetsAStableReferralCode(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		first := h.must(201, "PUT", "/api/v1/customers/angie", map[string]any{"name": "Angie Baker", "address": "14 Maple St"})
		if first.Header.Get("Routeloop-Upsert") != "created" {
			t.Errorf("header %q", first.Header.Get("Routeloop-Upsert"))
		}
		code, _ := first.Body["referral_code"].(string)
		if len(code) != 9 || strings.ContainsAny(code, "01OI") {
			t.Fatalf("referral code %q is not human-friendly", code)
		}
		if url, _ := first.Body["referral_url"].(string); !strings.HasSuffix(url, "/r/"+code) {
			t.Fatalf("referral url %q", url)
		}
		h.clock.Advance(time.Hour)
		second := h.must(200, "PUT", "/api/v1/customers/angie", map[string]any{"name": "Angie Baker-Lee", "address": "14 Maple St"})
		if second.Body["referral_code"] != code || second.Body["name"] != "Angie Baker-Lee" {
			t.Fatalf("update changed the code or lost the name: %s", second.Raw)
		}
		if second.Body["created_at"] != first.Body["created_at"] || second.Body["updated_at"] == first.Body["updated_at"] {
			t.Fatalf("timestamps: %s", second.Raw)
		}
	})
}

func TestListsPageThroughEverythingOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.must(201, "PUT", "/api/v1/crews/north", map[string]any{"name": "North", "depot_lat": 45.55, "depot_lon": -122.66})
		h.must(201, "PUT", "/api/v1/crews/south", map[string]any{"name": "South", "depot_lat": 45.45, "depot_lon": -122.66})
		for i := 1; i <= 7; i++ {
			h.must(201, "PUT", fmt.Sprintf("/api/v1/customers/c%d", i), map[string]any{"name": fmt.Sprintf("Customer %d", i)})
			crew := "north"
			if i%2 == 0 {
				crew = "south"
			}
			h.must(201, "PUT", fmt.Sprintf("/api/v1/visits/v%d", i), map[string]any{
				"customer_id": fmt.Sprintf("c%d", i), "crew_id": crew, "service_date": fmt.Sprintf("2026-05-%02d", i), "price_cents": 4500})
		}
		seen := map[string]bool{}
		cursor, pages := "", 0
		for {
			r := h.must(200, "GET", "/api/v1/customers?limit=3&cursor="+cursor, nil)
			for _, c := range r.Body["customers"].([]any) {
				id := c.(map[string]any)["external_id"].(string)
				if seen[id] {
					t.Fatalf("%s listed twice", id)
				}
				seen[id] = true
			}
			pages++
			cursor, _ = r.Body["next_cursor"].(string)
			if cursor == "" || pages > 10 {
				break
			}
		}
		if len(seen) != 7 || pages != 3 {
			t.Fatalf("saw %d customers in %d pages", len(seen), pages)
		}
		r := h.must(200, "GET", "/api/v1/visits?from=2026-05-02&to=2026-05-05&crew_id=south", nil)
		var got []string
		for _, v := range r.Body["visits"].([]any) {
			got = append(got, v.(map[string]any)["external_id"].(string))
		}
		if strings.Join(got, ",") != "v2,v4" {
			t.Fatalf("south crew 2–5 May: %v", got)
		}
		r = h.must(200, "GET", "/api/v1/visits?customer_id=c3&status=scheduled", nil)
		if n := len(r.Body["visits"].([]any)); n != 1 {
			t.Fatalf("visits of c3: %d", n)
		}
		h.clock.Advance(time.Hour)
		h.must(200, "PUT", "/api/v1/customers/c5", map[string]any{"name": "Customer five"})
		since := h.clock.Now().Add(-time.Minute).Format(time.RFC3339)
		r = h.must(200, "GET", "/api/v1/customers?updated_since="+since, nil)
		if list := r.Body["customers"].([]any); len(list) != 1 || list[0].(map[string]any)["external_id"] != "c5" {
			t.Fatalf("updated since: %s", r.Raw)
		}
	})
}

func TestInvoiceLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.seed(h.keys[tenant.RoleAdmin], "")
		h.must(201, "PUT", "/api/v1/customers/ben", map[string]any{"name": "Ben"})
		h.must(201, "PUT", "/api/v1/visits/ben1", map[string]any{"customer_id": "ben", "service_date": "2026-05-05", "price_cents": 3000})
		lines := []any{
			map[string]any{"visit_id": "v1", "description": "Mowing", "amount_cents": 4500},
			map[string]any{"description": "Hedge trim", "amount_cents": 2550},
		}
		draft := h.must(200, "PUT", "/api/v1/invoices/inv1", map[string]any{"customer_id": "angie", "lines": lines})
		if draft.Body["subtotal_cents"] != 7050.0 || draft.Body["total_cents"] != 7050.0 || draft.Body["discount_cents"] != 0.0 {
			t.Fatalf("totals: %s", draft.Raw)
		}
		if draft.Body["currency"] != "USD" || draft.Body["status"] != "draft" || draft.Body["issued_at"] != nil {
			t.Fatalf("draft: %s", draft.Raw)
		}
		r := h.do("PUT", "/api/v1/invoices/inv1", h.keys[tenant.RoleAdmin], map[string]any{"customer_id": "angie",
			"lines": []any{map[string]any{"visit_id": "ben1", "description": "Mowing", "amount_cents": 3000}}})
		if r.Status != 422 || !strings.Contains(r.field("lines[0].visit_id"), "another customer") {
			t.Fatalf("a neighbour's visit on Angie's invoice: %d %s", r.Status, r.Raw)
		}
		issued := h.must(200, "PUT", "/api/v1/invoices/inv1", map[string]any{"customer_id": "angie", "status": "issued", "lines": lines})
		if issued.Body["issued_at"] == nil {
			t.Fatalf("issued_at not set: %s", issued.Raw)
		}
		changed := []any{map[string]any{"visit_id": "v1", "description": "Mowing", "amount_cents": 4000}}
		for name, body := range map[string]any{
			"changed lines":    map[string]any{"customer_id": "angie", "status": "issued", "lines": changed},
			"back to draft":    map[string]any{"customer_id": "angie", "status": "draft", "lines": lines},
			"another customer": map[string]any{"customer_id": "ben", "status": "issued", "lines": []any{}},
		} {
			if r := h.do("PUT", "/api/v1/invoices/inv1", h.keys[tenant.RoleAdmin], body); r.Status != 409 || r.errorCode() != "conflict" {
				t.Errorf("%s on an issued invoice: %d %s", name, r.Status, r.Raw)
			}
		}
		h.must(200, "PUT", "/api/v1/invoices/inv1", map[string]any{"customer_id": "angie", "status": "issued", "lines": lines}) // replay
		paid := h.must(200, "PUT", "/api/v1/invoices/inv1", map[string]any{"customer_id": "angie", "status": "paid", "lines": lines})
		if paid.Body["status"] != "paid" || paid.Body["issued_at"] != issued.Body["issued_at"] || paid.Body["total_cents"] != 7050.0 {
			t.Fatalf("paid: %s", paid.Raw)
		}
		if r := h.do("PUT", "/api/v1/invoices/inv1", h.keys[tenant.RoleAdmin], map[string]any{"customer_id": "angie", "status": "void", "lines": lines}); r.Status != 409 {
			t.Fatalf("paid → void: %d", r.Status)
		}
		got := h.must(200, "GET", "/api/v1/invoices/inv1", nil)
		ls := got.Body["lines"].([]any)
		if len(ls) != 2 || ls[0].(map[string]any)["kind"] != "service" || ls[0].(map[string]any)["visit_id"] != "v1" {
			t.Fatalf("lines: %s", got.Raw)
		}
		if _, has := ls[1].(map[string]any)["visit_id"]; has {
			t.Fatalf("a line without a visit shows visit_id: %s", got.Raw)
		}
		list := h.must(200, "GET", "/api/v1/invoices?status=paid&customer_id=angie", nil)
		if n := len(list.Body["invoices"].([]any)); n != 1 {
			t.Fatalf("paid invoices of angie: %d", n)
		}
	})
}

func TestHealthReadinessAndPanics(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	h := newHarness(t, s)
	if r := h.do("GET", "/healthz", "", nil); r.Status != 200 || r.Body["status"] != "ok" {
		t.Fatalf("healthz: %d %s", r.Status, r.Raw)
	}
	if r := h.do("GET", "/readyz", "", nil); r.Status != 200 || r.Body["status"] != "ready" {
		t.Fatalf("readyz: %d %s", r.Status, r.Raw)
	}
	// A panic is a logged 500: JSON on the API, a page elsewhere.
	// The panicking route is the test's own, not in openapi.json, so it is
	// served past the harness's contract check.
	h.app.HTTP.GET("/api/v1/test-panic", func(c echo.Context) error { panic("boom") })
	rec := httptest.NewRecorder()
	h.app.HTTP.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/test-panic", nil))
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), `"code":"internal"`) || strings.Contains(rec.Body.String(), "boom") {
		t.Fatalf("panic answered %d %s", rec.Code, rec.Body.String())
	}
	h.app.HTTP.GET("/test-panic", func(c echo.Context) error { panic("boom") })
	rec = httptest.NewRecorder()
	h.app.HTTP.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/test-panic", nil))
	if rec.Code != 500 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") || !strings.Contains(rec.Body.String(), "Something went wrong") ||
		strings.Contains(rec.Body.String(), "boom") {
		t.Fatalf("panic on a page answered %d %s", rec.Code, rec.Body.String())
	}
	s.Close()
	if r := h.do("GET", "/readyz", "", nil); r.Status != 503 || r.Body["status"] != "not_ready" {
		t.Fatalf("readyz with the database closed: %d %s", r.Status, r.Raw)
	}
}
