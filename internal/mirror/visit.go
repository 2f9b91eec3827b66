package mirror

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/store"
)

// Visit states.
const (
	VisitScheduled = "scheduled"
	VisitCompleted = "completed"
	VisitCancelled = "cancelled"
)

// Visit sources: who created it.
const (
	SourceScheduler = "scheduler"
	SourceRouteloop = "routeloop"
)

// Visit is one service call on a tenant-local day.
type Visit struct {
	ID                 int64          `json:"-"`
	TenantID           string         `json:"-"`
	ExternalID         string         `json:"external_id"`
	CustomerID         int64          `json:"-"`
	CustomerExternalID string         `json:"customer_id" gorm:"->"`
	CrewID             *int64         `json:"-"`
	CrewExternalID     *string        `json:"crew_id" gorm:"->"`
	ServiceDate        localdate.Date `json:"service_date"`
	StartAt            *time.Time     `json:"start_at"`
	RoutePosition      *int           `json:"route_position"`
	DurationMin        *int           `json:"duration_min"`
	Status             string         `json:"status"`
	PriceCents         int64          `json:"price_cents"`
	Source             string         `json:"source"`
	CreatedAt          time.Time      `json:"created_at"`
	UpdatedAt          time.Time      `json:"updated_at"`
}

// VisitInput is the body of PUT /visits/{external_id}; ids are the
// scheduler's.
type VisitInput struct {
	CustomerID    string  `json:"customer_id"`
	CrewID        *string `json:"crew_id"`
	ServiceDate   string  `json:"service_date"`
	StartAt       *string `json:"start_at"`
	RoutePosition *int    `json:"route_position"`
	DurationMin   *int    `json:"duration_min"`
	Status        string  `json:"status"`
	PriceCents    int64   `json:"price_cents"`
	// UpdatedAt: see CustomerInput.
	UpdatedAt *time.Time `json:"updated_at"`
}

// MaxPriceCents bounds one visit's price (a billion in major units).
const MaxPriceCents = 100_000_000_000

// Validate checks the input's own fields as PutVisit does, without
// changing it; loc is the tenant's zone.
func (in VisitInput) Validate(loc *time.Location) error {
	_, err := in.validate(loc)
	return err
}

// visitFields is VisitInput after validation.
type visitFields struct {
	date    localdate.Date
	startAt *time.Time
}

// validate checks the input; loc is the tenant's zone, in which start_at must
// fall on service_date.
func (in *VisitInput) validate(loc *time.Location) (visitFields, error) {
	var out visitFields
	f := apperror.Fields{}
	if err := CheckExternalID(in.CustomerID); err != nil {
		f.Add("customer_id", err.Error())
	}
	if in.CrewID != nil {
		if err := CheckExternalID(*in.CrewID); err != nil {
			f.Add("crew_id", err.Error())
		}
	}
	d, err := localdate.Parse(in.ServiceDate)
	if err != nil {
		f.Add("service_date", err.Error())
	}
	out.date = d
	if in.StartAt != nil {
		start, problem := startOn(*in.StartAt, d, loc)
		if problem != "" {
			f.Add("start_at", problem)
		}
		out.startAt = start
	}
	// An omitted status keeps the stored one (a new visit is scheduled).
	switch in.Status {
	case "", VisitScheduled, VisitCompleted, VisitCancelled:
	default:
		f.Add("status", "must be scheduled, completed or cancelled")
	}
	if in.PriceCents < 0 {
		f.Add("price_cents", "must not be negative")
	} else if in.PriceCents > MaxPriceCents {
		f.Add("price_cents", "is too large")
	}
	if in.RoutePosition != nil && (*in.RoutePosition < 0 || *in.RoutePosition > 10_000) {
		f.Add("route_position", "must be between 0 and 10000")
	}
	if in.DurationMin != nil && (*in.DurationMin < 1 || *in.DurationMin > 24*60) {
		f.Add("duration_min", "must be between 1 and 1440 minutes")
	}
	return out, f.Err()
}

