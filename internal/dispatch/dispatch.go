// Package dispatch gives dispatchers the numbers to book linked visits
// well: for every crew-day in a window, where a customer (or a referred
// friend) fits best into the route and what that costs against a separate
// trip; booking it; the day's route; and better orders for a day.
package dispatch

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/geo"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/events"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/store"
)

// EventVisitBooked tells the scheduler about a visit booked here.
const EventVisitBooked = "visit.booked"

// EventRouteChanged tells the scheduler that routeloop re-ordered a crew's
// day: a booking moved later stops down, or an optimised order was applied.
const EventRouteChanged = "route.changed"

// Service is the dispatch desk.
type Service struct {
	store  *store.Store
	clock  clock.Clock
	events events.Emitter
	// Travel prices the legs; the built-in model is straight-line distance
	// times the program's road factor at its average speed. A road-network
	// table service can be put here instead.
	Travel func(prog program.Program) geo.Travel
	// booked hears of every visit booked, inside the booking's transaction.
	booked func(tx *gorm.DB, ch mirror.VisitChange) error
}

// OnVisitBooked sets fn to hear of every visit booked, inside the booking's
// transaction (the mirror's visit listeners: discounts, conversions).
func (s *Service) OnVisitBooked(fn func(tx *gorm.DB, ch mirror.VisitChange) error) { s.booked = fn }

// NewService returns the dispatch desk.
func NewService(s *store.Store, c clock.Clock, em events.Emitter) *Service {
	if em == nil {
		em = events.Discard{}
	}
	return &Service{store: s, clock: c, events: em, Travel: func(p program.Program) geo.Travel {
		return geo.Crow{RoadFactor: p.RoadFactor, SpeedKmh: p.SpeedKmh}
	}}
}

// crewRow is a crew and its depot.
type crewRow struct {
	ID         int64
	ExternalID string
	Name       string
	DepotLat   float64
	DepotLon   float64
}

func (c crewRow) depot() geo.Point { return geo.Point{Lat: c.DepotLat, Lon: c.DepotLon} }

// stop is a visit on a crew's day, with its customer's home.
type stop struct {
	VisitID         int64
	VisitExternalID string
	CustomerID      int64
	CustomerExt     string
	Name            string
	Address         string
	Lat, Lon        *float64
	CrewID          int64
	ServiceDate     localdate.Date
	RoutePosition   *int
	DurationMin     *int
}

func (s stop) point() (geo.Point, bool) {
	if s.Lat == nil || s.Lon == nil {
		return geo.Point{}, false
	}
	return geo.Point{Lat: *s.Lat, Lon: *s.Lon}, true
}

func (s stop) minutes(prog program.Program) float64 {
	if s.DurationMin != nil {
		return float64(*s.DurationMin)
	}
	return float64(prog.DefaultVisitMinutes)
}

type crewDay struct {
	crew int64
	day  localdate.Date
}

// loadStops reads the non-cancelled visits of the window (of one crew when
// crewID > 0), in route order.
func loadStops(db *gorm.DB, tenantID string, crewID int64, from, to localdate.Date) (map[crewDay][]stop, error) {
	rows, err := readStops(db, tenantID, crewID, from, to, false)
	if err != nil {
		return nil, fmt.Errorf("read routes: %w", err)
	}
	return routesOf(rows), nil
}

// readStops reads the visits of the window (of one crew when crewID > 0)
// that have a crew: the non-cancelled ones, or only the completed ones.
func readStops(db *gorm.DB, tenantID string, crewID int64, from, to localdate.Date, completed bool) ([]stop, error) {
	status := `v.status <> 'cancelled'`
	if completed {
		status = `v.status = 'completed'`
	}
	q := `SELECT v.id AS visit_id, v.external_id AS visit_external_id, v.customer_id, c.external_id AS customer_ext,
			c.name, c.address, c.lat, c.lon, v.crew_id, v.service_date, v.route_position, v.duration_min
		FROM visits v JOIN customers c ON c.id = v.customer_id
		WHERE v.tenant_id = ? AND v.service_date BETWEEN ? AND ? AND ` + status + ` AND v.crew_id IS NOT NULL`
	args := []any{tenantID, from, to}
	if crewID > 0 {
		q += ` AND v.crew_id = ?`
		args = append(args, crewID)
	}
	var rows []stop
	err := db.Raw(q, args...).Scan(&rows).Error
	return rows, err
}

