package insight

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/dispatch"
	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/program"
)

// Ways to split the KPIs.
const (
	GroupByChannel = "channel"
	GroupByVariant = "variant"
	GroupByMonth   = "month"
	GroupByCrew    = "crew"
)

// Unassigned names the group of what has no channel, offer variant or crew
// (a friend who named nobody the program could match, a referral no crew
// member pitched, a line without a visit).
const Unassigned = "(none)"

// Row is one line of the KPI table: the whole program ("all"), one
// tenant-local month, one crew, or one channel or offer variant. Fields
// marked "total only" cannot be pinned on a channel or variant (sync
// discounts, crew bonus, route savings) and are null in those group rows;
// month rows carry every field; crew rows every field but the customer,
// visit and budget counts. See README "## Insights".
type Row struct {
	Group string `json:"group"`
	// From and To are a month row's days (its calendar month clipped to the
	// period); absent in other rows.
	From *localdate.Date `json:"from,omitempty"`
	To   *localdate.Date `json:"to,omitempty"`
	// Referrals created in the period; Conversions: how many of those have
	// converted by now; ConversionRate = Conversions / Referrals.
	Referrals      int      `json:"referrals"`
	Conversions    int      `json:"conversions"`
	ConversionRate *float64 `json:"conversion_rate"`
	// MedianDaysToConvert over those conversions (created_at → converted_at).
	MedianDaysToConvert *float64 `json:"median_days_to_convert"`
	// Acquired: referrals converted within the period, whenever created.
	Acquired int `json:"acquired"`
	// RevenueCents: the service lines, at the price billed before any
	// discount, of issued and paid invoices issued in the period to
	// converted referees, from the day they were referred.
	RevenueCents int64 `json:"revenue_cents"`
	// ContributionCents = revenue × the program's gross_margin_bps.
	ContributionCents int64 `json:"contribution_cents"`
	// RewardCostCents: referral rewards given on invoices issued in the
	// period (free add-ons at their value).
	RewardCostCents   int64  `json:"reward_cost_cents"`
	SyncDiscountCents *int64 `json:"sync_discount_cents"` // total only
	CrewPoints        *int64 `json:"crew_points"`         // total only
	CrewBonusCents    *int64 `json:"crew_bonus_cents"`    // total only
	// CostCents = reward cost + sync discounts + crew bonus, each given
	// amount counted once.
	CostCents         int64    `json:"cost_cents"`
	RouteSavingsCents *int64   `json:"route_savings_cents"` // total only
	KmSaved           *float64 `json:"km_saved"`            // total only
	// NetCents = contribution − cost + route savings; ROI = net / cost.
	NetCents             int64    `json:"net_cents"`
	ROI                  *float64 `json:"roi"`
	CostPerAcquiredCents *int64   `json:"cost_per_acquired_cents"`
	// New customers in the period and how many came by a converted referral.
	NewCustomers       *int     `json:"new_customers"`         // total only
	NewFromReferrals   *int     `json:"new_from_referrals"`    // total only
	ReferralShareOfNew *float64 `json:"referral_share_of_new"` // total only
	InvoicedVisits     *int     `json:"invoiced_visits"`       // total only
	SyncedVisits       *int     `json:"synced_visits"`         // total only
	SyncedVisitShare   *float64 `json:"synced_visit_share"`    // total only
}

// Budget is this tenant-local month's granted reward value against the
// program's monthly budget (0: no budget, share null).
type Budget struct {
	Month        string   `json:"month"`
	UsedCents    int64    `json:"used_cents"`
	BudgetCents  int64    `json:"budget_cents"`
	Share        *float64 `json:"share"`
	WaitingCount int64    `json:"pending_budget_rewards"`
}

// KPIs is the answer of GET /insights/kpis.
type KPIs struct {
	Period
	GroupBy string `json:"group_by"`
	// GrossMarginBps is the program's margin the contributions use.
	GrossMarginBps int    `json:"gross_margin_bps"`
	Total          Row    `json:"total"`
	Groups         []Row  `json:"groups"`
	Budget         Budget `json:"budget"`
}

// KPIQuery is what the owner asks for; Field names the parameter GroupBy
// came from, for errors ("group" unless told).
type KPIQuery struct {
	Range
	GroupBy string
	Field   string
}

