package geo

import (
	"math"
)

// RouteProblem is one vehicle's day: leave Depot, visit every stop, and
// (when ReturnToDepot) come back. The Matrix that goes with it covers
// [Depot, Stops...]: index 0 is the depot and stop i is index i+1.
type RouteProblem struct {
	Depot Point
	Stops []Point
	// ServiceMin is the time spent at each stop, in minutes: empty, or one
	// finite non-negative entry per stop. It is added to Route.Minutes; it
	// does not change the order (routes are optimised for metres).
	ServiceMin []float64
	// ReturnToDepot closes the route with the leg back to the depot; when
	// false the route is an open path that ends at its last stop.
	ReturnToDepot bool
	// KeepAdjacent lists pairs of stop indexes that must be next to each
	// other in the order, either way round (linked neighbours visited one
	// after the other). Pairs may form chains (a–b, b–c keeps a, b, c
	// together with b in the middle); a stop in more than two pairs, or
	// pairs that close a cycle, cannot be honoured and are an error.
	// Repeated pairs are fine.
	KeepAdjacent [][2]int
}

// Route is an order of a RouteProblem's stops with its cost.
type Route struct {
	// Order holds stop indexes (into RouteProblem.Stops), each once.
	Order []int
	// Metres is the length of depot → stops → (depot), as RouteLength.
	Metres float64
	// Minutes is driving time plus ServiceMin, as RouteLength.
	Minutes float64
	// ImprovedFromMetres is the length of the route the local search
	// started from: OptimizeRoute's construction, or the order given to
	// ImproveRoute.
	ImprovedFromMetres float64
}

// RouteLength is the metres and minutes (driving plus ServiceMin) of
// depot → order... → depot, the last leg only when p.ReturnToDepot. order
// holds stop indexes, not necessarily all of them (a crew's current route);
// an empty order costs nothing. ServiceMin entries missing from a short
// ServiceMin count as 0. It does not check its input: an index outside m
// panics.
func RouteLength(p RouteProblem, m Matrix, order []int) (metres, minutes float64) {
	if len(order) == 0 {
		return 0, 0
	}
	prev := 0
	for _, s := range order {
		metres += m.Metres(prev, s+1)
		minutes += m.Minutes(prev, s+1)
		if s < len(p.ServiceMin) {
			minutes += p.ServiceMin[s]
		}
		prev = s + 1
	}
	if p.ReturnToDepot {
		metres += m.Metres(prev, 0)
		minutes += m.Minutes(prev, 0)
	}
	return metres, minutes
}

// OptimizeRoute finds a short order for all of p's stops, minimising Metres
// under p.KeepAdjacent. m must cover [depot, stops...] (m.Size() ==
// len(p.Stops)+1). The result is deterministic: the same input gives the
// same order. Errors are about the input (sizes, KeepAdjacent that cannot
// be honoured, a bad ServiceMin, a negative or non-finite leg).
//
// How: farthest insertion builds a first route, then 2-opt and Or-opt with
// neighbour lists and don't-look bits make it locally optimal, then an
// iterated local search (local double-bridge kicks, a fixed seed and a
// fixed number of kicks for the size) improves it further. See
// route_solve.go for the reasons.
func OptimizeRoute(p RouteProblem, m Matrix) (Route, error) {
	s, err := newSolver(p, m)
	if err != nil {
		return Route{}, err
	}
	if len(p.Stops) == 0 {
		return Route{Order: []int{}}, nil
	}
	s.construct()
	start := s.order()
	return s.finish(p, m, start)
}

// KeepsAdjacent reports whether order keeps every KeepAdjacent pair of p
// next to each other.
func KeepsAdjacent(p RouteProblem, order []int) bool {
	for _, pr := range p.KeepAdjacent {
		if !adjacentIn(order, pr[0], pr[1]) {
			return false
		}
	}
	return true
}

// adjacentIn reports whether a and b are next to each other in order.
func adjacentIn(order []int, a, b int) bool {
	for k := 0; k+1 < len(order); k++ {
		x, y := order[k], order[k+1]
		if (x == a && y == b) || (x == b && y == a) {
			return true
		}
	}
	return false
}

// finish runs the local search from the loaded tour and returns the best
// of it and start, measured by RouteLength.
func (s *solver) finish(p RouteProblem, m Matrix, start []int) (Route, error) {
	fromM, fromMin := RouteLength(p, m, start)
	s.search()
	order := s.order()
	metres, minutes := RouteLength(p, m, order)
	if metres > fromM {
		// Cannot happen beyond rounding; never hand back a longer route.
		order, metres, minutes = start, fromM, fromMin
	}
	return Route{Order: order, Metres: metres, Minutes: minutes, ImprovedFromMetres: fromM}, nil
}

