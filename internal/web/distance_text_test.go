package web

import "testing"

// Invoices say the neighbour's distance to the metre; the dispatcher's
// pages round to 10 m; from 1 km on both say kilometres with one decimal.
func TestDistanceTextRoundsToItsStep(t *testing.T) {
	for _, tt := range []struct {
		m, step float64
		want    string
	}{
		{0, 1, "0 m"}, {163, 1, "163 m"}, {999, 1, "999 m"}, {1000, 1, "1.0 km"}, {1420, 1, "1.4 km"},
		{163, 10, "160 m"}, {165, 10, "170 m"}, {4.9, 10, "0 m"}, {995, 10, "1000 m"}, {1460, 10, "1.5 km"},
	} {
		if got := distanceText(tt.m, tt.step); got != tt.want {
			t.Errorf("distanceText(%v, %v) = %q, want %q", tt.m, tt.step, got, tt.want)
		}
	}
}
