package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/routeloop/routeloop/geo"
	"github.com/routeloop/routeloop/internal/app"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/config"
	"github.com/routeloop/routeloop/internal/dispatch"
	"github.com/routeloop/routeloop/internal/insight"
	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/referral"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// now is 10:30 on Tuesday 10 November 2026 in Portland: four weeks back
// reach across the end of daylight saving time on 1 November, so visits
// start at 08:00 under both UTC offsets.
var now = time.Date(2026, 11, 10, 18, 30, 0, 0, time.UTC)

func portland(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func newApp(s *store.Store) (*app.App, *clock.Fixed) {
	c := clock.NewFixed(now)
	return app.Wire(config.Defaults(), s, c, slog.New(slog.DiscardHandler)), c
}

func seed(t *testing.T, a *app.App) Result {
	t.Helper()
	start := time.Now()
	res, err := Seed(context.Background(), a)
	if err != nil {
		t.Fatalf("Seed: %v", err)
	}
	t.Logf("Seed took %v: %s", time.Since(start).Round(time.Millisecond), res.Summary())
	return res
}

func allCustomers(t *testing.T, a *app.App, tenantID string) []mirror.Customer {
	t.Helper()
	var out []mirror.Customer
	for p := (store.Page{Limit: store.MaxLimit}); ; {
		cs, _, err := a.Mirror.Customers(context.Background(), tenantID, mirror.CustomerFilter{}, p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, cs...)
		if len(cs) < p.Limit {
			return out
		}
		p.After = cs[len(cs)-1].ID
	}
}

func allVisits(t *testing.T, a *app.App, tenantID string) []mirror.Visit {
	t.Helper()
	var out []mirror.Visit
	for p := (store.Page{Limit: store.MaxLimit}); ; {
		vs, _, err := a.Mirror.Visits(context.Background(), tenantID, mirror.VisitFilter{}, p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, vs...)
		if len(vs) < p.Limit {
			return out
		}
		p.After = vs[len(vs)-1].ID
	}
}

func allInvoices(t *testing.T, a *app.App, tenantID string) []invoice.Invoice {
	t.Helper()
	var out []invoice.Invoice
	for p := (store.Page{Limit: store.MaxLimit}); ; {
		invs, _, err := a.Invoices.List(context.Background(), tenantID, invoice.Filter{}, p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, invs...)
		if len(invs) < p.Limit {
			return out
		}
		p.After = invs[len(invs)-1].ID
	}
}

var tables = []string{"tenants", "api_keys", "users", "customers", "crews", "crew_members", "visits", "invoices", "invoice_lines",
	"referrals", "rewards", "ratings", "neighbor_links", "pitches", "crew_points"}

func rowCounts(t *testing.T, s *store.Store) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, tbl := range tables {
		out[tbl] = storetest.Count(t, s.DB, tbl)
	}
	return out
}

// TestSeed loads the demo once per database and checks, in order, what a
// first run stores, that a second run changes nothing, and that a run weeks
// later only adds the new weeks. (One load per database keeps the package's
// tests within seconds.)
func TestSeed(t *testing.T) {
	// The same today gives the same data: each database's first run
	// answers the same KPIs.
	var stories []string
	defer func() {
		if len(stories) == 2 && stories[0] != stories[1] {
			t.Errorf("the databases tell different stories:\n%s\n%s", stories[0], stories[1])
		}
	}()
	// Under the race detector SQLite's engine, pure Go, is instrumented too
	// and its three months of story take many minutes: the race run loads
	// the demo on PostgreSQL only (the plain run loads both and compares).
	dialects := storetest.Dialects
	if storetest.RaceDetector {
		dialects = []string{store.Postgres}
	}
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			s := storetest.Open(t, d)
			a, clk := newApp(s)
			res := seed(t, a)
			stories = append(stories, show(res.History.Total)+show(res.LastMonth.Total))
			t.Run("loads a landscaping company in Portland", func(t *testing.T) { checkCompany(t, s, a, res) })
			t.Run("tells the program's story in numbers", func(t *testing.T) { checkStory(t, s, a, res) })
			t.Run("a second run changes nothing", func(t *testing.T) { checkSecondRun(t, s, a, res) })
			t.Run("weeks later it adds the new weeks", func(t *testing.T) { checkWeeksLater(t, s, a, clk, res) })
		})
	}
}

