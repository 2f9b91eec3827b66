package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/routeloop/routeloop/internal/crew"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
)

// eightStops is crew-a's route of eight on the test clock's day: stop 2 is
// done (completed), stop 3 is to skip (Cleo complained), the rest are to
// pitch. Visits are v-1 … v-8.
var eightStops = []string{"Angie Baker", "Ben Okafor", "Cleo Park", "Dev Shah", "Eve Moreno", "Fay Lin", "Gus Romero", "Hana Lee"}

func (x *staffSite) eightStopRoute() {
	ctx := context.Background()
	crewA := "crew-a"
	for i, name := range eightStops {
		n := strconv.Itoa(i + 1)
		if _, _, err := x.a.Mirror.PutCustomer(ctx, x.green.ID, "c-"+n, mirror.CustomerInput{Name: name, Address: n + " Maple St, Portland"}); err != nil {
			x.t.Fatal(err)
		}
		status := "scheduled"
		if i == 1 {
			status = "completed"
		}
		pos := i + 1
		if _, _, err := x.a.Mirror.PutVisit(ctx, x.green.ID, x.green.Location(), "v-"+n, mirror.VisitInput{CustomerID: "c-" + n, CrewID: &crewA,
			ServiceDate: "2026-05-01", RoutePosition: &pos, Status: status, PriceCents: 4500}); err != nil {
			x.t.Fatal(err)
		}
	}
	one := 1
	if _, _, err := x.a.Crew.Rate(ctx, x.green.ID, "v-3", crew.RatingInput{Score: &one, Comment: "they broke my fence", Complaint: true}); err != nil {
		x.t.Fatal(err)
	}
}

// stopForm is what a stop's form posts (the page's CSRF token added).
func stopForm(tok string, n int, more ...string) url.Values {
	f := url.Values{"csrf_token": {tok}, "visit": {"v-" + strconv.Itoa(n)}, "stop": {strconv.Itoa(n)}}
	for i := 0; i+1 < len(more); i += 2 {
		f.Set(more[i], more[i+1])
	}
	return f
}

