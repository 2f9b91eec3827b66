package outbox

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/webhook"
)

// Backoff is the wait after each failed attempt (±20% jitter): growing
// gaps, about three days in all; after the last, the delivery has failed.
var Backoff = []time.Duration{
	5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, 30 * time.Minute, time.Hour,
	2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 12 * time.Hour, 12 * time.Hour, 12 * time.Hour, 12 * time.Hour,
}

// Worker delivers due events. Many workers (one per server replica) can run
// at once: each claims a batch (Postgres SKIP LOCKED) for a short lease, so
// no attempt is made twice.
type Worker struct {
	store  *store.Store
	clock  clock.Clock
	log    *slog.Logger
	client *http.Client
	// Batch is how many deliveries one round claims; Lease how long the
	// claim holds; Poll how long an idle worker waits.
	Batch int
	Lease time.Duration
	Poll  time.Duration
	// Parallel is how many endpoints are sent to at once (one endpoint's
	// events go out one after another, in order).
	Parallel int
}

// NewWorker returns a worker; allowPrivate lets it reach loopback and
// private addresses (tests, on-premise schedulers).
func NewWorker(s *store.Store, c clock.Clock, log *slog.Logger, allowPrivate bool) *Worker {
	dialer := &net.Dialer{Timeout: 5 * time.Second, Control: func(network, address string, _ syscall.RawConn) error {
		if allowPrivate {
			return nil
		}
		ap, err := netip.ParseAddrPort(address)
		if err != nil || blockedAddr(ap.Addr()) {
			return fmt.Errorf("outbox: refusing to connect to %s (loopback or private address)", address)
		}
		return nil
	}}
	transport := &http.Transport{DialContext: dialer.DialContext, MaxIdleConnsPerHost: 16, IdleConnTimeout: 90 * time.Second,
		TLSHandshakeTimeout: 5 * time.Second, ResponseHeaderTimeout: 10 * time.Second}
	return &Worker{store: s, clock: c, log: log, Batch: 200, Lease: time.Minute, Poll: time.Second, Parallel: 16,
		client: &http.Client{Transport: transport, Timeout: 15 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Run delivers until ctx is cancelled.
func (w *Worker) Run(ctx context.Context) {
	for ctx.Err() == nil {
		n, err := w.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			w.log.Error("deliver webhooks", "error", err)
		}
		if n == 0 || err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(w.Poll):
			}
		}
	}
}

type claimed struct {
	ID         int64
	TenantID   string
	EndpointID int64
	EventID    int64
	Attempts   int
}

// claim takes up to Batch due deliveries for a lease.
func (w *Worker) claim(ctx context.Context) ([]claimed, error) {
	now := w.clock.Now()
	skip := ""
	if w.store.Dialect == store.Postgres {
		skip = " FOR UPDATE SKIP LOCKED"
	}
	var rows []claimed
	err := w.store.Tx(ctx, func(tx *gorm.DB) error {
		return tx.Raw(`UPDATE webhook_deliveries SET locked_until = ?
			WHERE id IN (SELECT id FROM webhook_deliveries
			             WHERE status = 'pending' AND next_attempt_at <= ? AND (locked_until IS NULL OR locked_until < ?)
			             ORDER BY id LIMIT ?`+skip+`)
			RETURNING id, tenant_id, endpoint_id, event_id, attempts`, now.Add(w.Lease), now, now, w.Batch).Scan(&rows).Error
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].ID < rows[j].ID })
	return rows, nil
}

// outcome of one attempt.
type outcome struct {
	c        claimed
	status   int
	err      string
	released bool // the worker stopped mid-request: not an attempt
}

// RunOnce claims one batch and delivers it; it returns how many it claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	batch, err := w.claim(ctx)
	if err != nil || len(batch) == 0 {
		return 0, err
	}
	events, endpoints, err := w.load(ctx, batch)
	if err != nil {
		return len(batch), err
	}
	byEndpoint := map[int64][]claimed{}
	var order []int64
	for _, c := range batch {
		if _, ok := byEndpoint[c.EndpointID]; !ok {
			order = append(order, c.EndpointID)
		}
		byEndpoint[c.EndpointID] = append(byEndpoint[c.EndpointID], c)
	}
	results := make(chan outcome, len(batch))
	sem := make(chan struct{}, w.Parallel)
	var wg sync.WaitGroup
	for _, epID := range order {
		wg.Add(1)
		sem <- struct{}{}
		go func(cs []claimed) {
			defer wg.Done()
			defer func() { <-sem }()
			for _, c := range cs {
				results <- w.attempt(ctx, c, endpoints[c.EndpointID], events[c.EventID])
			}
		}(byEndpoint[epID])
	}
	wg.Wait()
	close(results)
	var all []outcome
	for r := range results {
		all = append(all, r)
	}
	// Results are written even when ctx was cancelled: what was sent is recorded.
	return len(batch), w.record(context.WithoutCancel(ctx), all)
}

