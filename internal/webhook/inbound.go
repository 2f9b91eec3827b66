package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/text"
	"gorm.io/gorm"
)

// Service takes the scheduler's changes in — signed webhooks, sync batches
// and CSV files — and writes each through the mirror's and the invoices' own
// Put functions, so validation and the write path exist once.
type Service struct {
	store    *store.Store
	clock    clock.Clock
	mirror   *mirror.Service
	invoices *invoice.Service
	tenants  *tenantCache
	// ReplayWait is how long a delivery whose webhook-id another request
	// is still processing waits for that result before answering 409.
	ReplayWait time.Duration
}

// NewService returns the inbound service writing through mirror and invoices.
func NewService(s *store.Store, c clock.Clock, m *mirror.Service, invoices *invoice.Service) *Service {
	return &Service{store: s, clock: c, mirror: m, invoices: invoices, ReplayWait: 5 * time.Second}
}

// Now is the service's clock reading, for callers that hand Receive a time.
func (s *Service) Now() time.Time { return s.clock.Now() }

// Tenant is what a write needs to know of its tenant: the time zone visits'
// days are in and the currency invoices are in.
type Tenant struct {
	ID       string
	Location *time.Location
	Currency string
}

// MaxBodyBytes bounds one webhook body.
const MaxBodyBytes = 1 << 20

// MaxWebhookIDLen bounds the webhook-id header.
const MaxWebhookIDLen = 200

// ErrTooLarge answers a body over MaxBodyBytes.
var ErrTooLarge = &apperror.Error{Code: apperror.CodeTooLarge, Message: "the webhook body is larger than 1 MiB"}

// Delivery is one inbound webhook request as received.
type Delivery struct {
	TenantID  string
	ID        string // webhook-id
	Timestamp string // webhook-timestamp
	Signature string // webhook-signature
	Body      []byte
}

// Result is the answer to a delivery: an HTTP status and a JSON body. A
// replay answers the first delivery's result again, with Replay set.
type Result struct {
	Status int
	Body   json.RawMessage
	Replay bool
}

// outcome is the JSON body of an applied delivery.
type outcome struct {
	WebhookID  string `json:"webhook_id"`
	Type       string `json:"type"`
	ExternalID string `json:"external_id"`
	Result     string `json:"result"` // created, updated or stale
}

// InProgress answers a delivery whose webhook-id is still being processed
// by another request after ReplayWait: a conflict; retry after RetryAfter.
type InProgress struct {
	WebhookID  string
	RetryAfter time.Duration
}

func (e *InProgress) Error() string { return e.Unwrap().Error() }

// Unwrap makes it a conflict to the HTTP layer.
func (e *InProgress) Unwrap() error {
	return apperror.Conflict("webhook %s is still being processed; retry in %d seconds", e.WebhookID, int(e.RetryAfter.Seconds()))
}

func unauthorized(err error) error {
	return &apperror.Error{Code: apperror.CodeUnauthorized, Message: err.Error()}
}

// Receive verifies, decodes and applies one delivery at time now. Checks run
// in this order, and a refused delivery changes nothing and is not
// recorded: body size (413); signature and timestamp against the tenant's
// active secrets (401 — also for an unknown tenant, which is never
// confirmed to exist); event type (400); data (422, field names under
// "data."). A webhook-id seen before for this tenant answers the first
// result again and changes nothing — once the body has passed the object's
// own rules (checkObject), so an invalid body is refused even then.
func (s *Service) Receive(ctx context.Context, d Delivery, now time.Time) (Result, error) {
	if len(d.Body) > MaxBodyBytes {
		return Result{}, ErrTooLarge
	}
	t, secrets, err := s.tenantSecrets(ctx, d.TenantID)
	if err != nil {
		return Result{}, err
	}
	// With no secrets (unknown tenant, or none made yet) Verify still checks
	// the headers and timestamp first, so both answer like a wrong signature.
	if err := Verify(secrets, d.ID, d.Timestamp, d.Signature, d.Body, now); err != nil {
		return Result{}, unauthorized(err)
	}
	if len(d.ID) > MaxWebhookIDLen {
		return Result{}, apperror.BadRequest("webhook-id must be at most %d bytes", MaxWebhookIDLen)
	}
	if err := text.Check(d.ID, text.Line, MaxWebhookIDLen); err != nil {
		return Result{}, apperror.BadRequest("webhook-id %s", err)
	}
	ev, err := decodeEvent(d.Body)
	if err != nil {
		return Result{}, err
	}
	if err := s.checkObject(ctx, t, ev.Object); err != nil {
		return Result{}, err
	}
	return s.once(ctx, t, d.ID, ev, now)
}

