package neighbor

import (
	"context"
	"fmt"
	"sort"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/scheduling"
	"github.com/routeloop/routeloop/internal/store"
)

// syncSet is what matching found for a set of visits.
type syncSet struct {
	visits    map[int64]VisitRef
	matches   map[int64]Match
	neighbors map[int64]customerRow
}

const visitCols = "id, customer_id, crew_id, service_date, status"

// matchVisits works out which of the given visits are synced, reading just
// what it needs: the visits, their customers' links, and the neighbours'
// visits on those days.
func matchVisits(tx *gorm.DB, tenantID string, visitIDs []int64, sameCrew bool) (syncSet, error) {
	set := syncSet{visits: map[int64]VisitRef{}, matches: map[int64]Match{}, neighbors: map[int64]customerRow{}}
	var visits []VisitRef
	for _, chunk := range chunks(visitIDs) {
		var vs []VisitRef
		if err := tx.Raw(`SELECT `+visitCols+` FROM visits WHERE tenant_id = ? AND id IN ?`, tenantID, chunk).Scan(&vs).Error; err != nil {
			return set, fmt.Errorf("read visits: %w", err)
		}
		visits = append(visits, vs...)
	}
	customers := map[int64]bool{}
	days := map[localdate.Date]bool{}
	for _, v := range visits {
		set.visits[v.ID] = v
		customers[v.CustomerID] = true
		days[v.ServiceDate] = true
	}
	links, err := linksOf(tx, tenantID, keys(customers))
	if err != nil || len(links) == 0 {
		return set, err
	}
	others := map[int64]bool{}
	for _, l := range links {
		others[l.CustomerAID], others[l.CustomerBID] = true, true
	}
	dayList := keys(days)
	var theirs []VisitRef
	for _, chunk := range chunks(keys(others)) {
		var vs []VisitRef
		err := tx.Raw(`SELECT `+visitCols+` FROM visits
			WHERE tenant_id = ? AND customer_id IN ? AND service_date IN ? AND status <> 'cancelled'`,
			tenantID, chunk, dayList).Scan(&vs).Error
		if err != nil {
			return set, fmt.Errorf("read neighbours' visits: %w", err)
		}
		theirs = append(theirs, vs...)
	}
	set.matches = MatchSynced(visits, links, theirs, sameCrew)
	nb := map[int64]bool{}
	for _, m := range set.matches {
		nb[m.NeighborID] = true
	}
	set.neighbors, err = customersByID(tx, tenantID, keys(nb))
	return set, err
}

// linksOf returns every link (open or ended) of the given customers.
func linksOf(tx *gorm.DB, tenantID string, customerIDs []int64) ([]Link, error) {
	seen := map[int64]bool{}
	var out []Link
	for _, chunk := range chunks(customerIDs) {
		var ls []Link
		err := store.Tenant(tx, tenantID).Where("customer_a_id IN ? OR customer_b_id IN ?", chunk, chunk).Find(&ls).Error
		if err != nil {
			return nil, fmt.Errorf("read links: %w", err)
		}
		for _, l := range ls {
			if !seen[l.ID] {
				seen[l.ID] = true
				out = append(out, l)
			}
		}
	}
	return out, nil
}

// reason explains a match in the words of rule 7.
func (set syncSet) reason(m Match) string {
	return fmt.Sprintf("serviced the same day as %s, %d m away, on %s", set.neighbors[m.NeighborID].street(), m.DistanceM, m.ServiceDate)
}

func visitKey(id int64) *string {
	k := fmt.Sprintf("visit:%d", id)
	return &k
}

