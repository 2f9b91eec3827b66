package insight_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/apptest"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/insight"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// fixture writes rows by SQL, so every number in the test is set by hand.
type fixture struct {
	t   *testing.T
	s   *store.Store
	tid string
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func (f fixture) id(q string, args ...any) int64 {
	f.t.Helper()
	var id int64
	if err := f.s.DB.Raw(q+" RETURNING id", append([]any{f.tid}, args...)...).Scan(&id).Error; err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
	return id
}

func (f fixture) exec(q string, args ...any) {
	f.t.Helper()
	if err := f.s.DB.Exec(q, append([]any{f.tid}, args...)...).Error; err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
}

func (f fixture) customer(name, created string) int64 {
	return f.id(`INSERT INTO customers (tenant_id, external_id, name, referral_code, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
		name, name, "K"+f.tid[:8]+name, utc(created), utc(created))
}

func (f fixture) visit(name string, customer int64, day, source, status string, savedM int, savedMin float64) int64 {
	return f.id(`INSERT INTO visits (tenant_id, external_id, customer_id, service_date, status, price_cents, source, saved_metres, saved_minutes, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 5000, ?, ?, ?, ?, ?)`, name, customer, day, status, source, savedM, savedMin, utc(day+"T12:00:00Z"), utc(day+"T12:00:00Z"))
}

func (f fixture) referral(referrer int64, referee *int64, key, channel, variant, status, created, converted string) int64 {
	var conv *time.Time
	if converted != "" {
		c := utc(converted)
		conv = &c
	}
	return f.id(`INSERT INTO referrals (tenant_id, referrer_id, referee_customer_id, referee_key, referee_name, channel, variant, status, converted_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, referrer, referee, key, key, channel, variant, status, conv, utc(created), utc(created))
}

func (f fixture) reward(customer, referral int64, kind string, amount, value int64, status, month, key string) int64 {
	return f.id(`INSERT INTO rewards (tenant_id, customer_id, referral_id, role, kind, amount_cents, value_cents, status, budget_month, reason, idempotency_key, created_at)
		VALUES (?, ?, ?, 'referrer', ?, ?, ?, ?, ?, 'fixture', ?, ?)`, customer, referral, kind, amount, value, status, month, key, utc("2026-05-06T18:00:00Z"))
}

type line struct {
	kind   string
	visit  int64
	amount int64
	source string
}

func (f fixture) invoice(name string, customer int64, status, issued string, total int64, lines ...line) int64 {
	var at *time.Time
	if issued != "" {
		i := utc(issued)
		at = &i
	}
	inv := f.id(`INSERT INTO invoices (tenant_id, external_id, customer_id, status, currency, subtotal_cents, discount_cents, total_cents, public_token, issued_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, 'USD', 0, 0, ?, ?, ?, ?, ?)`, name, customer, status, total, f.tid[:8]+name, at, utc("2026-04-01T00:00:00Z"), utc("2026-04-01T00:00:00Z"))
	for i, l := range lines {
		var visit *int64
		if l.visit != 0 {
			visit = &l.visit
		}
		var src, item *string
		if l.source != "" {
			src = &l.source
			// The ledger item the line gives: "reward:7" of "reward:7:visit:42";
			// a late credit ("adjustment:…") gives its visit's sync item.
			key := l.source
			switch {
			case strings.HasPrefix(key, "reward:"):
				key = "reward:" + strings.Split(key, ":")[1]
			case strings.HasPrefix(key, "adjustment:"):
				key = fmt.Sprintf("sync:%d:0", l.visit)
			case strings.HasPrefix(key, "visit:"):
				key = fmt.Sprintf("sync:%d:%d", l.visit, inv)
			}
			item = &key
		}
		f.exec(`INSERT INTO invoice_lines (tenant_id, invoice_id, position, kind, visit_id, description, amount_cents, source_key, item_key) VALUES (?, ?, ?, ?, ?, 'x', ?, ?, ?)`,
			inv, i+1, l.kind, visit, l.amount, src, item)
	}
	return inv
}

// mayInLosAngeles builds Greenway's May 2026 (America/Los_Angeles, so the
// period is 2026-05-01T07:00Z .. 2026-06-01T07:00Z) with the clock on May 20.
func mayInLosAngeles(t *testing.T, s *store.Store) (*insight.Service, fixture) {
	clk := clock.NewFixed(utc("2026-05-20T19:00:00Z"))
	ten := apptest.Tenant(t, tenant.NewService(s, clk), tenant.NewTenant{Name: "Greenway", Timezone: "America/Los_Angeles", Currency: "USD"})
	f := fixture{t: t, s: s, tid: ten.ID}
	p := program.Defaults(ten.ID)
	p.MonthlyBudgetCents, p.PointValueCents, p.CostPerKmCents, p.LabourCentsPerMinute = 10000, 10, 60, 50
	p.Offers = []program.Offer{
		{Name: "A", Referee: program.Reward{Kind: program.RewardPercentNextInvoice, Bps: 1000}, Referrer: program.Reward{Kind: program.RewardFixedCredit, AmountCents: 2000}},
		{Name: "B", Referee: program.Reward{Kind: program.RewardFreeAddon, AmountCents: 1500, AddonName: "Gutter clean"}, Referrer: program.Reward{Kind: program.RewardFixedCredit, AmountCents: 2000}},
	}
	if _, err := program.Save(s.DB, p, clk.Now()); err != nil {
		t.Fatal(err)
	}

	// Customers. New in May (local): ben, cat, dan, eve, and gus (created
	// 2026-06-01T05:00Z = May 31, 22:00 in LA). hal's 2026-05-01T06:00Z is
	// still April 30 in LA. New customers 5, from converted referrals 2
	// (ben, cat; eve's referral is pending) → share 0.4.
	angie := f.customer("angie", "2026-01-10T18:00:00Z")
	ben := f.customer("ben", "2026-05-03T18:00:00Z")
	cat := f.customer("cat", "2026-05-10T18:00:00Z")
	f.customer("dan", "2026-05-12T18:00:00Z")
	eve := f.customer("eve", "2026-05-15T18:00:00Z")
	fay := f.customer("fay", "2026-04-20T18:00:00Z")
	f.customer("gus", "2026-06-01T05:00:00Z")
	f.customer("hal", "2026-05-01T06:00:00Z")

	// Referrals created in May: r1, r2, r3, r4 (r5 in April, r6 at April 30
	// 22:00 LA time). Converted of those: r1 (4.0 days), r2 (1.5 days) →
	// rate 0.5, median 2.75 → 2.8. Acquired in May: r1, r2, r5 → 3.
	r1 := f.referral(angie, &ben, "ben", "link", "A", "converted", "2026-05-02T18:00:00Z", "2026-05-06T18:00:00Z")
	r2 := f.referral(angie, &cat, "cat", "code", "B", "converted", "2026-05-04T12:00:00Z", "2026-05-06T00:00:00Z")
	f.referral(angie, &eve, "eve", "link", "A", "pending", "2026-05-05T18:00:00Z", "")
	f.referral(angie, nil, "ivy", "card", "B", "rejected", "2026-05-20T18:00:00Z", "")
	r5 := f.referral(angie, &fay, "fay", "card", "A", "converted", "2026-04-25T12:00:00Z", "2026-05-02T12:00:00Z")
	f.referral(angie, nil, "joe", "code", "B", "pending", "2026-05-01T05:00:00Z", "")

	// Rewards. Granted with budget month 2026-05: 2000 + 1000 + 1500 = 4500
	// of 10000 → 0.45; rw4 waits for budget; rw5 is April's.
	rw1 := f.reward(angie, r1, "fixed_credit", 2000, 2000, "granted", "2026-05", "rw1")
	rw2 := f.reward(ben, r1, "percent_next_invoice", 0, 1000, "granted", "2026-05", "rw2")
	rw3 := f.reward(cat, r2, "free_addon", 1500, 1500, "granted", "2026-05", "rw3")
	f.reward(angie, r2, "fixed_credit", 2000, 2000, "pending_budget", "", "rw4")
	rw5 := f.reward(fay, r5, "percent_next_invoice", 0, 500, "granted", "2026-04", "rw5")

	vb1 := f.visit("vb1", ben, "2026-05-07", "scheduler", "completed", 0, 0)
	vc1 := f.visit("vc1", cat, "2026-05-08", "scheduler", "completed", 0, 0)
	vc2 := f.visit("vc2", cat, "2026-05-09", "scheduler", "completed", 0, 0)
	va1 := f.visit("va1", angie, "2026-05-10", "scheduler", "completed", 0, 0)
	// va2 was booked here and recorded 2.5 km and 10 minutes saved at
	// booking; no linked neighbour was serviced that day and no crew drove
	// it, so it saves nothing: route savings are measured, never taken
	// from booking time (nor the cancelled va3 and June's va4).
	va2 := f.visit("va2", angie, "2026-05-31", "routeloop", "completed", 2500, 10)
	f.visit("va3", angie, "2026-05-12", "routeloop", "cancelled", 9999, 99)
	f.visit("va4", angie, "2026-06-01", "routeloop", "scheduled", 9999, 99)
	vf0 := f.visit("vf0", fay, "2026-04-27", "scheduler", "completed", 0, 0)
	vf1 := f.visit("vf1", fay, "2026-05-02", "scheduler", "completed", 0, 0)
	vb2 := f.visit("vb2", ben, "2026-05-20", "scheduler", "scheduled", 0, 0)

	// Invoices issued or paid in May. Revenue of referees, their service
	// lines before any discount: ben 10000 (link, A; he paid 9000), cat
	// 4000 (code, B), fay 5000 (card, A; she paid 4500) → 19000. Not
	// counted: angie (no referral), fay's April invoice, cat's void one,
	// ben's draft.
	f.invoice("b1", ben, "paid", "2026-05-07T17:00:00Z", 9000,
		line{"service", vb1, 10000, ""}, line{"referral_reward", vb1, -1000, fmt.Sprintf("reward:%d:visit:%d", rw2, vb1)})
	f.invoice("c1", cat, "issued", "2026-05-08T17:00:00Z", 4000,
		line{"service", vc1, 4000, ""}, line{"addon", 0, 0, fmt.Sprintf("reward:%d", rw3)})
	f.invoice("cv", cat, "void", "2026-05-09T17:00:00Z", 3000, line{"service", vc2, 3000, ""})
	f.invoice("a1", angie, "issued", "2026-05-10T17:00:00Z", 11500,
		line{"service", va1, 10000, ""}, line{"sync_discount", va1, -1000, fmt.Sprintf("visit:%d", va1)},
		line{"service", va2, 5000, ""}, line{"credit", 0, -2000, fmt.Sprintf("reward:%d", rw1)},
		line{"credit", va1, -500, "adjustment:1"})
	f.invoice("f0", fay, "issued", "2026-04-28T17:00:00Z", 4500, line{"service", vf0, 5000, ""}, line{"sync_discount", vf0, -500, "visit:f0"})
	f.invoice("f1", fay, "paid", "2026-05-03T17:00:00Z", 4500,
		line{"service", vf1, 5000, ""}, line{"referral_reward", vf1, -500, fmt.Sprintf("reward:%d:visit:%d", rw5, vf1)})
	f.invoice("bd", ben, "draft", "", 7000, line{"service", vb2, 7000, ""})

	// Crew points in May: 20 + 5 = 25 → 250 cents; June 1, 01:00 LA is out.
	crew := f.id(`INSERT INTO crews (tenant_id, external_id, name, depot_lat, depot_lon, created_at, updated_at) VALUES (?, 'north', 'North', 45.5, -122.6, ?, ?)`,
		utc("2026-01-01T00:00:00Z"), utc("2026-01-01T00:00:00Z"))
	sam := f.id(`INSERT INTO crew_members (tenant_id, crew_id, external_id, name, created_at, updated_at) VALUES (?, ?, 'sam', 'Sam', ?, ?)`,
		crew, utc("2026-01-01T00:00:00Z"), utc("2026-01-01T00:00:00Z"))
	for i, p := range []struct {
		points int
		at     string
	}{{20, "2026-05-06T18:00:00Z"}, {5, "2026-05-02T18:00:00Z"}, {100, "2026-06-01T08:00:00Z"}} {
		f.exec(`INSERT INTO crew_points (tenant_id, crew_member_id, kind, points, reason, idempotency_key, created_at) VALUES (?, ?, 'pitch', ?, 'fixture', ?, ?)`,
			sam, p.points, fmt.Sprintf("p%d", i), utc(p.at))
	}
	// Pitches: r1 with the "short" script (converted), eve's with "long"
	// (pending).
	f.exec(`INSERT INTO pitches (tenant_id, visit_id, customer_id, crew_member_id, script, outcome, referral_id, created_at) VALUES (?, ?, ?, ?, 'short', 'referral_given', ?, ?)`,
		va1, angie, sam, r1, utc("2026-05-02T18:00:00Z"))
	var r3 int64
	s.DB.Raw(`SELECT id FROM referrals WHERE tenant_id = ? AND referee_key = 'eve'`, f.tid).Scan(&r3)
	f.exec(`INSERT INTO pitches (tenant_id, visit_id, customer_id, crew_member_id, script, outcome, referral_id, created_at) VALUES (?, ?, ?, ?, 'long', 'referral_given', ?, ?)`,
		vb1, angie, sam, r3, utc("2026-05-05T18:00:00Z"))

	// Ratings: April 20 one 5; May 5, 4, 3, 2, 1, 5 → 3 satisfied, 1
	// neutral, 2 dissatisfied of 6.
	for i, r := range []struct {
		score int
		visit int64
		at    string
	}{{5, vf0, "2026-04-20T18:00:00Z"}, {5, vf1, "2026-05-02T18:00:00Z"}, {4, vb1, "2026-05-07T18:00:00Z"}, {3, vc1, "2026-05-08T18:00:00Z"},
		{2, vc2, "2026-05-09T18:00:00Z"}, {1, va1, "2026-05-10T18:00:00Z"}, {5, va2, "2026-06-01T05:00:00Z"}} {
		f.exec(`INSERT INTO ratings (tenant_id, customer_id, visit_id, score, created_at) VALUES (?, ?, ?, ?, ?)`, angie, r.visit, r.score, utc(r.at))
		_ = i
	}
	return insight.NewService(s, clk), f
}

func day(s string) *localdate.Date {
	d, err := localdate.Parse(s)
	if err != nil {
		panic(err)
	}
	return &d
}

func f64(v *float64) string {
	if v == nil {
		return "nil"
	}
	return fmt.Sprint(*v)
}

func i64(v *int64) string {
	if v == nil {
		return "nil"
	}
	return fmt.Sprint(*v)
}

func in(v *int) string {
	if v == nil {
		return "nil"
	}
	return fmt.Sprint(*v)
}

func TestKPIsOfGreenwaysMay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		svc, f := mayInLosAngeles(t, s)
		k, err := svc.KPIs(context.Background(), f.tid, insight.KPIQuery{Range: insight.Range{From: day("2026-05-01"), To: day("2026-05-31")}})
		if err != nil {
			t.Fatal(err)
		}
		tot := k.Total
		// Contribution = 40% of 19000 = 7600. Cost = rewards 5000 (link
		// 3000: ben's 1000 + angie's credit 2000; code 1500: cat's free
		// add-on; card 500: fay's) + sync 1500 (a sync_discount line 1000 +
		// a late-sync credit 500) + crew bonus 250 = 6750, each once. Net =
		// 7600 − 6750 + 0 = 850; ROI = 850 / 6750 = 0.1259; cost per
		// acquired = 6750 / 3 = 2250. Synced visits: va1 of 5 invoiced (vb1,
		// vc1, va1, va2, vf1) → 0.2.
		got := fmt.Sprintf("ref=%d conv=%d rate=%s median=%s acq=%d rev=%d contrib=%d reward=%d sync=%s pts=%s bonus=%s cost=%d save=%s net=%d roi=%s cpa=%s new=%s/%s share=%s visits=%s/%s vshare=%s",
			tot.Referrals, tot.Conversions, f64(tot.ConversionRate), f64(tot.MedianDaysToConvert), tot.Acquired, tot.RevenueCents, tot.ContributionCents, tot.RewardCostCents,
			i64(tot.SyncDiscountCents), i64(tot.CrewPoints), i64(tot.CrewBonusCents), tot.CostCents, i64(tot.RouteSavingsCents), tot.NetCents,
			f64(tot.ROI), i64(tot.CostPerAcquiredCents), in(tot.NewFromReferrals), in(tot.NewCustomers), f64(tot.ReferralShareOfNew),
			in(tot.SyncedVisits), in(tot.InvoicedVisits), f64(tot.SyncedVisitShare))
		want := "ref=4 conv=2 rate=0.5 median=2.8 acq=3 rev=19000 contrib=7600 reward=5000 sync=1500 pts=25 bonus=250 cost=6750 save=0 net=850 roi=0.1259 cpa=2250 new=2/5 share=0.4 visits=1/5 vshare=0.2"
		if got != want {
			t.Errorf("total:\n got %s\nwant %s", got, want)
		}
		// Per channel, cost is the rewards only and net = 40% of revenue −
		// rewards.
		wantGroups := []string{
			"card ref=1 conv=0 rate=0 median=nil acq=1 rev=5000 cost=500 net=1500 roi=3 cpa=500 sync=nil",
			"code ref=1 conv=1 rate=1 median=1.5 acq=1 rev=4000 cost=1500 net=100 roi=0.0667 cpa=1500 sync=nil",
			"link ref=2 conv=1 rate=0.5 median=4 acq=1 rev=10000 cost=3000 net=1000 roi=0.3333 cpa=3000 sync=nil",
		}
		if len(k.Groups) != len(wantGroups) {
			t.Fatalf("groups: %+v", k.Groups)
		}
		for i, g := range k.Groups {
			got := fmt.Sprintf("%s ref=%d conv=%d rate=%s median=%s acq=%d rev=%d cost=%d net=%d roi=%s cpa=%s sync=%s", g.Group, g.Referrals, g.Conversions,
				f64(g.ConversionRate), f64(g.MedianDaysToConvert), g.Acquired, g.RevenueCents, g.CostCents, g.NetCents, f64(g.ROI), i64(g.CostPerAcquiredCents), i64(g.SyncDiscountCents))
			if got != wantGroups[i] {
				t.Errorf("group %d:\n got %s\nwant %s", i, got, wantGroups[i])
			}
		}
		// Budget: 4500 granted for 2026-05 of 10000; one reward waits.
		if b := k.Budget; b.Month != "2026-05" || b.UsedCents != 4500 || b.BudgetCents != 10000 || f64(b.Share) != "0.45" || b.WaitingCount != 1 {
			t.Errorf("budget: %+v share %s", b, f64(b.Share))
		}

		// By offer variant: A has r1, eve's (r5 is April's but acquired in
		// May); B has r2 and ivy's.
		k, err = svc.KPIs(context.Background(), f.tid, insight.KPIQuery{Range: insight.Range{From: day("2026-05-01"), To: day("2026-05-31")}, GroupBy: "variant"})
		if err != nil {
			t.Fatal(err)
		}
		var gs []string
		for _, g := range k.Groups {
			gs = append(gs, fmt.Sprintf("%s %d/%d acq=%d rev=%d cost=%d", g.Group, g.Conversions, g.Referrals, g.Acquired, g.RevenueCents, g.CostCents))
		}
		if fmt.Sprint(gs) != "[A 1/2 acq=2 rev=15000 cost=3500 B 1/2 acq=1 rev=4000 cost=1500]" {
			t.Errorf("by variant: %v", gs)
		}
		if k.Total.NetCents != 850 {
			t.Errorf("total by variant differs: %d", k.Total.NetCents)
		}
	})
}

