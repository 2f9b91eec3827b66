package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/routeloop/routeloop/internal/crew"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/referral"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
)

// adminFixture: a referrer, two self-referrals waiting for review (one with
// a hostile name, approvable), one clean referral, a hostile offer name and milestone.
func adminFixture(t *testing.T, x *staffSite) (flagged, other int64) {
	t.Helper()
	ctx := context.Background()
	tid := x.green.ID
	if _, _, err := x.a.Mirror.PutCustomer(ctx, tid, "angie", mirror.CustomerInput{Name: "Angie", Phone: "+1 503 555 0100",
		Email: "angie@example.com", Address: "14 SE Maple St, Portland"}); err != nil {
		t.Fatal(err)
	}
	offers := []program.Offer{program.StandardOffer,
		{Name: "<script>b</script>", Referee: program.Reward{Kind: program.RewardFixedCredit, AmountCents: 2500},
			Referrer: program.Reward{Kind: program.RewardPoints, Points: 50}}}
	if _, err := x.a.Neighbors.UpdateProgram(ctx, tid, program.Input{Offers: &offers}); err != nil {
		t.Fatal(err)
	}
	mk := func(ch string, r referral.RefereeInput) referral.Referral {
		ref, _, err := x.a.Referrals.Create(ctx, tid, "test", referral.Input{ReferrerID: "angie", Channel: ch, Referee: r})
		if err != nil {
			t.Fatal(err)
		}
		return ref
	}
	// Flagged by a shared address (a person may approve it), and by being
	// Angie's own record (which no one may approve).
	a := mk(referral.ChannelCode, referral.RefereeInput{Name: "<script>alert(1)</script>", Phone: "+1 503 555 0101", Address: "14 SE Maple St, Portland"})
	b := mk(referral.ChannelLink, referral.RefereeInput{Name: "Ben", Email: "angie@example.com"})
	c := mk(referral.ChannelLink, referral.RefereeInput{Name: "Cleo", Phone: "+1 503 555 0199"})
	if a.Status != referral.StatusPendingReview || b.Status != referral.StatusPendingReview || c.Status != referral.StatusPending {
		t.Fatalf("fixture statuses %s %s %s", a.Status, b.Status, c.Status)
	}
	if _, err := x.a.Crew.CreateMilestone(ctx, tid, crew.MilestoneInput{Name: "Golf <script>day</script>", Metric: crew.MetricReferrals,
		Target: 20, Period: crew.PeriodQuarter, Reward: "team golf day"}); err != nil {
		t.Fatal(err)
	}
	return a.ID, b.ID
}

func TestAdminPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newStaffSite(t, s)
		adminFixture(t, x)
		ck := x.session("admin@greenway.example")

		// The referrals were made today: this month's dashboard.
		page := x.get("/admin?period=this_month", ck)
		body := page.Body.String()
		if page.Code != 200 {
			t.Fatalf("admin: %d\n%s", page.Code, body)
		}
		for _, want := range []string{
			"Program settings", `name="max_discount" inputmode="decimal" value="20"`, `name="sync_discount" inputmode="decimal" value="10"`,
			`name="neighbor_radius_m" inputmode="numeric" value="500"`, `name="offers.1.referee_value" inputmode="decimal" value="25.00"`,
			// KPIs: 3 referrals, none converted, per-channel chart in SVG.
			`<span class="l">Referrals</span><span class="v">3</span>`, `<span class="l">Conversion rate</span><span class="v">0%</span>`,
			"Referred revenue", "Reward cost", "Route savings", "Net value", "ROI",
			`<svg class="chart"`, ">Link</text>", ">Code</text>", ">2</text>",
			"No monthly budget is set",
			// A/B with the plain-words verdict; the hostile offer name escaped in SVG text.
			"A/B results", "&lt;script&gt;b&lt;/script&gt;</text>",
			// Each arm with its Wilson interval: an arm with no conversion yet
			// reads from 0 up to a real upper bound, not a bare 0%.
			"95%: 0–",
			// The review queue is its own page (dispatchers decide there too).
			"Fraud review", "(2 waiting)", `<a href="/review">Open the review queue</a>`,
			// Crew.
			"Crew leaderboard, 2026-Q2", "Marisol Vega", "Golf &lt;script&gt;day&lt;/script&gt;", "0 of 20 referrals",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("the page lacks %q", want)
			}
		}
		if strings.Contains(body, "<script>") {
			t.Error("unescaped <script> on the page")
		}
		if m := regexp.MustCompile(`not enough data|no data yet|converts|no clear difference`).FindString(body); m == "" {
			t.Error("no A/B verdict")
		}
		if t.Failed() {
			t.Log(body)
		}

		// The crew column names the crew, not its id.
		if !strings.Contains(body, `<td data-label="Name">Marisol Vega</td><td data-label="Crew">A</td>`) || strings.Contains(body, ">crew-a<") {
			t.Error("the leaderboard does not name the crew")
		}
		// Dispatchers and crews may not open it, nor save its settings.
		for _, who := range []string{"dispatcher@greenway.example", "marisol@greenway.example"} {
			ck := x.session(who)
			if rec := x.get("/admin", ck); rec.Code != http.StatusForbidden {
				t.Fatalf("%s opened /admin: %d", who, rec.Code)
			}
		}
		dck := x.session("dispatcher@greenway.example")
		f := settingsForm(formToken(t, x.get("/dispatch", dck)))
		f.Set("neighbor_radius_m", "900")
		if rec := x.post("/admin/program", f, dck); rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "can&#39;t open this page") {
			t.Fatalf("a dispatcher saved the program: %d", rec.Code)
		}
		if p, _ := x.a.Programs.Get(context.Background(), x.green.ID); p.NeighborRadiusM != 500 {
			t.Fatalf("the radius changed to %d", p.NeighborRadiusM)
		}
		// Signed out: to the sign-in page.
		if rec := x.get("/admin"); rec.Code != http.StatusSeeOther {
			t.Fatalf("signed out: %d", rec.Code)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// settingsForm is the page's settings form as sent back unchanged.
func settingsForm(tok string) url.Values {
	return url.Values{"csrf_token": {tok}, "neighbor_radius_m": {"500"}, "sync_discount": {"10"}, "max_discount": {"20"},
		"referrer_cap": {"32"}, "yearly_cap": {"0"}, "monthly_budget": {"0.00"},
		"offers.0.name": {"standard"}, "offers.0.referee_kind": {"percent_next_invoice"}, "offers.0.referee_value": {"10"},
		"offers.0.referrer_kind": {"percent_next_invoice"}, "offers.0.referrer_value": {"10"},
		"offers.1.referee_kind": {"percent_next_invoice"}, "offers.1.referrer_kind": {"percent_next_invoice"}}
}

func TestAdminSettingsForm(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newStaffSite(t, s)
		ck := x.session("admin@greenway.example")
		tok := formToken(t, x.get("/admin", ck))

		// Max discount below the sync discount: refused, shown, nothing saved.
		f := settingsForm(tok)
		f.Set("sync_discount", "15")
		f.Set("max_discount", "12")
		f.Set("neighbor_radius_m", "800")
		bad := x.post("/admin/program", f, ck)
		body := bad.Body.String()
		if bad.Code != http.StatusUnprocessableEntity || !strings.Contains(body, `<span class="error" id="max_discount-err">must be at least the same-day discount`) ||
			!strings.Contains(body, `value="12" aria-invalid="true"`) || !strings.Contains(body, `value="800"`) {
			t.Fatalf("bad max discount: %d\n%s", bad.Code, body)
		}
		if n := storetest.Count(t, s.DB, "programs"); n != 0 {
			t.Fatalf("%d programs saved by a refused form", n)
		}
		// Not a number, and a friend's reward of 0%: both refused at once.
		f = settingsForm(tok)
		f.Set("monthly_budget", "lots")
		f.Set("offers.0.referee_value", "0")
		if rec := x.post("/admin/program", f, ck); rec.Code != 422 || !strings.Contains(rec.Body.String(), "must be an amount such as 500.00") ||
			!strings.Contains(rec.Body.String(), "Nothing was saved: 2 settings need a fix") ||
			!strings.Contains(rec.Body.String(), `<span class="error" id="offer-0-referee-err">must be between 0.01% and 100%</span>`) {
			t.Fatalf("not a number: %d\n%s", rec.Code, rec.Body.String())
		}
		// A share that is not a whole number, or out of range: refused beside the offer.
		for _, w := range []string{"lots", "1001"} {
			f = settingsForm(tok)
			f.Set("offers.0.weight", w)
			if rec := x.post("/admin/program", f, ck); rec.Code != 422 || !strings.Contains(rec.Body.String(), `name="offers.0.weight" inputmode="numeric" value="`+w+`" aria-invalid="true"`) {
				t.Fatalf("weight %s: %d\n%s", w, rec.Code, rec.Body.String())
			}
		}
		// A hold past a year: refused, named next to its input.
		f = settingsForm(tok)
		f.Set("reward_hold_days", "400")
		if rec := x.post("/admin/program", f, ck); rec.Code != 422 || !strings.Contains(rec.Body.String(), `id="reward_hold_days-err">must be between 0 (no hold) and 365`) {
			t.Fatalf("a 400-day hold: %d\n%s", rec.Code, rec.Body.String())
		}
		// Without the CSRF token: 403, nothing saved.
		f = settingsForm(tok)
		f.Del("csrf_token")
		if rec := x.post("/admin/program", f, ck); rec.Code != http.StatusForbidden {
			t.Fatalf("no token: %d", rec.Code)
		}

		// A good form: saved, back to the page with a notice.
		f = settingsForm(tok)
		f.Set("sync_discount", "12.5")
		f.Set("max_discount", "25")
		f.Set("neighbor_radius_m", "750")
		f.Set("monthly_budget", "1,500.00")
		f.Set("reward_hold_days", "14")
		f.Set("sync_requires_same_crew", "1")
		f.Set("offers.1.name", "B")
		f.Set("offers.1.referee_kind", "fixed_credit")
		f.Set("offers.1.referee_value", "25")
		f.Set("offers.1.referrer_kind", "points")
		f.Set("offers.1.referrer_value", "40")
		f.Set("offers.1.weight", "3")
		ok := x.post("/admin/program", f, ck)
		if ok.Code != http.StatusSeeOther || ok.Header().Get("Location") != "/admin?done=program#settings" {
			t.Fatalf("save: %d %q\n%s", ok.Code, ok.Header().Get("Location"), ok.Body.String())
		}
		p, err := x.a.Programs.Get(context.Background(), x.green.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p.SyncDiscountBps != 1250 || p.MaxDiscountBps != 2500 || p.NeighborRadiusM != 750 || p.MonthlyBudgetCents != 150000 ||
			!p.SyncRequiresSameCrew || len(p.Offers) != 2 || p.Offers[1].Name != "B" || p.Offers[1].Referee.AmountCents != 2500 ||
			p.Offers[1].Referrer.Points != 40 || p.RewardHoldDays != 14 || p.Offers[1].Weight != 3 || p.Offers[0].Weight != 0 {
			t.Fatalf("saved %+v", p)
		}
		back := x.get("/admin?done=program", ck)
		if !strings.Contains(back.Body.String(), "Program settings saved") || !strings.Contains(back.Body.String(), `value="12.5"`) ||
			!strings.Contains(back.Body.String(), "of $1500.00 used") || !strings.Contains(back.Body.String(), `name="offers.1.weight" inputmode="numeric" value="3"`) {
			t.Fatalf("after saving:\n%s", back.Body.String())
		}
	})
}

