package insight

import (
	"fmt"
	"testing"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/localdate"
)

// Expected values computed independently with python3 (statistics.NormalDist:
// z pooled, p = 2·(1 − Φ(|z|)), CI with the unpooled error, n per arm from
// the Fleiss formula without continuity correction).
func TestTwoProportionsAgainstKnownValues(t *testing.T) {
	cases := []struct {
		a, b Variant
		want string
	}{
		// The textbook example: 20% of 1000 vs 25% of 1000.
		{Variant{Name: "A", Referrals: 1000, Conversions: 200}, Variant{Name: "B", Referrals: 1000, Conversions: 250},
			"z=2.6774 p=0.007420 ci=[0.0135,0.0865] n=1094 more=188 sig=true B converts better than A, 95% confident"},
		{Variant{Name: "A", Referrals: 50, Conversions: 10}, Variant{Name: "B", Referrals: 50, Conversions: 15},
			"z=1.1547 p=0.248213 ci=[-0.0686,0.2686] n=294 more=488 sig=false not enough data yet, ~488 more referrals needed"},
		{Variant{Name: "A", Referrals: 10, Conversions: 3}, Variant{Name: "B", Referrals: 10, Conversions: 2},
			"z=-0.5164 p=0.605577 ci=[-0.4770,0.2770] n=294 more=568 sig=false not enough data yet, ~568 more referrals needed"},
		{Variant{Name: "A", Referrals: 1000, Conversions: 250}, Variant{Name: "B", Referrals: 1000, Conversions: 200},
			"z=-2.6774 p=0.007420 ci=[-0.0865,-0.0135] n=1094 more=188 sig=true A converts better than B, 95% confident"},
	}
	for _, c := range cases {
		r := TwoProportions(c.a, c.b)
		got := fmt.Sprintf("z=%.4f p=%.6f ci=[%.4f,%.4f] n=%d more=%d sig=%v %s", r.Z, r.PValue, r.CILow, r.CIHigh, r.NeededPerArm, r.MoreNeeded, r.Significant, r.Verdict)
		if got != c.want {
			t.Errorf("\n got %s\nwant %s", got, c.want)
		}
	}
	if r := TwoProportions(Variant{Name: "A"}, Variant{Name: "B", Referrals: 3}); r.Verdict != "not enough data yet: every variant needs referrals" {
		t.Errorf("empty arm: %+v", r)
	}
}

// The seed's worked example: 10,000 customers, 65% satisfied and the rest
// unhappy → 6,500 × 5 = 32,500 good mentions against 3,500 × 10 = 35,000.
func TestWordsOfTheSeedsExample(t *testing.T) {
	good, bad := Words(10000, 0.65, 0.35)
	if good != 32500 || bad != 35000 {
		t.Fatalf("good %d, bad %d", good, bad)
	}
	if good, bad := Words(0, 0.65, 0.35); good != 0 || bad != 0 {
		t.Fatalf("nobody: %d %d", good, bad)
	}
}

func TestPeriodRefusesWhatIsNotARange(t *testing.T) {
	d := func(s string) *localdate.Date { x, _ := localdate.Parse(s); return &x }
	today := *d("2026-05-20")
	for _, c := range []struct {
		from, to *localdate.Date
		want     string // "" ok, else the field named
	}{
		{nil, nil, ""},
		{d("2026-05-10"), d("2026-05-09"), "to"},
		{d("2024-05-01"), d("2026-04-30"), ""},
		{d("2024-05-01"), d("2026-05-01"), "to"},
		{d("2026-05-20"), d("2026-05-20"), ""},
	} {
		_, err := period(c.from, c.to, today)
		e, _ := apperror.As(err)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%v..%v: %v", c.from, c.to, err)
		case c.want != "" && (e == nil || e.Fields[c.want] == ""):
			t.Errorf("%v..%v: %v, want a complaint about %s", c.from, c.to, err, c.want)
		}
	}
	p, _ := period(nil, nil, today)
	if p.From.String() != "2026-04-21" || p.To.String() != "2026-05-20" {
		t.Errorf("default %s..%s", p.From, p.To)
	}
}
