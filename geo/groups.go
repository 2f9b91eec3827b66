package geo

// Groups is a disjoint-set forest over items 0..n-1: Join puts two items
// in one group, Same says whether two are in one group (chains count: a
// joined to b joined to c is one group).
type Groups struct{ parent []int }

// NewGroups starts n items, each in a group of its own.
func NewGroups(n int) *Groups {
	g := &Groups{parent: make([]int, n)}
	for i := range g.parent {
		g.parent[i] = i
	}
	return g
}

// Root is the item that stands for i's group.
func (g *Groups) Root(i int) int {
	for g.parent[i] != i {
		g.parent[i] = g.parent[g.parent[i]]
		i = g.parent[i]
	}
	return i
}

// Join puts a and b in one group.
func (g *Groups) Join(a, b int) { g.parent[g.Root(a)] = g.Root(b) }

// Same reports whether a and b are in one group.
func (g *Groups) Same(a, b int) bool { return g.Root(a) == g.Root(b) }