// Insertion is where CheapestInsertion would put a stop.
type Insertion struct {
	// Position is where the stop goes: before order[Position], or at the
	// end when Position == len(order). It is -1 when there is no valid
	// place (see CheapestInsertion), and then the added costs are +Inf.
	Position int
	// AddedMetres and AddedMinutes are what the route grows by: the
	// difference of RouteLength after and before. AddedMinutes includes
	// the stop's ServiceMin.
	AddedMetres  float64
	AddedMinutes float64
}

// CheapestInsertion finds the position in order (the current route, stop
// indexes of p) where stop newStop adds the fewest metres (ties: fewer
// minutes, then the earlier position). The legs are those of RouteLength:
// depot first, and back to the depot only when p.ReturnToDepot. Positions
// that would split a KeepAdjacent pair of stops in order are skipped, and
// if newStop is paired with stops in order it must land next to them.
//
// Position is -1 (added costs +Inf) when no position is valid: m does not
// cover [depot, stops...], newStop or an order entry is not a stop index,
// order repeats a stop or already holds newStop, or KeepAdjacent cannot be
// honoured.
func CheapestInsertion(p RouteProblem, m Matrix, order []int, newStop int) Insertion {
	none := Insertion{Position: -1, AddedMetres: math.Inf(1), AddedMinutes: math.Inf(1)}
	n := len(p.Stops)
	if m.Size() != n+1 || newStop < 0 || newStop >= n {
		return none
	}
	inOrder := make(map[int]bool, len(order))
	for _, st := range order {
		if st < 0 || st >= n || st == newStop || inOrder[st] {
			return none
		}
		inOrder[st] = true
	}
	// Pairs among the order's stops, and newStop's partners in the order.
	linked := func(a, b int) bool {
		for _, pr := range p.KeepAdjacent {
			if (pr[0] == a && pr[1] == b) || (pr[0] == b && pr[1] == a) {
				return true
			}
		}
		return false
	}
	var partners []int
	for _, pr := range p.KeepAdjacent {
		if pr[0] == newStop && inOrder[pr[1]] {
			partners = append(partners, pr[1])
		} else if pr[1] == newStop && inOrder[pr[0]] {
			partners = append(partners, pr[0])
		}
	}
	service := 0.0
	if newStop < len(p.ServiceMin) {
		service = p.ServiceMin[newStop]
	}
	x := newStop + 1
	best := none
	for pos := 0; pos <= len(order); pos++ {
		prev, next := 0, -1 // matrix indexes; next -1: no leg after
		if pos > 0 {
			prev = order[pos-1] + 1
		}
		if pos < len(order) {
			next = order[pos] + 1
		} else if p.ReturnToDepot {
			next = 0
		}
		if pos > 0 && pos < len(order) && linked(order[pos-1], order[pos]) {
			continue
		}
		ok := true
		for _, q := range partners {
			if !(pos > 0 && order[pos-1] == q) && !(pos < len(order) && order[pos] == q) {
				ok = false
			}
		}
		if !ok {
			continue
		}
		addM := m.Metres(prev, x)
		addMin := m.Minutes(prev, x) + service
		switch {
		case next < 0:
		case len(order) == 0: // an empty route costs nothing, not depot → depot
			addM += m.Metres(x, next)
			addMin += m.Minutes(x, next)
		default:
			addM += m.Metres(x, next) - m.Metres(prev, next)
			addMin += m.Minutes(x, next) - m.Minutes(prev, next)
		}
		if best.Position < 0 || addM < best.AddedMetres || (addM == best.AddedMetres && addMin < best.AddedMinutes) {
			best = Insertion{Position: pos, AddedMetres: addM, AddedMinutes: addMin}
		}
	}
	return best
}

// StandaloneTrip is the cost of serving stop index stop on its own trip,
// depot → stop → depot (m covers [depot, stops...]), for "km saved against
// a separate trip": saved metres = StandaloneTrip metres − AddedMetres of
// the insertion. Minutes are driving only (no ServiceMin, which the
// separate trip would spend as well). A stop outside m gives NaN, NaN.
func StandaloneTrip(m Matrix, stop int) (metres, minutes float64) {
	if stop < 0 || stop+1 >= m.Size() {
		return math.NaN(), math.NaN()
	}
	return m.Metres(0, stop+1) + m.Metres(stop+1, 0), m.Minutes(0, stop+1) + m.Minutes(stop+1, 0)
}