// startOn reads a visit's start_at: an RFC 3339 time that falls on day
// (its service_date; zero when that was not valid, and then not compared)
// in the tenant's zone loc, whatever offset it is written with — so a
// start in the hour a daylight-saving change repeats or skips keeps its
// day. It answers the start in UTC to the microsecond (as stored), or what
// is wrong with it.
func startOn(raw string, day localdate.Date, loc *time.Location) (*time.Time, string) {
	t, err := time.Parse(time.RFC3339, raw)
	switch {
	case err != nil:
		return nil, "must be an RFC 3339 time such as 2026-05-03T08:30:00-07:00"
	case !day.IsZero() && localdate.In(t, loc) != day:
		return nil, fmt.Sprintf("falls on %s in the tenant's time zone %s, not on service_date %s", localdate.In(t, loc), loc, day)
	}
	u := t.UTC().Truncate(time.Microsecond)
	return &u, ""
}

// PutVisit creates or updates the visit the scheduler calls externalID. Its
// customer and crew must already be mirrored.
func (s *Service) PutVisit(ctx context.Context, tenantID string, loc *time.Location, externalID string, in VisitInput) (Visit, store.Upserted, error) {
	if err := CheckExternalID(externalID); err != nil {
		return Visit{}, store.Updated, apperror.Invalid("external_id", err.Error())
	}
	vf, err := in.validate(loc)
	if err != nil {
		return Visit{}, store.Updated, err
	}
	pg := s.store.Dialect == store.Postgres
	var read *visitRefs // what the quiet write read when it could not write
	if pg && keepsScheduled(in) {
		v, up, row, err := s.writeAlone(ctx, tenantID, externalID, in, vf)
		if err != nil || row == nil {
			return s.answer(ctx, tenantID, externalID, v, up, err)
		}
		ref, err := row.refs(in)
		if err != nil {
			return Visit{}, store.Updated, err
		}
		read = &ref
	}
	db := s.store.Conn(ctx)
	var (
		v  Visit
		up store.Upserted
	)
	for attempt := 0; ; attempt++ {
		// Read before the transaction (SQLite's writer waits less): the write
		// itself checks what the visit was, and starts over if another write
		// moved it to another customer meanwhile.
		var ref visitRefs
		if read != nil && attempt == 0 {
			ref = *read
		} else if ref, err = s.resolveVisitRefs(db, tenantID, externalID, in); err != nil {
			return Visit{}, store.Updated, err
		}
		if !pg && ref.alone(in) {
			if v, up, ok, err := s.writeAloneSQLite(ctx, tenantID, externalID, in, vf, ref); ok || err != nil {
				return s.answer(ctx, tenantID, externalID, v, up, err)
			}
		}
		err = s.store.Tx(ctx, func(tx *gorm.DB) error {
			var err error
			v, up, err = s.writeVisit(tx, tenantID, externalID, in, vf, ref)
			return err
		})
		if !errors.Is(err, errMovedMeanwhile) || attempt == 5 {
			break
		}
	}
	return s.answer(ctx, tenantID, externalID, v, up, err)
}

// answer is what PutVisit answers for a write's outcome.
func (s *Service) answer(ctx context.Context, tenantID, externalID string, v Visit, up store.Upserted, err error) (Visit, store.Upserted, error) {
	if errors.Is(err, store.ErrStale) {
		cur, err := s.Visit(ctx, tenantID, externalID)
		return cur, store.Stale, err
	}
	if err != nil {
		return Visit{}, store.Updated, fmt.Errorf("put visit %s: %w", externalID, err)
	}
	return v, up, nil
}

// visitRefs is what a visit write names, resolved: its customer and crew,
// what the visit was, and whether the customers have links.
type visitRefs struct {
	customerID int64
	crewID     *int64
	before     *VisitState
	hasLinks   bool
}

// alone reports whether writing in changes nothing outside the visit, by
// what was read: see writeAlone.
func (r visitRefs) alone(in VisitInput) bool {
	return keepsScheduled(in) && !r.hasLinks && (r.before == nil || r.before.Status == VisitScheduled)
}

// keepsScheduled reports whether in leaves a scheduled visit scheduled:
// it says scheduled, or says nothing (the stored status is kept, and a new
// visit is scheduled). The quiet writes check under their guard that the
// stored visit is scheduled, so an omitted status never turns a completed
// or cancelled visit back.
func keepsScheduled(in VisitInput) bool {
	return in.Status == VisitScheduled || in.Status == ""
}

