// Package invoice keeps the scheduler's invoices with their lines and totals.
// Service lines come from the scheduler; discount, reward and credit lines are
// computed by routeloop. An invoice that has been issued never changes.
package invoice

import (
	"time"
)

// Invoice states: draft → issued (→ paid / void).
const (
	StatusDraft  = "draft"
	StatusIssued = "issued"
	StatusPaid   = "paid"
	StatusVoid   = "void"
)

// Line kinds. Service and add-on lines charge; the others give back and carry
// negative amounts with a reason.
const (
	KindService        = "service"
	KindAddon          = "addon"
	KindSyncDiscount   = "sync_discount"
	KindReferralReward = "referral_reward"
	KindCredit         = "credit"
)

// Invoice is one bill to a customer.
type Invoice struct {
	ID                 int64  `json:"-"`
	TenantID           string `json:"-"`
	ExternalID         string `json:"external_id"`
	CustomerID         int64  `json:"-"`
	CustomerExternalID string `json:"customer_id" gorm:"->"`
	Status             string `json:"status"`
	Currency           string `json:"currency"`
	Lines              []Line `json:"lines" gorm:"-"`
	SubtotalCents      int64  `json:"subtotal_cents"`
	DiscountCents      int64  `json:"discount_cents"`
	TotalCents         int64  `json:"total_cents"`
	PublicToken        string `json:"-"`
	// InvoiceURL is the customer's page of the invoice, base_url + "/i/" +
	// its unguessable token: the link the scheduler puts in its e-mail or
	// text. Rotating the link (RotateLink) changes it.
	InvoiceURL string `json:"invoice_url" gorm:"-"`
	// PayURL is the scheduler's payment page for the invoice ("" when it
	// sent none): the customer's page shows it as a Pay button. It is not
	// part of the bill, so it may change on an issued invoice too.
	PayURL          string     `json:"pay_url"`
	IssuedAt        *time.Time `json:"issued_at"`
	SourceUpdatedAt *time.Time `json:"-"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
}

// Line is one row of an invoice.
type Line struct {
	ID              int64   `json:"-"`
	TenantID        string  `json:"-"`
	InvoiceID       int64   `json:"-"`
	Position        int     `json:"-"`
	Kind            string  `json:"kind"`
	VisitID         *int64  `json:"-"`
	VisitExternalID *string `json:"visit_id,omitempty" gorm:"->"`
	Description     string  `json:"description"`
	AmountCents     int64   `json:"amount_cents"`
	Reason          string  `json:"reason,omitempty"`
	// SourceKey names what produced a computed line ("visit:42"); nil for
	// the scheduler's own lines.
	SourceKey *string `json:"-"`
	// ItemKey names the ledger item a computed line gives ("sync:42:7",
	// "reward:3"); see internal/ledger.
	ItemKey *string `json:"-"`
}

// TableName is invoice_lines.
func (Line) TableName() string { return "invoice_lines" }

// Charges reports whether the line adds to the bill.
func (l Line) Charges() bool { return l.Kind == KindService || l.Kind == KindAddon }

// Totals sums the lines: subtotal is what was charged, discount what was
// given back (a positive number), total the difference. It never goes below
// zero: the discount is cut to the subtotal (callers keep give-back lines
// within it; this is the last guard of rule 2).
func Totals(lines []Line) (subtotal, discount, total int64) {
	for _, l := range lines {
		if l.Charges() {
			subtotal += l.AmountCents
		} else {
			discount -= l.AmountCents
		}
	}
	if discount > subtotal {
		discount = subtotal
	}
	return subtotal, discount, subtotal - discount
}

// canMove reports whether an invoice may go from one state to another.
func canMove(from, to string) bool {
	if from == to {
		return true
	}
	switch from {
	case StatusDraft:
		// Paid straight from draft: paid on the spot, issued implicitly.
		return to == StatusIssued || to == StatusPaid || to == StatusVoid
	case StatusIssued:
		return to == StatusPaid || to == StatusVoid
	}
	return false
}
