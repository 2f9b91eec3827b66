package httpapi_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/routeloop/routeloop/internal/refcode"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

func TestReferralLinksHandOutOneLinkPerChannel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		c := h.must(201, "PUT", "/api/v1/customers/angie", map[string]any{"name": "Angie Baker"})
		code, link := c.Body["referral_code"].(string), c.Body["referral_url"].(string)
		for _, role := range []string{tenant.RoleAdmin, tenant.RoleIntegration, tenant.RoleDispatcher, tenant.RoleCrew} {
			r := h.do("GET", "/api/v1/customers/angie/referral-links", h.keys[role], nil)
			if r.Status != 200 || r.Body["code"] != code || r.Body["url"] != link || r.Body["customer_id"] != "angie" {
				t.Fatalf("%s: %d %s", role, r.Status, r.Raw)
			}
			links, _ := r.Body["links"].(map[string]any)
			if len(links) != len(refcode.LinkChannels) {
				t.Fatalf("%s: links %v", role, links)
			}
			for _, ch := range refcode.LinkChannels {
				if links[ch] != link+"?ch="+ch {
					t.Errorf("%s: %s link %v", role, ch, links[ch])
				}
			}
			optOut, has := r.Body["opt_out_url"].(string)
			if role == tenant.RoleCrew && has {
				t.Errorf("a crew key got the opt-out link")
			}
			if role != tenant.RoleCrew {
				if u, err := url.Parse(optOut); err != nil || !strings.HasPrefix(u.Path, "/optout/") || len(u.Path) != len("/optout/")+32 {
					t.Errorf("%s: opt_out_url %q", role, optOut)
				}
			}
		}
		if r := h.do("GET", "/api/v1/customers/nobody/referral-links", h.keys[tenant.RoleAdmin], nil); r.Status != 404 || r.errorCode() != "not_found" {
			t.Fatalf("unknown customer: %d %s", r.Status, r.Raw)
		}
		if r := h.do("GET", "/api/v1/customers/angie/referral-links", h.rivalKey, nil); r.Status != 404 {
			t.Fatalf("another company's customer: %d %s", r.Status, r.Raw)
		}
		if r := h.do("GET", "/api/v1/customers/angie/referral-links", "", nil); r.Status != 401 {
			t.Fatalf("no key: %d", r.Status)
		}
	})
}

func TestPutCustomerTakesMarketingConsentAndKeepsLeftOutConsents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		c := h.must(201, "PUT", "/api/v1/customers/angie", map[string]any{"name": "Angie", "consent_same_day": true, "consent_marketing": true})
		if c.Body["consent_marketing"] != true || c.Body["consent_marketing_at"] == nil || c.Body["consent_same_day"] != true {
			t.Fatalf("created: %s", c.Raw)
		}
		at := c.Body["consent_marketing_at"]
		// Left out: kept (also null).
		c = h.must(200, "PUT", "/api/v1/customers/angie", map[string]any{"name": "Angie B", "consent_marketing": nil})
		if c.Body["consent_marketing"] != true || c.Body["consent_same_day"] != true || c.Body["consent_marketing_at"] != at {
			t.Fatalf("a PUT leaving the consents out changed them: %s", c.Raw)
		}
		// Sent false: stored, as before.
		c = h.must(200, "PUT", "/api/v1/customers/angie", map[string]any{"name": "Angie B", "consent_same_day": false, "consent_marketing": false})
		if c.Body["consent_marketing"] != false || c.Body["consent_same_day"] != false {
			t.Fatalf("stated false: %s", c.Raw)
		}
		if g := h.must(200, "GET", "/api/v1/customers/angie", nil); g.Body["consent_marketing"] != false || g.Body["name"] != "Angie B" {
			t.Fatalf("read back: %s", g.Raw)
		}
		// Not a boolean: 422 naming the field; nothing changes.
		for field, v := range map[string]any{"consent_marketing": "yes", "consent_same_day": 1} {
			r := h.do("PUT", "/api/v1/customers/angie", h.keys[tenant.RoleIntegration], map[string]any{"name": "Changed", field: v})
			if r.Status != 422 || r.field(field) == "" {
				t.Fatalf("%s=%v: %d %s", field, v, r.Status, r.Raw)
			}
		}
		if g := h.must(200, "GET", "/api/v1/customers/angie", nil); g.Body["name"] != "Angie B" {
			t.Fatalf("a refused PUT changed the customer: %s", g.Raw)
		}
	})
}

