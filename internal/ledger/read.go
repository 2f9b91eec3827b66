package ledger

import (
	"context"
	"fmt"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/store"
)

// CustomerLedger is what a customer was owed, given and still waits for.
type CustomerLedger struct {
	CustomerID   string      `json:"customer_id"`
	OwedCents    int64       `json:"owed_cents"`
	GivenCents   int64       `json:"given_cents"`
	PendingCents int64       `json:"pending_cents"`
	InErrorCents int64       `json:"given_in_error_cents"`
	Items        []ItemEntry `json:"items"`
}

// ItemEntry is one item of a customer's ledger, with where it was given.
type ItemEntry struct {
	Kind         string          `json:"kind"`
	VisitID      *string         `json:"visit_id,omitempty"`
	InvoiceID    *string         `json:"invoice_id,omitempty"`
	RewardID     *int64          `json:"reward_id,omitempty"`
	ServiceDate  *localdate.Date `json:"service_date,omitempty"`
	OwedCents    int64           `json:"owed_cents"`
	GivenCents   int64           `json:"given_cents"`
	PendingCents int64           `json:"pending_cents"`
	InErrorCents int64           `json:"given_in_error_cents"`
	Status       string          `json:"status"`
	Reason       string          `json:"reason"`
	GivenOn      []GivenOn       `json:"given_on" gorm:"-"`
	key          string
}

// GivenOn is one invoice line that gives (part of) an item.
type GivenOn struct {
	InvoiceID     string `json:"invoice_id"`
	InvoiceStatus string `json:"invoice_status"`
	Kind          string `json:"kind"`
	AmountCents   int64  `json:"amount_cents"`
}

// Customer reads a customer's ledger back: every item that owes or gave
// anything, oldest first, with the lines that gave it.
func (s *Service) Customer(ctx context.Context, tenantID, customerExt string) (CustomerLedger, error) {
	db := s.store.DB.WithContext(ctx)
	var ids []int64
	if err := db.Raw(`SELECT id FROM customers WHERE tenant_id = ? AND external_id = ?`, tenantID, customerExt).Scan(&ids).Error; err != nil {
		return CustomerLedger{}, fmt.Errorf("read customer: %w", err)
	}
	if len(ids) == 0 {
		return CustomerLedger{}, apperror.NotFound("customer %s not found", customerExt)
	}
	out := CustomerLedger{CustomerID: customerExt, Items: []ItemEntry{}}
	var rows []struct {
		ItemEntry
		ItemKey string
	}
	err := db.Raw(`SELECT li.kind, v.external_id AS visit_id, i.external_id AS invoice_id, li.reward_id, li.service_date,
			li.owed_cents, li.given_cents, li.pending_cents, li.in_error_cents, li.status, li.reason, li.item_key
		FROM ledger_items li
		LEFT JOIN visits v ON v.id = li.visit_id
		LEFT JOIN invoices i ON i.id = li.invoice_id
		WHERE li.tenant_id = ? AND li.customer_id = ? ORDER BY li.id`, tenantID, ids[0]).Scan(&rows).Error
	if err != nil {
		return CustomerLedger{}, fmt.Errorf("read ledger: %w", err)
	}
	var lines []struct {
		ItemKey       string
		InvoiceID     string
		InvoiceStatus string
		Kind          string
		AmountCents   int64
	}
	err = db.Raw(`SELECT l.item_key, i.external_id AS invoice_id, i.status AS invoice_status, l.kind, l.amount_cents
		FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
		WHERE i.tenant_id = ? AND i.customer_id = ? AND i.status <> 'void' AND l.item_key IS NOT NULL
		ORDER BY i.id, l.position`, tenantID, ids[0]).Scan(&lines).Error
	if err != nil {
		return CustomerLedger{}, fmt.Errorf("read ledger lines: %w", err)
	}
	for _, r := range rows {
		e := r.ItemEntry
		e.key, e.GivenOn = r.ItemKey, []GivenOn{}
		for _, l := range lines {
			if l.ItemKey != e.key {
				continue
			}
			given := -l.AmountCents
			if l.Kind == invoice.KindAddon {
				given = e.OwedCents // a free add-on line is 0 on the bill and gives its worth
			}
			e.GivenOn = append(e.GivenOn, GivenOn{InvoiceID: l.InvoiceID, InvoiceStatus: l.InvoiceStatus, Kind: l.Kind, AmountCents: given})
		}
		out.OwedCents += e.OwedCents
		out.GivenCents += e.GivenCents
		out.PendingCents += e.PendingCents
		out.InErrorCents += e.InErrorCents
		out.Items = append(out.Items, e)
	}
	return out, nil
}

