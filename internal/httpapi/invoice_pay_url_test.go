package httpapi_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// The scheduler sends its payment page with the invoice: a bad one is a 422
// naming pay_url that changes nothing; a good one is stored, answered by
// GET and the list, and may be sent on an issued invoice without touching
// its lines, totals or state.
func TestInvoicePayURL(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := lawnHarness(t, s)
		h.must(201, "PUT", "/api/v1/crews/north", map[string]any{"name": "North", "depot_lat": 45.5, "depot_lon": -122.66})
		h.household("angie", "ben")
		h.link("angie", "ben")
		h.visitAndInvoice("ben", "2026-05-05", "")
		h.visitAndInvoice("angie", "2026-05-05", "draft")
		path := "/api/v1/invoices/i-angie-2026-05-05"
		integ := h.keys[tenant.RoleIntegration]
		body := func(status string, payURL any) map[string]any {
			b := map[string]any{"customer_id": "angie", "status": status,
				"lines": []any{map[string]any{"visit_id": "v-angie-2026-05-05", "description": "Weekly mow", "amount_cents": 4500}}}
			if payURL != nil {
				b["pay_url"] = payURL
			}
			return b
		}
		issued := h.do("PUT", path, integ, body("issued", nil))
		if issued.Status != 200 || issued.Body["pay_url"] != "" || issued.Body["discount_cents"] != float64(450) {
			t.Fatalf("issue: %d %s", issued.Status, issued.Raw)
		}
		before := h.do("GET", path, integ, nil)
		events := len(h.eventsOf("invoice.discounted"))

		for _, bad := range []any{"javascript:alert(document.cookie)", "data:text/html,<b>pay</b>", "/pay/i-angie", "pay.example.com/i-angie",
			"https://angie:pw@pay.example.com/i", "https://pay.example.com/" + strings.Repeat("a", 2000), 42} {
			r := h.do("PUT", path, integ, body("issued", bad))
			if r.Status != 422 || r.errorCode() != "validation_failed" || r.field("pay_url") == "" {
				t.Errorf("pay_url %.40v: %d %s, want 422 naming pay_url", bad, r.Status, r.Raw)
			}
		}
		if after := h.do("GET", path, integ, nil); !bytes.Equal(after.Raw, before.Raw) {
			t.Fatalf("a refused pay_url changed the invoice:\nbefore %s\nafter  %s", before.Raw, after.Raw)
		}

		pay := "https://pay.example.com/greenway/i-angie-2026-05-05?t=q3N8"
		put := h.do("PUT", path, integ, body("issued", pay))
		got := h.do("GET", path, h.keys[tenant.RoleDispatcher], nil)
		if put.Status != 200 || put.Body["pay_url"] != pay || got.Body["pay_url"] != pay {
			t.Fatalf("pay_url on the issued invoice: PUT %d %s, GET %v", put.Status, put.Raw, got.Body["pay_url"])
		}
		for _, k := range []string{"status", "issued_at", "subtotal_cents", "discount_cents", "total_cents", "lines", "invoice_url"} {
			a, _ := json.Marshal(before.Body[k])
			b, _ := json.Marshal(got.Body[k])
			if !bytes.Equal(a, b) {
				t.Errorf("%s changed with the pay_url: %s → %s", k, a, b)
			}
		}
		if n := len(h.eventsOf("invoice.discounted")); n != events {
			t.Errorf("%d invoice.discounted events after the pay_url, want %d", n, events)
		}
		list := h.do("GET", "/api/v1/invoices?customer_id=angie", integ, nil)
		if invs, _ := list.Body["invoices"].([]any); len(invs) != 1 || invs[0].(map[string]any)["pay_url"] != pay {
			t.Fatalf("list: %s", list.Raw)
		}
		// Left out, it stays; "" removes it.
		if r := h.do("PUT", path, integ, body("paid", nil)); r.Status != 200 || r.Body["pay_url"] != pay || r.Body["status"] != "paid" {
			t.Fatalf("paid without pay_url: %d %s", r.Status, r.Raw)
		}
		if r := h.do("PUT", path, integ, body("paid", "")); r.Status != 200 || r.Body["pay_url"] != "" {
			t.Fatalf("pay_url \"\": %d %s", r.Status, r.Raw)
		}
	})
}
