// Package outbox sends routeloop's events to the endpoints tenants register:
// each event is written to the outbox in the same transaction as the change
// that causes it (a rolled-back change sends nothing, a committed one is
// always sent), then delivered signed (Standard Webhooks), at least once,
// in order per endpoint (see InOrderAttempts for the one exception), with
// exponential backoff and jitter for about three days. These are the
// webhooks out; webhooks in (the scheduler's deliveries to routeloop) are
// package webhook, whose Standard Webhooks signing this package uses.
package outbox

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
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
	return o.EmitMany(tx, tenantID, kind, []any{payload})
}

// emitChunk bounds the rows of one multi-row INSERT (four parameters a row
// keeps it under every driver's parameter limit).
const emitChunk = 1000

// EmitMany records events of one kind in the caller's transaction, in the
// order given (their ids ascend in that order, which is the order they are
// delivered in), with a pending delivery for every active endpoint of the
// tenant subscribed to the kind: a few statements for a thousand events,
// where a day's reconciliation announces tens of thousands.
func (o *Outbox) EmitMany(tx *gorm.DB, tenantID, kind string, payloads []any) error {
	if len(payloads) == 0 {
		return nil
	}
	now := o.clock.Now()
	if tx.Dialector.Name() == store.Postgres {
		return emitBulk(tx, tenantID, kind, payloads, now)
	}
	var eps []Endpoint
	if err := tx.Where("tenant_id = ? AND status <> 'disabled'", tenantID).Find(&eps).Error; err != nil {
		return fmt.Errorf("outbox: read endpoints: %w", err)
	}
	wanted := wanting(eps, kind)
	for part := range slices.Chunk(payloads, emitChunk) {
		var q strings.Builder
		args := make([]any, 0, 4*len(part))
		q.WriteString(`INSERT INTO outbox_events (tenant_id, kind, payload, created_at) VALUES `)
		for i, p := range part {
			body, err := json.Marshal(p)
			if err != nil {
				return fmt.Errorf("outbox: encode %s: %w", kind, err)
			}
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?)")
			args = append(args, tenantID, kind, string(body), now)
		}
		q.WriteString(" RETURNING id")
		var ids []int64
		if err := tx.Raw(q.String(), args...).Scan(&ids).Error; err != nil {
			return fmt.Errorf("outbox: write %s: %w", kind, err)
		}
		for _, ep := range wanted {
			var d strings.Builder
			dargs := make([]any, 0, 5*len(ids))
			d.WriteString(`INSERT INTO webhook_deliveries (tenant_id, endpoint_id, event_id, status, next_attempt_at, created_at) VALUES `)
			for i, id := range ids {
				if i > 0 {
					d.WriteString(", ")
				}
				d.WriteString("(?, ?, ?, 'pending', ?, ?)")
				dargs = append(dargs, tenantID, ep, id, now, now)
			}
			if err := tx.Exec(d.String(), dargs...).Error; err != nil {
				return fmt.Errorf("outbox: queue delivery: %w", err)
			}
		}
	}
	return nil
}

// wanting is the ids of the endpoints subscribed to kind.
func wanting(eps []Endpoint, kind string) []int64 {
	var ids []int64
	for _, ep := range eps {
		if ep.Wants(kind) {
			ids = append(ids, ep.ID)
		}
	}
	return ids
}

// emitBulk is EmitMany on PostgreSQL in two statements at most: the
// events (store.BulkInsert) written with the tenant's endpoints read in
// the same statement, then, when any endpoint wants them, every wanted
// endpoint's deliveries in one more.
func emitBulk(tx *gorm.DB, tenantID, kind string, payloads []any, now time.Time) error {
	type row struct {
		TenantID  string    `json:"tenant_id"`
		Kind      string    `json:"kind"`
		Payload   string    `json:"payload"`
		CreatedAt time.Time `json:"created_at"`
	}
	rows := make([]row, len(payloads))
	for i, p := range payloads {
		body, err := json.Marshal(p)
		if err != nil {
			return fmt.Errorf("outbox: encode %s: %w", kind, err)
		}
		rows[i] = row{tenantID, kind, string(body), now.Truncate(time.Microsecond)}
	}
	q, arg, err := store.BulkInsert("outbox_events", []string{"tenant_id", "kind", "payload", "created_at"}, rows, "RETURNING id")
	if err != nil {
		return fmt.Errorf("outbox: write %s: %w", kind, err)
	}
	ids, eps, err := writeEvents(tx, q, arg, tenantID)
	if err != nil {
		return fmt.Errorf("outbox: write %s: %w", kind, err)
	}
	wanted := wanting(eps, kind)
	if len(wanted) == 0 {
		return nil
	}
	// Endpoint by endpoint, each one's in event order, as one statement.
	if err := tx.Exec(`INSERT INTO webhook_deliveries (tenant_id, endpoint_id, event_id, status, next_attempt_at, created_at)
		SELECT ?, p.id, e.id, 'pending', ?, ?
		FROM unnest(CAST(? AS BIGINT[])) WITH ORDINALITY AS p(id, m)
		CROSS JOIN unnest(CAST(? AS BIGINT[])) WITH ORDINALITY AS e(id, n) ORDER BY p.m, e.n`,
		tenantID, now, now, store.IDList(wanted, false), store.IDList(ids, false)).Error; err != nil {
		return fmt.Errorf("outbox: queue delivery: %w", err)
	}
	return nil
}

// writeEvents runs insert (the events, RETURNING id) and reads the
// tenant's endpoints that are not disabled in the same statement; it
// answers the new ids ascending (the order given) and the endpoints with
// their subscriptions.
func writeEvents(tx *gorm.DB, insert, arg, tenantID string) (ids []int64, eps []Endpoint, err error) {
	rows, err := store.Query(tx, `WITH e AS (`+insert+`)
		SELECT (SELECT json_agg(id ORDER BY id) FROM e)::text, ep.id, ep.event_types
		FROM (SELECT 1) AS one LEFT JOIN webhook_endpoints ep ON ep.tenant_id = ? AND ep.status <> 'disabled'
		ORDER BY ep.id`, arg, tenantID)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var list string
	for rows.Next() {
		var (
			id    *int64
			types *string
		)
		if err := rows.Scan(&list, &id, &types); err != nil {
			return nil, nil, err
		}
		if id == nil {
			continue
		}
		ep := Endpoint{ID: *id}
		if err := json.Unmarshal([]byte(*types), &ep.EventTypes); err != nil {
			return nil, nil, fmt.Errorf("endpoint %d event types: %w", *id, err)
		}
		eps = append(eps, ep)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if err := json.Unmarshal([]byte(list), &ids); err != nil {
		return nil, nil, fmt.Errorf("event ids: %w", err)
	}
	return ids, eps, nil
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