// writeVisit writes the visit and its consequences inside tx: the
// customers' money locked first, then the visit, then the listeners.
func (s *Service) writeVisit(tx *gorm.DB, tenantID, externalID string, in VisitInput, vf visitFields, ref visitRefs) (Visit, store.Upserted, error) {
	customers := []int64{ref.customerID}
	if ref.before != nil && ref.before.CustomerID != ref.customerID {
		customers = append(customers, ref.before.CustomerID)
	}
	// The customers' money is locked before the visit row, always (on
	// PostgreSQL; SQLite's write transaction holds the database), by the
	// write itself: a CTE it must read before writing the row, which locks
	// their neighbours too when they have links. The write answers how many
	// links the customers have had, read under the lock (a link made
	// meanwhile is seen, so the listeners know whether anyone else's money
	// changes), and whom it locked.
	with, returning := "", ` RETURNING *, (SELECT COALESCE(SUM(link_count), 0) FROM customers WHERE tenant_id = ? AND id IN ?) AS links`
	withArgs, returnArgs := []any(nil), []any{tenantID, customers}
	if tx.Dialector.Name() == store.Postgres {
		with = `WITH money AS (SELECT id, link_count, true AS own FROM customers WHERE tenant_id = ? AND id IN ? ORDER BY id FOR UPDATE) `
		withArgs = []any{tenantID, customers}
		if ref.hasLinks {
			lock, args := moneyLock(tenantID, customers)
			with, withArgs = `WITH money AS (`+lock+`) `, args
		}
		returning = ` RETURNING visits.*, (SELECT COALESCE(SUM(link_count), 0) FROM money WHERE own) AS links,
			(SELECT string_agg(id::text, ',') FROM money) AS locked`
		returnArgs = nil
	}
	now := s.clock.Now()
	set := `UPDATE visits SET customer_id = ?, crew_id = ?, service_date = ?, start_at = ?, route_position = ?,
		       duration_min = ?, status = COALESCE(NULLIF(?, ''), status), price_cents = ?, source_updated_at = COALESCE(?, source_updated_at), updated_at = ?
		WHERE tenant_id = ? AND external_id = ?` + newerOnly(in.UpdatedAt)
	setArgs := append([]any{ref.customerID, ref.crewID, vf.date, vf.startAt, in.RoutePosition, in.DurationMin, in.Status,
		in.PriceCents, utc(in.UpdatedAt), now, tenantID, externalID}, newerArgs(in.UpdatedAt)...)
	join := func(parts ...[]any) []any {
		var out []any
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	lockFirst := "" // an update reads the lock before it changes the row
	if with != "" {
		lockFirst = " AND (SELECT COUNT(*) FROM money) > 0"
	}
	var (
		row visitRow
		up  store.Upserted
		err error
	)
	if b := ref.before; b != nil {
		// It exists: no insert to try, and only from the customer it was
		// read with (the lock is taken before the row is changed).
		row, up, err = store.Update[visitRow](tx, with+set+" AND customer_id = ?"+lockFirst+returning,
			join(withArgs, setArgs, []any{b.CustomerID}, returnArgs))
		if errors.Is(err, store.ErrStale) {
			var now []int64
			if err := tx.Raw(`SELECT customer_id FROM visits WHERE tenant_id = ? AND external_id = ?`, tenantID, externalID).Scan(&now).Error; err != nil {
				return Visit{}, store.Updated, fmt.Errorf("read visit: %w", err)
			}
			if len(now) == 1 && now[0] != b.CustomerID {
				return Visit{}, store.Updated, errMovedMeanwhile
			}
		}
	} else {
		// created_at goes through the lock, so it is taken before the insert.
		createdAt := "?"
		if with != "" {
			createdAt = "(SELECT CAST(? AS TIMESTAMPTZ) FROM money LIMIT 1)"
		}
		row, up, err = store.Upsert[visitRow](tx, with+`
			INSERT INTO visits (tenant_id, external_id, customer_id, crew_id, service_date, start_at,
			                    route_position, duration_min, status, price_cents, source, source_updated_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, `+createdAt+`, ?)
			ON CONFLICT (tenant_id, external_id) DO NOTHING`+returning,
			join(withArgs, []any{tenantID, externalID, ref.customerID, ref.crewID, vf.date, vf.startAt, in.RoutePosition,
				in.DurationMin, newStatus(in), in.PriceCents, SourceScheduler, utc(in.UpdatedAt), now, now}, returnArgs),
			with+set+lockFirst+returning, join(withArgs, setArgs, returnArgs))
		if err == nil && up == store.Updated {
			// Created by another write meanwhile: start over to learn what it was.
			return Visit{}, store.Updated, errMovedMeanwhile
		}
	}
	if err != nil {
		return Visit{}, store.Updated, err
	}
	v := row.Visit
	v.CustomerExternalID = in.CustomerID
	v.CrewExternalID = in.CrewID
	linked := row.Links > 0
	locked, err := row.locked()
	if err != nil {
		return Visit{}, store.Updated, err
	}
	return v, up, s.VisitWritten(tx, VisitChange{TenantID: tenantID, Visit: v, Before: ref.before, Linked: &linked, Locked: locked})
}

// newStatus is the status a new visit is created with: scheduled when the
// write names none.
func newStatus(in VisitInput) string {
	if in.Status == "" {
		return VisitScheduled
	}
	return in.Status
}

// visitRow is a visit as a write answers it, with how many links its
// customers have and whom it locked (on PostgreSQL, as "1,2,3").
type visitRow struct {
	Visit
	Links  int
	Locked *string
}

func (r visitRow) locked() ([]int64, error) {
	if r.Locked == nil || *r.Locked == "" {
		return nil, nil
	}
	parts := strings.Split(*r.Locked, ",")
	ids := make([]int64, len(parts))
	for i, p := range parts {
		id, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("read locked customers %q: %w", *r.Locked, err)
		}
		ids[i] = id
	}
	return ids, nil
}

