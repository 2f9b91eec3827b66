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
	today := s.today(loc)
	from, to := today.AddDays(1), today.AddDays(14)
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
	if err := f.Err(); err != nil {
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
	// The days the customer is already on a crew's route: never offered
	// again, on that crew or another (one crew a customer a day).
	busy := map[localdate.Date]bool{}
	for k, stops := range days {
		for _, st := range stops {
			busy[k.day] = busy[k.day] || (t.CustomerID != 0 && st.CustomerID == t.CustomerID)
		}
	}
	alone, _, err := s.separateTrip(prog, crews, t.Point)
	if err != nil {
		return nil, err
	}
	var slots []Slot
	for _, c := range crews {
		for d := from; !to.Before(d); d = d.AddDays(1) {
			stops := days[crewDay{c.ID, d}]
			if len(stops) == 0 && (d.Weekday() == time.Saturday || d.Weekday() == time.Sunday) {
				continue
			}
			if busy[d] {
				continue
			}
			slot, ok, err := s.fit(prog, c, d, stops, t.Point, duration, alone)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			// The linked neighbour named is one the crew serves that day
			// who lives within the program's radius of the target: book
			// here and both visits sync.
			for _, st := range stops {
				if pt, located := st.point(); neighbors[st.CustomerID] && located && geo.DistanceM(pt, t.Point) <= float64(prog.NeighborRadiusM) {
					slot.LinkedNeighbor = &NeighborOnDay{CustomerID: st.CustomerExt, Street: street(st.Address), VisitID: st.VisitExternalID}
					break
				}
			}
			slots = append(slots, slot)
		}
	}
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
	limit := w.Limit
	if limit <= 0 {
		limit = 10
	}
	if len(slots) > limit {
		slots = slots[:limit]
	}
	return slots, nil
}

// separateTrip is the cheapest trip serving point on its own: from the
// nearest crew depot and back (in road metres and driving minutes), the
// baseline of "km saved against a separate trip".
func (s *Service) separateTrip(prog program.Program, crews []crewRow, point geo.Point) (metres, minutes float64, err error) {
	if len(crews) == 0 {
		return 0, 0, nil
	}
	points := []geo.Point{point}
	for _, c := range crews {
		points = append(points, c.depot())
	}
	m, err := s.Travel(prog).Matrix(points)
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

// fit is the cheapest insertion of point into one crew-day, against alone,
// the cheapest separate trip; ok is false when the day would run past the
// working day.
func (s *Service) fit(prog program.Program, c crewRow, d localdate.Date, stops []stop, point geo.Point, duration, alone float64) (Slot, bool, error) {
	p, located, unrouted := dayProblem(c.depot(), stops, prog, point)
	p.ServiceMin[len(p.ServiceMin)-1] = duration
	m, err := s.matrix(prog, p)
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