// KPIs computes the program's numbers for a period, split by channel,
// offer variant, crew or tenant-local month.
func (s *Service) KPIs(ctx context.Context, tenantID string, q KPIQuery) (KPIs, error) {
	if q.Field == "" {
		q.Field = "group"
	}
	sp, err := s.splits(ctx, tenantID, q.Range, q.Field, []string{q.GroupBy})
	if err != nil {
		return KPIs{}, err
	}
	return sp.By[sp.groups[0]], nil
}

// Splits is one period's KPIs split several ways, with the route savings
// their rows count.
type Splits struct {
	By      map[string]KPIs // by GroupBy value
	Savings dispatch.Savings
	groups  []string
}

// KPISplits computes the KPIs of one period split each way asked for (""
// is by channel), as KPIs would one at a time, but sharing what the splits
// have in common: the period, the program, one route-savings measurement,
// the budget, and the whole-program rows (a month split's total is the
// channel split's).
func (s *Service) KPISplits(ctx context.Context, tenantID string, r Range, groups ...string) (Splits, error) {
	return s.splits(ctx, tenantID, r, "group", groups)
}

// groupings checks the ways asked for ("" is by channel); field names the
// parameter they came from, for errors.
func groupings(field string, groups []string) ([]string, error) {
	var out []string
	for _, g := range groups {
		if g == "" {
			g = GroupByChannel
		}
		switch g {
		case GroupByChannel, GroupByVariant, GroupByMonth, GroupByCrew:
		default:
			return nil, apperror.Invalid(field, "must be month, crew, channel or variant")
		}
		out = append(out, g)
	}
	return out, nil
}

func (s *Service) splits(ctx context.Context, tenantID string, r Range, field string, groups []string) (Splits, error) {
	out := Splits{By: map[string]KPIs{}}
	var err error
	if out.groups, err = groupings(field, groups); err != nil {
		return Splits{}, err
	}
	p, loc, err := s.resolve(ctx, tenantID, r)
	if err != nil {
		return Splits{}, err
	}
	if err := s.refresh(ctx, tenantID, loc); err != nil {
		return Splits{}, err
	}
	db := s.store.DB.WithContext(ctx)
	prog, err := program.Get(db, tenantID)
	if err != nil {
		return Splits{}, err
	}
	if out.Savings, err = s.dispatch.RouteSavings(ctx, tenantID, dispatch.SavingsQuery{From: p.From, To: p.To}); err != nil {
		return Splits{}, err
	}
	budget, err := s.budget(ctx, tenantID, prog, loc)
	if err != nil {
		return Splits{}, err
	}
	c := counter{s: s, ctx: ctx, tenantID: tenantID, prog: prog, loc: loc, savings: out.Savings.Rows}
	type whole struct {
		total  Row
		groups []Row
	}
	wholes := map[string]whole{} // the period's rows, by the referral grouping
	for _, g := range out.groups {
		if _, done := out.By[g]; done {
			continue
		}
		by := g
		if by == GroupByMonth {
			by = GroupByChannel // months are whole-program rows
		}
		w, ok := wholes[by]
		if !ok {
			if w.total, w.groups, err = c.rows(p, by); err != nil {
				return Splits{}, err
			}
			wholes[by] = w
		}
		k := KPIs{Period: p, GroupBy: g, GrossMarginBps: prog.GrossMarginBps, Total: w.total, Groups: w.groups, Budget: budget}
		if g == GroupByMonth {
			if k.Groups, err = c.monthRows(p); err != nil {
				return Splits{}, err
			}
		}
		out.By[g] = k
	}
	return out, nil
}

// monthRows are the whole-program rows of each tenant-local month of a
// period, each with its own days.
func (c counter) monthRows(p Period) ([]Row, error) {
	out := []Row{}
	for _, m := range months(p) {
		t, _, err := c.rows(m, GroupByChannel)
		if err != nil {
			return nil, err
		}
		from, to := m.From, m.To
		t.Group, t.From, t.To = fmt.Sprintf("%04d-%02d", m.From.Year, m.From.Month), &from, &to
		out = append(out, t)
	}
	return out, nil
}

