package httpapi_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// crewDay is Greenway on Friday 2026-05-01: the North crew (Sam) mowed
// Angie's lawn, the South crew (Sue) Ben's, both rated; Cara has no visit yet. north is
// a key bound to the North crew.
type crewDay struct {
	*harness
	north string
}

func newCrewDay(t *testing.T, s *store.Store) crewDay {
	h := newHarness(t, s)
	for _, st := range []struct {
		path string
		body any
	}{
		{"/api/v1/customers/angie", map[string]any{"name": "Angie Baker", "phone": "503 555 0101", "address": "14 Maple St", "lat": 45.4655, "lon": -122.6501, "consent_same_day": true}},
		{"/api/v1/customers/ben", map[string]any{"name": "Ben Ochoa", "phone": "503 555 0102", "address": "9 Oak Ave", "lat": 45.5, "lon": -122.6, "consent_same_day": true}},
		{"/api/v1/customers/cara", map[string]any{"name": "Cara Diaz", "phone": "503 555 0103", "address": "3 Pine Rd", "lat": 45.52, "lon": -122.62}},
		{"/api/v1/crews/north", map[string]any{"name": "North crew", "depot_lat": 45.55, "depot_lon": -122.66, "members": []any{map[string]any{"external_id": "sam", "name": "Sam"}}}},
		{"/api/v1/crews/south", map[string]any{"name": "South crew", "depot_lat": 45.45, "depot_lon": -122.6, "members": []any{map[string]any{"external_id": "sue", "name": "Sue"}}}},
		{"/api/v1/visits/v-angie", map[string]any{"customer_id": "angie", "crew_id": "north", "service_date": "2026-05-01", "status": "completed", "price_cents": 4500}},
		{"/api/v1/visits/v-ben", map[string]any{"customer_id": "ben", "crew_id": "south", "service_date": "2026-05-01", "status": "completed", "price_cents": 5200}},
	} {
		h.must(-1, http.MethodPut, st.path, st.body)
	}
	h.must(-1, http.MethodPost, "/api/v1/visits/v-angie/rating", map[string]any{"score": 4})
	h.must(-1, http.MethodPost, "/api/v1/visits/v-ben/rating", map[string]any{"score": 3})
	key, k, err := h.app.Tenants.IssueCrewKey(context.Background(), h.greenway, "north", "north tablet")
	if err != nil || k.Role != tenant.RoleCrew || k.Crew != "north" {
		t.Fatalf("IssueCrewKey: %+v %v", k, err)
	}
	return crewDay{harness: h, north: key}
}

// listOf returns the external ids of a list answer.
func listOf(t *testing.T, r response, name string) []string {
	t.Helper()
	items, ok := r.Body[name].([]any)
	if r.Status != http.StatusOK || !ok {
		t.Fatalf("status %d, want 200 with %s: %s", r.Status, name, r.Raw)
	}
	var ids []string
	for _, it := range items {
		ids = append(ids, it.(map[string]any)["external_id"].(string))
	}
	sort.Strings(ids)
	return ids
}

// crewBoundCase is one route a crew key reaches: what the North key asks
// naming the South crew's object (other), the same with an id nobody has
// (unknown), and its own (mine), which must work.
type crewBoundCase struct {
	method            string
	other, unknown    string // paths
	otherBody, unBody any
	otherID, unID     string // how the two differ, to compare their answers
	mine              string
	mineBody          any
	// list: the answer's list and the ids it must hold (for lists, other
	// and unknown are not compared: they must list exactly these).
	list string
	want []string
}

