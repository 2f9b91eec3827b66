package dispatch_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

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

// bookingWorld is Greenway (Los Angeles) on Monday June 1, 2026, with the
// default program.
func bookingWorld(t *testing.T, s *store.Store) (context.Context, *clock.Fixed, routeWorld) {
	ctx := context.Background()
	clk := clock.NewFixed(time.Date(2026, 6, 1, 15, 0, 0, 0, time.UTC))
	ten, _, err := tenant.NewService(s, clk).Create(ctx, tenant.NewTenant{Name: "Greenway", Timezone: "America/Los_Angeles", Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := program.Save(s.DB, program.Defaults(ten.ID), clk.Now()); err != nil {
		t.Fatal(err)
	}
	return ctx, clk, routeWorld{t: t, s: s, tid: ten.ID}
}

// TestACustomerIsOnOneCrewsRouteADay: Angie is on North's route on June 3.
// Booking her on South that day is refused with a 409 that names North and
// the visit, and writes nothing; suggestions for her never offer June 3, on
// any crew, while June 4 is offered on both.
func TestACustomerIsOnOneCrewsRouteADay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, clk, w := bookingWorld(t, s) // the default program: radius 500 m, road factor 1.3
		north := w.crew("north")
		w.crew("south")
		angie := w.customer("angie", 45.01)
		w.visit("va", angie, north, "2026-06-03", 1)
		w.exec(`UPDATE visits SET status = 'scheduled' WHERE tenant_id = ?`)
		svc := dispatch.NewService(s, clk, nil)

		before := storetest.Count(t, s.DB.Where("tenant_id = ?", w.tid), "visits")
		_, err := svc.Book(ctx, w.tid, dispatch.BookInput{CustomerID: "angie", Date: "2026-06-03", CrewID: "south"})
		var ae *apperror.Error
		if !errors.As(err, &ae) || ae.Code != apperror.CodeConflict || !strings.Contains(ae.Error(), "visit va") || !strings.Contains(ae.Error(), "north") {
			t.Fatalf("booking her on another crew the same day: %v", err)
		}
		if n := storetest.Count(t, s.DB.Where("tenant_id = ?", w.tid), "visits"); n != before {
			t.Fatalf("visits %d → %d after a refused booking", before, n)
		}

		from, to := localdate.Of(time.Date(2026, 6, 3, 0, 0, 0, 0, time.UTC)), localdate.Of(time.Date(2026, 6, 4, 0, 0, 0, 0, time.UTC))
		slots, err := svc.Suggest(ctx, w.tid, dispatch.Target{Point: geo.Point{Lat: 45.01, Lon: 0}, CustomerID: angie}, dispatch.Window{From: &from, To: &to})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, sl := range slots {
			got = append(got, sl.Date.String()+" "+sl.CrewID)
		}
		if strings.Join(got, ",") != "2026-06-04 north,2026-06-04 south" {
			t.Fatalf("suggestions %v: June 3 must not be offered, June 4 on both crews", got)
		}

		// Cancelled, the visit frees her day.
		w.exec(`UPDATE visits SET status = 'cancelled' WHERE tenant_id = ?`)
		if _, err := svc.Book(ctx, w.tid, dispatch.BookInput{CustomerID: "angie", Date: "2026-06-03", CrewID: "south"}); err != nil {
			t.Fatalf("booking her once the visit was cancelled: %v", err)
		}
	})
}

