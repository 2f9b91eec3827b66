package insight

import (
	"fmt"
	"testing"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/localdate"
)

// Expected values computed independently with python3 (statistics.NormalDist:
// z pooled, p = 2·(1 − Φ(|z|)), n per arm from the Fleiss formula without
// continuity correction; the interval of B − A by Newcombe's hybrid score
// method from the Wilson intervals, as in TestNewcombeAgainstPublishedValues).
func TestTwoProportionsAgainstKnownValues(t *testing.T) {
	cases := []struct {
		a, b Variant
		want string
	}{
		// The textbook example: 20% of 1000 vs 25% of 1000.
		{Variant{Name: "A", Referrals: 1000, Conversions: 200}, Variant{Name: "B", Referrals: 1000, Conversions: 250},
			"z=2.6774 p=0.007420 ci=[0.0134,0.0865] n=1094 more=188 sig=true B converts better than A, 95% confident"},
		{Variant{Name: "A", Referrals: 50, Conversions: 10}, Variant{Name: "B", Referrals: 50, Conversions: 15},
			"z=1.1547 p=0.248213 ci=[-0.0699,0.2630] n=294 more=488 sig=false not enough data yet, ~488 more referrals needed"},
		// Below the minimum of 30 per arm the verdict names no winner.
		{Variant{Name: "A", Referrals: 10, Conversions: 3}, Variant{Name: "B", Referrals: 10, Conversions: 2},
			"z=-0.5164 p=0.605577 ci=[-0.4354,0.2646] n=294 more=568 sig=false not enough data yet: each variant needs at least 30 referrals (A has 10, B has 10)"},
		{Variant{Name: "A", Referrals: 1000, Conversions: 250}, Variant{Name: "B", Referrals: 1000, Conversions: 200},
			"z=-2.6774 p=0.007420 ci=[-0.0865,-0.0134] n=1094 more=188 sig=true A converts better than B, 95% confident"},
		// 0% against 30%: the interval is not the empty [0.3, 0.3] of p ± z·√(p(1−p)/n).
		{Variant{Name: "A", Referrals: 40, Conversions: 0}, Variant{Name: "B", Referrals: 40, Conversions: 12},
			"z=3.7573 p=0.000172 ci=[0.1520,0.4543] n=22 more=0 sig=true B converts better than A, 95% confident"},
		// 100% against 75%.
		{Variant{Name: "A", Referrals: 40, Conversions: 40}, Variant{Name: "B", Referrals: 40, Conversions: 30},
			"z=-3.3806 p=0.000723 ci=[-0.4019,-0.1108] n=27 more=0 sig=true A converts better than B, 95% confident"},
		// Nobody converts in either arm: a real interval around 0, no verdict.
		{Variant{Name: "A", Referrals: 40, Conversions: 0}, Variant{Name: "B", Referrals: 40, Conversions: 0},
			"z=0.0000 p=1.000000 ci=[-0.0876,0.0876] n=0 more=0 sig=false not enough data yet: A and B convert alike so far"},
		// 0 of 5 against 5 of 5 (Wilson 0 to 0.4345 and 0.5655 to 1, so the lower
		// bound is 1 − √(2 · 0.4345²) = 0.3855) is striking but too few to call.
		{Variant{Name: "A", Referrals: 5, Conversions: 0}, Variant{Name: "B", Referrals: 5, Conversions: 5},
			"z=3.1623 p=0.001565 ci=[0.3855,1.0000] n=2 more=0 sig=false not enough data yet: each variant needs at least 30 referrals (A has 5, B has 5)"},
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

// Wilson's score interval against Newcombe (1998), "Two-sided confidence
// intervals for the single proportion", Table I, method 3. By hand for
// 9 of 10 (z² = 3.8415): centre (9 + 1.9207) / 13.8415 = 0.7890, half-width
// 1.96 / 13.8415 · √(9·1/10 + 0.9604) = 0.1416 · 1.3640 = 0.1931, so
// 0.5958 to 0.9821. At 0 of n and n of n the interval reaches the bound and
// is still wide: 0 of 20 is 0 to 0.1611, not the empty 0 to 0.
func TestWilsonAgainstPublishedValues(t *testing.T) {
	for _, c := range []struct {
		x, n int
		want string
	}{
		{81, 263, "0.2553 0.3662"},
		{15, 148, "0.0624 0.1605"},
		{0, 20, "0.0000 0.1611"},
		{1, 29, "0.0061 0.1718"},
		{9, 10, "0.5958 0.9821"},
		{3, 10, "0.1078 0.6032"},
		{20, 20, "0.8389 1.0000"},
	} {
		lo, hi := Wilson(c.x, c.n)
		if got := fmt.Sprintf("%.4f %.4f", lo, hi); got != c.want {
			t.Errorf("%d of %d: %s, want %s", c.x, c.n, got, c.want)
		}
	}
}

// Newcombe's hybrid score interval against Newcombe (1998), "Interval
// estimation for the difference between independent proportions", Table II,
// method 10 (his d = p1 − p2, so the first pair here is his second). By hand
// for 9/10 − 3/10 with the Wilson intervals above: d = 0.6, lower
// 0.6 − √((0.9 − 0.5958)² + (0.6032 − 0.3)²) = 0.6 − 0.4295 = 0.1705, upper
// 0.6 + √((0.9821 − 0.9)² + (0.3 − 0.1078)²) = 0.6 + 0.2090 = 0.8090.
func TestNewcombeAgainstPublishedValues(t *testing.T) {
	for _, c := range []struct {
		x1, n1, x2, n2 int // p1 = x1/n1, p2 = x2/n2; the interval of p1 − p2
		want           string
	}{
		{56, 70, 48, 80, "0.0524 0.3339"},
		{9, 10, 3, 10, "0.1705 0.8090"},
		{6, 7, 2, 7, "0.0582 0.8062"},
		{5, 56, 0, 29, "-0.0381 0.1926"},
		{0, 10, 0, 20, "-0.1611 0.2775"},
		{0, 10, 0, 10, "-0.2775 0.2775"},
		{10, 10, 0, 20, "0.6791 1.0000"},
		{10, 10, 0, 10, "0.6075 1.0000"},
	} {
		// Newcombe(x1, n1, x2, n2) is the interval of p2 − p1: swap.
		lo, hi := Newcombe(c.x2, c.n2, c.x1, c.n1)
		if got := fmt.Sprintf("%.4f %.4f", lo, hi); got != c.want {
			t.Errorf("%d/%d − %d/%d: %s, want %s", c.x1, c.n1, c.x2, c.n2, got, c.want)
		}
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

// Scripts assigned per member: Sam read only "short" and Kim only "long".
// The numbers alone say short wins; the verdict says the arms are Sam and
// Kim more than the words. Once both read both, the warning goes.
func TestScriptVerdictShowsTheCrewMemberConfound(t *testing.T) {
	short := Variant{Name: "short", Referrals: 100, Conversions: 40,
		Members: []MemberCount{{CrewMemberID: "sam", Name: "Sam", Referrals: 100, Conversions: 40}}}
	long := Variant{Name: "long", Referrals: 100, Conversions: 15,
		Members: []MemberCount{{CrewMemberID: "kim", Name: "Kim", Referrals: 100, Conversions: 15}}}
	c := compare(KindScript, long, short)
	if c.SharedMembers == nil || *c.SharedMembers != 0 || !c.Significant {
		t.Fatalf("per-member arms: %+v", c)
	}
	want := "short converts better than long, 95% confident; but only 0% of these referrals come from crew members who read both scripts, " +
		"so the difference may be the people more than the words (long: Kim 15 of 100; short: Sam 40 of 100)"
	if c.Verdict != want {
		t.Fatalf("verdict %q\nwant    %q", c.Verdict, want)
	}
	short.Members = []MemberCount{{CrewMemberID: "sam", Referrals: 50, Conversions: 22}, {CrewMemberID: "kim", Referrals: 50, Conversions: 18}}
	long.Members = []MemberCount{{CrewMemberID: "sam", Referrals: 50, Conversions: 9}, {CrewMemberID: "kim", Referrals: 50, Conversions: 6}}
	c = compare(KindScript, long, short)
	if c.SharedMembers == nil || *c.SharedMembers != 1 || c.Verdict != "short converts better than long, 95% confident" {
		t.Fatalf("both read both: %+v", c)
	}
	// 30 of Sam's in both arms, 70 of Kim's only in one: (30 + 30) / 200.
	short.Members = []MemberCount{{CrewMemberID: "sam", Referrals: 30}, {CrewMemberID: "kim", Referrals: 70}}
	long.Members = []MemberCount{{CrewMemberID: "sam", Referrals: 30}, {CrewMemberID: "lee", Referrals: 70}}
	if c = compare(KindScript, long, short); *c.SharedMembers != 0.3 {
		t.Fatalf("shared share %v, want 0.3", *c.SharedMembers)
	}
	if c := compare(KindOffer, long, short); c.SharedMembers != nil {
		t.Fatal("offers are not pitched by crew members")
	}
}
