package invoice

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/events"
)

// EventLinkRotated is sent when an invoice's customer link is replaced.
const EventLinkRotated = "invoice.link_rotated"

// URL is the customer's page of an invoice with the given token under
// baseURL (the configured base_url).
func URL(baseURL, token string) string {
	return strings.TrimRight(baseURL, "/") + "/i/" + token
}

// UseBaseURL sets the public address invoice_url is built on (base_url).
func (s *Service) UseBaseURL(baseURL string) { s.baseURL = strings.TrimRight(baseURL, "/") }

// UseEvents sets where invoice.link_rotated is announced.
func (s *Service) UseEvents(em events.Emitter) { s.events = em }

// URLOf is the invoice_url of an invoice (its own page under base_url).
func (s *Service) URLOf(inv Invoice) string { return URL(s.baseURL, inv.PublicToken) }

// RotateLink gives the invoice a new unguessable token: the old link stops
// working at once (its page answers the invoice "no longer valid" page) and
// the answer carries the new invoice_url. It works whatever the invoice's
// status (draft, issued, paid or void): the link is not part of the bill, so
// an issued invoice's lines and totals stay as they are. One
// invoice.link_rotated event is sent in the same transaction.
func (s *Service) RotateLink(ctx context.Context, tenantID, externalID string) (Invoice, error) {
	token := newToken()
	err := s.store.Tx(ctx, func(tx *gorm.DB) error {
		var rows []struct {
			Status             string
			PayURL             string
			CustomerExternalID string
			ConsentMarketing   bool
		}
		if err := tx.Raw(`UPDATE invoices SET public_token = ? WHERE tenant_id = ? AND external_id = ?
			RETURNING status, pay_url, (SELECT external_id FROM customers WHERE id = invoices.customer_id) AS customer_external_id,
			(SELECT consent_marketing FROM customers WHERE id = invoices.customer_id) AS consent_marketing`,
			token, tenantID, externalID).Scan(&rows).Error; err != nil {
			return fmt.Errorf("rotate invoice link: %w", err)
		}
		if len(rows) == 0 {
			return apperror.NotFound("invoice %s not found", externalID)
		}
		return s.events.Emit(tx, tenantID, EventLinkRotated, map[string]any{
			"invoice_id": externalID, "customer_id": rows[0].CustomerExternalID, "status": rows[0].Status,
			"invoice_url": URL(s.baseURL, token), "pay_url": rows[0].PayURL, "consent_marketing": rows[0].ConsentMarketing,
		})
	})
	if err != nil {
		return Invoice{}, err
	}
	return s.read(ctx, tenantID, externalID)
}
