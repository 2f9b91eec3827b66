package insight

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/tenant"
)

// The KPIs' invoice numbers (referred revenue, sync discounts, invoiced and
// synced visits) are read from a rollup per tenant-local day of issue
// (migration 0019): a year is a few hundred rows, not every invoice line.
//
// The rollup is a function of the facts alone. The database marks a moment
// dirty (kpi_dirty) in the same transaction as any write that can change a
// day's numbers: an invoice issued, paid, voided or re-dated, a line of an
// issued invoice, a referral converting or changing its channel or variant,
// a visit given to another crew. Before answering, the KPIs work out again
// every dirty day (refresh), so an answer always counts every fact
// committed before it; a new tenant zone works out every day again.

// rollupSpan is how many consecutive days one statement may work out: each
// reads the invoices of its range from the index by its bounds.
const rollupSpan = 31

// syncLine is an invoice line that gives a same-day discount: the discount
// line of a draft, or the credit for a sync found after issue.
const syncLine = `(l.kind = 'sync_discount' OR (l.kind = 'credit' AND l.item_key LIKE 'sync:%'))`

// Refresh brings the tenant's KPI rollups (invoices, and the route savings
// they count) up to date with the facts (the KPIs do it before they answer;
// the hourly job does it ahead of them).
func (s *Service) Refresh(ctx context.Context, tenantID string) error {
	loc, err := tenant.LocationOf(s.store.DB.WithContext(ctx), tenantID)
	if err != nil {
		return err
	}
	if err := s.refresh(ctx, tenantID, loc); err != nil {
		return err
	}
	return s.dispatch.RefreshRoutes(ctx, tenantID)
}

func (s *Service) refresh(ctx context.Context, tenantID string, loc *time.Location) error {
	return s.store.Tx(ctx, func(tx *gorm.DB) error {
		// One refresher per tenant at a time: two would each delete the
		// other's fresh rows of a day. Writers of facts never wait on it.
		if err := store.LockNames(tx, "kpi-rollup:"+tenantID); err != nil {
			return err
		}
		if tx.Dialector.Name() == store.Postgres {
			// Compiling these short statements costs more than running them.
			if err := tx.Exec(`SET LOCAL jit = off`).Error; err != nil {
				return fmt.Errorf("set jit: %w", err)
			}
		}
		var zone []string
		if err := tx.Raw(`SELECT timezone FROM kpi_rollup_state WHERE tenant_id = ?`, tenantID).Scan(&zone).Error; err != nil {
			return fmt.Errorf("read kpi rollup state: %w", err)
		}
		// Taking the marks and reading them is one statement: a mark
		// committed later stays for the next refresh, and every fact whose
		// mark is taken here is seen by the statements below.
		var marks []time.Time
		if err := tx.Raw(`DELETE FROM kpi_dirty WHERE tenant_id = ? RETURNING at`, tenantID).Scan(&marks).Error; err != nil {
			return fmt.Errorf("take kpi marks: %w", err)
		}
		var days []localdate.Date
		if len(zone) == 0 || zone[0] != loc.String() {
			var err error
			if days, err = everyDay(tx, tenantID, loc); err != nil {
				return err
			}
		} else {
			days = markedDays(marks, loc)
		}
		for _, chunk := range localdate.Runs(days, rollupSpan) {
			if err := rollDays(tx, tenantID, loc, chunk); err != nil {
				return err
			}
		}
		if len(zone) == 0 || zone[0] != loc.String() {
			return saveZone(tx, tenantID, loc.String(), len(zone) == 0)
		}
		return nil
	})
}

// everyDay forgets the rollup and answers every day from the first invoice
// issued to the last, for working out again.
func everyDay(tx *gorm.DB, tenantID string, loc *time.Location) ([]localdate.Date, error) {
	for _, table := range []string{"kpi_days", "kpi_day_groups"} {
		if err := tx.Exec(`DELETE FROM `+table+` WHERE tenant_id = ?`, tenantID).Error; err != nil {
			return nil, fmt.Errorf("clear %s: %w", table, err)
		}
	}
	// The first and the last by ORDER BY, not MIN and MAX: SQLite answers
	// an aggregate of a time as bare text.
	var first, last []time.Time
	for _, q := range []struct {
		order string
		into  *[]time.Time
	}{{"ASC", &first}, {"DESC", &last}} {
		if err := tx.Raw(`SELECT issued_at FROM invoices WHERE tenant_id = ? AND issued_at IS NOT NULL ORDER BY issued_at `+q.order+` LIMIT 1`,
			tenantID).Scan(q.into).Error; err != nil {
			return nil, fmt.Errorf("read issue span: %w", err)
		}
	}
	if len(first) == 0 || len(last) == 0 {
		return nil, nil
	}
	return localdate.Span(localdate.In(first[0], loc), localdate.In(last[0], loc)), nil
}

