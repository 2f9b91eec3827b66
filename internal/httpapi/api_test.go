package httpapi_test

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// Every route, with what another tenant's key sees when it names Greenway's
// objects. A route added without a case here fails the test: isolation is
// proven route by route.
func TestAnotherTenantSeesNothingThroughAnyRoute(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.seed(h.keys[tenant.RoleAdmin], "")
		h.must(201, "PUT", "/api/v1/customers/ben", map[string]any{"name": "Ben", "address": "22 Maple St", "lat": 45.4662, "lon": -122.6499, "consent_same_day": true})
		link := h.must(201, "POST", "/api/v1/neighbor-links", map[string]any{"customer_a": "angie", "customer_b": "ben"})
		linkPath := fmt.Sprintf("/api/v1/neighbor-links/%.0f", link.Body["id"].(float64))
		h.must(200, "PUT", "/api/v1/program", map[string]any{"neighbor_radius_m": 800, "sync_discount_bps": 1000, "max_discount_bps": 2000})
		hook := h.must(201, "POST", "/api/v1/webhook-endpoints", map[string]any{"url": "https://hooks.greenway.example/routeloop"})
		hookPath := fmt.Sprintf("/api/v1/webhook-endpoints/%.0f", hook.Body["id"].(float64))
		h.must(201, "POST", "/api/v1/linked-visits", map[string]any{"customer_id": "angie", "date": "2026-05-12", "crew_id": "north"})
		ref := h.must(201, "POST", "/api/v1/referrals", map[string]any{"channel": "card", "referrer_id": "angie",
			"referee": map[string]any{"name": "Dot", "phone": "503 555 0123"}})
		refPath := fmt.Sprintf("/api/v1/referrals/%.0f", ref.Body["id"].(float64))
		angieCode := h.must(200, "GET", "/api/v1/customers/angie", nil).Body["referral_code"].(string)
		rival := h.rivalKey
		unchanged := func(t *testing.T) {
			if r := h.must(200, "GET", refPath, nil); r.Body["status"] != "pending" || r.Body["referrer_id"] != "angie" {
				t.Fatalf("Rival changed Greenway's referral: %s", r.Raw)
			}
		}
		var deliveryID int64
		s.DB.Raw(`SELECT id FROM webhook_deliveries LIMIT 1`).Scan(&deliveryID)
		cases := map[string]func(t *testing.T){
			"POST /api/v1/webhook-endpoints": func(t *testing.T) {
				if r := h.do("POST", "/api/v1/webhook-endpoints", rival, map[string]any{"url": "https://hooks.rival.example/x"}); r.Status != 201 {
					t.Fatalf("Rival's own endpoint: %d %s", r.Status, r.Raw)
				}
				if n := len(h.must(200, "GET", "/api/v1/webhook-endpoints", nil).Body["webhook_endpoints"].([]any)); n != 1 {
					t.Fatalf("Greenway sees %d endpoints", n)
				}
			},
			"GET /api/v1/webhook-endpoints": func(t *testing.T) {
				expectEmptyList(t, h.do("GET", "/api/v1/webhook-endpoints", rival, nil), "webhook_endpoints")
			},
			"DELETE /api/v1/webhook-endpoints/:id": func(t *testing.T) {
				expectNotFound(t, h.do("DELETE", hookPath, rival, nil))
				if n := len(h.must(200, "GET", "/api/v1/webhook-endpoints", nil).Body["webhook_endpoints"].([]any)); n != 1 {
					t.Fatal("Rival deleted Greenway's endpoint")
				}
			},
			"POST /api/v1/webhook-endpoints/:id/enable": func(t *testing.T) {
				expectNotFound(t, h.do("POST", hookPath+"/enable", rival, nil))
			},
			"GET /api/v1/webhook-deliveries": func(t *testing.T) {
				if deliveryID == 0 {
					t.Fatal("no Greenway delivery to hide")
				}
				expectEmptyList(t, h.do("GET", "/api/v1/webhook-deliveries", rival, nil), "webhook_deliveries")
			},
			"POST /api/v1/webhook-deliveries/:id/redeliver": func(t *testing.T) {
				expectNotFound(t, h.do("POST", fmt.Sprintf("/api/v1/webhook-deliveries/%d/redeliver", deliveryID), rival, nil))
			},
			"GET /api/v1/customers/:external_id/suggestions": func(t *testing.T) {
				expectNotFound(t, h.do("GET", "/api/v1/customers/angie/suggestions", rival, nil))
			},
			"GET /api/v1/referrals/:id/suggestions": func(t *testing.T) {
				expectNotFound(t, h.do("GET", refPath+"/suggestions", rival, nil))
			},
			"POST /api/v1/linked-visits": func(t *testing.T) {
				r := h.do("POST", "/api/v1/linked-visits", rival, map[string]any{"customer_id": "ben", "date": "2026-05-06", "crew_id": "north"})
				if r.Status != 422 {
					t.Fatalf("Rival booked Greenway's customer: %d %s", r.Status, r.Raw)
				}
			},
			"GET /api/v1/crews/:external_id/route": func(t *testing.T) {
				expectNotFound(t, h.do("GET", "/api/v1/crews/north/route?date=2026-05-05", rival, nil))
			},
			"POST /api/v1/crews/:external_id/route/optimize": func(t *testing.T) {
				r := h.do("POST", "/api/v1/crews/north/route/optimize?date=2026-05-05", rival, nil)
				if r.Status == 200 && len(r.Body["order"].([]any)) != 0 || r.Status != 200 && r.Status != 404 {
					t.Fatalf("Rival saw Greenway's route: %d %s", r.Status, r.Raw)
				}
			},
			"POST /api/v1/routes/optimize": func(t *testing.T) {
				// Stateless: it reads no tenant's data, only the caller's program.
				r := h.do("POST", "/api/v1/routes/optimize", rival, map[string]any{"depot": map[string]any{"lat": 52.5, "lon": 13.4},
					"stops": []any{map[string]any{"id": "a", "lat": 52.51, "lon": 13.41}}})
				if r.Status != 200 {
					t.Fatalf("%d %s", r.Status, r.Raw)
				}
			},
			"GET /api/v1/insights/kpis": func(t *testing.T) {
				r := h.do("GET", "/api/v1/insights/kpis?from=2026-04-01&to=2026-05-31", rival, nil)
				tot, _ := r.Body["total"].(map[string]any)
				if r.Status != 200 || tot["referrals"] != 0.0 || tot["new_customers"] != 0.0 || tot["invoiced_visits"] != 0.0 {
					t.Fatalf("Rival's KPIs include Greenway's: %d %s", r.Status, r.Raw)
				}
			},
			"GET /api/v1/insights/ab": func(t *testing.T) {
				r := h.do("GET", "/api/v1/insights/ab?kind=offer&from=2026-04-01&to=2026-05-31", rival, nil)
				if r.Status != 200 || r.Body["verdict"] != "no data yet" {
					t.Fatalf("Rival's A/B includes Greenway's: %d %s", r.Status, r.Raw)
				}
			},
			"GET /api/v1/insights/word-of-mouth": func(t *testing.T) {
				r := h.do("GET", "/api/v1/insights/word-of-mouth?from=2026-04-01&to=2026-05-31", rival, nil)
				if r.Status != 200 || r.Body["customers"] != 0.0 {
					t.Fatalf("Rival's word of mouth counts Greenway's customers: %d %s", r.Status, r.Raw)
				}
			},
			"GET /api/v1/insights/route-savings": func(t *testing.T) {
				r := h.do("GET", "/api/v1/insights/route-savings?from=2026-05-01&to=2026-05-31", rival, nil)
				if r.Status != 200 || r.Body["visits"] != 0.0 {
					t.Fatalf("Rival's savings include Greenway's: %d %s", r.Status, r.Raw)
				}
			},
			"POST /api/v1/referrals": func(t *testing.T) {
				r := h.do("POST", "/api/v1/referrals", rival, map[string]any{"channel": "code", "referrer_code": angieCode,
					"referee": map[string]any{"name": "X", "phone": "503 555 0124"}})
				expectNotFound(t, r)
			},
			"GET /api/v1/referrals":     func(t *testing.T) { expectEmptyList(t, h.do("GET", "/api/v1/referrals", rival, nil), "referrals") },
			"GET /api/v1/referrals/:id": func(t *testing.T) { expectNotFound(t, h.do("GET", refPath, rival, nil)) },
			"GET /api/v1/referrals/:id/decisions": func(t *testing.T) {
				expectNotFound(t, h.do("GET", refPath+"/decisions", rival, nil))
			},
			"POST /api/v1/referrals/:id/approve": func(t *testing.T) {
				expectNotFound(t, h.do("POST", refPath+"/approve", rival, map[string]any{}))
				unchanged(t)
			},
			"POST /api/v1/referrals/:id/reject": func(t *testing.T) {
				expectNotFound(t, h.do("POST", refPath+"/reject", rival, map[string]any{"reason": "x"}))
				unchanged(t)
			},
			"POST /api/v1/referrals/:id/attribute": func(t *testing.T) {
				expectNotFound(t, h.do("POST", refPath+"/attribute", rival, map[string]any{"referrer_id": "angie"}))
				unchanged(t)
			},
			"PUT /api/v1/referrals/:id/location": func(t *testing.T) {
				expectNotFound(t, h.do("PUT", refPath+"/location", rival, map[string]any{"lat": 52.5, "lon": 13.4}))
				if r := h.must(200, "GET", refPath, nil); r.Body["referee"].(map[string]any)["lat"] != nil {
					t.Fatalf("Rival placed Greenway's friend: %s", r.Raw)
				}
			},
			"GET /api/v1/rewards": func(t *testing.T) {
				expectNotFound(t, h.do("GET", "/api/v1/rewards?customer_id=ben", rival, nil))
			},
			"GET /api/v1/customers/:external_id/referral-status": func(t *testing.T) {
				expectNotFound(t, h.do("GET", "/api/v1/customers/ben/referral-status", rival, nil))
			},
			"GET /api/v1/customers/:external_id/referral-links": func(t *testing.T) {
				expectNotFound(t, h.do("GET", "/api/v1/customers/ben/referral-links", rival, nil))
			},
			"GET /api/v1/customers/:external_id/nearby": func(t *testing.T) {
				expectNotFound(t, h.do("GET", "/api/v1/customers/angie/nearby", rival, nil))
			},
			"GET /api/v1/customers/:external_id/ledger": func(t *testing.T) {
				expectNotFound(t, h.do("GET", "/api/v1/customers/angie/ledger", rival, nil))
			},
			"GET /api/v1/customers/:external_id/sync-history": func(t *testing.T) {
				expectNotFound(t, h.do("GET", "/api/v1/customers/angie/sync-history", rival, nil))
			},
			"GET /api/v1/neighbor-links": func(t *testing.T) {
				expectEmptyList(t, h.do("GET", "/api/v1/neighbor-links", rival, nil), "neighbor_links")
			},
			"GET /api/v1/neighbor-links/:id": func(t *testing.T) { expectNotFound(t, h.do("GET", linkPath, rival, nil)) },
			"DELETE /api/v1/neighbor-links/:id": func(t *testing.T) {
				expectNotFound(t, h.do("DELETE", linkPath, rival, nil))
				if l := h.must(200, "GET", linkPath, nil); l.Body["ends_on"] != nil {
					t.Fatalf("Rival ended Greenway's link: %s", l.Raw)
				}
			},
			"POST /api/v1/neighbor-links": func(t *testing.T) {
				r := h.do("POST", "/api/v1/neighbor-links", rival, map[string]any{"customer_a": "angie", "customer_b": "ben"})
				if r.Status != 422 || (r.field("customer_a") == "" && r.field("customer_b") == "") {
					t.Fatalf("status %d: %s", r.Status, r.Raw)
				}
			},
			"GET /api/v1/sync-adjustments": func(t *testing.T) {
				expectEmptyList(t, h.do("GET", "/api/v1/sync-adjustments", rival, nil), "sync_adjustments")
			},
			"GET /api/v1/program": func(t *testing.T) {
				if r := h.do("GET", "/api/v1/program", rival, nil); r.Status != 200 || r.Body["neighbor_radius_m"] != 500.0 {
					t.Fatalf("Rival's program: %d %s", r.Status, r.Raw)
				}
			},
			"PUT /api/v1/program": func(t *testing.T) {
				h.do("PUT", "/api/v1/program", rival, map[string]any{"neighbor_radius_m": 100, "sync_discount_bps": 500, "max_discount_bps": 1000})
				if r := h.must(200, "GET", "/api/v1/program", nil); r.Body["neighbor_radius_m"] != 800.0 {
					t.Fatalf("Greenway's program changed: %s", r.Raw)
				}
			},
			"POST /api/v1/reconcile": func(t *testing.T) {
				r := h.do("POST", "/api/v1/reconcile", rival, map[string]any{"date": "2026-05-05"})
				if r.Status != 200 || r.Body["visits"] != 0.0 || r.Body["invoices"] != 0.0 {
					t.Fatalf("Rival's reconcile saw Greenway's day: %d %s", r.Status, r.Raw)
				}
			},
			"GET /api/v1/customers/:external_id": func(t *testing.T) {
				expectNotFound(t, h.do("GET", "/api/v1/customers/angie", rival, nil))
			},
			"GET /api/v1/crews/:external_id": func(t *testing.T) {
				expectNotFound(t, h.do("GET", "/api/v1/crews/north", rival, nil))
			},
			"GET /api/v1/visits/:external_id": func(t *testing.T) {
				expectNotFound(t, h.do("GET", "/api/v1/visits/v1", rival, nil))
			},
			"GET /api/v1/invoices/:external_id": func(t *testing.T) {
				expectNotFound(t, h.do("GET", "/api/v1/invoices/inv1", rival, nil))
			},
			"POST /api/v1/invoices/:external_id/rotate-link": func(t *testing.T) {
				before := h.must(200, "GET", "/api/v1/invoices/inv1", nil).Body["invoice_url"]
				expectNotFound(t, h.do("POST", "/api/v1/invoices/inv1/rotate-link", rival, nil))
				if after := h.must(200, "GET", "/api/v1/invoices/inv1", nil).Body["invoice_url"]; after != before || before == nil {
					t.Fatalf("Rival's rotation changed Greenway's invoice link: %v → %v", before, after)
				}
			},
			"GET /api/v1/customers": func(t *testing.T) { expectEmptyList(t, h.do("GET", "/api/v1/customers", rival, nil), "customers") },
			"GET /api/v1/crews":     func(t *testing.T) { expectEmptyList(t, h.do("GET", "/api/v1/crews", rival, nil), "crews") },
			"GET /api/v1/visits": func(t *testing.T) {
				expectEmptyList(t, h.do("GET", "/api/v1/visits?customer_id=angie", rival, nil), "visits")
			},
			"GET /api/v1/invoices": func(t *testing.T) {
				expectEmptyList(t, h.do("GET", "/api/v1/invoices?customer_id=angie", rival, nil), "invoices")
			},
			"PUT /api/v1/customers/:external_id": func(t *testing.T) {
				// Rival's PUT of the same id makes Rival's own customer; Greenway's is untouched.
				r := h.do("PUT", "/api/v1/customers/angie", rival, map[string]any{"name": "Someone Else"})
				if r.Status != http.StatusCreated {
					t.Fatalf("status %d: %s", r.Status, r.Raw)
				}
				mine := h.must(200, "GET", "/api/v1/customers/angie", nil)
				if mine.Body["name"] != "Angie Baker" || mine.Body["referral_code"] == r.Body["referral_code"] {
					t.Fatalf("Greenway's customer changed or shares a code: %s", mine.Raw)
				}
			},
			"PUT /api/v1/crews/:external_id": func(t *testing.T) {
				r := h.do("PUT", "/api/v1/crews/north", rival, map[string]any{"name": "Rival crew", "depot_lat": 52.5, "depot_lon": 13.4,
					"members": []any{map[string]any{"external_id": "sam", "name": "Other Sam"}}})
				if r.Status != http.StatusCreated {
					t.Fatalf("status %d: %s", r.Status, r.Raw)
				}
				mine := h.must(200, "GET", "/api/v1/crews/north", nil)
				members := list(mine.Body, "members")
				if sam := itemWith(members, "external_id", "sam"); mine.Body["name"] != "North crew" || len(members) != 1 || sam["name"] != "Sam" {
					t.Fatalf("Greenway's crew changed: %s", mine.Raw)
				}
			},
			"PUT /api/v1/visits/:external_id": func(t *testing.T) {
				// Naming Greenway's customer and crew does not reach them.
				r := h.do("PUT", "/api/v1/visits/v9", rival, map[string]any{"customer_id": "angie-b", "crew_id": "north-b", "service_date": "2026-05-05"})
				if r.Status != http.StatusUnprocessableEntity || r.field("customer_id") == "" || r.field("crew_id") == "" {
					t.Fatalf("status %d: %s", r.Status, r.Raw)
				}
			},
			"PUT /api/v1/invoices/:external_id": func(t *testing.T) {
				h.do("PUT", "/api/v1/customers/bob", rival, map[string]any{"name": "Bob"})
				r := h.do("PUT", "/api/v1/invoices/inv9", rival, map[string]any{"customer_id": "bob",
					"lines": []any{map[string]any{"visit_id": "v1", "description": "x", "amount_cents": 1}}})
				if r.Status != http.StatusUnprocessableEntity || r.field("lines[0].visit_id") == "" {
					t.Fatalf("status %d: %s", r.Status, r.Raw)
				}
			},
			"POST /api/v1/sync/batch": func(t *testing.T) {
				// Rival's batch makes Rival's own objects and cannot reach Greenway's.
				r := h.do("POST", "/api/v1/sync/batch", rival, map[string]any{"objects": []any{
					map[string]any{"type": "customer", "external_id": "rival-batch", "data": map[string]any{"name": "Someone Else"}},
					map[string]any{"type": "visit", "external_id": "v1", "data": map[string]any{"customer_id": "ben", "service_date": "2026-05-06"}},
					map[string]any{"type": "invoice", "external_id": "inv1", "data": map[string]any{"customer_id": "ben", "lines": []any{}}},
				}})
				if r.Status != 200 || r.Body["created"] != 1.0 || r.Body["failed"] != 2.0 {
					t.Fatalf("status %d: %s", r.Status, r.Raw)
				}
				for i, res := range list(r.Body, "results") {
					res := res.(map[string]any)
					if refused := res["status"] == "error" && resultField(res, "data.customer_id") != ""; refused != (i > 0) {
						t.Fatalf("object %d: %v", i, res)
					}
				}
				if v := h.must(200, "GET", "/api/v1/visits/v1", nil); v.Body["customer_id"] != "angie" || v.Body["service_date"] != "2026-05-05" {
					t.Fatalf("Greenway's visit changed: %s", v.Raw)
				}
				if inv := h.must(200, "GET", "/api/v1/invoices/inv1", nil); inv.Body["subtotal_cents"] != 4500.0 {
					t.Fatalf("Greenway's invoice changed: %s", inv.Raw)
				}
				expectNotFound(t, h.do("GET", "/api/v1/customers/rival-batch", h.keys[tenant.RoleAdmin], nil))
			},
			"GET /api/v1/webhook-secrets": func(t *testing.T) {
				h.must(201, "POST", "/api/v1/webhook-secrets", nil)
				expectEmptyList(t, h.do("GET", "/api/v1/webhook-secrets", rival, nil), "webhook_secrets")
			},
			"POST /api/v1/webhook-secrets": func(t *testing.T) {
				// Rival's own secret does not sign deliveries to Greenway.
				r := h.do("POST", "/api/v1/webhook-secrets", rival, nil)
				if r.Status != http.StatusCreated {
					t.Fatalf("status %d: %s", r.Status, r.Raw)
				}
				body := []byte(`{"type":"customer.upserted","data":{"external_id":"angie","name":"Someone Else"}}`)
				if hr := h.hook(h.greenway, r.Body["secret"].(string), "rival-1", body); hr.Status != http.StatusUnauthorized {
					t.Fatalf("Rival's secret signed for Greenway: %d %s", hr.Status, hr.Raw)
				}
			},
			"DELETE /api/v1/webhook-secrets/:id": func(t *testing.T) {
				mine := h.must(201, "POST", "/api/v1/webhook-secrets", nil)
				path := fmt.Sprintf("/api/v1/webhook-secrets/%.0f", mine.Body["id"].(float64))
				expectNotFound(t, h.do("DELETE", path, rival, nil))
				l := h.must(200, "GET", "/api/v1/webhook-secrets", nil)
				secrets := list(l.Body, "webhook_secrets")
				if itemWith(secrets, "id", mine.Body["id"]) == nil {
					t.Fatalf("Greenway's secret is not listed: %s", l.Raw)
				}
				for _, sec := range secrets {
					if sec.(map[string]any)["revoked_at"] != nil {
						t.Fatalf("Rival revoked Greenway's secret: %s", l.Raw)
					}
				}
			},
			"GET /api/v1/scripts": func(t *testing.T) {
				h.must(-1, "PUT", "/api/v1/scripts/greenway-words", map[string]any{"body": "Greenway says hi, {customer_first_name}"})
				r := h.do("GET", "/api/v1/scripts", rival, nil)
				// Greenway's script must not show anywhere in Rival's answer: the whole body is searched.
				if r.Status != 200 || strings.Contains(string(r.Raw), "greenway-words") || len(r.Body["scripts"].([]any)) != 1 {
					t.Fatalf("Rival sees Greenway's scripts: %d %s", r.Status, r.Raw)
				}
			},
			"POST /api/v1/scripts": func(t *testing.T) {
				if r := h.do("POST", "/api/v1/scripts", rival, map[string]any{"name": "rival-words", "body": "Rival says hi"}); r.Status != 201 {
					t.Fatalf("Rival's own script: %d %s", r.Status, r.Raw)
				}
				// Rival's script must not show anywhere in Greenway's answer: the whole body is searched.
				if l := h.must(200, "GET", "/api/v1/scripts", nil); strings.Contains(string(l.Raw), "rival-words") {
					t.Fatalf("Greenway sees Rival's script: %s", l.Raw)
				}
			},
			"PUT /api/v1/scripts/:name": func(t *testing.T) {
				h.must(-1, "PUT", "/api/v1/scripts/shared-name", map[string]any{"body": "Greenway's words"})
				if r := h.do("PUT", "/api/v1/scripts/shared-name", rival, map[string]any{"body": "Rival's words"}); r.Status != 201 {
					t.Fatalf("Rival's PUT of the same name: %d %s", r.Status, r.Raw)
				}
				l := h.must(200, "GET", "/api/v1/scripts", nil)
				// Rival's words must not show anywhere in Greenway's answer: the whole body is searched.
				if itemWith(list(l.Body, "scripts"), "name", "shared-name")["body"] != "Greenway's words" || strings.Contains(string(l.Raw), "Rival's words") {
					t.Fatalf("Rival changed Greenway's script: %s", l.Raw)
				}
			},
			"POST /api/v1/visits/:external_id/rating": func(t *testing.T) {
				expectNotFound(t, h.do("POST", "/api/v1/visits/v1/rating", rival, map[string]any{"score": 1, "complaint": true}))
			},
			"GET /api/v1/visits/:external_id/rating": func(t *testing.T) {
				h.must(-1, "POST", "/api/v1/visits/v1/rating", map[string]any{"score": 4})
				expectNotFound(t, h.do("GET", "/api/v1/visits/v1/rating", rival, nil))
			},
			"POST /api/v1/visits/:external_id/rating/resolve": func(t *testing.T) {
				h.must(-1, "POST", "/api/v1/visits/v1/rating", map[string]any{"score": 2, "complaint": true})
				expectNotFound(t, h.do("POST", "/api/v1/visits/v1/rating/resolve", rival, map[string]any{"note": "Rival says it is fine"}))
				var open int64
				s.DB.Raw(`SELECT COUNT(*) FROM ratings WHERE complaint AND resolved_at IS NULL`).Scan(&open)
				if open != 1 {
					t.Fatal("Rival resolved Greenway's complaint")
				}
			},
			"GET /api/v1/crews/:external_id/today": func(t *testing.T) {
				expectNotFound(t, h.do("GET", "/api/v1/crews/north/today?date=2026-05-05", rival, nil))
			},
			"POST /api/v1/pitches": func(t *testing.T) {
				r := h.do("POST", "/api/v1/pitches", rival, map[string]any{"visit_id": "v1", "crew_member_id": "sam", "outcome": "pitched"})
				// (Rival's own crew may have a "sam" by now: the visit is what it cannot reach.)
				if r.Status != 422 || r.field("visit_id") == "" || storetest.Count(t, s.DB, "pitches") != 0 {
					t.Fatalf("Rival pitched at Greenway's visit: %d %s", r.Status, r.Raw)
				}
			},
			"GET /api/v1/crew/leaderboard": func(t *testing.T) {
				expectEmptyList(t, h.do("GET", "/api/v1/crew/leaderboard?period=year", rival, nil), "members")
			},
			"GET /api/v1/crew/milestones": func(t *testing.T) {
				h.must(-1, "POST", "/api/v1/crew/milestones", map[string]any{"name": "Greenway golf", "metric": "pitches", "target": 5, "period": "month"})
				expectEmptyList(t, h.do("GET", "/api/v1/crew/milestones", rival, nil), "milestones")
			},
			"POST /api/v1/crew/milestones": func(t *testing.T) {
				if r := h.do("POST", "/api/v1/crew/milestones", rival, map[string]any{"name": "Rival laser tag", "metric": "points", "target": 1, "period": "year"}); r.Status != 201 {
					t.Fatalf("Rival's own milestone: %d %s", r.Status, r.Raw)
				}
				// Rival's milestone must not show anywhere in Greenway's answer: the whole body is searched.
				if l := h.must(200, "GET", "/api/v1/crew/milestones", nil); strings.Contains(string(l.Raw), "Rival laser tag") {
					t.Fatalf("Greenway sees Rival's milestone: %s", l.Raw)
				}
			},
		}
		public := map[string]bool{"GET /healthz": true, "GET /readyz": true, "GET /api/v1/openapi.json": true}
		routes := h.app.HTTP.Routes()
		// Reads first: the PUT cases then give Rival objects of the same ids.
		sort.SliceStable(routes, func(i, j int) bool { return routes[i].Method == "GET" && routes[j].Method != "GET" })
		for _, rt := range routes {
			name := rt.Method + " " + rt.Path
			// Pages (/r/{code}, ...) resolve the tenant from the link itself;
			// internal/web's tests prove a code reaches only its own tenant.
			if public[name] || !strings.HasPrefix(rt.Path, "/api/v1/") || strings.HasSuffix(rt.Path, "/*") || rt.Method == echo.RouteNotFound {
				continue
			}
			check, ok := cases[name]
			if !ok {
				t.Errorf("route %s has no tenant-isolation case", name)
				continue
			}
			t.Run(name, check)
		}
	})
}

