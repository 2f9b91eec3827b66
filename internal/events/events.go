// Package events is the seam through which features announce what happened
// (referral.created, invoice.discounted, neighbor_link.created, ...). An
// Emitter writes the event in the same transaction as the change that causes
// it, so a rolled-back change announces nothing. Until outgoing webhooks are
// wired in, Discard is used.
package events

import "gorm.io/gorm"

// Event kinds.
const (
	NeighborLinkCreated = "neighbor_link.created"
	InvoiceDiscounted   = "invoice.discounted"
)

// Emitter records an event inside the caller's transaction.
type Emitter interface {
	Emit(tx *gorm.DB, tenantID, kind string, payload any) error
}

// Discard drops every event.
type Discard struct{}

// Emit does nothing.
func (Discard) Emit(*gorm.DB, string, string, any) error { return nil }
