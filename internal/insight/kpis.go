package insight

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/program"
)

// Ways to split the KPIs.
const (
	GroupByChannel = "channel"
	GroupByVariant = "variant"
)

// Unassigned names the group of referrals with no offer variant (a friend
// who named nobody the program could match).
const Unassigned = "(none)"

// Row is one line of the KPI table: the whole program ("all") or one
// channel or offer variant. Fields marked "total only" cannot be pinned on a
// channel (sync discounts, crew bonus, route savings, new customers, synced
// visits, budget) and are null in group rows. See README "## Insights".
type Row struct {
	Group string `json:"group"`
	// Referrals created in the period; Conversions: how many of those have
	// converted by now; ConversionRate = Conversions / Referrals.
	Referrals      int      `json:"referrals"`
	Conversions    int      `json:"conversions"`
	ConversionRate *float64 `json:"conversion_rate"`
	// MedianDaysToConvert over those conversions (created_at → converted_at).
	MedianDaysToConvert *float64 `json:"median_days_to_convert"`
	// Acquired: referrals converted within the period, whenever created.
	Acquired int `json:"acquired"`
	// RevenueCents: totals of issued and paid invoices issued in the period
	// to referees of converted referrals.
	RevenueCents int64 `json:"revenue_cents"`
	// RewardCostCents: referral rewards on invoices issued in the period.
	RewardCostCents   int64  `json:"reward_cost_cents"`
	SyncDiscountCents *int64 `json:"sync_discount_cents"` // total only
	CrewPoints        *int64 `json:"crew_points"`         // total only
	CrewBonusCents    *int64 `json:"crew_bonus_cents"`    // total only
	CostCents         int64  `json:"cost_cents"`
	RouteSavingsCents *int64 `json:"route_savings_cents"` // total only
	// NetCents = revenue + savings − cost; ROI = net / cost.
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
	Total   Row    `json:"total"`
	Groups  []Row  `json:"groups"`
	Budget  Budget `json:"budget"`
}

// KPIQuery is what the owner asks for.
type KPIQuery struct {
	Range
	GroupBy string
}

