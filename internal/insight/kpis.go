package insight

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

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

func (s *Service) splits(ctx context.Context, tenantID string, r Range, field string, groups []string) (Splits, error) {
	out := Splits{By: map[string]KPIs{}}
	for _, g := range groups {
		if g == "" {
			g = GroupByChannel
		}
		switch g {
		case GroupByChannel, GroupByVariant, GroupByMonth, GroupByCrew:
		default:
			return Splits{}, apperror.Invalid(field, "must be month, crew, channel or variant")
		}
		out.groups = append(out.groups, g)
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
			k.Groups = []Row{}
			for _, m := range months(p) {
				t, _, err := c.rows(m, GroupByChannel)
				if err != nil {
					return Splits{}, err
				}
				from, to := m.From, m.To
				t.Group, t.From, t.To = fmt.Sprintf("%04d-%02d", m.From.Year, m.From.Month), &from, &to
				k.Groups = append(k.Groups, t)
			}
		}
		out.By[g] = k
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

// rows computes the total and the group rows of one period.
func (c counter) rows(p Period, by string) (Row, []Row, error) {
	db, tenantID := c.s.store.DB.WithContext(c.ctx), c.tenantID
	start, end := p.bounds(c.loc)
	rows := map[string]*Row{}
	row := func(g string) *Row {
		if g == "" {
			g = Unassigned
		}
		if rows[g] == nil {
			rows[g] = &Row{Group: g}
		}
		return rows[g]
	}
	grp, joins := referralGroup(by)

	var counts []struct {
		Grp         string
		Referrals   int
		Conversions int
	}
	if err := db.Raw(`SELECT `+grp+` AS grp, COUNT(*) AS referrals,
			SUM(CASE WHEN r.status = 'converted' THEN 1 ELSE 0 END) AS conversions
		FROM referrals r`+joins+` WHERE r.tenant_id = ? AND r.created_at >= ? AND r.created_at < ? GROUP BY `+grp,
		tenantID, start, end).Scan(&counts).Error; err != nil {
		return Row{}, nil, fmt.Errorf("count referrals: %w", err)
	}
	for _, n := range counts {
		r := row(n.Grp)
		r.Referrals += n.Referrals
		r.Conversions += n.Conversions
	}

	var converted []struct {
		Grp         string
		CreatedAt   time.Time
		ConvertedAt time.Time
	}
	if err := db.Raw(`SELECT `+grp+` AS grp, r.created_at, r.converted_at FROM referrals r`+joins+`
		WHERE r.tenant_id = ? AND r.created_at >= ? AND r.created_at < ? AND r.status = 'converted' AND r.converted_at IS NOT NULL`,
		tenantID, start, end).Scan(&converted).Error; err != nil {
		return Row{}, nil, fmt.Errorf("read conversions: %w", err)
	}
	days := map[string][]float64{}
	var allDays []float64
	for _, v := range converted {
		g := row(v.Grp).Group
		d := v.ConvertedAt.Sub(v.CreatedAt).Hours() / 24
		days[g] = append(days[g], d)
		allDays = append(allDays, d)
	}

	var acquired []struct {
		Grp string
		N   int
	}
	if err := db.Raw(`SELECT `+grp+` AS grp, COUNT(*) AS n FROM referrals r`+joins+`
		WHERE r.tenant_id = ? AND r.status = 'converted' AND r.converted_at >= ? AND r.converted_at < ? GROUP BY `+grp,
		tenantID, start, end).Scan(&acquired).Error; err != nil {
		return Row{}, nil, fmt.Errorf("count acquired: %w", err)
	}
	for _, a := range acquired {
		row(a.Grp).Acquired += a.N
	}

	var money []struct {
		Grp   string
		Cents int64
	}
	// Revenue: the service lines (only the scheduler sends them: the price
	// before any of routeloop's discount, reward or credit lines) of a
	// converted friend's invoices issued since the friend was referred. A
	// friend referred by two customers counts once, for the first converted
	// referral. Read from the day rollup (rollup.go), by the referral's
	// channel or variant, or by the crew of the visit billed.
	revGrp, revJoins := "k.ref_channel", ""
	switch by {
	case GroupByVariant:
		revGrp = "k.ref_variant"
	case GroupByCrew:
		revGrp, revJoins = "COALESCE(cr.external_id, '')", ` LEFT JOIN crews cr ON cr.id = k.crew_id`
	}
	const rolled = ` WHERE k.tenant_id = ? AND k.day >= ? AND k.day <= ?`
	if err := db.Raw(`SELECT `+revGrp+` AS grp, COALESCE(SUM(k.revenue_cents), 0) AS cents FROM kpi_day_groups k`+revJoins+
		rolled+` AND k.referred AND k.service_lines > 0 GROUP BY `+revGrp, tenantID, p.From, p.To).Scan(&money).Error; err != nil {
		return Row{}, nil, fmt.Errorf("sum referred revenue: %w", err)
	}
	for _, m := range money {
		row(m.Grp).RevenueCents += m.Cents
	}

	money = nil
	// Rewards: every line that gives a reward names its ledger item
	// ("reward:7"); a free add-on line is 0 on the invoice and costs the
	// reward's value. These few lines have an index of their own
	// (invoice_lines_reward), read by tenant: no pass over every line.
	if err := db.Raw(`SELECT `+grp+` AS grp,
			COALESCE(SUM(CASE WHEN l.kind = 'addon' THEN rw.value_cents ELSE -l.amount_cents END), 0) AS cents
		FROM invoices i
		JOIN invoice_lines l ON l.invoice_id = i.id
		JOIN rewards rw ON rw.tenant_id = i.tenant_id AND l.item_key = ('reward:' || rw.id)
		LEFT JOIN referrals r ON r.id = rw.referral_id`+joins+`
		WHERE i.tenant_id = ? AND l.tenant_id = ? AND i.status IN ('issued', 'paid') AND i.issued_at >= ? AND i.issued_at < ?
			AND l.kind IN ('referral_reward', 'credit', 'addon')
		GROUP BY `+grp, tenantID, tenantID, start, end).Scan(&money).Error; err != nil {
		return Row{}, nil, fmt.Errorf("sum reward cost: %w", err)
	}
	for _, m := range money {
		row(m.Grp).RewardCostCents += m.Cents
	}

	// Sync discounts, crew points and route savings by crew (of the visit
	// discounted, of the member who earned the points, of the route) when
	// split by crew, under "" otherwise; the total is their sum.
	sync, points := map[string]int64{}, map[string]int64{}
	var visits struct {
		Invoiced int
		Synced   int
	}
	if err := db.Raw(`SELECT COALESCE(SUM(k.invoiced_visits), 0) AS invoiced, COALESCE(SUM(k.synced_visits), 0) AS synced
		FROM kpi_days k`+rolled, tenantID, p.From, p.To).Scan(&visits).Error; err != nil {
		return Row{}, nil, fmt.Errorf("count invoiced visits: %w", err)
	}
	syncGrp, syncJoins, syncBy := "''", "", ""
	if by == GroupByCrew {
		syncGrp, syncJoins = "COALESCE(cr.external_id, '')", ` LEFT JOIN crews cr ON cr.id = k.crew_id`
		syncBy = ` GROUP BY ` + syncGrp
	}
	money = nil
	if err := db.Raw(`SELECT `+syncGrp+` AS grp, COALESCE(SUM(k.sync_cents), 0) AS cents FROM kpi_day_groups k`+syncJoins+
		rolled+` AND k.sync_lines > 0`+syncBy, tenantID, p.From, p.To).Scan(&money).Error; err != nil {
		return Row{}, nil, fmt.Errorf("sum sync discounts: %w", err)
	}
	for _, m := range money {
		sync[m.Grp] += m.Cents
	}
	if by == GroupByCrew {
		money = nil
		if err := db.Raw(`SELECT COALESCE(cr.external_id, '') AS grp, COALESCE(SUM(p.points), 0) AS cents
			FROM crew_points p LEFT JOIN crew_members cm ON cm.id = p.crew_member_id LEFT JOIN crews cr ON cr.id = cm.crew_id
			WHERE p.tenant_id = ? AND p.created_at >= ? AND p.created_at < ?
			GROUP BY COALESCE(cr.external_id, '')`, tenantID, start, end).Scan(&money).Error; err != nil {
			return Row{}, nil, fmt.Errorf("sum crew points: %w", err)
		}
		for _, m := range money {
			points[m.Grp] += m.Cents
		}
	} else {
		var n int64
		if err := db.Raw(`SELECT COALESCE(SUM(points), 0) FROM crew_points WHERE tenant_id = ? AND created_at >= ? AND created_at < ?`,
			tenantID, start, end).Scan(&n).Error; err != nil {
			return Row{}, nil, fmt.Errorf("sum crew points: %w", err)
		}
		points[""] = n
	}
	saved := map[string]int64{}
	kms := map[string]float64{}
	for _, r := range c.savings {
		if r.Date.Before(p.From) || p.To.Before(r.Date) {
			continue
		}
		saved[r.CrewID] += r.ValueCents
		kms[r.CrewID] += r.KmSaved
	}

	var fresh struct {
		Total    int
		Referred int
	}
	if err := db.Raw(`SELECT COUNT(*) AS total, COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM referrals r
			WHERE r.tenant_id = c.tenant_id AND r.referee_customer_id = c.id AND r.status = 'converted') THEN 1 ELSE 0 END), 0) AS referred
		FROM customers c WHERE c.tenant_id = ? AND c.created_at >= ? AND c.created_at < ?`,
		tenantID, start, end).Scan(&fresh).Error; err != nil {
		return Row{}, nil, fmt.Errorf("count new customers: %w", err)
	}

	pv := int64(c.prog.PointValueCents)
	if by == GroupByCrew {
		for _, m := range []map[string]int64{sync, points, saved} {
			for g := range m {
				row(g)
			}
		}
	}
	names := make([]string, 0, len(rows))
	for g := range rows {
		names = append(names, g)
	}
	sort.Strings(names)
	total := Row{Group: "all"}
	var groups []Row
	for _, g := range names {
		r := rows[g]
		r.MedianDaysToConvert = median(days[g])
		r.CostCents = r.RewardCostCents
		var sv *int64
		if by == GroupByCrew {
			key := g
			if g == Unassigned {
				key = ""
			}
			sc, pts, value, km := sync[key], points[key], saved[key], round(kms[key], 2)
			bonus := pts * pv
			r.SyncDiscountCents, r.CrewPoints, r.CrewBonusCents, r.RouteSavingsCents, r.KmSaved = &sc, &pts, &bonus, &value, &km
			r.CostCents += sc + bonus
			sv = &value
		}
		c.finish(r, sv)
		groups = append(groups, *r)
		total.Referrals += r.Referrals
		total.Conversions += r.Conversions
		total.Acquired += r.Acquired
		total.RevenueCents += r.RevenueCents
		total.RewardCostCents += r.RewardCostCents
	}
	total.MedianDaysToConvert = median(allDays)
	var sc, pts, value int64
	var km float64
	for _, v := range sync {
		sc += v
	}
	for _, v := range points {
		pts += v
	}
	for g, v := range saved {
		value += v
		km += kms[g]
	}
	bonus := pts * pv
	km = round(km, 2)
	total.SyncDiscountCents, total.CrewPoints, total.CrewBonusCents = &sc, &pts, &bonus
	total.RouteSavingsCents, total.KmSaved = &value, &km
	total.CostCents = total.RewardCostCents + sc + bonus
	c.finish(&total, &value)
	total.NewCustomers, total.NewFromReferrals = &fresh.Total, &fresh.Referred
	total.ReferralShareOfNew = ratio(int64(fresh.Referred), int64(fresh.Total))
	total.InvoicedVisits, total.SyncedVisits = &visits.Invoiced, &visits.Synced
	total.SyncedVisitShare = ratio(int64(visits.Synced), int64(visits.Invoiced))
	if groups == nil {
		groups = []Row{}
	}
	return total, groups, nil
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
