package geo

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// portland is the centre of the test cities.
var portland = Point{Lat: 45.5152, Lon: -122.6784}

// uniformStops is n random points in a square of about sideM metres around
// centre.
func uniformStops(r *rand.Rand, centre Point, n int, sideM float64) []Point {
	pts := make([]Point, n)
	for i := range pts {
		pts[i] = Point{
			Lat: centre.Lat + (r.Float64()-0.5)*sideM*degPerMLat(),
			Lon: centre.Lon + (r.Float64()-0.5)*sideM*degPerMLat()/math.Cos(centre.Lat*math.Pi/180),
		}
	}
	return pts
}

// clusteredStops is n points in a few Gaussian clusters (neighbourhoods)
// of about 400 m spread, the cluster centres spread over sideM.
func clusteredStops(r *rand.Rand, centre Point, n int, sideM float64) []Point {
	centres := uniformStops(r, centre, 2+r.IntN(4), sideM)
	pts := make([]Point, n)
	for i := range pts {
		c := centres[r.IntN(len(centres))]
		pts[i] = Point{
			Lat: c.Lat + r.NormFloat64()*400*degPerMLat(),
			Lon: c.Lon + r.NormFloat64()*400*degPerMLat()/math.Cos(c.Lat*math.Pi/180),
		}
	}
	return pts
}

func degPerMLat() float64 { return 180 / (math.Pi * 6378137) }

