package geo

import (
	"math"
	"testing"
)

func TestDistanceM(t *testing.T) {
	tests := []struct {
		name     string
		a, b     Point
		want     float64
		tolerant float64
	}{
		{"identical", Point{45.5152, -122.6784}, Point{45.5152, -122.6784}, 0, 0},
		{"identical at pole", Point{90, 0}, Point{90, 0}, 0, 0},
		{"one degree of latitude", Point{0, 0}, Point{1, 0}, math.Pi / 180 * 6378137, 1e-6},
		{"across the antimeridian", Point{0, 179.999}, Point{0, -179.999}, 0.002 * math.Pi / 180 * 6378137, 1e-6},
		{"pole over all longitudes", Point{89.999, 0}, Point{89.999, 180}, 0.002 * math.Pi / 180 * 6378137, 1e-6},
		{"antipodes", Point{0, 0}, Point{0, 180}, math.Pi * 6378137, 1e-6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DistanceM(tt.a, tt.b)
			if math.Abs(got-tt.want) > tt.tolerant {
				t.Errorf("DistanceM(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
			if back := DistanceM(tt.b, tt.a); back != got {
				t.Errorf("not symmetric: %v vs %v", got, back)
			}
		})
	}
}

func TestCheckLatLon(t *testing.T) {
	for _, lat := range []float64{-90, 0, 45.5, 90} {
		if CheckLat(lat) != nil {
			t.Errorf("CheckLat(%v) refused", lat)
		}
	}
	for _, lat := range []float64{-90.0001, 90.0001, math.NaN(), math.Inf(1)} {
		if CheckLat(lat) == nil {
			t.Errorf("CheckLat(%v) accepted", lat)
		}
	}
	for _, lon := range []float64{-180, 0, 179.999, 180} {
		if CheckLon(lon) != nil {
			t.Errorf("CheckLon(%v) refused", lon)
		}
	}
	for _, lon := range []float64{-180.0001, 180.0001, math.NaN(), math.Inf(-1)} {
		if CheckLon(lon) == nil {
			t.Errorf("CheckLon(%v) accepted", lon)
		}
	}
}
