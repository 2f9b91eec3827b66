package geo

import (
	"math"
	"testing"
)

// degPerM is degrees of arc per metre on the sphere DistanceM uses.
const degPerM = 180 / (math.Pi * 6378137)

func TestBoundsAround(t *testing.T) {
	d500 := 500 * degPerM                                                                           // ≈ 0.0044916°
	dl1100 := math.Asin(math.Sin(2.2*d500*math.Pi/180)/math.Cos(89.99*math.Pi/180)) * 180 / math.Pi // ≈ 81.17°
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-7 }
	tests := []struct {
		name   string
		p      Point
		radius float64
		want   []Bound
	}{
		{"radius 0 is the point", Point{45.5, -122.6}, 0, []Bound{{45.5, 45.5, -122.6, -122.6}}},
		{"negative radius is the point", Point{45.5, -122.6}, -3, []Bound{{45.5, 45.5, -122.6, -122.6}}},
		{"NaN radius is the point", Point{45.5, -122.6}, math.NaN(), []Bound{{45.5, 45.5, -122.6, -122.6}}},
		{"equator 500 m", Point{0, 10}, 500, []Bound{{-d500, d500, 10 - d500, 10 + d500}}},
		{"45° 500 m is wider in longitude", Point{45, 10}, 500, []Bound{{45 - d500, 45 + d500,
			10 - math.Asin(math.Sin(d500*math.Pi/180)/math.Cos(math.Pi/4))*180/math.Pi,
			10 + math.Asin(math.Sin(d500*math.Pi/180)/math.Cos(math.Pi/4))*180/math.Pi}}},
		{"antimeridian from the east side", Point{0, 179.999}, 500, []Bound{
			{-d500, d500, 179.999 - d500, 180},
			{-d500, d500, -180, 179.999 + d500 - 360}}},
		{"antimeridian from the west side", Point{0, -179.999}, 500, []Bound{
			{-d500, d500, -180, -179.999 + d500},
			{-d500, d500, -179.999 - d500 + 360, 180}}},
		{"exactly on the antimeridian", Point{10, 180}, 500, []Bound{
			{10 - d500, 10 + d500, 180 - d500/math.Cos(10*math.Pi/180), 180},
			{10 - d500, 10 + d500, -180, -180 + d500/math.Cos(10*math.Pi/180)}}},
		{"reaches the north pole", Point{89.999, 0}, 500, []Bound{{89.999 - d500, 90, -180, 180}}},
		{"at the south pole", Point{-90, 123}, 500, []Bound{{-90, -90 + d500, -180, 180}}},
		{"near the pole without reaching it: wide in longitude", Point{89.99, 0}, 1000, []Bound{{89.99 - 2*d500, 89.99 + 2*d500,
			-math.Asin(math.Sin(2*d500*math.Pi/180)/math.Cos(89.99*math.Pi/180)) * 180 / math.Pi,
			math.Asin(math.Sin(2*d500*math.Pi/180)/math.Cos(89.99*math.Pi/180)) * 180 / math.Pi}}},
		{"near the pole and across the antimeridian", Point{89.99, 170}, 1100, []Bound{
			{89.99 - 2.2*d500, 89.99 + 2.2*d500, 170 - dl1100, 180},
			{89.99 - 2.2*d500, 89.99 + 2.2*d500, -180, 170 + dl1100 - 360}}},
		{"20,000 km is the world", Point{45.5, -122.6}, 20_000_000, []Bound{{-90, 90, -180, 180}}},
		{"infinite radius is the world", Point{45.5, -122.6}, math.Inf(1), []Bound{{-90, 90, -180, 180}}},
		{"NaN point is the world", Point{math.NaN(), 0}, 500, []Bound{{-90, 90, -180, 180}}},
		{"longitude 190 wraps to -170", Point{0, 190}, 0, []Bound{{0, 0, -170, -170}}},
		{"latitude clamps", Point{95, 0}, 0, []Bound{{90, 90, 0, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := BoundsAround(tt.p, tt.radius)
			if len(got) != len(tt.want) {
				t.Fatalf("BoundsAround(%v, %v) = %v, want %v", tt.p, tt.radius, got, tt.want)
			}
			for i := range got {
				g, w := got[i], tt.want[i]
				if !near(g.MinLat, w.MinLat) || !near(g.MaxLat, w.MaxLat) || !near(g.MinLon, w.MinLon) || !near(g.MaxLon, w.MaxLon) {
					t.Errorf("box %d = %+v, want %+v", i, g, w)
				}
				checkBoxShape(t, g)
			}
		})
	}
}

func checkBoxShape(t *testing.T, b Bound) {
	t.Helper()
	if !(b.MinLat <= b.MaxLat && b.MinLat >= -90 && b.MaxLat <= 90 &&
		b.MinLon <= b.MaxLon && b.MinLon >= -180 && b.MaxLon <= 180) {
		t.Errorf("malformed box %+v", b)
	}
}

// specialCentres are query points where boxes get interesting.
var specialCentres = []Point{
	{0, 179.999}, {0, -179.999}, {0, 180}, {0, -180}, {60, 179.9}, {-60, -179.95},
	{89.999, 0}, {-89.999, 45}, {90, 0}, {-90, 0}, {89.9, 179.99}, {85.05, 10},
	{-85.06, -179.99}, {84.9, 0}, {45.5152, -122.6784}, {0, 0},
}

// Every point within the radius is in one of the boxes.
func TestBoundsAroundContainsCircle(t *testing.T) {
	r := newRand(t, 1)
	for n := 0; n < 3000; n++ {
		var p Point
		if n < len(specialCentres)*50 {
			p = specialCentres[n%len(specialCentres)]
		} else {
			p = randomWorld(r)
		}
		radius := math.Exp(r.Float64() * math.Log(5e6)) // 1 m .. 5000 km
		boxes := BoundsAround(p, radius)
		if len(boxes) == 2 && !(boxes[0].MaxLon == 180 || boxes[0].MinLon == -180) {
			t.Fatalf("split boxes %v do not meet at the antimeridian", boxes)
		}
		for _, b := range boxes {
			checkBoxShape(t, b)
		}
		for m := 0; m < 40; m++ {
			q := randomNear(r, p, radius)
			if DistanceM(p, q) > radius {
				continue
			}
			in := false
			for _, b := range boxes {
				in = in || b.Contains(q)
			}
			if !in {
				t.Fatalf("BoundsAround(%v, %v) = %v misses %v at %v m", p, radius, boxes, q, DistanceM(p, q))
			}
		}
	}
}
