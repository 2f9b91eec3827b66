package geo

// The route solver behind OptimizeRoute and ImproveRoute.
//
// Model. Node 0 is the depot, node i+1 is stop i. A route is a cycle
// through all nodes kept in an array t with the depot fixed at t[0]; edge k
// is the leg t[k] → t[(k+1)%n]. An open route (no return to the depot) is
// the same cycle with every leg into the depot costing 0, so one code path
// serves both. Legs are used as given, never assumed symmetric: reversing a
// stretch of the route changes the cost of the legs inside it, which the
// solver takes from prefix sums kept along t when the matrix is not
// symmetric (see rev).
//
// KeepAdjacent. Each pair is a fixed edge. Chains of pairs become blocks:
// the construction inserts a block as a unit (in its better direction), and
// the local search rejects every move that would remove a fixed edge, so
// blocks only ever move or flip as a whole.
//
// Construction: farthest insertion, i.e. cheapest-position insertion with
// the block farthest from the route inserted next. Insertion (rather than
// Clarke-Wright savings) because it is the booking operation itself and
// handles everything here without special cases: the depot, open routes,
// asymmetric legs and KeepAdjacent blocks inserted in either direction.
// Savings builds somewhat shorter first routes on random uniform instances,
// but its merge step needs care for each of those, and the search below
// closes the gap either way (its result depends little on the start).
// Farthest-first fixes the overall shape early (the outer stops) and is
// known to beat nearest- or cheapest-first insertion. O(n²).
//
// Local search: 2-opt (reverse a stretch) and Or-opt (move a stretch of 1–3
// stops, or a whole KeepAdjacent block, elsewhere, possibly flipped), with
// candidate lists of 12 neighbours per node (the nearest, but at most 2 per
// quadrant, so clustered stops still see the next cluster) and a queue of
// "dirty" nodes as don't-look bits: a node is looked at again only when an
// edge at it changed. Per node the best candidate move is applied. Alone
// this ends ~4% (100 stops) to ~7% (1,000) over the Held–Karp lower bound
// on random uniform instances (route_bench_test.go).
//
// Then an iterated local search: a fixed number of kicks (depending only on
// n) that each swap two adjacent stretches of up to 50 stops (a local
// double-bridge, which 2-opt and Or-opt cannot undo), repair with the local
// search from the touched nodes only, and keep the result if it is no
// longer (else restore the changed range). The kicks come from a fixed-seed
// generator, so the result is deterministic. This ends ~0.5% (100 stops)
// and ~1.5% (1,000) over the Held–Karp bound, which itself lies ~0.7% under
// the optimum on such instances; on 8–12 stops it finds the optimum.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

const (
	// neighbourK is the length of each node's candidate list, quadK how
	// many of them may come from each quadrant.
	neighbourK = 12
	quadK      = 2
	// kickMaxSeg is the longest stretch a kick moves.
	kickMaxSeg = 50
)

// kicksFor is the number of iterated-local-search kicks for n nodes: the
// whole time budget, tuned so that 100 stops take a few ms and 1,000 well
// under a second on one core.
func kicksFor(n int) int {
	return 500 + 20*n
}

type solver struct {
	n    int       // nodes: depot + stops
	w    []float64 // w[i*n+j]: metres of leg i → j
	open bool      // legs into the depot cost 0
	sym  bool      // w[i][j] == w[j][i] for all stops i, j
	eps  float64   // a move must gain more than this to count

	links  bool    // any KeepAdjacent pairs
	link   []int32 // link[2i], link[2i+1]: node i's fixed neighbours, or -1
	blocks [][]int32
	// other is, for an end of a block of more than 3 nodes, its other end
	// (else -1): such blocks are moved whole by Or-opt.
	other []int32

	nb  []int32   // nb[i*k : i*k+k]: node i's nearest nodes
	nbd []float64 // their symmetric distances, ascending
	k   int

	tour, pos []int32 // tour[q]: the node at position q; pos[node]: its position
	// rev[q] = Σ_{p<q} (w(tour[p+1], tour[p]) − w(tour[p], tour[p+1])): what reversing
	// the legs between positions costs, when !sym.
	rev    []float64
	length float64 // current tour length by legCost, kept up to date by deltas

	queue  []int32 // ring buffer of dirty nodes
	qHead  int
	qCount int
	inq    []bool

	lo, hi int // positions changed since the last accept/restore
	buf    []int32
}