func expectNotFound(t *testing.T, r response) {
	t.Helper()
	if r.Status != http.StatusNotFound || r.errorCode() != "not_found" {
		t.Fatalf("status %d, want 404 not_found: %s", r.Status, r.Raw)
	}
}

func expectEmptyList(t *testing.T, r response, name string) {
	t.Helper()
	items, ok := r.Body[name].([]any)
	if r.Status != http.StatusOK || !ok || len(items) != 0 {
		t.Fatalf("status %d, want 200 with no %s: %s", r.Status, name, r.Raw)
	}
}

func TestRolesAndKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.seed(h.keys[tenant.RoleIntegration], "") // integration keys write the mirror
		invoice := map[string]any{"customer_id": "angie", "lines": []any{}}
		cases := []struct {
			name, method, path, role string
			body                     any
			want                     int
		}{
			{"crew cannot write invoices", "PUT", "/api/v1/invoices/inv2", tenant.RoleCrew, invoice, 403},
			{"crew cannot read invoices", "GET", "/api/v1/invoices/inv1", tenant.RoleCrew, nil, 403},
			{"crew reads its visits", "GET", "/api/v1/visits?crew_id=north", tenant.RoleCrew, nil, 200},
			{"dispatcher cannot rewrite the mirror", "PUT", "/api/v1/customers/zed", tenant.RoleDispatcher, map[string]any{"name": "Zed"}, 403},
			{"dispatcher reads invoices", "GET", "/api/v1/invoices/inv1", tenant.RoleDispatcher, nil, 200},
			{"integration writes invoices", "PUT", "/api/v1/invoices/inv2", tenant.RoleIntegration, invoice, 201},
			{"admin may do anything", "PUT", "/api/v1/customers/zed", tenant.RoleAdmin, map[string]any{"name": "Zed"}, 201},
		}
		for _, c := range cases {
			r := h.do(c.method, c.path, h.keys[c.role], c.body)
			if r.Status != c.want {
				t.Errorf("%s: status %d, want %d: %s", c.name, r.Status, c.want, r.Raw)
			}
			if c.want == 403 && r.errorCode() != "forbidden" {
				t.Errorf("%s: error %s", c.name, r.Raw)
			}
		}
		if n := storetest.Count(t, s.DB.Where("external_id = ?", "zed"), "customers"); n != 1 {
			t.Errorf("the dispatcher's refused PUT stored something: %d rows", n)
		}

		for name, key := range map[string]string{"missing": "", "unknown": "rl_nosuchkey", "not ours": "Basic abc"} {
			r := h.do("GET", "/api/v1/customers", key, nil)
			if r.Status != 401 || r.errorCode() != "unauthorized" {
				t.Errorf("%s key: status %d %s", name, r.Status, r.Raw)
			}
		}
		keys, _ := h.app.Tenants.Keys(t.Context(), h.greenway)
		var crewKeyID int64
		for _, k := range keys {
			if k.Role == tenant.RoleCrew {
				crewKeyID = k.ID
			}
		}
		if r := h.do("GET", "/api/v1/customers", h.keys[tenant.RoleCrew], nil); r.Status != 200 {
			t.Fatalf("crew key before revoking: %d", r.Status)
		}
		if err := h.app.Tenants.RevokeKey(t.Context(), h.rival, crewKeyID); err == nil {
			t.Fatal("Rival revoked Greenway's key")
		}
		if err := h.app.Tenants.RevokeKey(t.Context(), h.greenway, crewKeyID); err != nil {
			t.Fatal(err)
		}
		if r := h.do("GET", "/api/v1/customers", h.keys[tenant.RoleCrew], nil); r.Status != 401 {
			t.Fatalf("revoked key: %d %s", r.Status, r.Raw)
		}
	})
}