// crowMatrixOf builds the default Crow matrix of [depot, stops...].
func crowMatrixOf(t testing.TB, p RouteProblem) Matrix {
	t.Helper()
	m, err := Crow{}.Matrix(append([]Point{p.Depot}, p.Stops...))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// skewed is a one-way-streets version of m: every leg is stretched by its
// own factor in [1, 1.4), so Metres(i, j) != Metres(j, i).
func skewed(t testing.TB, r *rand.Rand, m Matrix) Matrix {
	t.Helper()
	n := m.Size()
	metres := make([]float64, n*n)
	minutes := make([]float64, n*n)
	for i := range n {
		for j := range n {
			f := 1 + 0.4*r.Float64()
			metres[i*n+j] = m.Metres(i, j) * f
			minutes[i*n+j] = m.Minutes(i, j) * f
		}
	}
	d, err := NewDenseMatrix(n, metres, minutes)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// heldKarp is the exact shortest route length (Held–Karp dynamic program,
// O(2^n n²)) for up to ~12 stops, no KeepAdjacent.
func heldKarp(p RouteProblem, m Matrix) float64 {
	n := len(p.Stops)
	if n == 0 {
		return 0
	}
	full := 1<<n - 1
	dp := make([]float64, (full+1)*n)
	for i := range dp {
		dp[i] = math.Inf(1)
	}
	for j := range n {
		dp[(1<<j)*n+j] = m.Metres(0, j+1)
	}
	for mask := 1; mask <= full; mask++ {
		for j := range n {
			cur := dp[mask*n+j]
			if mask&(1<<j) == 0 || math.IsInf(cur, 1) {
				continue
			}
			for k := range n {
				if mask&(1<<k) != 0 {
					continue
				}
				nm := mask | 1<<k
				if v := cur + m.Metres(j+1, k+1); v < dp[nm*n+k] {
					dp[nm*n+k] = v
				}
			}
		}
	}
	best := math.Inf(1)
	for j := range n {
		v := dp[full*n+j]
		if p.ReturnToDepot {
			v += m.Metres(j+1, 0)
		}
		best = math.Min(best, v)
	}
	return best
}

// permutations calls fn with every permutation of 0..n-1 (Heap's
// algorithm); fn must not keep the slice.
func permutations(n int, fn func([]int)) {
	a := make([]int, n)
	for i := range a {
		a[i] = i
	}
	c := make([]int, n)
	fn(a)
	for i := 0; i < n; {
		if c[i] < i {
			if i%2 == 0 {
				a[0], a[i] = a[i], a[0]
			} else {
				a[c[i]], a[i] = a[i], a[c[i]]
			}
			fn(a)
			c[i]++
			i = 0
		} else {
			c[i] = 0
			i++
		}
	}
}

// bruteForce is the exact shortest route honouring KeepAdjacent, over all
// permutations (n <= 8).
func bruteForce(p RouteProblem, m Matrix) float64 {
	best := math.Inf(1)
	permutations(len(p.Stops), func(order []int) {
		for _, pr := range p.KeepAdjacent {
			if !adjacentIn(order, pr[0], pr[1]) {
				return
			}
		}
		if l, _ := RouteLength(p, m, order); l < best {
			best = l
		}
	})
	return best
}

// checkRoute checks the invariants every result must meet.
func checkRoute(t *testing.T, what string, p RouteProblem, m Matrix, r Route) {
	t.Helper()
	if len(r.Order) != len(p.Stops) {
		t.Fatalf("%s: order has %d stops, want %d", what, len(r.Order), len(p.Stops))
	}
	seen := make([]bool, len(p.Stops))
	for _, s := range r.Order {
		if s < 0 || s >= len(p.Stops) || seen[s] {
			t.Fatalf("%s: order is not a permutation: %v", what, r.Order)
		}
		seen[s] = true
	}
	metres, minutes := RouteLength(p, m, r.Order)
	if metres != r.Metres || minutes != r.Minutes {
		t.Errorf("%s: reported %v m / %v min, RouteLength says %v m / %v min", what, r.Metres, r.Minutes, metres, minutes)
	}
	if r.Metres > r.ImprovedFromMetres {
		t.Errorf("%s: %v m is longer than the start %v m", what, r.Metres, r.ImprovedFromMetres)
	}
	for _, pr := range p.KeepAdjacent {
		if !adjacentIn(r.Order, pr[0], pr[1]) {
			t.Errorf("%s: stops %d and %d are not adjacent in %v", what, pr[0], pr[1], r.Order)
		}
	}
}

func TestCrowMatrix(t *testing.T) {
	r := newRand(t, 1)
	pts := append(uniformStops(r, portland, 20, 20000), Point{0, 179.9}, Point{0, -179.9}, Point{89.9, 10}, portland)
	for _, c := range []Crow{{}, {RoadFactor: 1, SpeedKmh: 60}, {RoadFactor: 1.7}} {
		m, err := c.Matrix(pts)
		if err != nil {
			t.Fatal(err)
		}
		factor, speed := c.RoadFactor, c.SpeedKmh
		if factor == 0 {
			factor = 1.3
		}
		if speed == 0 {
			speed = 30
		}
		if m.Size() != len(pts) {
			t.Fatalf("Size %d, want %d", m.Size(), len(pts))
		}
		for i := range pts {
			for j := range pts {
				want := DistanceM(pts[i], pts[j]) * factor
				if got := m.Metres(i, j); math.Abs(got-want) > 1e-9*want {
					t.Fatalf("%+v: Metres(%d, %d) = %v, want %v", c, i, j, got, want)
				}
				if m.Metres(i, j) != m.Metres(j, i) {
					t.Fatalf("not symmetric at %d, %d", i, j)
				}
				wantMin := want / (speed * 1000 / 60)
				if got := m.Minutes(i, j); math.Abs(got-wantMin) > 1e-9*wantMin {
					t.Fatalf("%+v: Minutes(%d, %d) = %v, want %v", c, i, j, got, wantMin)
				}
			}
		}
	}
	// 1 km at 30 km/h is 2 minutes.
	one := destination(portland, 90, 1000/1.3)
	m, _ := Crow{}.Matrix([]Point{portland, one})
	if got := m.Minutes(0, 1); math.Abs(got-2) > 1e-6 {
		t.Errorf("1 km at 30 km/h = %v min, want 2", got)
	}
	if m, err := (Crow{}).Matrix(nil); err != nil || m.Size() != 0 {
		t.Errorf("no points: %v, %v", m, err)
	}
	for _, bad := range []struct {
		c   Crow
		pts []Point
	}{
		{Crow{RoadFactor: -1}, pts},
		{Crow{RoadFactor: math.NaN()}, pts},
		{Crow{SpeedKmh: math.Inf(1)}, pts},
		{Crow{SpeedKmh: -30}, pts},
		{Crow{}, []Point{portland, {Lat: 91, Lon: 0}}},
		{Crow{}, []Point{{Lat: 0, Lon: math.NaN()}}},
	} {
		if _, err := bad.c.Matrix(bad.pts); err == nil {
			t.Errorf("%+v with %d points: no error", bad.c, len(bad.pts))
		}
	}
	var _ Travel = Crow{}
}

func TestNewDenseMatrix(t *testing.T) {
	if _, err := NewDenseMatrix(2, []float64{0, 1, 2, 0}, []float64{0, 1, 2, 0}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][2][]float64{
		{{0, 1, 2}, {0, 1, 2, 0}},
		{{0, -1, 2, 0}, {0, 1, 2, 0}},
		{{0, 1, 2, 0}, {0, 1, math.NaN(), 0}},
		{{0, math.Inf(1), 2, 0}, {0, 1, 2, 0}},
	} {
		if _, err := NewDenseMatrix(2, bad[0], bad[1]); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

// TestOptimizeRouteNearOptimal compares OptimizeRoute with the optimum on
// small instances: uniform and clustered, closed and open, symmetric and
// one-way legs.
func TestOptimizeRouteNearOptimal(t *testing.T) {
	r := newRand(t, 2)
	var sum, worst float64
	count, optimal := 0, 0
	instances := 60
	if raceEnabled {
		instances = 20
	}
	for inst := range instances {
		n := 8 + inst%5
		var stops []Point
		if inst%2 == 0 {
			stops = uniformStops(r, portland, n, 15000)
		} else {
			stops = clusteredStops(r, portland, n, 15000)
		}
		p := RouteProblem{Depot: uniformStops(r, portland, 1, 15000)[0], Stops: stops, ReturnToDepot: inst%3 != 0}
		m := crowMatrixOf(t, p)
		if inst%4 == 3 {
			m = skewed(t, r, m)
		}
		got, err := OptimizeRoute(p, m)
		if err != nil {
			t.Fatal(err)
		}
		checkRoute(t, "instance", p, m, got)
		opt := heldKarp(p, m)
		gap := got.Metres/opt - 1
		if gap < -1e-9 {
			t.Fatalf("instance %d: %v m beats the optimum %v m", inst, got.Metres, opt)
		}
		if gap < 1e-9 {
			optimal++
		}
		sum += gap
		worst = math.Max(worst, gap)
		count++
		if gap > 0.05 {
			t.Errorf("instance %d (%d stops): %.2f%% over the optimum", inst, n, 100*gap)
		}
	}
	avg := sum / float64(count)
	t.Logf("%d instances of 8-12 stops: average gap %.3f%%, worst %.3f%%, optimal in %d", count, 100*avg, 100*worst, optimal)
	if avg > 0.02 {
		t.Errorf("average gap %.2f%% over 2%%", 100*avg)
	}
}

// TestOptimizeRouteKeepAdjacentSmall checks pairs and chains against the
// constrained optimum by brute force.
func TestOptimizeRouteKeepAdjacentSmall(t *testing.T) {
	r := newRand(t, 3)
	var sum float64
	for inst := range 20 {
		n := 5 + inst%4
		p := RouteProblem{Depot: portland, Stops: clusteredStops(r, portland, n, 10000), ReturnToDepot: inst%2 == 0}
		// A pair and, every other instance, a chain of three.
		p.KeepAdjacent = [][2]int{{0, n - 1}}
		if inst%2 == 1 {
			p.KeepAdjacent = append(p.KeepAdjacent, [2]int{1, 2}, [2]int{3, 2})
		}
		m := crowMatrixOf(t, p)
		if inst%3 == 2 {
			m = skewed(t, r, m)
		}
		got, err := OptimizeRoute(p, m)
		if err != nil {
			t.Fatal(err)
		}
		checkRoute(t, "pairs", p, m, got)
		opt := bruteForce(p, m)
		gap := got.Metres/opt - 1
		sum += gap
		if gap > 0.05 || gap < -1e-9 {
			t.Errorf("instance %d: gap %.2f%% to the constrained optimum", inst, 100*gap)
		}
	}
	t.Logf("KeepAdjacent, 5-8 stops: average gap %.3f%%", 100*sum/20)
}

// TestRouteInvariants runs larger instances: permutations, lengths,
// improvement, pairs, determinism.
func TestRouteInvariants(t *testing.T) {
	r := newRand(t, 4)
	sizes := []int{50, 120, 300, 77}
	if testing.Short() || raceEnabled {
		sizes = sizes[:2]
	}
	for inst, n := range sizes {
		var stops []Point
		if inst%2 == 0 {
			stops = uniformStops(r, portland, n, 30000)
		} else {
			stops = clusteredStops(r, portland, n, 30000)
		}
		p := RouteProblem{Depot: portland, Stops: stops, ReturnToDepot: inst != 1}
		p.ServiceMin = make([]float64, n)
		for i := range p.ServiceMin {
			p.ServiceMin[i] = float64(15 + r.IntN(45))
		}
		// Pairs of distinct stops, a chain of four, duplicated points.
		perm := r.Perm(n)
		for q := 0; q+1 < 10; q += 2 {
			p.KeepAdjacent = append(p.KeepAdjacent, [2]int{perm[q], perm[q+1]})
		}
		p.KeepAdjacent = append(p.KeepAdjacent, [2]int{perm[10], perm[11]}, [2]int{perm[12], perm[11]}, [2]int{perm[12], perm[13]})
		p.Stops[perm[20]] = p.Stops[perm[21]]
		m := crowMatrixOf(t, p)
		if inst == 3 {
			m = skewed(t, r, m)
		}
		got, err := OptimizeRoute(p, m)
		if err != nil {
			t.Fatal(err)
		}
		checkRoute(t, "optimize", p, m, got)
		if n <= 120 { // (the slowest check under -race)
			again, _ := OptimizeRoute(p, m)
			if !slices.Equal(got.Order, again.Order) {
				t.Errorf("%d stops: two runs gave different orders", n)
			}
		}
		if got.Metres >= got.ImprovedFromMetres && n > 20 {
			t.Errorf("%d stops: the local search found nothing (%v m)", n, got.Metres)
		}
		// Improving the result again must not lengthen it.
		imp, err := ImproveRoute(p, m, got.Order)
		if err != nil {
			t.Fatal(err)
		}
		checkRoute(t, "improve optimized", p, m, imp)
		if imp.ImprovedFromMetres != got.Metres {
			t.Errorf("ImprovedFromMetres %v, want %v", imp.ImprovedFromMetres, got.Metres)
		}
		// From a random order that keeps the pairs: much shorter.
		start := orderKeeping(r, p)
		imp, err = ImproveRoute(p, m, start)
		if err != nil {
			t.Fatal(err)
		}
		checkRoute(t, "improve random", p, m, imp)
		if l, _ := RouteLength(p, m, start); imp.ImprovedFromMetres != l || imp.Metres > 0.7*l {
			t.Errorf("%d stops: improved a random %v m route only to %v m (from %v)", n, l, imp.Metres, imp.ImprovedFromMetres)
		}
		if imp.Metres > 1.05*got.Metres {
			t.Errorf("%d stops: improving a random order gave %v m, optimizing %v m", n, imp.Metres, got.Metres)
		}
		t.Logf("%d stops: construction %.0f m, optimized %.0f m (%.1f%% less); from random %.0f m", n, got.ImprovedFromMetres, got.Metres, 100*(1-got.Metres/got.ImprovedFromMetres), imp.Metres)
	}
}

// orderKeeping is a random order of p's stops with every KeepAdjacent chain
// contiguous.
func orderKeeping(r *rand.Rand, p RouteProblem) []int {
	s, err := newSolver(p, &DenseMatrix{n: len(p.Stops) + 1, metres: make([]float64, (len(p.Stops)+1)*(len(p.Stops)+1))})
	if err != nil {
		panic(err)
	}
	blocks := s.blocks
	r.Shuffle(len(blocks), func(i, j int) { blocks[i], blocks[j] = blocks[j], blocks[i] })
	var order []int
	for _, b := range blocks {
		for _, x := range b {
			order = append(order, int(x)-1)
		}
	}
	return order
}

func TestRouteEdgeCases(t *testing.T) {
	r := newRand(t, 5)
	for _, ret := range []bool{true, false} {
		// No stops.
		p := RouteProblem{Depot: portland, ReturnToDepot: ret}
		m := crowMatrixOf(t, p)
		got, err := OptimizeRoute(p, m)
		if err != nil || got.Order == nil || len(got.Order) != 0 || got.Metres != 0 || got.Minutes != 0 {
			t.Errorf("no stops: %+v, %v", got, err)
		}
		if got, err := ImproveRoute(p, m, nil); err != nil || len(got.Order) != 0 {
			t.Errorf("improve no stops: %+v, %v", got, err)
		}
		// One stop.
		p.Stops = []Point{destination(portland, 45, 2000)}
		p.ServiceMin = []float64{30}
		m = crowMatrixOf(t, p)
		got, err = OptimizeRoute(p, m)
		if err != nil || !slices.Equal(got.Order, []int{0}) {
			t.Fatalf("one stop: %+v, %v", got, err)
		}
		want := 2000 * 1.3
		if ret {
			want *= 2
		}
		if math.Abs(got.Metres-want) > 1e-6 || math.Abs(got.Minutes-(30+want/500)) > 1e-6 {
			t.Errorf("one stop, return %v: %v m %v min, want %v m %v min", ret, got.Metres, got.Minutes, want, 30+want/500)
		}
		// Two stops: the open route visits the nearer one first.
		p.Stops = []Point{destination(portland, 0, 5000), destination(portland, 0, 1000)}
		p.ServiceMin = nil
		m = crowMatrixOf(t, p)
		got, err = OptimizeRoute(p, m)
		checkRoute(t, "two stops", p, m, got)
		if err != nil || (!ret && !slices.Equal(got.Order, []int{1, 0})) {
			t.Errorf("two stops, return %v: %+v, %v", ret, got, err)
		}
		if want := 10000 * 1.3; ret && math.Abs(got.Metres-want) > 1e-6 {
			t.Errorf("two stops there and back: %v m, want %v", got.Metres, want)
		}
		// Two stops kept adjacent (trivially), and as a reversed block.
		p.KeepAdjacent = [][2]int{{0, 1}}
		got, err = OptimizeRoute(p, m)
		checkRoute(t, "two stops paired", p, m, got)
		if err != nil || (!ret && !slices.Equal(got.Order, []int{1, 0})) {
			t.Errorf("two paired stops, return %v: %+v, %v", ret, got, err)
		}
		p.KeepAdjacent = nil
		// Every stop at the same point, and at the depot.
		p.Stops = make([]Point, 9)
		for i := range p.Stops {
			p.Stops[i] = portland
		}
		m = crowMatrixOf(t, p)
		got, err = OptimizeRoute(p, m)
		checkRoute(t, "duplicates", p, m, got)
		if err != nil || got.Metres != 0 {
			t.Errorf("all at the depot: %+v, %v", got, err)
		}
		// Duplicates among distinct points: the optimum still.
		p.Stops = uniformStops(r, portland, 6, 5000)
		p.Stops = append(p.Stops, p.Stops[0], p.Stops[3], p.Stops[3])
		m = crowMatrixOf(t, p)
		got, err = OptimizeRoute(p, m)
		checkRoute(t, "some duplicates", p, m, got)
		if opt := heldKarp(p, m); err != nil || got.Metres > opt*1.0000001 {
			t.Errorf("duplicates: %v m, optimum %v m (%v)", got.Metres, opt, err)
		}
		// All stops in one chain: only its direction is free.
		p.Stops = uniformStops(r, portland, 6, 5000)
		p.KeepAdjacent = [][2]int{{2, 0}, {0, 5}, {5, 1}, {1, 4}, {4, 3}}
		m = crowMatrixOf(t, p)
		got, err = OptimizeRoute(p, m)
		checkRoute(t, "one chain", p, m, got)
		if err != nil || got.Metres > bruteForce(p, m)*1.0000001 {
			t.Errorf("one chain: %+v, %v", got, err)
		}
		p.KeepAdjacent = nil
	}
}

func TestRouteErrors(t *testing.T) {
	r := newRand(t, 6)
	p := RouteProblem{Depot: portland, Stops: uniformStops(r, portland, 5, 5000), ReturnToDepot: true}
	m := crowMatrixOf(t, p)
	small, _ := Crow{}.Matrix(p.Stops) // forgot the depot
	if _, err := OptimizeRoute(p, small); err == nil {
		t.Error("matrix without the depot: no error")
	}
	if _, err := ImproveRoute(p, small, []int{0, 1, 2, 3, 4}); err == nil {
		t.Error("improve, matrix without the depot: no error")
	}
	if _, err := OptimizeRoute(p, nil); err == nil {
		t.Error("nil matrix: no error")
	}
	bad := []struct {
		name string
		mod  func(*RouteProblem)
		msg  string
	}{
		{"service length", func(q *RouteProblem) { q.ServiceMin = []float64{1, 2} }, "service times"},
		{"service negative", func(q *RouteProblem) { q.ServiceMin = []float64{1, 2, -3, 4, 5} }, "service time"},
		{"service NaN", func(q *RouteProblem) { q.ServiceMin = []float64{1, 2, math.NaN(), 4, 5} }, "service time"},
		{"pair out of range", func(q *RouteProblem) { q.KeepAdjacent = [][2]int{{0, 5}} }, "not stop indexes"},
		{"pair with itself", func(q *RouteProblem) { q.KeepAdjacent = [][2]int{{2, 2}} }, "itself"},
		{"branch", func(q *RouteProblem) { q.KeepAdjacent = [][2]int{{0, 1}, {0, 2}, {3, 0}} }, "more than two"},
		{"cycle", func(q *RouteProblem) { q.KeepAdjacent = [][2]int{{0, 1}, {1, 2}, {2, 0}} }, "cycle"},
	}
	for _, b := range bad {
		q := p
		b.mod(&q)
		_, err := OptimizeRoute(q, m)
		if err == nil || !strings.Contains(err.Error(), b.msg) {
			t.Errorf("%s: error %v, want one about %q", b.name, err, b.msg)
		}
	}
	// Repeated pairs, either way round, are fine.
	q := p
	q.KeepAdjacent = [][2]int{{0, 1}, {1, 0}, {0, 1}}
	if got, err := OptimizeRoute(q, m); err != nil {
		t.Errorf("repeated pair: %v", err)
	} else {
		checkRoute(t, "repeated pair", q, m, got)
	}
	// ImproveRoute wants a permutation that keeps the pairs.
	for _, order := range [][]int{{0, 1, 2, 3}, {0, 1, 2, 3, 3}, {0, 1, 2, 3, 5}, {0, 1, 2, 3, -1}} {
		if _, err := ImproveRoute(p, m, order); err == nil {
			t.Errorf("improve %v: no error", order)
		}
	}
	if _, err := ImproveRoute(q, m, []int{0, 2, 1, 3, 4}); err == nil || !strings.Contains(err.Error(), "adjacent") {
		t.Errorf("improve an order that splits a pair: %v", err)
	}
	// A matrix with a bad leg, through the interface.
	if _, err := OptimizeRoute(p, badMatrix{m}); err == nil {
		t.Error("negative leg: no error")
	}
}

// badMatrix has one negative leg.
type badMatrix struct{ Matrix }

func (b badMatrix) Metres(i, j int) float64 {
	if i == 1 && j == 2 {
		return -1
	}
	return b.Matrix.Metres(i, j)
}

// TestOptimizeRouteCustomMatrix runs a Matrix that is neither Crow's nor a
// DenseMatrix (copied through the interface).
func TestOptimizeRouteCustomMatrix(t *testing.T) {
	r := newRand(t, 7)
	p := RouteProblem{Depot: portland, Stops: uniformStops(r, portland, 11, 8000), ReturnToDepot: true}
	m := struct{ Matrix }{crowMatrixOf(t, p)}
	got, err := OptimizeRoute(p, m)
	if err != nil {
		t.Fatal(err)
	}
	checkRoute(t, "custom", p, m, got)
	if opt := heldKarp(p, m); got.Metres > 1.05*opt {
		t.Errorf("custom matrix: %v m, optimum %v", got.Metres, opt)
	}
}

func TestImproveRouteNeverLonger(t *testing.T) {
	r := newRand(t, 8)
	instances := 15
	if raceEnabled {
		instances = 5
	}
	for inst := range instances {
		n := 3 + r.IntN(30)
		p := RouteProblem{Depot: portland, Stops: clusteredStops(r, portland, n, 20000), ReturnToDepot: inst%2 == 0}
		m := crowMatrixOf(t, p)
		if inst%3 == 0 {
			m = skewed(t, r, m)
		}
		// From a random order, and from an already optimized one.
		order := r.Perm(n)
		got, err := ImproveRoute(p, m, order)
		if err != nil {
			t.Fatal(err)
		}
		checkRoute(t, "improve", p, m, got)
		opt, _ := OptimizeRoute(p, m)
		again, _ := ImproveRoute(p, m, opt.Order)
		checkRoute(t, "improve optimized", p, m, again)
		if again.ImprovedFromMetres != opt.Metres {
			t.Errorf("ImprovedFromMetres %v, want %v", again.ImprovedFromMetres, opt.Metres)
		}
	}
}

func TestCheapestInsertion(t *testing.T) {
	r := newRand(t, 9)
	for inst := range 60 {
		n := 1 + r.IntN(25)
		p := RouteProblem{Depot: portland, Stops: clusteredStops(r, portland, n, 20000), ReturnToDepot: inst%2 == 0}
		p.ServiceMin = make([]float64, n)
		for i := range p.ServiceMin {
			p.ServiceMin[i] = float64(r.IntN(60))
		}
		m := crowMatrixOf(t, p)
		if inst%3 == 0 {
			m = skewed(t, r, m)
		}
		perm := r.Perm(n)
		newStop := perm[0]
		order := perm[1 : 1+r.IntN(n)]
		if inst%4 == 1 && len(order) >= 3 {
			// Keep order[0]-order[1] together, and newStop with order[2].
			p.KeepAdjacent = [][2]int{{order[0], order[1]}, {newStop, order[2]}}
		}
		got := CheapestInsertion(p, m, order, newStop)
		// Brute force: every position, by RouteLength.
		baseM, baseMin := RouteLength(p, m, order)
		want := Insertion{Position: -1}
		for pos := 0; pos <= len(order); pos++ {
			cand := slices.Insert(slices.Clone(order), pos, newStop)
			ok := true
			for _, pr := range p.KeepAdjacent {
				if !adjacentIn(cand, pr[0], pr[1]) {
					ok = false
				}
			}
			if !ok {
				continue
			}
			l, mins := RouteLength(p, m, cand)
			if want.Position < 0 || l-baseM < want.AddedMetres-1e-6 {
				want = Insertion{Position: pos, AddedMetres: l - baseM, AddedMinutes: mins - baseMin}
			}
		}
		if want.Position < 0 {
			t.Fatalf("instance %d: no valid position", inst)
		}
		if math.Abs(got.AddedMetres-want.AddedMetres) > 1e-6 || math.Abs(got.AddedMinutes-want.AddedMinutes) > 1e-6 {
			t.Errorf("instance %d: got %+v, brute force %+v", inst, got, want)
		}
		// got's position really costs what it says.
		cand := slices.Insert(slices.Clone(order), got.Position, newStop)
		l, mins := RouteLength(p, m, cand)
		if math.Abs(l-baseM-got.AddedMetres) > 1e-6 || math.Abs(mins-baseMin-got.AddedMinutes) > 1e-6 {
			t.Errorf("instance %d: position %d adds %v m %v min, reported %+v", inst, got.Position, l-baseM, mins-baseMin, got)
		}
	}
	// Empty route: the standalone trip (one way when open), plus service.
	p := RouteProblem{Depot: portland, Stops: []Point{destination(portland, 10, 3000)}, ServiceMin: []float64{20}, ReturnToDepot: true}
	m := crowMatrixOf(t, p)
	got := CheapestInsertion(p, m, nil, 0)
	sm, smin := StandaloneTrip(m, 0)
	if got.Position != 0 || math.Abs(got.AddedMetres-sm) > 1e-9 || math.Abs(got.AddedMinutes-smin-20) > 1e-9 {
		t.Errorf("empty route: %+v, standalone %v m %v min", got, sm, smin)
	}
	if math.Abs(sm-2*3000*1.3) > 1e-6 || math.Abs(smin-2*3000*1.3/500) > 1e-6 {
		t.Errorf("StandaloneTrip = %v m %v min", sm, smin)
	}
	p.ReturnToDepot = false
	if got := CheapestInsertion(p, m, []int{}, 0); math.Abs(got.AddedMetres-sm/2) > 1e-6 {
		t.Errorf("empty open route: %+v", got)
	}
	// Invalid input: Position -1.
	p = RouteProblem{Depot: portland, Stops: uniformStops(r, portland, 4, 5000), ReturnToDepot: true}
	m = crowMatrixOf(t, p)
	for _, c := range []struct {
		order []int
		stop  int
	}{{[]int{0, 1}, 4}, {[]int{0, 1}, -1}, {[]int{0, 1}, 1}, {[]int{0, 0}, 2}, {[]int{0, 7}, 2}} {
		if got := CheapestInsertion(p, m, c.order, c.stop); got.Position != -1 || !math.IsInf(got.AddedMetres, 1) {
			t.Errorf("order %v stop %d: %+v", c.order, c.stop, got)
		}
	}
	small, _ := Crow{}.Matrix(p.Stops)
	if got := CheapestInsertion(p, small, []int{0}, 1); got.Position != -1 {
		t.Errorf("matrix without the depot: %+v", got)
	}
	// Paired with two stops that are not next to each other: nowhere.
	p.KeepAdjacent = [][2]int{{3, 0}, {3, 2}}
	if got := CheapestInsertion(p, m, []int{0, 1, 2}, 3); got.Position != -1 {
		t.Errorf("two partners apart: %+v", got)
	}
	if got := CheapestInsertion(p, m, []int{1, 0, 2}, 3); got.Position != 2 {
		t.Errorf("two partners together: %+v, want position 2", got)
	}
	if sm, smin := StandaloneTrip(m, 4); !math.IsNaN(sm) || !math.IsNaN(smin) {
		t.Errorf("StandaloneTrip out of range: %v %v", sm, smin)
	}
}

// TestOptimizeRouteConcurrent shares one matrix between goroutines.
func TestOptimizeRouteConcurrent(t *testing.T) {
	r := newRand(t, 10)
	p := RouteProblem{Depot: portland, Stops: clusteredStops(r, portland, 30, 20000), ReturnToDepot: true}
	m := crowMatrixOf(t, p)
	want, err := OptimizeRoute(p, m)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan []int)
	for range 4 {
		go func() {
			got, _ := OptimizeRoute(p, m)
			done <- got.Order
		}()
	}
	for range 4 {
		if got := <-done; !slices.Equal(got, want.Order) {
			t.Errorf("concurrent run gave %v, want %v", got, want.Order)
		}
	}
}
