package ledger

import (
	"cmp"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/program"
)

// invoicesOf reads the invoices that are not void of the customers of an
// idSet (its parameter first), with their lines and the visits the lines
// bill, in no order (sorted in Go: a day's hundred thousand rows would not
// sort in PostgreSQL's memory).
const invoicesOf = `
SELECT i.id, i.external_id, i.public_token, i.pay_url, i.customer_id, i.status, i.terms_sync_bps, i.terms_max_bps, i.terms_same_crew,
       i.subtotal_cents, i.discount_cents, i.total_cents,
       l.id, l.position, l.kind, l.visit_id, l.description, l.amount_cents, l.reason, l.source_key, l.item_key,
       v.customer_id, v.crew_id, v.service_date, v.status
FROM %s invoices i ON i.customer_id = s.id LEFT JOIN invoice_lines l ON l.invoice_id = i.id
LEFT JOIN visits v ON v.id = l.visit_id AND v.tenant_id = i.tenant_id
WHERE i.tenant_id = ? AND i.status <> 'void'`

// readInvoices fills the customers' invoices and their lines, and the
// world's visits the lines bill; it returns the ids of the invoices the
// lines' sync items name (readInvoiceIDs).
func readInvoices(tx *gorm.DB, tenantID string, cur Terms, facts map[int64]*customerFacts, w *world, customerIDs []int64) (map[int64]bool, error) {
	set, arg := idSet(tx, customerIDs)
	rows, err := tx.Raw(fmt.Sprintf(invoicesOf, set), arg, tenantID).Rows()
	if err != nil {
		return nil, fmt.Errorf("read invoices: %w", err)
	}
	defer rows.Close()
	named := map[int64]bool{}
	byID := map[int64]*invoiceFacts{}
	var r invoiceLineRow
	for rows.Next() {
		if err := rows.Scan(&r.ID, &r.ExternalID, &r.PublicToken, &r.PayURL, &r.CustomerID, &r.Status, &r.TermsSyncBps, &r.TermsMaxBps,
			&r.TermsSameCrew, &r.SubtotalCents, &r.DiscountCents, &r.TotalCents, &r.LineID, &r.LinePosition, &r.LineKind, &r.LineVisitID,
			&r.LineDesc, &r.LineAmount, &r.LineReason, &r.LineSourceKey, &r.LineItemKey,
			&r.VisitCustomerID, &r.VisitCrewID, &r.VisitDate, &r.VisitStatus); err != nil {
			return nil, fmt.Errorf("read invoices: %w", err)
		}
		x := byID[r.ID]
		if x == nil {
			x = &invoiceFacts{ID: r.ID, ExternalID: r.ExternalID, PublicToken: r.PublicToken, PayURL: r.PayURL, Status: r.Status, Terms: cur,
				Subtotal: r.SubtotalCents, Discount: r.DiscountCents, Total: r.TotalCents}
			if r.TermsSyncBps.Valid && r.TermsMaxBps.Valid {
				x.Terms = Terms{SyncBps: int(r.TermsSyncBps.Int64), MaxBps: int(r.TermsMaxBps.Int64), SameCrew: r.TermsSameCrew.Valid && r.TermsSameCrew.Bool}
			}
			byID[r.ID] = x
			w.invoiceIDs[r.ID] = r.ExternalID
			facts[r.CustomerID].Invoices = append(facts[r.CustomerID].Invoices, x)
		}
		if !r.LineID.Valid {
			continue
		}
		l := invoice.Line{ID: r.LineID.Int64, TenantID: tenantID, InvoiceID: r.ID, Position: int(r.LinePosition.Int64),
			Kind: r.LineKind.String, Description: r.LineDesc.String, AmountCents: r.LineAmount.Int64, Reason: r.LineReason.String}
		if r.LineVisitID.Valid {
			v := r.LineVisitID.Int64
			l.VisitID = &v
			if r.VisitCustomerID.Valid {
				w.visits[v] = r.visit(v)
			}
		}
		if r.LineSourceKey.Valid {
			l.SourceKey = ptr(r.LineSourceKey.String)
		}
		if r.LineItemKey.Valid {
			l.ItemKey = ptr(r.LineItemKey.String)
			if kind, _, inv, ok := parseKey(r.LineItemKey.String); ok && kind == KindSyncDiscount {
				named[inv] = true
			}
		}
		x.Lines = append(x.Lines, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read invoices: %w", err)
	}
	for _, c := range facts {
		slices.SortFunc(c.Invoices, func(a, b *invoiceFacts) int { return cmp.Compare(a.ID, b.ID) })
	}
	for _, x := range byID {
		slices.SortFunc(x.Lines, func(a, b invoice.Line) int { return cmp.Compare(a.Position, b.Position) })
	}
	return named, nil
}

// invoiceLineRow is an invoice joined with one of its lines and the visit
// the line bills.
type invoiceLineRow struct {
	ID              int64
	ExternalID      string
	PublicToken     string
	PayURL          string
	CustomerID      int64
	Status          string
	TermsSyncBps    sql.NullInt64
	TermsMaxBps     sql.NullInt64
	TermsSameCrew   sql.NullBool
	SubtotalCents   int64
	DiscountCents   int64
	TotalCents      int64
	LineID          sql.NullInt64
	LinePosition    sql.NullInt64
	LineKind        sql.NullString
	LineVisitID     sql.NullInt64
	LineDesc        sql.NullString
	LineAmount      sql.NullInt64
	LineReason      sql.NullString
	LineSourceKey   sql.NullString
	LineItemKey     sql.NullString
	VisitCustomerID sql.NullInt64
	VisitCrewID     sql.NullInt64
	VisitDate       localdate.Date
	VisitStatus     sql.NullString
}

// visit is the billed visit of the row, id.
func (r *invoiceLineRow) visit(id int64) VisitRef {
	v := VisitRef{ID: id, CustomerID: r.VisitCustomerID.Int64, ServiceDate: r.VisitDate, Status: r.VisitStatus.String}
	if r.VisitCrewID.Valid {
		c := r.VisitCrewID.Int64
		v.CrewID = &c
	}
	return v
}

// readVisits reads visits: query selects id, customer_id, crew_id,
// service_date, status.
func readVisits(tx *gorm.DB, query string, args ...any) ([]VisitRef, error) {
	rows, err := tx.Raw(query, args...).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []VisitRef
	for rows.Next() {
		var v VisitRef
		var crew sql.NullInt64
		if err := rows.Scan(&v.ID, &v.CustomerID, &crew, &v.ServiceDate, &v.Status); err != nil {
			return nil, err
		}
		if crew.Valid {
			c := crew.Int64
			v.CrewID = &c
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// load reads everything the money of the given customers (unique) depends
// on, a few statements whatever their number. With side (unsettled), the
// customers' links and rewards are side's: read beforehand, or meanwhile
// by another transaction in the same snapshot, which load waits for.
func load(tx *gorm.DB, tenantID string, prog program.Program, customerIDs []int64, side *beside) (map[int64]*customerFacts, *world, error) {
	cur := TermsOf(prog)
	facts := make(map[int64]*customerFacts, len(customerIDs))
	for _, id := range customerIDs {
		facts[id] = &customerFacts{ID: id}
	}
	w := &world{terms: cur, visits: make(map[int64]VisitRef, len(customerIDs)), matches: map[bool]map[int64]Match{}, streets: map[int64]string{},
		invoiceIDs: make(map[int64]string, len(customerIDs)), syncDesc: "Same-day neighbour discount (" + program.Percent(cur.SyncBps) + ")"}
	named, err := readInvoices(tx, tenantID, cur, facts, w, customerIDs)
	if side != nil {
		if serr := side.wait(); err == nil {
			err = serr
		}
	}
	if err != nil {
		return nil, nil, err
	}
	if err := w.readInvoiceIDs(tx, tenantID, named); err != nil {
		return nil, nil, err
	}
	if err := w.matchNeighbours(tx, tenantID, facts, customerIDs, side); err != nil {
		return nil, nil, err
	}
	var rewards []rewardRow
	if side != nil {
		rewards = side.rewards
	} else if rewards, err = readRewards(tx, tenantID, customerIDs); err != nil {
		return nil, nil, err
	}
	for _, r := range rewards {
		facts[r.CustomerID].Rewards = append(facts[r.CustomerID].Rewards, rewardFacts{ID: r.ID, Kind: r.Kind, Bps: r.Bps,
			Value: r.ValueCents, Points: r.Points, AddonName: r.AddonName, Reason: r.Reason})
	}
	return facts, w, nil
}

// beside is what unsettled reads of customers apart from their invoices:
// their links, granted rewards and ledger rows.
type beside struct {
	done    chan struct{}
	err     error
	links   []Link
	rewards []rewardRow
	stored  map[string]itemRow
}

// besideNow reads what beside holds of the customers in tx, now.
func besideNow(tx *gorm.DB, tenantID string, customerIDs []int64) *beside {
	b := &beside{done: make(chan struct{})}
	b.err = b.read(tx, tenantID, customerIDs)
	close(b.done)
	return b
}

// besideMeanwhile starts reading what beside holds of the customers in a
// transaction of db that imports the snapshot snap (PostgreSQL), while the
// exporting transaction reads their invoices.
func besideMeanwhile(db *gorm.DB, snap, tenantID string, customerIDs []int64) *beside {
	b := &beside{done: make(chan struct{})}
	go func() {
		defer close(b.done)
		b.err = db.Transaction(func(tx *gorm.DB) error {
			if strings.Trim(snap, "0123456789ABCDEFabcdef-") != "" {
				return fmt.Errorf("read beside: snapshot %q", snap)
			}
			if err := tx.Exec(`SET TRANSACTION SNAPSHOT '` + snap + `'`).Error; err != nil {
				return fmt.Errorf("read beside: %w", err)
			}
			if err := bigRead(tx); err != nil {
				return err
			}
			return b.read(tx, tenantID, customerIDs)
		}, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	}()
	return b
}

func (b *beside) read(tx *gorm.DB, tenantID string, customerIDs []int64) error {
	var err error
	if b.links, err = LinksOf(tx, tenantID, customerIDs); err != nil {
		return err
	}
	if b.rewards, err = readRewards(tx, tenantID, customerIDs); err != nil {
		return err
	}
	b.stored, err = storedAmounts(tx, tenantID, customerIDs)
	return err
}

// wait waits for the reads to finish and returns their error.
func (b *beside) wait() error {
	<-b.done
	return b.err
}

// readInvoiceIDs notes the scheduler ids of the invoices that items name
// (named) but that are not the customers' any more (voided), for reasons.
func (w *world) readInvoiceIDs(tx *gorm.DB, tenantID string, named map[int64]bool) error {
	maps.DeleteFunc(named, func(id int64, _ bool) bool { _, known := w.invoiceIDs[id]; return known })
	if len(named) == 0 {
		return nil
	}
	var rows []struct {
		ID         int64
		ExternalID string
	}
	set, arg := idSet(tx, slices.Sorted(maps.Keys(named)))
	if err := tx.Raw(`SELECT i.id, i.external_id FROM `+set+` invoices i ON i.id = s.id WHERE i.tenant_id = ?`, arg, tenantID).
		Scan(&rows).Error; err != nil {
		return fmt.Errorf("read invoices: %w", err)
	}
	for _, r := range rows {
		w.invoiceIDs[r.ID] = r.ExternalID
	}
	return nil
}

// matchNeighbours finds, under each same-crew rule some invoice is priced
// by, which billed visits a linked neighbour was serviced beside, and the
// neighbours' streets.
func (w *world) matchNeighbours(tx *gorm.DB, tenantID string, facts map[int64]*customerFacts, customerIDs []int64, side *beside) error {
	own, days := w.ownVisits(facts)
	var links []Link
	if side != nil {
		links = side.links
	} else if len(own) > 0 {
		// Links matter only to customers with a visit to discount.
		var err error
		if links, err = LinksOf(tx, tenantID, customerIDs); err != nil {
			return err
		}
	}
	sameCrew := w.sameCrewRules(facts)
	if len(links) == 0 || len(own) == 0 {
		for sc := range sameCrew {
			w.matches[sc] = map[int64]Match{}
		}
		return nil
	}
	others := map[int64]bool{}
	for _, l := range links {
		others[l.CustomerAID], others[l.CustomerBID] = true, true
	}
	set, arg := idSet(tx, slices.Sorted(maps.Keys(others)))
	theirs, err := readVisits(tx, `SELECT v.id, v.customer_id, v.crew_id, v.service_date, v.status FROM `+set+` visits v ON v.customer_id = s.id
		WHERE v.tenant_id = ? AND v.service_date IN ? AND v.status <> 'cancelled'`, arg, tenantID, slices.Collect(maps.Keys(days)))
	if err != nil {
		return fmt.Errorf("read neighbours' visits: %w", err)
	}
	for sc := range sameCrew {
		w.matches[sc] = MatchSynced(own, links, theirs, sc)
	}
	return w.readStreets(tx, tenantID)
}

// ownVisits are the billed visits of the customers themselves, by id, and
// their days: only a customer's own visits can be discounted on their
// invoices.
func (w *world) ownVisits(facts map[int64]*customerFacts) ([]VisitRef, map[localdate.Date]bool) {
	var own []VisitRef
	days := map[localdate.Date]bool{}
	for _, v := range w.visits {
		if _, ok := facts[v.CustomerID]; ok {
			own = append(own, v)
			days[v.ServiceDate] = true
		}
	}
	sort.Slice(own, func(i, j int) bool { return own[i].ID < own[j].ID })
	return own, days
}

// sameCrewRules are the same-crew rules the invoices are priced under: the
// program's for drafts, each issued invoice's own.
func (w *world) sameCrewRules(facts map[int64]*customerFacts) map[bool]bool {
	sameCrew := map[bool]bool{w.terms.SameCrew: true}
	for _, c := range facts {
		for _, x := range c.Invoices {
			if !x.draft() {
				sameCrew[x.Terms.SameCrew] = true
			}
		}
	}
	return sameCrew
}

// readStreets reads the streets of the neighbours the matches name.
func (w *world) readStreets(tx *gorm.DB, tenantID string) error {
	neighbours := map[int64]bool{}
	for _, ms := range w.matches {
		for _, m := range ms {
			neighbours[m.NeighborID] = true
		}
	}
	if len(neighbours) == 0 {
		return nil
	}
	var rows []struct {
		ID      int64
		Address string
	}
	set, arg := idSet(tx, slices.Sorted(maps.Keys(neighbours)))
	if err := tx.Raw(`SELECT c.id, c.address FROM `+set+` customers c ON c.id = s.id WHERE c.tenant_id = ?`, arg, tenantID).
		Scan(&rows).Error; err != nil {
		return fmt.Errorf("read neighbours: %w", err)
	}
	for _, r := range rows {
		w.streets[r.ID] = Street(r.Address)
	}
	return nil
}

// rewardRow is a granted reward of a customer.
type rewardRow struct {
	ID         int64
	CustomerID int64
	Kind       string
	Bps        int
	Points     int
	AddonName  string
	ValueCents int64
	Reason     string
}

// readRewards reads the customers' granted rewards, by id.
func readRewards(tx *gorm.DB, tenantID string, customerIDs []int64) ([]rewardRow, error) {
	var rs []rewardRow
	set, arg := idSet(tx, customerIDs)
	if err := tx.Raw(`SELECT r.id, r.customer_id, r.kind, r.bps, r.points, r.addon_name, r.value_cents, r.reason FROM `+set+` rewards r
		ON r.customer_id = s.id WHERE r.tenant_id = ? AND r.status = 'granted' ORDER BY r.id`, arg, tenantID).Scan(&rs).Error; err != nil {
		return nil, fmt.Errorf("read rewards: %w", err)
	}
	return rs, nil
}

// LinksOf returns every link (open or ended) of the given customers, by id.
func LinksOf(tx *gorm.DB, tenantID string, customerIDs []int64) ([]Link, error) {
	ids := uniqueSorted(customerIDs)
	if len(ids) == 0 {
		return nil, nil
	}
	set, arg := idSet(tx, ids)
	var out []Link
	err := tx.Raw(`SELECT l.id, l.customer_a_id, l.customer_b_id, l.distance_m, l.starts_on, l.ends_on FROM `+set+` neighbor_links l ON l.customer_a_id = s.id WHERE l.tenant_id = ?
		UNION SELECT l.id, l.customer_a_id, l.customer_b_id, l.distance_m, l.starts_on, l.ends_on FROM `+set+` neighbor_links l ON l.customer_b_id = s.id WHERE l.tenant_id = ?`, arg, tenantID, arg, tenantID).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("read links: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Street is the first part of an address ("14 Maple St" of "14 Maple St,
// Portland"): what a discount reason names, never the neighbour's name.
func Street(address string) string {
	s, _, _ := strings.Cut(address, ",")
	if s = strings.TrimSpace(s); s == "" {
		return "your linked neighbour"
	}
	return s
}
