package insight_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/routeloop/routeloop/internal/apptest"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/insight"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// place puts a customer at a location.
func (f fixture) place(customer int64, lat, lon float64) {
	f.t.Helper()
	if err := f.s.DB.Exec(`UPDATE customers SET lat = ?, lon = ? WHERE tenant_id = ? AND id = ?`, lat, lon, f.tid, customer).Error; err != nil {
		f.t.Fatal(err)
	}
}

// crewVisit is a visit of a crew at a position of its day's route.
func (f fixture) crewVisit(name string, customer, crew int64, day, status string, position int) int64 {
	return f.id(`INSERT INTO visits (tenant_id, external_id, customer_id, crew_id, service_date, status, price_cents, source, route_position, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, 10000, 'scheduler', ?, ?, ?)`, name, customer, crew, day, status, position, utc(day+"T12:00:00Z"), utc(day+"T12:00:00Z"))
}

func (f fixture) crew(name string, lat, lon float64) int64 {
	return f.id(`INSERT INTO crews (tenant_id, external_id, name, depot_lat, depot_lon, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		name, name, lat, lon, utc("2026-01-01T00:00:00Z"), utc("2026-01-01T00:00:00Z"))
}

func (f fixture) member(crew int64, name string) int64 {
	return f.id(`INSERT INTO crew_members (tenant_id, crew_id, external_id, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
		crew, name, name, utc("2026-01-01T00:00:00Z"), utc("2026-01-01T00:00:00Z"))
}

func (f fixture) link(a, b int64, metres int, from string) {
	if a > b {
		a, b = b, a
	}
	f.exec(`INSERT INTO neighbor_links (tenant_id, customer_a_id, customer_b_id, distance_m, source, starts_on, created_at, updated_at)
		VALUES (?, ?, ?, ?, 'referral', ?, ?, ?)`, a, b, metres, from, utc(from+"T12:00:00Z"), utc(from+"T12:00:00Z"))
}

func (f fixture) points(member int64, points int, key, at string) {
	f.exec(`INSERT INTO crew_points (tenant_id, crew_member_id, kind, points, reason, idempotency_key, created_at) VALUES (?, ?, 'pitch', ?, 'fixture', ?, ?)`,
		member, points, key, utc(at))
}

// TestKPIsCountEachDiscountOnce is the README's worked example ("Insights"):
// Ben, referred by Angie, gets a same-day discount and his welcome reward
// on the same invoice; each is a cost once, and his revenue is the price
// before both.
func TestKPIsCountEachDiscountOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clk := clock.NewFixed(utc("2026-06-10T19:00:00Z"))
		ten := apptest.Tenant(t, tenant.NewService(s, clk), tenant.NewTenant{Name: "Greenway", Timezone: "America/Los_Angeles", Currency: "USD"})
		f := fixture{t: t, s: s, tid: ten.ID}
		p := program.Defaults(ten.ID) // 40% margin, 60 cents a km, 50 a minute, 1.3 road factor, 30 km/h
		p.PointValueCents = 10
		if _, err := program.Save(s.DB, p, clk.Now()); err != nil {
			t.Fatal(err)
		}
		// The depot and both homes on one meridian: Angie 0.01° (1,113.2 m)
		// north of the depot, Ben 0.001° (111.3 m) beyond her.
		north := f.crew("north", 45.5, -122.6)
		sam := f.member(north, "sam")
		angie := f.customer("angie", "2026-01-10T18:00:00Z")
		ben := f.customer("ben", "2026-05-03T18:00:00Z")
		f.place(angie, 45.51, -122.6)
		f.place(ben, 45.511, -122.6)
		r1 := f.referral(angie, &ben, "ben", "link", "A", "converted", "2026-05-02T18:00:00Z", "2026-05-06T18:00:00Z")
		f.link(angie, ben, 111, "2026-05-06")
		welcome := f.reward(ben, r1, "percent_next_invoice", 0, 1000, "granted", "2026-05", "welcome")
		credit := f.reward(angie, r1, "fixed_credit", 2000, 2000, "granted", "2026-05", "credit")
		va := f.crewVisit("va", angie, north, "2026-05-07", "completed", 1)
		vb := f.crewVisit("vb", ben, north, "2026-05-07", "completed", 2)
		f.invoice("b1", ben, "paid", "2026-05-07T23:00:00Z", 8000,
			line{"service", vb, 10000, ""},
			line{"sync_discount", vb, -1000, fmt.Sprintf("visit:%d", vb)},
			line{"referral_reward", vb, -1000, fmt.Sprintf("reward:%d:visit:%d", welcome, vb)})
		f.invoice("a1", angie, "issued", "2026-05-07T23:00:00Z", 7000,
			line{"service", va, 10000, ""},
			line{"sync_discount", va, -1000, fmt.Sprintf("visit:%d", va)},
			line{"credit", 0, -2000, fmt.Sprintf("reward:%d", credit)})
		f.points(sam, 25, "p1", "2026-05-07T20:00:00Z")

		k, err := insight.NewService(s, clk).KPIs(ctx, f.tid, insight.KPIQuery{Range: insight.Range{From: day("2026-05-01"), To: day("2026-05-31")}})
		if err != nil {
			t.Fatal(err)
		}
		tot := k.Total
		// Revenue: Ben's service line at its price, 10000 (not the 8000 he
		// paid; Angie was not referred). Contribution: 40% = 4000. Cost:
		// rewards 1000 + 2000, sync discounts 1000 + 1000, crew bonus 25 ×
		// 10 = 250 → 5250. Route: both stops save their own trip; Angie
		// 2 × 1113.2 − (1113.2 + 111.3 − 1224.5) = 2226.4 m, Ben 2 × 1224.5 −
		// (111.3 + 1224.5 − 1113.2) = 2226.4 m (straight line) → 4452.8 m ×
		// 1.3 = 5788.6 m = 5.79 km, 11.58 minutes at 30 km/h → 5.7886 × 60 +
		// 11.5772 × 50 = 347.3 + 578.9 = 926. Net = 4000 − 5250 + 926 =
		// −324; ROI = −324 / 5250 = −0.0617.
		got := fmt.Sprintf("margin=%d rev=%d contrib=%d reward=%d sync=%s bonus=%s cost=%d save=%s km=%s net=%d roi=%s",
			k.GrossMarginBps, tot.RevenueCents, tot.ContributionCents, tot.RewardCostCents, i64(tot.SyncDiscountCents), i64(tot.CrewBonusCents),
			tot.CostCents, i64(tot.RouteSavingsCents), f64(tot.KmSaved), tot.NetCents, f64(tot.ROI))
		want := "margin=4000 rev=10000 contrib=4000 reward=3000 sync=2000 bonus=250 cost=5250 save=926 km=5.79 net=-324 roi=-0.0617"
		if got != want {
			t.Errorf("total:\n got %s\nwant %s", got, want)
		}
		// By crew: everything happened on North's route.
		k, err = insight.NewService(s, clk).KPIs(ctx, f.tid, insight.KPIQuery{Range: insight.Range{From: day("2026-05-01"), To: day("2026-05-31")}, GroupBy: "crew"})
		if err != nil {
			t.Fatal(err)
		}
		var gs []string
		for _, g := range k.Groups {
			gs = append(gs, fmt.Sprintf("%s rev=%d cost=%d save=%s net=%d", g.Group, g.RevenueCents, g.CostCents, i64(g.RouteSavingsCents), g.NetCents))
		}
		// The rewards' referral was not pitched by a crew member: (none).
		if want := "[(none) rev=0 cost=3000 save=0 net=-3000 north rev=10000 cost=2250 save=926 net=2676]"; fmt.Sprint(gs) != want {
			t.Errorf("by crew:\n got %v\nwant %s", gs, want)
		}
		if k.Total.NetCents != -324 {
			t.Errorf("total by crew %d", k.Total.NetCents)
		}
		// A 25% margin: 2500 − 5250 + 926 = −1824.
		p.GrossMarginBps = 2500
		if _, err := program.Save(s.DB, p, clk.Now()); err != nil {
			t.Fatal(err)
		}
		k, err = insight.NewService(s, clk).KPIs(ctx, f.tid, insight.KPIQuery{Range: insight.Range{From: day("2026-05-01"), To: day("2026-05-31")}})
		if err != nil || k.Total.ContributionCents != 2500 || k.Total.NetCents != -1824 {
			t.Errorf("at 25%%: %v %+v", err, k.Total)
		}
	})
}