func (w *Worker) load(ctx context.Context, batch []claimed) (map[int64]Event, map[int64]Endpoint, error) {
	evIDs, epIDs := map[int64]bool{}, map[int64]bool{}
	for _, c := range batch {
		evIDs[c.EventID], epIDs[c.EndpointID] = true, true
	}
	var evs []Event
	if err := w.store.DB.WithContext(ctx).Where("id IN ?", keys(evIDs)).Find(&evs).Error; err != nil {
		return nil, nil, fmt.Errorf("read events: %w", err)
	}
	var eps []Endpoint
	if err := w.store.DB.WithContext(ctx).Where("id IN ?", keys(epIDs)).Find(&eps).Error; err != nil {
		return nil, nil, fmt.Errorf("read endpoints: %w", err)
	}
	events, endpoints := map[int64]Event{}, map[int64]Endpoint{}
	for _, e := range evs {
		events[e.ID] = e
	}
	for _, e := range eps {
		endpoints[e.ID] = e
	}
	return events, endpoints, nil
}

func keys(m map[int64]bool) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// attempt sends one event to one endpoint, signed.
func (w *Worker) attempt(ctx context.Context, c claimed, ep Endpoint, ev Event) outcome {
	if ep.ID == 0 || ev.ID == 0 {
		return outcome{c: c, err: "endpoint or event gone"}
	}
	body := ev.message()
	now := w.clock.Now()
	sig, err := webhook.Sign(ep.Secret, ev.msgID(), now, body)
	if err != nil {
		return outcome{c: c, err: err.Error()}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		return outcome{c: c, err: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "routeloop-webhooks/1")
	req.Header.Set(webhook.HeaderID, ev.msgID())
	req.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(webhook.HeaderSignature, sig)
	resp, err := w.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return outcome{c: c, released: true}
		}
		return outcome{c: c, err: err.Error()}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return outcome{c: c, status: resp.StatusCode, err: fmt.Sprintf("answered %d", resp.StatusCode)}
	}
	return outcome{c: c, status: resp.StatusCode}
}

// record writes the outcomes: deliveries done in one statement, failures
// rescheduled with backoff (or failed for good), released ones freed.
func (w *Worker) record(ctx context.Context, all []outcome) error {
	now := w.clock.Now()
	var done, released []int64
	for _, o := range all {
		switch {
		case o.released:
			released = append(released, o.c.ID)
		case o.err == "":
			done = append(done, o.c.ID)
		}
	}
	return w.store.Tx(ctx, func(tx *gorm.DB) error {
		if len(done) > 0 {
			if err := tx.Exec(`UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1, delivered_at = ?,
				last_attempt_at = ?, last_status = 200, last_error = '', locked_until = NULL WHERE id IN ?`, now, now, done).Error; err != nil {
				return fmt.Errorf("record deliveries: %w", err)
			}
			if err := tx.Exec(`UPDATE webhook_endpoints SET status = 'active', failing_since = NULL
				WHERE status = 'failing' AND id IN (SELECT endpoint_id FROM webhook_deliveries WHERE id IN ?)`, done).Error; err != nil {
				return fmt.Errorf("revive endpoints: %w", err)
			}
		}
		if len(released) > 0 {
			if err := tx.Exec(`UPDATE webhook_deliveries SET locked_until = NULL WHERE id IN ?`, released).Error; err != nil {
				return fmt.Errorf("release deliveries: %w", err)
			}
		}
		for _, o := range all {
			if o.released || o.err == "" {
				continue
			}
			attempts := o.c.Attempts + 1
			var status *int
			if o.status != 0 {
				status = &o.status
			}
			if attempts > len(Backoff) {
				if err := tx.Exec(`UPDATE webhook_deliveries SET status = 'failed', attempts = ?, last_attempt_at = ?, last_status = ?,
					last_error = ?, locked_until = NULL WHERE id = ?`, attempts, now, status, o.err, o.c.ID).Error; err != nil {
					return fmt.Errorf("record failure: %w", err)
				}
				if err := tx.Exec(`UPDATE webhook_endpoints SET status = 'failing', failing_since = ? WHERE id = ? AND status = 'active'`,
					now, o.c.EndpointID).Error; err != nil {
					return fmt.Errorf("mark endpoint failing: %w", err)
				}
				continue
			}
			next := now.Add(jitter(Backoff[attempts-1]))
			if err := tx.Exec(`UPDATE webhook_deliveries SET attempts = ?, next_attempt_at = ?, last_attempt_at = ?, last_status = ?,
				last_error = ?, locked_until = NULL WHERE id = ?`, attempts, next, now, status, o.err, o.c.ID).Error; err != nil {
				return fmt.Errorf("reschedule delivery: %w", err)
			}
		}
		return nil
	})
}

// jitter spreads a wait by ±20% so retries of many events do not arrive
// together.
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}
