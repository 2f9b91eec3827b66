package geo

import (
	"fmt"
	"math"

	"github.com/paulmach/orb"
)

// Matrix is the travel cost between the points of one request, by index
// into the points it was built for. Metres and Minutes need not be
// symmetric (a road network has one-way streets); the route functions use
// Metres(i, j) for the leg i → j as given.
type Matrix interface {
	// Size is the number of points.
	Size() int
	// Metres is the length of the leg from point i to point j.
	Metres(i, j int) float64
	// Minutes is the driving time of the leg from point i to point j.
	Minutes(i, j int) float64
}

// Travel builds the travel-cost Matrix between points, once per request.
// Crow is the built-in one; a road-network table service (OSRM, Valhalla)
// can be plugged in behind the same interface, e.g. by filling a
// DenseMatrix from its table response.
type Travel interface {
	Matrix(points []Point) (Matrix, error)
}

// Defaults of Crow's zero fields.
const (
	DefaultRoadFactor = 1.3
	DefaultSpeedKmh   = 30.0
)

// Crow is the built-in Travel: as the crow flies, then stretched to roads.
// A leg is DistanceM (great-circle metres) times RoadFactor, driven at
// SpeedKmh. A zero RoadFactor means DefaultRoadFactor (1.3) and a zero
// SpeedKmh means DefaultSpeedKmh (30 km/h). Its matrices are symmetric.
type Crow struct {
	RoadFactor float64
	SpeedKmh   float64
}

// Matrix computes every leg between points: n² metres in one dense slice
// (8·n² bytes: 32 MB for 2,000 points), minutes derived from them. It
// refuses a point that fails CheckLat or CheckLon, and a negative, NaN or
// infinite RoadFactor or SpeedKmh.
func (c Crow) Matrix(points []Point) (Matrix, error) {
	factor, speed := c.RoadFactor, c.SpeedKmh
	if factor == 0 {
		factor = DefaultRoadFactor
	}
	if speed == 0 {
		speed = DefaultSpeedKmh
	}
	if !(factor > 0) || math.IsInf(factor, 0) {
		return nil, fmt.Errorf("geo: road factor %v must be a positive number", c.RoadFactor)
	}
	if !(speed > 0) || math.IsInf(speed, 0) {
		return nil, fmt.Errorf("geo: speed %v km/h must be a positive number", c.SpeedKmh)
	}
	n := len(points)
	lat := make([]float64, n) // radians
	cosLat := make([]float64, n)
	for i, p := range points {
		if err := CheckLat(p.Lat); err != nil {
			return nil, fmt.Errorf("geo: point %d: latitude %v: %w", i, p.Lat, err)
		}
		if err := CheckLon(p.Lon); err != nil {
			return nil, fmt.Errorf("geo: point %d: longitude %v: %w", i, p.Lon, err)
		}
		lat[i] = p.Lat
		cosLat[i] = math.Cos(p.Lat * math.Pi / 180.0)
	}
	metres := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			// The haversine of DistanceM (orb's DistanceHaversine, same
			// operations in the same order, so the same bits) with the
			// cosines of the latitudes computed once per point.
			dLat := (lat[i] - lat[j]) * math.Pi / 180.0
			dLon := (points[i].Lon - points[j].Lon) * math.Pi / 180.0
			dLat2Sin := math.Sin(dLat / 2)
			dLon2Sin := math.Sin(dLon / 2)
			a := dLat2Sin*dLat2Sin + cosLat[j]*cosLat[i]*dLon2Sin*dLon2Sin
			d := 2.0 * orb.EarthRadius * math.Atan2(math.Sqrt(a), math.Sqrt(1-a)) * factor
			metres[i*n+j] = d
			metres[j*n+i] = d
		}
	}
	return &crowMatrix{n: n, metres: metres, minPerM: 60 / (speed * 1000)}, nil
}

// crowMatrix is Crow's Matrix: dense metres, minutes proportional.
type crowMatrix struct {
	n       int
	metres  []float64
	minPerM float64
}

func (m *crowMatrix) Size() int                { return m.n }
func (m *crowMatrix) Metres(i, j int) float64  { return m.metres[i*m.n+j] }
func (m *crowMatrix) Minutes(i, j int) float64 { return m.metres[i*m.n+j] * m.minPerM }
