package dispatch

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/routeloop/routeloop/geo"
	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/tenant"
)

// Slot is one place a visit could go: a crew's day, the position in its
// route, and what it adds against what a separate trip would cost.
type Slot struct {
	Date         localdate.Date `json:"date"`
	CrewID       string         `json:"crew_id"`
	CrewName     string         `json:"crew_name"`
	Position     int            `json:"position"`
	StopsThatDay int            `json:"stops_that_day"`
	AddedKm      float64        `json:"added_km"`
	AddedMinutes float64        `json:"added_minutes"`
	StandaloneKm float64        `json:"standalone_km"`
	// StandaloneKm is the cheapest separate trip, from the nearest crew's
	// depot and back; KmSavedVsStandalone is that trip less the drive this
	// insertion adds.
	KmSavedVsStandalone float64 `json:"km_saved_vs_standalone"`
	DayMinutesAfter     float64 `json:"day_minutes_after"`
	// LinkedNeighbor is the linked neighbour (or, for a referral, the
	// referrer) the crew serves that day, living within the program's
	// neighbour radius: book here and both visits sync.
	LinkedNeighbor *NeighborOnDay `json:"linked_neighbor"`
}

// NeighborOnDay names who is on the route that day.
type NeighborOnDay struct {
	CustomerID string `json:"customer_id"`
	Street     string `json:"street"`
	VisitID    string `json:"visit_id"`
}

// Target is what to place: a location, the customer (if one exists) and
// the customers whose day it would be good to share.
type Target struct {
	Point      geo.Point
	CustomerID int64
	Neighbors  []int64
}

// Window is the days to look at and the visit's length.
type Window struct {
	From, To    *localdate.Date
	DurationMin int
	Limit       int
}

// MaxWindowDays bounds a suggestion window.
const MaxWindowDays = 62

// Suggest ranks every crew-day of the window (default: the next 14 days)
// by where the target fits: days with a linked neighbour on the route first,
// then by the minutes the visit adds. Days the visit would overfill (the
// program's working day), and days the customer is already on a crew's
// route, are left out.
func (s *Service) Suggest(ctx context.Context, tenantID string, t Target, w Window) ([]Slot, error) {
	db := s.store.DB.WithContext(ctx)
	loc, err := tenant.LocationOf(db, tenantID)
	if err != nil {
		return nil, err
	}
	prog, err := program.Get(db, tenantID)
	if err != nil {
		return nil, err
	}
	from, to, err := suggestWindow(s.today(loc), w)
	if err != nil {
		return nil, err
	}
	duration := float64(prog.DefaultVisitMinutes)
	if w.DurationMin > 0 {
		duration = float64(w.DurationMin)
	}
	crews, err := loadCrews(db, tenantID)
	if err != nil {
		return nil, err
	}
	days, err := loadStops(db, tenantID, 0, from, to)
	if err != nil {
		return nil, err
	}
	neighbors := map[int64]bool{}
	for _, id := range t.Neighbors {
		neighbors[id] = true
	}
	busy := busyDays(days, t.CustomerID)
	travel := s.Travel(prog)
	alone, _, err := separateTrip(travel, crews, t.Point)
	if err != nil {
		return nil, err
	}
	var slots []Slot
	for _, c := range crews {
		for d := from; !to.Before(d); d = d.AddDays(1) {
			stops := days[crewDay{c.ID, d}]
			if !dayOffered(d, len(stops), busy[d]) {
				continue
			}
			slot, ok, err := fit(travel, prog, c, d, stops, t.Point, duration, alone)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			slot.LinkedNeighbor = linkedNeighborOn(stops, neighbors, t.Point, prog.NeighborRadiusM)
			slots = append(slots, slot)
		}
	}
	return rankSlots(slots, w.Limit), nil
}

// suggestWindow is the days Suggest looks at, from and to included: the
// next 14 days unless w says otherwise. It may start today, not before,
// and spans at most MaxWindowDays days after its first.
func suggestWindow(today localdate.Date, w Window) (from, to localdate.Date, err error) {
	from, to = today.AddDays(1), today.AddDays(14)
	if w.From != nil {
		from = *w.From
	}
	if w.To != nil {
		to = *w.To
	}
	f := apperror.Fields{}
	if from.Before(today) {
		f.Add("from", "must not be in the past")
	}
	if to.Before(from) {
		f.Add("to", "must not be before from")
	} else if from.AddDays(MaxWindowDays).Before(to) {
		f.Add("to", fmt.Sprintf("a window spans at most %d days", MaxWindowDays))
	}
	return from, to, f.Err()
}

