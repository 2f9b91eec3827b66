package dispatch

import (
	"context"
	"fmt"
	"math"
	"sort"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/geo"
	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/store"
)

// RouteStop is one stop of a day route.
type RouteStop struct {
	Position       int      `json:"position"`
	VisitID        string   `json:"visit_id"`
	CustomerID     string   `json:"customer_id"`
	Name           string   `json:"name"`
	Address        string   `json:"address"`
	Lat            *float64 `json:"lat"`
	Lon            *float64 `json:"lon"`
	LegKm          float64  `json:"leg_km"`
	LegMinutes     float64  `json:"leg_minutes"`
	ServiceMinutes float64  `json:"service_minutes"`
	// LinkedNeighbors are the stops of the day linked to this one.
	LinkedNeighbors []string `json:"linked_neighbors"`
}

// DayRoute is a crew's day: depot, stops in order, and the drive.
type DayRoute struct {
	CrewID       string         `json:"crew_id"`
	CrewName     string         `json:"crew_name"`
	Date         localdate.Date `json:"date"`
	DepotLat     float64        `json:"depot_lat"`
	DepotLon     float64        `json:"depot_lon"`
	Stops        []RouteStop    `json:"stops"`
	ReturnKm     float64        `json:"return_km"`
	TotalKm      float64        `json:"total_km"`
	TotalMinutes float64        `json:"total_minutes"`
	WorkdayMin   int            `json:"workday_minutes"`
}

func crewByExt(db *gorm.DB, tenantID, ext string) (crewRow, error) {
	var cs []crewRow
	if err := db.Raw(`SELECT id, external_id, name, depot_lat, depot_lon FROM crews WHERE tenant_id = ? AND external_id = ?`,
		tenantID, ext).Scan(&cs).Error; err != nil {
		return crewRow{}, fmt.Errorf("read crew: %w", err)
	}
	if len(cs) == 0 {
		return crewRow{}, apperror.NotFound("crew %s not found", ext)
	}
	return cs[0], nil
}

// linkedPairs returns, for the customers on a day, who is linked to whom
// (links active that day).
func linkedPairs(db *gorm.DB, tenantID string, customers []int64, day localdate.Date) (map[int64][]int64, error) {
	out := map[int64][]int64{}
	if len(customers) == 0 {
		return out, nil
	}
	var ls []struct{ A, B int64 }
	err := db.Raw(`SELECT customer_a_id AS a, customer_b_id AS b FROM neighbor_links
		WHERE tenant_id = ? AND customer_a_id IN ? AND customer_b_id IN ? AND starts_on <= ? AND (ends_on IS NULL OR ends_on > ?)`,
		tenantID, customers, customers, day, day).Scan(&ls).Error
	if err != nil {
		return nil, fmt.Errorf("read links: %w", err)
	}
	for _, l := range ls {
		out[l.A] = append(out[l.A], l.B)
		out[l.B] = append(out[l.B], l.A)
	}
	return out, nil
}

// Route returns a crew's day with the legs of its route.
func (s *Service) Route(ctx context.Context, tenantID, crewExt string, day localdate.Date) (DayRoute, error) {
	db := s.store.DB.WithContext(ctx)
	c, err := crewByExt(db, tenantID, crewExt)
	if err != nil {
		return DayRoute{}, err
	}
	prog, err := program.Get(db, tenantID)
	if err != nil {
		return DayRoute{}, err
	}
	days, err := loadStops(db, tenantID, c.ID, day, day)
	if err != nil {
		return DayRoute{}, err
	}
	return s.describe(db, tenantID, prog, c, day, days[crewDay{c.ID, day}])
}

func (s *Service) describe(db *gorm.DB, tenantID string, prog program.Program, c crewRow, day localdate.Date, stops []stop) (DayRoute, error) {
	r := DayRoute{CrewID: c.ExternalID, CrewName: c.Name, Date: day, DepotLat: c.DepotLat, DepotLon: c.DepotLon,
		Stops: []RouteStop{}, WorkdayMin: prog.WorkdayMinutes}
	p, located, unrouted := dayProblem(c.depot(), stops, prog)
	m, err := s.matrix(prog, p)
	if err != nil {
		return r, err
	}
	ids := make([]int64, len(stops))
	ext := map[int64]string{}
	for i, st := range stops {
		ids[i] = st.CustomerID
		ext[st.CustomerID] = st.CustomerExt
	}
	links, err := linkedPairs(db, tenantID, ids, day)
	if err != nil {
		return r, err
	}
	prev := 0
	for i, st := range located {
		rs := RouteStop{Position: i + 1, VisitID: st.VisitExternalID, CustomerID: st.CustomerExt, Name: st.Name, Address: st.Address,
			Lat: st.Lat, Lon: st.Lon, LegKm: km(m.Metres(prev, i+1)), LegMinutes: round1(m.Minutes(prev, i+1)),
			ServiceMinutes: st.minutes(prog), LinkedNeighbors: []string{}}
		if st.RoutePosition != nil {
			rs.Position = *st.RoutePosition
		}
		for _, o := range links[st.CustomerID] {
			rs.LinkedNeighbors = append(rs.LinkedNeighbors, ext[o])
		}
		r.Stops = append(r.Stops, rs)
		prev = i + 1
	}
	if len(located) > 0 {
		r.ReturnKm = km(m.Metres(prev, 0))
	}
	metres, minutes := geo.RouteLength(p, m, identity(len(located)))
	r.TotalKm, r.TotalMinutes = km(metres), round1(minutes+unrouted)
	return r, nil
}

