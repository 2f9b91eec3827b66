package insight

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/program"
)

// What an A/B test compares.
const (
	KindOffer  = "offer"
	KindScript = "script"
)

// Critical values: two-sided 95% (z for alpha = 0.05) and 80% power.
const (
	z95    = 1.959963984540054
	zPower = 0.8416212335729143
)

// Variant is one arm: referrals created in the period and how many of
// those have converted.
type Variant struct {
	Name        string   `json:"name"`
	Referrals   int      `json:"referrals"`
	Conversions int      `json:"conversions"`
	Rate        *float64 `json:"conversion_rate"`
}

// ZTest compares the conversion rates of A (the baseline) and B.
type ZTest struct {
	A, B string
	// Diff = rate(B) − rate(A); Z uses the pooled standard error; PValue is
	// two-sided; CILow/CIHigh the 95% interval of Diff (unpooled error).
	Diff   float64
	Z      float64
	PValue float64
	CILow  float64
	CIHigh float64
	// Significant at 95%; NeededPerArm referrals per arm for 80% power at
	// the observed rates (0 when the rates are equal or unknown).
	Significant  bool
	NeededPerArm int
	MoreNeeded   int
	Verdict      string
}

// Comparison is a ZTest as answered (rounded).
type Comparison struct {
	A            string   `json:"a"`
	B            string   `json:"b"`
	Diff         *float64 `json:"diff"`
	Z            *float64 `json:"z"`
	PValue       *float64 `json:"p_value"`
	CILow        *float64 `json:"ci95_low"`
	CIHigh       *float64 `json:"ci95_high"`
	Significant  bool     `json:"significant"`
	NeededPerArm *int     `json:"needed_per_arm"`
	MoreNeeded   *int     `json:"more_referrals_needed"`
	Verdict      string   `json:"verdict"`
}

// AB is the answer of GET /insights/ab.
type AB struct {
	Period
	Kind        string       `json:"kind"`
	Baseline    string       `json:"baseline"`
	Variants    []Variant    `json:"variants"`
	Comparisons []Comparison `json:"comparisons"`
	Verdict     string       `json:"verdict"`
}

// ABQuery is what the owner asks for.
type ABQuery struct {
	Range
	Kind string
}

// TwoProportions runs the two-proportion z-test of B against A. With an
// empty arm nothing can be said and only the verdict is filled.
func TwoProportions(a, b Variant) ZTest {
	t := ZTest{A: a.Name, B: b.Name}
	if a.Referrals == 0 || b.Referrals == 0 {
		t.Verdict = "not enough data yet: every variant needs referrals"
		return t
	}
	n1, n2 := float64(a.Referrals), float64(b.Referrals)
	p1, p2 := float64(a.Conversions)/n1, float64(b.Conversions)/n2
	t.Diff = p2 - p1
	pool := (float64(a.Conversions + b.Conversions)) / (n1 + n2)
	if se := math.Sqrt(pool * (1 - pool) * (1/n1 + 1/n2)); se > 0 {
		t.Z = t.Diff / se
		t.PValue = math.Erfc(math.Abs(t.Z) / math.Sqrt2)
	} else {
		t.PValue = 1 // both at 0% or both at 100%: no difference seen
	}
	half := z95 * math.Sqrt(p1*(1-p1)/n1+p2*(1-p2)/n2)
	t.CILow, t.CIHigh = t.Diff-half, t.Diff+half
	t.Significant = t.PValue < 0.05
	t.NeededPerArm = SampleSize(p1, p2)
	if t.NeededPerArm > 0 {
		t.MoreNeeded = max(0, t.NeededPerArm-a.Referrals) + max(0, t.NeededPerArm-b.Referrals)
	}
	switch {
	case t.Significant && t.Diff > 0:
		t.Verdict = fmt.Sprintf("%s converts better than %s, 95%% confident", b.Name, a.Name)
	case t.Significant:
		t.Verdict = fmt.Sprintf("%s converts better than %s, 95%% confident", a.Name, b.Name)
	case t.NeededPerArm == 0:
		t.Verdict = fmt.Sprintf("not enough data yet: %s and %s convert alike so far", a.Name, b.Name)
	case t.MoreNeeded > 0:
		t.Verdict = fmt.Sprintf("not enough data yet, ~%d more referrals needed", t.MoreNeeded)
	default:
		t.Verdict = fmt.Sprintf("no clear difference between %s and %s (p = %.2f)", a.Name, b.Name, t.PValue)
	}
	return t
}

// SampleSize is the referrals each arm needs to tell p1 from p2 with a
// two-sided 5% test at 80% power (normal approximation, no continuity
// correction): n = (z95·√(2·p̄(1−p̄)) + z80·√(p1(1−p1)+p2(1−p2)))² / (p1−p2)²,
// p̄ = (p1+p2)/2, rounded up. 0 when the rates are equal.
func SampleSize(p1, p2 float64) int {
	d := p1 - p2
	if d == 0 {
		return 0
	}
	pb := (p1 + p2) / 2
	num := z95*math.Sqrt(2*pb*(1-pb)) + zPower*math.Sqrt(p1*(1-p1)+p2*(1-p2))
	return int(math.Ceil(num * num / (d * d)))
}

