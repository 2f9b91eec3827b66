package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/routeloop/routeloop/internal/dispatch"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/neighbor"
	"github.com/routeloop/routeloop/internal/referral"
	"github.com/routeloop/routeloop/internal/scheduling"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
)

// bookForm finds the first Book form's fields on the board.
var bookForm = regexp.MustCompile(`(?s)<form class="inline" method="post" action="/dispatch/book">(.*?)</form>`)
var hiddenField = regexp.MustCompile(`name="([a-z_]+)" value="([^"]*)"`)

func TestTheDispatchBoard(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newStaffSite(t, s)
		ctx := context.Background()
		ten := x.green
		loc := ten.Location()
		put := func(id, name, address string, lat, lon float64) {
			t.Helper()
			if _, _, err := x.a.Mirror.PutCustomer(ctx, ten.ID, id, scheduling.CustomerInput{Name: name, Address: address,
				Lat: &lat, Lon: &lon, ConsentSameDay: true}); err != nil {
				t.Fatal(err)
			}
		}
		crewA := "crew-a"
		visit := func(id, customer, day string, pos int) {
			t.Helper()
			if _, _, err := x.a.Mirror.PutVisit(ctx, ten.ID, loc, id, scheduling.VisitInput{CustomerID: customer, CrewID: &crewA,
				ServiceDate: day, RoutePosition: &pos, Status: "scheduled", PriceCents: 4500}); err != nil {
				t.Fatal(err)
			}
		}
		// The crew's depot is 45.5, -122.6; Angie and Carl are on Monday's route.
		put("angie", "Angie <script>alert(1)</script>", "14 SE Maple St, Portland", 45.4655, -122.6501)
		put("carl", "Carl", "200 SE Oak St, Portland", 45.4700, -122.6400)
		visit("v-angie", "angie", "2026-05-04", 1)
		visit("v-carl", "carl", "2026-05-04", 2)
		// Dana is Angie's linked neighbour, also booked that day.
		put("dana", "Dana", "20 SE Maple St, Portland", 45.4656, -122.6495)
		visit("v-dana", "dana", "2026-05-04", 3)
		if _, _, err := x.a.Neighbors.CreateLink(ctx, ten.ID, neighbor.LinkInput{CustomerA: "angie", CustomerB: "dana"}); err != nil {
			t.Fatal(err)
		}
		// Ben, Angie's friend, is a customer now with no visit; Eve is not one yet.
		put("ben", "Ben <b>Friend</b>", "30 SE Maple St, Portland", 45.4655, -122.64805)
		lat, lon := 45.4660, -122.6490
		for _, in := range []referral.Input{
			{ReferrerID: "angie", Channel: referral.ChannelCode, Referee: referral.RefereeInput{Name: "Ben <b>Friend</b>", ExternalID: "ben", Phone: "5035550101"}},
			{ReferrerID: "angie", Channel: referral.ChannelCode, Referee: referral.RefereeInput{Name: "Eve <script>x</script>", Phone: "5035550102",
				Address: "40 SE Maple St, Portland", Lat: &lat, Lon: &lon}},
		} {
			if _, _, err := x.a.Referrals.Create(ctx, ten.ID, "test", in); err != nil {
				t.Fatal(err)
			}
		}

		ck := x.session("dispatcher@greenway.example")
		page := x.get("/dispatch?date=2026-05-04", ck)
		body := page.Body.String()
		if page.Code != 200 {
			t.Fatalf("board: %d\n%s", page.Code, body)
		}
		for _, want := range []string{"Referrals needing a visit", "Ben &lt;b&gt;Friend&lt;/b&gt;", "2026-05-04", "saves ",
			"vs a separate trip", "Linked neighbour that day: Angie &lt;script&gt;", "ask the scheduler to add them first",
			"Eve &lt;script&gt;x&lt;/script&gt;", `action="/dispatch/book"`, "<svg", "<polyline", `class="link"`} {
			if !strings.Contains(body, want) {
				t.Errorf("the board lacks %q", want)
			}
		}
		if strings.Contains(body, "<script>") || strings.Contains(body, "<b>Friend") {
			t.Fatalf("unescaped name on the board:\n%s", body)
		}
		// Names in the SVG are escaped too.
		svg := body[strings.Index(body, "<svg"):strings.Index(body, "</svg>")]
		if !strings.Contains(svg, `<text class="name"`) || !strings.Contains(svg, "Angie &lt;script&gt;") || strings.Contains(svg, "Ben") {
			t.Fatalf("svg:\n%s", svg)
		}
		// One Book form per suggestion of Ben only (Eve is not a customer).
		forms := bookForm.FindAllStringSubmatch(body, -1)
		if len(forms) == 0 || len(forms) > 3 {
			t.Fatalf("%d book forms", len(forms))
		}
		f := url.Values{}
		for _, m := range hiddenField.FindAllStringSubmatch(forms[0][1], -1) {
			f.Set(m[1], m[2])
		}
		if f.Get("customer_id") != "ben" || f.Get("csrf_token") == "" || f.Get("date") != "2026-05-04" || f.Get("crew_id") != "crew-a" {
			t.Fatalf("book form %v", f)
		}

		// Without the token the form is refused and nothing is booked.
		noToken := url.Values{"customer_id": {"ben"}, "date": {"2026-05-04"}, "crew_id": {"crew-a"}}
		if rec := x.post("/dispatch/book", noToken, ck); rec.Code != http.StatusForbidden {
			t.Fatalf("book without token: %d", rec.Code)
		}
		if n := storetest.Count(t, s.DB, "visits"); n != 3 {
			t.Fatalf("%d visits after a refused form", n)
		}

		// Booking through the form: a visit, a flash, and a stop on the map.
		rec := x.post("/dispatch/book", f, ck)
		loc2 := rec.Header().Get("Location")
		if rec.Code != http.StatusSeeOther || !strings.HasPrefix(loc2, "/dispatch?") {
			t.Fatalf("book: %d %q\n%s", rec.Code, loc2, rec.Body.String())
		}
		route, err := x.a.Dispatch.Route(ctx, ten.ID, "crew-a", localdate.Date{Year: 2026, Month: 5, Day: 4})
		if err != nil {
			t.Fatal(err)
		}
		var booked *dispatch.RouteStop
		for i := range route.Stops {
			if route.Stops[i].CustomerID == "ben" {
				booked = &route.Stops[i]
			}
		}
		if booked == nil || len(route.Stops) != 4 {
			t.Fatalf("route after booking: %+v", route.Stops)
		}
		var source string
		s.DB.Raw(`SELECT source FROM visits WHERE external_id = ?`, booked.VisitID).Scan(&source)
		if source != "routeloop" {
			t.Fatalf("stored visit source %q", source)
		}
		after := x.get(loc2, ck)
		body = after.Body.String()
		if after.Code != 200 || !strings.Contains(body, "Booked Ben &lt;b&gt;Friend&lt;/b&gt; with A on 2026-05-04") {
			t.Fatalf("after booking: %d\n%s", after.Code, body)
		}
		svg = body[strings.Index(body, "<svg"):strings.Index(body, "</svg>")]
		if !strings.Contains(svg, "Ben &lt;b&gt;Friend&lt;/b&gt;") || strings.Count(svg, `<circle class="stop"`) != 4 {
			t.Fatalf("svg after booking:\n%s", svg)
		}
		// Ben has a visit now: he leaves the list; Eve stays.
		if strings.Contains(body, `aria-label="Referral Ben`) || !strings.Contains(body, `aria-label="Referral Eve`) {
			t.Fatalf("needs after booking:\n%s", body)
		}

		// Filters: another crew that does not exist; a bad date.
		if rec := x.get("/dispatch?crew=nobody", ck); rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "There is no crew nobody") {
			t.Fatalf("unknown crew: %d", rec.Code)
		}
		if rec := x.get("/dispatch?date=2026-13-40", ck); rec.Code != http.StatusBadRequest {
			t.Fatalf("bad date: %d", rec.Code)
		}
		if rec := x.get("/dispatch?date=2026-05-04&crew=crew-a", ck); rec.Code != 200 || !strings.Contains(rec.Body.String(), `<option value="crew-a" selected>`) {
			t.Fatalf("crew filter: %d", rec.Code)
		}
		// Booking a day in the past says why, without booking.
		f.Set("date", "2026-04-01")
		if rec := x.post("/dispatch/book", f, ck); rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "Not booked") {
			t.Fatalf("past booking: %d", rec.Code)
		}

		// A crew login cannot open the board or book; signed out → sign in.
		crew := x.session("marisol@greenway.example")
		if rec := x.get("/dispatch", crew); rec.Code != http.StatusForbidden {
			t.Fatalf("crew: %d", rec.Code)
		}
		if rec := x.post("/dispatch/book", f, crew); rec.Code != http.StatusForbidden {
			t.Fatalf("crew book: %d", rec.Code)
		}
		if rec := x.get("/dispatch"); rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/login") {
			t.Fatalf("signed out: %d %q", rec.Code, rec.Header().Get("Location"))
		}
	})
}