// OptimizeInput is the body of POST /routes/optimize.
type OptimizeInput struct {
	Depot         *LatLon     `json:"depot"`
	Stops         []StopInput `json:"stops"`
	ReturnToDepot *bool       `json:"return_to_depot"`
}

// LatLon is a location in a request.
type LatLon struct {
	Lat *float64 `json:"lat"`
	Lon *float64 `json:"lon"`
}

// StopInput is one stop to order.
type StopInput struct {
	ID         string   `json:"id"`
	Lat        *float64 `json:"lat"`
	Lon        *float64 `json:"lon"`
	ServiceMin *float64 `json:"service_min"`
}

// Optimized is a proposed order.
type Optimized struct {
	Order         []string `json:"order"`
	DistanceM     float64  `json:"distance_m"`
	DurationMin   float64  `json:"duration_min"`
	ImprovedFromM float64  `json:"improved_from_m"`
}

// MaxOptimizeStops bounds one optimisation request.
const MaxOptimizeStops = 2000

func checkPoint(f apperror.Fields, field string, lat, lon *float64) (geo.Point, bool) {
	if lat == nil || lon == nil {
		f.Add(field, "lat and lon are required")
		return geo.Point{}, false
	}
	if err := geo.CheckLat(*lat); err != nil {
		f.Add(field+".lat", err.Error())
		return geo.Point{}, false
	}
	if err := geo.CheckLon(*lon); err != nil {
		f.Add(field+".lon", err.Error())
		return geo.Point{}, false
	}
	return geo.Point{Lat: *lat, Lon: *lon}, true
}

// Optimize orders any set of stops from a depot (an ad hoc question: the
// tenant's travel model, nothing stored).
func (s *Service) Optimize(ctx context.Context, tenantID string, in OptimizeInput) (Optimized, error) {
	if len(in.Stops) > MaxOptimizeStops {
		return Optimized{}, &apperror.Error{Code: apperror.CodeTooLarge,
			Message: fmt.Sprintf("at most %d stops per request; this one has %d", MaxOptimizeStops, len(in.Stops))}
	}
	f := apperror.Fields{}
	p := geo.RouteProblem{ReturnToDepot: in.ReturnToDepot == nil || *in.ReturnToDepot}
	if in.Depot == nil {
		f.Add("depot", "is required")
	} else if d, ok := checkPoint(f, "depot", in.Depot.Lat, in.Depot.Lon); ok {
		p.Depot = d
	}
	if len(in.Stops) == 0 {
		f.Add("stops", "give at least one stop")
	}
	seen := map[string]bool{}
	for i, st := range in.Stops {
		field := fmt.Sprintf("stops[%d]", i)
		if st.ID == "" {
			f.Add(field+".id", "is required")
		} else if seen[st.ID] {
			f.Add(field+".id", "is used twice: "+st.ID)
		}
		seen[st.ID] = true
		pt, _ := checkPoint(f, field, st.Lat, st.Lon)
		p.Stops = append(p.Stops, pt)
		min := 0.0
		if st.ServiceMin != nil {
			if *st.ServiceMin < 0 || *st.ServiceMin > 24*60 || math.IsNaN(*st.ServiceMin) {
				f.Add(field+".service_min", "must be between 0 and 1440")
			}
			min = *st.ServiceMin
		}
		p.ServiceMin = append(p.ServiceMin, min)
	}
	if err := f.Err(); err != nil {
		return Optimized{}, err
	}
	prog, err := program.Get(s.store.DB.WithContext(ctx), tenantID)
	if err != nil {
		return Optimized{}, err
	}
	m, err := s.matrix(prog, p)
	if err != nil {
		return Optimized{}, apperror.Unprocessable("cannot price these stops: %v", err)
	}
	r, err := geo.OptimizeRoute(p, m)
	if err != nil {
		return Optimized{}, apperror.Unprocessable("%v", err)
	}
	out := Optimized{Order: make([]string, len(r.Order)), DistanceM: math.Round(r.Metres), DurationMin: round1(r.Minutes),
		ImprovedFromM: math.Round(r.ImprovedFromMetres)}
	for i, idx := range r.Order {
		out.Order[i] = in.Stops[idx].ID
	}
	return out, nil
}