// AB compares the offer or script variants' conversion: every variant
// against the baseline (the program's first offer; for scripts the first
// name in order).
func (s *Service) AB(ctx context.Context, tenantID string, q ABQuery) (AB, error) {
	if q.Kind == "" {
		q.Kind = KindOffer
	}
	if q.Kind != KindOffer && q.Kind != KindScript {
		return AB{}, apperror.Invalid("kind", "must be offer or script")
	}
	p, loc, err := s.resolve(ctx, tenantID, q.Range)
	if err != nil {
		return AB{}, err
	}
	start, end := p.bounds(loc)
	db := s.store.DB.WithContext(ctx)
	var arms []Variant
	if q.Kind == KindOffer {
		err = db.Raw(`SELECT variant AS name, COUNT(*) AS referrals, SUM(CASE WHEN status = 'converted' THEN 1 ELSE 0 END) AS conversions
			FROM referrals WHERE tenant_id = ? AND created_at >= ? AND created_at < ? AND variant <> '' GROUP BY variant`,
			tenantID, start, end).Scan(&arms).Error
	} else {
		// A referral given on site is one pitch; its script is the arm.
		err = db.Raw(`SELECT p.script AS name, COUNT(DISTINCT r.id) AS referrals,
				COUNT(DISTINCT CASE WHEN r.status = 'converted' THEN r.id END) AS conversions
			FROM pitches p JOIN referrals r ON r.id = p.referral_id AND r.tenant_id = p.tenant_id
			WHERE p.tenant_id = ? AND r.created_at >= ? AND r.created_at < ? AND p.script <> '' GROUP BY p.script`,
			tenantID, start, end).Scan(&arms).Error
	}
	if err != nil {
		return AB{}, fmt.Errorf("count variants: %w", err)
	}
	order := map[string]int{}
	if q.Kind == KindOffer {
		prog, err := program.Get(db, tenantID)
		if err != nil {
			return AB{}, err
		}
		for i, o := range prog.OfferList() {
			order[o.Name] = i + 1
			if !hasArm(arms, o.Name) {
				arms = append(arms, Variant{Name: o.Name})
			}
		}
	}
	sort.Slice(arms, func(i, j int) bool {
		oi, oj := order[arms[i].Name], order[arms[j].Name]
		if oi != oj && oi != 0 && oj != 0 {
			return oi < oj
		}
		if (oi == 0) != (oj == 0) {
			return oi != 0
		}
		return arms[i].Name < arms[j].Name
	})
	out := AB{Period: p, Kind: q.Kind, Variants: []Variant{}, Comparisons: []Comparison{}}
	for i := range arms {
		arms[i].Rate = ratio(int64(arms[i].Conversions), int64(arms[i].Referrals))
	}
	out.Variants = append(out.Variants, arms...)
	switch {
	case len(arms) == 0 || total(arms) == 0:
		out.Verdict = "no data yet"
	case len(arms) == 1:
		out.Verdict = "only one variant: nothing to compare"
	}
	if len(arms) > 0 {
		out.Baseline = arms[0].Name
	}
	if total(arms) == 0 {
		return out, nil
	}
	for _, b := range arms[min(1, len(arms)):] {
		t := TwoProportions(arms[0], b)
		out.Comparisons = append(out.Comparisons, present(t, arms[0], b))
	}
	if len(out.Comparisons) == 1 {
		out.Verdict = out.Comparisons[0].Verdict
	} else if len(out.Comparisons) > 1 {
		out.Verdict = fmt.Sprintf("%d variants against %s: see each comparison", len(out.Comparisons), out.Baseline)
	}
	return out, nil
}

func hasArm(arms []Variant, name string) bool {
	for _, a := range arms {
		if a.Name == name {
			return true
		}
	}
	return false
}

func total(arms []Variant) int {
	n := 0
	for _, a := range arms {
		n += a.Referrals
	}
	return n
}

// present rounds a test for the answer; numbers are null without data.
func present(t ZTest, a, b Variant) Comparison {
	c := Comparison{A: t.A, B: t.B, Significant: t.Significant, Verdict: t.Verdict}
	if a.Referrals == 0 || b.Referrals == 0 {
		return c
	}
	f := func(v float64, places int) *float64 { r := round(v, places); return &r }
	c.Diff, c.Z, c.PValue = f(t.Diff, 4), f(t.Z, 4), f(t.PValue, 6)
	c.CILow, c.CIHigh = f(t.CILow, 4), f(t.CIHigh, 4)
	if t.NeededPerArm > 0 {
		n, m := t.NeededPerArm, t.MoreNeeded
		c.NeededPerArm, c.MoreNeeded = &n, &m
	}
	return c
}

// Table is the A/B table for CSV: one row per variant, with its test
// against the baseline.
func (r AB) Table() ([]string, [][]string) {
	header := []string{"from", "to", "kind", "variant", "referrals", "conversions", "conversion_rate", "baseline",
		"diff", "z", "p_value", "ci95_low", "ci95_high", "significant", "more_referrals_needed", "verdict"}
	tests := map[string]Comparison{}
	for _, c := range r.Comparisons {
		tests[c.B] = c
	}
	var out [][]string
	for _, v := range r.Variants {
		line := []string{r.From.String(), r.To.String(), r.Kind, v.Name, itoa(int64(v.Referrals)), itoa(int64(v.Conversions)), fptr(v.Rate), r.Baseline}
		if c, ok := tests[v.Name]; ok {
			line = append(line, fptr(c.Diff), fptr(c.Z), fptr(c.PValue), fptr(c.CILow), fptr(c.CIHigh), fmt.Sprint(c.Significant), nptr(c.MoreNeeded), c.Verdict)
		} else {
			line = append(line, "", "", "", "", "", "", "", "")
		}
		out = append(out, line)
	}
	return header, out
}
