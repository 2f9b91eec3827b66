package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// Every write that answers "the same as the one stored" for a repeated
// request checks the whole body first: a repeated pitch, referral, rating,
// link, script or an older PUT with an invalid field answers 422 naming
// it, never the stored object, and nothing stored changes.
func TestRepeatedRequestsAreCheckedBeforeTheyMatchTheStoredOne(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		tuesdayRoute(h)
		crewKey, admin := h.keys[tenant.RoleCrew], h.keys[tenant.RoleAdmin]
		ben := map[string]any{"name": "Eve Stone", "phone": "503 555 0199"}

		// What is stored first, each answering 201.
		first := []struct {
			name, method, path string
			key                string
			body               any
		}{
			{"Sam's pitch at Dan's", "POST", "/api/v1/pitches", crewKey, map[string]any{"visit_id": "v-dan-2026-05-05", "crew_member_id": "sam",
				"outcome": "referral_given", "referee": ben}},
			{"Angie refers Fay", "POST", "/api/v1/referrals", admin, map[string]any{"channel": "code", "referrer_id": "angie",
				"referee": map[string]any{"name": "Fay Lin", "email": "fay@example.com"}}},
			{"Cleo rates 5", "POST", "/api/v1/visits/v-cleo-2026-05-05/rating", admin, map[string]any{"score": 5, "comment": "great"}},
			{"a script", "PUT", "/api/v1/scripts/short", admin, map[string]any{"body": "Tell your friends about us."}},
			{"Gus, changed at 10:00", "PUT", "/api/v1/customers/gus", admin, map[string]any{"name": "Gus Hale", "phone": "503 555 0142",
				"updated_at": "2026-05-05T10:00:00Z"}},
			{"Gus's visit, changed at 10:00", "PUT", "/api/v1/visits/v-gus", admin, map[string]any{"customer_id": "gus", "service_date": "2026-05-12",
				"price_cents": 4500, "updated_at": "2026-05-05T10:00:00Z"}},
		}
		for _, c := range first {
			if r := h.do(c.method, c.path, c.key, c.body); r.Status != http.StatusCreated {
				t.Fatalf("%s: %d %s", c.name, r.Status, r.Raw)
			}
		}
		h.link("angie", "ben")
		secret := h.must(201, "POST", "/api/v1/webhook-secrets", nil).Body["secret"].(string)
		hookWith := func(name, phone string) []byte {
			return []byte(`{"type":"customer.upserted","timestamp":"2026-05-05T16:00:00Z","data":{"external_id":"hal","name":` + jsonText(name) +
				`,"phone":` + jsonText(phone) + `}}`)
		}
		hook := func(name string) []byte { return hookWith(name, "503 555 0177") }
		if r := h.hook(h.greenway, secret, "msg-hal", hook("Hal Berg")); r.Status != http.StatusOK {
			t.Fatalf("webhook: %d %s", r.Status, r.Raw)
		}

		again := []struct {
			name, method, path string
			key                string
			body               any
			field              string
		}{
			{"the pitch again, the friend's phone free text", "POST", "/api/v1/pitches", crewKey, map[string]any{"visit_id": "v-dan-2026-05-05",
				"crew_member_id": "sam", "outcome": "referral_given", "referee": map[string]any{"name": "Eve Stone", "phone": "call me maybe"}}, "referee.phone"},
			{"the pitch again, the friend's name with a NUL", "POST", "/api/v1/pitches", crewKey, map[string]any{"visit_id": "v-dan-2026-05-05",
				"crew_member_id": "sam", "outcome": "referral_given", "referee": map[string]any{"name": "Eve\x00Stone", "phone": "503 555 0199"}}, "referee.name"},
			{"the pitch again, an unknown field", "POST", "/api/v1/pitches", crewKey, `{"visit_id":"v-dan-2026-05-05","crew_member_id":"sam",
				"outcome":"referral_given","referee":{"name":"Eve Stone","phone":"503 555 0199","zz":1}}`, "referee.zz"},
			{"the referral again, the friend's phone free text", "POST", "/api/v1/referrals", admin, map[string]any{"channel": "code", "referrer_id": "angie",
				"referee": map[string]any{"name": "Fay Lin", "email": "fay@example.com", "phone": "call me maybe"}}, "referee.phone"},
			{"the referral again, a variant the program lacks", "POST", "/api/v1/referrals", admin, map[string]any{"channel": "code", "referrer_id": "angie",
				"variant": "nope", "referee": map[string]any{"name": "Fay Lin", "email": "fay@example.com"}}, "variant"},
			{"the referral again, an unknown crew member", "POST", "/api/v1/referrals", admin, map[string]any{"channel": "code", "referrer_id": "angie",
				"crew_member_id": "nobody", "referee": map[string]any{"name": "Fay Lin", "email": "fay@example.com"}}, "crew_member_id"},
			{"the referral again, the friend's lat out of range", "POST", "/api/v1/referrals", admin, map[string]any{"channel": "code", "referrer_id": "angie",
				"referee": map[string]any{"name": "Fay Lin", "email": "fay@example.com", "lat": 91, "lon": 0}}, "referee.lat"},
			{"the rating again, a comment with an escape", "POST", "/api/v1/visits/v-cleo-2026-05-05/rating", admin, map[string]any{"score": 5,
				"comment": "great\x1b[0m"}, "comment"},
			{"the link again, a start that is no date", "POST", "/api/v1/neighbor-links", admin, map[string]any{"customer_a": "angie", "customer_b": "ben",
				"starts_on": "soon"}, "starts_on"},
			{"the script again, an empty body", "PUT", "/api/v1/scripts/short", admin, map[string]any{"body": ""}, "body"},
			{"an older change of Gus, his phone free text", "PUT", "/api/v1/customers/gus", admin, map[string]any{"name": "Gus Hale",
				"phone": "call me maybe", "updated_at": "2026-05-05T09:00:00Z"}, "phone"},
			{"an older change of Gus, a NUL in his name", "PUT", "/api/v1/customers/gus", admin, map[string]any{"name": "Gus\x00Hale",
				"updated_at": "2026-05-05T09:00:00Z"}, "name"},
			{"an older change of Gus's visit, on a day in 1999", "PUT", "/api/v1/visits/v-gus", admin, map[string]any{"customer_id": "gus",
				"service_date": "1999-05-12", "price_cents": 4500, "updated_at": "2026-05-05T09:00:00Z"}, "service_date"},
		}
		before := allRowCounts(t, s)
		stored := func() string {
			var b strings.Builder
			for _, p := range []string{"/api/v1/customers/gus", "/api/v1/visits/v-gus", "/api/v1/customers/hal", "/api/v1/visits/v-cleo-2026-05-05/rating", "/api/v1/scripts",
				"/api/v1/neighbor-links", "/api/v1/referrals"} {
				b.Write(h.must(200, "GET", p, nil).Raw)
			}
			return b.String()
		}
		storedBefore := stored()
		for _, c := range again {
			r := h.do(c.method, c.path, c.key, c.body)
			if r.Status != http.StatusUnprocessableEntity || r.field(c.field) == "" {
				t.Errorf("%s: %d, want 422 naming %s: %.300s", c.name, r.Status, c.field, r.Raw)
			}
		}
		// A webhook-id seen before, its body now invalid.
		for _, name := range []string{"Hal\x00Berg", "\x1b[31mHal", ""} {
			if r := h.hook(h.greenway, secret, "msg-hal", hook(name)); r.Status != http.StatusUnprocessableEntity || r.field("data.name") == "" {
				t.Errorf("webhook msg-hal again with name %q: %d %.300s", name, r.Status, r.Raw)
			}
		}
		if r := h.hook(h.greenway, secret, "msg-hal", hookWith("Hal Berg", "call me maybe")); r.Status != http.StatusUnprocessableEntity || r.field("data.phone") == "" {
			t.Errorf("webhook msg-hal again with a phone that is none: %d %.300s", r.Status, r.Raw)
		}
		if after := allRowCounts(t, s); after != before {
			t.Errorf("refused repeats changed row counts:\n%s\n%s", before, after)
		}
		if after := stored(); after != storedBefore {
			t.Errorf("refused repeats changed what is stored:\n%s\n%s", storedBefore, after)
		}

		// The same requests, valid, still answer the stored object.
		for _, c := range first[:3] {
			if r := h.do(c.method, c.path, c.key, c.body); r.Status != http.StatusOK {
				t.Errorf("%s again: %d %s", c.name, r.Status, r.Raw)
			}
		}
		if r := h.hook(h.greenway, secret, "msg-hal", hook("Hal Berg")); r.Status != http.StatusOK || r.Header.Get("Routeloop-Replay") != "true" {
			t.Errorf("webhook msg-hal again: %d %s", r.Status, r.Raw)
		}
	})
}