// Propose gives each line of a synced visit on a draft one sync discount
// line (however many neighbours were serviced that day), and places the
// customer's owed late-discount credits on the draft.
func (s *Service) Propose(tx *gorm.DB, tenantID string, prog program.Program, drafts []invoice.Draft) (map[int64][]invoice.Line, error) {
	var visitIDs []int64
	for _, d := range drafts {
		for _, l := range d.Lines {
			if l.VisitID != nil && l.Charges() {
				visitIDs = append(visitIDs, *l.VisitID)
			}
		}
	}
	out := map[int64][]invoice.Line{}
	if len(visitIDs) > 0 && prog.SyncDiscountBps > 0 {
		set, err := matchVisits(tx, tenantID, visitIDs, prog.SyncRequiresSameCrew)
		if err != nil {
			return nil, err
		}
		desc := fmt.Sprintf("Same-day neighbour discount (%s)", percentText(prog.SyncDiscountBps))
		for _, d := range drafts {
			for _, l := range d.Lines {
				if l.VisitID == nil || !l.Charges() {
					continue
				}
				m, ok := set.matches[*l.VisitID]
				if !ok {
					continue
				}
				amount := invoice.PercentOf(l.AmountCents, prog.SyncDiscountBps)
				if amount == 0 {
					continue
				}
				out[d.ID] = append(out[d.ID], invoice.Line{Kind: invoice.KindSyncDiscount, VisitID: l.VisitID,
					Description: desc, AmountCents: -amount, Reason: set.reason(m), SourceKey: visitKey(*l.VisitID)})
			}
		}
	}
	credits, err := s.placeCredits(tx, tenantID, prog, drafts)
	if err != nil {
		return nil, err
	}
	for id, ls := range credits {
		out[id] = append(out[id], ls...)
	}
	return out, nil
}

func percentText(bps int) string {
	if bps%100 == 0 {
		return fmt.Sprintf("%d%%", bps/100)
	}
	return fmt.Sprintf("%.2f%%", float64(bps)/100)
}

// Settle looks at invoices that left draft. On an issued or paid invoice, a
// synced visit without its discount gets a late-discount credit owed on the
// customer's next draft; a discount that no longer holds (the neighbour's
// visit was cancelled or moved) is recorded for the admin, not clawed back.
// A voided draft gives back the credits placed on it.
func (s *Service) Settle(tx *gorm.DB, tenantID string, prog program.Program, invs []invoice.Invoice) error {
	var settled, voided []int64
	extOf := map[int64]string{}
	for _, inv := range invs {
		extOf[inv.ID] = inv.ExternalID
		if inv.Status == invoice.StatusVoid {
			voided = append(voided, inv.ID)
		} else {
			settled = append(settled, inv.ID)
		}
	}
	touched := map[int64]bool{} // customers whose drafts must be recomputed
	if len(voided) > 0 {
		var customers []int64
		if err := tx.Raw(`SELECT DISTINCT customer_id FROM sync_adjustments WHERE tenant_id = ? AND status = 'applied' AND applied_invoice_id IN ?`,
			tenantID, voided).Scan(&customers).Error; err != nil {
			return fmt.Errorf("read credits of voided invoices: %w", err)
		}
		if err := tx.Exec(`UPDATE sync_adjustments SET status = 'pending', applied_invoice_id = NULL, updated_at = ?
			WHERE tenant_id = ? AND status = 'applied' AND applied_invoice_id IN ?`, s.now(), tenantID, voided).Error; err != nil {
			return fmt.Errorf("release credits: %w", err)
		}
		for _, c := range customers {
			touched[c] = true
		}
	}
	if len(settled) > 0 {
		if err := s.settleIssued(tx, tenantID, prog, settled, extOf, touched); err != nil {
			return err
		}
	}
	return s.recomputeDraftsOf(tx, tenantID, keys(touched))
}

type billedLine struct {
	InvoiceID   int64
	CustomerID  int64
	Kind        string
	VisitID     int64
	AmountCents int64
}