// months splits a period into its tenant-local calendar months, the first
// and last clipped to the period.
func months(p Period) []Period {
	var out []Period
	for from := p.From; !p.To.Before(from); {
		first := localdate.Date{Year: from.Year, Month: from.Month, Day: 1}
		next := localdate.Of(first.Start(time.UTC).AddDate(0, 1, 0))
		to := next.AddDays(-1)
		if p.To.Before(to) {
			to = p.To
		}
		out = append(out, Period{From: from, To: to})
		from = next
	}
	return out
}

// counter computes the KPI rows of periods within one request.
type counter struct {
	s        *Service
	ctx      context.Context
	tenantID string
	prog     program.Program
	loc      *time.Location
	savings  []dispatch.SavingsRow // the request's whole period
}

// Group expressions, whitelisted: never user text in SQL. Referral-made
// numbers (counts, rewards) group by the referral (for crews: the crew of
// the member who pitched it); revenue by the referral, or for crews by the
// crew of the visit billed.
const crewOfReferral = ` LEFT JOIN crew_members cm ON cm.id = r.crew_member_id LEFT JOIN crews cr ON cr.id = cm.crew_id`

func referralGroup(by string) (expr, joins string) {
	switch by {
	case GroupByVariant:
		return "COALESCE(r.variant, '')", ""
	case GroupByCrew:
		return "COALESCE(cr.external_id, '')", crewOfReferral
	}
	return "COALESCE(r.channel, '')", ""
}

// rows computes the total and the group rows of one period: each query adds
// its numbers to a tally, then the tally becomes rows.
func (c counter) rows(p Period, by string) (Row, []Row, error) {
	t := c.tally(p, by)
	for _, step := range []func() error{
		t.countReferrals, t.readConversionDays, t.countAcquired, t.sumRevenue, t.sumRewardCost,
		t.countVisits, t.sumSyncDiscounts, t.sumCrewPoints, t.countNewCustomers,
	} {
		if err := step(); err != nil {
			return Row{}, nil, err
		}
	}
	t.addRouteSavings(c.savings)
	groups := t.groupRows(int64(c.prog.PointValueCents), c.finish)
	total := t.totalRow(int64(c.prog.PointValueCents), c.finish)
	return total, groups, nil
}

// tally gathers one period's numbers by group while the queries run.
type tally struct {
	db         *gorm.DB
	tenantID   string
	p          Period
	start, end time.Time // the period's UTC instants
	by         string
	grp, joins string // the referral grouping (referralGroup)

	rows    map[string]*Row
	days    map[string][]float64 // days to convert, by group
	allDays []float64
	// Sync discounts, crew points and route savings by crew (of the visit
	// discounted, of the member who earned the points, of the route) when
	// split by crew, under "" otherwise; the total is their sum.
	sync, points, saved map[string]int64
	kms                 map[string]float64
	visits              struct {
		Invoiced int
		Synced   int
	}
	fresh struct {
		Total    int
		Referred int
	}
}

// groupSum is one group's sum, as the money queries scan it.
type groupSum struct {
	Grp   string
	Cents int64
}

// rolled scopes a read of the day rollup (rollup.go) to the period.
const rolled = ` WHERE k.tenant_id = ? AND k.day >= ? AND k.day <= ?`

func (c counter) tally(p Period, by string) *tally {
	t := &tally{db: c.s.store.DB.WithContext(c.ctx), tenantID: c.tenantID, p: p, by: by,
		rows: map[string]*Row{}, days: map[string][]float64{},
		sync: map[string]int64{}, points: map[string]int64{}, saved: map[string]int64{}, kms: map[string]float64{}}
	t.start, t.end = p.bounds(c.loc)
	t.grp, t.joins = referralGroup(by)
	return t
}

// row is a group's row, made on first use; no group is Unassigned.
func (t *tally) row(g string) *Row {
	if g == "" {
		g = Unassigned
	}
	if t.rows[g] == nil {
		t.rows[g] = &Row{Group: g}
	}
	return t.rows[g]
}

