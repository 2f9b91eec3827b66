package ledger

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/program"
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

// reconcileBatch is how many customers one transaction refreshes (a
// variable for the model test, whose days run in several batches).
var reconcileBatch = 1000

// LockName is the lock every reconciliation of a tenant takes — the nightly
// job on any replica, POST /reconcile and the CLI — so one runs at a time.
func LockName(tenantID string) string { return "routeloop.reconcile." + tenantID }

// ReconcileDay works out again the money of every customer with a visit
// that day, or an invoice billing one. It reads the facts of all of them
// at once and works out, without locking anyone, whose ledger or drafts
// differ from what the facts say; only those are refreshed (Refresh,
// locked, reading their facts again), a batch at a time. A customer found
// settled needs nothing: every write that changes a customer's facts
// refreshes that customer in its own transaction. A customer that fails
// is recorded with the reason (reconcile_errors) and the others complete.
// Running it twice changes nothing the second time, and the second run
// writes nothing. Callers take LockName (ReconcileRange, CatchUp).
func (s *Service) ReconcileDay(ctx context.Context, tenantID string, day localdate.Date) (ReconcileResult, error) {
	res := ReconcileResult{TenantID: tenantID, Day: day, Errors: []ReconcileError{}}
	db := s.store.DB.WithContext(ctx)
	// One pass over the day's visits and the lines billing them: the
	// visits, the invoices billing them (void ones too), and whose money
	// to work out (the visits' customers and those invoices' customers).
	rows, err := db.Raw(`SELECT v.id, v.customer_id, l.invoice_id, i.customer_id
		FROM visits v LEFT JOIN invoice_lines l ON l.visit_id = v.id AND l.tenant_id = ? LEFT JOIN invoices i ON i.id = l.invoice_id
		WHERE v.tenant_id = ? AND v.service_date = ?`, tenantID, tenantID, day).Rows()
	if err != nil {
		return res, fmt.Errorf("reconcile %s: read the day: %w", day, err)
	}
	visits, invoices, who := map[int64]bool{}, map[int64]bool{}, map[int64]bool{}
	for rows.Next() {
		var visitID, customerID int64
		var invoiceID, billedID sql.NullInt64
		if err := rows.Scan(&visitID, &customerID, &invoiceID, &billedID); err != nil {
			rows.Close()
			return res, fmt.Errorf("reconcile %s: read the day: %w", day, err)
		}
		visits[visitID], who[customerID] = true, true
		if invoiceID.Valid {
			invoices[invoiceID.Int64] = true
		}
		if billedID.Valid {
			who[billedID.Int64] = true
		}
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return res, fmt.Errorf("reconcile %s: read the day: %w", day, err)
	}
	res.Visits, res.Invoices = len(visits), len(invoices)
	customers := slices.Collect(maps.Keys(who))
	customers = uniqueSorted(customers)
	res.Customers = len(customers)
	if len(customers) == 0 {
		return res, nil
	}
	unsettled, err := s.unsettled(ctx, tenantID, customers)
	if err != nil {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		// The day could not be worked out as a whole: go one by one.
		failed, err := s.oneByOne(ctx, tenantID, day, customers)
		res.Errors = append(res.Errors, failed...)
		return res, err
	}
	batches := slices.Collect(slices.Chunk(unsettled, reconcileBatch))
	if len(batches) == 0 {
		return res, nil
	}
	errs, err := s.refreshBatch(ctx, tenantID, day, batches[0])
	res.Errors = append(res.Errors, errs...)
	if err != nil || len(batches) == 1 {
		return res, err
	}
	// A ledger that was empty has no statistics yet: without them
	// PostgreSQL reads it whole for every batch that follows.
	s.analyze(ctx)
	// The batches hold disjoint customers, each locked by its own
	// transaction in the one lock order, so they can run side by side as
	// any two writes of different customers do: on PostgreSQL, one per
	// core (SQLite has one writer at a time).
	workers := 1
	if s.store.Dialect == store.Postgres {
		workers = min(reconcileWorkers, len(batches)-1)
	}
	rest := batches[1:]
	found := make([][]ReconcileError, len(rest))
	failed := make([]error, len(rest))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				found[i], failed[i] = s.refreshBatch(ctx, tenantID, day, rest[i])
			}
		})
	}
	for i := range rest {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	for i := range rest {
		res.Errors = append(res.Errors, found[i]...)
		if failed[i] != nil {
			return res, failed[i]
		}
	}
	return res, ctx.Err()
}

// reconcileWorkers is how many batches a day's reconciliation refreshes at
// once on PostgreSQL: one per core, at most four, so that the requests of
// the day keep most of the connection pool.
var reconcileWorkers = min(4, max(2, runtime.GOMAXPROCS(0)))

// refreshBatch refreshes a batch of customers in one transaction; if that
// fails, each in a transaction of its own, returning those that failed.
func (s *Service) refreshBatch(ctx context.Context, tenantID string, day localdate.Date, batch []int64) ([]ReconcileError, error) {
	err := s.store.Tx(ctx, func(tx *gorm.DB) error { return s.Refresh(tx, tenantID, batch...) })
	if err == nil {
		return nil, nil
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	// One bad customer must not hold up the others: go one by one.
	return s.oneByOne(ctx, tenantID, day, batch)
}

// oneByOne refreshes each customer in a transaction of its own, returning
// those that failed with the reasons recorded.
func (s *Service) oneByOne(ctx context.Context, tenantID string, day localdate.Date, customers []int64) ([]ReconcileError, error) {
	var failed []ReconcileError
	for _, id := range customers {
		err := s.store.Tx(ctx, func(tx *gorm.DB) error { return s.Refresh(tx, tenantID, id) })
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return failed, ctx.Err()
		}
		e, rerr := s.recordError(ctx, tenantID, day, id, err)
		if rerr != nil {
			return failed, rerr
		}
		failed = append(failed, e)
	}
	return failed, nil
}