// errMovedMeanwhile: another write moved the visit to another customer
// between reading it and writing it.
var errMovedMeanwhile = errors.New("the visit was moved by another write meanwhile")

// LockMoney locks, in the one lock order, the customers a mirror write
// touches and everyone linked to them, whose discounts the write may
// change. A link made after this read is seen by the listeners, which read
// the links again once the customer is locked. LockMoneyHeld answers whom
// it locked (nobody on SQLite, whose write transaction holds the database).
func LockMoney(tx *gorm.DB, tenantID string, customerIDs ...int64) error {
	_, err := LockMoneyHeld(tx, tenantID, customerIDs...)
	return err
}

// LockMoneyHeld is LockMoney answering the customers it locked.
func LockMoneyHeld(tx *gorm.DB, tenantID string, customerIDs ...int64) ([]int64, error) {
	if tx.Dialector.Name() != store.Postgres || len(customerIDs) == 0 {
		return nil, nil // the write transaction holds the database
	}
	var got []struct{ ID int64 }
	q, args := moneyLock(tenantID, customerIDs)
	if err := tx.Raw(q, args...).Scan(&got).Error; err != nil {
		return nil, fmt.Errorf("lock customers and their neighbours: %w", err)
	}
	ids := make([]int64, len(got))
	for i, g := range got {
		ids[i] = g.ID
	}
	return ids, nil
}

// moneyLock is the statement LockMoney runs (PostgreSQL): the customers and
// their neighbours, locked in id order, each with its link count and
// whether it is one of the customers named (own).
func moneyLock(tenantID string, customerIDs []int64) (string, []any) {
	return `SELECT id, link_count, id IN ? AS own FROM customers WHERE tenant_id = ? AND (id IN ?
		    OR id IN (SELECT customer_a_id FROM neighbor_links WHERE tenant_id = ? AND customer_b_id IN ?)
		    OR id IN (SELECT customer_b_id FROM neighbor_links WHERE tenant_id = ? AND customer_a_id IN ?))
		ORDER BY id FOR UPDATE`, []any{customerIDs, tenantID, customerIDs, tenantID, customerIDs, tenantID, customerIDs}
}

// resolveVisitRefs maps the scheduler's customer and crew ids to internal
// ids, and reads what the visit was before this write, in one round trip.
func (s *Service) resolveVisitRefs(db *gorm.DB, tenantID, externalID string, in VisitInput) (visitRefs, error) {
	q, args := refsQuery(tenantID, externalID, in)
	var row refsRow
	if err := db.Raw(q, args...).Scan(&row).Error; err != nil {
		return visitRefs{}, fmt.Errorf("resolve customer and crew: %w", err)
	}
	return row.refs(in)
}