// countReferrals counts the referrals created in the period and how many of
// them have converted by now.
func (t *tally) countReferrals() error {
	var counts []struct {
		Grp         string
		Referrals   int
		Conversions int
	}
	if err := t.db.Raw(`SELECT `+t.grp+` AS grp, COUNT(*) AS referrals,
			SUM(CASE WHEN r.status = 'converted' THEN 1 ELSE 0 END) AS conversions
		FROM referrals r`+t.joins+` WHERE r.tenant_id = ? AND r.created_at >= ? AND r.created_at < ? GROUP BY `+t.grp,
		t.tenantID, t.start, t.end).Scan(&counts).Error; err != nil {
		return fmt.Errorf("count referrals: %w", err)
	}
	for _, n := range counts {
		r := t.row(n.Grp)
		r.Referrals += n.Referrals
		r.Conversions += n.Conversions
	}
	return nil
}

// readConversionDays reads how long each converted referral of the period
// took, for the medians.
func (t *tally) readConversionDays() error {
	var converted []struct {
		Grp         string
		CreatedAt   time.Time
		ConvertedAt time.Time
	}
	if err := t.db.Raw(`SELECT `+t.grp+` AS grp, r.created_at, r.converted_at FROM referrals r`+t.joins+`
		WHERE r.tenant_id = ? AND r.created_at >= ? AND r.created_at < ? AND r.status = 'converted' AND r.converted_at IS NOT NULL`,
		t.tenantID, t.start, t.end).Scan(&converted).Error; err != nil {
		return fmt.Errorf("read conversions: %w", err)
	}
	for _, v := range converted {
		g := t.row(v.Grp).Group
		d := v.ConvertedAt.Sub(v.CreatedAt).Hours() / 24
		t.days[g] = append(t.days[g], d)
		t.allDays = append(t.allDays, d)
	}
	return nil
}

// countAcquired counts the referrals converted within the period, whenever
// created.
func (t *tally) countAcquired() error {
	var acquired []struct {
		Grp string
		N   int
	}
	if err := t.db.Raw(`SELECT `+t.grp+` AS grp, COUNT(*) AS n FROM referrals r`+t.joins+`
		WHERE r.tenant_id = ? AND r.status = 'converted' AND r.converted_at >= ? AND r.converted_at < ? GROUP BY `+t.grp,
		t.tenantID, t.start, t.end).Scan(&acquired).Error; err != nil {
		return fmt.Errorf("count acquired: %w", err)
	}
	for _, a := range acquired {
		t.row(a.Grp).Acquired += a.N
	}
	return nil
}

// sumRevenue sums the service lines (only the scheduler sends them: the
// price before any of routeloop's discount, reward or credit lines) of a
// converted friend's invoices issued since the friend was referred. A friend
// referred by two customers counts once, for the first converted referral.
// Read from the day rollup (rollup.go), by the referral's channel or
// variant, or by the crew of the visit billed.
func (t *tally) sumRevenue() error {
	revGrp, revJoins := "k.ref_channel", ""
	switch t.by {
	case GroupByVariant:
		revGrp = "k.ref_variant"
	case GroupByCrew:
		revGrp, revJoins = "COALESCE(cr.external_id, '')", ` LEFT JOIN crews cr ON cr.id = k.crew_id`
	}
	var money []groupSum
	if err := t.db.Raw(`SELECT `+revGrp+` AS grp, COALESCE(SUM(k.revenue_cents), 0) AS cents FROM kpi_day_groups k`+revJoins+
		rolled+` AND k.referred AND k.service_lines > 0 GROUP BY `+revGrp, t.tenantID, t.p.From, t.p.To).Scan(&money).Error; err != nil {
		return fmt.Errorf("sum referred revenue: %w", err)
	}
	for _, m := range money {
		t.row(m.Grp).RevenueCents += m.Cents
	}
	return nil
}