// abandonedAfter is when a claim whose processing never finished (the
// process died) may be taken over by a redelivery.
const abandonedAfter = time.Minute

// once applies ev unless this tenant's webhook-id was seen before. The
// claim (the inbox row), the change and its recorded result commit in one
// transaction: the row's primary key lets exactly one of any number of
// concurrent deliveries claim the id, and the others wait for its commit
// (PostgreSQL holds them at the claim, SQLite's one writer queues them),
// then answer its result. A failed delivery rolls back, claim and all, so
// the sender can retry. A claim committed unfinished (by a version that
// committed it apart) is waited for, reading, for ReplayWait, and taken
// over after abandonedAfter.
func (s *Service) once(ctx context.Context, t Tenant, webhookID string, ev event, now time.Time) (Result, error) {
	start := time.Now()
	pause := 5 * time.Millisecond
	for {
		res, claimed, err := s.process(ctx, t, webhookID, ev, s.claim(webhookID, ev.Type, now))
		if claimed || err != nil {
			return res, err
		}
		for {
			row, found, err := s.inboxRow(ctx, t.ID, webhookID, now)
			if err != nil {
				return Result{}, err
			}
			if !found { // the other attempt failed and let go: claim again
				break
			}
			if row.Status != 0 {
				return Result{Status: row.Status, Body: json.RawMessage(row.Result), Replay: true}, nil
			}
			if row.Abandoned {
				res, took, err := s.process(ctx, t, webhookID, ev, s.takeOver(webhookID, ev.Type, now))
				if took || err != nil {
					return res, err
				}
				continue
			}
			if time.Since(start) >= s.ReplayWait {
				return Result{}, s.inProgress(webhookID)
			}
			select {
			case <-ctx.Done():
				return Result{}, ctx.Err()
			case <-time.After(pause):
			}
			pause = min(2*pause, 200*time.Millisecond)
		}
	}
}

func (s *Service) inProgress(webhookID string) error {
	return &InProgress{WebhookID: webhookID, RetryAfter: 5 * time.Second}
}

// claimer takes the delivery's inbox row inside tx; it reports whether this
// transaction now owns the delivery.
type claimer func(tx *gorm.DB, tenantID string) (bool, error)

// claim inserts the inbox row for the id. On PostgreSQL the insert waits
// while another transaction holds the same id uncommitted; after
// ReplayWait it gives up, and the delivery is answered as in progress.
func (s *Service) claim(webhookID, eventType string, now time.Time) claimer {
	return func(tx *gorm.DB, tenantID string) (bool, error) {
		ctx := tx.Statement.Context
		if s.store.Dialect == store.Postgres {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeoutCause(ctx, s.ReplayWait, s.inProgress(webhookID))
			defer cancel()
		}
		res := tx.WithContext(ctx).Exec(`INSERT INTO webhook_inbox (tenant_id, webhook_id, event_type, status, result, received_at)
			VALUES (?, ?, ?, 0, '', ?) ON CONFLICT (tenant_id, webhook_id) DO NOTHING`,
			tenantID, webhookID, eventType, now.UTC().Truncate(time.Microsecond))
		if res.Error != nil {
			if ctx.Err() != nil && tx.Statement.Context.Err() == nil { // waited ReplayWait
				return false, context.Cause(ctx)
			}
			return false, fmt.Errorf("claim webhook %s: %w", webhookID, res.Error)
		}
		return res.RowsAffected == 1, nil
	}
}

// takeOver claims a row committed unfinished and abandoned; of several
// callers one wins.
func (s *Service) takeOver(webhookID, eventType string, now time.Time) claimer {
	now = now.UTC().Truncate(time.Microsecond)
	return func(tx *gorm.DB, tenantID string) (bool, error) {
		res := tx.Exec(`UPDATE webhook_inbox SET received_at = ?, event_type = ?
			WHERE tenant_id = ? AND webhook_id = ? AND status = 0 AND received_at < ?`,
			now, eventType, tenantID, webhookID, now.Add(-abandonedAfter))
		if res.Error != nil {
			return false, fmt.Errorf("take over webhook %s: %w", webhookID, res.Error)
		}
		return res.RowsAffected == 1, nil
	}
}