// Each bad request gets a 4xx JSON error naming what is wrong, and nothing
// stored changes.
func TestBadInputIsRefusedAndChangesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.seed(h.keys[tenant.RoleAdmin], "")
		before := h.must(200, "GET", "/api/v1/customers/angie", nil).Raw
		huge := `{"name":"` + strings.Repeat("x", 1<<20) + `"}`
		cases := []struct {
			name, method, path string
			body               any
			status             int
			field              string
		}{
			{"malformed JSON", "PUT", "/api/v1/customers/angie", `{"name": "Angie"`, 400, ""},
			{"not an object", "PUT", "/api/v1/customers/angie", `[1,2]`, 400, ""},
			{"two objects", "PUT", "/api/v1/customers/angie", `{"name":"A"}{"name":"B"}`, 400, ""},
			{"empty body", "PUT", "/api/v1/customers/angie", ``, 400, ""},
			{"unknown field", "PUT", "/api/v1/customers/angie", `{"name":"A","nmae":"B"}`, 422, "nmae"},
			{"wrong type", "PUT", "/api/v1/customers/angie", `{"name":"A","lat":"north"}`, 422, "lat"},
			{"lat too big", "PUT", "/api/v1/customers/angie", `{"name":"A","lat":91,"lon":0}`, 422, "lat"},
			{"lon too small", "PUT", "/api/v1/customers/angie", `{"name":"A","lat":0,"lon":-180.5}`, 422, "lon"},
			{"lat without lon", "PUT", "/api/v1/customers/angie", `{"name":"A","lat":45}`, 422, "lat"},
			{"missing name", "PUT", "/api/v1/customers/angie", `{"name":"  "}`, 422, "name"},
			{"bad email", "PUT", "/api/v1/customers/angie", `{"name":"A","email":"angie at home"}`, 422, "email"},
			{"body over 1 MiB", "PUT", "/api/v1/customers/angie", huge, 413, ""},
			{"external id too long", "PUT", "/api/v1/customers/" + strings.Repeat("a", 129), `{"name":"A"}`, 422, "external_id"},
			{"crew without depot", "PUT", "/api/v1/crews/north", `{"name":"North"}`, 422, "depot_lat"},
			{"member twice", "PUT", "/api/v1/crews/north", `{"name":"N","depot_lat":1,"depot_lon":1,"members":[{"external_id":"a","name":"A"},{"external_id":"a","name":"B"}]}`, 422, "members[1].external_id"},
			{"invalid date", "PUT", "/api/v1/visits/v1", `{"customer_id":"angie","service_date":"2026-02-30"}`, 422, "service_date"},
			{"date with time", "PUT", "/api/v1/visits/v1", `{"customer_id":"angie","service_date":"2026-05-05T10:00:00Z"}`, 422, "service_date"},
			{"negative price", "PUT", "/api/v1/visits/v1", `{"customer_id":"angie","service_date":"2026-05-05","price_cents":-1}`, 422, "price_cents"},
			{"fractional cents", "PUT", "/api/v1/visits/v1", `{"customer_id":"angie","service_date":"2026-05-05","price_cents":45.5}`, 422, "price_cents"},
			{"unknown customer", "PUT", "/api/v1/visits/v1", `{"customer_id":"nobody","service_date":"2026-05-05"}`, 422, "customer_id"},
			{"unknown crew", "PUT", "/api/v1/visits/v1", `{"customer_id":"angie","crew_id":"ghost","service_date":"2026-05-05"}`, 422, "crew_id"},
			{"bad status", "PUT", "/api/v1/visits/v1", `{"customer_id":"angie","service_date":"2026-05-05","status":"done"}`, 422, "status"},
			{"start on another local day", "PUT", "/api/v1/visits/v1", `{"customer_id":"angie","service_date":"2026-05-05","start_at":"2026-05-06T08:00:00Z"}`, 422, "start_at"},
			{"negative invoice line", "PUT", "/api/v1/invoices/inv1", `{"customer_id":"angie","lines":[{"description":"refund","amount_cents":-100}]}`, 422, "lines[0].amount_cents"},
			{"visit billed twice", "PUT", "/api/v1/invoices/inv1", `{"customer_id":"angie","lines":[{"visit_id":"v1","description":"a","amount_cents":1},{"visit_id":"v1","description":"b","amount_cents":1}]}`, 422, "lines[1].visit_id"},
			{"bad list limit", "GET", "/api/v1/customers?limit=0", nil, 422, "limit"},
			{"bad cursor", "GET", "/api/v1/customers?cursor=!!", nil, 422, "cursor"},
			{"bad updated_since", "GET", "/api/v1/customers?updated_since=yesterday", nil, 422, "updated_since"},
			{"bad date range", "GET", "/api/v1/visits?from=2026-05-05&to=2026-05-01", nil, 422, "to"},
			{"unknown object", "GET", "/api/v1/visits/nope", nil, 404, ""},
			{"unknown route", "GET", "/api/v1/nothing-here", nil, 404, ""},
			{"wrong method", "DELETE", "/api/v1/customers/angie", nil, 405, ""},
		}
		counts := rowCounts(t, s)
		for _, c := range cases {
			r := h.do(c.method, c.path, h.keys[tenant.RoleAdmin], c.body)
			if r.Status != c.status || r.errorCode() == "" {
				t.Errorf("%s: status %d, want %d with a JSON error: %.300s", c.name, r.Status, c.status, r.Raw)
				continue
			}
			if c.field != "" && r.field(c.field) == "" {
				t.Errorf("%s: error does not name field %s: %.300s", c.name, c.field, r.Raw)
			}
		}
		if after := rowCounts(t, s); after != counts {
			t.Errorf("refused requests changed row counts: %v → %v", counts, after)
		}
		if after := h.must(200, "GET", "/api/v1/customers/angie", nil).Raw; string(after) != string(before) {
			t.Errorf("refused requests changed the customer:\n%s\n%s", before, after)
		}
		visit := h.must(200, "GET", "/api/v1/visits/v1", nil)
		if visit.Body["price_cents"] != 4500.0 || visit.Body["service_date"] != "2026-05-05" {
			t.Errorf("refused requests changed the visit: %s", visit.Raw)
		}
	})
}