// sumRewardCost sums the rewards given on invoices issued in the period:
// every line that gives a reward names its ledger item ("reward:7"); a free
// add-on line is 0 on the invoice and costs the reward's value. These few
// lines have an index of their own (invoice_lines_reward), read by tenant:
// no pass over every line.
func (t *tally) sumRewardCost() error {
	var money []groupSum
	if err := t.db.Raw(`SELECT `+t.grp+` AS grp,
			COALESCE(SUM(CASE WHEN l.kind = 'addon' THEN rw.value_cents ELSE -l.amount_cents END), 0) AS cents
		FROM invoices i
		JOIN invoice_lines l ON l.invoice_id = i.id
		JOIN rewards rw ON rw.tenant_id = i.tenant_id AND l.item_key = ('reward:' || rw.id)
		LEFT JOIN referrals r ON r.id = rw.referral_id`+t.joins+`
		WHERE i.tenant_id = ? AND l.tenant_id = ? AND i.status IN ('issued', 'paid') AND i.issued_at >= ? AND i.issued_at < ?
			AND l.kind IN ('referral_reward', 'credit', 'addon')
		GROUP BY `+t.grp, t.tenantID, t.tenantID, t.start, t.end).Scan(&money).Error; err != nil {
		return fmt.Errorf("sum reward cost: %w", err)
	}
	for _, m := range money {
		t.row(m.Grp).RewardCostCents += m.Cents
	}
	return nil
}

// countVisits counts the period's invoiced visits and the synced ones.
func (t *tally) countVisits() error {
	if err := t.db.Raw(`SELECT COALESCE(SUM(k.invoiced_visits), 0) AS invoiced, COALESCE(SUM(k.synced_visits), 0) AS synced
		FROM kpi_days k`+rolled, t.tenantID, t.p.From, t.p.To).Scan(&t.visits).Error; err != nil {
		return fmt.Errorf("count invoiced visits: %w", err)
	}
	return nil
}

// sumSyncDiscounts sums the sync discounts given, by the crew of the visit
// discounted when split by crew.
func (t *tally) sumSyncDiscounts() error {
	syncGrp, syncJoins, syncBy := "''", "", ""
	if t.by == GroupByCrew {
		syncGrp, syncJoins = "COALESCE(cr.external_id, '')", ` LEFT JOIN crews cr ON cr.id = k.crew_id`
		syncBy = ` GROUP BY ` + syncGrp
	}
	var money []groupSum
	if err := t.db.Raw(`SELECT `+syncGrp+` AS grp, COALESCE(SUM(k.sync_cents), 0) AS cents FROM kpi_day_groups k`+syncJoins+
		rolled+` AND k.sync_lines > 0`+syncBy, t.tenantID, t.p.From, t.p.To).Scan(&money).Error; err != nil {
		return fmt.Errorf("sum sync discounts: %w", err)
	}
	for _, m := range money {
		t.sync[m.Grp] += m.Cents
	}
	return nil
}

// sumCrewPoints sums the crew points earned in the period, by the crew of
// the member who earned them when split by crew.
func (t *tally) sumCrewPoints() error {
	if t.by != GroupByCrew {
		var n int64
		if err := t.db.Raw(`SELECT COALESCE(SUM(points), 0) FROM crew_points WHERE tenant_id = ? AND created_at >= ? AND created_at < ?`,
			t.tenantID, t.start, t.end).Scan(&n).Error; err != nil {
			return fmt.Errorf("sum crew points: %w", err)
		}
		t.points[""] = n
		return nil
	}
	var money []groupSum
	if err := t.db.Raw(`SELECT COALESCE(cr.external_id, '') AS grp, COALESCE(SUM(p.points), 0) AS cents
		FROM crew_points p LEFT JOIN crew_members cm ON cm.id = p.crew_member_id LEFT JOIN crews cr ON cr.id = cm.crew_id
		WHERE p.tenant_id = ? AND p.created_at >= ? AND p.created_at < ?
		GROUP BY COALESCE(cr.external_id, '')`, t.tenantID, t.start, t.end).Scan(&money).Error; err != nil {
		return fmt.Errorf("sum crew points: %w", err)
	}
	for _, m := range money {
		t.points[m.Grp] += m.Cents
	}
	return nil
}

// addRouteSavings adds the route savings of the period's days, by the crew
// of the route.
func (t *tally) addRouteSavings(savings []dispatch.SavingsRow) {
	for _, r := range savings {
		if r.Date.Before(t.p.From) || t.p.To.Before(r.Date) {
			continue
		}
		t.saved[r.CrewID] += r.ValueCents
		t.kms[r.CrewID] += r.KmSaved
	}
}

