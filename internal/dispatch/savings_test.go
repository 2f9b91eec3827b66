package dispatch_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/routeloop/routeloop/geo"
	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/dispatch"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// grid is a travel model with round numbers: 0.001° of latitude or
// longitude is 100 m of road, driven at 500 m a minute (30 km/h).
type grid struct{}

func (grid) Matrix(points []geo.Point) (geo.Matrix, error) {
	n := len(points)
	metres, minutes := make([]float64, n*n), make([]float64, n*n)
	for i, a := range points {
		for j, b := range points {
			m := math.Round((math.Abs(a.Lat-b.Lat) + math.Abs(a.Lon-b.Lon)) * 100_000)
			metres[i*n+j], minutes[i*n+j] = m, m/500
		}
	}
	return gridMatrix{n, metres, minutes}, nil
}

// gridMatrix is grid's answer: row-major metres and minutes of n points.
type gridMatrix struct {
	n               int
	metres, minutes []float64
}

func (m gridMatrix) Size() int                { return m.n }
func (m gridMatrix) Metres(i, j int) float64  { return m.metres[i*m.n+j] }
func (m gridMatrix) Minutes(i, j int) float64 { return m.minutes[i*m.n+j] }

type routeWorld struct {
	t   *testing.T
	s   *store.Store
	tid string
}

func (w routeWorld) id(q string, args ...any) int64 {
	w.t.Helper()
	var id int64
	if err := w.s.DB.Raw(q+" RETURNING id", append([]any{w.tid}, args...)...).Scan(&id).Error; err != nil {
		w.t.Fatalf("%s: %v", q, err)
	}
	return id
}

func (w routeWorld) exec(q string, args ...any) {
	w.t.Helper()
	if err := w.s.DB.Exec(q, append(args, w.tid)...).Error; err != nil {
		w.t.Fatalf("%s: %v", q, err)
	}
}

var created = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func (w routeWorld) customer(name string, lat float64) int64 {
	return w.id(`INSERT INTO customers (tenant_id, external_id, name, address, referral_code, lat, lon, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)`,
		name, name, name+" St", "K"+w.tid[:8]+name, lat, created, created)
}

func (w routeWorld) crew(name string) int64 {
	return w.id(`INSERT INTO crews (tenant_id, external_id, name, depot_lat, depot_lon, created_at, updated_at) VALUES (?, ?, ?, 45, 0, ?, ?)`,
		name, name, created, created)
}

func (w routeWorld) visit(name string, customer, crew int64, day string, position int) int64 {
	return w.id(`INSERT INTO visits (tenant_id, external_id, customer_id, crew_id, service_date, status, price_cents, source, route_position, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 'completed', 5000, 'scheduler', ?, ?, ?)`, name, customer, crew, day, position, created, created)
}

func (w routeWorld) link(a, b int64) {
	if a > b {
		a, b = b, a
	}
	w.id(`INSERT INTO neighbor_links (tenant_id, customer_a_id, customer_b_id, distance_m, source, starts_on, created_at, updated_at)
		VALUES (?, ?, ?, 110, 'dispatcher', '2026-01-01', ?, ?)`, a, b, created, created)
}

func describe(sv dispatch.Savings) string {
	var rows []string
	for _, r := range sv.Rows {
		rows = append(rows, fmt.Sprintf("%s %s %d: %gkm %gmin %d", r.Date, r.CrewID, r.SyncedVisits, r.KmSaved, r.MinutesSaved, r.ValueCents))
	}
	return fmt.Sprintf("%d visits %gkm %gmin %d cents %v", sv.Visits, sv.KmSaved, sv.MinutesSaved, sv.ValueCents, rows)
}

