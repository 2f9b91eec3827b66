package outbox

import (
	"context"
	"fmt"
	"time"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/store"
)

// Delivery is one event's journey to one endpoint.
type Delivery struct {
	ID            int64      `json:"id"`
	EventID       int64      `json:"event_id"`
	EventType     string     `json:"event_type"`
	WebhookID     string     `json:"webhook_id"`
	EndpointID    int64      `json:"endpoint_id"`
	URL           string     `json:"url"`
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	LastAttemptAt *time.Time `json:"last_attempt_at"`
	LastStatus    *int       `json:"last_status"`
	LastError     string     `json:"last_error,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	DeliveredAt   *time.Time `json:"delivered_at"`
}

// Deliveries lists a tenant's deliveries, newest first.
func (e *Endpoints) Deliveries(ctx context.Context, tenantID, status string, p store.Page) ([]Delivery, string, error) {
	switch status {
	case "", "pending", "delivered", "failed":
	default:
		return nil, "", apperror.Invalid("status", "must be pending, delivered or failed")
	}
	q := e.store.DB.WithContext(ctx).Table("webhook_deliveries AS d").
		Select(`d.id, d.event_id, ev.kind AS event_type, d.endpoint_id, ep.url, d.status, d.attempts,
			d.next_attempt_at, d.last_attempt_at,
			d.last_status, d.last_error, d.created_at, d.delivered_at`).
		Joins("JOIN outbox_events ev ON ev.id = d.event_id").
		Joins("JOIN webhook_endpoints ep ON ep.id = d.endpoint_id").
		Where("d.tenant_id = ?", tenantID)
	if status != "" {
		q = q.Where("d.status = ?", status)
	}
	if p.After > 0 {
		q = q.Where("d.id < ?", p.After)
	}
	var out []Delivery
	if err := q.Order("d.id DESC").Limit(p.Limit).Scan(&out).Error; err != nil {
		return nil, "", fmt.Errorf("list deliveries: %w", err)
	}
	var last int64
	for i := range out {
		out[i].WebhookID = Event{ID: out[i].EventID}.msgID()
		if out[i].Status != "pending" {
			out[i].NextAttemptAt = nil
		}
		last = out[i].ID
	}
	return out, p.Next(len(out), last), nil
}

// Redeliver starts a new attempt sequence for a delivery now (the same
// webhook-id, so a receiver that already has it can drop it).
func (e *Endpoints) Redeliver(ctx context.Context, tenantID string, id int64) (Delivery, error) {
	now := e.outbox.clock.Now()
	res := e.store.DB.WithContext(ctx).Exec(`UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?,
		locked_until = NULL WHERE tenant_id = ? AND id = ?`, now, tenantID, id)
	if res.Error != nil {
		return Delivery{}, fmt.Errorf("redeliver: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return Delivery{}, apperror.NotFound("delivery %d not found", id)
	}
	ds, _, err := e.Deliveries(ctx, tenantID, "", store.Page{After: id + 1, Limit: 1})
	if err != nil || len(ds) == 0 {
		return Delivery{}, err
	}
	return ds[0], nil
}