type inboxRow struct {
	Status    int
	Result    string
	Abandoned bool
}

func (s *Service) inboxRow(ctx context.Context, tenantID, webhookID string, now time.Time) (inboxRow, bool, error) {
	var rows []inboxRow
	err := s.store.DB.WithContext(ctx).Raw(`SELECT status, result, received_at < ? AS abandoned
		FROM webhook_inbox WHERE tenant_id = ? AND webhook_id = ?`,
		now.UTC().Truncate(time.Microsecond).Add(-abandonedAfter), tenantID, webhookID).Scan(&rows).Error
	if err != nil {
		return inboxRow{}, false, fmt.Errorf("read webhook %s: %w", webhookID, err)
	}
	if len(rows) == 0 {
		return inboxRow{}, false, nil
	}
	return rows[0], true, nil
}

// errNotClaimed ends a delivery's transaction when another holds the id.
var errNotClaimed = errors.New("webhook: claimed elsewhere")

// process claims the delivery, applies it and records its result, all in
// one transaction; it reports claimed false, with nothing written, when the
// id was not its to take. A failure (or panic) rolls the claim back with
// the change, so nothing of the delivery remains.
func (s *Service) process(ctx context.Context, t Tenant, webhookID string, ev event, take claimer) (res Result, claimed bool, err error) {
	err = s.store.Tx(ctx, func(tx *gorm.DB) error {
		ok, err := take(tx, t.ID)
		if err != nil {
			return err
		}
		if !ok {
			return errNotClaimed
		}
		up, err := s.apply(store.Within(ctx, tx), t, ev.Object)
		if err != nil {
			return relabel(err, func(f string) string { return "data." + f })
		}
		body, err := json.Marshal(outcome{WebhookID: webhookID, Type: ev.Type, ExternalID: ev.Object.ExternalID, Result: string(up)})
		if err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE webhook_inbox SET status = ?, result = ? WHERE tenant_id = ? AND webhook_id = ?`,
			200, string(body), t.ID, webhookID).Error; err != nil {
			return fmt.Errorf("record webhook %s: %w", webhookID, err)
		}
		res = Result{Status: 200, Body: body}
		return nil
	})
	switch {
	case errors.Is(err, errNotClaimed):
		return Result{}, false, nil
	case err != nil:
		return Result{}, true, err
	}
	return res, true, nil
}

// apply writes one object through its Put function.
func (s *Service) apply(ctx context.Context, t Tenant, o object) (store.Upserted, error) {
	var (
		up  store.Upserted
		err error
	)
	switch in := o.input.(type) {
	case *mirror.CustomerInput:
		_, up, err = s.mirror.PutCustomer(ctx, t.ID, o.ExternalID, *in)
	case *mirror.CrewInput:
		_, up, err = s.mirror.PutCrew(ctx, t.ID, o.ExternalID, *in)
	case *mirror.VisitInput:
		_, up, err = s.mirror.PutVisit(ctx, t.ID, t.Location, o.ExternalID, *in)
	case *invoice.Input:
		_, up, err = s.invoices.Put(ctx, t.ID, t.Currency, o.ExternalID, *in)
	default:
		return "", fmt.Errorf("webhook: no writer for %T", o.input)
	}
	if err != nil {
		return "", err
	}
	return up, nil
}

// InboxRetention is how long webhook-ids are remembered for deduplication.
const InboxRetention = 7 * 24 * time.Hour

// CleanInbox deletes inbox rows older than InboxRetention, in batches, and
// returns how many it deleted. The scheduled jobs call it.
func (s *Service) CleanInbox(ctx context.Context, now time.Time) (int64, error) {
	cutoff := now.UTC().Add(-InboxRetention)
	var total int64
	for {
		res := s.store.DB.WithContext(ctx).Exec(`DELETE FROM webhook_inbox WHERE (tenant_id, webhook_id) IN (
			SELECT tenant_id, webhook_id FROM webhook_inbox WHERE received_at < ? LIMIT 5000)`, cutoff)
		if res.Error != nil {
			return total, fmt.Errorf("clean webhook inbox: %w", res.Error)
		}
		total += res.RowsAffected
		if res.RowsAffected < 5000 {
			return total, nil
		}
	}
}