// busyDays are the days the customer (customerID, 0: none yet) is already
// on a crew's route: never offered again, on that crew or another (one
// crew a customer a day).
func busyDays(days map[crewDay][]stop, customerID int64) map[localdate.Date]bool {
	busy := map[localdate.Date]bool{}
	for k, stops := range days {
		for _, st := range stops {
			busy[k.day] = busy[k.day] || (customerID != 0 && st.CustomerID == customerID)
		}
	}
	return busy
}

// dayOffered reports whether a crew-day with that many stops is offered:
// not when the customer is already on a route that day (busy), nor on a
// weekend the crew does not already work.
func dayOffered(d localdate.Date, stops int, busy bool) bool {
	if busy {
		return false
	}
	return stops > 0 || (d.Weekday() != time.Saturday && d.Weekday() != time.Sunday)
}

// linkedNeighborOn names the first of the day's stops whose customer is
// one of neighbors and lives within radiusM of point (nil when none): book
// here and both visits sync.
func linkedNeighborOn(stops []stop, neighbors map[int64]bool, point geo.Point, radiusM int) *NeighborOnDay {
	for _, st := range stops {
		if pt, located := st.point(); neighbors[st.CustomerID] && located && withinRadius(geo.DistanceM(pt, point), radiusM) {
			return &NeighborOnDay{CustomerID: st.CustomerExt, Street: street(st.Address), VisitID: st.VisitExternalID}
		}
	}
	return nil
}

// withinRadius reports whether a neighbour metres away is within the
// program's neighbour radius: at most radiusM, exactly the radius counts.
func withinRadius(metres float64, radiusM int) bool { return metres <= float64(radiusM) }

// rankSlots orders slots best first and keeps the first limit (10 when
// limit is 0 or less): a day with a linked neighbour on the route before
// one without, then the fewest minutes added, then the earliest day, then
// the crew's id; slots equal in all four keep their order.
func rankSlots(slots []Slot, limit int) []Slot {
	sort.SliceStable(slots, func(i, j int) bool {
		a, b := slots[i], slots[j]
		if (a.LinkedNeighbor != nil) != (b.LinkedNeighbor != nil) {
			return a.LinkedNeighbor != nil
		}
		if a.AddedMinutes != b.AddedMinutes {
			return a.AddedMinutes < b.AddedMinutes
		}
		if a.Date != b.Date {
			return a.Date.Before(b.Date)
		}
		return a.CrewID < b.CrewID
	})
	if limit <= 0 {
		limit = 10
	}
	if len(slots) > limit {
		slots = slots[:limit]
	}
	return slots
}

// separateTrip is the cheapest trip serving point on its own: from the
// nearest crew depot and back (in road metres and driving minutes, as
// travel prices them), the baseline of "km saved against a separate trip".
func separateTrip(travel geo.Travel, crews []crewRow, point geo.Point) (metres, minutes float64, err error) {
	if len(crews) == 0 {
		return 0, 0, nil
	}
	points := []geo.Point{point}
	for _, c := range crews {
		points = append(points, c.depot())
	}
	m, err := travel.Matrix(points)
	if err != nil {
		return 0, 0, fmt.Errorf("price separate trips: %w", err)
	}
	metres, minutes = math.Inf(1), math.Inf(1)
	for i := range crews {
		if trip := m.Metres(i+1, 0) + m.Metres(0, i+1); trip < metres {
			metres, minutes = trip, m.Minutes(i+1, 0)+m.Minutes(0, i+1)
		}
	}
	return metres, minutes, nil
}

// fit is the cheapest insertion of point into one crew-day, as travel
// prices the legs, against alone, the cheapest separate trip; ok is false
// when the day would run past the working day (ending exactly at its end
// fits).
func fit(travel geo.Travel, prog program.Program, c crewRow, d localdate.Date, stops []stop, point geo.Point, duration, alone float64) (Slot, bool, error) {
	p, located, unrouted := dayProblem(c.depot(), stops, prog, point)
	p.ServiceMin[len(p.ServiceMin)-1] = duration
	m, err := travel.Matrix(append([]geo.Point{p.Depot}, p.Stops...))
	if err != nil {
		return Slot{}, false, err
	}
	n := len(located)
	order := identity(n)
	_, dayMinutes := geo.RouteLength(p, m, order)
	ins := geo.CheapestInsertion(p, m, order, n)
	if ins.Position < 0 {
		return Slot{}, false, nil
	}
	after := dayMinutes + unrouted + ins.AddedMinutes
	if after > float64(prog.WorkdayMinutes) {
		return Slot{}, false, nil
	}
	return Slot{Date: d, CrewID: c.ExternalID, CrewName: c.Name, Position: ins.Position + 1, StopsThatDay: len(stops),
		AddedKm: km(ins.AddedMetres), AddedMinutes: round1(ins.AddedMinutes), StandaloneKm: km(alone),
		KmSavedVsStandalone: km(alone - ins.AddedMetres), DayMinutesAfter: round1(after)}, true, nil
}
