package web_test

import (
	"context"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/routeloop/routeloop/internal/dispatch"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/neighbor"
	"github.com/routeloop/routeloop/internal/referral"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
)

// bookForm finds the first Book form's fields on the board.
var bookForm = regexp.MustCompile(`(?s)<form class="inline" method="post" action="/dispatch/book">(.*?)</form>`)
var hiddenField = regexp.MustCompile(`name="([a-z_]+)" value="([^"]*)"`)

var (
	svgBlock  = regexp.MustCompile(`(?s)<svg\b.*?</svg>`)
	svgText   = regexp.MustCompile(`(?s)<text\b[^>]*>(.*?)</text>`)
	stopList  = regexp.MustCompile(`(?s)<ol class="stoplist".*?</ol>`)
	problemP  = regexp.MustCompile(`(?s)<p class="problem" role="alert">(.*?)</p>`)
	flashP    = regexp.MustCompile(`(?s)<p class="flash" role="status">(.*?)</p>`)
	markerRe  = regexp.MustCompile(`<circle class="stop( booked)?" cx="[^"]+" cy="[^"]+" r="10"><title>(\d+)\. ([^<]*)</title>`)
	stopItems = regexp.MustCompile(`(?s)<li id="stop-[^"]*"( class="booked" aria-current="true")?><span class="n" aria-hidden="true">(\d+)</span>\s*<div><strong>([^<]*)</strong>`)
)

// mapsOf returns the page's inline SVGs (route maps and their insets).
func mapsOf(t *testing.T, body string) []string {
	t.Helper()
	svgs := svgBlock.FindAllString(body, -1)
	if len(svgs) == 0 {
		t.Fatalf("no map on the page:\n%s", body)
	}
	return svgs
}

// assertNoNamesOnMaps checks that every text drawn on a map is a stop
// number: names belong to the stop list, where they cannot overlap.
func assertNoNamesOnMaps(t *testing.T, body string) {
	t.Helper()
	for _, svg := range mapsOf(t, body) {
		for _, m := range svgText.FindAllStringSubmatch(svg, -1) {
			if _, err := strconv.Atoi(m[1]); err != nil {
				t.Errorf("the map draws %q as text; only stop numbers belong there", m[1])
			}
		}
	}
}

// leadCard is the board's card of one referral.
func leadCard(t *testing.T, body string, id int64) string {
	t.Helper()
	start := strings.Index(body, `id="lead-`+itoa(id)+`"`)
	if start < 0 {
		t.Fatalf("no card for referral %d:\n%s", id, body)
	}
	end := strings.Index(body[start:], "</article>")
	return body[start : start+end]
}

