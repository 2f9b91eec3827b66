package dispatch_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/dispatch"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// TestRouteRollupFollowsEveryChange: route savings are read from a rollup
// per crew and day (rollup.go). 3 × 60 random changes by plain SQL, as any
// writer would make them — visits added, deleted, moved to another day,
// crew or route position, completed or cancelled; homes and depots moved;
// links made, ended and removed; a new road factor or same-crew rule —
// each followed by route savings of a random period, compared with the
// same measurement made from the facts alone. On both databases.
func TestRouteRollupFollowsEveryChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		for seed := range uint64(3) {
			ctx := context.Background()
			clk := clock.NewFixed(time.Date(2026, 5, 20, 19, 0, 0, 0, time.UTC))
			ten, _, err := tenant.NewService(s, clk).Create(ctx, tenant.NewTenant{Name: "Routes", Timezone: "America/Chicago", Currency: "USD"})
			if err != nil {
				t.Fatal(err)
			}
			w := routeWorld{t: t, s: s, tid: ten.ID}
			prog := program.Defaults(ten.ID)
			if _, err := program.Save(s.DB, prog, clk.Now()); err != nil {
				t.Fatal(err)
			}
			svc := dispatch.NewService(s, clk, nil)
			rnd := rand.New(rand.NewPCG(seed, 3))
			var crews, customers, visits, links []int64
			for i := range 3 {
				crews = append(crews, w.crew(fmt.Sprintf("crew%d", i)))
			}
			for i := range 6 {
				customers = append(customers, w.customer(fmt.Sprintf("c%d", i), 45+rnd.Float64()*0.02))
			}
			pick := func(ids []int64) int64 { return ids[rnd.IntN(len(ids))] }
			day := func() string { return fmt.Sprintf("2026-05-%02d", 1+rnd.IntN(8)) }
			statuses := []string{"completed", "completed", "scheduled", "cancelled"}
			addVisit := func() {
				id := w.id(`INSERT INTO visits (tenant_id, external_id, customer_id, crew_id, service_date, status, price_cents, source, route_position, created_at, updated_at)
					VALUES (?, ?, ?, ?, ?, ?, 5000, 'scheduler', ?, ?, ?)`, fmt.Sprintf("v%d", len(visits)+rnd.IntN(1_000_000)), pick(customers), pick(crews), day(),
					statuses[rnd.IntN(len(statuses))], rnd.IntN(10), created, created)
				visits = append(visits, id)
			}
			addLink := func() {
				a, b := pick(customers), pick(customers)
				if a == b {
					return
				}
				if a > b {
					a, b = b, a
				}
				var open int64
				s.DB.Raw(`SELECT COUNT(*) FROM neighbor_links WHERE tenant_id = ? AND customer_a_id = ? AND customer_b_id = ? AND ends_on IS NULL`, ten.ID, a, b).Scan(&open)
				if open > 0 {
					return
				}
				links = append(links, w.id(`INSERT INTO neighbor_links (tenant_id, customer_a_id, customer_b_id, distance_m, source, starts_on, created_at, updated_at)
					VALUES (?, ?, ?, 110, 'dispatcher', ?, ?, ?)`, a, b, fmt.Sprintf("2026-05-%02d", 1+rnd.IntN(4)), created, created))
			}
			for range 30 {
				addVisit()
			}
			for range 8 {
				addLink()
			}
			var history []string
			seen := 0 // answers with rows
			for step := range 60 {
				op := rnd.IntN(12)
				if (op == 8 || op == 11) && rnd.IntN(4) > 0 {
					op = 9 // a moved depot or new settings work out many days: rarer
				}
				switch {
				case op < 2:
					addVisit()
					history = append(history, "visit added")
				case op == 2 && len(visits) > 1:
					v := pick(visits)
					w.exec(`DELETE FROM visits WHERE id = ? AND tenant_id = ?`, v)
					for i, x := range visits {
						if x == v {
							visits = append(visits[:i], visits[i+1:]...)
							break
						}
					}
					history = append(history, fmt.Sprintf("visit %d deleted", v))
				case op == 3:
					v, d := pick(visits), day()
					w.exec(`UPDATE visits SET service_date = ? WHERE id = ? AND tenant_id = ?`, d, v)
					history = append(history, fmt.Sprintf("visit %d → %s", v, d))
				case op == 4:
					v := pick(visits)
					w.exec(`UPDATE visits SET crew_id = ? WHERE id = ? AND tenant_id = ?`, pick(crews), v)
					history = append(history, fmt.Sprintf("visit %d → another crew", v))
				case op == 5:
					v := pick(visits)
					w.exec(`UPDATE visits SET status = ? WHERE id = ? AND tenant_id = ?`, statuses[rnd.IntN(len(statuses))], v)
					history = append(history, fmt.Sprintf("visit %d status", v))
				case op == 6:
					v := pick(visits)
					w.exec(`UPDATE visits SET route_position = ? WHERE id = ? AND tenant_id = ?`, rnd.IntN(10), v)
					history = append(history, fmt.Sprintf("visit %d position", v))
				case op == 7:
					c := pick(customers)
					w.exec(`UPDATE customers SET lat = ? WHERE id = ? AND tenant_id = ?`, 45+rnd.Float64()*0.02, c)
					history = append(history, fmt.Sprintf("customer %d moved", c))
				case op == 8:
					c := pick(crews)
					w.exec(`UPDATE crews SET depot_lat = ? WHERE id = ? AND tenant_id = ?`, 44.99+rnd.Float64()*0.02, c)
					history = append(history, fmt.Sprintf("depot %d moved", c))
				case op == 9:
					addLink()
					history = append(history, "link made")
				case op == 10 && len(links) > 0:
					l := pick(links)
					if rnd.IntN(2) == 0 {
						w.exec(`UPDATE neighbor_links SET ends_on = '2026-05-05', end_reason = 'test' WHERE id = ? AND tenant_id = ? AND starts_on <= '2026-05-05'`, l)
						history = append(history, fmt.Sprintf("link %d ended", l))
					} else {
						w.exec(`DELETE FROM neighbor_links WHERE id = ? AND tenant_id = ?`, l)
						history = append(history, fmt.Sprintf("link %d removed", l))
					}
				case op == 11:
					prog.RoadFactor = []float64{1.2, 1.3, 1.4}[rnd.IntN(3)]
					prog.SyncRequiresSameCrew = rnd.IntN(2) == 0
					if _, err := program.Save(s.DB, prog, clk.Now()); err != nil {
						t.Fatal(err)
					}
					history = append(history, fmt.Sprintf("road factor %g, same crew %t", prog.RoadFactor, prog.SyncRequiresSameCrew))
				}
				if rnd.IntN(3) == 0 && step < 59 {
					continue // some changes pile up before a read
				}
				from, _ := localdate.Parse(fmt.Sprintf("2026-05-%02d", 1+rnd.IntN(8)))
				to := from.AddDays(rnd.IntN(8))
				got, err := svc.RouteSavings(ctx, ten.ID, dispatch.SavingsQuery{From: from, To: to})
				if err != nil {
					t.Fatal(err)
				}
				want, err := svc.MeasureDirect(ctx, ten.ID, from, to)
				if err != nil {
					t.Fatal(err)
				}
				if g, w := fmt.Sprint(got.Rows), fmt.Sprint(want); g != w {
					t.Fatalf("seed %d, %s..%s:\n got  %s\n want %s\nafter %v", seed, from, to, g, w, history)
				}
				if len(want) > 0 {
					seen++
				}
			}
			if seen < 5 {
				t.Fatalf("seed %d: only %d answers had savings; the test proves little", seed, seen)
			}
		}
	})
}
