package refcode

import (
	"strings"
	"testing"
)

func TestNewCodesAreReadableAndDistinct(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 5000; i++ {
		c := New()
		if len(c) != 9 || c[4] != '-' {
			t.Fatalf("code %q has the wrong shape", c)
		}
		if strings.ContainsAny(c, "01OI") {
			t.Fatalf("code %q has an ambiguous character", c)
		}
		if seen[c] {
			t.Fatalf("code %q repeated within 5000", c)
		}
		seen[c] = true
		if n, ok := Normalize(c); !ok || n != c {
			t.Fatalf("Normalize(%q) = %q, %v", c, n, ok)
		}
	}
}

func TestNormalizeAcceptsHowPeopleTypeIt(t *testing.T) {
	for _, in := range []string{"k7pm-4qxt", "K7PM4QXT", "k7pm 4qxt", " K7PM-4QXT "} {
		got, ok := Normalize(strings.TrimSpace(in))
		if !ok || got != "K7PM-4QXT" {
			t.Errorf("Normalize(%q) = %q, %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "K7PM-4QX", "K7PM-4QXTT", "K0PM-4QXT", "KIPM-4QXT", "K7PM_4QXT", "ÄÄÄÄ-ÄÄÄÄ"} {
		if got, ok := Normalize(in); ok {
			t.Errorf("Normalize(%q) accepted as %q", in, got)
		}
	}
}