// Marisol pitches at stop 7 of 8 and lands back at stop 7, with the word
// that it was logged inside that stop, which is now collapsed like the
// other finished ones and says so in the jump list.
func TestCrewPageReturnsToTheStopPitched(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newStaffSite(t, s)
		x.eightStopRoute()
		ck := x.session("marisol@greenway.example")
		page := x.get("/crew/today", ck)
		if page.Code != 200 {
			t.Fatalf("crew today: %d\n%s", page.Code, page.Body.String())
		}
		doc := parseDOM(t, page.Body.String())

		// The jump list: every stop by number, name and state.
		links := doc.all("nav.jump a")
		if len(links) != 8 {
			t.Fatalf("%d links in the jump list, want 8", len(links))
		}
		for i, a := range links {
			n := strconv.Itoa(i + 1)
			if a.attr("href") != "#stop-"+n || !strings.Contains(a.text(), eightStops[i]) {
				t.Errorf("jump link %d: %q %q", i+1, a.attr("href"), a.text())
			}
			doc.one("li.stop#stop-" + n)
		}
		for n, state := range map[int]string{1: "Pitch now", 2: "Done", 3: "Skip", 7: "Pitch now"} {
			if got := links[n-1].one("span.state").text(); got != state {
				t.Errorf("stop %d is %q in the jump list, want %q", n, got, state)
			}
		}
		if got := doc.one("nav.jump h2").text(); !strings.Contains(got, "2 of 8 finished") {
			t.Errorf("jump list heading %q", got)
		}

		// Finished stops collapse; the ones still to do are open.
		for n, open := range map[int]bool{1: true, 2: false, 3: false, 4: true, 7: true, 8: true} {
			stop := doc.one("#stop-" + strconv.Itoa(n))
			if got := stop.one("details.stopbody").hasAttr("open"); got != open {
				t.Errorf("stop %d open=%v, want %v", n, got, open)
			}
			if hasClass(stop.n, "finished") == open {
				t.Errorf("stop %d: finished class wrong (open %v)", n, open)
			}
		}

		rec := x.post("/crew/today/pitch", stopForm(formToken(t, page), 7, "outcome", "pitched"), ck)
		loc := rec.Header().Get("Location")
		if rec.Code != http.StatusSeeOther || !strings.HasPrefix(loc, "/crew/today?") || !strings.HasSuffix(loc, "#stop-7") {
			t.Fatalf("pitch at stop 7: %d %q", rec.Code, loc)
		}
		back := x.get(strings.TrimSuffix(loc, "#stop-7"), ck)
		doc = parseDOM(t, back.Body.String())
		notices := doc.all("p.notice")
		if len(notices) != 1 || !strings.Contains(notices[0].text(), "Pitch logged") {
			t.Fatalf("%d notices on the page after the pitch", len(notices))
		}
		seven := doc.one("#stop-7")
		if !seven.has("p.notice") || !strings.Contains(seven.one("p.notice").text(), "Pitch logged") {
			t.Fatalf("the word of the pitch is not inside stop 7:\n%s", back.Body.String())
		}
		if seven.one("details.stopbody").hasAttr("open") || !hasClass(seven.n, "finished") {
			t.Errorf("stop 7 still open after its pitch")
		}
		if seven.has("button[value=pitched]") || seven.has("button[value=declined]") || seven.has("form[action=/crew/today/referral]") {
			t.Errorf("stop 7 offers its forms again after the pitch")
		}
		if got := doc.all("nav.jump a")[6].one("span.state").text(); got != "Pitched ✓" {
			t.Errorf("stop 7 in the jump list after the pitch: %q", got)
		}
		if !doc.one("#stop-8 details.stopbody").hasAttr("open") {
			t.Errorf("stop 8 should still be open")
		}
	})
}

// Cleo complained: her stop doesn't offer Pitched ✓ (nor Not interested),
// says why in words (her complaint quoted, no ids), and still takes a
// friend she gives anyway.
func TestCrewPageSkippedStopShowsWhyWithoutAPitchButton(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newStaffSite(t, s)
		x.eightStopRoute()
		page := x.get("/crew/today", x.session("marisol@greenway.example"))
		doc := parseDOM(t, page.Body.String())
		cleo := doc.one("#stop-3")
		if cleo.has("button[value=pitched]") || cleo.has("button[value=declined]") {
			t.Errorf("the stop to skip offers the pitch buttons")
		}
		why := cleo.one("summary .why").text()
		if !strings.Contains(why, `Open complaint: "they broke my fence" (rated 1 of 5 on 2026-05-01)`) || strings.Contains(cleo.text(), "v-3") {
			t.Errorf("Cleo's stop says %q", cleo.text())
		}
		if !cleo.has("form[action=/crew/today/referral]") {
			t.Errorf("a friend given anyway can't be noted at the stop to skip")
		}
		if !doc.one("#stop-1").has("button[value=pitched]") {
			t.Errorf("a stop to pitch lacks Pitched ✓")
		}
	})
}

