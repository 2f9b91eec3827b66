package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/routeloop/routeloop/geo"
	"github.com/routeloop/routeloop/internal/config"
	"github.com/routeloop/routeloop/internal/geocode/geocodetest"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// Ben, referred by Maple 1, gives only his address. The geocoder places
// him two doors down, so the answer already knows he is within the radius
// and how far, and the dispatcher gets suggestions for him — next to Maple 1
// on North's Tuesday — before the scheduler has ever heard of him. Cara's
// sign-up while the geocoder is down is kept, says why her location is
// unknown, and has no suggestions yet.
func TestAGeocodedFriendGetsSuggestionsBeforeTheScheduler(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ben := geo.Point{Lat: 45.4655, Lon: -122.6500 + 2*0.00128} // where Maple 2 would be, 100 m from Maple 1
		fake := geocodetest.New(t, map[string]geo.Point{"120 SE Maple St, Portland OR": ben})
		cfg := config.Defaults()
		cfg.GeocoderURL = fake.URL
		h := newHarnessWith(t, s, cfg)
		h.mapleStreet(2)
		for i, id := range []string{"m0", "m1"} {
			h.must(201, "PUT", "/api/v1/visits/tue-"+id, map[string]any{"customer_id": id, "crew_id": "north", "service_date": "2026-05-05",
				"route_position": i + 1, "duration_min": 30, "price_cents": 4500})
		}

		r := h.must(201, "POST", "/api/v1/referrals", map[string]any{"channel": "code", "referrer_id": "m1",
			"referee": map[string]any{"name": "Ben Ortiz", "phone": "(503) 555-0199", "address": "120 SE Maple St, Portland OR"}})
		referee, _ := r.Body["referee"].(map[string]any)
		if r.Body["location_source"] != "geocoded" || r.Body["location_note"] != "" || referee["lat"] != ben.Lat || referee["lon"] != ben.Lon {
			t.Fatalf("Ben's referral: %s", r.Raw)
		}
		if r.Body["within_radius"] != true || r.Body["distance_m"] != 100.0 {
			t.Fatalf("Ben is 100 m from Maple 1: within %v, distance %v", r.Body["within_radius"], r.Body["distance_m"])
		}
		id := int64(r.Body["id"].(float64))
		if got := h.must(200, "GET", fmt.Sprintf("/api/v1/referrals/%d", id), nil); got.Body["location_source"] != "geocoded" {
			t.Fatalf("read back: %s", got.Raw)
		}
		sg := h.must(200, "GET", fmt.Sprintf("/api/v1/referrals/%d/suggestions?from=2026-05-04&to=2026-05-08&duration_min=30", id), nil)
		slots, _ := sg.Body["suggestions"].([]any)
		if len(slots) == 0 {
			t.Fatalf("no suggestions for a geocoded friend: %s", sg.Raw)
		}
		best := slots[0].(map[string]any)
		nb, _ := best["linked_neighbor"].(map[string]any)
		if best["date"] != "2026-05-05" || best["crew_id"] != "north" || nb == nil || nb["customer_id"] != "m1" {
			t.Fatalf("best slot for Ben: %v", best)
		}

		fake.Fail(http.StatusServiceUnavailable)
		r = h.must(201, "POST", "/api/v1/referrals", map[string]any{"channel": "code", "referrer_id": "m1",
			"referee": map[string]any{"name": "Cara Diaz", "email": "cara@example.com", "address": "120 SE Maple St, Portland OR"}})
		if r.Body["location_source"] != "" || r.Body["location_note"] != "the geocoder answered with an error (HTTP 503)" || r.Body["distance_m"] != nil {
			t.Fatalf("Cara's referral: %s", r.Raw)
		}
		cara := int64(r.Body["id"].(float64))
		if x := h.do("GET", fmt.Sprintf("/api/v1/referrals/%d/suggestions", cara), h.keys[tenant.RoleAdmin], nil); x.Status != 422 {
			t.Fatalf("suggestions for a friend without a location: %d %s", x.Status, x.Raw)
		}
	})
}