func (s *Service) settleIssued(tx *gorm.DB, tenantID string, prog program.Program, ids []int64, extOf map[int64]string, touched map[int64]bool) error {
	var lines []billedLine
	err := tx.Raw(`SELECT l.invoice_id, i.customer_id, l.kind, l.visit_id, l.amount_cents
		FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
		WHERE l.tenant_id = ? AND l.invoice_id IN ? AND l.visit_id IS NOT NULL`, tenantID, ids).Scan(&lines).Error
	if err != nil {
		return fmt.Errorf("read billed lines: %w", err)
	}
	type key struct{ invoice, visit int64 }
	charged, discounted, otherPct := map[key]billedLine{}, map[key]int64{}, map[key]int64{}
	var visitIDs []int64
	for _, l := range lines {
		k := key{l.InvoiceID, l.VisitID}
		switch l.Kind {
		case invoice.KindService, invoice.KindAddon:
			if _, dup := charged[k]; !dup {
				visitIDs = append(visitIDs, l.VisitID)
			}
			c := charged[k]
			c.InvoiceID, c.CustomerID, c.VisitID = l.InvoiceID, l.CustomerID, l.VisitID
			c.AmountCents += l.AmountCents
			charged[k] = c
		case invoice.KindSyncDiscount:
			discounted[k] -= l.AmountCents
		case invoice.KindReferralReward:
			otherPct[k] -= l.AmountCents
		}
	}
	if len(visitIDs) == 0 {
		return nil
	}
	set, err := matchVisits(tx, tenantID, visitIDs, prog.SyncRequiresSameCrew)
	if err != nil {
		return err
	}
	now := s.now()
	for k, c := range charged {
		m, synced := set.matches[k.visit]
		given := discounted[k]
		v := set.visits[k.visit]
		switch {
		case synced && given == 0 && prog.SyncDiscountBps > 0:
			owed := min(invoice.PercentOf(c.AmountCents, prog.SyncDiscountBps),
				invoice.PercentOf(c.AmountCents, prog.MaxDiscountBps)-otherPct[k])
			if owed <= 0 {
				continue
			}
			reason := fmt.Sprintf("%s; invoice %s was issued before the visits were synced", set.reason(m), extOf[k.invoice])
			res := tx.Exec(`INSERT INTO sync_adjustments (tenant_id, kind, customer_id, visit_id, invoice_id, amount_cents,
				reason, status, created_at, updated_at)
				VALUES (?, 'late_discount', ?, ?, ?, ?, ?, 'pending', ?, ?)
				ON CONFLICT (tenant_id, kind, invoice_id, visit_id) DO NOTHING`,
				tenantID, c.CustomerID, k.visit, k.invoice, owed, reason, now, now)
			if res.Error != nil {
				return fmt.Errorf("record late discount: %w", res.Error)
			}
			if res.RowsAffected > 0 {
				touched[c.CustomerID] = true
			}
			// It holds again: a record of a discount given in error is void.
			if err := tx.Exec(`DELETE FROM sync_adjustments WHERE tenant_id = ? AND kind = 'given_in_error' AND invoice_id = ? AND visit_id = ?`,
				tenantID, k.invoice, k.visit).Error; err != nil {
				return fmt.Errorf("clear error record: %w", err)
			}
		case synced && given > 0:
			if err := tx.Exec(`DELETE FROM sync_adjustments WHERE tenant_id = ? AND kind = 'given_in_error' AND invoice_id = ? AND visit_id = ?`,
				tenantID, k.invoice, k.visit).Error; err != nil {
				return fmt.Errorf("clear error record: %w", err)
			}
		case !synced && given > 0:
			reason := fmt.Sprintf("a same-day discount was given on invoice %s for the visit of %s, but no linked neighbour was serviced that day any more (cancelled or moved); it was not clawed back",
				extOf[k.invoice], v.ServiceDate)
			if err := tx.Exec(`INSERT INTO sync_adjustments (tenant_id, kind, customer_id, visit_id, invoice_id, amount_cents,
				reason, status, created_at, updated_at)
				VALUES (?, 'given_in_error', ?, ?, ?, ?, ?, 'recorded', ?, ?)
				ON CONFLICT (tenant_id, kind, invoice_id, visit_id) DO NOTHING`,
				tenantID, c.CustomerID, k.visit, k.invoice, given, reason, now, now).Error; err != nil {
				return fmt.Errorf("record discount given in error: %w", err)
			}
		case !synced:
			// A late credit that no longer holds is withdrawn unless it was
			// already issued to the customer.
			var gone []int64
			if err := tx.Raw(`SELECT a.applied_invoice_id FROM sync_adjustments a
				LEFT JOIN invoices d ON d.id = a.applied_invoice_id
				WHERE a.tenant_id = ? AND a.kind = 'late_discount' AND a.invoice_id = ? AND a.visit_id = ?
				  AND (a.status = 'pending' OR d.status = 'draft')`, tenantID, k.invoice, k.visit).Scan(&gone).Error; err != nil {
				return fmt.Errorf("read late credits: %w", err)
			}
			if len(gone) == 0 {
				continue
			}
			if err := tx.Exec(`DELETE FROM sync_adjustments WHERE tenant_id = ? AND kind = 'late_discount' AND invoice_id = ? AND visit_id = ?
				AND (status = 'pending' OR applied_invoice_id IN (SELECT id FROM invoices WHERE status = 'draft'))`,
				tenantID, k.invoice, k.visit).Error; err != nil {
				return fmt.Errorf("withdraw late credit: %w", err)
			}
			touched[c.CustomerID] = true
		}
	}
	return nil
}

