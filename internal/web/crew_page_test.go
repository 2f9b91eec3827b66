package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/routeloop/routeloop/internal/crew"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
)

// qrImg is a QR code inlined as a PNG (html/template writes + as &#43;).
var qrImg = regexp.MustCompile(`<img src="data:image/png;base64,([A-Za-z0-9/=]|&#43;){100,}"`)

// route puts customers on crew-a's route on the test clock's day
// (2026-05-01 in Los Angeles) and a crew-b with a stop of its own; it
// returns the customers' referral codes.
func (x *staffSite) route() map[string]string {
	ctx := context.Background()
	loc := x.green.Location()
	lat, lon := 45.5, -122.6
	if _, _, err := x.a.Mirror.PutCrew(ctx, x.green.ID, "crew-b", mirror.CrewInput{Name: "B team", DepotLat: &lat, DepotLon: &lon,
		Members: []mirror.MemberInput{{ExternalID: "m2", Name: "Olu Ade"}}}); err != nil {
		x.t.Fatal(err)
	}
	codes := map[string]string{}
	for i, c := range []struct{ id, name, crew string }{
		{"angie", "<script>alert(1)</script> Ng", "crew-a"},
		{"ben", "Ben Okafor", "crew-a"},
		{"cleo", "Cleo Other-Crew", "crew-b"},
	} {
		cust, _, err := x.a.Mirror.PutCustomer(ctx, x.green.ID, c.id, mirror.CustomerInput{Name: c.name, Address: "1 Maple St, Portland"})
		if err != nil {
			x.t.Fatal(err)
		}
		codes[c.id] = cust.ReferralCode
		pos, crew := i+1, c.crew
		if _, _, err := x.a.Mirror.PutVisit(ctx, x.green.ID, loc, "v-"+c.id, mirror.VisitInput{CustomerID: c.id, CrewID: &crew,
			ServiceDate: "2026-05-01", RoutePosition: &pos, Status: "scheduled", PriceCents: 4500}); err != nil {
			x.t.Fatal(err)
		}
	}
	return codes
}

func TestCrewTodayPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newStaffSite(t, s)
		codes := x.route()

		if rec := x.get("/crew/today"); rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/login") {
			t.Fatalf("signed out: %d %q", rec.Code, rec.Header().Get("Location"))
		}

		ck := x.session("marisol@greenway.example")
		page := x.get("/crew/today", ck)
		body := page.Body.String()
		if page.Code != 200 {
			t.Fatalf("crew today: %d\n%s", page.Code, body)
		}
		for _, want := range []string{"2026-05-01", "Marisol Vega", "Pitch now", "No rating yet and no complaint",
			"Tell your friends about us", codes["angie"], codes["ben"], "Ben Okafor", "&lt;script&gt;alert(1)&lt;/script&gt; Ng",
			`action="/crew/today/pitch"`, `action="/crew/today/referral"`, `value="v-angie"`} {
			if !strings.Contains(body, want) {
				t.Errorf("the page lacks %q", want)
			}
		}
		if n := len(qrImg.FindAllString(body, -1)); n != 2 {
			t.Errorf("%d QR images, want 2", n)
		}
		if strings.Contains(body, "<script>alert") {
			t.Fatalf("hostile name not escaped:\n%s", body)
		}
		// A crew login sees its own crew only.
		if strings.Contains(body, "Cleo") || strings.Contains(body, codes["cleo"]) {
			t.Errorf("crew-a's login sees crew-b's stop")
		}
		if strings.Index(body, codes["angie"]) > strings.Index(body, codes["ben"]) {
			t.Errorf("stops out of route order")
		}

		// Without the token the pitch is refused and nothing is stored.
		token := formToken(t, page)
		if rec := x.post("/crew/today/pitch", url.Values{"visit": {"v-angie"}, "outcome": {"pitched"}}, ck); rec.Code != http.StatusForbidden {
			t.Fatalf("no token: %d", rec.Code)
		}
		if n := storetest.Count(t, s.DB, "pitches"); n != 0 {
			t.Fatalf("%d pitches after a refused post", n)
		}
		// A crew member can't log a pitch at another crew's stop.
		if rec := x.post("/crew/today/pitch", url.Values{"visit": {"v-cleo"}, "outcome": {"pitched"}, "csrf_token": {token}}, ck); rec.Code != 422 ||
			!strings.Contains(rec.Body.String(), "not on your crew") {
			t.Fatalf("other crew's visit: %d", rec.Code)
		}
		rec := x.post("/crew/today/pitch", url.Values{"visit": {"v-angie"}, "outcome": {"pitched"}, "csrf_token": {token}}, ck)
		if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/crew/today") {
			t.Fatalf("pitch: %d %q\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
		}
		var pitches []struct {
			Outcome, Member, Visit string
		}
		s.DB.Raw(`SELECT p.outcome, m.external_id AS member, v.external_id AS visit FROM pitches p
			JOIN crew_members m ON m.id = p.crew_member_id JOIN visits v ON v.id = p.visit_id`).Scan(&pitches)
		if len(pitches) != 1 || pitches[0].Outcome != "pitched" || pitches[0].Member != "m1" || pitches[0].Visit != "v-angie" {
			t.Fatalf("stored pitches %+v", pitches)
		}

		// A name-only referral at Ben's.
		rec = x.post("/crew/today/referral", url.Values{"visit": {"v-ben"}, "name": {"Dana <b>Friend</b>"}, "phone": {"+1 503 555 0100"},
			"csrf_token": {token}}, ck)
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("referral: %d\n%s", rec.Code, rec.Body.String())
		}
		var outcome string
		s.DB.Raw(`SELECT p.outcome FROM pitches p JOIN visits v ON v.id = p.visit_id WHERE v.external_id = 'v-ben'`).Scan(&outcome)
		if outcome != "referral_given" || storetest.Count(t, s.DB, "referrals") != 1 {
			t.Fatalf("referral pitch %q, %d referrals", outcome, storetest.Count(t, s.DB, "referrals"))
		}
		if bad := x.post("/crew/today/referral", url.Values{"visit": {"v-ben"}, "name": {"No Phone"}, "csrf_token": {token}}, ck); bad.Code != 422 {
			t.Fatalf("referral without phone: %d", bad.Code)
		}

		// Back on the page: Angie is pitched, Ben gave a friend, and the points show.
		page = x.get(rec.Header().Get("Location"), ck)
		body = page.Body.String()
		for _, want := range []string{"Referral saved", "Pitched ✓", "Friend given ✓", "Last pitched 2026-05-01", "points"} {
			if !strings.Contains(body, want) {
				t.Errorf("after logging, the page lacks %q", want)
			}
		}

		// A dispatcher picks a crew.
		dk := x.session("dispatcher@greenway.example")
		if rec := x.get("/crew/today", dk); rec.Code != 200 || !strings.Contains(rec.Body.String(), "B team") {
			t.Fatalf("dispatcher chooser: %d", rec.Code)
		}
		rec = x.get("/crew/today?crew=crew-b", dk)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), codes["cleo"]) || strings.Contains(rec.Body.String(), codes["ben"]) {
			t.Fatalf("dispatcher, crew-b: %d", rec.Code)
		}
		dtok := formToken(t, rec)
		rec = x.post("/crew/today/pitch", url.Values{"visit": {"v-cleo"}, "outcome": {"declined"}, "crew": {"crew-b"}, "member": {"m2"},
			"date": {"2026-05-01"}, "csrf_token": {dtok}}, dk)
		if rec.Code != http.StatusSeeOther || !strings.Contains(rec.Header().Get("Location"), "crew=crew-b") {
			t.Fatalf("dispatcher pitch: %d %q", rec.Code, rec.Header().Get("Location"))
		}
		if rec := x.get("/crew/today?crew=nope", dk); rec.Code != 404 {
			t.Fatalf("unknown crew: %d", rec.Code)
		}
	})
}

func TestReferralCardsPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newStaffSite(t, s)
		codes := x.route()
		if rec := x.get("/cards?crew=crew-a&date=2026-05-01"); rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/login") {
			t.Fatalf("signed out: %d", rec.Code)
		}
		if rec := x.get("/cards", x.session("marisol@greenway.example")); rec.Code != http.StatusForbidden {
			t.Fatalf("crew login: %d", rec.Code)
		}
		ck := x.session("dispatcher@greenway.example")
		rec := x.get("/cards?crew=crew-a&date=2026-05-01", ck)
		body := rec.Body.String()
		if rec.Code != 200 {
			t.Fatalf("cards: %d\n%s", rec.Code, body)
		}
		if n := strings.Count(body, `<article class="card">`); n != 2 {
			t.Errorf("%d cards, want 2", n)
		}
		for _, want := range []string{codes["angie"], codes["ben"], "Ben invites you", "off your first visit", "@page", "size: A4"} {
			if !strings.Contains(body, want) {
				t.Errorf("cards lack %q", want)
			}
		}
		if strings.Contains(body, codes["cleo"]) || strings.Contains(body, "<script>alert") {
			t.Errorf("another crew's customer, or an unescaped name:\n%s", body)
		}
		if n := len(qrImg.FindAllString(body, -1)); n != 2 {
			t.Errorf("%d QR images, want 2", n)
		}

		rec = x.get("/cards?customers=cleo,ben,ghost&paper=letter", ck)
		body = rec.Body.String()
		if rec.Code != 200 || strings.Count(body, `<article class="card">`) != 2 || !strings.Contains(body, codes["cleo"]) ||
			!strings.Contains(body, "No customer with id ghost") || !strings.Contains(body, "size: letter") {
			t.Fatalf("customer list: %d\n%s", rec.Code, body)
		}

		// Nine customers make two sheets.
		var ids []string
		for i := 0; i < 9; i++ {
			id := "c" + string(rune('a'+i))
			x.customer(x.green.ID, id, "Name "+id)
			ids = append(ids, id)
		}
		rec = x.get("/cards?customers="+strings.Join(ids, ","), ck)
		if n := strings.Count(rec.Body.String(), `<section class="sheet`); n != 2 {
			t.Fatalf("%d sheets for 9 cards", n)
		}
	})
}

// Ben complained and then rated the visit 5: his stop still says skip,
// quoting the complaint, and a pitch posted there anyway (the page offers
// no Pitched button there; a page opened before the complaint did) is kept
// with a word that it earns no points.
func TestCrewTodayPageShowsAnOpenComplaintAndANoPointsPitch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newStaffSite(t, s)
		x.route()
		ctx := context.Background()
		one, five := 1, 5
		for _, in := range []crew.RatingInput{{Score: &one, Comment: "they broke my fence", Complaint: true}, {Score: &five}} {
			if _, _, err := x.a.Crew.Rate(ctx, x.green.ID, "v-ben", in); err != nil {
				t.Fatal(err)
			}
		}
		ck := x.session("marisol@greenway.example")
		page := x.get("/crew/today", ck)
		body := page.Body.String()
		ben := parseDOM(t, body).one("#stop-2").text()
		for _, want := range []string{"Skip", `Open complaint: "they broke my fence"`, "earns no points"} {
			if !strings.Contains(ben, want) {
				t.Errorf("Ben's stop lacks %q", want)
			}
		}
		rec := x.post("/crew/today/pitch", url.Values{"visit": {"v-ben"}, "outcome": {"pitched"}, "csrf_token": {formToken(t, page)}}, ck)
		if rec.Code != http.StatusSeeOther || !strings.Contains(rec.Header().Get("Location"), "done=no_points") {
			t.Fatalf("pitch at Ben's: %d %q", rec.Code, rec.Header().Get("Location"))
		}
		if n := storetest.Count(t, s.DB, "pitches"); n != 1 {
			t.Fatalf("%d pitches", n)
		}
		if after := x.get(rec.Header().Get("Location"), ck).Body.String(); !strings.Contains(after, "No points for this one") {
			t.Errorf("no word that the pitch earns nothing")
		}
	})
}