func TestKPIsDefaultToTheLast30Days(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		svc, f := mayInLosAngeles(t, s)
		// The clock says 2026-05-20 12:00 in LA: April 21 .. May 20.
		k, err := svc.KPIs(context.Background(), f.tid, insight.KPIQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if k.From.String() != "2026-04-21" || k.To.String() != "2026-05-20" || k.GroupBy != "channel" {
			t.Fatalf("period %s..%s by %s", k.From, k.To, k.GroupBy)
		}
		// r1..r4, r5 (April 25) and r6 (April 30, 22:00 LA) were created in it.
		if k.Total.Referrals != 6 {
			t.Errorf("referrals %d", k.Total.Referrals)
		}
	})
}

func TestWordOfMouthByMonth(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		svc, f := mayInLosAngeles(t, s)
		w, err := svc.WordOfMouth(context.Background(), f.tid, insight.Range{From: day("2026-04-15"), To: day("2026-05-31")})
		if err != nil {
			t.Fatal(err)
		}
		// 8 customers. April: one 5 → 100% satisfied → 8 × 1 × 5 = 40.
		// May (the 5 of June 1 05:00Z is May 31 in LA): 5, 4, 3, 2, 1, 5 →
		// 3/6 satisfied, 2/6 dissatisfied (the 3 is neutral): 8 × 0.5 × 5 =
		// 20 good, 8 × 2/6 × 10 = 26.67 → 27 bad.
		var got []string
		for _, m := range w.Months {
			got = append(got, fmt.Sprintf("%s %d:%d/%d/%d good=%d bad=%d net=%d", m.Month, m.Ratings, m.Satisfied, m.Neutral, m.Dissatisfied, m.GoodMentions, m.BadMentions, m.NetMentions))
		}
		want := "[2026-04 1:1/0/0 good=40 bad=0 net=40 2026-05 6:3/1/2 good=20 bad=27 net=-7]"
		if w.Customers != 8 || fmt.Sprint(got) != want {
			t.Errorf("customers %d\n got %v\nwant %s", w.Customers, got, want)
		}
	})
}