func TestTheDispatchBoard(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newStaffSite(t, s)
		ctx := context.Background()
		ten := x.green
		loc := ten.Location()
		put := func(id, name, address string, lat, lon float64) {
			t.Helper()
			if _, _, err := x.a.Mirror.PutCustomer(ctx, ten.ID, id, mirror.CustomerInput{Name: name, Address: address,
				Lat: &lat, Lon: &lon, ConsentSameDay: true}); err != nil {
				t.Fatal(err)
			}
		}
		crewA := "crew-a"
		visit := func(id, customer, day string, pos int) {
			t.Helper()
			if _, _, err := x.a.Mirror.PutVisit(ctx, ten.ID, loc, id, mirror.VisitInput{CustomerID: customer, CrewID: &crewA,
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
		// The map draws numbered markers (names only as escaped tooltips);
		// the names are in the stop list beside it, in the same order.
		assertNoNamesOnMaps(t, body)
		svg := mapsOf(t, body)[0]
		markers := markerRe.FindAllStringSubmatch(svg, -1)
		if len(markers) != 3 || markers[0][2] != "1" || markers[0][3] != "Angie &lt;script&gt;alert(1)&lt;/script&gt;" || strings.Contains(svg, "Ben") {
			t.Fatalf("markers %q in\n%s", markers, svg)
		}
		items := stopItems.FindAllStringSubmatch(stopList.FindString(body), -1)
		if len(items) != 3 || items[0][3] != "Angie &lt;script&gt;alert(1)&lt;/script&gt;" || items[1][3] != "Carl" || items[2][3] != "Dana" ||
			!strings.Contains(stopList.FindString(body), "14 SE Maple St, Portland") {
			t.Fatalf("stop list %q", items)
		}
		// Angie and Dana live 50 m apart: their markers would overlap, so
		// an inset shows them zoomed in, and the map outlines where.
		svgs := mapsOf(t, body)
		if len(svgs) != 2 || !strings.Contains(svgs[1], `class="inset"`) || !strings.Contains(svgs[1], "Zoomed in on stops 1 and 3") ||
			!strings.Contains(svg, `<rect class="area"`) || strings.Count(svgs[1], `class="zstop"`) < 2 {
			t.Fatalf("no inset for Angie and Dana:\n%s", strings.Join(svgs, "\n"))
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
		number := 0
		for i := range route.Stops {
			if route.Stops[i].CustomerID == "ben" {
				booked, number = &route.Stops[i], i+1
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
		flash := flashP.FindStringSubmatch(body)
		if after.Code != 200 || flash == nil || !strings.HasPrefix(flash[1], "Booked Ben &lt;b&gt;Friend&lt;/b&gt; with A on 2026-05-04 as stop "+strconv.Itoa(number)) {
			t.Fatalf("after booking: %d %q\n%s", after.Code, flash, body)
		}
		if strings.Contains(flash[1], "ben") || strings.Contains(flash[1], "rl-") || strings.Contains(flash[1], "crew-a") {
			t.Fatalf("the flash names ids: %s", flash[1])
		}
		// The booked stop is highlighted on the map and in the list.
		svg = mapsOf(t, body)[0]
		markers = markerRe.FindAllStringSubmatch(svg, -1)
		if len(markers) != 4 {
			t.Fatalf("%d markers after booking:\n%s", len(markers), svg)
		}
		for _, m := range markers {
			if (m[1] == " booked") != (m[3] == "Ben &lt;b&gt;Friend&lt;/b&gt;") || (m[1] == " booked") != (m[2] == strconv.Itoa(number)) {
				t.Errorf("marker %q: only Ben's, number %d, is highlighted", m[0], number)
			}
		}
		hl := 0
		for _, it := range stopItems.FindAllStringSubmatch(stopList.FindString(body), -1) {
			if it[1] != "" {
				hl++
				if it[3] != "Ben &lt;b&gt;Friend&lt;/b&gt;" || it[2] != strconv.Itoa(number) {
					t.Errorf("highlighted in the list: %q", it)
				}
			}
		}
		if hl != 1 {
			t.Errorf("%d stops highlighted in the list", hl)
		}
		assertNoNamesOnMaps(t, body)
		// Ben has a visit now: he leaves the list; Eve stays.
		if strings.Contains(body, `aria-label="Referral Ben`) || !strings.Contains(body, `aria-label="Referral Eve`) {
			t.Fatalf("needs after booking:\n%s", body)
		}
		// Without ?booked nothing is highlighted.
		if plain := x.get("/dispatch?date=2026-05-04", ck).Body.String(); strings.Contains(plain, "stop booked") || strings.Contains(plain, `class="booked"`) {
			t.Fatal("a stop is highlighted without a booking")
		}

		// Filters: a crew that does not exist; a bad date.
		if rec := x.get("/dispatch?crew=nobody", ck); rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "That crew does not exist") {
			t.Fatalf("unknown crew: %d", rec.Code)
		}
		if rec := x.get("/dispatch?date=2026-13-40", ck); rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "is not a date: use YYYY-MM-DD") {
			t.Fatalf("bad date: %d", rec.Code)
		}
		if rec := x.get("/dispatch?date=2026-05-04&crew=crew-a", ck); rec.Code != 200 || !strings.Contains(rec.Body.String(), `<option value="crew-a" selected>`) {
			t.Fatalf("crew filter: %d", rec.Code)
		}
		// Booking a day in the past says why, without booking.
		f.Set("date", "2026-04-01")
		if rec := x.post("/dispatch/book", f, ck); rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "Not booked: the day: 2026-04-01 is in the past") {
			t.Fatalf("past booking: %d %q", rec.Code, problemP.FindString(rec.Body.String()))
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

// A refused booking names people, crews and days, never the scheduler's
// ids: Angie is already on the route that day.
func TestDispatchMessagesNameNoIDs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newStaffSite(t, s)
		ctx := context.Background()
		lat, lon := 45.4655, -122.6501
		if _, _, err := x.a.Mirror.PutCustomer(ctx, x.green.ID, "cust-123", mirror.CustomerInput{Name: "Angie Baker",
			Address: "14 SE Maple St, Portland", Lat: &lat, Lon: &lon}); err != nil {
			t.Fatal(err)
		}
		crewA, pos := "crew-a", 1
		if _, _, err := x.a.Mirror.PutVisit(ctx, x.green.ID, x.green.Location(), "v-777", mirror.VisitInput{CustomerID: "cust-123",
			CrewID: &crewA, ServiceDate: "2026-05-04", RoutePosition: &pos, Status: "scheduled", PriceCents: 4500}); err != nil {
			t.Fatal(err)
		}
		ck := x.session("dispatcher@greenway.example")
		tok := formToken(t, x.get("/dispatch?date=2026-05-04", ck))
		for _, c := range []struct {
			form url.Values
			want string
		}{
			{url.Values{"customer_id": {"cust-123"}, "date": {"2026-05-04"}, "crew_id": {"crew-a"}}, "Angie Baker is already on A&#39;s route on 2026-05-04"},
			{url.Values{"customer_id": {"cust-999"}, "date": {"2026-05-04"}, "crew_id": {"crew-a"}}, "the customer is not among the scheduler&#39;s customers"},
			{url.Values{"customer_id": {"cust-123"}, "date": {"2026-05-04"}, "crew_id": {"crew-zz"}}, "the crew is not among the crews"},
		} {
			c.form.Set("csrf_token", tok)
			rec := x.post("/dispatch/book", c.form, ck)
			p := problemP.FindStringSubmatch(rec.Body.String())
			if rec.Code < 400 || p == nil || !strings.Contains(p[1], c.want) {
				t.Fatalf("%v: %d %q", c.form, rec.Code, p)
			}
			for _, id := range []string{"cust-", "crew-", "v-777"} {
				if strings.Contains(p[1], id) {
					t.Errorf("the message names an id (%s): %s", id, p[1])
				}
			}
		}
	})
}

// locateForms finds a lead card's two location forms: typed latitude and
// longitude, and the map to click.
var (
	latLonForm = regexp.MustCompile(`(?s)<form class="latlon" method="post" action="(/dispatch/referrals/\d+/location)"`)
	pickForm   = regexp.MustCompile(`(?s)<form class="pick" method="post" action="(/dispatch/referrals/\d+/location)">(.*?)</form>`)
	imageInput = regexp.MustCompile(`<input type="image" name="pick" src="data:image/svg(?:\+|&#43;)xml;base64,(?:[A-Za-z0-9/=]|&#43;)+" width="(\d+)" height="(\d+)"`)
)

// Eve and Fay were referred by Angie with a phone only: no location, so no
// suggestions. The dispatcher types Eve's, then clicks Fay's on the map of
// the route near Angie; bad input is said in words and stores nothing.
func TestTheDispatcherPlacesALeadWithoutALocation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newStaffSite(t, s)
		ctx := context.Background()
		ten := x.green
		home := [2]float64{45.4655, -122.6501}
		put := func(id, name, address string, lat, lon float64) {
			t.Helper()
			if _, _, err := x.a.Mirror.PutCustomer(ctx, ten.ID, id, mirror.CustomerInput{Name: name, Address: address,
				Lat: &lat, Lon: &lon, ConsentSameDay: true}); err != nil {
				t.Fatal(err)
			}
		}
		put("angie", "Angie Baker", "14 SE Maple St, Portland", home[0], home[1])
		put("carl", "Carl Moreno", "200 SE Oak St, Portland", 45.4700, -122.6400)
		crewA := "crew-a"
		for i, c := range []string{"angie", "carl"} {
			pos := i + 1
			if _, _, err := x.a.Mirror.PutVisit(ctx, ten.ID, ten.Location(), "v-"+c, mirror.VisitInput{CustomerID: c, CrewID: &crewA,
				ServiceDate: "2026-05-04", RoutePosition: &pos, Status: "scheduled", PriceCents: 4500}); err != nil {
				t.Fatal(err)
			}
		}
		refer := func(name, phone string) int64 {
			t.Helper()
			r, _, err := x.a.Referrals.Create(ctx, ten.ID, "test", referral.Input{ReferrerID: "angie", Channel: referral.ChannelCode,
				Referee: referral.RefereeInput{Name: name, Phone: phone, Address: "somewhere on Maple St"}})
			if err != nil {
				t.Fatal(err)
			}
			return r.ID
		}
		eve, fay := refer("Eve Lane", "5035550102"), refer("Fay Lin", "5035550103")
		s.DB.Exec(`UPDATE referrals SET location_note = 'the geocoder found nothing for the address' WHERE id = ?`, eve)
		stored := func(id int64) (lat, lon *float64, source string) {
			var rs []struct {
				RefereeLat, RefereeLon *float64
				LocationSource         string
			}
			s.DB.Raw(`SELECT referee_lat, referee_lon, location_source FROM referrals WHERE id = ?`, id).Scan(&rs)
			return rs[0].RefereeLat, rs[0].RefereeLon, rs[0].LocationSource
		}

		ck := x.session("dispatcher@greenway.example")
		board := x.get("/dispatch?date=2026-05-04", ck).Body.String()
		card := leadCard(t, board, eve)
		if m := latLonForm.FindStringSubmatch(card); m == nil || m[1] != "/dispatch/referrals/"+itoa(eve)+"/location" ||
			!strings.Contains(card, `name="lat"`) || !strings.Contains(card, `name="lon"`) ||
			!strings.Contains(card, "We don&#39;t know where Eve Lane lives yet (the geocoder found nothing for the address).") {
			t.Fatalf("Eve's card has no location form:\n%s", card)
		}
		if strings.Contains(card, "vs a separate trip") || strings.Contains(card, "has no location for the friend yet") {
			t.Fatalf("Eve's card:\n%s", card)
		}
		img := imageInput.FindStringSubmatch(card)
		if img == nil || !strings.Contains(card, "the diamond is Angie Baker&#39;s home, the numbered circles are A&#39;s stops on 2026-05-04") {
			t.Fatalf("no map to click on Eve's card:\n%s", card)
		}
		if w, _ := strconv.Atoi(img[1]); w > 320 {
			t.Fatalf("the map is %d px wide: it must fit a phone", w)
		}
		tok := formToken(t, x.get("/dispatch", ck))

		// A latitude past the pole, then one that is not a number: the
		// board says so beside the field, keeps what was typed, stores nothing.
		for _, c := range []struct{ lat, lon, want string }{
			{"95", "-122.6501", "Latitude must be between -90 and 90"},
			{"north", "-122.6501", "Latitude must be a number such as 45.4655"},
			{"45.46", "", "Longitude is needed"},
		} {
			rec := x.post("/dispatch/referrals/"+itoa(eve)+"/location", url.Values{"csrf_token": {tok}, "lat": {c.lat}, "lon": {c.lon},
				"date": {"2026-05-04"}}, ck)
			body := rec.Body.String()
			card := leadCard(t, body, eve)
			if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(problemP.FindString(body), "Not saved: "+c.want) ||
				!strings.Contains(card, `value="`+c.lat+`"`) || !strings.Contains(card, `class="error"`) || !strings.Contains(card, c.want) ||
				!strings.Contains(card, `aria-invalid="true"`) {
				t.Fatalf("lat %q lon %q: %d\n%s", c.lat, c.lon, rec.Code, card)
			}
			if lat, _, src := stored(eve); lat != nil || src != "" {
				t.Fatalf("lat %q stored %v %q", c.lat, *lat, src)
			}
		}
		// Without the token, or as a crew member: refused.
		target := url.Values{"lat": {"45.4669"}, "lon": {"-122.6501"}, "date": {"2026-05-04"}}
		if rec := x.post("/dispatch/referrals/"+itoa(eve)+"/location", target, ck); rec.Code != http.StatusForbidden {
			t.Fatalf("no token: %d", rec.Code)
		}
		crew := x.session("marisol@greenway.example")
		target.Set("csrf_token", formToken(t, x.get("/crew/today", crew)))
		if rec := x.post("/dispatch/referrals/"+itoa(eve)+"/location", target, crew); rec.Code != http.StatusForbidden {
			t.Fatalf("crew: %d", rec.Code)
		}

		// Typed right: stored as the dispatcher's, back to the board on the
		// same day, where Eve has her best days now.
		target.Set("csrf_token", tok)
		rec := x.post("/dispatch/referrals/"+itoa(eve)+"/location", target, ck)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/dispatch?date=2026-05-04&located="+itoa(eve)+"#lead-"+itoa(eve) {
			t.Fatalf("save: %d %q\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
		}
		if lat, lon, src := stored(eve); lat == nil || *lat != 45.4669 || *lon != -122.6501 || src != "dispatcher" {
			t.Fatalf("stored %v %v %q", lat, lon, src)
		}
		back := x.get(strings.Split(rec.Header().Get("Location"), "#")[0], ck).Body.String()
		card = leadCard(t, back, eve)
		if f := flashP.FindStringSubmatch(back); f == nil || !strings.Contains(f[1], "Saved where Eve Lane lives (45.46690, -122.65010), 160 m from Angie Baker&#39;s home") {
			t.Fatalf("flash %q", f)
		}
		if strings.Contains(card, `class="latlon"`) || !strings.Contains(card, "2026-05-04</strong> · A") || !strings.Contains(back, `class="card just" id="lead-`+itoa(eve)+`"`) {
			t.Fatalf("Eve's card after the location:\n%s", card)
		}

		// Fay: a click on the map, 300 m east of Angie's home.
		card = leadCard(t, back, fay)
		pf := pickForm.FindStringSubmatch(card)
		if pf == nil {
			t.Fatalf("no map form on Fay's card:\n%s", card)
		}
		f := url.Values{}
		for _, m := range hiddenField.FindAllStringSubmatch(pf[2], -1) {
			f.Set(m[1], m[2])
		}
		view := strings.Split(f.Get("view"), ",")
		if len(view) != 6 || f.Get("csrf_token") == "" {
			t.Fatalf("map form fields %v", f)
		}
		var pr [6]float64
		for i, v := range view {
			pr[i], _ = strconv.ParseFloat(v, 64)
		}
		// x = offX + (lon·k − minX)·scale, y = offY + (maxY − lat)·scale
		east := home[1] + 300/(111_195*math.Cos(home[0]*math.Pi/180))
		px := pr[4] + (east*pr[0]-pr[1])*pr[3]
		py := pr[5] + (pr[2]-home[0])*pr[3]
		f.Set("pick.x", strconv.Itoa(int(math.Round(px))))
		f.Set("pick.y", strconv.Itoa(int(math.Round(py))))
		rec = x.post(pf[1], f, ck)
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("click: %d\n%s", rec.Code, rec.Body.String())
		}
		lat, lon, src := stored(fay)
		if lat == nil || src != "dispatcher" {
			t.Fatalf("the click stored %v %q", lat, src)
		}
		// Half a pixel of the map is the error allowed.
		pixel := 1 / pr[3] * 111_195
		if d := math.Hypot((*lat-home[0])*111_195, (*lon-east)*111_195*math.Cos(home[0]*math.Pi/180)); d > pixel {
			t.Fatalf("clicked 300 m east of Angie, stored %v, %v: %.0f m off (a pixel is %.0f m)", *lat, *lon, d, pixel)
		}
		back = x.get(strings.Split(rec.Header().Get("Location"), "#")[0], ck).Body.String()
		if card := leadCard(t, back, fay); strings.Contains(card, `class="pick"`) || !strings.Contains(card, "2026-05-04</strong> · A") {
			t.Fatalf("Fay's card after the click:\n%s", card)
		}
		// A click whose map does not read: said, nothing changed.
		f.Set("view", "1,2,3")
		rec = x.post(pf[1], f, ck)
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "The click on the map could not be read") {
			t.Fatalf("bad click: %d", rec.Code)
		}
		if lat2, _, _ := stored(fay); *lat2 != *lat {
			t.Fatal("a bad click changed the location")
		}
		// A converted or closed referral takes no location.
		if _, err := x.a.Referrals.Reject(ctx, ten.ID, eve, "test", referral.Decision{Reason: "moved away"}); err != nil {
			t.Fatal(err)
		}
		target.Set("lat", "45.47")
		rec = x.post("/dispatch/referrals/"+itoa(eve)+"/location", target, ck)
		if p := problemP.FindStringSubmatch(rec.Body.String()); rec.Code != http.StatusConflict || p == nil ||
			p[1] != "Not saved: This referral is rejected: it is closed, so the friend&#39;s location is no longer needed." {
			t.Fatalf("rejected referral: %d %q", rec.Code, p)
		}
	})
}