func crewBoundCases() map[string]crewBoundCase {
	pitch := func(visit, member string) map[string]any {
		return map[string]any{"visit_id": visit, "crew_member_id": member, "outcome": "pitched"}
	}
	ref := func(k, v, member string) map[string]any {
		return map[string]any{"channel": "crew_pitch", k: v, "crew_member_id": member, "referee": map[string]any{"name": "Dot Evans", "phone": "503 555 0199"}}
	}
	return map[string]crewBoundCase{
		"GET /api/v1/customers/:external_id": {method: "GET", other: "/api/v1/customers/ben", unknown: "/api/v1/customers/nobody",
			otherID: "ben", unID: "nobody", mine: "/api/v1/customers/angie"},
		"GET /api/v1/customers/:external_id/referral-status": {method: "GET", other: "/api/v1/customers/ben/referral-status",
			unknown: "/api/v1/customers/nobody/referral-status", otherID: "ben", unID: "nobody", mine: "/api/v1/customers/angie/referral-status"},
		"GET /api/v1/customers/:external_id/referral-links": {method: "GET", other: "/api/v1/customers/ben/referral-links",
			unknown: "/api/v1/customers/nobody/referral-links", otherID: "ben", unID: "nobody", mine: "/api/v1/customers/angie/referral-links"},
		"GET /api/v1/customers": {method: "GET", other: "/api/v1/customers", unknown: "/api/v1/customers?updated_since=2000-01-01T00:00:00Z",
			mine: "/api/v1/customers?limit=1", list: "customers", want: []string{"angie"}},
		"GET /api/v1/crews/:external_id": {method: "GET", other: "/api/v1/crews/south", unknown: "/api/v1/crews/nobody",
			otherID: "south", unID: "nobody", mine: "/api/v1/crews/north"},
		"GET /api/v1/crews/:external_id/today": {method: "GET", other: "/api/v1/crews/south/today?date=2026-05-01",
			unknown: "/api/v1/crews/nobody/today?date=2026-05-01", otherID: "south", unID: "nobody", mine: "/api/v1/crews/north/today?date=2026-05-01"},
		"GET /api/v1/crews/:external_id/route": {method: "GET", other: "/api/v1/crews/south/route?date=2026-05-01",
			unknown: "/api/v1/crews/nobody/route?date=2026-05-01", otherID: "south", unID: "nobody", mine: "/api/v1/crews/north/route?date=2026-05-01"},
		"GET /api/v1/crews": {method: "GET", other: "/api/v1/crews", unknown: "/api/v1/crews?limit=100",
			mine: "/api/v1/crews?limit=1", list: "crews", want: []string{"north"}},
		"GET /api/v1/visits/:external_id": {method: "GET", other: "/api/v1/visits/v-ben", unknown: "/api/v1/visits/v-nobody",
			otherID: "v-ben", unID: "v-nobody", mine: "/api/v1/visits/v-angie"},
		"GET /api/v1/visits/:external_id/rating": {method: "GET", other: "/api/v1/visits/v-ben/rating", unknown: "/api/v1/visits/v-nobody/rating",
			otherID: "v-ben", unID: "v-nobody", mine: "/api/v1/visits/v-angie/rating"},
		"POST /api/v1/visits/:external_id/rating": {method: "POST", other: "/api/v1/visits/v-ben/rating", unknown: "/api/v1/visits/v-nobody/rating",
			otherBody: map[string]any{"score": 1}, unBody: map[string]any{"score": 1}, otherID: "v-ben", unID: "v-nobody",
			mine: "/api/v1/visits/v-angie/rating", mineBody: map[string]any{"score": 5}},
		// Asking for another crew's visits by filter lists nothing, as an unknown crew does.
		"GET /api/v1/visits": {method: "GET", other: "/api/v1/visits?crew_id=south", unknown: "/api/v1/visits?customer_id=ben",
			mine: "/api/v1/visits", list: "visits", want: nil},
		"POST /api/v1/pitches": {method: "POST", other: "/api/v1/pitches", unknown: "/api/v1/pitches",
			otherBody: pitch("v-ben", "sam"), unBody: pitch("v-nobody", "sam"), otherID: "v-ben", unID: "v-nobody",
			mine: "/api/v1/pitches", mineBody: pitch("v-angie", "sam")},
		"POST /api/v1/referrals": {method: "POST", other: "/api/v1/referrals", unknown: "/api/v1/referrals",
			otherBody: ref("referrer_id", "ben", "sam"), unBody: ref("referrer_id", "nobody", "sam"), otherID: "ben", unID: "nobody",
			mine: "/api/v1/referrals", mineBody: ref("referrer_id", "angie", "sam")},
		"GET /api/v1/scripts":          {method: "GET", mine: "/api/v1/scripts"},
		"GET /api/v1/crew/leaderboard": {method: "GET", mine: "/api/v1/crew/leaderboard?period=year"},
		"GET /api/v1/crew/milestones":  {method: "GET", mine: "/api/v1/crew/milestones"},
	}
}