// A friend referred through the API with both ticks, then mirrored by a
// webhook that says nothing about consent, can be linked as a neighbour.
func TestTheFriendsConsentsThroughTheAPIAndAWebhook(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.must(201, "PUT", "/api/v1/customers/angie", map[string]any{"name": "Angie", "lat": 45.4655, "lon": -122.6501, "consent_same_day": true})
		r := h.must(201, "POST", "/api/v1/referrals", map[string]any{"channel": "sms", "referrer_id": "angie",
			"referee": map[string]any{"name": "Ben Ortiz", "email": "ben@example.com", "consent_same_day": true, "consent_marketing": true}})
		friend, _ := r.Body["referee"].(map[string]any)
		if r.Body["channel"] != "sms" || friend["consent_same_day"] != true || friend["consent_marketing"] != true {
			t.Fatalf("referral: %s", r.Raw)
		}
		if u, ok := r.Body["utm"].(map[string]any); !ok || len(u) != 0 {
			t.Fatalf("utm of an API referral: %s", r.Raw)
		}
		for field, v := range map[string]any{"consent_same_day": "true", "consent_marketing": []any{true}} {
			bad := h.do("POST", "/api/v1/referrals", h.keys[tenant.RoleIntegration], map[string]any{"channel": "sms", "referrer_id": "angie",
				"referee": map[string]any{"name": "Cleo", "email": "cleo@example.com", field: v}})
			if bad.Status != 422 || bad.field("referee."+field) == "" {
				t.Fatalf("referee.%s=%v: %d %s", field, v, bad.Status, bad.Raw)
			}
		}
		if bad := h.do("POST", "/api/v1/referrals", h.keys[tenant.RoleIntegration], map[string]any{"channel": "fax", "referrer_id": "angie",
			"referee": map[string]any{"name": "Cleo", "email": "cleo@example.com"}}); bad.Status != 422 || !strings.Contains(bad.field("channel"), "social") {
			t.Fatalf("unknown channel: %d %s", bad.Status, bad.Raw)
		}
		if n := storetest.Count(t, s.DB, "referrals"); n != 1 {
			t.Fatalf("%d referrals, want only Ben's", n)
		}
		// The scheduler creates Ben through the batch import, without consents.
		b := h.must(200, "POST", "/api/v1/sync/batch", map[string]any{"objects": []any{map[string]any{"type": "customer", "external_id": "ben",
			"data": map[string]any{"name": "Ben Ortiz", "email": "ben@example.com", "lat": 45.4662, "lon": -122.6499}}}})
		if b.Body["created"] != 1.0 || itemWith(list(b.Body, "results"), "external_id", "ben")["status"] != "created" {
			t.Fatalf("batch: %s", b.Raw)
		}
		ben := h.must(200, "GET", "/api/v1/customers/ben", nil)
		if ben.Body["consent_same_day"] != true || ben.Body["consent_marketing"] != true {
			t.Fatalf("Ben did not take his ticks: %s", ben.Raw)
		}
		h.must(201, "POST", "/api/v1/neighbor-links", map[string]any{"customer_a": "angie", "customer_b": "ben"})
		got := h.must(200, "GET", fmt.Sprintf("/api/v1/referrals/%.0f", r.Body["id"].(float64)), nil)
		if got.Body["referee"].(map[string]any)["customer_id"] != "ben" {
			t.Fatalf("referral after the mirror: %s", got.Raw)
		}
	})
}

// A customer.upserted webhook follows the PUT's rule: a consent left out
// keeps what is stored, one sent is taken.
func TestAWebhookLeavingConsentOutKeepsIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		secret := h.must(201, "POST", "/api/v1/webhook-secrets", nil).Body["secret"].(string)
		send := func(id string, data map[string]any) {
			data["external_id"], data["name"] = "angie", "Angie Baker"
			if r := h.hook(h.greenway, secret, id, hookBody("customer.upserted", data)); r.Status != 200 {
				t.Fatalf("%s: %d %s", id, r.Status, r.Raw)
			}
		}
		send("msg-1", map[string]any{"consent_same_day": true, "consent_marketing": true})
		send("msg-2", map[string]any{"address": "14 SE Maple St"})
		c := h.must(200, "GET", "/api/v1/customers/angie", nil)
		if c.Body["consent_same_day"] != true || c.Body["consent_marketing"] != true || c.Body["address"] != "14 SE Maple St" {
			t.Fatalf("after a webhook without consents: %s", c.Raw)
		}
		send("msg-3", map[string]any{"consent_same_day": false})
		if c = h.must(200, "GET", "/api/v1/customers/angie", nil); c.Body["consent_same_day"] != false || c.Body["consent_marketing"] != true {
			t.Fatalf("after a webhook stating false: %s", c.Raw)
		}
		if r := h.hook(h.greenway, secret, "msg-4", hookBody("customer.upserted", map[string]any{"external_id": "angie", "name": "A",
			"consent_marketing": "no"})); r.Status != 422 || r.field("data.consent_marketing") == "" {
			t.Fatalf("a consent that is not a boolean: %d %s", r.Status, r.Raw)
		}
	})
}
