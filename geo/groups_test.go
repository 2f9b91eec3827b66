package geo

import "testing"

func TestGroupsJoinChains(t *testing.T) {
	g := NewGroups(6)
	g.Join(0, 1)
	g.Join(2, 1)
	g.Join(4, 5)
	for _, c := range []struct {
		a, b int
		same bool
	}{{0, 2, true}, {1, 2, true}, {0, 3, false}, {4, 5, true}, {3, 4, false}, {3, 3, true}} {
		if got := g.Same(c.a, c.b); got != c.same {
			t.Errorf("Same(%d, %d) = %v, want %v", c.a, c.b, got, c.same)
		}
	}
}