// countNewCustomers counts the customers created in the period and how many
// of them came by a converted referral.
func (t *tally) countNewCustomers() error {
	if err := t.db.Raw(`SELECT COUNT(*) AS total, COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM referrals r
			WHERE r.tenant_id = c.tenant_id AND r.referee_customer_id = c.id AND r.status = 'converted') THEN 1 ELSE 0 END), 0) AS referred
		FROM customers c WHERE c.tenant_id = ? AND c.created_at >= ? AND c.created_at < ?`,
		t.tenantID, t.start, t.end).Scan(&t.fresh).Error; err != nil {
		return fmt.Errorf("count new customers: %w", err)
	}
	return nil
}

// groupRows are the tally's group rows by name; split by crew, every crew
// with a sync discount, points or route savings has one, and carries them.
func (t *tally) groupRows(pointValue int64, finish func(*Row, *int64)) []Row {
	if t.by == GroupByCrew {
		for _, m := range []map[string]int64{t.sync, t.points, t.saved} {
			for g := range m {
				t.row(g)
			}
		}
	}
	groups := []Row{}
	for _, g := range slices.Sorted(maps.Keys(t.rows)) {
		r := t.rows[g]
		r.MedianDaysToConvert = median(t.days[g])
		r.CostCents = r.RewardCostCents
		var sv *int64
		if t.by == GroupByCrew {
			key := g
			if g == Unassigned {
				key = ""
			}
			sc, pts, value, km := t.sync[key], t.points[key], t.saved[key], round(t.kms[key], 2)
			bonus := pts * pointValue
			r.SyncDiscountCents, r.CrewPoints, r.CrewBonusCents, r.RouteSavingsCents, r.KmSaved = &sc, &pts, &bonus, &value, &km
			r.CostCents += sc + bonus
			sv = &value
		}
		finish(r, sv)
		groups = append(groups, *r)
	}
	return groups
}

// totalRow is the whole period's row: the groups' sums, with the numbers
// only the total carries.
func (t *tally) totalRow(pointValue int64, finish func(*Row, *int64)) Row {
	total := Row{Group: "all"}
	for _, r := range t.rows {
		total.Referrals += r.Referrals
		total.Conversions += r.Conversions
		total.Acquired += r.Acquired
		total.RevenueCents += r.RevenueCents
		total.RewardCostCents += r.RewardCostCents
	}
	total.MedianDaysToConvert = median(t.allDays)
	var sc, pts, value int64
	var km float64
	for _, v := range t.sync {
		sc += v
	}
	for _, v := range t.points {
		pts += v
	}
	for g, v := range t.saved {
		value += v
		km += t.kms[g]
	}
	bonus := pts * pointValue
	km = round(km, 2)
	total.SyncDiscountCents, total.CrewPoints, total.CrewBonusCents = &sc, &pts, &bonus
	total.RouteSavingsCents, total.KmSaved = &value, &km
	total.CostCents = total.RewardCostCents + sc + bonus
	finish(&total, &value)
	total.NewCustomers, total.NewFromReferrals = &t.fresh.Total, &t.fresh.Referred
	total.ReferralShareOfNew = ratio(int64(t.fresh.Referred), int64(t.fresh.Total))
	total.InvoicedVisits, total.SyncedVisits = &t.visits.Invoiced, &t.visits.Synced
	total.SyncedVisitShare = ratio(int64(t.visits.Synced), int64(t.visits.Invoiced))
	return total
}

// finish derives contribution, rate, net, ROI and cost per acquired
// customer; savings is nil where route savings are not pinned on the row.
func (c counter) finish(r *Row, savings *int64) {
	r.ContributionCents = invoice.PercentOf(r.RevenueCents, c.prog.GrossMarginBps)
	r.ConversionRate = ratio(int64(r.Conversions), int64(r.Referrals))
	r.NetCents = r.ContributionCents - r.CostCents
	if savings != nil {
		r.NetCents += *savings
	}
	r.ROI = ratio(r.NetCents, r.CostCents)
	if r.Acquired > 0 {
		c := int64(math.Round(float64(r.CostCents) / float64(r.Acquired)))
		r.CostPerAcquiredCents = &c
	}
}