// KPIs computes the program's numbers for a period, split by channel or
// offer variant.
func (s *Service) KPIs(ctx context.Context, tenantID string, q KPIQuery) (KPIs, error) {
	if q.GroupBy == "" {
		q.GroupBy = GroupByChannel
	}
	if q.GroupBy != GroupByChannel && q.GroupBy != GroupByVariant {
		return KPIs{}, apperror.Invalid("group_by", "must be channel or variant")
	}
	p, loc, err := s.resolve(ctx, tenantID, q.Range)
	if err != nil {
		return KPIs{}, err
	}
	db := s.store.DB.WithContext(ctx)
	prog, err := program.Get(db, tenantID)
	if err != nil {
		return KPIs{}, err
	}
	start, end := p.bounds(loc)
	col := "channel" // whitelisted above; never user text in SQL
	if q.GroupBy == GroupByVariant {
		col = "variant"
	}
	out := KPIs{Period: p, GroupBy: q.GroupBy, Groups: []Row{}}
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

	var counts []struct {
		Grp         string
		Referrals   int
		Conversions int
	}
	if err := db.Raw(`SELECT `+col+` AS grp, COUNT(*) AS referrals,
			SUM(CASE WHEN status = 'converted' THEN 1 ELSE 0 END) AS conversions
		FROM referrals WHERE tenant_id = ? AND created_at >= ? AND created_at < ? GROUP BY `+col,
		tenantID, start, end).Scan(&counts).Error; err != nil {
		return KPIs{}, fmt.Errorf("count referrals: %w", err)
	}
	for _, c := range counts {
		r := row(c.Grp)
		r.Referrals += c.Referrals
		r.Conversions += c.Conversions
	}

	var converted []struct {
		Grp         string
		CreatedAt   time.Time
		ConvertedAt time.Time
	}
	if err := db.Raw(`SELECT `+col+` AS grp, created_at, converted_at FROM referrals
		WHERE tenant_id = ? AND created_at >= ? AND created_at < ? AND status = 'converted' AND converted_at IS NOT NULL`,
		tenantID, start, end).Scan(&converted).Error; err != nil {
		return KPIs{}, fmt.Errorf("read conversions: %w", err)
	}
	days := map[string][]float64{}
	var allDays []float64
	for _, c := range converted {
		g := row(c.Grp).Group
		d := c.ConvertedAt.Sub(c.CreatedAt).Hours() / 24
		days[g] = append(days[g], d)
		allDays = append(allDays, d)
	}

	var acquired []struct {
		Grp string
		N   int
	}
	if err := db.Raw(`SELECT `+col+` AS grp, COUNT(*) AS n FROM referrals
		WHERE tenant_id = ? AND status = 'converted' AND converted_at >= ? AND converted_at < ? GROUP BY `+col,
		tenantID, start, end).Scan(&acquired).Error; err != nil {
		return KPIs{}, fmt.Errorf("count acquired: %w", err)
	}
	for _, a := range acquired {
		row(a.Grp).Acquired += a.N
	}

	var money []struct {
		Grp   string
		Cents int64
	}
	// A friend referred by two customers counts once, for the first
	// referral: the converted one no earlier converted referral of the same
	// friend precedes. Driven by the period's invoices (invoices_issued),
	// each checked against referrals_referee_converted.
	if err := db.Raw(`SELECT r.`+col+` AS grp, COALESCE(SUM(i.total_cents), 0) AS cents
		FROM invoices i
		JOIN referrals r ON r.tenant_id = i.tenant_id AND r.referee_customer_id = i.customer_id AND r.status = 'converted'
		WHERE i.tenant_id = ? AND i.status IN ('issued', 'paid') AND i.issued_at >= ? AND i.issued_at < ?
			AND NOT EXISTS (SELECT 1 FROM referrals o WHERE o.tenant_id = r.tenant_id
				AND o.referee_customer_id = r.referee_customer_id AND o.status = 'converted' AND o.id < r.id)
		GROUP BY r.`+col, tenantID, start, end).Scan(&money).Error; err != nil {
		return KPIs{}, fmt.Errorf("sum referred revenue: %w", err)
	}
	for _, m := range money {
		row(m.Grp).RevenueCents += m.Cents
	}

	money = nil
	// Reward lines name their ledger item ("reward:7"); a free add-on line
	// is 0 on the invoice and costs the add-on's value.
	if err := db.Raw(`SELECT r.`+col+` AS grp,
			COALESCE(SUM(CASE WHEN l.kind = 'addon' THEN rw.amount_cents ELSE -l.amount_cents END), 0) AS cents
		FROM invoices i
		JOIN invoice_lines l ON l.invoice_id = i.id
		JOIN rewards rw ON rw.tenant_id = i.tenant_id AND l.item_key = ('reward:' || rw.id)
		JOIN referrals r ON r.id = rw.referral_id
		WHERE i.tenant_id = ? AND i.status IN ('issued', 'paid') AND i.issued_at >= ? AND i.issued_at < ?
			AND l.kind IN ('referral_reward', 'credit', 'addon')
		GROUP BY r.`+col, tenantID, start, end).Scan(&money).Error; err != nil {
		return KPIs{}, fmt.Errorf("sum reward cost: %w", err)
	}
	for _, m := range money {
		row(m.Grp).RewardCostCents += m.Cents
	}

	var lines struct {
		SyncCents int64
		Invoiced  int
		Synced    int
	}
	// invoice_lines_kind covers these columns, so once the table is vacuumed
	// Postgres can read the period's lines by index instead of a full scan.
	if err := db.Raw(`SELECT
			COALESCE(SUM(CASE WHEN l.kind = 'sync_discount' OR (l.kind = 'credit' AND l.item_key LIKE 'sync:%')
				THEN -l.amount_cents ELSE 0 END), 0) AS sync_cents,
			COUNT(DISTINCT CASE WHEN l.kind = 'service' THEN l.visit_id END) AS invoiced,
			COUNT(DISTINCT CASE WHEN l.kind = 'sync_discount' THEN l.visit_id END) AS synced
		FROM invoices i JOIN invoice_lines l ON l.invoice_id = i.id
		WHERE i.tenant_id = ? AND i.status IN ('issued', 'paid') AND i.issued_at >= ? AND i.issued_at < ?`,
		tenantID, start, end).Scan(&lines).Error; err != nil {
		return KPIs{}, fmt.Errorf("sum sync discounts: %w", err)
	}

	var points int64
	if err := db.Raw(`SELECT COALESCE(SUM(points), 0) FROM crew_points WHERE tenant_id = ? AND created_at >= ? AND created_at < ?`,
		tenantID, start, end).Scan(&points).Error; err != nil {
		return KPIs{}, fmt.Errorf("sum crew points: %w", err)
	}

	savings, err := s.dispatch.RouteSavings(ctx, tenantID, p.From, p.To)
	if err != nil {
		return KPIs{}, err
	}

	var fresh struct {
		Total    int
		Referred int
	}
	if err := db.Raw(`SELECT COUNT(*) AS total, COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM referrals r
			WHERE r.tenant_id = c.tenant_id AND r.referee_customer_id = c.id AND r.status = 'converted') THEN 1 ELSE 0 END), 0) AS referred
		FROM customers c WHERE c.tenant_id = ? AND c.created_at >= ? AND c.created_at < ?`,
		tenantID, start, end).Scan(&fresh).Error; err != nil {
		return KPIs{}, fmt.Errorf("count new customers: %w", err)
	}

	if out.Budget, err = s.budget(ctx, tenantID, prog, loc); err != nil {
		return KPIs{}, err
	}

	names := make([]string, 0, len(rows))
	for g := range rows {
		names = append(names, g)
	}
	sort.Strings(names)
	total := Row{Group: "all"}
	for _, g := range names {
		r := rows[g]
		r.MedianDaysToConvert = median(days[g])
		r.CostCents = r.RewardCostCents
		finish(r, 0)
		out.Groups = append(out.Groups, *r)
		total.Referrals += r.Referrals
		total.Conversions += r.Conversions
		total.Acquired += r.Acquired
		total.RevenueCents += r.RevenueCents
		total.RewardCostCents += r.RewardCostCents
	}
	total.MedianDaysToConvert = median(allDays)
	bonus := points * int64(prog.PointValueCents)
	total.SyncDiscountCents, total.CrewPoints, total.CrewBonusCents = &lines.SyncCents, &points, &bonus
	total.RouteSavingsCents = &savings.ValueCents
	total.CostCents = total.RewardCostCents + lines.SyncCents + bonus
	finish(&total, savings.ValueCents)
	total.NewCustomers, total.NewFromReferrals = &fresh.Total, &fresh.Referred
	total.ReferralShareOfNew = ratio(int64(fresh.Referred), int64(fresh.Total))
	total.InvoicedVisits, total.SyncedVisits = &lines.Invoiced, &lines.Synced
	total.SyncedVisitShare = ratio(int64(lines.Synced), int64(lines.Invoiced))
	out.Total = total
	return out, nil
}