func rowCounts(t *testing.T, s *store.Store) string {
	var parts []string
	for _, table := range []string{"customers", "crews", "crew_members", "visits", "invoices", "invoice_lines"} {
		parts = append(parts, fmt.Sprintf("%s=%d", table, storetest.Count(t, s.DB, table)))
	}
	return strings.Join(parts, " ")
}

// Twenty scheduler retries of the same PUT at once create one row: one 201,
// nineteen 200s.
func TestConcurrentPutsOfOneIDCreateOneRow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.seed(h.keys[tenant.RoleAdmin], "")
		bodies := []struct {
			path, table string
			body        any
		}{
			{"/api/v1/customers/ben", "customers", map[string]any{"name": "Ben", "lat": 45.466, "lon": -122.651}},
			{"/api/v1/crews/south", "crews", map[string]any{"name": "South", "depot_lat": 45.4, "depot_lon": -122.6, "members": []any{map[string]any{"external_id": "kim", "name": "Kim"}}}},
			{"/api/v1/visits/v2", "visits", map[string]any{"customer_id": "angie", "service_date": "2026-05-12", "price_cents": 4500}},
			{"/api/v1/invoices/inv2", "invoices", map[string]any{"customer_id": "angie", "lines": []any{map[string]any{"visit_id": "v1", "description": "Mowing", "amount_cents": 4500}}}},
		}
		for _, b := range bodies {
			var wg sync.WaitGroup
			statuses := make(chan int, 20)
			for i := 0; i < 20; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					statuses <- h.do("PUT", b.path, h.keys[tenant.RoleAdmin], b.body).Status
				}()
			}
			wg.Wait()
			close(statuses)
			created, updated := 0, 0
			for st := range statuses {
				switch st {
				case 201:
					created++
				case 200:
					updated++
				default:
					t.Errorf("%s: status %d", b.path, st)
				}
			}
			if created != 1 || updated != 19 {
				t.Errorf("%s: %d created, %d updated; want 1 and 19", b.path, created, updated)
			}
			id := b.path[strings.LastIndex(b.path, "/")+1:]
			if n := storetest.Count(t, s.DB.Where("external_id = ?", id), b.table); n != 1 {
				t.Errorf("%s: %d rows", b.path, n)
			}
		}
		if n := storetest.Count(t, s.DB.Where("external_id = ?", "kim"), "crew_members"); n != 1 {
			t.Errorf("crew member rows: %d", n)
		}
		inv := h.must(200, "GET", "/api/v1/invoices/inv2", nil)
		if lines := inv.Body["lines"].([]any); len(lines) != 1 || inv.Body["total_cents"] != 4500.0 {
			t.Errorf("invoice after concurrent PUTs: %s", inv.Raw)
		}
	})
}
