package insight_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/apptest"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/insight"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// TestKPIsByMonthInNewYork: October ends and daylight saving time ends the
// same night (2026-11-01, 02:00 EDT). Months are New York's: 23:30 on
// October 31 is October, 00:30 on November 1 November, whatever UTC says.
func TestKPIsByMonthInNewYork(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clk := clock.NewFixed(utc("2026-11-20T17:00:00Z"))
		ten := apptest.Tenant(t, tenant.NewService(s, clk), tenant.NewTenant{Name: "Hudson", Timezone: "America/New_York", Currency: "USD"})
		f := fixture{t: t, s: s, tid: ten.ID}
		p := program.Defaults(ten.ID)
		p.PointValueCents = 10
		if _, err := program.Save(s.DB, p, clk.Now()); err != nil {
			t.Fatal(err)
		}
		east := f.crew("east", 40.7, -74.0)
		sam := f.member(east, "sam")
		angie := f.customer("angie", "2026-01-10T18:00:00Z")
		ben := f.customer("ben", "2026-10-20T18:00:00Z")
		dora := f.customer("dora", "2026-01-10T18:00:00Z")
		ed := f.customer("ed", "2026-01-10T18:00:00Z")
		f.place(dora, 40.71, -74.0)
		f.place(ed, 40.71, -74.0)
		f.link(dora, ed, 0, "2026-01-10")
		f.referral(angie, &ben, "ben", "link", "A", "converted", "2026-10-20T12:00:00Z", "2026-10-21T12:00:00Z")
		vo := f.crewVisit("vo", ben, east, "2026-10-31", "completed", 3)
		vn := f.crewVisit("vn", ben, east, "2026-11-01", "completed", 3)
		// Dora and Ed, 1,113.2 m from the depot at one address, on both
		// days: each day 2 × 2 × 1113.2 m × 1.3 = 5.79 km → 926 (as in the
		// README's example).
		for _, d := range []string{"2026-10-31", "2026-11-01"} {
			f.crewVisit("d"+d, dora, east, d, "completed", 1)
			f.crewVisit("e"+d, ed, east, d, "completed", 2)
		}
		f.invoice("o1", ben, "paid", "2026-11-01T03:30:00Z", 6000, line{"service", vo, 6000, ""}) // Oct 31, 23:30 EDT
		f.invoice("n1", ben, "paid", "2026-11-01T04:30:00Z", 4000, line{"service", vn, 4000, ""}) // Nov 1, 00:30 EDT
		f.points(sam, 10, "p1", "2026-11-01T03:59:00Z")                                           // Oct 31, 23:59 EDT
		f.points(sam, 20, "p2", "2026-11-01T04:00:00Z")                                           // Nov 1, 00:00 EDT

		svc := insight.NewService(s, clk)
		k, err := svc.KPIs(ctx, f.tid, insight.KPIQuery{Range: insight.Range{From: day("2026-10-20"), To: day("2026-11-10")}, GroupBy: "month"})
		if err != nil {
			t.Fatal(err)
		}
		show := func(r insight.Row) string {
			days := ""
			if r.From != nil {
				days = fmt.Sprintf(" %s..%s", r.From, r.To)
			}
			return fmt.Sprintf("%s%s rev=%d contrib=%d bonus=%s cost=%d save=%s km=%s net=%d", r.Group, days, r.RevenueCents, r.ContributionCents,
				i64(r.CrewBonusCents), r.CostCents, i64(r.RouteSavingsCents), f64(r.KmSaved), r.NetCents)
		}
		var got []string
		for _, g := range k.Groups {
			got = append(got, show(g))
		}
		// October: 40% of 6000 − 100 + 926; November: 40% of 4000 − 200 + 926.
		want := "[2026-10 2026-10-20..2026-10-31 rev=6000 contrib=2400 bonus=100 cost=100 save=926 km=5.79 net=3226" +
			" 2026-11 2026-11-01..2026-11-10 rev=4000 contrib=1600 bonus=200 cost=200 save=926 km=5.79 net=2326]"
		if fmt.Sprint(got) != want {
			t.Errorf("months:\n got %v\nwant %s", got, want)
		}
		if got, want := show(k.Total), "all rev=10000 contrib=4000 bonus=300 cost=300 save=1852 km=11.58 net=5552"; got != want || k.GroupBy != "month" {
			t.Errorf("total:\n got %s\nwant %s (%s)", got, want, k.GroupBy)
		}
		// The CSV carries each month's days.
		_, rows := k.Table()
		if len(rows) != 3 || rows[1][0] != "2026-10-20" || rows[1][1] != "2026-10-31" || rows[2][0] != "2026-11-01" || rows[0][0] != "2026-10-20" || rows[0][1] != "2026-11-10" {
			t.Errorf("csv: %q", rows)
		}

		// Computed together, the splits answer as KPIs does one at a time,
		// with the route savings their rows count.
		r := insight.Range{From: day("2026-10-20"), To: day("2026-11-10")}
		sp, err := svc.KPISplits(ctx, f.tid, r, "month", "crew", "channel", "variant")
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range []string{"month", "crew", "channel", "variant"} {
			alone, err := svc.KPIs(ctx, f.tid, insight.KPIQuery{Range: r, GroupBy: g})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := deref(sp.By[g]), deref(alone); got != want {
				t.Errorf("%s split:\n got %s\nwant %s", g, got, want)
			}
		}
		if sp.Savings.ValueCents != 1852 || sp.Savings.Visits != 4 || len(sp.Savings.Rows) != 2 {
			t.Errorf("savings: %+v", sp.Savings)
		}
		if _, err := svc.KPISplits(ctx, f.tid, r, "month", "week"); !apperror.HasCode(err, apperror.CodeValidation) {
			t.Errorf("week split: %v", err)
		}

		for _, q := range []insight.KPIQuery{{GroupBy: "week"}, {GroupBy: "week", Field: "group_by"}} {
			_, err := svc.KPIs(ctx, f.tid, q)
			var ae *apperror.Error
			field := q.Field
			if field == "" {
				field = "group"
			}
			if !errors.As(err, &ae) || ae.Fields[field] == "" {
				t.Errorf("%+v: %v", q, err)
			}
		}
	})
}

