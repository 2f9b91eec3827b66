package insight

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

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

// MinPerArm is the referrals every compared arm needs before the verdict
// names a winner: below it the answer says "not enough data yet" whatever
// the numbers (the intervals are still given).
const MinPerArm = 30

// Variant is one arm: referrals created in the period and how many of
// those have converted, with the 95% Wilson score interval of the rate.
type Variant struct {
	Name        string   `json:"name"`
	Referrals   int      `json:"referrals"`
	Conversions int      `json:"conversions"`
	Rate        *float64 `json:"conversion_rate"`
	RateLow     *float64 `json:"conversion_rate_ci95_low"`
	RateHigh    *float64 `json:"conversion_rate_ci95_high"`
	// Members (script tests) are the crew members who gave the arm's
	// referrals on site, most referrals first.
	Members []MemberCount `json:"members,omitempty" gorm:"-"`
}

// MemberCount is one crew member's referrals and conversions in one arm.
type MemberCount struct {
	CrewMemberID string `json:"crew_member_id"`
	Name         string `json:"name"`
	Referrals    int    `json:"referrals"`
	Conversions  int    `json:"conversions"`
}

// ZTest compares the conversion rates of A (the baseline) and B.
type ZTest struct {
	A, B string
	// Diff = rate(B) − rate(A); Z uses the pooled standard error; PValue is
	// two-sided; CILow/CIHigh the 95% interval of Diff (Newcombe's hybrid
	// score interval, valid at 0% and 100%).
	Diff   float64
	Z      float64
	PValue float64
	CILow  float64
	CIHigh float64
	// Significant when the interval leaves out 0 and both arms have
	// MinPerArm referrals; NeededPerArm referrals per arm for 80% power at
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
	// SharedMembers (script tests) is the share of the two arms' referrals
	// given by crew members who pitched both scripts; low means the arms
	// compare people more than scripts.
	SharedMembers *float64 `json:"shared_member_share,omitempty"`
	Verdict       string   `json:"verdict"`
}

// AB is the answer of GET /insights/ab.
type AB struct {
	Period
	Kind        string       `json:"kind"`
	Baseline    string       `json:"baseline"`
	MinPerArm   int          `json:"min_referrals_per_arm"`
	Variants    []Variant    `json:"variants"`
	Comparisons []Comparison `json:"comparisons"`
	Verdict     string       `json:"verdict"`
}

// ABQuery is what the owner asks for.
type ABQuery struct {
	Range
	Kind string
}

// Wilson is the 95% Wilson score interval of x conversions in n:
// (x + z²/2 ± z·√(x(n−x)/n + z²/4)) / (n + z²). Unlike p ± z·√(p(1−p)/n)
// it stays inside [0, 1] and is not empty at 0% or 100%. n must be > 0.
func Wilson(x, n int) (low, high float64) {
	fx, fn, z2 := float64(x), float64(n), z95*z95
	center := (fx + z2/2) / (fn + z2)
	half := z95 / (fn + z2) * math.Sqrt(fx*(fn-fx)/fn+z2/4)
	return max(0, center-half), min(1, center+half)
}

// Newcombe is the 95% interval of p2 − p1 by Newcombe's hybrid score
// method (1998, method 10) from the Wilson intervals (l, u) of each rate:
// d − √((p2−l2)² + (u1−p1)²) to d + √((u2−p2)² + (p1−l1)²).
func Newcombe(x1, n1, x2, n2 int) (low, high float64) {
	p1, p2 := float64(x1)/float64(n1), float64(x2)/float64(n2)
	l1, u1 := Wilson(x1, n1)
	l2, u2 := Wilson(x2, n2)
	d := p2 - p1
	return d - math.Sqrt((p2-l2)*(p2-l2)+(u1-p1)*(u1-p1)), d + math.Sqrt((u2-p2)*(u2-p2)+(p1-l1)*(p1-l1))
}

