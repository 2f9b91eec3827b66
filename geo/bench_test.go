package geo

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// metroItems is 1,000,000 random points over ~40 km x 40 km around
// Portland, built once for all benchmarks.
var metroItems = sync.OnceValue(func() []Item {
	r := rand.New(rand.NewPCG(1, 2))
	items := make([]Item, 1_000_000)
	for i := range items {
		items[i] = Item{ID: int64(i), Point: metroPoint(r)}
	}
	return items
})

var metroIndex = sync.OnceValue(func() *Index { return NewIndex(metroItems()) })

func metroPoint(r *rand.Rand) Point {
	// 0.36° of latitude ≈ 40 km; 0.51° of longitude ≈ 40 km at 45.5°.
	return Point{Lat: 45.5152 + (r.Float64()-0.5)*0.36, Lon: -122.6784 + (r.Float64()-0.5)*0.51}
}

func metroQueries() []Point {
	r := rand.New(rand.NewPCG(3, 4))
	qs := make([]Point, 1024)
	for i := range qs {
		qs[i] = metroPoint(r)
	}
	return qs
}

func BenchmarkWithin500m(b *testing.B) {
	items, ix, qs := metroItems(), metroIndex(), metroQueries()
	b.Run("index", func(b *testing.B) {
		hits, i := 0, 0
		for b.Loop() {
			hits += len(ix.Within(qs[i%len(qs)], 500))
			i++
		}
		b.ReportMetric(float64(hits)/float64(i), "hits/op")
	})
	b.Run("brute", func(b *testing.B) {
		hits, i := 0, 0
		for b.Loop() {
			hits += len(benchBrute(items, qs[i%len(qs)], 500))
			i++
		}
		b.ReportMetric(float64(hits)/float64(i), "hits/op")
	})
}

func BenchmarkNewIndex1M(b *testing.B) {
	items := metroItems()
	for b.Loop() {
		NewIndex(items)
	}
}

// benchBrute is the plain loop the index replaces: DistanceM to every item,
// then sort.
func benchBrute(items []Item, p Point, radiusM float64) []Hit {
	var hits []Hit
	for _, it := range items {
		if d := DistanceM(p, it.Point); d <= radiusM {
			hits = append(hits, Hit{ID: it.ID, DistanceM: d})
		}
	}
	slices.SortFunc(hits, compareHits)
	return hits
}
