package geo

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

func TestIndexEdgeCases(t *testing.T) {
	portland := Point{45.5152, -122.6784}
	var items []Item
	add := func(id int64, p Point) { items = append(items, Item{ID: id, Point: p}) }
	add(5, portland)
	add(3, portland) // same point, smaller ID
	add(3, portland) // same ID again
	add(7, destination(portland, 90, 300))
	add(8, destination(portland, 0, 499.9))
	add(9, destination(portland, 180, 500.1))
	add(20, Point{0, 179.999})
	add(21, Point{0, -179.999})
	add(22, Point{0, 180})
	add(23, Point{0, -180})
	for i, lon := range []float64{-180, -135, -90, -45, 0, 45, 90, 135, 180} {
		add(int64(30+i), Point{89.999, lon})
		add(int64(50+i), Point{-89.999, lon})
		add(int64(70+i), Point{89.99, lon}) // 1.1 km from the pole
	}
	add(40, Point{90, 0})
	add(60, Point{-90, 77})
	// Items with bad coordinates are left out.
	add(100, Point{math.NaN(), 0})
	add(101, Point{91, 0})
	add(102, Point{0, 180.5})

	ix := NewIndex(items)
	if got, want := ix.Len(), len(items)-3; got != want {
		t.Fatalf("Len = %d, want %d (bad items left out)", got, want)
	}
	ids := func(h []Hit) []int64 {
		out := make([]int64, len(h))
		for i := range h {
			out[i] = h[i].ID
		}
		return out
	}
	tests := []struct {
		name     string
		p        Point
		radius   float64
		wantIDs  []int64 // nil: only compare with brute force
		anyOrder bool    // wantIDs is a set: the distances differ only by rounding
	}{
		{"identical points at radius 0, ties by ID", portland, 0, []int64{3, 3, 5}, false},
		{"radius 0 away from any item", destination(portland, 45, 1), 0, []int64{}, false},
		{"negative radius", portland, -1, []int64{}, false},
		{"500 m keeps 499.9 m, drops 500.1 m", portland, 500, []int64{3, 3, 5, 7, 8}, false},
		{"antimeridian east side", Point{0, 179.999}, 300, []int64{20, 21, 22, 23}, true},
		{"antimeridian west side", Point{0, -179.999}, 300, []int64{20, 21, 22, 23}, true},
		{"on the antimeridian", Point{0, 180}, 150, nil, false},
		{"north pole neighbourhood across all longitudes", Point{89.999, 0}, 250, nil, false},
		{"south pole", Point{-90, 0}, 112, []int64{50, 51, 52, 53, 54, 55, 56, 57, 58, 60}, true},
		{"20,000 km finds everything but the antipodal cap", Point{0, 0}, 20_000_000, nil, false},
		{"21,000 km finds everything", Point{12, 34}, 21_000_000, nil, false},
		{"infinite radius finds everything", Point{-33, 151}, math.Inf(1), nil, false},
		{"NaN point finds nothing", Point{math.NaN(), 0}, 1000, []int64{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ix.Within(tt.p, tt.radius)
			if !sameHits(t, "Within", got, bruteWithin(items, tt.p, tt.radius)) {
				return
			}
			if tt.wantIDs != nil {
				g := ids(got)
				if tt.anyOrder {
					slices.Sort(g)
				}
				if len(g) != len(tt.wantIDs) {
					t.Fatalf("ids %v, want %v", g, tt.wantIDs)
				}
				for i := range g {
					if g[i] != tt.wantIDs[i] {
						t.Fatalf("ids %v, want %v", g, tt.wantIDs)
					}
				}
			}
		})
	}

	// Specific facts the table relies on.
	if h := ix.Within(Point{0, 179.999}, 300); len(h) != 4 || math.Abs(h[3].DistanceM-222.64) > 0.01 {
		t.Errorf("across the antimeridian: %v, want the -179.999 item at ~222.64 m", h)
	}
	if h := ix.Within(Point{89.999, 0}, 250); len(h) != 10 {
		t.Errorf("near the north pole: %d hits, want the 9 items at 89.999 and the pole: %v", len(h), h)
	}
	if n := len(ix.Within(Point{12, 34}, 21_000_000)); n != ix.Len() {
		t.Errorf("21,000 km found %d of %d", n, ix.Len())
	}
	if n := len(ix.Within(portland, 20_000_000)); n != ix.Len() {
		t.Errorf("20,000 km from Portland found %d of %d", n, ix.Len())
	}
}

func TestIndexEmpty(t *testing.T) {
	for _, ix := range []*Index{NewIndex(nil), NewIndex([]Item{{ID: 1, Point: Point{math.NaN(), 0}}})} {
		if ix.Len() != 0 || len(ix.Within(Point{}, 1e7)) != 0 {
			t.Errorf("empty index found something")
		}
	}
}

// dataset is a named set of items plus a way to pick query points.
type dataset struct {
	name   string
	items  []Item
	centre func(r *rand.Rand) Point
}