// deref writes out a KPI answer's rows with their pointers followed, so
// two answers compare by value.
func deref(k insight.KPIs) string {
	show := func(r insight.Row) string {
		return fmt.Sprintf("%s %v..%v ref=%d conv=%d rate=%s med=%s acq=%d rev=%d contrib=%d reward=%d sync=%s pts=%s bonus=%s cost=%d save=%s km=%s net=%d roi=%s cpa=%s new=%s/%s share=%s inv=%s synced=%s/%s",
			r.Group, r.From, r.To, r.Referrals, r.Conversions, f64(r.ConversionRate), f64(r.MedianDaysToConvert), r.Acquired, r.RevenueCents,
			r.ContributionCents, r.RewardCostCents, i64(r.SyncDiscountCents), i64(r.CrewPoints), i64(r.CrewBonusCents), r.CostCents,
			i64(r.RouteSavingsCents), f64(r.KmSaved), r.NetCents, f64(r.ROI), i64(r.CostPerAcquiredCents), iv(r.NewCustomers), iv(r.NewFromReferrals),
			f64(r.ReferralShareOfNew), iv(r.InvoicedVisits), iv(r.SyncedVisits), f64(r.SyncedVisitShare))
	}
	b := k.Budget
	out := fmt.Sprintf("%v %s margin=%d budget=%s %d/%d %s %d total=[%s]", k.Period, k.GroupBy, k.GrossMarginBps,
		b.Month, b.UsedCents, b.BudgetCents, f64(b.Share), b.WaitingCount, show(k.Total))
	for _, g := range k.Groups {
		out += " [" + show(g) + "]"
	}
	return out
}

func iv(n *int) string {
	if n == nil {
		return "null"
	}
	return fmt.Sprint(*n)
}

// TestKPIsByCrewShowEveryCrewThatSaved: a crew whose only figure is route
// savings (no referral pitched, no points, no discount billed) still has
// its row in the crew split, carrying those savings.
func TestKPIsByCrewShowEveryCrewThatSaved(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clk := clock.NewFixed(utc("2026-11-20T17:00:00Z"))
		ten := apptest.Tenant(t, tenant.NewService(s, clk), tenant.NewTenant{Name: "Hudson", Timezone: "America/New_York", Currency: "USD"})
		f := fixture{t: t, s: s, tid: ten.ID}
		if _, err := program.Save(s.DB, program.Defaults(ten.ID), clk.Now()); err != nil {
			t.Fatal(err)
		}
		west := f.crew("west", 40.7, -74.0)
		dora := f.customer("dora", "2026-01-10T18:00:00Z")
		ed := f.customer("ed", "2026-01-10T18:00:00Z")
		f.place(dora, 40.71, -74.0)
		f.place(ed, 40.71, -74.0)
		f.link(dora, ed, 0, "2026-01-10")
		f.crewVisit("d", dora, west, "2026-11-02", "completed", 1)
		f.crewVisit("e", ed, west, "2026-11-02", "completed", 2)

		svc := insight.NewService(s, clk)
		r := insight.Range{From: day("2026-11-01"), To: day("2026-11-10")}
		sp, err := svc.KPISplits(ctx, f.tid, r, "crew")
		if err != nil {
			t.Fatal(err)
		}
		if len(sp.Savings.Rows) != 1 || sp.Savings.Rows[0].CrewID != "west" {
			t.Fatalf("savings: %+v", sp.Savings)
		}
		var got []string
		for _, g := range sp.By["crew"].Groups {
			got = append(got, fmt.Sprintf("%s save=%s", g.Group, i64(g.RouteSavingsCents)))
		}
		if want := fmt.Sprintf("[west save=%d]", sp.Savings.ValueCents); fmt.Sprint(got) != want || sp.Savings.ValueCents == 0 {
			t.Errorf("crew rows %v, want %s", got, want)
		}
	})
}