// refsQuery reads what resolveVisitRefs answers, as one row of refsRow.
func refsQuery(tenantID, externalID string, in VisitInput) (string, []any) {
	crewExt := ""
	if in.CrewID != nil {
		crewExt = *in.CrewID
	}
	// Whether the customers have links too: then their neighbours are
	// locked before the write (on PostgreSQL), and the write is not one of
	// those that concern nobody else.
	return `SELECT
		(SELECT id FROM customers WHERE tenant_id = ? AND external_id = ?) AS ref_customer_id,
		(SELECT id FROM crews WHERE tenant_id = ? AND external_id = ?) AS ref_crew_id,
		old.customer_id AS old_customer_id, old.crew_id AS old_crew_id,
		old.service_date AS old_service_date, old.status AS old_status,
		COALESCE((SELECT link_count FROM customers WHERE tenant_id = ? AND external_id = ?), 0)
		  + COALESCE((SELECT link_count FROM customers WHERE id = old.customer_id), 0) AS ref_links
		FROM (SELECT 1 AS one) AS q
		LEFT JOIN visits old ON old.tenant_id = ? AND old.external_id = ?`,
		[]any{tenantID, in.CustomerID, tenantID, crewExt, tenantID, in.CustomerID, tenantID, externalID}
}

// refsRow is the row refsQuery reads.
type refsRow struct {
	RefCustomerID  *int64
	RefCrewID      *int64
	OldCustomerID  *int64
	OldCrewID      *int64
	OldServiceDate *localdate.Date
	OldStatus      *string
	RefLinks       *int
}

// refs checks that the names in resolved and answers what was read.
func (r refsRow) refs(in VisitInput) (visitRefs, error) {
	f := apperror.Fields{}
	if r.RefCustomerID == nil {
		f.Add("customer_id", "no customer with id "+in.CustomerID+"; send the customer first")
	}
	if in.CrewID != nil && r.RefCrewID == nil {
		f.Add("crew_id", "no crew with id "+*in.CrewID+"; send the crew first")
	}
	if err := f.Err(); err != nil {
		return visitRefs{}, err
	}
	if in.CrewID == nil {
		r.RefCrewID = nil
	}
	var before *VisitState
	if r.OldCustomerID != nil {
		before = &VisitState{CustomerID: *r.OldCustomerID, CrewID: r.OldCrewID, ServiceDate: *r.OldServiceDate, Status: *r.OldStatus}
	}
	return visitRefs{customerID: *r.RefCustomerID, crewID: r.RefCrewID, before: before, hasLinks: r.RefLinks != nil && *r.RefLinks > 0}, nil
}

// visitQuery selects visits with their customer's and crew's scheduler ids.
func visitQuery(db *gorm.DB, tenantID string) *gorm.DB {
	return db.Table("visits AS v").
		Select("v.*, c.external_id AS customer_external_id, cr.external_id AS crew_external_id").
		Joins("JOIN customers c ON c.id = v.customer_id").
		Joins("LEFT JOIN crews cr ON cr.id = v.crew_id").
		Where("v.tenant_id = ?", tenantID)
}

// Visit returns one visit by the scheduler's id.
func (s *Service) Visit(ctx context.Context, tenantID, externalID string) (Visit, error) {
	var vs []Visit
	err := visitQuery(s.store.Conn(ctx), tenantID).Where("v.external_id = ?", externalID).Limit(1).Scan(&vs).Error
	if err != nil {
		return Visit{}, fmt.Errorf("get visit: %w", err)
	}
	if len(vs) == 0 {
		return Visit{}, apperror.NotFound("visit %s not found", externalID)
	}
	return vs[0], nil
}

// VisitFilter narrows a visit list; zero fields don't filter.
type VisitFilter struct {
	From, To   localdate.Date // inclusive service_date range
	CrewID     string
	CustomerID string
	Status     string
	// OfCrew keeps the visits of this crew (internal id; 0: every visit):
	// what a crew-bound key sees, whatever CrewID asks for.
	OfCrew int64
}