var optimizeForm = regexp.MustCompile(`(?s)<form class="optimize" method="post" action="/dispatch/optimize">(.*?)</form>`)

// Crew A's Monday zigzags: far, near the depot, halfway. Optimise puts it
// in order, tells the scheduler once (route.changed), and says so in
// words; a second press changes nothing and tells no one.
func TestOptimiseACrewsDayFromTheBoard(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newStaffSite(t, s)
		ctx := context.Background()
		ten := x.green
		crewA := "crew-a"
		for i, c := range []struct {
			id, name string
			lat, lon float64
		}{{"far", "Fern Far", 45.46, -122.65}, {"near", "Nia Near", 45.49, -122.61}, {"mid", "Mo Middle", 45.475, -122.63}} {
			lat, lon, pos := c.lat, c.lon, i+1
			if _, _, err := x.a.Mirror.PutCustomer(ctx, ten.ID, c.id, mirror.CustomerInput{Name: c.name, Lat: &lat, Lon: &lon}); err != nil {
				t.Fatal(err)
			}
			for _, day := range []string{"2026-05-04", "2026-04-27"} {
				if _, _, err := x.a.Mirror.PutVisit(ctx, ten.ID, ten.Location(), "v-"+c.id+day, mirror.VisitInput{CustomerID: c.id, CrewID: &crewA,
					ServiceDate: day, RoutePosition: &pos, Status: "scheduled", PriceCents: 4500}); err != nil {
					t.Fatal(err)
				}
			}
		}
		changes := func() int64 {
			var n int64
			s.DB.Raw(`SELECT COUNT(*) FROM outbox_events WHERE kind = 'route.changed'`).Scan(&n)
			return n
		}
		before := changes()
		ck := x.session("dispatcher@greenway.example")
		board := x.get("/dispatch?date=2026-05-04", ck).Body.String()
		m := optimizeForm.FindStringSubmatch(board)
		if m == nil || !strings.Contains(m[1], `aria-label="Optimise A's route on 2026-05-04"`) {
			t.Fatalf("no Optimise button:\n%s", board)
		}
		f := url.Values{}
		for _, h := range hiddenField.FindAllStringSubmatch(m[1], -1) {
			f.Set(h[1], h[2])
		}
		if f.Get("crew_id") != "crew-a" || f.Get("date") != "2026-05-04" || f.Get("csrf_token") == "" {
			t.Fatalf("optimise form %v", f)
		}
		// Without the token, or for a crew login: refused, nothing moves.
		noToken := url.Values{"crew_id": {"crew-a"}, "date": {"2026-05-04"}}
		if rec := x.post("/dispatch/optimize", noToken, ck); rec.Code != http.StatusForbidden || changes() != before {
			t.Fatalf("no token: %d", rec.Code)
		}

		rec := x.post("/dispatch/optimize", f, ck)
		if rec.Code != http.StatusSeeOther || !strings.Contains(rec.Header().Get("Location"), "optimized=crew-a") {
			t.Fatalf("optimise: %d %q\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
		}
		if n := changes(); n != before+1 {
			t.Fatalf("%d route.changed events, want one", n-before)
		}
		route, err := x.a.Dispatch.Route(ctx, ten.ID, "crew-a", localdate.Date{Year: 2026, Month: 5, Day: 4})
		if err != nil {
			t.Fatal(err)
		}
		var order []string
		for _, st := range route.Stops {
			order = append(order, st.CustomerID)
		}
		if strings.Join(order, ",") != "near,mid,far" && strings.Join(order, ",") != "far,mid,near" {
			t.Fatalf("order after optimising: %v", order)
		}
		page := x.get(strings.Split(rec.Header().Get("Location"), "#")[0], ck).Body.String()
		flash := flashP.FindStringSubmatch(page)
		if flash == nil || !regexp.MustCompile(`^Optimised A&#39;s route on 2026-05-04: [\d.]+ km → [\d.]+ km, [\d.]+ km shorter\. The stops are renumbered below`).MatchString(flash[1]) {
			t.Fatalf("flash %q", flash)
		}
		items := stopItems.FindAllStringSubmatch(stopList.FindString(page), -1)
		if len(items) != 3 || items[1][3] != "Mo Middle" {
			t.Fatalf("stop list after optimising %q", items)
		}
		// Again: already the best order; the scheduler hears nothing new.
		rec = x.post("/dispatch/optimize", f, ck)
		page = x.get(strings.Split(rec.Header().Get("Location"), "#")[0], ck).Body.String()
		if flash := flashP.FindStringSubmatch(page); flash == nil || !strings.Contains(flash[1], "A&#39;s route on 2026-05-04 was already in the best order") || changes() != before+1 {
			t.Fatalf("second press: %q, %d events", flash, changes()-before)
		}
		// A day that is over: no button, and a crafted form is refused.
		if past := x.get("/dispatch?date=2026-04-27", ck).Body.String(); optimizeForm.MatchString(past) {
			t.Fatal("an Optimise button on a day that is over")
		}
		f.Set("date", "2026-04-27")
		if rec := x.post("/dispatch/optimize", f, ck); rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "2026-04-27 is over") || changes() != before+1 {
			t.Fatalf("past day: %d", rec.Code)
		}
		// An unknown crew: said without its id.
		f.Set("date", "2026-05-04")
		f.Set("crew_id", "crew-zz")
		if rec := x.post("/dispatch/optimize", f, ck); rec.Code != http.StatusNotFound || strings.Contains(problemP.FindString(rec.Body.String()), "crew-zz") {
			t.Fatalf("unknown crew: %d %s", rec.Code, problemP.FindString(rec.Body.String()))
		}
	})
}
