// Package ledger decides, in one place, what every customer is owed — the
// same-day neighbour discount for each visit on each invoice billing it, and
// each granted reward — records what was given (the computed lines of
// invoices that are not void), and puts the difference on the customer's
// drafts. A write that can change what is owed calls Refresh for the
// customers it touches inside its own transaction, so a write and its
// consequences commit together or not at all (README "The money ledger").
package ledger

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/events"
	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/store"
)

// Service keeps the ledger.
type Service struct {
	store  *store.Store
	clock  clock.Clock
	events events.Emitter
	// baseURL prefixes the invoice_url of invoice.discounted.
	baseURL string
}

// UseBaseURL sets the public address (base_url) the invoice_url of
// invoice.discounted is built on.
func (s *Service) UseBaseURL(baseURL string) { s.baseURL = baseURL }

// NewService returns the ledger; em receives invoice.discounted.
func NewService(s *store.Store, c clock.Clock, em events.Emitter) *Service {
	if em == nil {
		em = events.Discard{}
	}
	return &Service{store: s, clock: c, events: em}
}

// Neighbours returns the customers linked (now or ever) to any of the
// given ones, the given ones included, sorted.
func Neighbours(tx *gorm.DB, tenantID string, customerIDs ...int64) ([]int64, error) {
	links, err := LinksOf(tx, tenantID, customerIDs)
	if err != nil {
		return nil, err
	}
	all := append([]int64(nil), customerIDs...)
	for _, l := range links {
		all = append(all, l.CustomerAID, l.CustomerBID)
	}
	return uniqueSorted(all), nil
}

// without is ids less those in drop.
func without(ids, drop []int64) []int64 {
	if len(drop) == 0 {
		return ids
	}
	skip := make(map[int64]bool, len(drop))
	for _, id := range drop {
		skip[id] = true
	}
	var out []int64
	for _, id := range ids {
		if !skip[id] {
			out = append(out, id)
		}
	}
	return out
}