// TestSuggestionsNameNearNeighboursAndTheCheapestSeparateTrip: Angie's
// linked neighbours are Ben, 111 m away on North's route on June 3, and
// Carl, 4.4 km away on South's route on June 4. Only Ben is named: Carl is
// outside the 500 m radius. North's depot is 21 km north and South's next
// door, so every slot's separate trip is South's, 2 × 1.11 km × 1.3, and a
// booking saves what its suggestion said.
func TestSuggestionsNameNearNeighboursAndTheCheapestSeparateTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, clk, w := bookingWorld(t, s) // the default program: radius 500 m, road factor 1.3
		north, south := w.crew("north"), w.crew("south")
		w.exec(`UPDATE crews SET depot_lat = 45.2 WHERE id = ? AND tenant_id = ?`, north)
		angie, ben, carl := w.customer("angie", 45.01), w.customer("ben", 45.011), w.customer("carl", 45.05)
		w.link(angie, ben)
		w.link(angie, carl)
		w.visit("vb", ben, north, "2026-06-03", 1)
		w.visit("vc", carl, south, "2026-06-04", 1)
		w.exec(`UPDATE visits SET status = 'scheduled' WHERE tenant_id = ?`)
		svc := dispatch.NewService(s, clk, nil)

		target, err := svc.CustomerTarget(ctx, w.tid, "angie")
		if err != nil {
			t.Fatal(err)
		}
		from, to := localdate.Of(time.Date(2026, 6, 3, 0, 0, 0, 0, time.UTC)), localdate.Of(time.Date(2026, 6, 4, 0, 0, 0, 0, time.UTC))
		slots, err := svc.Suggest(ctx, w.tid, target, dispatch.Window{From: &from, To: &to})
		if err != nil {
			t.Fatal(err)
		}
		separate := math.Round(2*geo.DistanceM(geo.Point{Lat: 45, Lon: 0}, geo.Point{Lat: 45.01, Lon: 0})*1.3/10) / 100
		named := map[string]string{}
		for _, sl := range slots {
			if sl.StandaloneKm != separate {
				t.Errorf("%s %s: separate trip %g km, want South's %g", sl.Date, sl.CrewID, sl.StandaloneKm, separate)
			}
			if sl.LinkedNeighbor != nil {
				named[sl.Date.String()+" "+sl.CrewID] = sl.LinkedNeighbor.CustomerID
			}
		}
		if len(slots) != 4 || len(named) != 1 || named["2026-06-03 north"] != "ben" {
			t.Fatalf("%d slots, neighbours named %v: want 4 slots and only ben on June 3 with north", len(slots), named)
		}
		var first dispatch.Slot
		for _, sl := range slots {
			if sl.Date.String() == "2026-06-03" && sl.CrewID == "north" {
				first = sl
			}
		}
		b, err := svc.Book(ctx, w.tid, dispatch.BookInput{CustomerID: "angie", Date: "2026-06-03", CrewID: "north"})
		if err != nil {
			t.Fatal(err)
		}
		if b.KmSavedVsStandalone != first.KmSavedVsStandalone {
			t.Fatalf("booked saves %g km, its suggestion said %g", b.KmSavedVsStandalone, first.KmSavedVsStandalone)
		}
	})
}

// TestOptimisingADayBringsLinkedNeighboursTogether: North's day is Angie,
// Carl, then Ben, and Angie and Ben are linked. On the grid the planned
// order is the shortest (1.8 km), yet it parts the neighbours: the proposal
// keeps them next to each other (2.2 km, 0.4 km more) rather than handing
// the plan back unchanged.
func TestOptimisingADayBringsLinkedNeighboursTogether(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, clk, w := bookingWorld(t, s) // the default program: radius 500 m, road factor 1.3
		north := w.crew("north")          // depot 45, 0
		angie, carl, ben := w.customer("angie", 45.004), w.customer("carl", 45.004), w.customer("ben", 44.999)
		w.exec(`UPDATE customers SET lon = 0.002 WHERE id = ? AND tenant_id = ?`, angie)
		w.exec(`UPDATE customers SET lon = -0.002 WHERE id IN (?, ?) AND tenant_id = ?`, carl, ben)
		w.link(angie, ben)
		w.visit("va", angie, north, "2026-06-03", 1)
		w.visit("vc", carl, north, "2026-06-03", 2)
		w.visit("vb", ben, north, "2026-06-03", 3)
		w.exec(`UPDATE visits SET status = 'scheduled' WHERE tenant_id = ?`)
		svc := dispatch.NewService(s, clk, nil)
		svc.Travel = func(program.Program) geo.Travel { return grid{} }
		day := localdate.Of(time.Date(2026, 6, 3, 0, 0, 0, 0, time.UTC))
		got, err := svc.OptimizeDay(ctx, w.tid, "north", day, false)
		if err != nil {
			t.Fatal(err)
		}
		order := strings.Join(got.Order, ",")
		if !strings.Contains(order, "va,vb") && !strings.Contains(order, "vb,va") {
			t.Fatalf("proposed %s: Angie and Ben apart", order)
		}
		if got.CurrentKm != 1.8 || got.ProposedKm != 2.2 || got.SavedKm != -0.4 {
			t.Fatalf("current %g km, proposed %g, saved %g; want 1.8, 2.2, -0.4", got.CurrentKm, got.ProposedKm, got.SavedKm)
		}
	})
}

