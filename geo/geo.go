// Package geo is routeloop's one place for coordinates and distances. It is
// pure: no tenants, no database, no HTTP.
package geo

import (
	"fmt"
	"math"

	"github.com/paulmach/orb"
	orbgeo "github.com/paulmach/orb/geo"
)

// Point is a WGS84 location.
type Point struct {
	Lat float64
	Lon float64
}

// CheckLat explains why lat is not a latitude, or returns nil.
func CheckLat(lat float64) error {
	if math.IsNaN(lat) || lat < -90 || lat > 90 {
		return fmt.Errorf("must be a latitude between -90 and 90")
	}
	return nil
}

// CheckLon explains why lon is not a longitude, or returns nil.
func CheckLon(lon float64) error {
	if math.IsNaN(lon) || lon < -180 || lon > 180 {
		return fmt.Errorf("must be a longitude between -180 and 180")
	}
	return nil
}

// DistanceM is the great-circle distance between a and b in metres.
func DistanceM(a, b Point) float64 {
	return orbgeo.DistanceHaversine(orb.Point{a.Lon, a.Lat}, orb.Point{b.Lon, b.Lat})
}
