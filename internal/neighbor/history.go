package neighbor

import (
	"context"
	"fmt"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/store"
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
	from, to := today.AddDays(-90), today.AddDays(30)
	if fromDay != nil {
		from = *fromDay
	}
	if toDay != nil {
		to = *toDay
	}
	if to.Before(from) {
		return nil, apperror.Invalid("to", "must not be before from")
	}
	if from.AddDays(maxHistoryDays).Before(to) {
		return nil, apperror.Invalid("to", fmt.Sprintf("the range may span at most %d days", maxHistoryDays))
	}
	var visits []struct {
		ID         int64
		ExternalID string
	}
	err = db.Raw(`SELECT id, external_id FROM visits WHERE tenant_id = ? AND customer_id = ? AND service_date BETWEEN ? AND ?
		ORDER BY service_date DESC, id DESC`, tenantID, c.ID, from, to).Scan(&visits).Error
	if err != nil {
		return nil, fmt.Errorf("read visits: %w", err)
	}
	if len(visits) == 0 {
		return []SyncedVisit{}, nil
	}
	ids := make([]int64, len(visits))
	ext := map[int64]string{}
	for i, v := range visits {
		ids[i] = v.ID
		ext[v.ID] = v.ExternalID
	}
	prog, err := program.Get(db, tenantID)
	if err != nil {
		return nil, err
	}
	set, err := matchVisits(db, tenantID, ids, prog.SyncRequiresSameCrew)
	if err != nil {
		return nil, err
	}
	var lines []struct {
		VisitID     int64
		Kind        string
		AmountCents int64
		Status      string
		ExternalID  string
		Reason      string
	}
	err = db.Raw(`SELECT l.visit_id, l.kind, l.amount_cents, i.status, i.external_id, l.reason
		FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
		WHERE l.tenant_id = ? AND l.visit_id IN ? AND l.kind IN ('service', 'sync_discount')
		ORDER BY l.id`, tenantID, ids).Scan(&lines).Error
	if err != nil {
		return nil, fmt.Errorf("read invoice lines: %w", err)
	}
	var adjs []struct {
		VisitID     int64
		AmountCents int64
		Status      string
	}
	err = db.Raw(`SELECT visit_id, amount_cents, status FROM sync_adjustments
		WHERE tenant_id = ? AND kind = 'late_discount' AND visit_id IN ?`, tenantID, ids).Scan(&adjs).Error
	if err != nil {
		return nil, fmt.Errorf("read credits: %w", err)
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
			How: "not_invoiced", Reason: set.reason(m)}
		for _, l := range lines {
			if l.VisitID != id {
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
		for _, a := range adjs {
			if a.VisitID == id && e.How != "discounted" {
				e.DiscountCents = a.AmountCents
				e.How = map[string]string{"pending": "credit_owed", "applied": "credited"}[a.Status]
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// Adjustment is a late credit or a discount given in error, for the
// dispatcher and the admin to review.
type Adjustment struct {
	ID          int64          `json:"id"`
	Kind        string         `json:"kind"`
	CustomerID  string         `json:"customer_id"`
	VisitID     string         `json:"visit_id"`
	ServiceDate localdate.Date `json:"service_date"`
	InvoiceID   string         `json:"invoice_id"`
	AmountCents int64          `json:"amount_cents"`
	Reason      string         `json:"reason"`
	Status      string         `json:"status"`
	CreditedOn  *string        `json:"credited_on_invoice_id"`
}

// Adjustments lists late credits and discounts given in error, newest first.
func (s *Service) Adjustments(ctx context.Context, tenantID, kind, status string, p store.Page) ([]Adjustment, string, error) {
	switch kind {
	case "", "late_discount", "given_in_error":
	default:
		return nil, "", apperror.Invalid("kind", "must be late_discount or given_in_error")
	}
	switch status {
	case "", "pending", "applied", "recorded":
	default:
		return nil, "", apperror.Invalid("status", "must be pending, applied or recorded")
	}
	q := s.store.DB.WithContext(ctx).Table("sync_adjustments AS a").
		Select(`a.id, a.kind, c.external_id AS customer_id, v.external_id AS visit_id, v.service_date,
			i.external_id AS invoice_id, a.amount_cents, a.reason, a.status, d.external_id AS credited_on`).
		Joins("JOIN customers c ON c.id = a.customer_id").
		Joins("JOIN visits v ON v.id = a.visit_id").
		Joins("JOIN invoices i ON i.id = a.invoice_id").
		Joins("LEFT JOIN invoices d ON d.id = a.applied_invoice_id").
		Where("a.tenant_id = ?", tenantID)
	if kind != "" {
		q = q.Where("a.kind = ?", kind)
	}
	if status != "" {
		q = q.Where("a.status = ?", status)
	}
	if p.After > 0 {
		q = q.Where("a.id < ?", p.After)
	}
	var out []Adjustment
	if err := q.Order("a.id DESC").Limit(p.Limit).Scan(&out).Error; err != nil {
		return nil, "", fmt.Errorf("list adjustments: %w", err)
	}
	var last int64
	if len(out) > 0 {
		last = out[len(out)-1].ID
	}
	return out, p.Next(len(out), last), nil
}