// TwoProportions compares B against A: the difference with its Newcombe
// interval, the pooled two-proportion z-test's p-value, and the referrals
// still needed. With an empty arm nothing can be said and only the verdict
// is filled.
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
	t.CILow, t.CIHigh = Newcombe(a.Conversions, a.Referrals, b.Conversions, b.Referrals)
	enough := a.Referrals >= MinPerArm && b.Referrals >= MinPerArm
	t.Significant = enough && (t.CILow > 0 || t.CIHigh < 0)
	t.NeededPerArm = SampleSize(p1, p2)
	if t.NeededPerArm > 0 {
		t.MoreNeeded = max(0, t.NeededPerArm-a.Referrals) + max(0, t.NeededPerArm-b.Referrals)
	}
	switch {
	case !enough:
		t.Verdict = fmt.Sprintf("not enough data yet: each variant needs at least %d referrals (%s has %d, %s has %d)",
			MinPerArm, a.Name, a.Referrals, b.Name, b.Referrals)
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
	if q.Kind == KindScript {
		if err := byMember(db, tenantID, start, end, arms); err != nil {
			return AB{}, err
		}
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
	out := AB{Period: p, Kind: q.Kind, MinPerArm: MinPerArm, Variants: []Variant{}, Comparisons: []Comparison{}}
	for i := range arms {
		arms[i].Rate = ratio(int64(arms[i].Conversions), int64(arms[i].Referrals))
		if arms[i].Referrals > 0 {
			lo, hi := Wilson(arms[i].Conversions, arms[i].Referrals)
			lo, hi = round(lo, 4), round(hi, 4)
			arms[i].RateLow, arms[i].RateHigh = &lo, &hi
		}
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
		out.Comparisons = append(out.Comparisons, compare(q.Kind, arms[0], b))
	}
	if len(out.Comparisons) == 1 {
		out.Verdict = out.Comparisons[0].Verdict
	} else if len(out.Comparisons) > 1 {
		out.Verdict = fmt.Sprintf("%d variants against %s: see each comparison", len(out.Comparisons), out.Baseline)
	}
	return out, nil
}

// compare tests b against the baseline a. For scripts it also says how
// much of the two arms comes from crew members who read both: when most
// referrals come from members who read only one (scripts assigned per
// member, as before they were assigned per visit), the verdict warns that
// the arms differ by who pitched.
func compare(kind string, a, b Variant) Comparison {
	c := present(TwoProportions(a, b), a, b)
	if kind != KindScript || a.Referrals == 0 || b.Referrals == 0 {
		return c
	}
	share := sharedMembers(a, b)
	r := round(share, 4)
	c.SharedMembers = &r
	if share < 0.5 {
		c.Verdict += fmt.Sprintf("; but only %.0f%% of these referrals come from crew members who read both scripts, "+
			"so the difference may be the people more than the words (%s: %s; %s: %s)",
			share*100, a.Name, a.memberSummary(3), b.Name, b.memberSummary(3))
	}
	return c
}

// memberSummary names the arm's first n members with their counts
// ("Sam 40 of 100, Kim 3 of 10"), and how many others.
func (v Variant) memberSummary(n int) string {
	var parts []string
	for i, m := range v.Members {
		if i == n {
			parts = append(parts, fmt.Sprintf("%d more", len(v.Members)-n))
			break
		}
		name := m.Name
		if name == "" {
			name = m.CrewMemberID
		}
		parts = append(parts, fmt.Sprintf("%s %d of %d", name, m.Conversions, m.Referrals))
	}
	if len(parts) == 0 {
		return "no crew member recorded"
	}
	return strings.Join(parts, ", ")
}

// byMember fills each script arm's per-member counts: who gave its
// referrals on site and how many converted.
func byMember(db *gorm.DB, tenantID string, start, end time.Time, arms []Variant) error {
	var rows []struct {
		Script      string
		Member      string
		Name        string
		Referrals   int
		Conversions int
	}
	err := db.Raw(`SELECT p.script, m.external_id AS member, m.name, COUNT(DISTINCT r.id) AS referrals,
			COUNT(DISTINCT CASE WHEN r.status = 'converted' THEN r.id END) AS conversions
		FROM pitches p JOIN referrals r ON r.id = p.referral_id AND r.tenant_id = p.tenant_id
		JOIN crew_members m ON m.id = p.crew_member_id AND m.tenant_id = p.tenant_id
		WHERE p.tenant_id = ? AND r.created_at >= ? AND r.created_at < ? AND p.script <> ''
		GROUP BY p.script, m.external_id, m.name ORDER BY referrals DESC, m.external_id`,
		tenantID, start, end).Scan(&rows).Error
	if err != nil {
		return fmt.Errorf("count scripts per member: %w", err)
	}
	for _, r := range rows {
		for i := range arms {
			if arms[i].Name == r.Script {
				arms[i].Members = append(arms[i].Members, MemberCount{CrewMemberID: r.Member, Name: r.Name,
					Referrals: r.Referrals, Conversions: r.Conversions})
			}
		}
	}
	return nil
}

// sharedMembers is the share of a's and b's referrals given by crew members
// who appear in both arms.
func sharedMembers(a, b Variant) float64 {
	in := func(v Variant) map[string]int {
		m := map[string]int{}
		for _, x := range v.Members {
			m[x.CrewMemberID] += x.Referrals
		}
		return m
	}
	ma, mb := in(a), in(b)
	shared, all := 0, 0
	for id, n := range ma {
		all += n
		if _, ok := mb[id]; ok {
			shared += n
		}
	}
	for id, n := range mb {
		all += n
		if _, ok := ma[id]; ok {
			shared += n
		}
	}
	if all == 0 {
		return 0
	}
	return float64(shared) / float64(all)
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
	header := []string{"from", "to", "kind", "variant", "referrals", "conversions", "conversion_rate",
		"conversion_rate_ci95_low", "conversion_rate_ci95_high", "baseline",
		"diff", "z", "p_value", "ci95_low", "ci95_high", "significant", "more_referrals_needed", "verdict", "crew_members"}
	tests := map[string]Comparison{}
	for _, c := range r.Comparisons {
		tests[c.B] = c
	}
	var out [][]string
	for _, v := range r.Variants {
		line := []string{r.From.String(), r.To.String(), r.Kind, v.Name, itoa(int64(v.Referrals)), itoa(int64(v.Conversions)), fptr(v.Rate),
			fptr(v.RateLow), fptr(v.RateHigh), r.Baseline}
		if c, ok := tests[v.Name]; ok {
			line = append(line, fptr(c.Diff), fptr(c.Z), fptr(c.PValue), fptr(c.CILow), fptr(c.CIHigh), fmt.Sprint(c.Significant), nptr(c.MoreNeeded), c.Verdict)
		} else {
			line = append(line, "", "", "", "", "", "", "", "")
		}
		members := ""
		if len(v.Members) > 0 {
			members = v.memberSummary(len(v.Members))
		}
		out = append(out, append(line, members))
	}
	return header, out
}
