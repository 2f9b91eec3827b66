package httpapi_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// Angie refers Ben by phone with no location; the dispatcher puts him
// 160 m up the street. Bad coordinates are refused field by field, a
// converted referral and a rejected one are conflicts, another company's
// referral is not found, a crew key may not, and suggestions follow.
func TestTheDispatcherPutsTheFriendsLocation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.crewWithSam()
		h.household("angie")
		dispatcher := h.keys[tenant.RoleDispatcher]
		refer := func(name, phone string) string {
			t.Helper()
			r := h.must(201, "POST", "/api/v1/referrals", map[string]any{"channel": "code", "referrer_id": "angie",
				"referee": map[string]any{"name": name, "phone": phone}})
			return fmt.Sprintf("/api/v1/referrals/%.0f", r.Body["id"].(float64))
		}
		ben := refer("Ben Ortiz", "503 555 0199")
		if r := h.do("GET", ben+"/suggestions", dispatcher, nil); r.Status != 422 {
			t.Fatalf("suggestions without a location: %d %s", r.Status, r.Raw)
		}

		for _, c := range []struct {
			body   any
			fields []string
		}{
			{map[string]any{"lat": 91, "lon": -122.65}, []string{"lat"}},
			{map[string]any{"lat": 45.46, "lon": -181}, []string{"lon"}},
			{map[string]any{"lat": -95, "lon": 200}, []string{"lat", "lon"}},
			{map[string]any{"lat": 45.46}, []string{"lon"}},
			{map[string]any{}, []string{"lat", "lon"}},
			{map[string]any{"lat": "north", "lon": -122.65}, []string{"lat"}},
		} {
			r := h.do("PUT", ben+"/location", dispatcher, c.body)
			if r.Status != 422 || r.errorCode() != "validation_failed" {
				t.Fatalf("%v: %d %s", c.body, r.Status, r.Raw)
			}
			for _, f := range c.fields {
				if r.field(f) == "" {
					t.Errorf("%v: no message for %s: %s", c.body, f, r.Raw)
				}
			}
		}
		var stored int64
		s.DB.Raw(`SELECT COUNT(*) FROM referrals WHERE referee_lat IS NOT NULL OR location_source <> ''`).Scan(&stored)
		if stored != 0 {
			t.Fatal("a refused location was stored")
		}
		// Crews may not; another company's key finds nothing.
		if r := h.do("PUT", ben+"/location", h.keys[tenant.RoleCrew], map[string]any{"lat": 45.467, "lon": -122.6501}); r.Status != 403 {
			t.Fatalf("crew: %d %s", r.Status, r.Raw)
		}
		if r := h.do("PUT", ben+"/location", h.rivalKey, map[string]any{"lat": 45.467, "lon": -122.6501}); r.Status != 404 {
			t.Fatalf("Rival: %d %s", r.Status, r.Raw)
		}
		if r := h.do("PUT", "/api/v1/referrals/999999/location", dispatcher, map[string]any{"lat": 45.467, "lon": -122.6501}); r.Status != 404 {
			t.Fatalf("no such referral: %d %s", r.Status, r.Raw)
		}

		ok := h.do("PUT", ben+"/location", dispatcher, map[string]any{"lat": 45.46550 + 160.0/111_195, "lon": -122.65010})
		d, _ := ok.Body["distance_m"].(float64)
		if ok.Status != 200 || ok.Body["within_radius"] != true || d < 159 || d > 161 || ok.Body["status"] != "pending" {
			t.Fatalf("location: %d %s", ok.Status, ok.Raw)
		}
		var source string
		s.DB.Raw(`SELECT location_source FROM referrals WHERE referee_name = 'Ben Ortiz'`).Scan(&source)
		if source != "dispatcher" {
			t.Fatalf("location_source %q", source)
		}
		if r := h.do("GET", ben+"/suggestions", dispatcher, nil); r.Status != 200 || len(r.Body["suggestions"].([]any)) == 0 {
			t.Fatalf("suggestions after the location: %d %s", r.Status, r.Raw)
		}
		log := h.must(200, "GET", ben+"/decisions", nil)
		if located := itemWith(list(log.Body, "decisions"), "action", "located"); located == nil || !strings.HasPrefix(fmt.Sprint(located["actor"]), "dispatcher key #") {
			t.Fatalf("decisions: %s", log.Raw)
		}

		// Ben becomes a customer and completes his first visit: converted.
		h.must(201, "PUT", "/api/v1/customers/ben", map[string]any{"name": "Ben Ortiz", "phone": "503 555 0199", "address": "30 SE Maple St, Portland",
			"lat": 45.4655, "lon": -122.64805, "consent_same_day": true})
		h.must(201, "PUT", "/api/v1/visits/v-ben", map[string]any{"customer_id": "ben", "crew_id": "north", "service_date": "2026-05-01",
			"status": "completed", "price_cents": 4500})
		if r := h.must(200, "GET", ben, nil); r.Body["status"] != "converted" {
			t.Fatalf("Ben did not convert: %s", r.Raw)
		}
		conv := h.do("PUT", ben+"/location", dispatcher, map[string]any{"lat": 45.4, "lon": -122.6})
		if conv.Status != 409 || conv.errorCode() != "conflict" || conv.message() != "referral "+strings.TrimPrefix(ben, "/api/v1/referrals/")+
			" is converted: the friend is a customer now, and their location comes from the scheduler" {
			t.Fatalf("converted: %d %s", conv.Status, conv.Raw)
		}
		// A rejected referral: closed, a conflict too.
		cleo := refer("Cleo Park", "503 555 0142")
		h.must(200, "POST", cleo+"/reject", map[string]any{"reason": "she called to say no"})
		if r := h.do("PUT", cleo+"/location", dispatcher, map[string]any{"lat": 45.4, "lon": -122.6}); r.Status != 409 || r.errorCode() != "conflict" ||
			r.message() != "referral "+strings.TrimPrefix(cleo, "/api/v1/referrals/")+" is rejected: it is closed, so the friend's location is no longer needed" {
			t.Fatalf("rejected: %d %s", r.Status, r.Raw)
		}
	})
}