func uniqueSorted(ids []int64) []int64 {
	seen := map[int64]bool{}
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if id != 0 && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Refresh works out again what the customers are owed and re-fills their
// drafts, inside the caller's transaction. Running it again changes
// nothing.
func (s *Service) Refresh(tx *gorm.DB, tenantID string, customerIDs ...int64) error {
	return s.RefreshHeld(tx, tenantID, nil, customerIDs...)
}

// RefreshHeld is Refresh for a caller that already holds the locks of the
// customers in held (taken in the one lock order): only the others are
// locked here.
func (s *Service) RefreshHeld(tx *gorm.DB, tenantID string, held []int64, customerIDs ...int64) error {
	ids := uniqueSorted(customerIDs)
	if len(ids) == 0 {
		return nil
	}
	if err := fault(PointRefresh); err != nil {
		return err
	}
	if err := store.LockCustomers(tx, tenantID, without(ids, held)...); err != nil {
		return err
	}
	// Nothing billed, nothing owed: nothing to work out (most visit writes).
	var any bool
	set, arg := idSet(tx, ids)
	if err := tx.Raw(`SELECT EXISTS (SELECT 1 FROM `+set+` invoices i ON i.customer_id = s.id WHERE i.tenant_id = ? AND i.status <> 'void')
		OR EXISTS (SELECT 1 FROM `+set+` ledger_items li ON li.customer_id = s.id WHERE li.tenant_id = ?)
		OR EXISTS (SELECT 1 FROM `+set+` rewards r ON r.customer_id = s.id WHERE r.tenant_id = ? AND r.status = 'granted')`,
		arg, tenantID, arg, tenantID, arg, tenantID).Scan(&any).Error; err != nil {
		return fmt.Errorf("look for money: %w", err)
	}
	if !any {
		return nil
	}
	prog, err := program.Get(tx, tenantID)
	if err != nil {
		return err
	}
	facts, w0, err := load(tx, tenantID, prog, ids, nil)
	if err != nil {
		return err
	}
	stored, err := storedItems(tx, tenantID, ids)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	var items []*Item
	var w draftWrites
	for _, id := range ids {
		c := facts[id]
		p := w0.work(c)
		w.add(tenantID, c, p)
		items = append(items, p.items...)
	}
	if err := s.flush(tx, tenantID, w, now); err != nil {
		return err
	}
	return saveItems(tx, tenantID, stored, items, now)
}

// draftWrites are the changes to drafts one refresh makes, written
// together: a busy day's reconciliation touches tens of thousands.
type draftWrites struct {
	cleared  []int64        // drafts whose computed lines are replaced
	inserts  []invoice.Line // their new computed lines
	totals   map[int64][3]int64
	announce []announcement
}

type announcement struct {
	externalID string
	token      string // the invoice page's key, read with the invoice
	payURL     string // the scheduler's payment page, read with the invoice
	lines      []invoice.Line
	customerID int64
}

// add works out what changes on a customer's drafts.
func (w *draftWrites) add(tenantID string, c *customerFacts, p plan) {
	for _, x := range c.Invoices {
		if !x.draft() {
			continue
		}
		want := p.lines[x.ID]
		sched := x.schedulerLines()
		next := 1
		for _, l := range sched {
			next = max(next, l.Position+1)
		}
		for i := range want {
			want[i].TenantID, want[i].InvoiceID, want[i].Position = tenantID, x.ID, next+i
		}
		all := append(append([]invoice.Line(nil), sched...), want...)
		sub, disc, total := invoice.Totals(all)
		changed := !sameLines(x.computedLines(), want)
		if changed {
			w.cleared = append(w.cleared, x.ID)
			w.inserts = append(w.inserts, want...)
			if disc > 0 {
				w.announce = append(w.announce, announcement{externalID: x.ExternalID, token: x.PublicToken, payURL: x.PayURL, lines: all, customerID: c.ID})
			}
		}
		if changed || sub != x.Subtotal || disc != x.Discount || total != x.Total {
			if w.totals == nil {
				w.totals = map[int64][3]int64{}
			}
			w.totals[x.ID] = [3]int64{sub, disc, total}
		}
	}
}

// flush writes the drafts' changes in a few statements.
func (s *Service) flush(tx *gorm.DB, tenantID string, w draftWrites, now time.Time) error {
	for chunk := range slices.Chunk(w.cleared, store.MaxInList) {
		if err := tx.Exec(`DELETE FROM invoice_lines WHERE invoice_id IN ? AND (source_key IS NOT NULL OR item_key IS NOT NULL)`, chunk).Error; err != nil {
			return fmt.Errorf("clear computed lines: %w", err)
		}
	}
	if err := insertLines(tx, w.inserts); err != nil {
		return fmt.Errorf("insert computed lines: %w", err)
	}
	if err := saveTotals(tx, w.totals, now); err != nil {
		return err
	}
	if len(w.announce) == 0 {
		return nil
	}
	// Who is billed, and whether they take marketing messages, for the
	// messaging tool: one read for every announcement of the refresh.
	byID := map[int64]billedCustomer{}
	for _, a := range w.announce {
		byID[a.customerID] = billedCustomer{}
	}
	for chunk := range slices.Chunk(slices.Sorted(maps.Keys(byID)), store.MaxInList) {
		var billed []billedCustomer
		if err := tx.Raw(`SELECT id, external_id, consent_marketing FROM customers WHERE tenant_id = ? AND id IN ?`, tenantID, chunk).
			Scan(&billed).Error; err != nil {
			return fmt.Errorf("read the billed customers: %w", err)
		}
		for _, b := range billed {
			byID[b.ID] = b
		}
	}
	payloads := make([]any, len(w.announce))
	for i, a := range w.announce {
		payloads[i] = s.discounted(a, byID[a.customerID])
	}
	if em, ok := s.events.(manyEmitter); ok {
		return em.EmitMany(tx, tenantID, events.InvoiceDiscounted, payloads)
	}
	for _, p := range payloads {
		if err := s.events.Emit(tx, tenantID, events.InvoiceDiscounted, p); err != nil {
			return err
		}
	}
	return nil
}

// insertLines writes the drafts' new computed lines: in one statement on
// PostgreSQL (store.BulkInsert), in batches of a multi-row INSERT on SQLite.
func insertLines(tx *gorm.DB, lines []invoice.Line) error {
	if len(lines) == 0 {
		return nil
	}
	if tx.Dialector.Name() != store.Postgres {
		return tx.Omit("ID", "VisitExternalID").CreateInBatches(&lines, 500).Error
	}
	type row struct {
		TenantID    string  `json:"tenant_id"`
		InvoiceID   int64   `json:"invoice_id"`
		Position    int     `json:"position"`
		Kind        string  `json:"kind"`
		VisitID     *int64  `json:"visit_id"`
		Description string  `json:"description"`
		AmountCents int64   `json:"amount_cents"`
		Reason      string  `json:"reason"`
		SourceKey   *string `json:"source_key"`
		ItemKey     *string `json:"item_key"`
	}
	rows := make([]row, len(lines))
	for i, l := range lines {
		rows[i] = row{l.TenantID, l.InvoiceID, l.Position, l.Kind, l.VisitID, l.Description, l.AmountCents, l.Reason, l.SourceKey, l.ItemKey}
	}
	q, arg, err := store.BulkInsert("invoice_lines", []string{"tenant_id", "invoice_id", "position", "kind", "visit_id",
		"description", "amount_cents", "reason", "source_key", "item_key"}, rows, "")
	if err != nil {
		return err
	}
	return tx.Exec(q, arg).Error
}

// manyEmitter is an events.Emitter that also records many events of one
// kind, in order, in a few statements: a day's reconciliation announces
// tens of thousands of drafts, each otherwise its own statements.
type manyEmitter interface {
	EmitMany(tx *gorm.DB, tenantID, kind string, payloads []any) error
}

// saveTotals writes the drafts' new totals (by invoice id) in one
// statement: the invoice ids and their three amounts travel as arrays
// (PostgreSQL) or as one JSON array (SQLite), whatever their number.
func saveTotals(tx *gorm.DB, totals map[int64][3]int64, now time.Time) error {
	if len(totals) == 0 {
		return nil
	}
	ids := slices.Sorted(maps.Keys(totals))
	var err error
	if tx.Dialector.Name() == store.Postgres {
		var cols [4][]int64
		for _, id := range ids {
			t := totals[id]
			for k, v := range [4]int64{id, t[0], t[1], t[2]} {
				cols[k] = append(cols[k], v)
			}
		}
		err = tx.Exec(`UPDATE invoices AS i SET subtotal_cents = v.sub, discount_cents = v.disc, total_cents = v.total, updated_at = ?
			FROM unnest(CAST(? AS BIGINT[]), CAST(? AS BIGINT[]), CAST(? AS BIGINT[]), CAST(? AS BIGINT[])) AS v(id, sub, disc, total)
			WHERE i.id = v.id`, now, store.IDList(cols[0], false), store.IDList(cols[1], false), store.IDList(cols[2], false), store.IDList(cols[3], false)).Error
	} else {
		var b strings.Builder
		b.WriteByte('[')
		for i, id := range ids {
			t := totals[id]
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "[%d,%d,%d,%d]", id, t[0], t[1], t[2])
		}
		b.WriteByte(']')
		err = tx.Exec(`UPDATE invoices SET subtotal_cents = v.sub, discount_cents = v.disc, total_cents = v.total, updated_at = ?
			FROM (SELECT value ->> 0 AS id, value ->> 1 AS sub, value ->> 2 AS disc, value ->> 3 AS total FROM json_each(?)) AS v
			WHERE invoices.id = v.id`, now, b.String()).Error
	}
	if err != nil {
		return fmt.Errorf("save totals: %w", err)
	}
	return nil
}