func TestABByScriptAndOffer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		svc, f := mayInLosAngeles(t, s)
		may := insight.Range{From: day("2026-05-01"), To: day("2026-05-31")}
		ab, err := svc.AB(context.Background(), f.tid, insight.ABQuery{Range: may, Kind: "script"})
		if err != nil {
			t.Fatal(err)
		}
		// long 0/1 (baseline, first by name) vs short 1/1: pooled 0.5,
		// z = 1 / √(0.25 × 2) = 1.4142, p = 0.157299 (python3
		// statistics.NormalDist); 80% power needs 2 per arm → 2 more; one
		// referral per arm is far below the 30 a verdict needs.
		if len(ab.Comparisons) != 1 {
			t.Fatalf("%+v", ab)
		}
		c := ab.Comparisons[0]
		got := fmt.Sprintf("%s %s z=%s p=%s more=%s %s", c.A, c.B, f64(c.Z), f64(c.PValue), in(c.MoreNeeded), c.Verdict)
		if got != "long short z=1.4142 p=0.157299 more=2 not enough data yet: each variant needs at least 30 referrals (long has 1, short has 1)" {
			t.Errorf("script: %s", got)
		}
		ab, err = svc.AB(context.Background(), f.tid, insight.ABQuery{Range: may, Kind: "offer"})
		if err != nil {
			t.Fatal(err)
		}
		// A 1/2 vs B 1/2: no difference at all, and too few to say more.
		if ab.Baseline != "A" || len(ab.Comparisons) != 1 || f64(ab.Comparisons[0].Z) != "0" ||
			ab.Verdict != "not enough data yet: each variant needs at least 30 referrals (A has 2, B has 2)" {
			t.Errorf("offer: %+v", ab)
		}
		// April has no pitches at all.
		ab, err = svc.AB(context.Background(), f.tid, insight.ABQuery{Range: insight.Range{From: day("2026-03-01"), To: day("2026-03-31")}, Kind: "script"})
		if err != nil || ab.Verdict != "no data yet" || len(ab.Variants) != 0 {
			t.Errorf("empty: %v %+v", err, ab)
		}
	})
}
