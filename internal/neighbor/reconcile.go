package neighbor

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/localdate"
)

// ReconcileResult says what a reconciliation looked at.
type ReconcileResult struct {
	TenantID string         `json:"tenant_id"`
	Day      localdate.Date `json:"day"`
	Visits   int            `json:"visits"`
	Invoices int            `json:"invoices"`
}

// reconcileBatch is how many invoices one transaction refreshes.
const reconcileBatch = 500

// Reconcile recomputes one tenant-local day: every invoice billing a visit
// of that day is refreshed — drafts get their discounts recomputed, issued
// ones are settled (late credits, discounts given in error). It is
// idempotent: a second run, or one running beside invoice writes, adds
// nothing (unique keys on computed lines and adjustments back this).
func (s *Service) Reconcile(ctx context.Context, tenantID string, day localdate.Date) (ReconcileResult, error) {
	res := ReconcileResult{TenantID: tenantID, Day: day}
	db := s.store.DB.WithContext(ctx)
	var visitIDs []int64
	if err := db.Raw(`SELECT id FROM visits WHERE tenant_id = ? AND service_date = ?`, tenantID, day).Scan(&visitIDs).Error; err != nil {
		return res, fmt.Errorf("reconcile %s: read visits: %w", day, err)
	}
	res.Visits = len(visitIDs)
	var invoiceIDs []int64
	err := db.Raw(`SELECT DISTINCT l.invoice_id FROM invoice_lines l JOIN visits v ON v.id = l.visit_id
		WHERE l.tenant_id = ? AND v.service_date = ? AND l.source_key IS NULL ORDER BY l.invoice_id`, tenantID, day).Scan(&invoiceIDs).Error
	if err != nil {
		return res, fmt.Errorf("reconcile %s: read invoices: %w", day, err)
	}
	res.Invoices = len(invoiceIDs)
	for start := 0; start < len(invoiceIDs); start += reconcileBatch {
		batch := invoiceIDs[start:min(start+reconcileBatch, len(invoiceIDs))]
		err := s.store.Tx(ctx, func(tx *gorm.DB) error {
			var rows []struct {
				ID     int64
				Status string
			}
			if err := tx.Raw(`SELECT id, status FROM invoices WHERE tenant_id = ? AND id IN ?`, tenantID, batch).Scan(&rows).Error; err != nil {
				return err
			}
			var drafts, others []int64
			for _, r := range rows {
				if r.Status == "draft" {
					drafts = append(drafts, r.ID)
				} else {
					others = append(others, r.ID)
				}
			}
			if err := s.recompute(tx, tenantID, drafts); err != nil {
				return err
			}
			return s.invoices.Settle(tx, tenantID, others)
		})
		if err != nil {
			return res, fmt.Errorf("reconcile %s: %w", day, err)
		}
	}
	return res, nil
}
