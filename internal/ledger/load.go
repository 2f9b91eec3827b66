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
// idSet (its parameter first), with their lines, in no order (sorted in
// Go: a day's hundred thousand rows would not sort in PostgreSQL's memory).
const invoicesOf = `
SELECT i.id, i.external_id, i.public_token, i.pay_url, i.customer_id, i.status, i.terms_sync_bps, i.terms_max_bps, i.terms_same_crew,
       i.subtotal_cents, i.discount_cents, i.total_cents,
       l.id, l.position, l.kind, l.visit_id, l.description, l.amount_cents, l.reason, l.source_key, l.item_key
FROM %s invoices i ON i.customer_id = s.id LEFT JOIN invoice_lines l ON l.invoice_id = i.id
WHERE i.tenant_id = ? AND i.status <> 'void'`

// readInvoices fills the customers' invoices and their lines, and returns
// the visits the lines name.
func readInvoices(tx *gorm.DB, tenantID string, cur Terms, facts map[int64]*customerFacts, customerIDs []int64) (map[int64]bool, error) {
	set, arg := idSet(tx, customerIDs)
	rows, err := tx.Raw(fmt.Sprintf(invoicesOf, set), arg, tenantID).Rows()
	if err != nil {
		return nil, fmt.Errorf("read invoices: %w", err)
	}
	defer rows.Close()
	billedIDs := map[int64]bool{}
	byID := map[int64]*invoiceFacts{}
	var r invoiceLineRow
	for rows.Next() {
		if err := rows.Scan(&r.ID, &r.ExternalID, &r.PublicToken, &r.PayURL, &r.CustomerID, &r.Status, &r.TermsSyncBps, &r.TermsMaxBps,
			&r.TermsSameCrew, &r.SubtotalCents, &r.DiscountCents, &r.TotalCents, &r.LineID, &r.LinePosition, &r.LineKind, &r.LineVisitID,
			&r.LineDesc, &r.LineAmount, &r.LineReason, &r.LineSourceKey, &r.LineItemKey); err != nil {
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
			billedIDs[v] = true
		}
		if r.LineSourceKey.Valid {
			l.SourceKey = ptr(r.LineSourceKey.String)
		}
		if r.LineItemKey.Valid {
			l.ItemKey = ptr(r.LineItemKey.String)
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
	return billedIDs, nil
}

// invoiceLineRow is an invoice joined with one of its lines.
type invoiceLineRow struct {
	ID            int64
	ExternalID    string
	PublicToken   string
	PayURL        string
	CustomerID    int64
	Status        string
	TermsSyncBps  sql.NullInt64
	TermsMaxBps   sql.NullInt64
	TermsSameCrew sql.NullBool
	SubtotalCents int64
	DiscountCents int64
	TotalCents    int64
	LineID        sql.NullInt64
	LinePosition  sql.NullInt64
	LineKind      sql.NullString
	LineVisitID   sql.NullInt64
	LineDesc      sql.NullString
	LineAmount    sql.NullInt64
	LineReason    sql.NullString
	LineSourceKey sql.NullString
	LineItemKey   sql.NullString
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
// on, a few statements whatever their number.
func load(tx *gorm.DB, tenantID string, prog program.Program, customerIDs []int64) (map[int64]*customerFacts, *world, error) {
	cur := TermsOf(prog)
	facts := make(map[int64]*customerFacts, len(customerIDs))
	for _, id := range customerIDs {
		facts[id] = &customerFacts{ID: id}
	}
	billedIDs, err := readInvoices(tx, tenantID, cur, facts, customerIDs)
	if err != nil {
		return nil, nil, err
	}
	w := &world{terms: cur, visits: make(map[int64]VisitRef, len(billedIDs)), matches: map[bool]map[int64]Match{}, streets: map[int64]string{},
		invoiceIDs: map[int64]string{}}
	if err := w.readInvoiceIDs(tx, tenantID, facts); err != nil {
		return nil, nil, err
	}
	if err := w.readBilledVisits(tx, tenantID, billedIDs); err != nil {
		return nil, nil, err
	}
	if err := w.matchNeighbours(tx, tenantID, facts, customerIDs); err != nil {
		return nil, nil, err
	}
	if err := readRewards(tx, tenantID, facts, customerIDs); err != nil {
		return nil, nil, err
	}
	return facts, w, nil
}

// readInvoiceIDs notes the scheduler ids of the customers' invoices and of
// those that items name but that are not the customers' any more (voided),
// for reasons.
func (w *world) readInvoiceIDs(tx *gorm.DB, tenantID string, facts map[int64]*customerFacts) error {
	for _, c := range facts {
		for _, x := range c.Invoices {
			w.invoiceIDs[x.ID] = x.ExternalID
		}
	}
	named := map[int64]bool{}
	for _, c := range facts {
		for _, x := range c.Invoices {
			for _, l := range x.Lines {
				if l.ItemKey == nil {
					continue
				}
				if kind, _, inv, ok := parseKey(*l.ItemKey); ok && kind == KindSyncDiscount {
					if _, known := w.invoiceIDs[inv]; !known {
						named[inv] = true
					}
				}
			}
		}
	}
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

// readBilledVisits reads the visits the invoices' lines name.
func (w *world) readBilledVisits(tx *gorm.DB, tenantID string, billedIDs map[int64]bool) error {
	if len(billedIDs) == 0 {
		return nil
	}
	set, arg := idSet(tx, slices.Sorted(maps.Keys(billedIDs)))
	vs, err := readVisits(tx, `SELECT v.id, v.customer_id, v.crew_id, v.service_date, v.status FROM `+set+` visits v ON v.id = s.id
		WHERE v.tenant_id = ?`, arg, tenantID)
	if err != nil {
		return fmt.Errorf("read billed visits: %w", err)
	}
	for _, v := range vs {
		w.visits[v.ID] = v
	}
	return nil
}

// matchNeighbours finds, under each same-crew rule some invoice is priced
// by, which billed visits a linked neighbour was serviced beside, and the
// neighbours' streets.
func (w *world) matchNeighbours(tx *gorm.DB, tenantID string, facts map[int64]*customerFacts, customerIDs []int64) error {
	own, days := w.ownVisits(facts)
	var links []Link
	if len(own) > 0 {
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

// readRewards reads the customers' granted rewards, by id.
func readRewards(tx *gorm.DB, tenantID string, facts map[int64]*customerFacts, customerIDs []int64) error {
	var rs []struct {
		ID         int64
		CustomerID int64
		Kind       string
		Bps        int
		Points     int
		AddonName  string
		ValueCents int64
		Reason     string
	}
	set, arg := idSet(tx, customerIDs)
	if err := tx.Raw(`SELECT r.id, r.customer_id, r.kind, r.bps, r.points, r.addon_name, r.value_cents, r.reason FROM `+set+` rewards r
		ON r.customer_id = s.id WHERE r.tenant_id = ? AND r.status = 'granted' ORDER BY r.id`, arg, tenantID).Scan(&rs).Error; err != nil {
		return fmt.Errorf("read rewards: %w", err)
	}
	for _, r := range rs {
		facts[r.CustomerID].Rewards = append(facts[r.CustomerID].Rewards, rewardFacts{ID: r.ID, Kind: r.Kind, Bps: r.Bps,
			Value: r.ValueCents, Points: r.Points, AddonName: r.AddonName, Reason: r.Reason})
	}
	return nil
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
