package geo

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/paulmach/orb"
	orbgeo "github.com/paulmach/orb/geo"
)

func newRand(t testing.TB, seed uint64) *rand.Rand {
	t.Helper()
	return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
}

// destination is the point distM metres from p at bearingDeg, with the
// longitude wrapped into [-180, 180] and the latitude clamped to [-90, 90].
func destination(p Point, bearingDeg, distM float64) Point {
	q := orbgeo.PointAtBearingAndDistance(orb.Point{p.Lon, p.Lat}, bearingDeg, distM)
	return Point{Lat: math.Max(-90, math.Min(90, q[1])), Lon: wrapLon(q[0])}
}

// randomNear is a random point at most maxM from p (by construction; the
// caller checks DistanceM when it matters). Half of the points are close to
// the edge of the circle.
func randomNear(r *rand.Rand, p Point, maxM float64) Point {
	d := maxM * math.Sqrt(r.Float64())
	if r.IntN(2) == 0 {
		d = maxM * (1 - r.Float64()*1e-3)
	}
	return destination(p, r.Float64()*360, d)
}

// randomWorld is a uniformly random point on the sphere.
func randomWorld(r *rand.Rand) Point {
	return Point{Lat: math.Asin(2*r.Float64()-1) * 180 / math.Pi, Lon: r.Float64()*360 - 180}
}

func bruteWithin(items []Item, p Point, radiusM float64) []Hit {
	var hits []Hit
	for _, it := range items {
		if CheckLat(it.Point.Lat) != nil || CheckLon(it.Point.Lon) != nil {
			continue
		}
		if d := DistanceM(p, it.Point); d <= radiusM {
			hits = append(hits, Hit{ID: it.ID, DistanceM: d})
		}
	}
	slices.SortFunc(hits, compareHits)
	return hits
}

func sameHits(t *testing.T, what string, got, want []Hit) bool {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: got %d hits, want %d\n got %v\nwant %v", what, len(got), len(want), head(got), head(want))
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("%s: hit %d = %+v, want %+v", what, i, got[i], want[i])
			return false
		}
	}
	return true
}

func head(h []Hit) []Hit {
	if len(h) > 8 {
		return h[:8]
	}
	return h
}
