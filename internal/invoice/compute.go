package invoice

import (
	"fmt"
	"time"

	"gorm.io/gorm"
)

// PercentOf returns bps basis points of amount, rounded half away from zero
// (the stated rounding of rule 2): 10% of 4505 is 451, of -4505 is -451.
func PercentOf(amount int64, bps int) int64 {
	p := amount * int64(bps)
	if p >= 0 {
		return (p + 5000) / 10000
	}
	return -((-p + 5000) / 10000)
}

// Ledger works out what customers are owed and re-fills their drafts
// (internal/ledger), inside the caller's transaction.
type Ledger interface {
	Refresh(tx *gorm.DB, tenantID string, customerIDs ...int64) error
}

// UseLedger sets the ledger every invoice write refreshes.
func (s *Service) UseLedger(l Ledger) { s.ledger = l }

// StatusFunc learns, inside the write's transaction, that an invoice left
// draft or moved on (issued, paid, void).
type StatusFunc func(tx *gorm.DB, tenantID string, inv Invoice) error

// OnStatusChange registers fn (the referral engine converts on a first paid
// invoice).
func (s *Service) OnStatusChange(fn StatusFunc) { s.onStatus = append(s.onStatus, fn) }

// saveTotals stores the totals of an invoice with the given lines.
func saveTotals(tx *gorm.DB, invoiceID int64, lines []Line, now time.Time) error {
	sub, disc, total := Totals(lines)
	err := tx.Exec(`UPDATE invoices SET subtotal_cents = ?, discount_cents = ?, total_cents = ?, updated_at = ? WHERE id = ?`,
		sub, disc, total, now, invoiceID).Error
	if err != nil {
		return fmt.Errorf("save totals: %w", err)
	}
	return nil
}
