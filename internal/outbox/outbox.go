// Package outbox sends routeloop's events to the endpoints tenants register:
// each event is written to the outbox in the same transaction as the change
// that causes it (a rolled-back change sends nothing, a committed one is
// always sent), then delivered signed (Standard Webhooks), at least once,
// in order per endpoint (see InOrderAttempts for the one exception), with
// exponential backoff and jitter for about three days.
package outbox

import (
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/store"
)

// EventTypes tenants can subscribe to.
var EventTypes = []string{
	"referral.created", "referral.converted", "reward.granted", "reward.held", "reward.released", "reward.voided",
	"invoice.discounted", "invoice.link_rotated", "visit.booked", "route.changed", "neighbor_link.created", "crew.milestone_reached",
	"customer.marketing_opt_out",
}

// Outbox writes events and fans them out to subscribed endpoints.
type Outbox struct {
	store *store.Store
	clock clock.Clock
}

// New returns the outbox over s.
func New(s *store.Store, c clock.Clock) *Outbox { return &Outbox{store: s, clock: c} }

// Emit records the event in the caller's transaction and creates a pending
// delivery for every active endpoint of the tenant subscribed to it.
func (o *Outbox) Emit(tx *gorm.DB, tenantID, kind string, payload any) error {
	body, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("outbox: encode %s: %w", kind, err)
	}
	now := o.clock.Now()
	var id int64
	if err := tx.Raw(`INSERT INTO outbox_events (tenant_id, kind, payload, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
		tenantID, kind, string(body), now).Scan(&id).Error; err != nil {
		return fmt.Errorf("outbox: write %s: %w", kind, err)
	}
	var eps []Endpoint
	if err := tx.Where("tenant_id = ? AND status <> 'disabled'", tenantID).Find(&eps).Error; err != nil {
		return fmt.Errorf("outbox: read endpoints: %w", err)
	}
	for _, ep := range eps {
		if !ep.Wants(kind) {
			continue
		}
		if err := tx.Exec(`INSERT INTO webhook_deliveries (tenant_id, endpoint_id, event_id, status, next_attempt_at, created_at)
			VALUES (?, ?, ?, 'pending', ?, ?)`, tenantID, ep.ID, id, now, now).Error; err != nil {
			return fmt.Errorf("outbox: queue delivery: %w", err)
		}
	}
	return nil
}

// Event is a row of the outbox.
type Event struct {
	ID        int64
	TenantID  string
	Kind      string
	Payload   string
	CreatedAt time.Time
}

// TableName is outbox_events.
func (Event) TableName() string { return "outbox_events" }

// message is the Standard Webhooks payload sent for an event.
func (e Event) message() []byte {
	b, _ := json.Marshal(struct {
		Type      string          `json:"type"`
		Timestamp string          `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}{e.Kind, e.CreatedAt.UTC().Format(time.RFC3339Nano), json.RawMessage(e.Payload)})
	return b
}

// msgID is the webhook-id of an event: the same on every retry, so
// receivers can drop repeats.
func (e Event) msgID() string { return fmt.Sprintf("evt_%d", e.ID) }