// Adjustment is a late credit (a sync discount an issued invoice missed,
// owed on the customer's next draft) or a discount given in error, for the
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

// Adjustment kinds and statuses.
const (
	AdjustLate    = "late_discount"
	AdjustInError = "given_in_error"
)

// creditedSQL sums an item's late-credit lines on invoices that are not void.
const creditedSQL = `(SELECT COALESCE(SUM(-l.amount_cents), 0) FROM invoice_lines l JOIN invoices d ON d.id = l.invoice_id
	WHERE l.tenant_id = li.tenant_id AND l.visit_id = li.visit_id AND l.item_key = li.item_key AND l.kind = 'credit' AND d.status <> 'void')`

// Adjustments lists late credits and discounts given in error, newest first.
func (s *Service) Adjustments(ctx context.Context, tenantID, kind, status string, p store.Page) ([]Adjustment, string, error) {
	switch kind {
	case "", AdjustLate, AdjustInError:
	default:
		return nil, "", apperror.Invalid("kind", "must be late_discount or given_in_error")
	}
	switch status {
	case "", "pending", "applied", "recorded":
	default:
		return nil, "", apperror.Invalid("status", "must be pending, applied or recorded")
	}
	late := "(li.pending_cents > 0 OR " + creditedSQL + " > 0)"
	inError := "li.in_error_cents > 0"
	var cond string
	switch {
	case kind == AdjustInError || status == "recorded":
		cond = inError
		if kind == AdjustLate {
			cond = "1 = 0"
		}
	case status == "pending":
		cond = "li.pending_cents > 0"
	case status == "applied":
		cond = "li.pending_cents = 0 AND " + creditedSQL + " > 0"
	case kind == AdjustLate:
		cond = late
	default:
		cond = "(" + late + " OR " + inError + ")"
	}
	args := []any{tenantID}
	if p.After > 0 {
		cond += " AND li.id < ?"
		args = append(args, p.After)
	}
	var rows []struct {
		ID           int64
		CustomerID   string
		VisitID      string
		ServiceDate  localdate.Date
		InvoiceID    string
		PendingCents int64
		InErrorCents int64
		Credited     int64
		CreditedOn   *string
		Reason       string
	}
	err := s.store.DB.WithContext(ctx).Raw(`SELECT li.id, c.external_id AS customer_id, v.external_id AS visit_id, v.service_date,
			i.external_id AS invoice_id, li.pending_cents, li.in_error_cents, `+creditedSQL+` AS credited,
			(SELECT MAX(d.external_id) FROM invoice_lines l JOIN invoices d ON d.id = l.invoice_id
			 WHERE l.tenant_id = li.tenant_id AND l.visit_id = li.visit_id AND l.item_key = li.item_key AND l.kind = 'credit' AND d.status <> 'void') AS credited_on,
			li.reason
		FROM ledger_items li
		JOIN customers c ON c.id = li.customer_id
		JOIN visits v ON v.id = li.visit_id
		JOIN invoices i ON i.id = li.invoice_id
		WHERE li.tenant_id = ? AND li.kind = 'sync_discount' AND `+cond+`
		ORDER BY li.id DESC LIMIT ?`, append(args, p.Limit)...).Scan(&rows).Error
	if err != nil {
		return nil, "", fmt.Errorf("list adjustments: %w", err)
	}
	out := make([]Adjustment, 0, len(rows))
	for _, r := range rows {
		a := Adjustment{ID: r.ID, CustomerID: r.CustomerID, VisitID: r.VisitID, ServiceDate: r.ServiceDate, InvoiceID: r.InvoiceID, Reason: r.Reason}
		switch {
		case r.InErrorCents > 0:
			a.Kind, a.Status, a.AmountCents = AdjustInError, "recorded", r.InErrorCents
		case r.PendingCents > 0:
			a.Kind, a.Status, a.AmountCents = AdjustLate, "pending", r.PendingCents+r.Credited
		default:
			a.Kind, a.Status, a.AmountCents, a.CreditedOn = AdjustLate, "applied", r.Credited, r.CreditedOn
		}
		out = append(out, a)
	}
	var last int64
	if len(out) > 0 {
		last = out[len(out)-1].ID
	}
	return out, p.Next(len(out), last), nil
}