// unsettled returns, of the given customers (unique, sorted), those whose
// drafts or ledger rows differ from what their facts say now: what Refresh
// would write for. It reads the facts of all of them in a few statements
// and locks nothing. On PostgreSQL it reads them in one snapshot, shared
// by two transactions: one reads the customers' invoices while the other
// reads their links, rewards and ledger rows (beside).
func (s *Service) unsettled(ctx context.Context, tenantID string, customers []int64) ([]int64, error) {
	if err := fault(PointRefresh); err != nil {
		return nil, err
	}
	var out []int64
	read := func(db *gorm.DB, side *beside) error {
		prog, err := program.Get(db, tenantID)
		if err != nil {
			return err
		}
		facts, w0, err := load(db, tenantID, prog, customers, side)
		if err != nil {
			return err
		}
		out = w0.unsettled(tenantID, customers, facts, side.stored)
		return nil
	}
	db := s.store.DB.WithContext(ctx)
	if s.store.Dialect != store.Postgres {
		return out, read(db, besideNow(db, tenantID, customers))
	}
	return out, db.Transaction(func(tx *gorm.DB) error {
		if err := bigRead(tx); err != nil {
			return err
		}
		release, ok := s.secondConn()
		if !ok {
			return read(tx, besideNow(tx, tenantID, customers))
		}
		defer release()
		var snap string
		if err := tx.Raw(`SELECT pg_export_snapshot()`).Scan(&snap).Error; err != nil {
			return fmt.Errorf("reconcile: export the snapshot: %w", err)
		}
		side := besideMeanwhile(db, snap, tenantID, customers)
		// The snapshot lasts as long as this transaction: wait for the
		// other whatever happens here.
		defer side.wait()
		return read(tx, side)
	}, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
}

// bigRead readies a PostgreSQL transaction whose statements read a whole
// day: each is planned for its real number of ids (a cached generic plan
// assumes ten), and their hash joins get the memory a day's rows take.
func bigRead(tx *gorm.DB) error {
	if err := tx.Exec(`SET LOCAL plan_cache_mode = force_custom_plan`).Error; err != nil {
		return err
	}
	return tx.Exec(`SET LOCAL work_mem = '64MB'`).Error
}

// secondConn says whether a reconciliation's read may take a second
// connection of the pool, and returns what gives the right back. One read
// of the process at a time may (the others read on one): reads of several
// tenants each holding one connection while waiting for another could
// otherwise take the whole pool and wait for ever. A pool bounded to one
// connection never lends a second.
func (s *Service) secondConn() (release func(), ok bool) {
	sqlDB, err := s.store.DB.DB()
	if err != nil {
		return nil, false
	}
	if n := sqlDB.Stats().MaxOpenConnections; n == 1 {
		return nil, false
	}
	select {
	case secondConns <- struct{}{}:
		return func() { <-secondConns }, true
	default:
		return nil, false
	}
}

// secondConns holds a token while a read uses a second connection.
var secondConns = make(chan struct{}, 1)

// unsettled are the customers (of ids, in order) for whom Refresh would
// change a draft's computed lines or totals, or a ledger row (stored: the
// customers' rows, by key). The world is only read, so the customers are
// worked out in parts side by side, one per core.
func (w *world) unsettled(tenantID string, ids []int64, facts map[int64]*customerFacts, stored map[string]itemRow) []int64 {
	if len(ids) == 0 {
		return nil
	}
	cores := runtime.GOMAXPROCS(0)
	parts := slices.Collect(slices.Chunk(ids, (len(ids)+cores-1)/cores))
	bad := make([]map[int64]bool, len(parts))
	computed := make([]map[string]bool, len(parts))
	var wg sync.WaitGroup
	for k, part := range parts {
		wg.Go(func() { bad[k], computed[k] = w.differ(tenantID, part, facts, stored) })
	}
	wg.Wait()
	// Rows no customer is owed anything for any more go.
	for key, r := range stored {
		if !slices.ContainsFunc(computed, func(c map[string]bool) bool { return c[key] }) {
			bad[0][r.CustomerID] = true
		}
	}
	var out []int64
	for _, id := range ids {
		if slices.ContainsFunc(bad, func(b map[int64]bool) bool { return b[id] }) {
			out = append(out, id)
		}
	}
	return out
}

// differ works out the customers ids and returns those whose drafts or
// stored ledger rows differ from what they should be, and the keys of the
// rows they should have.
func (w *world) differ(tenantID string, ids []int64, facts map[int64]*customerFacts, stored map[string]itemRow) (bad map[int64]bool, computed map[string]bool) {
	bad, computed = map[int64]bool{}, map[string]bool{}
	for _, id := range ids {
		c := facts[id]
		p := w.work(c)
		var dw draftWrites
		dw.add(tenantID, c, p)
		if len(dw.cleared) > 0 || len(dw.totals) > 0 {
			bad[id] = true
		}
		for _, it := range p.items {
			computed[it.Key] = true
			if r, ok := stored[it.Key]; !ok || !r.same(it) {
				bad[id] = true
			}
		}
	}
	return bad, computed
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
