package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
	"github.com/routeloop/routeloop/internal/webhook"
)

// hook posts a webhook to /hooks/v1/{tenantID}, signed with secret ("" for
// no signature headers) at the harness clock's now.
func (h *harness) hook(tenantID, secret, id string, body []byte) response {
	h.t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/hooks/v1/"+tenantID, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		now := h.clock.Now()
		sig, err := webhook.Sign(secret, id, now, body)
		if err != nil {
			h.t.Fatal(err)
		}
		req.Header.Set("webhook-id", id)
		req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
		req.Header.Set("webhook-signature", sig)
	}
	rec := h.serve(req, body)
	out := response{Status: rec.Code, Header: rec.Header(), Raw: rec.Body.Bytes()}
	if err := json.Unmarshal(out.Raw, &out.Body); err != nil {
		h.t.Fatalf("POST /hooks/v1/%s answered non-JSON (%d): %s", tenantID, rec.Code, out.Raw)
	}
	return out
}

func hookBody(typ string, data map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "timestamp": "2026-05-01T15:59:00Z", "data": data})
	return b
}

func TestWebhookReceiver(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		secret := h.must(201, "POST", "/api/v1/webhook-secrets", nil).Body["secret"].(string)
		angie := hookBody("customer.upserted", map[string]any{"external_id": "angie", "name": "Angie Baker", "lat": 45.4655, "lon": -122.6501})

		r := h.hook(h.greenway, secret, "msg-1", angie)
		if r.Status != 200 || r.Body["result"] != "created" || r.Body["external_id"] != "angie" || r.Header.Get("Routeloop-Replay") != "" {
			t.Fatalf("first delivery: %d %s", r.Status, r.Raw)
		}
		again := h.hook(h.greenway, secret, "msg-1", angie)
		if again.Status != 200 || !bytes.Equal(again.Raw, r.Raw) || again.Header.Get("Routeloop-Replay") != "true" {
			t.Fatalf("replay: %d %s %v", again.Status, again.Raw, again.Header)
		}
		if c := h.must(200, "GET", "/api/v1/customers/angie", nil); c.Body["name"] != "Angie Baker" || c.Body["referral_code"] == "" {
			t.Fatalf("the customer through the API: %s", c.Raw)
		}

		huge := hookBody("customer.upserted", map[string]any{"external_id": "zed", "name": strings.Repeat("z", 1<<20)})
		cases := []struct {
			name, tenantID, secret string
			body                   []byte
			status                 int
			says                   string
		}{
			{"no signature headers", h.greenway, "", angie, 401, "required"},
			{"a wrong secret", h.greenway, webhook.NewSecret(), angie, 401, "no webhook-signature matches"},
			{"an unknown tenant", uuid.NewString(), secret, angie, 401, "no webhook-signature matches"},
			{"a tenant id that is no id", "greenway", secret, angie, 401, "no webhook-signature matches"},
			{"a tenant without secrets", h.rival, secret, angie, 401, "no webhook-signature matches"},
			{"a body over 1 MiB", h.greenway, secret, huge, 413, "1 MiB"},
			{"an unknown event type", h.greenway, secret, hookBody("lawn.mowed", map[string]any{}), 400, "lawn.mowed"},
			{"a delete", h.greenway, secret, hookBody("visit.deleted", map[string]any{"external_id": "v1"}), 400, "not supported yet"},
			{"invalid data", h.greenway, secret, hookBody("customer.upserted", map[string]any{"external_id": "zed", "name": "Zed", "lat": 95, "lon": 0}), 422, "invalid fields"},
		}
		for i, c := range cases {
			r := h.hook(c.tenantID, c.secret, fmt.Sprintf("bad-%d", i), c.body)
			msg, _ := r.Body["error"].(map[string]any)["message"].(string)
			if r.Status != c.status || !strings.Contains(msg, c.says) {
				t.Errorf("%s: %d %s", c.name, r.Status, r.Raw)
			}
		}
		if r := h.hook(h.greenway, secret, "bad-x", hookBody("customer.upserted", map[string]any{"external_id": "zed", "name": "Zed", "lat": 95, "lon": 0})); r.field("data.lat") == "" {
			t.Errorf("invalid data names the field: %s", r.Raw)
		}
		if n := storetest.Count(t, s.DB, "customers"); n != 1 {
			t.Errorf("%d customers after refused deliveries", n)
		}
		if n := storetest.Count(t, s.DB, "webhook_inbox"); n != 1 {
			t.Errorf("%d inbox rows: refused deliveries were recorded", n)
		}

		// Another request still holds the id: 409, and when to try again.
		if err := s.DB.Exec(`INSERT INTO webhook_inbox (tenant_id, webhook_id, event_type, status, result, received_at) VALUES (?, 'busy', 'customer.upserted', 0, '', ?)`,
			h.greenway, h.clock.Now()).Error; err != nil {
			t.Fatal(err)
		}
		h.app.Webhooks.ReplayWait = 20 * time.Millisecond
		if r := h.hook(h.greenway, secret, "busy", angie); r.Status != 409 || r.Header.Get("Retry-After") != "5" {
			t.Errorf("a delivery still in progress: %d %s %v", r.Status, r.Raw, r.Header)
		}
		if r := h.do("GET", "/hooks/v1/"+h.greenway, "", nil); r.Status != 405 {
			t.Errorf("GET on the receiver: %d", r.Status)
		}
	})
}

func TestWebhookSecretsAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		for _, role := range []string{tenant.RoleIntegration, tenant.RoleDispatcher, tenant.RoleCrew} {
			if r := h.do("POST", "/api/v1/webhook-secrets", h.keys[role], nil); r.Status != 403 {
				t.Errorf("%s key made a secret: %d", role, r.Status)
			}
			if r := h.do("GET", "/api/v1/webhook-secrets", h.keys[role], nil); r.Status != 403 {
				t.Errorf("%s key listed secrets: %d", role, r.Status)
			}
		}
		first := h.must(201, "POST", "/api/v1/webhook-secrets", nil)
		second := h.must(201, "POST", "/api/v1/webhook-secrets", nil)
		oldSecret, newSecret := first.Body["secret"].(string), second.Body["secret"].(string)
		if !strings.HasPrefix(oldSecret, "whsec_") || oldSecret == newSecret || first.Body["id"] == nil {
			t.Fatalf("created %s and %s", first.Raw, second.Raw)
		}
		list := h.must(200, "GET", "/api/v1/webhook-secrets", nil)
		// A secret is shown once, when made: it must not show anywhere in the list, so the whole body is searched.
		if items := list.Body["webhook_secrets"].([]any); len(items) != 2 || strings.Contains(string(list.Raw), oldSecret) {
			t.Fatalf("list: %s", list.Raw)
		}
		body := hookBody("customer.upserted", map[string]any{"external_id": "angie", "name": "Angie"})
		for i, secret := range []string{oldSecret, newSecret} {
			if r := h.hook(h.greenway, secret, "rot-"+strconv.Itoa(i), body); r.Status != 200 {
				t.Fatalf("secret %d while rotating: %d %s", i, r.Status, r.Raw)
			}
		}
		path := fmt.Sprintf("/api/v1/webhook-secrets/%.0f", first.Body["id"].(float64))
		if r := h.do("DELETE", path, h.keys[tenant.RoleIntegration], nil); r.Status != 403 {
			t.Fatalf("integration key revoked: %d", r.Status)
		}
		if r := h.must(200, "DELETE", path, nil); r.Body["revoked_at"] == nil {
			t.Fatalf("revoke: %s", r.Raw)
		}
		if r := h.hook(h.greenway, oldSecret, "rot-2", body); r.Status != 401 {
			t.Fatalf("the revoked secret: %d %s", r.Status, r.Raw)
		}
		if r := h.hook(h.greenway, newSecret, "rot-3", body); r.Status != 200 {
			t.Fatalf("the new secret: %d %s", r.Status, r.Raw)
		}
		for _, p := range []string{"/api/v1/webhook-secrets/999", "/api/v1/webhook-secrets/x"} {
			if r := h.do("DELETE", p, h.keys[tenant.RoleAdmin], nil); r.Status != 404 {
				t.Errorf("DELETE %s: %d", p, r.Status)
			}
		}
	})
}

func TestSyncBatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		batch := map[string]any{"objects": []any{
			map[string]any{"type": "customer", "external_id": "angie", "data": map[string]any{"name": "Angie Baker", "lat": 45.4655, "lon": -122.6501}},
			map[string]any{"type": "visit", "external_id": "v1", "data": map[string]any{"customer_id": "angie", "service_date": "2026-05-05", "price_cents": 4500}},
			map[string]any{"type": "visit", "external_id": "v2", "data": map[string]any{"customer_id": "angie", "service_date": "someday"}},
		}}
		r := h.doRefused("POST", "/api/v1/sync/batch", h.keys[tenant.RoleIntegration], batch)
		if r.Status != 200 || r.Body["created"] != 2.0 || r.Body["failed"] != 1.0 || r.Body["updated"] != 0.0 {
			t.Fatalf("batch: %d %s", r.Status, r.Raw)
		}
		results := r.Body["results"].([]any)
		bad := results[2].(map[string]any)
		if bad["status"] != "error" || bad["index"] != 2.0 || resultField(bad, "data.service_date") == "" {
			t.Fatalf("the refused visit: %s", r.Raw)
		}
		if v := h.must(200, "GET", "/api/v1/visits/v1", nil); v.Body["price_cents"] != 4500.0 {
			t.Fatalf("visit: %s", v.Raw)
		}
		if r := h.do("POST", "/api/v1/sync/batch", h.keys[tenant.RoleCrew], batch); r.Status != 403 {
			t.Fatalf("crew key: %d", r.Status)
		}
		objs := make([]any, webhook.MaxBatchObjects+1)
		for i := range objs {
			objs[i] = map[string]any{"type": "customer", "external_id": "c" + strconv.Itoa(i), "data": map[string]any{"name": "C"}}
		}
		r = h.do("POST", "/api/v1/sync/batch", h.keys[tenant.RoleIntegration], map[string]any{"objects": objs})
		if r.Status != 413 || r.errorCode() != "body_too_large" || r.message() != "a batch holds at most 5000 objects; split it into several calls" {
			t.Fatalf("%d objects: %d %s", len(objs), r.Status, r.Raw)
		}
		if r := h.do("POST", "/api/v1/sync/batch", h.keys[tenant.RoleIntegration], `{"objects": [], "mode": "fast"}`); r.Status != 422 || r.field("mode") == "" {
			t.Fatalf("an unknown field: %d %s", r.Status, r.Raw)
		}
		if n := storetest.Count(t, s.DB, "customers"); n != 1 {
			t.Fatalf("%d customers", n)
		}
	})
}