// adjustment is a row of sync_adjustments.
type adjustment struct {
	ID               int64
	CustomerID       int64
	VisitID          int64
	InvoiceID        int64
	AmountCents      int64
	Reason           string
	Status           string
	AppliedInvoiceID *int64
}

// placeCredits returns the credit lines of owed late discounts for the
// drafts: those already placed on a draft, and pending ones claimed for the
// customer's draft while they fit (CreditRoom), oldest first. A credit that
// does not fit waits for a later invoice: it is never cut or lost.
func (s *Service) placeCredits(tx *gorm.DB, tenantID string, prog program.Program, drafts []invoice.Draft) (map[int64][]invoice.Line, error) {
	ids := make([]int64, len(drafts))
	customers := map[int64]bool{}
	for i, d := range drafts {
		ids[i] = d.ID
		customers[d.CustomerID] = true
	}
	var adjs []adjustment
	err := tx.Raw(`SELECT id, customer_id, visit_id, invoice_id, amount_cents, reason, status, applied_invoice_id
		FROM sync_adjustments
		WHERE tenant_id = ? AND kind = 'late_discount'
		  AND ((status = 'applied' AND applied_invoice_id IN ?) OR (status = 'pending' AND customer_id IN ?))
		ORDER BY id`, tenantID, ids, keys(customers)).Scan(&adjs).Error
	if err != nil {
		return nil, fmt.Errorf("read owed credits: %w", err)
	}
	if len(adjs) == 0 {
		return nil, nil
	}
	var invExt []struct {
		ID         int64
		ExternalID string
	}
	srcIDs := map[int64]bool{}
	for _, a := range adjs {
		srcIDs[a.InvoiceID] = true
	}
	if err := tx.Raw(`SELECT id, external_id FROM invoices WHERE id IN ?`, keys(srcIDs)).Scan(&invExt).Error; err != nil {
		return nil, fmt.Errorf("read invoices: %w", err)
	}
	ext := map[int64]string{}
	for _, r := range invExt {
		ext[r.ID] = r.ExternalID
	}
	sort.Slice(drafts, func(i, j int) bool { return drafts[i].ID < drafts[j].ID })
	out := map[int64][]invoice.Line{}
	room := map[int64]int64{}
	for _, d := range drafts {
		room[d.ID] = d.CreditRoom(prog.MaxDiscountBps)
	}
	line := func(a adjustment) invoice.Line {
		k := fmt.Sprintf("adjustment:%d", a.ID)
		v := a.VisitID
		return invoice.Line{Kind: invoice.KindCredit, VisitID: &v, SourceKey: &k, AmountCents: -a.AmountCents,
			Description: "Credit: same-day neighbour discount missed on invoice " + ext[a.InvoiceID], Reason: a.Reason}
	}
	now := s.now()
	byDraft := map[int64]invoice.Draft{}
	for _, d := range drafts {
		byDraft[d.ID] = d
	}
	// Credits already on a draft stay there (if it is still that customer's).
	for _, a := range adjs {
		if a.Status != "applied" {
			continue
		}
		d, ok := byDraft[*a.AppliedInvoiceID]
		if !ok || d.CustomerID != a.CustomerID || a.AmountCents > room[d.ID] {
			if err := tx.Exec(`UPDATE sync_adjustments SET status = 'pending', applied_invoice_id = NULL, updated_at = ? WHERE id = ?`, now, a.ID).Error; err != nil {
				return nil, fmt.Errorf("release credit: %w", err)
			}
			a.Status = "pending"
			continue
		}
		room[d.ID] -= a.AmountCents
		out[d.ID] = append(out[d.ID], line(a))
	}
	for _, a := range adjs {
		if a.Status != "pending" {
			continue
		}
		for _, d := range drafts {
			if d.CustomerID != a.CustomerID || a.AmountCents > room[d.ID] {
				continue
			}
			res := tx.Exec(`UPDATE sync_adjustments SET status = 'applied', applied_invoice_id = ?, updated_at = ? WHERE id = ? AND status = 'pending'`,
				d.ID, now, a.ID)
			if res.Error != nil {
				return nil, fmt.Errorf("claim credit: %w", res.Error)
			}
			if res.RowsAffected == 1 {
				room[d.ID] -= a.AmountCents
				out[d.ID] = append(out[d.ID], line(a))
			}
			break
		}
	}
	return out, nil
}

