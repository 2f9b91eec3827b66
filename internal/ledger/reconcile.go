package ledger

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/store"
)

// ReconcileResult says what reconciling one tenant-local day looked at.
type ReconcileResult struct {
	TenantID  string           `json:"tenant_id"`
	Day       localdate.Date   `json:"day"`
	Visits    int              `json:"visits"`
	Customers int              `json:"customers"`
	Invoices  int              `json:"invoices"`
	Errors    []ReconcileError `json:"errors"`
}

// ReconcileError is a customer whose money could not be worked out; the
// rest of the day went on.
type ReconcileError struct {
	CustomerID string `json:"customer_id"`
	Reason     string `json:"reason"`
}

// reconcileBatch is how many customers one transaction refreshes.
const reconcileBatch = 200

// LockName is the lock every reconciliation of a tenant takes — the nightly
// job on any replica, POST /reconcile and the CLI — so one runs at a time.
func LockName(tenantID string) string { return "routeloop.reconcile." + tenantID }

// ReconcileDay works out again the money of every customer with a visit
// that day, or an invoice billing one, a batch at a time. A customer that
// fails is recorded with the reason (reconcile_errors) and the others
// complete. Running it twice changes nothing the second time. Callers take
// LockName (ReconcileRange, CatchUp).
func (s *Service) ReconcileDay(ctx context.Context, tenantID string, day localdate.Date) (ReconcileResult, error) {
	res := ReconcileResult{TenantID: tenantID, Day: day, Errors: []ReconcileError{}}
	db := s.store.DB.WithContext(ctx)
	var counts struct {
		Visits   int
		Invoices int
	}
	if err := db.Raw(`SELECT
		(SELECT COUNT(*) FROM visits WHERE tenant_id = ? AND service_date = ?) AS visits,
		(SELECT COUNT(DISTINCT l.invoice_id) FROM invoice_lines l JOIN visits v ON v.id = l.visit_id
		 WHERE l.tenant_id = ? AND v.tenant_id = ? AND v.service_date = ?) AS invoices`,
		tenantID, day, tenantID, tenantID, day).Scan(&counts).Error; err != nil {
		return res, fmt.Errorf("reconcile %s: count: %w", day, err)
	}
	res.Visits, res.Invoices = counts.Visits, counts.Invoices
	var customers []int64
	if err := db.Raw(`SELECT customer_id FROM visits WHERE tenant_id = ? AND service_date = ?
		UNION SELECT i.customer_id FROM invoice_lines l JOIN visits v ON v.id = l.visit_id JOIN invoices i ON i.id = l.invoice_id
		WHERE l.tenant_id = ? AND v.tenant_id = ? AND v.service_date = ?`, tenantID, day, tenantID, tenantID, day).Scan(&customers).Error; err != nil {
		return res, fmt.Errorf("reconcile %s: read customers: %w", day, err)
	}
	sort.Slice(customers, func(i, j int) bool { return customers[i] < customers[j] })
	res.Customers = len(customers)
	for start := 0; start < len(customers); start += reconcileBatch {
		batch := customers[start:min(start+reconcileBatch, len(customers))]
		err := s.store.Tx(ctx, func(tx *gorm.DB) error { return s.Refresh(tx, tenantID, batch...) })
		if start == 0 && len(customers) > reconcileBatch {
			// A ledger that was empty has no statistics yet: without them
			// PostgreSQL reads it whole for every batch that follows.
			s.analyze(ctx)
		}
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		// One bad customer must not hold up the others: go one by one.
		for _, id := range batch {
			err := s.store.Tx(ctx, func(tx *gorm.DB) error { return s.Refresh(tx, tenantID, id) })
			if err == nil {
				continue
			}
			e, rerr := s.recordError(ctx, tenantID, day, id, err)
			if rerr != nil {
				return res, rerr
			}
			res.Errors = append(res.Errors, e)
		}
	}
	return res, nil
}

func (s *Service) recordError(ctx context.Context, tenantID string, day localdate.Date, customerID int64, cause error) (ReconcileError, error) {
	db := s.store.DB.WithContext(ctx)
	var ext string
	if err := db.Raw(`SELECT external_id FROM customers WHERE id = ?`, customerID).Scan(&ext).Error; err != nil {
		return ReconcileError{}, fmt.Errorf("reconcile: read customer: %w", err)
	}
	e := ReconcileError{CustomerID: ext, Reason: cause.Error()}
	if err := db.Exec(`INSERT INTO reconcile_errors (tenant_id, day, customer_id, reason, created_at) VALUES (?, ?, ?, ?, ?)`,
		tenantID, day, customerID, e.Reason, s.clock.Now()).Error; err != nil {
		return ReconcileError{}, fmt.Errorf("reconcile: record error: %w", err)
	}
	return e, nil
}

// MaxRangeDays bounds one hand-run reconciliation.
const MaxRangeDays = 400

