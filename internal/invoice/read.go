package invoice

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/store"
)

// invoiceQuery selects a tenant's invoices with their customer's scheduler id.
func invoiceQuery(db *gorm.DB, tenantID string) *gorm.DB {
	return db.Table("invoices AS i").
		Select("i.*, c.external_id AS customer_external_id").
		Joins("JOIN customers c ON c.id = i.customer_id").
		Where("i.tenant_id = ?", tenantID)
}

// find loads invoices matching one extra condition, with their lines.
func (s *Service) find(db *gorm.DB, tenantID string, cond string, args ...any) ([]Invoice, error) {
	var invs []Invoice
	err := invoiceQuery(db, tenantID).Where(cond, args...).Order("i.id").Scan(&invs).Error
	if err != nil {
		return nil, fmt.Errorf("read invoices: %w", err)
	}
	return invs, s.attachLines(db, tenantID, invs)
}

func (s *Service) attachLines(db *gorm.DB, tenantID string, invs []Invoice) error {
	if len(invs) == 0 {
		return nil
	}
	ids := make([]int64, len(invs))
	at := make(map[int64]int, len(invs))
	for i, inv := range invs {
		ids[i] = inv.ID
		at[inv.ID] = i
		invs[i].Lines = []Line{}
	}
	var lines []Line
	err := db.Table("invoice_lines AS l").
		Select("l.*, v.external_id AS visit_external_id").
		Joins("LEFT JOIN visits v ON v.id = l.visit_id").
		Where("l.tenant_id = ? AND l.invoice_id IN ?", tenantID, ids).
		Order("l.invoice_id, l.position").Scan(&lines).Error
	if err != nil {
		return fmt.Errorf("read invoice lines: %w", err)
	}
	for _, l := range lines {
		i := at[l.InvoiceID]
		invs[i].Lines = append(invs[i].Lines, l)
	}
	return nil
}

// Filter narrows an invoice list; zero fields don't filter.
type Filter struct {
	CustomerID string
	Status     string
}

// ParseFilter reads the list query parameters.
func ParseFilter(customerID, status string) (Filter, error) {
	switch status {
	case "", StatusDraft, StatusIssued, StatusPaid, StatusVoid:
	default:
		return Filter{}, apperror.Invalid("status", "must be draft, issued, paid or void")
	}
	return Filter{CustomerID: customerID, Status: status}, nil
}

// List returns invoices in id order, one page at a time.
func (s *Service) List(ctx context.Context, tenantID string, f Filter, p store.Page) ([]Invoice, string, error) {
	db := s.store.DB.WithContext(ctx)
	q := invoiceQuery(db, tenantID).Where("i.id > ?", p.After)
	if f.CustomerID != "" {
		q = q.Where("c.external_id = ?", f.CustomerID)
	}
	if f.Status != "" {
		q = q.Where("i.status = ?", f.Status)
	}
	var invs []Invoice
	if err := q.Order("i.id").Limit(p.Limit).Scan(&invs).Error; err != nil {
		return nil, "", fmt.Errorf("list invoices: %w", err)
	}
	if err := s.attachLines(db, tenantID, invs); err != nil {
		return nil, "", err
	}
	var last int64
	if len(invs) > 0 {
		last = invs[len(invs)-1].ID
	}
	return invs, p.Next(len(invs), last), nil
}