// DayProposal is a better order for a scheduled day.
type DayProposal struct {
	CrewID     string         `json:"crew_id"`
	Date       localdate.Date `json:"date"`
	CurrentKm  float64        `json:"current_km"`
	ProposedKm float64        `json:"proposed_km"`
	SavedKm    float64        `json:"saved_km"`
	Order      []string       `json:"order"`
	Applied    bool           `json:"applied"`
	Route      *DayRoute      `json:"route,omitempty"`
}

// OptimizeDay proposes a better order for a crew's scheduled day, keeping
// linked neighbours next to each other; with apply it rewrites the route
// positions (the crew-day is locked meanwhile).
func (s *Service) OptimizeDay(ctx context.Context, tenantID, crewExt string, day localdate.Date, apply bool) (DayProposal, error) {
	var out DayProposal
	err := s.store.Tx(ctx, func(tx *gorm.DB) error {
		c, err := crewByExt(tx, tenantID, crewExt)
		if err != nil {
			return err
		}
		if apply && s.store.Dialect == store.Postgres {
			if err := tx.Exec(`SELECT pg_advisory_xact_lock(hashtext(?))`, fmt.Sprintf("routeloop.crewday.%s.%d.%s", tenantID, c.ID, day)).Error; err != nil {
				return fmt.Errorf("lock crew day: %w", err)
			}
		}
		prog, err := program.Get(tx, tenantID)
		if err != nil {
			return err
		}
		days, err := loadStops(tx, tenantID, c.ID, day, day)
		if err != nil {
			return err
		}
		p, located, _ := dayProblem(c.depot(), days[crewDay{c.ID, day}], prog)
		out = DayProposal{CrewID: c.ExternalID, Date: day, Order: []string{}}
		if len(located) == 0 {
			return nil
		}
		idx := map[int64]int{}
		ids := make([]int64, len(located))
		for i, st := range located {
			idx[st.CustomerID], ids[i] = i, st.CustomerID
		}
		links, err := linkedPairs(tx, tenantID, ids, day)
		if err != nil {
			return err
		}
		p.KeepAdjacent = keepTogether(located, idx, links)
		m, err := s.matrix(prog, p)
		if err != nil {
			return err
		}
		current, _ := geo.RouteLength(p, m, identity(len(located)))
		r, err := geo.OptimizeRoute(p, m)
		if err != nil {
			return apperror.Unprocessable("%v", err)
		}
		// Never propose worse than what is planned — unless the plan parts
		// linked neighbours: then the proposal keeps them together even if
		// it drives further (saved_km is then negative).
		if plan := identity(len(located)); r.Metres > current && geo.KeepsAdjacent(p, plan) {
			r.Order, r.Metres = plan, current
		}
		out.CurrentKm, out.ProposedKm, out.SavedKm = km(current), km(r.Metres), km(current-r.Metres)
		for _, i := range r.Order {
			out.Order = append(out.Order, located[i].VisitExternalID)
		}
		if !apply {
			return nil
		}
		changed := false
		for pos, i := range r.Order {
			if was := located[i].RoutePosition; was != nil && *was == pos+1 {
				continue
			}
			changed = true
			if err := tx.Exec(`UPDATE visits SET route_position = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
				pos+1, s.clock.Now(), tenantID, located[i].VisitID).Error; err != nil {
				return fmt.Errorf("apply order: %w", err)
			}
		}
		out.Applied = true
		if changed { // the scheduler hears the new route once
			return s.emitRouteChanged(tx, tenantID, c, day)
		}
		return nil
	})
	if err != nil || !out.Applied {
		return out, err
	}
	route, err := s.Route(ctx, tenantID, crewExt, day)
	out.Route = &route
	return out, err
}

// keepTogether turns the day's links into pairs the route must keep next to
// each other. A route is a line, so linked neighbours can only form chains:
// a stop keeps at most two partners and no pair may close a circle (three
// mutually linked neighbours stay together as a chain of two pairs). Pairs
// are taken in a fixed order, so the same day gives the same answer.
func keepTogether(located []stop, idx map[int64]int, links map[int64][]int64) [][2]int {
	var pairs [][2]int
	seen := map[[2]int]bool{}
	for _, st := range located {
		for _, o := range links[st.CustomerID] {
			i, j := idx[st.CustomerID], idx[o]
			if i > j {
				i, j = j, i
			}
			if i != j && !seen[[2]int{i, j}] {
				seen[[2]int{i, j}] = true
				pairs = append(pairs, [2]int{i, j})
			}
		}
	}
	sort.Slice(pairs, func(a, b int) bool {
		if pairs[a][0] != pairs[b][0] {
			return pairs[a][0] < pairs[b][0]
		}
		return pairs[a][1] < pairs[b][1]
	})
	chains := geo.NewGroups(len(located))
	degree := make([]int, len(located))
	var keep [][2]int
	for _, pr := range pairs {
		a, b := pr[0], pr[1]
		if degree[a] >= 2 || degree[b] >= 2 || chains.Same(a, b) {
			continue
		}
		chains.Join(a, b)
		degree[a]++
		degree[b]++
		keep = append(keep, pr)
	}
	return keep
}
