package httpapi_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/routeloop/routeloop/internal/config"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

const lawnBase = "https://lawn.example.com"

func lawnHarness(t *testing.T, s *store.Store) *harness {
	cfg := config.Defaults()
	cfg.BaseURL = lawnBase + "/"
	return newHarnessWith(t, s, cfg)
}

// page fetches one of the customers' pages (no key).
func (h *harness) page(url string) *httptest.ResponseRecorder {
	h.t.Helper()
	return h.serve(httptest.NewRequest("GET", strings.TrimPrefix(url, lawnBase), nil), nil)
}

// eventsOf is the payloads of a tenant's events of one kind, oldest first.
func (h *harness) eventsOf(kind string) []map[string]any {
	h.t.Helper()
	var raw []string
	if err := h.store.DB.Raw(`SELECT payload FROM outbox_events WHERE tenant_id = ? AND kind = ? ORDER BY id`, h.greenway, kind).Scan(&raw).Error; err != nil {
		h.t.Fatal(err)
	}
	out := make([]map[string]any, len(raw))
	for i, r := range raw {
		if err := json.Unmarshal([]byte(r), &out[i]); err != nil {
			h.t.Fatal(err)
		}
	}
	return out
}

func isInvoiceURL(v any) bool {
	s, _ := v.(string)
	tok, ok := strings.CutPrefix(s, lawnBase+"/i/")
	return ok && len(tok) >= 22 && !strings.ContainsAny(tok, "/?#")
}

// The invoice answers and the invoice.* events carry the customer's link,
// absolute under base_url, so the scheduler can send it.
func TestInvoiceURLInAnswersAndEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := lawnHarness(t, s)
		h.must(201, "PUT", "/api/v1/crews/north", map[string]any{"name": "North", "depot_lat": 45.5, "depot_lon": -122.66})
		h.household("angie", "ben")
		h.link("angie", "ben")
		h.visitAndInvoice("angie", "2026-05-05", "draft")
		h.visitAndInvoice("ben", "2026-05-05", "draft")

		put := h.must(200, "PUT", "/api/v1/invoices/i-angie-2026-05-05", map[string]any{"customer_id": "angie",
			"lines": []any{map[string]any{"visit_id": "v-angie-2026-05-05", "description": "Weekly mow and edging", "amount_cents": 4500}}})
		got := h.do("GET", "/api/v1/invoices/i-angie-2026-05-05", h.keys[tenant.RoleDispatcher], nil)
		link := got.Body["invoice_url"]
		if got.Status != 200 || !isInvoiceURL(link) || put.Body["invoice_url"] != link {
			t.Fatalf("GET invoice_url %v, PUT answered %v", link, put.Body["invoice_url"])
		}
		list := h.do("GET", "/api/v1/invoices", h.keys[tenant.RoleIntegration], nil)
		invs, _ := list.Body["invoices"].([]any)
		if len(invs) != 2 {
			t.Fatalf("list: %s", list.Raw)
		}
		seen := map[any]bool{}
		for _, v := range invs {
			inv := v.(map[string]any)
			if !isInvoiceURL(inv["invoice_url"]) || seen[inv["invoice_url"]] {
				t.Fatalf("list invoice_url %v", inv["invoice_url"])
			}
			seen[inv["invoice_url"]] = true
		}
		if page := h.page(link.(string)); page.Code != 200 || !strings.Contains(page.Body.String(), "Weekly mow and edging") {
			t.Fatalf("the link's page: %d", page.Code)
		}
		discounted := h.eventsOf("invoice.discounted")
		if len(discounted) == 0 {
			t.Fatal("no invoice.discounted event")
		}
		for _, e := range discounted {
			want := seen[e["invoice_url"]]
			if e["invoice_id"] == "i-angie-2026-05-05" {
				want = e["invoice_url"] == link
			}
			if !want {
				t.Fatalf("invoice.discounted %v carries invoice_url %v", e["invoice_id"], e["invoice_url"])
			}
		}
	})
}

