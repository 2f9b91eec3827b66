package invoice

import (
	"testing"
)

func TestPercentOfRoundsHalfAwayFromZero(t *testing.T) {
	cases := []struct {
		amount int64
		bps    int
		want   int64
	}{
		{4500, 1000, 450}, {4505, 1000, 451}, {4504, 1000, 450}, {5, 1000, 1}, {4, 1000, 0},
		{-4505, 1000, -451}, {-5, 1000, -1}, {0, 1000, 0}, {4500, 0, 0}, {4500, 10000, 4500},
		{1, 5000, 1}, {100_000_000_000, 10000, 100_000_000_000}, {333, 3333, 111},
	}
	for _, c := range cases {
		if got := PercentOf(c.amount, c.bps); got != c.want {
			t.Errorf("PercentOf(%d, %d) = %d, want %d", c.amount, c.bps, got, c.want)
		}
	}
}