// billedCustomer is what invoice.discounted says of the billed customer.
type billedCustomer struct {
	ID               int64
	ExternalID       string
	ConsentMarketing bool
}

// discounted is the invoice.discounted event of a draft whose discounts
// changed.
func (s *Service) discounted(a announcement, c billedCustomer) map[string]any {
	sub, disc, total := invoice.Totals(a.lines)
	var given []map[string]any
	for _, l := range a.lines {
		if l.ItemKey != nil {
			given = append(given, map[string]any{"kind": l.Kind, "amount_cents": l.AmountCents, "reason": l.Reason})
		}
	}
	return map[string]any{
		"invoice_id": a.externalID, "invoice_url": invoice.URL(s.baseURL, a.token), "pay_url": a.payURL, "subtotal_cents": sub, "discount_cents": disc, "total_cents": total, "discounts": given,
		"customer_id": c.ExternalID, "consent_marketing": c.ConsentMarketing,
	}
}

// sameLines reports whether stored computed lines equal the wanted ones, in
// order.
func sameLines(have, want []invoice.Line) bool {
	if len(have) != len(want) {
		return false
	}
	sort.Slice(have, func(i, j int) bool { return have[i].Position < have[j].Position })
	for i := range want {
		a, b := have[i], want[i]
		if a.Kind != b.Kind || !sameStr(a.SourceKey, b.SourceKey) || !sameStr(a.ItemKey, b.ItemKey) || a.AmountCents != b.AmountCents ||
			a.Description != b.Description || a.Reason != b.Reason || !sameID(a.VisitID, b.VisitID) {
			return false
		}
	}
	return true
}