// newSolver checks p and m and sets up costs, blocks and neighbour lists.
func newSolver(p RouteProblem, m Matrix) (*solver, error) {
	ns := len(p.Stops)
	n := ns + 1
	if m == nil {
		return nil, fmt.Errorf("geo: no matrix")
	}
	if m.Size() != n {
		return nil, fmt.Errorf("geo: the matrix has %d points, the problem needs %d (depot + %d stops)", m.Size(), n, ns)
	}
	if len(p.ServiceMin) != 0 && len(p.ServiceMin) != ns {
		return nil, fmt.Errorf("geo: %d service times for %d stops", len(p.ServiceMin), ns)
	}
	for i, v := range p.ServiceMin {
		if !(v >= 0) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("geo: stop %d: service time %v must be finite and non-negative", i, v)
		}
	}
	s := &solver{n: n, open: !p.ReturnToDepot}
	switch mm := m.(type) {
	case *crowMatrix:
		s.w = mm.metres
	default:
		s.w = make([]float64, n*n)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				v := m.Metres(i, j)
				if !(v >= 0) || math.IsInf(v, 0) {
					return nil, fmt.Errorf("geo: leg %d → %d: %v metres must be finite and non-negative", i, j, v)
				}
				s.w[i*n+j] = v
			}
		}
	}
	if err := s.setLinks(p.KeepAdjacent, ns); err != nil {
		return nil, err
	}
	s.sym = true
	for i := 1; i < n && s.sym; i++ {
		for j := i + 1; j < n; j++ {
			if s.w[i*n+j] != s.w[j*n+i] {
				s.sym = false
				break
			}
		}
	}
	s.tour = make([]int32, n)
	s.pos = make([]int32, n)
	s.inq = make([]bool, n)
	s.queue = make([]int32, n)
	if !s.sym {
		s.rev = make([]float64, n)
	}
	var pts []Point
	if ns > 0 {
		pts = append([]Point{p.Depot}, p.Stops...)
	}
	s.neighbours(pts)
	return s, nil
}