// ParseVisitFilter reads the list query parameters.
func ParseVisitFilter(from, to, crewID, customerID, status string) (VisitFilter, error) {
	f := apperror.Fields{}
	out := VisitFilter{CrewID: crewID, CustomerID: customerID, Status: status}
	var err error
	if from != "" {
		if out.From, err = localdate.Parse(from); err != nil {
			f.Add("from", err.Error())
		}
	}
	if to != "" {
		if out.To, err = localdate.Parse(to); err != nil {
			f.Add("to", err.Error())
		}
	}
	if !out.From.IsZero() && !out.To.IsZero() && out.To.Before(out.From) {
		f.Add("to", "must not be before from")
	}
	switch status {
	case "", VisitScheduled, VisitCompleted, VisitCancelled:
	default:
		f.Add("status", "must be scheduled, completed or cancelled")
	}
	return out, f.Err()
}

// visitColumns are the columns a visit list reads, in the order scanVisit
// scans them.
const visitColumns = `v.id, v.external_id, v.customer_id, c.external_id, v.crew_id, cr.external_id, v.service_date,
	v.start_at, v.route_position, v.duration_min, v.status, v.price_cents, v.source, v.created_at, v.updated_at`

// scanVisit scans one row of visitColumns.
func scanVisit(rows *sql.Rows, tenantID string) (Visit, error) {
	v := Visit{TenantID: tenantID}
	err := rows.Scan(&v.ID, &v.ExternalID, &v.CustomerID, &v.CustomerExternalID, &v.CrewID, &v.CrewExternalID, &v.ServiceDate,
		&v.StartAt, &v.RoutePosition, &v.DurationMin, &v.Status, &v.PriceCents, &v.Source, &v.CreatedAt, &v.UpdatedAt)
	return v, err
}