func sameStr(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func sameID(a, b *int64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// itemRow is a row of ledger_items (its json names are the columns, for
// store.BulkInsert).
type itemRow struct {
	ID           int64           `json:"id"`
	TenantID     string          `json:"tenant_id"`
	CustomerID   int64           `json:"customer_id"`
	ItemKey      string          `json:"item_key"`
	Kind         string          `json:"kind"`
	VisitID      *int64          `json:"visit_id"`
	InvoiceID    *int64          `json:"invoice_id"`
	RewardID     *int64          `json:"reward_id"`
	ServiceDate  *localdate.Date `json:"service_date"`
	OwedCents    int64           `json:"owed_cents"`
	GivenCents   int64           `json:"given_cents"`
	FrozenCents  int64           `json:"frozen_cents"`
	PendingCents int64           `json:"pending_cents"`
	InErrorCents int64           `json:"in_error_cents"`
	Status       string          `json:"status"`
	Reason       string          `json:"reason"`
	CreatedAt    time.Time       `json:"created_at"`
	UpdatedAt    time.Time       `json:"updated_at"`
}

// TableName is ledger_items.
func (itemRow) TableName() string { return "ledger_items" }

// storedItems reads the ledger rows of the customers (unique).
func storedItems(tx *gorm.DB, tenantID string, customerIDs []int64) (map[string]itemRow, error) {
	out := map[string]itemRow{}
	var rows []itemRow
	set, arg := idSet(tx, customerIDs)
	if err := tx.Raw(`SELECT li.* FROM `+set+` ledger_items li ON li.customer_id = s.id WHERE li.tenant_id = ?`, arg, tenantID).
		Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("read ledger: %w", err)
	}
	for _, r := range rows {
		out[r.ItemKey] = r
	}
	return out, nil
}

// storedAmounts reads what same compares of the customers' (unique) ledger
// rows, for a reconciliation to tell which customers need refreshing.
func storedAmounts(tx *gorm.DB, tenantID string, customerIDs []int64) (map[string]itemRow, error) {
	set, arg := idSet(tx, customerIDs)
	rows, err := tx.Raw(`SELECT li.customer_id, li.item_key, li.owed_cents, li.given_cents, li.frozen_cents, li.pending_cents,
		li.in_error_cents, li.status, li.reason FROM `+set+` ledger_items li ON li.customer_id = s.id WHERE li.tenant_id = ?`, arg, tenantID).Rows()
	if err != nil {
		return nil, fmt.Errorf("read ledger: %w", err)
	}
	defer rows.Close()
	out := map[string]itemRow{}
	for rows.Next() {
		var r itemRow
		if err := rows.Scan(&r.CustomerID, &r.ItemKey, &r.OwedCents, &r.GivenCents, &r.FrozenCents, &r.PendingCents, &r.InErrorCents,
			&r.Status, &r.Reason); err != nil {
			return nil, fmt.Errorf("read ledger: %w", err)
		}
		out[r.ItemKey] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read ledger: %w", err)
	}
	return out, nil
}

func (r itemRow) same(it *Item) bool {
	return r.CustomerID == it.CustomerID && r.OwedCents == it.Owed && r.GivenCents == it.Given && r.FrozenCents == it.Frozen &&
		r.PendingCents == it.Pending && r.InErrorCents == it.InError && r.Status == it.Status && r.Reason == it.Reason
}

// saveItems makes the customers' ledger rows exactly items.
func saveItems(tx *gorm.DB, tenantID string, stored map[string]itemRow, items []*Item, now time.Time) error {
	var upserts []itemRow
	for _, it := range items {
		r, ok := stored[it.Key]
		delete(stored, it.Key)
		if ok && r.same(it) {
			continue
		}
		created := now
		if ok {
			created = r.CreatedAt
		}
		upserts = append(upserts, itemRow{TenantID: tenantID, CustomerID: it.CustomerID, ItemKey: it.Key, Kind: it.Kind,
			VisitID: it.VisitID, InvoiceID: it.InvoiceID, RewardID: it.RewardID, ServiceDate: it.ServiceDate,
			OwedCents: it.Owed, GivenCents: it.Given, FrozenCents: it.Frozen, PendingCents: it.Pending, InErrorCents: it.InError,
			Status: it.Status, Reason: it.Reason, CreatedAt: created, UpdatedAt: now})
	}
	var gone []int64
	for _, r := range stored {
		gone = append(gone, r.ID)
	}
	for chunk := range slices.Chunk(gone, store.MaxInList) {
		if err := tx.Exec(`DELETE FROM ledger_items WHERE id IN ?`, chunk).Error; err != nil {
			return fmt.Errorf("clear ledger: %w", err)
		}
	}
	if err := upsertItems(tx, upserts); err != nil {
		return fmt.Errorf("write ledger: %w", err)
	}
	return nil
}

// itemUpdates are the columns a ledger row written again takes from the
// new one: changed items are written over, new ones added, and a draft
// that moved to another customer takes its items along.
var itemUpdates = []string{"customer_id", "owed_cents", "given_cents", "frozen_cents",
	"pending_cents", "in_error_cents", "status", "reason", "updated_at"}

// upsertItems writes the ledger rows: in one statement on PostgreSQL
// (store.BulkInsert), in batches of a multi-row INSERT on SQLite.
func upsertItems(tx *gorm.DB, rows []itemRow) error {
	if len(rows) == 0 {
		return nil
	}
	if tx.Dialector.Name() != store.Postgres {
		return tx.Omit("ID").Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "tenant_id"}, {Name: "item_key"}},
			DoUpdates: clause.AssignmentColumns(itemUpdates),
		}).CreateInBatches(&rows, 500).Error
	}
	for i := range rows {
		// As the driver would send them: PostgreSQL keeps microseconds.
		rows[i].CreatedAt, rows[i].UpdatedAt = rows[i].CreatedAt.Truncate(time.Microsecond), rows[i].UpdatedAt.Truncate(time.Microsecond)
	}
	set := make([]string, len(itemUpdates))
	for i, c := range itemUpdates {
		set[i] = c + " = EXCLUDED." + c
	}
	q, arg, err := store.BulkInsert("ledger_items", []string{"tenant_id", "customer_id", "item_key", "kind", "visit_id",
		"invoice_id", "reward_id", "service_date", "owed_cents", "given_cents", "frozen_cents", "pending_cents",
		"in_error_cents", "status", "reason", "created_at", "updated_at"}, rows,
		"ON CONFLICT (tenant_id, item_key) DO UPDATE SET "+strings.Join(set, ", "))
	if err != nil {
		return err
	}
	return tx.Exec(q, arg).Error
}
