package geo

import "fmt"

// ImproveRoute is the benchmarks' yardstick for OptimizeRoute: the same
// local search started from given orders (the nearest-neighbour tour,
// random ones), to see how far the constructed start is from the best of
// several.
// ImproveRoute improves a given order of all of p's stops (a dispatcher's
// current route) with the local search of OptimizeRoute, starting from it.
// ImprovedFromMetres is the given order's length, and the result is never
// longer. order must be a permutation of the stop indexes that already
// keeps every KeepAdjacent pair adjacent (otherwise use OptimizeRoute); it
// is not modified.
func ImproveRoute(p RouteProblem, m Matrix, order []int) (Route, error) {
	s, err := newSolver(p, m)
	if err != nil {
		return Route{}, err
	}
	if len(order) != len(p.Stops) {
		return Route{}, fmt.Errorf("geo: the order has %d stops, the problem %d", len(order), len(p.Stops))
	}
	seen := make([]bool, len(p.Stops))
	for _, st := range order {
		if st < 0 || st >= len(p.Stops) || seen[st] {
			return Route{}, fmt.Errorf("geo: the order is not a permutation of the stops (stop %d)", st)
		}
		seen[st] = true
	}
	if len(order) == 0 {
		return Route{Order: []int{}}, nil
	}
	for _, pr := range p.KeepAdjacent {
		if !adjacentIn(order, pr[0], pr[1]) {
			return Route{}, fmt.Errorf("geo: the order separates stops %d and %d, which must stay adjacent", pr[0], pr[1])
		}
	}
	start := append([]int(nil), order...)
	s.load(start)
	return s.finish(p, m, start)
}

// load sets the tour to a given order of stop indexes.
func (s *solver) load(order []int) {
	s.tour[0] = 0
	for q, st := range order {
		s.tour[q+1] = int32(st + 1)
	}
	s.reset()
}