// finish derives rate, net, ROI and cost per acquired customer.
func finish(r *Row, savings int64) {
	r.ConversionRate = ratio(int64(r.Conversions), int64(r.Referrals))
	r.NetCents = r.RevenueCents + savings - r.CostCents
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

// Table is the KPI table for CSV: the total first, then each group.
func (k KPIs) Table() ([]string, [][]string) {
	header := []string{"from", "to", "group_by", "group", "referrals", "conversions", "conversion_rate", "median_days_to_convert",
		"acquired", "revenue_cents", "reward_cost_cents", "sync_discount_cents", "crew_points", "crew_bonus_cents", "cost_cents",
		"route_savings_cents", "net_cents", "roi", "cost_per_acquired_cents", "new_customers", "new_from_referrals",
		"referral_share_of_new", "invoiced_visits", "synced_visits", "synced_visit_share",
		"budget_month", "budget_used_cents", "budget_cents", "budget_share"}
	var out [][]string
	for i, r := range append([]Row{k.Total}, k.Groups...) {
		line := []string{k.From.String(), k.To.String(), k.GroupBy, r.Group, itoa(int64(r.Referrals)), itoa(int64(r.Conversions)),
			fptr(r.ConversionRate), fptr(r.MedianDaysToConvert), itoa(int64(r.Acquired)), itoa(r.RevenueCents), itoa(r.RewardCostCents),
			iptr(r.SyncDiscountCents), iptr(r.CrewPoints), iptr(r.CrewBonusCents), itoa(r.CostCents), iptr(r.RouteSavingsCents),
			itoa(r.NetCents), fptr(r.ROI), iptr(r.CostPerAcquiredCents), nptr(r.NewCustomers), nptr(r.NewFromReferrals),
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