// recorder keeps the events a service emits.
type recorder struct{ got []string }

func (r *recorder) Emit(_ *gorm.DB, _ string, kind string, payload any) error {
	b, err := json.Marshal(payload)
	r.got = append(r.got, kind+" "+string(b))
	return err
}

// TestTheSchedulerHearsEveryRouteChange: booking Dan first on North's day
// moves Angie and Ben down, so after visit.booked comes one route.changed
// with every visit and its new position; booking Eve last moves nobody and
// sends no route.changed. Applying an optimised order that changes the day
// sends one; applying it again, nothing.
func TestTheSchedulerHearsEveryRouteChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, clk, w := bookingWorld(t, s) // the default program: radius 500 m, road factor 1.3
		north := w.crew("north")
		angie, ben := w.customer("angie", 45.02), w.customer("ben", 45.01)
		w.customer("dan", 45.005)
		w.customer("eve", 45.03)
		w.visit("va", angie, north, "2026-06-03", 1)
		w.visit("vb", ben, north, "2026-06-03", 2)
		w.exec(`UPDATE visits SET status = 'scheduled' WHERE tenant_id = ?`)
		rec := &recorder{}
		svc := dispatch.NewService(s, clk, rec)

		dan, err := svc.Book(ctx, w.tid, dispatch.BookInput{CustomerID: "dan", Date: "2026-06-03", CrewID: "north", Position: 1})
		if err != nil {
			t.Fatal(err)
		}
		want := `route.changed {"crew_id":"north","service_date":"2026-06-03","visits":[{"visit_id":"` + dan.VisitID +
			`","route_position":1},{"visit_id":"va","route_position":2},{"visit_id":"vb","route_position":3}]}`
		if len(rec.got) != 2 || !strings.HasPrefix(rec.got[0], "visit.booked ") || rec.got[1] != want {
			t.Fatalf("events after booking Dan first:\n%s\nwant visit.booked, then\n%s", strings.Join(rec.got, "\n"), want)
		}
		rec.got = nil
		if _, err := svc.Book(ctx, w.tid, dispatch.BookInput{CustomerID: "eve", Date: "2026-06-03", CrewID: "north", Position: 4}); err != nil {
			t.Fatal(err)
		}
		if len(rec.got) != 1 || !strings.HasPrefix(rec.got[0], "visit.booked ") {
			t.Fatalf("events after booking Eve last: %v", rec.got)
		}

		// Dan 45.005, Angie 45.02, Ben 45.01, Eve 45.03 (positions 1–4):
		// Angie before Ben is a detour, so the applied order changes; its one
		// route.changed lists the day in the order applied.
		rec.got = nil
		day := localdate.Of(time.Date(2026, 6, 3, 0, 0, 0, 0, time.UTC))
		w.exec(`UPDATE customers SET lon = 0.01 WHERE id = ? AND tenant_id = ?`, angie)
		proposal, err := svc.OptimizeDay(ctx, w.tid, "north", day, true)
		if err != nil {
			t.Fatal(err)
		}
		var sent struct {
			Visits []struct {
				VisitID       string `json:"visit_id"`
				RoutePosition int    `json:"route_position"`
			}
		}
		if len(rec.got) != 1 || !strings.HasPrefix(rec.got[0], "route.changed ") {
			t.Fatalf("events after applying the optimised day: %v", rec.got)
		}
		if err := json.Unmarshal([]byte(strings.TrimPrefix(rec.got[0], "route.changed ")), &sent); err != nil {
			t.Fatal(err)
		}
		var order []string
		for i, v := range sent.Visits {
			if v.RoutePosition != i+1 {
				t.Fatalf("sent %v: positions must be 1..4 in route order", sent.Visits)
			}
			order = append(order, v.VisitID)
		}
		if strings.Join(order, ",") != strings.Join(proposal.Order, ",") || strings.Join(order, ",") == dan.VisitID+",va,vb,"+order[3] {
			t.Fatalf("sent %v, proposed %v: the applied order, changed", order, proposal.Order)
		}
		rec.got = nil
		if _, err := svc.OptimizeDay(ctx, w.tid, "north", day, true); err != nil {
			t.Fatal(err)
		}
		if len(rec.got) != 0 {
			t.Fatalf("applying the same order again sent %v", rec.got)
		}
	})
}