// crewRows are the tables a crew key's writes touch.
func crewRows(t *testing.T, s *store.Store) map[string]int64 {
	out := map[string]int64{}
	for _, tb := range []string{"pitches", "referrals", "ratings", "crew_points", "customers", "visits"} {
		out[tb] = storetest.Count(t, s.DB, tb)
	}
	return out
}

// sameAnswer fails unless other and unknown got the same status, code,
// fields and message (but for the id they name).
func sameAnswer(t *testing.T, other, unknown response, otherID, unID string) {
	t.Helper()
	if other.Status != http.StatusNotFound && other.Status != http.StatusUnprocessableEntity {
		t.Fatalf("another crew's object: status %d, want 404 or 422: %s", other.Status, other.Raw)
	}
	o := strings.ReplaceAll(string(other.Raw), otherID, "ID")
	u := strings.ReplaceAll(string(unknown.Raw), unID, "ID")
	if other.Status != unknown.Status || o != u {
		t.Fatalf("another crew's object answers unlike an unknown one:\n%d %s\n%d %s", other.Status, other.Raw, unknown.Status, unknown.Raw)
	}
	// Another crew's details must not show anywhere in the answer: the whole body is searched.
	for _, leak := range []string{"Ben", "Ochoa", "9 Oak", "0102", "South crew", "Sue"} {
		if strings.Contains(string(other.Raw), leak) {
			t.Fatalf("answer shows %q: %s", leak, other.Raw)
		}
	}
}

func TestACrewBoundKeySeesOnlyItsCrew(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		d := newCrewDay(t, s)
		cases := crewBoundCases()
		for name, tc := range cases {
			t.Run(name, func(t *testing.T) {
				if tc.other != "" {
					before := crewRows(t, s)
					other := d.do(tc.method, tc.other, d.north, tc.otherBody)
					unknown := d.do(tc.method, tc.unknown, d.north, tc.unBody)
					if tc.list != "" {
						for _, r := range []response{other, unknown} {
							if got := listOf(t, r, tc.list); strings.Join(got, ",") != strings.Join(tc.want, ",") {
								t.Fatalf("listed %v, want %v: %s", got, tc.want, r.Raw)
							}
						}
					} else {
						sameAnswer(t, other, unknown, tc.otherID, tc.unID)
					}
					if after := crewRows(t, s); !maps.Equal(after, before) {
						t.Fatalf("rows changed: %v -> %v", before, after)
					}
				}
				mine := d.do(tc.method, tc.mine, d.north, tc.mineBody)
				if mine.Status != http.StatusOK && mine.Status != http.StatusCreated {
					t.Fatalf("its own: %d %s", mine.Status, mine.Raw)
				}
				// Another crew's details must not show anywhere in the answer: the whole body is searched.
				for _, leak := range []string{"Ben Ochoa", "9 Oak", "555 0102", "v-ben"} {
					if strings.Contains(string(mine.Raw), leak) {
						t.Fatalf("its own answer shows %q: %s", leak, mine.Raw)
					}
				}
			})
		}
		// The list of its own: one customer of three, one crew of two, one visit of two.
		if got := listOf(t, d.do("GET", "/api/v1/customers", d.north, nil), "customers"); strings.Join(got, ",") != "angie" {
			t.Errorf("customers %v, want angie only", got)
		}
		if got := listOf(t, d.do("GET", "/api/v1/visits?crew_id=north", d.north, nil), "visits"); strings.Join(got, ",") != "v-angie" {
			t.Errorf("visits %v, want v-angie only", got)
		}
		if got := listOf(t, d.do("GET", "/api/v1/crews", d.north, nil), "crews"); strings.Join(got, ",") != "north" {
			t.Errorf("crews %v, want north only", got)
		}
		// Every route the crew role reaches has a case, and no case names a
		// route that is not there.
		crewKey := d.keys[tenant.RoleCrew]
		seen := map[string]bool{}
		for _, rt := range d.app.HTTP.Routes() {
			name := rt.Method + " " + rt.Path
			if !strings.HasPrefix(rt.Path, "/api/v1/") || rt.Method == echo.RouteNotFound || strings.HasSuffix(rt.Path, "/*") || name == "GET /api/v1/openapi.json" {
				continue
			}
			path := strings.NewReplacer(":external_id", "x", ":id", "1", ":name", "x").Replace(rt.Path)
			if r := d.do(rt.Method, path, crewKey, map[string]any{}); r.errorCode() == apperror.CodeForbidden {
				continue
			}
			seen[name] = true
			if _, ok := cases[name]; !ok {
				t.Errorf("the crew role reaches %s, which has no crew-bound case", name)
			}
		}
		for name := range cases {
			if !seen[name] {
				t.Errorf("case %s is not a route the crew role reaches", name)
			}
		}
	})
}

