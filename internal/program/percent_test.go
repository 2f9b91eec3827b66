package program

import "testing"

func TestPercentWritesBasisPointsAsPeopleReadThem(t *testing.T) {
	for bps, want := range map[int]string{
		0: "0%", 1: "0.01%", 50: "0.50%", 1000: "10%", 1050: "10.50%", 1250: "12.50%", 10000: "100%", -1250: "-12.50%",
	} {
		if got := Percent(bps); got != want {
			t.Errorf("Percent(%d) = %q, want %q", bps, got, want)
		}
	}
}