func testDatasets(t *testing.T) []dataset {
	r := newRand(t, 7)
	portland := Point{45.5152, -122.6784}
	var sets []dataset

	// Uniform over a 40 km x 40 km metro area.
	metro := make([]Item, 4000)
	for i := range metro {
		metro[i] = Item{ID: int64(i), Point: Point{portland.Lat + (r.Float64()-0.5)*0.36, portland.Lon + (r.Float64()-0.5)*0.51}}
	}
	sets = append(sets, dataset{"metro", metro, func(r *rand.Rand) Point {
		return Point{portland.Lat + (r.Float64()-0.5)*0.4, portland.Lon + (r.Float64()-0.5)*0.6}
	}})

	// Dense clusters with duplicate points and duplicate IDs.
	var clustered []Item
	var centres []Point
	for c := 0; c < 15; c++ {
		centre := randomNear(r, portland, 20_000)
		centres = append(centres, centre)
		for j := 0; j < 200; j++ {
			p := randomNear(r, centre, 60)
			id := int64(len(clustered))
			clustered = append(clustered, Item{ID: id, Point: p})
			if j%10 == 0 { // the same point again, a new ID
				clustered = append(clustered, Item{ID: int64(len(clustered)), Point: p})
			}
			if j%25 == 0 { // the same point and ID again
				clustered = append(clustered, Item{ID: id, Point: p})
			}
		}
	}
	sets = append(sets, dataset{"clusters", clustered, func(r *rand.Rand) Point {
		if r.IntN(2) == 0 {
			return clustered[r.IntN(len(clustered))].Point
		}
		return randomNear(r, centres[r.IntN(len(centres))], 200)
	}})

	// The world, with extra points on the antimeridian and around the poles.
	var world []Item
	for i := 0; i < 3000; i++ {
		var p Point
		switch i % 3 {
		case 0:
			p = randomWorld(r)
		case 1:
			p = Point{r.Float64()*170 - 85, 180 - r.Float64()*0.02}
			if r.IntN(2) == 0 {
				p.Lon = -p.Lon
			}
		case 2:
			p = Point{90 - r.Float64()*0.05, r.Float64()*360 - 180}
			if r.IntN(2) == 0 {
				p.Lat = -p.Lat
			}
		}
		world = append(world, Item{ID: int64(i), Point: p})
	}
	sets = append(sets, dataset{"world", world, func(r *rand.Rand) Point {
		if r.IntN(4) == 0 {
			return randomWorld(r)
		}
		return randomNear(r, world[r.IntN(len(world))].Point, 3000)
	}})
	return sets
}

// Within and Each agree exactly with brute force.
func TestIndexMatchesBruteForce(t *testing.T) {
	radii := []float64{0, 1, 30, 100, 500, 2000, 10_000, 100_000, 3_000_000}
	for _, ds := range testDatasets(t) {
		t.Run(ds.name, func(t *testing.T) {
			r := newRand(t, 11)
			ix := NewIndex(ds.items)
			if ix.Len() != len(ds.items) {
				t.Fatalf("Len = %d, want %d", ix.Len(), len(ds.items))
			}
			found := 0
			for q := 0; q < 250; q++ {
				p := ds.centre(r)
				radius := radii[r.IntN(len(radii))]
				want := bruteWithin(ds.items, p, radius)
				found += len(want)
				if !sameHits(t, "Within", ix.Within(p, radius), want) {
					t.Fatalf("query %v radius %v", p, radius)
				}
				var each []Hit
				ix.Each(p, radius, func(h Hit) { each = append(each, h) })
				slices.SortFunc(each, compareHits)
				if !sameHits(t, "Each", each, want) {
					t.Fatalf("Each: query %v radius %v", p, radius)
				}
			}
			if found == 0 {
				t.Fatalf("no query found anything; the test is not testing")
			}
		})
	}
}

// Concurrent readers see the same answers (run with -race).
func TestIndexConcurrentReaders(t *testing.T) {
	ds := testDatasets(t)[0]
	ix := NewIndex(ds.items)
	r := newRand(t, 3)
	type query struct {
		p      Point
		within []Hit
	}
	qs := make([]query, 50)
	for i := range qs {
		p := ds.centre(r)
		qs[i] = query{p, ix.Within(p, 800)}
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rep := 0; rep < 3; rep++ {
				for _, q := range qs {
					sameHits(t, "Within", ix.Within(q.p, 800), q.within)
				}
			}
		}()
	}
	wg.Wait()
}

// Len is the number of indexed items.
func (ix *Index) Len() int { return len(ix.id) }

// compareHits orders hits nearest first, ties by ID. Hit distances are
// never NaN (NaN <= radius is false), so plain comparisons suffice.
func compareHits(a, b Hit) int {
	switch {
	case a.DistanceM < b.DistanceM:
		return -1
	case a.DistanceM > b.DistanceM:
		return 1
	case a.ID < b.ID:
		return -1
	case a.ID > b.ID:
		return 1
	}
	return 0
}

// Within (for the tests) is Each's hits nearest first, ties by ID (nil
// when there are none).
func (ix *Index) Within(p Point, radiusM float64) []Hit {
	var hits []Hit
	ix.Each(p, radiusM, func(h Hit) { hits = append(hits, h) })
	slices.SortFunc(hits, compareHits)
	return hits
}