// routesOf groups stops by crew-day, each day in route order.
func routesOf(rows []stop) map[crewDay][]stop {
	out := map[crewDay][]stop{}
	for _, r := range rows {
		k := crewDay{r.CrewID, r.ServiceDate}
		out[k] = append(out[k], r)
	}
	for _, ss := range out {
		sortRoute(ss)
	}
	return out
}

// sortRoute puts a crew-day's stops in route order: by route position
// (stops without one last), then by visit id.
func sortRoute(ss []stop) {
	sort.SliceStable(ss, func(i, j int) bool {
		a, b := ss[i].RoutePosition, ss[j].RoutePosition
		switch {
		case a != nil && b != nil && *a != *b:
			return *a < *b
		case a != nil && b == nil:
			return true
		case a == nil && b != nil:
			return false
		}
		return ss[i].VisitID < ss[j].VisitID
	})
}

func loadCrews(db *gorm.DB, tenantID string) ([]crewRow, error) {
	var cs []crewRow
	if err := db.Raw(`SELECT id, external_id, name, depot_lat, depot_lon FROM crews WHERE tenant_id = ? ORDER BY id`, tenantID).Scan(&cs).Error; err != nil {
		return nil, fmt.Errorf("read crews: %w", err)
	}
	return cs, nil
}

// dayProblem builds the routing problem of one crew-day: the depot and the
// located stops in their current order, plus optional extra points at the
// end. Stops without a location keep their service time but cannot be
// routed; they are reported back.
func dayProblem(depot geo.Point, stops []stop, prog program.Program, extra ...geo.Point) (geo.RouteProblem, []stop, float64) {
	p := geo.RouteProblem{Depot: depot, ReturnToDepot: true}
	var located []stop
	var unrouted float64
	for _, s := range stops {
		pt, ok := s.point()
		if !ok {
			unrouted += s.minutes(prog)
			continue
		}
		p.Stops = append(p.Stops, pt)
		p.ServiceMin = append(p.ServiceMin, s.minutes(prog))
		located = append(located, s)
	}
	for _, e := range extra {
		p.Stops = append(p.Stops, e)
		p.ServiceMin = append(p.ServiceMin, 0)
	}
	return p, located, unrouted
}

func (s *Service) matrix(prog program.Program, p geo.RouteProblem) (geo.Matrix, error) {
	points := append([]geo.Point{p.Depot}, p.Stops...)
	return s.Travel(prog).Matrix(points)
}

func identity(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func km(m float64) float64 { return math.Round(m/10) / 100 }

func round1(x float64) float64 { return math.Round(x*10) / 10 }

func street(address string) string {
	s, _, _ := strings.Cut(address, ",")
	return strings.TrimSpace(s)
}

// today is the tenant-local date now.
func (s *Service) today(loc *time.Location) localdate.Date { return localdate.In(s.clock.Now(), loc) }

// emitRouteChanged announces a crew-day's route as it now stands: every
// visit that is not cancelled, by its external id, with its route position
// (null for a visit without one), in route order.
func (s *Service) emitRouteChanged(tx *gorm.DB, tenantID string, c crewRow, day localdate.Date) error {
	var visits []struct {
		VisitID       string `json:"visit_id"`
		RoutePosition *int   `json:"route_position"`
	}
	if err := tx.Raw(`SELECT external_id AS visit_id, route_position FROM visits
		WHERE tenant_id = ? AND crew_id = ? AND service_date = ? AND status <> 'cancelled'
		ORDER BY route_position IS NULL, route_position, id`, tenantID, c.ID, day).Scan(&visits).Error; err != nil {
		return fmt.Errorf("read the changed route: %w", err)
	}
	return s.events.Emit(tx, tenantID, EventRouteChanged, map[string]any{
		"crew_id": c.ExternalID, "service_date": day, "visits": visits,
	})
}