func checkCompany(t *testing.T, s *store.Store, a *app.App, res Result) {
	ctx := context.Background()
	loc := portland(t)
	today := localdate.In(now, loc)

	if !res.Created || res.APIKey != DemoAPIKey || res.Today != today {
		t.Fatalf("result = %+v", res)
	}
	tn, err := a.Tenants.Get(ctx, res.TenantID)
	if err != nil {
		t.Fatal(err)
	}
	if tn.Name != "Greenway Lawn & Landscape (demo)" || tn.Timezone != "America/Los_Angeles" || tn.Currency != "USD" {
		t.Fatalf("tenant = %+v", tn)
	}
	for _, want := range []string{tn.Name, "created", fmt.Sprint(res.Total.Customers, " customers"),
		fmt.Sprint(res.Total.Visits, " visits"), fmt.Sprint(res.Total.Invoices, " invoices")} {
		if !strings.Contains(res.Summary(), want) {
			t.Errorf("summary %q does not say %q", res.Summary(), want)
		}
	}

	// Crews: four, each with 2 or 3 people and a depot in Portland.
	crewList, _, err := a.Mirror.Crews(ctx, res.TenantID, store.Page{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	if len(crewList) != 4 || storetest.Count(t, s.DB, "crews") != 4 {
		t.Fatalf("%d crews", len(crewList))
	}
	depots := map[string]geo.Point{}
	for _, c := range crewList {
		if n := len(c.Members); n < 2 || n > 3 {
			t.Errorf("crew %s has %d members", c.ExternalID, n)
		}
		if !inPortland(c.Depot()) {
			t.Errorf("crew %s depot %v is not in Portland", c.ExternalID, c.Depot())
		}
		depots[c.ExternalID] = c.Depot()
	}

	// Customers: 160 of old and the friends who joined, with contact
	// data, homes in Portland, about 60% agreeing to same-day service.
	cs := allCustomers(t, a, res.TenantID)
	if n := len(cs); n < 190 || n > 240 || int64(n) != storetest.Count(t, s.DB, "customers") || n != res.Total.Customers {
		t.Fatalf("%d customers", n)
	}
	emails, addresses := map[string]bool{}, map[string]bool{}
	consenting := []mirror.Customer{}
	for _, c := range cs {
		p, ok := c.Location()
		if !ok || !inPortland(p) {
			t.Errorf("customer %s lives at %v", c.ExternalID, p)
		}
		if c.Name == "" || !strings.Contains(c.Email, "@") || !strings.Contains(c.Phone, "555-") ||
			!strings.Contains(c.Address, "Portland, OR 97") || c.ReferralCode == "" {
			t.Errorf("customer %+v lacks contact data", c)
		}
		if emails[c.Email] || addresses[c.Address] {
			t.Errorf("customer %s shares e-mail or address with another (fraud rules would flag it)", c.ExternalID)
		}
		emails[c.Email], addresses[c.Address] = true, true
		if c.ConsentSameDay {
			consenting = append(consenting, c)
		}
	}
	if share := float64(len(consenting)) / float64(len(cs)); share < 0.5 || share > 0.7 {
		t.Errorf("%.0f%% consent to same-day service, want about 60%%", share*100)
	}
	pairs := 0
	for i, x := range consenting {
		px, _ := x.Location()
		for _, y := range consenting[i+1:] {
			py, _ := y.Location()
			d := geo.DistanceM(px, py)
			if d < 15 {
				t.Errorf("%s and %s are %.0f m apart", x.ExternalID, y.ExternalID, d)
			}
			if d < 500 {
				pairs++
			}
		}
	}
	if pairs < 20 {
		t.Errorf("only %d pairs of consenting neighbours within 500 m", pairs)
	}
	where := map[string]geo.Point{}
	for _, c := range cs {
		where[c.ExternalID], _ = c.Location()
	}

	// Visits: before and after today, each on its service date in
	// Portland, in route order from 08:00.
	vs := allVisits(t, a, res.TenantID)
	if int64(len(vs)) != storetest.Count(t, s.DB, "visits") || len(vs) != res.Total.Visits {
		t.Fatalf("%d visits listed, %d in the result", len(vs), res.Total.Visits)
	}
	var past, upcoming, cancelled int
	type crewDay struct{ crew, day string }
	routes := map[crewDay][]mirror.Visit{}
	byCustomer := map[string][]mirror.Visit{}
	for _, v := range vs {
		if v.StartAt == nil || localdate.In(*v.StartAt, loc) != v.ServiceDate {
			t.Fatalf("visit %s starts at %v, not on %s in Portland", v.ExternalID, v.StartAt, v.ServiceDate)
		}
		if wd := v.ServiceDate.Weekday(); wd == time.Saturday || wd == time.Sunday {
			t.Errorf("visit %s is on a %s", v.ExternalID, wd)
		}
		if v.PriceCents < 4500 || v.PriceCents > 9500 || v.DurationMin == nil || *v.DurationMin < 15 || *v.DurationMin > 60 {
			t.Errorf("visit %s costs %d cents and takes %v minutes", v.ExternalID, v.PriceCents, v.DurationMin)
		}
		if !strings.Contains(v.ExternalID, v.ServiceDate.String()) || !strings.Contains(v.ExternalID, v.CustomerExternalID) {
			t.Errorf("visit id %s does not name its customer and date", v.ExternalID)
		}
		switch {
		case v.ServiceDate.Before(today):
			past++
			if v.Status == mirror.VisitCancelled {
				cancelled++
			} else if v.Status != mirror.VisitCompleted {
				t.Errorf("past visit %s is %s", v.ExternalID, v.Status)
			}
		default:
			upcoming++
			if v.Status != mirror.VisitScheduled {
				t.Errorf("upcoming visit %s is %s", v.ExternalID, v.Status)
			}
		}
		k := crewDay{*v.CrewExternalID, v.ServiceDate.String()}
		routes[k] = append(routes[k], v)
		byCustomer[v.CustomerExternalID] = append(byCustomer[v.CustomerExternalID], v)
	}
	if past == 0 || upcoming == 0 {
		t.Fatalf("%d past and %d upcoming visits", past, upcoming)
	}
	first, last := vs[0].ServiceDate, vs[0].ServiceDate
	for _, v := range vs {
		if v.ServiceDate.Before(first) {
			first = v.ServiceDate
		}
		if v.ServiceDate.After(last) {
			last = v.ServiceDate
		}
	}
	if first.Before(today.AddDays(-91)) || last.After(today.AddDays(27)) ||
		today.AddDays(-84).Before(first) || last.Before(today.AddDays(20)) {
		t.Errorf("visits run %s to %s, want thirteen weeks before %s and four after", first, last, today)
	}
	if cancelled == 0 || cancelled*10 > past {
		t.Errorf("%d of %d past visits cancelled, want a few", cancelled, past)
	}
	var gaps, gapSum time.Duration
	for k, route := range routes {
		sort.Slice(route, func(i, j int) bool { return *route[i].RoutePosition < *route[j].RoutePosition })
		if h, m, _ := route[0].StartAt.In(loc).Clock(); h != 8 || m != 0 {
			t.Errorf("%v starts at %02d:%02d local, not 08:00", k, h, m)
		}
		for i, v := range route {
			if *v.RoutePosition != i+1 {
				t.Fatalf("%v: positions are not 1..%d: %d at %d", k, len(route), *v.RoutePosition, i)
			}
			if i == 0 {
				continue
			}
			gap := v.StartAt.Sub(*route[i-1].StartAt)
			if gap < time.Duration(*route[i-1].DurationMin)*time.Minute || gap > time.Hour {
				t.Errorf("%v: %s starts %v after the stop before", k, v.ExternalID, gap)
			}
			gaps++
			gapSum += gap
		}
		// Nearest-neighbour order: no stop is closer to the depot's
		// first pick than the first stop itself.
		d0 := geo.DistanceM(depots[k.crew], where[route[0].CustomerExternalID])
		for _, v := range route[1:] {
			if geo.DistanceM(depots[k.crew], where[v.CustomerExternalID]) < d0 {
				t.Errorf("%v: %s is nearer the depot than the first stop", k, v.CustomerExternalID)
			}
		}
	}
	if mean := gapSum / gaps; mean < 30*time.Minute || mean > 45*time.Minute {
		t.Errorf("stops start %v apart on average, want 30-45 minutes", mean)
	}
	for id, cvs := range byCustomer {
		sort.Slice(cvs, func(i, j int) bool { return cvs[i].ServiceDate.Before(cvs[j].ServiceDate) })
		for i, v := range cvs {
			if *v.CrewExternalID != *cvs[0].CrewExternalID || v.PriceCents != cvs[0].PriceCents {
				t.Errorf("customer %s changes crew or price", id)
			}
			if i > 0 {
				// Weekly or biweekly; a holiday skips one visit.
				if d := cvs[i-1].ServiceDate.DaysUntil(v.ServiceDate); d != 7 && d != 14 && d != 28 {
					t.Errorf("customer %s is served %d days apart", id, d)
				}
			}
		}
	}

	// Invoices: one per completed past visit, for the visit's price;
	// drafts for the last week only.
	invs := allInvoices(t, a, res.TenantID)
	if int64(len(invs)) != storetest.Count(t, s.DB, "invoices") || len(invs) != res.Total.Invoices {
		t.Fatalf("%d invoices, result says %d", len(invs), res.Total.Invoices)
	}
	visitByID := map[string]mirror.Visit{}
	for _, v := range vs {
		visitByID[v.ExternalID] = v
	}
	billed := map[string]bool{}
	statuses, lines := map[string]int{}, map[string]int{}
	discounted := 0
	defer func() {
		if res.Links > 0 && discounted == 0 {
			t.Errorf("%d neighbour links but no draft shows a same-day discount", res.Links)
		}
	}()
	for _, inv := range invs {
		statuses[inv.Status]++
		if inv.Currency != "USD" || len(inv.Lines) == 0 || inv.Lines[0].Kind != invoice.KindService || inv.Lines[0].VisitExternalID == nil {
			t.Fatalf("invoice %+v", inv)
		}
		// Beyond the service line, the same-day discount of a linked pair
		// and the referral rewards, each explaining itself.
		for _, l := range inv.Lines[1:] {
			lines[l.Kind]++
			switch {
			case l.Kind == invoice.KindSyncDiscount && strings.Contains(l.Reason, "serviced the same day as"):
				if inv.Status == invoice.StatusDraft {
					discounted++
				}
			case l.Kind == invoice.KindReferralReward && strings.Contains(l.Reason, "referral #"):
			case l.Kind == invoice.KindCredit && l.Reason != "":
			default:
				t.Fatalf("invoice %s has line %+v", inv.ExternalID, l)
			}
			if l.AmountCents >= 0 {
				t.Errorf("invoice %s: %s line of %d cents", inv.ExternalID, l.Kind, l.AmountCents)
			}
		}
		v, ok := visitByID[*inv.Lines[0].VisitExternalID]
		if !ok || v.Status != mirror.VisitCompleted || !v.ServiceDate.Before(today) ||
			v.CustomerExternalID != inv.CustomerExternalID || inv.Lines[0].AmountCents != v.PriceCents ||
			inv.SubtotalCents != v.PriceCents || inv.TotalCents != max(0, v.PriceCents-inv.DiscountCents) {
			t.Fatalf("invoice %s bills %+v", inv.ExternalID, v)
		}
		billed[v.ExternalID] = true
		recent := !v.ServiceDate.Before(today.AddDays(-7))
		if recent != (inv.Status == invoice.StatusDraft) {
			t.Errorf("invoice %s for %s is %s", inv.ExternalID, v.ServiceDate, inv.Status)
		}
	}
	for _, v := range vs {
		if v.Status == mirror.VisitCompleted && !billed[v.ExternalID] {
			t.Errorf("completed visit %s has no invoice", v.ExternalID)
		}
	}
	if statuses[invoice.StatusIssued] == 0 || statuses[invoice.StatusPaid] == 0 {
		t.Errorf("invoice states %v", statuses)
	}
	if lines[invoice.KindSyncDiscount] == 0 || lines[invoice.KindReferralReward] == 0 {
		t.Errorf("invoice lines beyond the service: %v", lines)
	}
}

// checkStory asks the insight services what an owner sees on the first
// run, for the whole history and for last month: every channel converts,
// rewards and sync discounts cost something, synced visits save measured
// kilometres, customers rate (mostly happily), the offer test has a
// verdict, and the reward rules show a held and a budget-released reward.
func checkStory(t *testing.T, s *store.Store, a *app.App, res Result) {
	ctx := context.Background()
	today := localdate.In(now, portland(t))
	yesterday := today.AddDays(-1)
	history := insight.Range{From: &res.From, To: &yesterday}
	lastFrom := localdate.Date{Year: 2026, Month: time.October, Day: 1}
	lastTo := localdate.Date{Year: 2026, Month: time.October, Day: 31}
	lastMonth := insight.Range{From: &lastFrom, To: &lastTo}
	if res.LastMonth.From != lastFrom || res.LastMonth.To != lastTo || res.History.From != res.From {
		t.Fatalf("the result's periods: %+v and %+v", res.History.Period, res.LastMonth.Period)
	}
	count := func(q string) int64 {
		var n int64
		if err := s.DB.Raw(q).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	for name, r := range map[string]insight.Range{"history": history, "last month": lastMonth} {
		k, err := a.Insights.KPIs(ctx, res.TenantID, insight.KPIQuery{Range: r, GroupBy: insight.GroupByChannel})
		if err != nil {
			t.Fatal(err)
		}
		total := k.Total
		channels := map[string]bool{}
		for _, g := range k.Groups {
			if g.Conversions > 0 && g.Acquired > 0 {
				channels[g.Group] = true
			}
		}
		for _, ch := range []string{referral.ChannelCard, referral.ChannelLink, referral.ChannelCode, referral.ChannelCrewPitch, referral.ChannelNameOnly} {
			if !channels[ch] {
				t.Errorf("%s: no conversions through %s: %+v", name, ch, k.Groups)
			}
		}
		if total.Referrals < 20 || total.Conversions == 0 || total.RevenueCents == 0 || total.RewardCostCents == 0 ||
			total.SyncDiscountCents == nil || *total.SyncDiscountCents == 0 || total.SyncedVisits == nil || *total.SyncedVisits == 0 ||
			total.RouteSavingsCents == nil || *total.RouteSavingsCents == 0 || total.KmSaved == nil || *total.KmSaved == 0 ||
			total.NewFromReferrals == nil || *total.NewFromReferrals == 0 || total.NetCents <= 0 {
			t.Errorf("%s: KPIs %s", name, show(total))
		}
		// The route savings are the ones the dispatch service measures.
		sv, err := a.Dispatch.RouteSavings(ctx, res.TenantID, dispatch.SavingsQuery{From: *r.From, To: *r.To})
		if err != nil {
			t.Fatal(err)
		}
		if sv.ValueCents != *total.RouteSavingsCents || sv.KmSaved != *total.KmSaved || sv.Visits == 0 {
			t.Errorf("%s: route savings %+v, KPIs say %d cents and %.2f km", name, sv, *total.RouteSavingsCents, *total.KmSaved)
		}
		// Ratings: mostly happy, a few complaints.
		wm, err := a.Insights.WordOfMouth(ctx, res.TenantID, r)
		if err != nil {
			t.Fatal(err)
		}
		var rated, happy, unhappy int64
		for _, m := range wm.Months {
			rated, happy, unhappy = rated+m.Ratings, happy+m.Satisfied, unhappy+m.Dissatisfied
		}
		if rated < 50 || happy*10 < rated*8 || unhappy == 0 || unhappy*10 > rated {
			t.Errorf("%s: %d ratings, %d happy, %d unhappy", name, rated, happy, unhappy)
		}
		if name == "last month" {
			if res.LastMonth.Total.NetCents != total.NetCents || res.LastMonth.Total.Acquired != total.Acquired {
				t.Errorf("the result's last month %s, the KPIs %s", show(res.LastMonth.Total), show(total))
			}
			continue
		}
		if res.History.Total.NetCents != total.NetCents {
			t.Errorf("the result's history %s, the KPIs %s", show(res.History.Total), show(total))
		}
		// The offer test has enough referrals for a verdict.
		ab, err := a.Insights.AB(ctx, res.TenantID, insight.ABQuery{Range: r, Kind: insight.KindOffer})
		if err != nil {
			t.Fatal(err)
		}
		if len(ab.Variants) != 2 || ab.Variants[0].Referrals < insight.MinPerArm || ab.Variants[1].Referrals < insight.MinPerArm ||
			!strings.Contains(ab.Verdict, "converts better than") {
			t.Errorf("A/B: %+v", ab)
		}
		// The crews' two scripts, read by visit: every friend given on
		// site is in one arm.
		sc, err := a.Insights.AB(ctx, res.TenantID, insight.ABQuery{Range: r, Kind: insight.KindScript})
		if err != nil {
			t.Fatal(err)
		}
		onSite := count(`SELECT COUNT(*) FROM referrals WHERE channel = 'crew_pitch'`)
		if len(sc.Variants) != 2 || int64(sc.Variants[0].Referrals+sc.Variants[1].Referrals) != onSite || onSite < 10 {
			t.Errorf("script test: %+v for %d referrals given on site", sc, onSite)
		}
	}
	for _, m := range []string{"since " + res.From.String(), "last month (2026-10-01 to 2026-10-31)", "the program paid", " km)"} {
		if !strings.Contains(res.Summary(), m) {
			t.Errorf("summary %q does not say %q", res.Summary(), m)
		}
	}

	if n := storetest.Count(t, s.DB, "referrals"); n != int64(res.Total.Referrals) {
		t.Errorf("%d referrals stored, %d in the story", n, res.Total.Referrals)
	}
	if n := storetest.Count(t, s.DB, "ratings"); n != int64(res.Total.Ratings) {
		t.Errorf("%d ratings stored, %d in the story", n, res.Total.Ratings)
	}
	// Facts carry their past times: the first referral is from the first
	// week of the history, conversions follow their referrals.
	var first time.Time
	var early int64
	s.DB.Raw(`SELECT MIN(created_at) FROM referrals`).Row().Scan(&first)
	if err := s.DB.Raw(`SELECT COUNT(*) FROM referrals WHERE converted_at IS NOT NULL AND converted_at < created_at`).Scan(&early).Error; err != nil {
		t.Fatal(err)
	}
	if localdate.In(first, portland(t)).After(res.From.AddDays(7)) || early != 0 {
		t.Errorf("first referral at %v; %d converted before they were made", first, early)
	}
	// The reward rules at work: rewards of the last week still held, a
	// reward that waited for the next month's budget and was released, a
	// flagged referral and a duplicate that earn nothing, a complaint the
	// office resolved.
	// The nightly reconciliation ran through the history and found nothing
	// it could not work out.
	var lastDay string
	s.DB.Raw(`SELECT last_day FROM reconcile_state`).Row().Scan(&lastDay)
	if errs := count(`SELECT COUNT(*) FROM reconcile_errors`); errs != 0 || !strings.HasPrefix(lastDay, today.AddDays(-2).String()) {
		t.Errorf("reconciled up to %q with %d errors", lastDay, errs)
	}
	for what, n := range map[string]int64{
		"held rewards":             count(`SELECT COUNT(*) FROM rewards WHERE status = 'held'`),
		"released budget rewards":  count(`SELECT COUNT(*) FROM rewards WHERE status = 'granted' AND released_at IS NOT NULL AND reason LIKE '%reward budget%'`),
		"referrals in review":      count(`SELECT COUNT(*) FROM referrals WHERE status = 'pending_review'`),
		"duplicate referrals":      count(`SELECT COUNT(*) FROM referrals WHERE status = 'duplicate'`),
		"neighbours linked":        count(`SELECT COUNT(*) FROM neighbor_links WHERE referral_id IS NOT NULL`),
		"resolved complaints":      count(`SELECT COUNT(*) FROM ratings WHERE complaint AND resolved_at IS NOT NULL`),
		"crew-pitched conversions": count(`SELECT COUNT(*) FROM referrals r JOIN pitches p ON p.referral_id = r.id WHERE r.channel = 'crew_pitch' AND r.status = 'converted' AND r.crew_member_id IS NOT NULL`),
		"crew points":              count(`SELECT COUNT(*) FROM crew_points`),
	} {
		if n == 0 {
			t.Errorf("no %s", what)
		}
	}
}

func show(r insight.Row) string {
	b, _ := json.Marshal(r)
	return string(b)
}

func inPortland(p geo.Point) bool {
	return p.Lat > 45.43 && p.Lat < 45.62 && p.Lon > -122.80 && p.Lon < -122.55
}

func checkSecondRun(t *testing.T, s *store.Store, a *app.App, first Result) {
	ctx := context.Background()
	before := rowCounts(t, s)
	c1, err := a.Mirror.Customer(ctx, first.TenantID, "cust-0001")
	if err != nil {
		t.Fatal(err)
	}

	second := seed(t, a)
	if second.Created || second.TenantID != first.TenantID {
		t.Fatalf("second run: %+v", second)
	}
	if second.Added != (Counts{}) || second.Updated != (Counts{}) {
		t.Errorf("second run wrote %+v new and %+v changed", second.Added, second.Updated)
	}
	if !strings.Contains(second.Summary(), "topped up") {
		t.Errorf("summary %q", second.Summary())
	}
	if after := rowCounts(t, s); !reflect.DeepEqual(before, after) {
		t.Fatalf("rows before %v, after %v", before, after)
	}
	c2, err := a.Mirror.Customer(ctx, first.TenantID, "cust-0001")
	if err != nil {
		t.Fatal(err)
	}
	if c1.ReferralCode != c2.ReferralCode || !c1.UpdatedAt.Equal(c2.UpdatedAt) {
		t.Errorf("customer rewritten: %+v then %+v", c1, c2)
	}

	p, err := a.Tenants.Authenticate(ctx, DemoAPIKey)
	if err != nil {
		t.Fatal(err)
	}
	if p.TenantID != first.TenantID || p.Role != tenant.RoleAdmin || p.Location.String() != "America/Los_Angeles" || p.Currency != "USD" {
		t.Fatalf("demo key acts as %+v", p)
	}

	// The demo's staff logins sign in with the printed password; the crew
	// login is a North Crew member.
	if len(first.Logins) != 3 || first.Logins[0].Email != "dispatcher@greenway.example" {
		t.Fatalf("logins %+v", first.Logins)
	}
	for _, l := range first.Logins {
		u, err := a.Users.Login(ctx, l.Email, DemoPassword, "", "127.0.0.1")
		if err != nil || u.TenantID != first.TenantID || u.Role != l.Role || (u.CrewMemberID != nil) != (l.Role == tenant.RoleCrew) {
			t.Fatalf("demo login %s: %+v %v", l.Email, u, err)
		}
	}
}

func checkWeeksLater(t *testing.T, s *store.Store, a *app.App, clk *clock.Fixed, first Result) {
	invs1 := map[string]invoice.Invoice{}
	for _, inv := range allInvoices(t, a, first.TenantID) {
		invs1[inv.ExternalID] = inv
	}
	visits1 := storetest.Count(t, s.DB, "visits")

	clk.Advance(16 * 24 * time.Hour) // a Thursday, two weeks and two days later
	later := seed(t, a)
	// Weeks later: new weeks of visits and invoices, and the story goes
	// on — new referrals, friends joining, ratings.
	if later.Created || later.Added.Customers == 0 || later.Added.Visits == 0 || later.Added.Invoices == 0 ||
		later.Added.Referrals == 0 || later.Added.Ratings == 0 {
		t.Fatalf("later run: %+v", later)
	}
	if got := storetest.Count(t, s.DB, "visits"); got != visits1+int64(later.Added.Visits) {
		t.Errorf("%d visits after adding %d to %d", got, later.Added.Visits, visits1)
	}
	var dups int64
	if err := s.DB.Raw(`SELECT COUNT(*) FROM (SELECT customer_id, service_date FROM visits
		GROUP BY customer_id, service_date HAVING COUNT(*) > 1) d`).Scan(&dups).Error; err != nil {
		t.Fatal(err)
	}
	if dups != 0 {
		t.Errorf("%d customers have two visits on one day", dups)
	}
	// The story went on without repeating itself: every referral of the
	// story once, no visit rated twice, no friend twice a customer.
	var twiceRated, twiceFriends int64
	s.DB.Raw(`SELECT COUNT(*) FROM (SELECT visit_id FROM ratings GROUP BY visit_id HAVING COUNT(*) > 1) d`).Scan(&twiceRated)
	s.DB.Raw(`SELECT COUNT(*) FROM (SELECT phone FROM customers GROUP BY phone HAVING COUNT(*) > 1) d`).Scan(&twiceFriends)
	if n := storetest.Count(t, s.DB, "referrals"); n != int64(later.Total.Referrals) || twiceRated != 0 || twiceFriends != 0 {
		t.Errorf("%d referrals stored for %d in the story; %d visits rated twice; %d phones on two customers",
			n, later.Total.Referrals, twiceRated, twiceFriends)
	}

	// Invoices move on in their life and never change their lines.
	moved := 0
	for _, inv := range allInvoices(t, a, first.TenantID) {
		old, ok := invs1[inv.ExternalID]
		if !ok {
			continue
		}
		if !reflect.DeepEqual(serviceLines(old), serviceLines(inv)) {
			t.Errorf("invoice %s changed lines", inv.ExternalID)
		}
		if old.Status != inv.Status {
			moved++
			if old.Status == invoice.StatusPaid || (old.Status == invoice.StatusIssued && inv.Status != invoice.StatusPaid) {
				t.Errorf("invoice %s went from %s to %s", inv.ExternalID, old.Status, inv.Status)
			}
		}
		if old.Status == invoice.StatusDraft && inv.Status == invoice.StatusDraft {
			t.Errorf("invoice %s is still a draft more than two weeks after its visit", inv.ExternalID)
		}
	}
	if moved == 0 {
		t.Error("no invoice moved on")
	}

	// Every completed visit before the later today has exactly one
	// service line billing it.
	var unbilled, doubly int64
	s.DB.Raw(`SELECT COUNT(*) FROM visits v WHERE v.status = 'completed' AND NOT EXISTS
		(SELECT 1 FROM invoice_lines l WHERE l.visit_id = v.id AND l.kind = 'service')`).Scan(&unbilled)
	s.DB.Raw(`SELECT COUNT(*) FROM (SELECT visit_id FROM invoice_lines WHERE visit_id IS NOT NULL AND kind = 'service'
		GROUP BY visit_id HAVING COUNT(*) > 1) d`).Scan(&doubly)
	if unbilled != 0 || doubly != 0 {
		t.Errorf("%d completed visits unbilled, %d billed twice", unbilled, doubly)
	}

	again := seed(t, a)
	if again.Added != (Counts{}) || again.Updated != (Counts{}) {
		t.Errorf("third run wrote %+v new and %+v changed", again.Added, again.Updated)
	}
}

func serviceLines(inv invoice.Invoice) []string {
	var out []string
	for _, l := range inv.Lines {
		if l.Kind == invoice.KindService {
			out = append(out, fmt.Sprintf("%v|%s|%d", *l.VisitExternalID, l.Description, l.AmountCents))
		}
	}
	return out
}

func TestSeedRefusesADemoKeyOfAnotherTenant(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	a, _ := newApp(s)
	other, _, err := a.Tenants.Create(ctx, tenant.NewTenant{Name: "Someone else", Timezone: "UTC", Currency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Tenants.ImportKey(ctx, other.ID, tenant.RoleAdmin, DemoAPIKey); err != nil {
		t.Fatal(err)
	}
	if _, err := Seed(ctx, a); err == nil || !strings.Contains(err.Error(), "another tenant") {
		t.Fatalf("Seed with the demo key taken: %v", err)
	}
	if n := storetest.Count(t, s.DB, "customers"); n != 0 {
		t.Fatalf("%d customers loaded", n)
	}
}

// The generated data depends on the date only through the window and the
// story so far: the same customers every time (and the friends who have
// joined since after them), the same referrals, and the same visit for the
// same id whenever it is generated on the same side of today.
func TestBuildIsStableOverTime(t *testing.T) {
	t.Parallel()
	loc := portland(t)
	d1 := localdate.In(now, loc)
	d2 := d1.AddDays(9)
	a, b := build(d1, d1.AddDays(-7*weeksBack), loc), build(d2, d1.AddDays(-7*weeksBack), loc)
	// Later, friends have joined after the same customers as before.
	if len(b.customers) <= len(a.customers) || !reflect.DeepEqual(a.customers, b.customers[:len(a.customers)]) ||
		!reflect.DeepEqual(a, build(d1, d1.AddDays(-7*weeksBack), loc)) {
		t.Fatal("customers differ between runs")
	}
	// The same referrals, and more.
	if len(b.referrals) <= len(a.referrals) {
		t.Fatalf("%d referrals, then %d", len(a.referrals), len(b.referrals))
	}
	for i, r := range a.referrals {
		o := b.referrals[i]
		if o.friend >= 0 && r.friend < 0 { // signed up since
			r.friend, r.mirror = o.friend, o.mirror
		}
		if !reflect.DeepEqual(r, o) {
			t.Errorf("referral %d: %+v, then %+v", i, r, o)
		}
	}
	inA := map[string]visitSpec{}
	for _, v := range a.visits {
		inA[v.id] = v
	}
	shared := 0
	for _, v := range b.visits {
		o, ok := inA[v.id]
		if !ok {
			continue
		}
		shared++
		// Routes ahead are planned again when a friend joins them; the
		// past stays as it was.
		if v.date.Before(d1) && (!o.start.Equal(v.start) || o.position != v.position) || o.crew != v.crew {
			t.Errorf("visit %s moved: %v #%d then %v #%d", v.id, o.start, o.position, v.start, v.position)
		}
		if (v.date.Before(d1) || !v.date.Before(d2)) && o.status != v.status {
			t.Errorf("visit %s was %s, then %s", v.id, o.status, v.status)
		}
	}
	if shared == 0 {
		t.Fatal("the windows share no visits")
	}
	invA := map[string]invoiceSpec{}
	for _, inv := range a.invoices {
		invA[inv.id] = inv
	}
	for _, inv := range b.invoices {
		if o, ok := invA[inv.id]; ok && !reflect.DeepEqual(o.input.Lines, inv.input.Lines) {
			t.Errorf("invoice %s lines differ", inv.id)
		}
	}
}

func TestNoVisitsOnHolidays(t *testing.T) {
	t.Parallel()
	loc := portland(t)
	thanksgiving := localdate.Date{Year: 2026, Month: time.November, Day: 26}
	ds := build(thanksgiving.AddDays(-3), thanksgiving.AddDays(-3-7*weeksBack), loc)
	days := map[localdate.Date]int{}
	for _, v := range ds.visits {
		days[v.date]++
	}
	if days[thanksgiving] != 0 || days[thanksgiving.AddDays(-7)] == 0 || days[thanksgiving.AddDays(7)] == 0 {
		t.Fatalf("Thursdays around Thanksgiving: %d, %d, %d visits",
			days[thanksgiving.AddDays(-7)], days[thanksgiving], days[thanksgiving.AddDays(7)])
	}
	for _, d := range []string{"2026-01-01", "2026-05-25", "2026-07-04", "2026-09-07", "2026-11-26", "2026-12-25", "2027-05-31", "2027-11-25"} {
		if !holiday(mustDate(t, d)) {
			t.Errorf("%s is not a holiday", d)
		}
	}
	for _, d := range []string{"2026-05-18", "2026-09-14", "2026-11-19", "2026-12-24", "2027-05-24"} {
		if holiday(mustDate(t, d)) {
			t.Errorf("%s is a holiday", d)
		}
	}
}

func mustDate(t *testing.T, s string) localdate.Date {
	t.Helper()
	d, err := localdate.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestAddressesFollowPortlandsGrid(t *testing.T) {
	t.Parallel()
	for _, c := range build(localdate.In(now, portland(t)), localdate.In(now, portland(t)).AddDays(-7*weeksBack), portland(t)).customers {
		var num int
		var rest string
		if _, err := fmt.Sscanf(c.input.Address, "%d %s", &num, &rest); err != nil {
			t.Fatalf("%q: %v", c.input.Address, err)
		}
		q := quadrant(c.point)
		if !strings.HasPrefix(rest, q) {
			t.Errorf("%s at %v is in %s", c.input.Address, c.point, q)
		}
		street := strings.SplitN(c.input.Address, ", ", 2)[0]
		want := eastWestNumber(c.point, q)
		if strings.HasSuffix(street, " Ave") {
			want = northSouthNumber(c.point)
		}
		// 100 numbers a block: the number is within a block of the grid's.
		if diff := float64(num) - want; diff < -100 || diff > 100 {
			t.Errorf("%s at %v: grid says %.0f", c.input.Address, c.point, want)
		}
	}
	for n, want := range map[int]string{1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 11: "11th", 12: "12th", 13: "13th", 21: "21st", 82: "82nd", 111: "111th"} {
		if got := ordinal(n); got != want {
			t.Errorf("ordinal(%d) = %s", n, got)
		}
	}
}