// markedDays are the tenant-local days of the marked moments, in order. A
// Postgres mark is the start of its hour, which in a zone with a half-hour
// offset can reach into the next day: both days are worked out.
func markedDays(marks []time.Time, loc *time.Location) []localdate.Date {
	var days []localdate.Date
	for _, at := range marks {
		days = append(days, localdate.In(at, loc), localdate.In(at.Add(time.Hour-time.Microsecond), loc))
	}
	return localdate.Sorted(days)
}

func saveZone(tx *gorm.DB, tenantID, zone string, first bool) error {
	q := `UPDATE kpi_rollup_state SET timezone = ? WHERE tenant_id = ?`
	args := []any{zone, tenantID}
	if first {
		q, args = `INSERT INTO kpi_rollup_state (tenant_id, timezone) VALUES (?, ?)`, []any{tenantID, zone}
	}
	if err := tx.Exec(q, args...).Error; err != nil {
		return fmt.Errorf("save kpi rollup zone: %w", err)
	}
	return nil
}

// rollDays works out the rollup rows of some days from the facts: each
// day's issued and paid invoices, their lines, the crew of each visit
// billed, and the referral each friend's revenue belongs to (the first
// converted referral of the invoice's customer, when made before the
// invoice was issued: README "## Insights").
func rollDays(tx *gorm.DB, tenantID string, loc *time.Location, days []localdate.Date) error {
	names := make([]string, len(days))
	for i, d := range days {
		names[i] = d.String()
	}
	for _, table := range []string{"kpi_days", "kpi_day_groups"} {
		if err := tx.Exec(`DELETE FROM `+table+` WHERE tenant_id = ? AND day IN ?`, tenantID, names).Error; err != nil {
			return fmt.Errorf("clear %s days: %w", table, err)
		}
	}
	// d: each day with the UTC instants [s, e) of its start and end.
	date, instant := "?", "?"
	if tx.Dialector.Name() == store.Postgres {
		date, instant = "CAST(? AS DATE)", "CAST(? AS TIMESTAMPTZ)"
	}
	row := "(" + date + ", " + instant + ", " + instant + ")"
	values := strings.TrimSuffix(strings.Repeat(row+", ", len(days)), ", ")
	var args []any
	for _, d := range days {
		args = append(args, d, d.Start(loc).UTC(), d.AddDays(1).Start(loc).UTC())
	}
	issued := `WITH d (day, s, e) AS (VALUES ` + values + `)`
	// The bounds of the whole span too: they let the planner read the
	// invoices by the issue index, then give each its day.
	first, end := days[0].Start(loc).UTC(), days[len(days)-1].AddDays(1).Start(loc).UTC()
	billed := ` FROM d JOIN invoices i ON i.tenant_id = ? AND i.status IN ('issued', 'paid') AND i.issued_at >= d.s AND i.issued_at < d.e
			AND i.issued_at >= ? AND i.issued_at < ?
		JOIN invoice_lines l ON l.invoice_id = i.id`

	if err := tx.Exec(issued+`
		INSERT INTO kpi_days (tenant_id, day, invoiced_visits, synced_visits)
		SELECT i.tenant_id, d.day,
			COUNT(DISTINCT CASE WHEN l.kind = 'service' THEN l.visit_id END),
			COUNT(DISTINCT CASE WHEN l.kind = 'sync_discount' THEN l.visit_id END)`+billed+`
		GROUP BY i.tenant_id, d.day`, append(args, tenantID, first, end)...).Error; err != nil {
		return fmt.Errorf("roll up invoiced visits: %w", err)
	}
	// att: each friend's first converted referral.
	if err := tx.Exec(issued+`, att (customer_id, referral_id) AS (
			SELECT referee_customer_id, MIN(id) FROM referrals
			WHERE tenant_id = ? AND status = 'converted' AND referee_customer_id IS NOT NULL GROUP BY referee_customer_id)
		INSERT INTO kpi_day_groups (tenant_id, day, crew_id, referred, ref_channel, ref_variant, service_lines, revenue_cents, sync_lines, sync_cents)
		SELECT i.tenant_id, d.day, v.crew_id, r.id IS NOT NULL, COALESCE(r.channel, ''), COALESCE(r.variant, ''),
			SUM(CASE WHEN l.kind = 'service' THEN 1 ELSE 0 END),
			COALESCE(SUM(CASE WHEN l.kind = 'service' AND r.id IS NOT NULL THEN l.amount_cents ELSE 0 END), 0),
			SUM(CASE WHEN `+syncLine+` THEN 1 ELSE 0 END),
			COALESCE(SUM(CASE WHEN `+syncLine+` THEN -l.amount_cents ELSE 0 END), 0)`+billed+`
		LEFT JOIN visits v ON v.id = l.visit_id
		LEFT JOIN att ON att.customer_id = i.customer_id
		LEFT JOIN referrals r ON r.id = att.referral_id AND r.created_at <= i.issued_at
		GROUP BY i.tenant_id, d.day, v.crew_id, r.id IS NOT NULL, r.channel, r.variant`,
		append(args, tenantID, tenantID, first, end)...).Error; err != nil {
		return fmt.Errorf("roll up referred revenue: %w", err)
	}
	return nil
}