// Rotating an invoice's link: the old one shows the invoice's own "no
// longer valid" page at once, the new one opens the page; it works in every
// status, takes no body (or {}), is announced once, and is scoped to the
// tenant and to the roles that write invoices.
func TestRotatingAnInvoiceLink(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := lawnHarness(t, s)
		h.household("angie")
		integ := h.keys[tenant.RoleIntegration]
		for i, status := range []string{"draft", "issued", "paid", "void"} {
			path := "/api/v1/invoices/inv-" + status
			before := h.must(201, "PUT", path, map[string]any{"customer_id": "angie", "status": status,
				"lines": []any{map[string]any{"description": "Weekly mow", "amount_cents": 4500}}})
			if before.Body["status"] != status {
				t.Fatalf("put %s: %s", status, before.Raw)
			}
			old := before.Body["invoice_url"].(string)
			// No body and no Content-Type: accepted.
			r := h.send("POST", path+"/rotate-link", integ, "", "")
			_ = json.Unmarshal(r.Raw, &r.Body)
			fresh, _ := r.Body["invoice_url"].(string)
			if r.Status != 200 || !isInvoiceURL(fresh) || fresh == old || r.Body["status"] != status || r.Body["total_cents"] != before.Body["total_cents"] {
				t.Fatalf("rotate %s: %d %s", status, r.Status, r.Raw)
			}
			if got := h.do("GET", path, integ, nil); got.Body["invoice_url"] != fresh {
				t.Fatalf("GET after rotating %s: %v, want %v", status, got.Body["invoice_url"], fresh)
			}
			gone := h.page(old)
			if gone.Code != 404 || !strings.Contains(gone.Body.String(), "This invoice link is no longer valid") ||
				strings.Contains(gone.Body.String(), "invitation") || !strings.Contains(gone.Header().Get("X-Robots-Tag"), "noindex") {
				t.Fatalf("old link of %s: %d\n%s", status, gone.Code, gone.Body.String())
			}
			if page := h.page(fresh); page.Code != 200 || !strings.Contains(page.Body.String(), "Weekly mow") {
				t.Fatalf("new link of %s: %d", status, page.Code)
			}
			rotated := h.eventsOf("invoice.link_rotated")
			if len(rotated) != i+1 {
				t.Fatalf("after rotating %s: %d invoice.link_rotated events", status, len(rotated))
			}
			if e := rotated[i]; e["invoice_id"] != "inv-"+status || e["customer_id"] != "angie" || e["status"] != status || e["invoice_url"] != fresh {
				t.Fatalf("invoice.link_rotated: %v", e)
			}
		}

		path := "/api/v1/invoices/inv-draft/rotate-link"
		if r := h.do("POST", path, integ, "{}"); r.Status != 200 {
			t.Fatalf("rotate with {}: %d %s", r.Status, r.Raw)
		}
		was := h.do("GET", "/api/v1/invoices/inv-draft", integ, nil).Body["invoice_url"]
		events := len(h.eventsOf("invoice.link_rotated"))
		for _, c := range []struct {
			key, contentType, body string
			status                 int
			code                   string
		}{
			{integ, "application/json", `{"reason": "lost"}`, 422, "validation_failed"},
			{integ, "text/plain", `{}`, 415, "unsupported_media_type"},
			{h.keys[tenant.RoleCrew], "", "", 403, "forbidden"},
			{h.keys[tenant.RoleDispatcher], "", "", 403, "forbidden"},
			{h.rivalKey, "", "", 404, "not_found"},
		} {
			r := h.send("POST", path, c.key, c.contentType, c.body)
			var body struct {
				Error struct{ Code string } `json:"error"`
			}
			_ = json.Unmarshal(r.Raw, &body)
			if r.Status != c.status || body.Error.Code != c.code {
				t.Errorf("%s %q: %d %s, want %d %s", c.contentType, c.body, r.Status, r.Raw, c.status, c.code)
			}
		}
		if now := h.do("GET", "/api/v1/invoices/inv-draft", integ, nil).Body["invoice_url"]; now != was || len(h.eventsOf("invoice.link_rotated")) != events {
			t.Fatalf("a refused rotation changed the link (%v → %v) or was announced", was, now)
		}
		if r := h.send("POST", "/api/v1/invoices/nobody/rotate-link", integ, "", ""); r.Status != 404 || r.decoded(t).errorCode() != "not_found" {
			t.Fatalf("unknown invoice: %d %s", r.Status, r.Raw)
		}
	})
}