// Visits lists visits in id order, one page at a time. The page is chosen
// from the visits alone and only its rows are joined to their customer and
// crew: whatever plan the statistics lead to — walking (tenant_id, id)
// (migration 0024) or a day index and sorting — no row outside the page is
// joined (joining a whole week before sorting took 40–220 ms on a freshly
// imported table). The crew and customer asked for are resolved to their
// ids in the statement, so that the filter is on the visit's own columns.
func (s *Service) Visits(ctx context.Context, tenantID string, f VisitFilter, p store.Page) ([]Visit, string, error) {
	var sb strings.Builder
	sb.WriteString(`SELECT ` + visitColumns + ` FROM (
		SELECT v.id, v.external_id, v.customer_id, v.crew_id, v.service_date, v.start_at, v.route_position,
		       v.duration_min, v.status, v.price_cents, v.source, v.created_at, v.updated_at
		FROM visits v WHERE v.tenant_id = ? AND v.id > ?`)
	args := []any{tenantID, p.After}
	if !f.From.IsZero() {
		sb.WriteString(` AND v.service_date >= ?`)
		args = append(args, f.From)
	}
	if !f.To.IsZero() {
		sb.WriteString(` AND v.service_date <= ?`)
		args = append(args, f.To)
	}
	if f.CrewID != "" {
		sb.WriteString(` AND v.crew_id = (SELECT id FROM crews WHERE tenant_id = ? AND external_id = ?)`)
		args = append(args, tenantID, f.CrewID)
	}
	if f.CustomerID != "" {
		sb.WriteString(` AND v.customer_id = (SELECT id FROM customers WHERE tenant_id = ? AND external_id = ?)`)
		args = append(args, tenantID, f.CustomerID)
	}
	if f.OfCrew != 0 {
		sb.WriteString(` AND v.crew_id = ?`)
		args = append(args, f.OfCrew)
	}
	if f.Status != "" {
		sb.WriteString(` AND v.status = ?`)
		args = append(args, strings.ToLower(f.Status))
	}
	sb.WriteString(` ORDER BY v.id LIMIT ?) v
		JOIN customers c ON c.id = v.customer_id LEFT JOIN crews cr ON cr.id = v.crew_id ORDER BY v.id`)
	args = append(args, p.Limit)
	rows, err := store.Query(s.store.Conn(ctx), sb.String(), args...)
	if err != nil {
		return nil, "", fmt.Errorf("list visits: %w", err)
	}
	defer rows.Close()
	var vs []Visit
	for rows.Next() {
		v, err := scanVisit(rows, tenantID)
		if err != nil {
			return nil, "", fmt.Errorf("list visits: %w", err)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list visits: %w", err)
	}
	var last int64
	if len(vs) > 0 {
		last = vs[len(vs)-1].ID
	}
	return vs, p.Next(len(vs), last), nil
}

// writeAlone writes a scheduled visit that stays scheduled, of customers
// without neighbour links, with no transaction around it: such a write
// changes nobody's money and nothing the listeners watch (a link, a
// completion, a cancellation), so it has no consequences to commit with it.
// On PostgreSQL it is one statement, with nothing read before: it
// share-locks the customers without links (the visit's, and the one it may
// leave) — a link made meanwhile, like any write of their money, waits for
// the lock or is seen, while quiet writes of one customer's visits go side
// by side — and writes only when both are among them and, under the lock,
// the visit is still scheduled and theirs. When any of
// that fails (or a name is unknown, or the stored row is newer) it writes
// nothing and answers read: the names resolved and the visit as it was,
// read in the same statement, with which the caller writes it the long
// way (read is nil when it wrote). Only a write that keeps the visit
// scheduled (keepsScheduled) is tried.
func (s *Service) writeAlone(ctx context.Context, tenantID, externalID string, in VisitInput, vf visitFields) (v Visit, up store.Upserted, read *refsRow, err error) {
	crewJoin, crewID, crewArgs := "", "NULL", []any(nil)
	if in.CrewID != nil {
		crewJoin, crewID, crewArgs = " JOIN crews cr ON cr.tenant_id = ? AND cr.external_id = ?", "cr.id", []any{tenantID, *in.CrewID}
	}
	now := s.clock.Now()
	args := []any{tenantID, in.CustomerID, tenantID, externalID, tenantID, externalID, vf.date, vf.startAt, in.RoutePosition,
		in.DurationMin, in.PriceCents, SourceScheduler, utc(in.UpdatedAt), now, now}
	args = append(append(append(args, crewArgs...), in.CustomerID), newerArgs(in.UpdatedAt)...)
	refs, refArgs := refsQuery(tenantID, externalID, in)
	args = append(args, refArgs...)
	rows, err := store.Query(s.store.Conn(ctx), `WITH money AS (SELECT id, external_id FROM customers WHERE tenant_id = ?
		    AND (external_id = ? OR id = (SELECT customer_id FROM visits WHERE tenant_id = ? AND external_id = ?))
		    AND link_count = 0 ORDER BY id FOR SHARE),
		w AS (INSERT INTO visits (tenant_id, external_id, service_date, start_at, route_position, duration_min,
		    price_cents, source, source_updated_at, created_at, updated_at, status, customer_id, crew_id)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'scheduled', c.id, `+crewID+`
		FROM money c`+crewJoin+` WHERE c.external_id = ?
		ON CONFLICT (tenant_id, external_id) DO UPDATE SET customer_id = EXCLUDED.customer_id, crew_id = EXCLUDED.crew_id,
		    service_date = EXCLUDED.service_date, start_at = EXCLUDED.start_at, route_position = EXCLUDED.route_position,
		    duration_min = EXCLUDED.duration_min, price_cents = EXCLUDED.price_cents,
		    source_updated_at = COALESCE(EXCLUDED.source_updated_at, visits.source_updated_at), updated_at = EXCLUDED.updated_at
		WHERE visits.status = 'scheduled' AND visits.customer_id IN (SELECT id FROM money)`+newerOnlyIn("visits", in.UpdatedAt)+`
		RETURNING visits.id, visits.customer_id, visits.crew_id, visits.service_date, visits.start_at,
		    visits.route_position, visits.duration_min, visits.status, visits.price_cents, visits.source,
		    visits.created_at, visits.updated_at, xmax = 0 AS created)
		SELECT w.*, r.* FROM (`+refs+`) AS r LEFT JOIN w ON true`, args...)
	if err != nil {
		return Visit{}, store.Updated, nil, fmt.Errorf("write visit: %w", err)
	}
	defer rows.Close()
	var (
		w       writtenRow
		r       refsRow
		n       int
		created *bool
	)
	for rows.Next() {
		n++
		if err := rows.Scan(&w.id, &w.customerID, &v.CrewID, &w.serviceDate, &v.StartAt, &v.RoutePosition, &v.DurationMin,
			&w.status, &w.priceCents, &w.source, &w.createdAt, &w.updatedAt, &created,
			&r.RefCustomerID, &r.RefCrewID, &r.OldCustomerID, &r.OldCrewID, &r.OldServiceDate, &r.OldStatus, &r.RefLinks); err != nil {
			return Visit{}, store.Updated, nil, fmt.Errorf("write visit: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return Visit{}, store.Updated, nil, fmt.Errorf("write visit: %w", err)
	}
	if n != 1 {
		return Visit{}, store.Updated, nil, fmt.Errorf("write visit: %d rows", n)
	}
	if created == nil {
		return Visit{}, store.Updated, &r, nil
	}
	v.ID, v.TenantID, v.ExternalID, v.CustomerID, v.ServiceDate = *w.id, tenantID, externalID, *w.customerID, *w.serviceDate
	v.Status, v.PriceCents, v.Source, v.CreatedAt, v.UpdatedAt = *w.status, *w.priceCents, *w.source, *w.createdAt, *w.updatedAt
	up = store.Updated
	if *created {
		up = store.Created
	}
	v.CustomerExternalID = in.CustomerID
	v.CrewExternalID = in.CrewID
	return v, up, nil, nil
}

// writtenRow holds the visit's columns writeAlone's statement answers,
// NULL when it wrote nothing.
type writtenRow struct {
	id, customerID, priceCents *int64
	serviceDate                *localdate.Date
	status, source             *string
	createdAt, updatedAt       *time.Time
}

// writeAloneSQLite is writeAlone on SQLite, for a write ref says concerns
// nobody else: the plain insert or update, guarded by what ref was read
// with (still no links, still scheduled and the same customer's); SQLite
// runs one writing statement at a time. Short statements: SQLite parses
// each one again on every write.
func (s *Service) writeAloneSQLite(ctx context.Context, tenantID, externalID string, in VisitInput, vf visitFields, ref visitRefs) (v Visit, up store.Upserted, ok bool, err error) {
	now := s.clock.Now()
	var rows []Visit
	db := s.store.Conn(ctx)
	if ref.before == nil {
		up = store.Created
		err = db.Raw(`INSERT INTO visits (tenant_id, external_id, customer_id, crew_id, service_date, start_at,
				    route_position, duration_min, status, price_cents, source, source_updated_at, created_at, updated_at)
				SELECT ?, ?, ?, ?, ?, ?, ?, ?, 'scheduled', ?, ?, ?, ?, ?
				WHERE (SELECT link_count FROM customers WHERE id = ?) = 0
				ON CONFLICT (tenant_id, external_id) DO NOTHING RETURNING *`,
			tenantID, externalID, ref.customerID, ref.crewID, vf.date, vf.startAt, in.RoutePosition, in.DurationMin,
			in.PriceCents, SourceScheduler, utc(in.UpdatedAt), now, now, ref.customerID).Scan(&rows).Error
	} else {
		up = store.Updated
		err = db.Raw(`UPDATE visits SET customer_id = ?, crew_id = ?, service_date = ?, start_at = ?, route_position = ?,
			    duration_min = ?, price_cents = ?, source_updated_at = COALESCE(?, source_updated_at), updated_at = ?
			WHERE tenant_id = ? AND external_id = ? AND customer_id = ? AND status = 'scheduled'
			  AND (SELECT SUM(link_count) FROM customers WHERE id IN (?, ?)) = 0`+newerOnly(in.UpdatedAt)+`
			RETURNING *`, append([]any{ref.customerID, ref.crewID, vf.date, vf.startAt, in.RoutePosition, in.DurationMin,
			in.PriceCents, utc(in.UpdatedAt), now, tenantID, externalID, ref.before.CustomerID, ref.customerID, ref.before.CustomerID},
			newerArgs(in.UpdatedAt)...)...).Scan(&rows).Error
	}
	if err != nil || len(rows) != 1 {
		return Visit{}, store.Updated, false, err
	}
	v = rows[0]
	v.CustomerExternalID = in.CustomerID
	v.CrewExternalID = in.CrewID
	return v, up, true, nil
}