// budget is this tenant-local month's granted reward value against the budget.
func (s *Service) budget(ctx context.Context, tenantID string, prog program.Program, loc *time.Location) (Budget, error) {
	today := localdate.In(s.clock.Now(), loc)
	b := Budget{Month: fmt.Sprintf("%04d-%02d", today.Year, today.Month), BudgetCents: prog.MonthlyBudgetCents}
	db := s.store.DB.WithContext(ctx)
	if err := db.Raw(`SELECT COALESCE(SUM(value_cents), 0) FROM rewards WHERE tenant_id = ? AND status = 'granted' AND budget_month = ?`,
		tenantID, b.Month).Scan(&b.UsedCents).Error; err != nil {
		return b, fmt.Errorf("read budget use: %w", err)
	}
	if err := db.Raw(`SELECT COUNT(*) FROM rewards WHERE tenant_id = ? AND status = 'pending_budget'`, tenantID).Scan(&b.WaitingCount).Error; err != nil {
		return b, fmt.Errorf("read budget use: %w", err)
	}
	b.Share = ratio(b.UsedCents, b.BudgetCents)
	return b, nil
}

// ratio is a / b rounded to 4 decimals, or nil when b is 0.
func ratio(a, b int64) *float64 {
	if b == 0 {
		return nil
	}
	v := round(float64(a)/float64(b), 4)
	return &v
}

func round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}

// median of days, rounded to 0.1 day; nil for none.
func median(days []float64) *float64 {
	if len(days) == 0 {
		return nil
	}
	d := append([]float64(nil), days...)
	sort.Float64s(d)
	m := d[len(d)/2]
	if len(d)%2 == 0 {
		m = (d[len(d)/2-1] + d[len(d)/2]) / 2
	}
	m = round(m, 1)
	return &m
}

// Table is the KPI table for CSV: the total first, then each group (a
// month row with its own days in from and to).
func (k KPIs) Table() ([]string, [][]string) {
	header := []string{"from", "to", "group_by", "group", "referrals", "conversions", "conversion_rate", "median_days_to_convert",
		"acquired", "revenue_cents", "gross_margin_bps", "contribution_cents", "reward_cost_cents", "sync_discount_cents", "crew_points",
		"crew_bonus_cents", "cost_cents", "route_savings_cents", "km_saved", "net_cents", "roi", "cost_per_acquired_cents", "new_customers",
		"new_from_referrals", "referral_share_of_new", "invoiced_visits", "synced_visits", "synced_visit_share",
		"budget_month", "budget_used_cents", "budget_cents", "budget_share"}
	var out [][]string
	for i, r := range append([]Row{k.Total}, k.Groups...) {
		from, to := k.From, k.To
		if r.From != nil && r.To != nil {
			from, to = *r.From, *r.To
		}
		line := []string{from.String(), to.String(), k.GroupBy, r.Group, itoa(int64(r.Referrals)), itoa(int64(r.Conversions)),
			fptr(r.ConversionRate), fptr(r.MedianDaysToConvert), itoa(int64(r.Acquired)), itoa(r.RevenueCents),
			itoa(int64(k.GrossMarginBps)), itoa(r.ContributionCents), itoa(r.RewardCostCents),
			iptr(r.SyncDiscountCents), iptr(r.CrewPoints), iptr(r.CrewBonusCents), itoa(r.CostCents), iptr(r.RouteSavingsCents),
			fptr(r.KmSaved), itoa(r.NetCents), fptr(r.ROI), iptr(r.CostPerAcquiredCents), nptr(r.NewCustomers), nptr(r.NewFromReferrals),
			fptr(r.ReferralShareOfNew), nptr(r.InvoicedVisits), nptr(r.SyncedVisits), fptr(r.SyncedVisitShare)}
		if i == 0 {
			line = append(line, k.Budget.Month, itoa(k.Budget.UsedCents), itoa(k.Budget.BudgetCents), fptr(k.Budget.Share))
		} else {
			line = append(line, "", "", "", "")
		}
		out = append(out, line)
	}
	return header, out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func iptr(n *int64) string {
	if n == nil {
		return ""
	}
	return itoa(*n)
}

func nptr(n *int) string {
	if n == nil {
		return ""
	}
	return strconv.Itoa(*n)
}

func fptr(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}
