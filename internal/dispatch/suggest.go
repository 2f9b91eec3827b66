package dispatch

import (
	"context"
	"fmt"
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
	// KmSavedVsStandalone is the drive a separate trip would take less the
	// drive this insertion adds.
	KmSavedVsStandalone float64 `json:"km_saved_vs_standalone"`
	DayMinutesAfter     float64 `json:"day_minutes_after"`
	// LinkedNeighbor is the linked neighbour (or, for a referral, the
	// referrer) the crew serves that day: book here and both visits sync.
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
// program's working day) are left out.
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
	var slots []Slot
	for _, c := range crews {
		for d := from; !to.Before(d); d = d.AddDays(1) {
			stops := days[crewDay{c.ID, d}]
			if len(stops) == 0 && (d.Weekday() == time.Saturday || d.Weekday() == time.Sunday) {
				continue
			}
			already := false
			for _, st := range stops {
				already = already || (t.CustomerID != 0 && st.CustomerID == t.CustomerID)
			}
			if already {
				continue
			}
			slot, ok, err := s.fit(prog, c, d, stops, t.Point, duration)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			for _, st := range stops {
				if neighbors[st.CustomerID] {
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

// fit is the cheapest insertion of point into one crew-day; ok is false
// when the day would run past the working day.
func (s *Service) fit(prog program.Program, c crewRow, d localdate.Date, stops []stop, point geo.Point, duration float64) (Slot, bool, error) {
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
	alone, _ := geo.StandaloneTrip(m, n)
	return Slot{Date: d, CrewID: c.ExternalID, CrewName: c.Name, Position: ins.Position + 1, StopsThatDay: len(stops),
		AddedKm: km(ins.AddedMetres), AddedMinutes: round1(ins.AddedMinutes), StandaloneKm: km(alone),
		KmSavedVsStandalone: km(alone - ins.AddedMetres), DayMinutesAfter: round1(after)}, true, nil
}
