package neighbor

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/program"
)

// maxHistoryDays bounds one sync-history request.
const maxHistoryDays = 400

// SyncedVisit is one entry of a customer's sync history.
type SyncedVisit struct {
	VisitID     string         `json:"visit_id"`
	ServiceDate localdate.Date `json:"service_date"`
	Status      string         `json:"status"`
	Neighbor    NeighborRef    `json:"neighbor"`
	DistanceM   int            `json:"distance_m"`
	// DiscountCents is what the customer got for it so far: the discount
	// line on its invoice, or a late credit.
	DiscountCents int64  `json:"discount_cents"`
	InvoiceID     string `json:"invoice_id,omitempty"`
	// How: discounted (on the visit's invoice), credit_owed (a late
	// discount waiting for the next invoice), credited (on a later invoice),
	// not_discounted (invoiced without one: the discount is 0% or capped
	// away), or not_invoiced yet.
	How    string `json:"how"`
	Reason string `json:"reason"`
}

// NeighborRef names the neighbour by street, as invoices do.
type NeighborRef struct {
	CustomerID string `json:"customer_id"`
	Street     string `json:"street"`
}

// SyncHistory lists a customer's synced visits between two days (inclusive;
// by default the last 90 days and the next 30), newest first, with the
// discount each earned.
func (s *Service) SyncHistory(ctx context.Context, tenantID, customerExt string, fromDay, toDay *localdate.Date) ([]SyncedVisit, error) {
	db := s.store.DB.WithContext(ctx)
	c, err := customerByExternalID(db, tenantID, customerExt)
	if err != nil {
		return nil, err
	}
	today, err := s.today(db, tenantID)
	if err != nil {
		return nil, err
	}
	from, to, err := historyDays(today, fromDay, toDay)
	if err != nil {
		return nil, err
	}
	ids, ext, err := visitsBetween(db, tenantID, c.ID, from, to)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return []SyncedVisit{}, nil
	}
	prog, err := program.Get(db, tenantID)
	if err != nil {
		return nil, err
	}
	set, err := matchVisits(db, tenantID, ids, prog.SyncRequiresSameCrew)
	if err != nil {
		return nil, err
	}
	lines, err := historyLines(db, tenantID, ids)
	if err != nil {
		return nil, err
	}
	credits, err := historyCredits(db, tenantID, ids)
	if err != nil {
		return nil, err
	}
	out := []SyncedVisit{}
	for _, id := range ids {
		m, ok := set.matches[id]
		if !ok {
			continue
		}
		n := set.neighbors[m.NeighborID]
		e := SyncedVisit{VisitID: ext[id], ServiceDate: m.ServiceDate, Status: set.visits[id].Status,
			Neighbor: NeighborRef{CustomerID: n.ExternalID, Street: n.street()}, DistanceM: m.DistanceM,
			How: "not_invoiced", Reason: m.Reason(n.street())}
		e.invoiced(id, lines)
		e.credited(id, credits)
		out = append(out, e)
	}
	return out, nil
}

// historyDays are the days a history request covers: by default the last
// 90 days and the next 30, at most maxHistoryDays.
func historyDays(today localdate.Date, fromDay, toDay *localdate.Date) (from, to localdate.Date, err error) {
	from, to = today.AddDays(-90), today.AddDays(30)
	if fromDay != nil {
		from = *fromDay
	}
	if toDay != nil {
		to = *toDay
	}
	if to.Before(from) {
		return from, to, apperror.Invalid("to", "must not be before from")
	}
	if from.AddDays(maxHistoryDays).Before(to) {
		return from, to, apperror.Invalid("to", fmt.Sprintf("the range may span at most %d days", maxHistoryDays))
	}
	return from, to, nil
}

// visitsBetween are a customer's visits between two days, newest first,
// with their external ids.
func visitsBetween(db *gorm.DB, tenantID string, customerID int64, from, to localdate.Date) ([]int64, map[int64]string, error) {
	var visits []struct {
		ID         int64
		ExternalID string
	}
	err := db.Raw(`SELECT id, external_id FROM visits WHERE tenant_id = ? AND customer_id = ? AND service_date BETWEEN ? AND ?
		ORDER BY service_date DESC, id DESC`, tenantID, customerID, from, to).Scan(&visits).Error
	if err != nil {
		return nil, nil, fmt.Errorf("read visits: %w", err)
	}
	ids := make([]int64, len(visits))
	ext := map[int64]string{}
	for i, v := range visits {
		ids[i] = v.ID
		ext[v.ID] = v.ExternalID
	}
	return ids, ext, nil
}

// historyLine is a service or sync-discount line billing a visit.
type historyLine struct {
	VisitID     int64
	Kind        string
	AmountCents int64
	Status      string
	ExternalID  string
	Reason      string
}

func historyLines(db *gorm.DB, tenantID string, ids []int64) ([]historyLine, error) {
	var lines []historyLine
	err := db.Raw(`SELECT l.visit_id, l.kind, l.amount_cents, i.status, i.external_id, l.reason
		FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
		WHERE l.tenant_id = ? AND l.visit_id IN ? AND l.kind IN ('service', 'sync_discount')
		ORDER BY l.id`, tenantID, ids).Scan(&lines).Error
	if err != nil {
		return nil, fmt.Errorf("read invoice lines: %w", err)
	}
	return lines, nil
}

// historyCredit is a late credit: the visit's ledger item on an issued
// invoice, credited on a later one or still owed.
type historyCredit struct {
	VisitID      int64
	PendingCents int64
	GivenCents   int64
	Credited     int64
}

func historyCredits(db *gorm.DB, tenantID string, ids []int64) ([]historyCredit, error) {
	var credits []historyCredit
	err := db.Raw(`SELECT li.visit_id, li.pending_cents, li.given_cents,
			(SELECT COALESCE(SUM(-l.amount_cents), 0) FROM invoice_lines l JOIN invoices d ON d.id = l.invoice_id
			 WHERE l.tenant_id = li.tenant_id AND l.visit_id = li.visit_id AND l.item_key = li.item_key AND l.kind = 'credit'
			   AND d.status IN ('issued', 'paid')) AS credited
		FROM ledger_items li
		WHERE li.tenant_id = ? AND li.kind = 'sync_discount' AND li.visit_id IN ?`, tenantID, ids).Scan(&credits).Error
	if err != nil {
		return nil, fmt.Errorf("read credits: %w", err)
	}
	return credits, nil
}

// invoiced says how the visit's own invoice lines treated it: a sync
// discount line makes it discounted, a service line alone not_discounted.
func (e *SyncedVisit) invoiced(visitID int64, lines []historyLine) {
	for _, l := range lines {
		if l.VisitID != visitID {
			continue
		}
		switch l.Kind {
		case "service":
			if e.InvoiceID == "" {
				e.InvoiceID = l.ExternalID
			}
			if e.How == "not_invoiced" {
				e.How = "not_discounted"
			}
		case "sync_discount":
			e.DiscountCents, e.How, e.InvoiceID = -l.AmountCents, "discounted", l.ExternalID
		}
	}
}

// credited says how a visit not discounted on its own invoice got its
// discount late: still owed, or credited on a later invoice.
func (e *SyncedVisit) credited(visitID int64, credits []historyCredit) {
	for _, c := range credits {
		if c.VisitID != visitID || e.How == "discounted" {
			continue
		}
		switch {
		case c.PendingCents > 0 || c.GivenCents > c.Credited:
			e.DiscountCents, e.How = c.PendingCents+c.GivenCents, "credit_owed"
		case c.Credited > 0:
			e.DiscountCents, e.How = c.Credited, "credited"
		}
	}
}