// setLinks turns KeepAdjacent into fixed edges and blocks (chains).
func (s *solver) setLinks(pairs [][2]int, ns int) error {
	n := s.n
	s.link = make([]int32, 2*n)
	for i := range s.link {
		s.link[i] = -1
	}
	s.other = make([]int32, n)
	for i := range s.other {
		s.other[i] = -1
	}
	// Union-find over nodes to refuse cycles.
	parent := make([]int32, n)
	for i := range parent {
		parent[i] = int32(i)
	}
	find := func(x int32) int32 {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	for _, pr := range pairs {
		a, b := pr[0], pr[1]
		if a < 0 || a >= ns || b < 0 || b >= ns {
			return fmt.Errorf("geo: KeepAdjacent pair (%d, %d): not stop indexes (0..%d)", a, b, ns-1)
		}
		if a == b {
			return fmt.Errorf("geo: KeepAdjacent pair (%d, %d): a stop cannot be adjacent to itself", a, b)
		}
		x, y := int32(a+1), int32(b+1)
		if s.isLinked(x, y) {
			continue
		}
		for _, z := range [2]int32{x, y} {
			if s.link[2*z+1] >= 0 {
				return fmt.Errorf("geo: KeepAdjacent: stop %d is in more than two pairs, it cannot be next to all of them", z-1)
			}
		}
		rx, ry := find(x), find(y)
		if rx == ry {
			return fmt.Errorf("geo: KeepAdjacent pairs close a cycle through stops %d and %d, which no order can honour", a, b)
		}
		parent[rx] = ry
		for _, e := range [2][2]int32{{x, y}, {y, x}} {
			if s.link[2*e[0]] < 0 {
				s.link[2*e[0]] = e[1]
			} else {
				s.link[2*e[0]+1] = e[1]
			}
		}
		s.links = true
	}
	// Blocks: walk each chain from an end; singletons are blocks of one.
	seen := make([]bool, n)
	for i := int32(1); i < int32(n); i++ {
		if seen[i] || s.link[2*i+1] >= 0 {
			continue // visited, or the middle of a chain
		}
		b := []int32{i}
		seen[i] = true
		prev, cur := int32(-1), i
		for {
			next := s.link[2*cur]
			if next == prev {
				next = s.link[2*cur+1]
			}
			if next < 0 {
				break
			}
			b = append(b, next)
			seen[next] = true
			prev, cur = cur, next
		}
		if len(b) > 3 {
			s.other[b[0]], s.other[b[len(b)-1]] = b[len(b)-1], b[0]
		}
		s.blocks = append(s.blocks, b)
	}
	return nil
}

func (s *solver) isLinked(a, b int32) bool {
	return s.link[2*a] == b || s.link[2*a+1] == b
}

// fixed reports whether edge k may not be removed.
func (s *solver) fixed(k int) bool {
	if !s.links {
		return false
	}
	k2 := k + 1
	if k2 == s.n {
		k2 = 0
	}
	return s.isLinked(s.tour[k], s.tour[k2])
}

// legCost is what leg i → j costs: its metres, and nothing for a leg back to the depot of an open route.
func (s *solver) legCost(i, j int32) float64 {
	if j == 0 && s.open {
		return 0
	}
	return s.w[int(i)*s.n+int(j)]
}

// symDist is the symmetric distance used to rank neighbours.
func (s *solver) symDist(i, j int32) float64 {
	return 0.5 * (s.w[int(i)*s.n+int(j)] + s.w[int(j)*s.n+int(i)])
}

// neighbours fills the candidate lists: for each node the nearest nodes
// (by symDist, ties by lower index), but with up to quadK of them taken from
// each quadrant around it (north-east, north-west, ...) when coordinates
// are known. Pure nearest lists fail on clustered stops: all of a node's
// nearest lie in its own cluster, so no move ever tries the edges between
// clusters; quadrant neighbours keep a few candidates pointing outwards.
func (s *solver) neighbours(pts []Point) {
	n := s.n
	k := min(neighbourK, n-1)
	s.k = k
	s.nb = make([]int32, n*k)
	s.nbd = make([]float64, n*k)
	if k == 0 {
		return
	}
	type cand struct {
		id int32
		d  float64
	}
	// top keeps the best c candidates of a stream, sorted.
	offer := func(top []cand, c int, x cand) []cand {
		if len(top) == c && x.d >= top[c-1].d {
			return top
		}
		if len(top) < c {
			top = append(top, x)
		} else {
			top[c-1] = x
		}
		for q := len(top) - 1; q > 0 && top[q-1].d > top[q].d; q-- {
			top[q-1], top[q] = top[q], top[q-1]
		}
		return top
	}
	near := make([]cand, 0, k)
	var quad [4][]cand
	for q := range quad {
		quad[q] = make([]cand, 0, quadK)
	}
	taken := make([]bool, n)
	for i := int32(0); i < int32(n); i++ {
		near = near[:0]
		for q := range quad {
			quad[q] = quad[q][:0]
		}
		for j := int32(0); j < int32(n); j++ {
			if j == i {
				continue
			}
			x := cand{j, s.symDist(i, j)}
			near = offer(near, k, x)
			if pts != nil {
				q := 0
				if pts[j].Lat >= pts[i].Lat {
					q |= 2
				}
				if pts[j].Lon >= pts[i].Lon {
					q |= 1
				}
				quad[q] = offer(quad[q], quadK, x)
			}
		}
		list := make([]cand, 0, k)
		for q := range quad {
			for _, x := range quad[q] {
				list = append(list, x)
				taken[x.id] = true
			}
		}
		for _, x := range near {
			if len(list) == k {
				break
			}
			if !taken[x.id] {
				list = append(list, x)
				taken[x.id] = true
			}
		}
		slices.SortFunc(list, func(a, b cand) int {
			switch {
			case a.d < b.d:
				return -1
			case a.d > b.d:
				return 1
			}
			return int(a.id) - int(b.id)
		})
		for q, x := range list {
			s.nb[int(i)*k+q], s.nbd[int(i)*k+q] = x.id, x.d
			taken[x.id] = false
		}
	}
}

// construct builds the first tour by farthest insertion of blocks.
func (s *solver) construct() {
	nb := len(s.blocks)
	next := make([]int32, s.n) // tour as a linked list while building
	inF := make([]float64, nb) // a block's inner cost, forward and reversed
	inR := make([]float64, nb)
	minD := make([]float64, nb) // distance from the tour
	done := make([]bool, nb)
	for b, blk := range s.blocks {
		for q := 0; q+1 < len(blk); q++ {
			inF[b] += s.legCost(blk[q], blk[q+1])
			inR[b] += s.legCost(blk[q+1], blk[q])
		}
		minD[b] = math.Inf(1)
		for _, x := range blk {
			minD[b] = math.Min(minD[b], s.symDist(0, x))
		}
	}
	for range nb {
		far := -1
		for b := range nb {
			if !done[b] && (far < 0 || minD[b] > minD[far]) {
				far = b
			}
		}
		blk := s.blocks[far]
		h, tl := blk[0], blk[len(blk)-1]
		bestU, bestRev, bestCost := int32(0), false, math.Inf(1)
		u := int32(0)
		for {
			v := next[u]
			if s.links && s.isLinked(u, v) {
				u = v // inside a block
				continue
			}
			base := 0.0
			if u != v { // the depot alone is an empty tour, not a leg
				base = s.legCost(u, v)
			}
			if f := s.legCost(u, h) + inF[far] + s.legCost(tl, v) - base; f < bestCost {
				bestU, bestRev, bestCost = u, false, f
			}
			if len(blk) > 1 {
				if r := s.legCost(u, tl) + inR[far] + s.legCost(h, v) - base; r < bestCost {
					bestU, bestRev, bestCost = u, true, r
				}
			}
			u = v
			if u == 0 {
				break
			}
		}
		after := next[bestU]
		prev := bestU
		for q := range blk {
			x := blk[q]
			if bestRev {
				x = blk[len(blk)-1-q]
			}
			next[prev] = x
			prev = x
		}
		next[prev] = after
		done[far] = true
		for b := range nb {
			if done[b] {
				continue
			}
			for _, y := range s.blocks[b] {
				for _, x := range blk {
					if d := s.symDist(x, y); d < minD[b] {
						minD[b] = d
					}
				}
			}
		}
	}
	u := int32(0)
	for q := range s.n {
		s.tour[q] = u
		u = next[u]
	}
	s.reset()
}

// order returns the tour as stop indexes.
func (s *solver) order() []int {
	out := make([]int, s.n-1)
	for q := 1; q < s.n; q++ {
		out[q-1] = int(s.tour[q]) - 1
	}
	return out
}

// reset recomputes positions, rev, the length and eps from t.
func (s *solver) reset() {
	s.length = 0
	for q := range s.n {
		s.pos[s.tour[q]] = int32(q)
		s.length += s.legCost(s.tour[q], s.tour[(q+1)%s.n])
	}
	s.fixRev(0)
	// Moves must gain more than rounding can produce: deltas sum a few
	// legs, rev sums up to n of them.
	s.eps = 1e-7 + 1e-11*s.length
	s.lo, s.hi = s.n, -1
}

// fixRev recomputes rev from position from on.
func (s *solver) fixRev(from int) {
	if s.sym {
		return
	}
	if from < 1 {
		from = 1
		s.rev[0] = 0
	}
	for q := from; q < s.n; q++ {
		a, b := s.tour[q-1], s.tour[q]
		s.rev[q] = s.rev[q-1] + s.w[int(b)*s.n+int(a)] - s.w[int(a)*s.n+int(b)]
	}
}

// inner is the change in the cost of the legs inside positions [i, j]
// when that stretch is reversed.
func (s *solver) inner(i, j int) float64 {
	if s.sym {
		return 0
	}
	return s.rev[j] - s.rev[i]
}

func (s *solver) push(x int32) {
	if s.inq[x] {
		return
	}
	s.inq[x] = true
	s.queue[(s.qHead+s.qCount)%s.n] = x
	s.qCount++
}

func (s *solver) pop() int32 {
	x := s.queue[s.qHead]
	s.qHead = (s.qHead + 1) % s.n
	s.qCount--
	s.inq[x] = false
	return x
}

func (s *solver) dirty(i, j int) {
	s.lo = min(s.lo, i)
	s.hi = max(s.hi, j)
	for q := i; q <= j; q++ {
		s.pos[s.tour[q]] = int32(q)
	}
	s.fixRev(i)
}

// A move: kind 1 is 2-opt reversing positions [i+1, j] (removing edges i
// and j); kind 2 is Or-opt moving positions [i, j] into edge e, reversed
// when flip.
type move struct {
	kind  int8
	flip  bool
	i, j  int
	e     int
	delta float64
}

func (s *solver) twoOptDelta(k1, k2 int) float64 {
	a, b := s.tour[k1], s.tour[k1+1]
	c, d := s.tour[k2], s.tour[(k2+1)%s.n]
	return s.legCost(a, c) + s.legCost(b, d) - s.legCost(a, b) - s.legCost(c, d) + s.inner(k1+1, k2)
}

// tryTwoOpt considers removing edges ka and kc (in either order).
func (s *solver) tryTwoOpt(best *move, ka, kc int) {
	k1, k2 := min(ka, kc), max(ka, kc)
	if k2-k1 < 2 || s.fixed(k1) || s.fixed(k2) {
		return
	}
	if d := s.twoOptDelta(k1, k2); d < best.delta {
		*best = move{kind: 1, i: k1, j: k2, delta: d}
	}
}

// trySegment considers moving positions [i, j] next to the neighbours of
// its ends.
func (s *solver) trySegment(best *move, i, j int) {
	n := s.n
	if i < 1 || j >= n || s.fixed(i-1) || s.fixed(j) {
		return
	}
	prev, next := s.tour[i-1], s.tour[(j+1)%n]
	s1, s2 := s.tour[i], s.tour[j]
	if i == 1 && j == n-1 {
		return // every stop: nowhere else to go
	}
	gain := s.legCost(prev, s1) + s.legCost(s2, next) - s.legCost(prev, next)
	bound := gain // neighbours this far or farther cannot pay, roughly
	if !s.sym {
		bound = math.Inf(1) // no such rule with one-way legs
	}
	flipInner := s.inner(i, j)
	// For each neighbour y of an end x, the two placements that make x and
	// y adjacent: y → x with the stretch after y, or x → y before it (the
	// stretch flipped as needed). Placements that put the other end next
	// to y are tried from that end's list.
	for e := 0; e < 2; e++ {
		x := s1
		if e == 1 {
			if i == j {
				break
			}
			x = s2
		}
		base := int(x) * s.k
		for q := 0; q < s.k; q++ {
			if s.nbd[base+q] >= bound {
				break
			}
			y := s.nb[base+q]
			py := int(s.pos[y])
			if py >= i && py <= j {
				continue
			}
			for side := 0; side < 2; side++ {
				ke := py // after y: edge y → succ(y)
				if side == 1 {
					ke = (py + n - 1) % n // before y: edge pred(y) → y
				}
				if (ke >= i-1 && ke <= j) || s.fixed(ke) {
					continue
				}
				p, r := s.tour[ke], s.tour[(ke+1)%n]
				// Forward puts s1 after p and s2 before r; flipped the
				// other way. x next to y: (x == s1) == (side == 0) is
				// forward.
				flip := (x == s1) != (side == 0)
				if i == j {
					flip = false
				}
				d := s.legCost(p, s1) + s.legCost(s2, r)
				if flip {
					d = s.legCost(p, s2) + s.legCost(s1, r) + flipInner
				}
				if d -= gain + s.legCost(p, r); d < best.delta {
					*best = move{kind: 2, flip: flip, i: i, j: j, e: ke, delta: d}
				}
			}
		}
	}
}

// improveNode applies the best improving move around node a, if any.
func (s *solver) improveNode(a int32) bool {
	n := s.n
	best := move{delta: -s.eps}
	pa := int(s.pos[a])
	base := int(a) * s.k
	// 2-opt: a new edge between a and a neighbour c, replacing a's edge to
	// its successor (or predecessor) and c's edge to its own.
	succ := (pa + 1) % n
	dSucc := s.symDist(a, s.tour[succ])
	predK := (pa + n - 1) % n
	dPred := s.symDist(a, s.tour[predK])
	// With symmetric legs a gain needs the new edge shorter than the one it
	// replaces at a; otherwise (asymmetric, or open so that legs into the
	// depot are free) every candidate is tried.
	if !s.sym || s.open {
		dSucc, dPred = math.Inf(1), math.Inf(1)
	}
	for q := 0; q < s.k; q++ {
		d := s.nbd[base+q]
		if d >= dSucc && d >= dPred {
			break
		}
		pc := int(s.pos[s.nb[base+q]])
		if d < dSucc {
			s.tryTwoOpt(&best, pa, pc)
		}
		if d < dPred {
			s.tryTwoOpt(&best, predK, (pc+n-1)%n)
		}
	}
	// Or-opt: stretches of 1-3 nodes starting or ending at a, and a's
	// whole block when it is longer than 3.
	if pa > 0 {
		for l := 1; l <= 3; l++ {
			s.trySegment(&best, pa, pa+l-1)
			if l > 1 {
				s.trySegment(&best, pa-l+1, pa)
			}
		}
		if o := s.other[a]; o >= 0 {
			po := int(s.pos[o])
			s.trySegment(&best, min(pa, po), max(pa, po))
		}
	}
	switch best.kind {
	case 1:
		s.applyTwoOpt(best.i, best.j)
	case 2:
		s.applyOrOpt(best.i, best.j, best.e, best.flip)
	default:
		return false
	}
	s.length += best.delta
	s.push(a)
	return true
}

func (s *solver) applyTwoOpt(k1, k2 int) {
	n := s.n
	for _, x := range [4]int32{s.tour[k1], s.tour[k1+1], s.tour[k2], s.tour[(k2+1)%n]} {
		s.push(x)
	}
	slices.Reverse(s.tour[k1+1 : k2+1])
	s.dirty(k1+1, k2)
}

func (s *solver) applyOrOpt(i, j, e int, flip bool) {
	n := s.n
	for _, x := range [6]int32{s.tour[i-1], s.tour[(j+1)%n], s.tour[i], s.tour[j], s.tour[e], s.tour[(e+1)%n]} {
		s.push(x)
	}
	l := j - i + 1
	seg := append(s.buf[:0], s.tour[i:j+1]...)
	if flip {
		slices.Reverse(seg)
	}
	if e > j {
		copy(s.tour[i:], s.tour[j+1:e+1])
		copy(s.tour[e-l+1:e+1], seg)
		s.dirty(i, e)
	} else {
		copy(s.tour[e+1+l:j+1], s.tour[e+1:i])
		copy(s.tour[e+1:e+1+l], seg)
		s.dirty(e+1, j)
	}
	s.buf = seg
}

// localSearch applies improving moves until no dirty node has one.
func (s *solver) localSearch() {
	budget := 200*s.n + 10000 // a guard only: eps already stops cycling
	for s.qCount > 0 && budget > 0 {
		if s.improveNode(s.pop()) {
			budget--
		}
	}
	for s.qCount > 0 {
		s.pop()
	}
}

// search runs the local search on the loaded tour, then the kicks.
func (s *solver) search() {
	for q := range s.n {
		s.push(s.tour[q])
	}
	s.localSearch()
	stops := s.n - 1
	if stops < 2 {
		return
	}
	best := slices.Clone(s.tour)
	bestLen := s.length
	s.lo, s.hi = s.n, -1
	rng := rand.New(rand.NewPCG(0x726f7574, uint64(s.n)))
	maxSeg := min(kickMaxSeg, stops-1)
	for range kicksFor(s.n) {
		// Swap the stretches [e1+1, e2] and [e2+1, e3].
		l1 := 1 + rng.IntN(maxSeg)
		l2 := 1 + rng.IntN(min(maxSeg, stops-l1))
		e1 := rng.IntN(stops - l1 - l2 + 1)
		e2, e3 := e1+l1, e1+l1+l2
		if s.fixed(e1) || s.fixed(e2) || s.fixed(e3) {
			continue
		}
		s.kick(e1, e2, e3)
		s.localSearch()
		// Keep ties too: moving sideways across equal routes helps the
		// next kicks; the length never grows.
		if s.length <= bestLen {
			copy(best[s.lo:s.hi+1], s.tour[s.lo:s.hi+1])
			bestLen = s.length
		} else {
			copy(s.tour[s.lo:s.hi+1], best[s.lo:s.hi+1])
			s.dirty(s.lo, s.hi)
			s.length = bestLen
		}
		s.lo, s.hi = s.n, -1
	}
}

// kick swaps the stretches [e1+1, e2] and [e2+1, e3] (a double-bridge
// with the depot side fixed). No stretch is reversed, so the inner legs
// keep their cost even when asymmetric.
func (s *solver) kick(e1, e2, e3 int) {
	n := s.n
	t := s.tour
	a, b1 := t[e1], t[e1+1]
	b2, c1 := t[e2], t[e2+1]
	c2, d := t[e3], t[(e3+1)%n]
	s.length += s.legCost(a, c1) + s.legCost(c2, b1) + s.legCost(b2, d) - s.legCost(a, b1) - s.legCost(b2, c1) - s.legCost(c2, d)
	for _, x := range [6]int32{a, b1, b2, c1, c2, d} {
		s.push(x)
	}
	seg := append(s.buf[:0], t[e1+1:e2+1]...)
	copy(t[e1+1:], t[e2+1:e3+1])
	copy(t[e1+1+e3-e2:e3+1], seg)
	s.buf = seg
	s.dirty(e1+1, e3)
}