// The friend's form takes a phone or an e-mail (either is enough); a phone
// the company's country can't call, or nothing to reach the friend by, is
// refused in words inside the stop with what was typed kept, and nothing
// is stored.
func TestCrewPageReferralTakesAPhoneOrAnEmail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newStaffSite(t, s)
		x.eightStopRoute()
		ck := x.session("marisol@greenway.example")
		page := x.get("/crew/today", ck)
		tok := formToken(t, page)
		form := parseDOM(t, page.Body.String()).one("#stop-4 form[action=/crew/today/referral]")
		for _, name := range []string{"name", "phone", "email"} {
			form.one("input[name=" + name + "]")
		}

		// An e-mail alone is enough.
		rec := x.post("/crew/today/referral", stopForm(tok, 4, "name", "Ivan Petrov", "email", "ivan@example.com"), ck)
		if rec.Code != http.StatusSeeOther || !strings.HasSuffix(rec.Header().Get("Location"), "#stop-4") {
			t.Fatalf("e-mail only: %d %q\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
		}
		var email string
		s.DB.Raw(`SELECT referee_email FROM referrals`).Scan(&email)
		if email != "ivan@example.com" {
			t.Fatalf("stored e-mail %q", email)
		}
		after := parseDOM(t, x.get(strings.TrimSuffix(rec.Header().Get("Location"), "#stop-4"), ck).Body.String())
		if !strings.Contains(after.one("#stop-4 p.notice").text(), "Referral saved") {
			t.Errorf("no word of the referral inside stop 4")
		}

		refused := []struct {
			what  string
			stop  int
			form  []string
			says  []string
			field string
		}{
			{"neither phone nor e-mail", 5, []string{"name", "Jo Friend"}, []string{"phone number or e-mail address", "either one is enough"}, "phone"},
			{"a phone that is not one", 6, []string{"name", "Kim Friend", "phone", "12345", "email", "kim@example.com"},
				[]string{`"12345" is not a phone number`, "(201) 555-0123"}, "phone"},
			{"an e-mail that is not one", 8, []string{"name", "Lou Friend", "email", "lou at example"}, []string{`"lou at example" is not an e-mail address`}, "email"},
			{"a UK number for a US company", 5, []string{"name", "Mo Friend", "phone", "020 7946 0958"}, []string{"is not a phone number"}, "phone"},
		}
		for _, c := range refused {
			rec := x.post("/crew/today/referral", stopForm(tok, c.stop, c.form...), ck)
			if rec.Code != http.StatusUnprocessableEntity {
				t.Fatalf("%s: %d", c.what, rec.Code)
			}
			doc := parseDOM(t, rec.Body.String())
			stop := doc.one("#stop-" + strconv.Itoa(c.stop))
			said := stop.one("div.problem").text()
			for _, want := range c.says {
				if !strings.Contains(said, want) {
					t.Errorf("%s: the stop says %q, want %q", c.what, said, want)
				}
			}
			if !stop.one("details.stopbody").hasAttr("open") {
				t.Errorf("%s: the stop with the problem is collapsed", c.what)
			}
			typed := url.Values{}
			for i := 0; i+1 < len(c.form); i += 2 {
				typed.Set(c.form[i], c.form[i+1])
			}
			for _, name := range []string{"name", "phone", "email"} {
				if got := stop.one("input[name=" + name + "]").attr("value"); got != typed.Get(name) {
					t.Errorf("%s: %s kept as %q, want %q", c.what, name, got, typed.Get(name))
				}
			}
			if stop.one("input[name="+c.field+"]").attr("aria-invalid") != "true" {
				t.Errorf("%s: %s not marked", c.what, c.field)
			}
			if len(doc.all("div.problem")) != 1 || !strings.Contains(doc.one("p.problem a").attr("href"), "#stop-"+strconv.Itoa(c.stop)) {
				t.Errorf("%s: the top of the page doesn't point to the stop", c.what)
			}
		}
		if n := storetest.Count(t, s.DB, "referrals"); n != 1 {
			t.Fatalf("%d referrals after the refusals", n)
		}
		if n := storetest.Count(t, s.DB, "pitches"); n != 1 {
			t.Fatalf("%d pitches after the refusals", n)
		}

		// The same UK number for a company in Britain is one.
		p, err := program.Get(s.DB, x.green.ID)
		if err != nil {
			t.Fatal(err)
		}
		p.Country = "GB"
		if _, err := program.Save(s.DB, p, x.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if rec := x.post("/crew/today/referral", stopForm(tok, 5, "name", "Mo Friend", "phone", "020 7946 0958"), ck); rec.Code != http.StatusSeeOther {
			t.Fatalf("a UK number for a UK company: %d\n%s", rec.Code, rec.Body.String())
		}
	})
}