// A form with a mistake in every part comes back with all of them at
// once, each beside its field and listed at the top with a link to it,
// typed values kept and nothing saved: values that do not read as numbers
// and values the program's rules refuse alike.
func TestAdminShowsEveryErrorAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newStaffSite(t, s)
		ck := x.session("admin@greenway.example")
		f := settingsForm(formToken(t, x.get("/admin", ck)))
		f.Set("neighbor_radius_m", "0")           // out of range
		f.Set("sync_discount", "lots")            // not a number
		f.Set("max_discount", "150")              // out of range
		f.Set("referrer_cap", "2.5")              // not a whole number
		f.Set("reward_hold_days", "400")          // out of range
		f.Set("offers.0.referrer_value", "0")     // a 0% reward
		f.Set("offers.1.name", "standard")        // a name used twice
		f.Set("offers.1.referee_value", "5")      //
		f.Set("offers.1.referrer_kind", "points") //
		f.Set("offers.1.referrer_value", "many")  // not a number of points
		rec := x.post("/admin/program", f, ck)
		body := rec.Body.String()
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(body, "Nothing was saved: 8 settings need a fix") {
			t.Fatalf("%d\n%s", rec.Code, body)
		}
		beside := []string{
			`id="neighbor_radius_m-err">must be between 1 and 5000 metres`,
			`id="sync_discount-err">must be a percentage such as 10`,
			`id="max_discount-err">must be between 0% and 100%`,
			`id="referrer_cap-err">must be a whole number`,
			`id="reward_hold_days-err">must be between 0 (no hold) and 365`,
			`id="offer-0-referrer-err">must be between 0.01% and 100%`,
			`id="offer-1-name-err">is used twice`,
			`id="offer-1-referrer-err">must be a whole number of points`,
		}
		for _, want := range beside {
			if !strings.Contains(body, want) {
				t.Errorf("no message beside its field: %q", want)
			}
		}
		top := regexp.MustCompile(`(?s)<div class="problem" role="alert" id="settings-errors">(.*?)</div>`).FindStringSubmatch(body)
		if top == nil {
			t.Fatalf("no list of errors:\n%s", body)
		}
		for _, want := range []string{`<a href="#neighbor_radius_m">Neighbour radius</a>: must be between 1 and 5000 metres`,
			`<a href="#sync_discount">Same-day (sync) discount</a>`, `<a href="#max_discount">Maximum discount per line</a>`,
			`<a href="#referrer_cap">Rewarded referrals per customer</a>`, `<a href="#reward_hold_days">`,
			`<a href="#offer-0-referrer-value">Offer 1: referrer&#39;s reward</a>`, `<a href="#offer-1-name">Offer 2: name</a>: is used twice`,
			`<a href="#offer-1-referrer-value">Offer 2: referrer&#39;s reward</a>: must be a whole number of points`} {
			if !strings.Contains(top[1], want) {
				t.Errorf("the list at the top lacks %q", want)
			}
		}
		if n := strings.Count(top[1], "<li>"); n != 8 {
			t.Errorf("%d errors listed, want 8:\n%s", n, top[1])
		}
		for _, typed := range []string{`value="lots"`, `value="150"`, `value="2.5"`, `value="many"`} {
			if !strings.Contains(body, typed) {
				t.Errorf("the form lost %s", typed)
			}
		}
		if n := storetest.Count(t, s.DB, "programs"); n != 0 {
			t.Fatalf("%d programs saved by a refused form", n)
		}
	})
}