// refreshInvoices recomputes the drafts and settles the other invoices
// that bill any of the given visits.
func (s *Service) refreshInvoices(tx *gorm.DB, tenantID string, visitIDs []int64) error {
	inv := map[int64]string{}
	for _, chunk := range chunks(visitIDs) {
		var rows []struct {
			ID     int64
			Status string
		}
		err := tx.Raw(`SELECT DISTINCT i.id, i.status FROM invoices i JOIN invoice_lines l ON l.invoice_id = i.id
			WHERE l.tenant_id = ? AND l.visit_id IN ? AND l.source_key IS NULL`, tenantID, chunk).Scan(&rows).Error
		if err != nil {
			return fmt.Errorf("find invoices of visits: %w", err)
		}
		for _, r := range rows {
			inv[r.ID] = r.Status
		}
	}
	var drafts, others []int64
	for id, st := range inv {
		if st == invoice.StatusDraft {
			drafts = append(drafts, id)
		} else {
			others = append(others, id)
		}
	}
	if err := s.recompute(tx, tenantID, drafts); err != nil {
		return err
	}
	return s.invoices.Settle(tx, tenantID, others)
}

func (s *Service) recompute(tx *gorm.DB, tenantID string, drafts []int64) error {
	return s.invoices.Recompute(tx, tenantID, drafts)
}

func (s *Service) recomputeDraftsOf(tx *gorm.DB, tenantID string, customerIDs []int64) error {
	for _, chunk := range chunks(customerIDs) {
		var ids []int64
		if err := tx.Raw(`SELECT id FROM invoices WHERE tenant_id = ? AND customer_id IN ? AND status = 'draft'`, tenantID, chunk).Scan(&ids).Error; err != nil {
			return fmt.Errorf("find drafts: %w", err)
		}
		if err := s.recompute(tx, tenantID, ids); err != nil {
			return err
		}
	}
	return nil
}

// refreshCustomers refreshes the invoices of the customers' visits from day
// on (a link began or ended that day).
func (s *Service) refreshCustomers(tx *gorm.DB, tenantID string, customerIDs []int64, from localdate.Date) error {
	var visitIDs []int64
	err := tx.Raw(`SELECT id FROM visits WHERE tenant_id = ? AND customer_id IN ? AND service_date >= ?`,
		tenantID, customerIDs, from).Scan(&visitIDs).Error
	if err != nil {
		return fmt.Errorf("find visits: %w", err)
	}
	return s.refreshInvoices(tx, tenantID, visitIDs)
}

// VisitChanged refreshes the invoices a visit write may have changed: the
// visit's own and those of its linked neighbours' visits on the old and the
// new day. A customer without links costs one query.
func (s *Service) VisitChanged(ctx context.Context, ch scheduling.VisitChange) error {
	db := s.store.DB.WithContext(ctx)
	customers := []int64{ch.Visit.CustomerID}
	days := []localdate.Date{ch.Visit.ServiceDate}
	if b := ch.Before; b != nil {
		if b.CustomerID != ch.Visit.CustomerID {
			customers = append(customers, b.CustomerID)
		}
		if b.ServiceDate != ch.Visit.ServiceDate {
			days = append(days, b.ServiceDate)
		}
	}
	links, err := linksOf(db, ch.TenantID, customers)
	if err != nil || len(links) == 0 {
		return err
	}
	neighbours := map[int64]bool{}
	for _, l := range links {
		for _, c := range customers {
			if l.CustomerAID == c || l.CustomerBID == c {
				neighbours[l.Other(c)] = true
			}
		}
	}
	return s.store.Tx(ctx, func(tx *gorm.DB) error {
		ids := []int64{ch.Visit.ID}
		var theirs []int64
		err := tx.Raw(`SELECT id FROM visits WHERE tenant_id = ? AND customer_id IN ? AND service_date IN ?`,
			ch.TenantID, keys(neighbours), days).Scan(&theirs).Error
		if err != nil {
			return fmt.Errorf("find neighbours' visits: %w", err)
		}
		return s.refreshInvoices(tx, ch.TenantID, append(ids, theirs...))
	})
}