// TestRouteSavingsAreMeasuredOnTheDayRoute: Angie (1,000 m north of the
// depot) and her linked neighbour Ben (100 m beyond her) on North's route,
// with Carl 2,000 m south; then the same neighbours apart in the route,
// one not completed, moved to another day, cancelled.
func TestRouteSavingsAreMeasuredOnTheDayRoute(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clk := clock.NewFixed(time.Date(2026, 5, 20, 19, 0, 0, 0, time.UTC))
		ten, _, err := tenant.NewService(s, clk).Create(ctx, tenant.NewTenant{Name: "Greenway", Timezone: "America/Los_Angeles", Currency: "USD"})
		if err != nil {
			t.Fatal(err)
		}
		w := routeWorld{t: t, s: s, tid: ten.ID}
		p := program.Defaults(ten.ID) // 60 cents a km, 50 a minute
		if _, err := program.Save(s.DB, p, clk.Now()); err != nil {
			t.Fatal(err)
		}
		svc := dispatch.NewService(s, clk, nil)
		svc.Travel = func(program.Program) geo.Travel { return grid{} }
		north, south := w.crew("north"), w.crew("south")
		angie, ben, carl := w.customer("angie", 45.01), w.customer("ben", 45.011), w.customer("carl", 44.98)
		dora, ed := w.customer("dora", 45.02), w.customer("ed", 45.02)
		w.link(angie, ben)
		w.link(dora, ed)

		// May 4: depot → Angie → Ben → Carl → depot. Angie's own trip is
		// 2,000 m, her marginal cost 1,000 + 100 − 1,100 = 0: saves 2,000.
		// Ben's own trip 2,200, marginal 100 + 3,100 − 3,000 = 200: saves
		// 2,000. Carl has no neighbour. 4 km and 8 minutes: 4 × 60 + 8 × 50
		// = 640. Ben's visit was booked here and claimed 15.66 km then; it
		// counts what the route says, like any other.
		va := w.visit("va4", angie, north, "2026-05-04", 1)
		vb := w.visit("vb4", ben, north, "2026-05-04", 2)
		w.visit("vc4", carl, north, "2026-05-04", 3)
		w.exec(`UPDATE visits SET source = 'routeloop', saved_metres = 15660, saved_minutes = 31.3 WHERE id = ? AND tenant_id = ?`, vb)
		// May 5: the same neighbours apart, depot → Angie → Carl → Ben →
		// depot: Angie's marginal 1,000 + 3,000 − 2,000 = 2,000, Ben's 3,100
		// + 1,100 − 2,000 = 2,200: nothing saved, though both are synced.
		w.visit("va5", angie, north, "2026-05-05", 1)
		w.visit("vc5", carl, north, "2026-05-05", 2)
		w.visit("vb5", ben, north, "2026-05-05", 3)
		// May 6: South does Dora and Ed at the same place, 2,000 m from
		// the depot: each saves its whole 4,000 m trip → 8 km, 16 minutes,
		// 480 + 800 = 1280.
		w.visit("vd6", dora, south, "2026-05-06", 1)
		w.visit("ve6", ed, south, "2026-05-06", 2)

		q := dispatch.SavingsQuery{From: localdate.Date{Year: 2026, Month: 5, Day: 1}, To: localdate.Date{Year: 2026, Month: 5, Day: 31}}
		check := func(q dispatch.SavingsQuery, want string) {
			t.Helper()
			sv, err := svc.RouteSavings(ctx, ten.ID, q)
			if err != nil {
				t.Fatal(err)
			}
			if got := describe(sv); got != want {
				t.Errorf("\n got %s\nwant %s", got, want)
			}
		}
		check(q, "6 visits 12km 24min 1920 cents [2026-05-04 north 2: 4km 8min 640 2026-05-05 north 2: 0km 0min 0 2026-05-06 south 2: 8km 16min 1280]")
		q.CrewID = "north"
		check(q, "4 visits 4km 8min 640 cents [2026-05-04 north 2: 4km 8min 640 2026-05-05 north 2: 0km 0min 0]")
		q.CrewID = ""

		// Ben's May 4 visit not completed yet: he saves nothing, and
		// Angie's route is depot → Angie → Carl: marginal 2,000, nothing.
		w.exec(`UPDATE visits SET status = 'scheduled' WHERE id = ? AND tenant_id = ?`, vb)
		check(q, "5 visits 8km 16min 1280 cents [2026-05-04 north 1: 0km 0min 0 2026-05-05 north 2: 0km 0min 0 2026-05-06 south 2: 8km 16min 1280]")
		// Moved to May 7, alone there, and completed: Angie is not synced
		// on May 4 any more, Ben not on May 7.
		w.exec(`UPDATE visits SET status = 'completed', service_date = '2026-05-07' WHERE id = ? AND tenant_id = ?`, vb)
		check(q, "4 visits 8km 16min 1280 cents [2026-05-05 north 2: 0km 0min 0 2026-05-06 south 2: 8km 16min 1280]")
		// Back on May 4 but cancelled: the same.
		w.exec(`UPDATE visits SET status = 'cancelled', service_date = '2026-05-04' WHERE id = ? AND tenant_id = ?`, vb)
		check(q, "4 visits 8km 16min 1280 cents [2026-05-05 north 2: 0km 0min 0 2026-05-06 south 2: 8km 16min 1280]")
		// Completed again: the first answer is back.
		w.exec(`UPDATE visits SET status = 'completed' WHERE id = ? AND tenant_id = ?`, vb)
		check(q, "6 visits 12km 24min 1920 cents [2026-05-04 north 2: 4km 8min 640 2026-05-05 north 2: 0km 0min 0 2026-05-06 south 2: 8km 16min 1280]")
		_ = va

		// Bad questions name their field.
		for _, c := range []struct {
			q     dispatch.SavingsQuery
			field string
		}{
			{dispatch.SavingsQuery{From: q.To, To: q.From}, "to"},
			{dispatch.SavingsQuery{From: q.From, To: localdate.Date{Year: 2028, Month: 5, Day: 1}}, "to"},
			{dispatch.SavingsQuery{From: q.From, To: q.To, CrewID: "nobody"}, "crew_id"},
		} {
			_, err := svc.RouteSavings(ctx, ten.ID, c.q)
			var ae *apperror.Error
			if !errors.As(err, &ae) || ae.Code != apperror.CodeValidation || ae.Fields[c.field] == "" {
				t.Errorf("%+v: %v", c.q, err)
			}
		}
		// Another tenant's crew is no crew of this one.
		other, _, err := tenant.NewService(s, clk).Create(ctx, tenant.NewTenant{Name: "Other", Timezone: "UTC", Currency: "USD"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.RouteSavings(ctx, other.ID, dispatch.SavingsQuery{From: q.From, To: q.To, CrewID: "north"}); err == nil || !strings.Contains(err.Error(), "invalid") {
			t.Errorf("other tenant: %v", err)
		}
		sv, err := svc.RouteSavings(ctx, other.ID, q)
		if err != nil || sv.Visits != 0 || len(sv.Rows) != 0 {
			t.Errorf("other tenant sees %+v %v", sv, err)
		}
	})
}

// TestStopSavingAtTheEndsOfTheRoute: a route of one stop saves nothing
// (its own trip is the route); the first and last stops price their legs
// from and to the depot.
func TestStopSavingAtTheEndsOfTheRoute(t *testing.T) {
	m, _ := grid{}.Matrix([]geo.Point{{Lat: 45}, {Lat: 45.01}, {Lat: 45.011}})
	if sv := dispatch.StopSaving(m, 1, 0); sv.Metres != 0 || sv.Minutes != 0 {
		t.Errorf("alone: %+v", sv)
	}
	if a, b := dispatch.StopSaving(m, 2, 0), dispatch.StopSaving(m, 2, 1); a.Metres != 2000 || b.Metres != 2000 || a.Minutes != 4 || b.Minutes != 4 {
		t.Errorf("pair: %+v %+v", a, b)
	}
}