// ReconcileRange reconciles every day from from to to (inclusive) under the
// tenant's reconciliation lock; progress, if set, hears after each day. ran
// is false when another process is reconciling the tenant.
func (s *Service) ReconcileRange(ctx context.Context, tenantID string, from, to localdate.Date, progress func(done, total int)) (out []ReconcileResult, ran bool, err error) {
	var days []localdate.Date
	for d := from; !d.After(to); d = d.AddDays(1) {
		days = append(days, d)
	}
	ran, err = s.store.TryLock(ctx, LockName(tenantID), func() error {
		for i, d := range days {
			r, err := s.ReconcileDay(ctx, tenantID, d)
			if err != nil {
				return err
			}
			out = append(out, r)
			if progress != nil {
				progress(i+1, len(days))
			}
		}
		return nil
	})
	return out, ran, err
}

// CatchUp is the nightly reconciliation of a tenant, under its lock: every
// day after the last one done up to yesterday, and every day whose visits
// or invoices changed since the last run; then yesterday is recorded as
// done. ran is false when another process holds the lock.
func (s *Service) CatchUp(ctx context.Context, tenantID string, yesterday localdate.Date) (out []ReconcileResult, ran bool, err error) {
	startedAt := s.clock.Now()
	ran, err = s.store.TryLock(ctx, LockName(tenantID), func() error {
		st, err := s.ReadState(ctx, tenantID)
		if err != nil {
			return err
		}
		days, err := s.daysToCatchUp(ctx, tenantID, st, yesterday)
		if err != nil {
			return err
		}
		for _, d := range days {
			r, err := s.ReconcileDay(ctx, tenantID, d)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return s.saveState(ctx, tenantID, yesterday, startedAt)
	})
	return out, ran, err
}

// MaxCatchUpDays bounds how far back the nightly job catches up.
const MaxCatchUpDays = 400

// State is how far a tenant's nightly reconciliation got.
type State struct {
	LastDay   localdate.Date
	LastRunAt time.Time
	Known     bool
}

// ReadState returns the tenant's reconciliation state.
func (s *Service) ReadState(ctx context.Context, tenantID string) (State, error) {
	var rows []struct {
		LastDay   localdate.Date
		LastRunAt time.Time
	}
	if err := s.store.DB.WithContext(ctx).Raw(`SELECT last_day, last_run_at FROM reconcile_state WHERE tenant_id = ?`, tenantID).Scan(&rows).Error; err != nil {
		return State{}, fmt.Errorf("read reconcile state: %w", err)
	}
	if len(rows) == 0 {
		return State{}, nil
	}
	return State{LastDay: rows[0].LastDay, LastRunAt: rows[0].LastRunAt, Known: true}, nil
}

// daysToCatchUp are the days the nightly job reconciles for a tenant whose
// yesterday is yesterday: every day after the last one done up to
// yesterday, and every day whose visits or invoices changed since the last
// run; yesterday alone the first time.
func (s *Service) daysToCatchUp(ctx context.Context, tenantID string, st State, yesterday localdate.Date) ([]localdate.Date, error) {
	want := map[localdate.Date]bool{yesterday: true}
	if st.Known {
		from := st.LastDay.AddDays(1)
		if limit := yesterday.AddDays(-MaxCatchUpDays); from.Before(limit) {
			from = limit
		}
		for d := from; !d.After(yesterday); d = d.AddDays(1) {
			want[d] = true
		}
		var changed []localdate.Date
		if err := s.store.DB.WithContext(ctx).Raw(`SELECT service_date FROM visits WHERE tenant_id = ? AND updated_at >= ?
			UNION SELECT v.service_date FROM invoices i JOIN invoice_lines l ON l.invoice_id = i.id JOIN visits v ON v.id = l.visit_id
			WHERE i.tenant_id = ? AND i.updated_at >= ?`, tenantID, st.LastRunAt, tenantID, st.LastRunAt).Scan(&changed).Error; err != nil {
			return nil, fmt.Errorf("read changed days: %w", err)
		}
		for _, d := range changed {
			if !d.After(yesterday) && !d.Before(yesterday.AddDays(-MaxCatchUpDays)) {
				want[d] = true
			}
		}
	}
	days := slices.Collect(maps.Keys(want))
	sort.Slice(days, func(i, j int) bool { return days[i].Before(days[j]) })
	return days, nil
}

// saveState records that the tenant is reconciled up to lastDay by a run
// that started at startedAt.
func (s *Service) saveState(ctx context.Context, tenantID string, lastDay localdate.Date, startedAt time.Time) error {
	err := s.store.DB.WithContext(ctx).Exec(`INSERT INTO reconcile_state (tenant_id, last_day, last_run_at) VALUES (?, ?, ?)
		ON CONFLICT (tenant_id) DO UPDATE SET last_day = excluded.last_day, last_run_at = excluded.last_run_at`,
		tenantID, lastDay, startedAt).Error
	if err != nil {
		return fmt.Errorf("save reconcile state: %w", err)
	}
	return nil
}

// analyze refreshes PostgreSQL's statistics of the ledger's items, so the
// statements that follow read them by index.
func (s *Service) analyze(ctx context.Context) {
	if s.store.Dialect == store.Postgres {
		_ = s.store.DB.WithContext(ctx).Exec(`ANALYZE ledger_items`).Error
	}
}