// Writes naming another crew's member or customer in the body are refused
// as an unknown one is; nothing is stored.
func TestACrewBoundKeyCannotWriteForAnotherCrew(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		d := newCrewDay(t, s)
		benCode := d.must(200, "GET", "/api/v1/customers/ben", nil).Body["referral_code"].(string)
		friend := map[string]any{"name": "Dot Evans", "phone": "503 555 0199"}
		cases := []struct {
			name           string
			path           string
			other, unknown map[string]any
			otherID, unID  string
			status         int
			field          string
		}{
			{"pitch by another crew's member", "/api/v1/pitches",
				map[string]any{"visit_id": "v-angie", "crew_member_id": "sue", "outcome": "pitched"},
				map[string]any{"visit_id": "v-angie", "crew_member_id": "nobody", "outcome": "pitched"}, "sue", "nobody", 422, "crew_member_id"},
			{"pitch naming a friend off its routes", "/api/v1/pitches",
				map[string]any{"visit_id": "v-angie", "crew_member_id": "sam", "outcome": "referral_given", "referee": map[string]any{"customer_id": "ben", "name": "Ben"}},
				map[string]any{"visit_id": "v-angie", "crew_member_id": "sam", "outcome": "referral_given", "referee": map[string]any{"customer_id": "nobody", "name": "Ben"}},
				"ben", "nobody", 422, "referee.customer_id"},
			{"referral with another crew's member", "/api/v1/referrals",
				map[string]any{"channel": "crew_pitch", "referrer_id": "angie", "crew_member_id": "sue", "referee": friend},
				map[string]any{"channel": "crew_pitch", "referrer_id": "angie", "crew_member_id": "nobody", "referee": friend}, "sue", "nobody", 422, "crew_member_id"},
			{"referral by another crew's customer's code", "/api/v1/referrals",
				map[string]any{"channel": "code", "referrer_code": benCode, "referee": friend},
				map[string]any{"channel": "code", "referrer_code": "ZZZZ-ZZZZ", "referee": friend}, benCode, "ZZZZ-ZZZZ", 404, ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := crewRows(t, s)
				other := d.do("POST", tc.path, d.north, tc.other)
				unknown := d.do("POST", tc.path, d.north, tc.unknown)
				sameAnswer(t, other, unknown, tc.otherID, tc.unID)
				if other.Status != tc.status || (tc.field != "" && other.field(tc.field) == "") {
					t.Fatalf("status %d field %s: %s", other.Status, tc.field, other.Raw)
				}
				if after := crewRows(t, s); !maps.Equal(after, before) {
					t.Fatalf("rows changed: %v -> %v", before, after)
				}
			})
		}
		// What the engine finds about customers off its routes stays out of
		// its answers: a friend who is another crew's customer, and who
		// referred a friend first.
		for _, tc := range []struct {
			name  string
			first map[string]any // an earlier referral, by the admin
			body  map[string]any
		}{
			{"a friend who is another crew's customer", nil,
				map[string]any{"channel": "crew_pitch", "referrer_id": "angie", "crew_member_id": "sam", "referee": map[string]any{"name": "Dot Evans", "phone": "503 555 0102"}}},
			{"a friend another crew's customer referred first",
				map[string]any{"channel": "card", "referrer_id": "ben", "referee": map[string]any{"name": "Eve Park", "phone": "503 555 0177"}},
				map[string]any{"channel": "crew_pitch", "referrer_id": "angie", "crew_member_id": "sam", "referee": map[string]any{"name": "Eve Park", "phone": "503 555 0177"}}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if tc.first != nil {
					d.must(201, "POST", "/api/v1/referrals", tc.first)
				}
				r := d.do("POST", "/api/v1/referrals", d.north, tc.body)
				if r.Status != 201 {
					t.Fatalf("%d %s", r.Status, r.Raw)
				}
				// Ben, another crew's customer, must not show anywhere in the answer: the whole body is searched.
				for _, leak := range []string{`"ben"`, "by ben", "Ochoa", "9 Oak"} {
					if strings.Contains(string(r.Raw), leak) {
						t.Fatalf("answer shows %s: %s", leak, r.Raw)
					}
				}
				if tc.first == nil && r.Body["distance_m"] != nil {
					t.Fatalf("answer shows the distance to ben's home: %s", r.Raw)
				}
				if tc.first != nil && (r.Body["status"] != "duplicate" || !strings.Contains(r.Body["note"].(string), "another customer")) {
					t.Fatalf("want a duplicate saying another customer referred first: %s", r.Raw)
				}
				if admin := d.must(200, "GET", fmt.Sprintf("/api/v1/referrals/%.0f", r.Body["id"].(float64)), nil); tc.first == nil &&
					admin.Body["referee"].(map[string]any)["customer_id"] != "ben" {
					t.Fatalf("the dispatcher should see the friend is ben: %s", admin.Raw)
				}
			})
		}
		// A name is looked up among every customer: a bound key names the referrer by id or code.
		r := d.do("POST", "/api/v1/referrals", d.north, map[string]any{"channel": "name_only", "referrer_name": "Ben Ochoa",
			"referrer_phone": "503 555 0102", "referee": friend})
		if r.Status != 422 || r.field("referrer_name") == "" || storetest.Count(t, s.DB, "referrals") != 3 {
			t.Fatalf("name-only referral: %d %s", r.Status, r.Raw)
		}
	})
}

// A crew key without a crew keeps the tenant-wide view.
func TestAnUnboundCrewKeySeesEveryCrew(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		d := newCrewDay(t, s)
		k := d.keys[tenant.RoleCrew]
		if got := listOf(t, d.do("GET", "/api/v1/customers", k, nil), "customers"); strings.Join(got, ",") != "angie,ben,cara" {
			t.Errorf("customers %v", got)
		}
		if got := listOf(t, d.do("GET", "/api/v1/visits", k, nil), "visits"); strings.Join(got, ",") != "v-angie,v-ben" {
			t.Errorf("visits %v", got)
		}
		if r := d.do("GET", "/api/v1/crews/south/today?date=2026-05-01", k, nil); r.Status != 200 {
			t.Errorf("south's day: %d %s", r.Status, r.Raw)
		}
		if r := d.do("POST", "/api/v1/pitches", k, map[string]any{"visit_id": "v-ben", "crew_member_id": "sue", "outcome": "pitched"}); r.Status != 201 {
			t.Errorf("pitch at Ben's: %d %s", r.Status, r.Raw)
		}
	})
}
