package geo

import (
	"math"

	"github.com/paulmach/orb"
)

// Bound is a latitude/longitude box, edges included. MinLon <= MaxLon always:
// a box that crosses the antimeridian is returned as two Bounds.
type Bound struct {
	MinLat, MaxLat, MinLon, MaxLon float64
}

// Contains reports whether p lies in the box (edges included).
func (b Bound) Contains(p Point) bool {
	return p.Lat >= b.MinLat && p.Lat <= b.MaxLat && p.Lon >= b.MinLon && p.Lon <= b.MaxLon
}

// boundPadDeg widens every computed box by about 0.1 mm so that floating
// point rounding never puts a point that DistanceM places inside the circle
// just outside its box.
const boundPadDeg = 1e-9

// world is the box spanning the whole globe.
var world = Bound{MinLat: -90, MaxLat: 90, MinLon: -180, MaxLon: 180}

// BoundsAround returns lat/lon boxes that together contain every point q with
// DistanceM(p, q) <= radiusM (the exact spherical bounding box of the circle,
// widened by ~0.1 mm against rounding):
//
//   - one box normally;
//   - two boxes when the circle crosses the antimeridian, split at ±180: the
//     box on p's side comes first, the other one touches the opposite edge;
//   - one box spanning all longitudes (-180..180) when the circle reaches a
//     pole, or is so wide that it covers every meridian;
//   - the whole world when radiusM is at least half the earth's circumference,
//     is +Inf, or p is NaN.
//
// radiusM <= 0 (or NaN) gives the degenerate box {p.Lat, p.Lat, p.Lon, p.Lon}.
// Latitudes are clamped to [-90, 90]; a longitude outside [-180, 180] is
// wrapped into it first.
func BoundsAround(p Point, radiusM float64) []Bound {
	if math.IsNaN(p.Lat) || math.IsNaN(p.Lon) || math.IsInf(p.Lon, 0) {
		return []Bound{world}
	}
	lat := math.Max(-90, math.Min(90, p.Lat))
	lon := wrapLon(p.Lon)
	if !(radiusM > 0) {
		return []Bound{{MinLat: lat, MaxLat: lat, MinLon: lon, MaxLon: lon}}
	}
	delta := radiusM / orb.EarthRadius // angular radius, radians
	if delta >= math.Pi {
		return []Bound{world}
	}
	deltaDeg := delta*180/math.Pi + boundPadDeg
	minLat, maxLat := lat-deltaDeg, lat+deltaDeg
	if minLat <= -90 || maxLat >= 90 {
		// The circle contains a pole: every meridian passes through it.
		return []Bound{{MinLat: math.Max(minLat, -90), MaxLat: math.Min(maxLat, 90), MinLon: -180, MaxLon: 180}}
	}
	// The meridians tangent to the circle are asin(sin δ / cos φ) away.
	ratio := math.Sin(delta) / math.Cos(lat*math.Pi/180)
	if ratio >= 1 || delta >= math.Pi/2 {
		return []Bound{{MinLat: minLat, MaxLat: maxLat, MinLon: -180, MaxLon: 180}}
	}
	dLon := math.Asin(ratio)*180/math.Pi + boundPadDeg
	if dLon >= 180 {
		return []Bound{{MinLat: minLat, MaxLat: maxLat, MinLon: -180, MaxLon: 180}}
	}
	minLon, maxLon := lon-dLon, lon+dLon
	switch {
	case minLon < -180:
		return []Bound{
			{MinLat: minLat, MaxLat: maxLat, MinLon: -180, MaxLon: maxLon},
			{MinLat: minLat, MaxLat: maxLat, MinLon: minLon + 360, MaxLon: 180},
		}
	case maxLon > 180:
		return []Bound{
			{MinLat: minLat, MaxLat: maxLat, MinLon: minLon, MaxLon: 180},
			{MinLat: minLat, MaxLat: maxLat, MinLon: -180, MaxLon: maxLon - 360},
		}
	}
	return []Bound{{MinLat: minLat, MaxLat: maxLat, MinLon: minLon, MaxLon: maxLon}}
}

// wrapLon maps a finite longitude into [-180, 180]; values already in range
// are returned unchanged.
func wrapLon(lon float64) float64 {
	if lon >= -180 && lon <= 180 {
		return lon
	}
	lon = math.Mod(lon+180, 360)
	if lon < 0 {
		lon += 360
	}
	return lon - 180
}
