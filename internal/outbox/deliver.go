package outbox

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
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

// InOrderAttempts is how many failed attempts a delivery holds back the
// later events of its endpoint for. After its 3rd failure (about 35 s of
// retrying) the later events go ahead and it keeps its own retry schedule,
// so one bad event cannot stop an endpoint for three days.
const InOrderAttempts = 3

// Worker delivers due events. Many workers (one per server replica) can run
// at once: each leases whole endpoints (Postgres SKIP LOCKED) and renews the
// lease while it sends, so one endpoint is served by one worker at a time,
// in order, and no attempt is made twice.
type Worker struct {
	store  *store.Store
	clock  clock.Clock
	log    *slog.Logger
	client *http.Client
	id     string // written into the endpoints this worker leases
	// Batch is how many deliveries one round sends to one endpoint; Lease
	// how long an endpoint's claim holds unless renewed (renewed every
	// Lease/6 while sending; a send starts only with half a lease left and
	// never outlasts it); Poll how long an idle worker waits.
	Batch int
	Lease time.Duration
	Poll  time.Duration
	// Parallel is how many endpoints one round sends to at once (one
	// endpoint's events go out one after another, in order).
	Parallel int
	// OnAttempt, when set, hears each recorded attempt's result:
	// "delivered", "retrying" or "failed" (for good).
	OnAttempt func(result string)
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
	id := make([]byte, 8)
	_, _ = crand.Read(id)
	return &Worker{store: s, clock: c, log: log, id: hex.EncodeToString(id),
		Batch: 200, Lease: 30 * time.Second, Poll: time.Second, Parallel: 16,
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

// RunOnce leases up to Parallel endpoints that have a delivery to send,
// sends each up to Batch of its deliveries in order, recording every result
// as it comes, and frees the endpoints. It returns how many attempts it made.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	eps, err := w.claim(ctx)
	if err != nil || len(eps) == 0 {
		return 0, err
	}
	held := &leases{until: map[int64]time.Time{}}
	for _, ep := range eps {
		held.until[ep.ID] = w.clock.Now().Add(w.Lease)
	}
	stop := make(chan struct{})
	renewed := make(chan struct{})
	go func() { w.renew(ctx, held, stop); close(renewed) }()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int
		errs  []error
	)
	for _, ep := range eps {
		wg.Add(1)
		go func(ep Endpoint) {
			defer wg.Done()
			n, err := w.serve(ctx, ep, held)
			held.drop(ep.ID)
			// Freed even when ctx was cancelled, so a restarted worker need not wait out the lease.
			if rerr := w.release(context.WithoutCancel(ctx), ep.ID); err == nil {
				err = rerr
			}
			mu.Lock()
			total += n
			if err != nil {
				errs = append(errs, err)
			}
			mu.Unlock()
		}(ep)
	}
	wg.Wait()
	close(stop)
	<-renewed
	return total, errors.Join(errs...)
}

// claimEndpoints leases endpoints with a delivery that may go now: one that
// is due and not behind an earlier pending delivery still in its first
// InOrderAttempts attempts. Least recently leased endpoints come first. An
// endpoint whose holder let its lease run out without freeing it (a crash,
// or renewals stuck behind a busy database) is taken over only half a lease
// later: a send ends by the lease's end, and that half lease is its holder's
// time to record that it was delivered, so it is not sent again.
const claimEndpoints = `UPDATE webhook_endpoints SET locked_by = ?, locked_until = ?
	WHERE id IN (SELECT ep.id FROM webhook_endpoints ep
	             WHERE (ep.locked_by IS NULL OR ep.locked_until < ?)
	               AND EXISTS (SELECT 1 FROM webhook_deliveries d
	                           WHERE d.endpoint_id = ep.id AND d.status = 'pending' AND d.next_attempt_at <= ?
	                             AND d.id <= COALESCE((SELECT MIN(h.id) FROM webhook_deliveries h
	                                                   WHERE h.endpoint_id = ep.id AND h.status = 'pending' AND h.attempts < ?), d.id))
	             ORDER BY ep.locked_until IS NOT NULL, ep.locked_until, ep.id
	             LIMIT ?%s)
	RETURNING id`

// claim leases up to Parallel endpoints with work.
func (w *Worker) claim(ctx context.Context) ([]Endpoint, error) {
	now := w.clock.Now()
	skip := ""
	if w.store.Dialect == store.Postgres {
		skip = " FOR UPDATE SKIP LOCKED"
	}
	var ids []int64
	err := w.store.Tx(ctx, func(tx *gorm.DB) error {
		ids = nil
		return tx.Raw(fmt.Sprintf(claimEndpoints, skip), w.id, now.Add(w.Lease), now.Add(-w.Lease/2), now, InOrderAttempts, w.Parallel).Scan(&ids).Error
	})
	if err != nil {
		return nil, fmt.Errorf("claim endpoints: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	var eps []Endpoint
	if err := w.store.DB.WithContext(ctx).Where("id IN ?", ids).Order("id").Find(&eps).Error; err != nil {
		return nil, fmt.Errorf("read endpoints: %w", err)
	}
	return eps, nil
}

// release frees an endpoint this worker leased (keeping the lease time, so
// endpoints take turns).
func (w *Worker) release(ctx context.Context, endpointID int64) error {
	if err := w.store.DB.WithContext(ctx).Exec(`UPDATE webhook_endpoints SET locked_by = NULL WHERE id = ? AND locked_by = ?`,
		endpointID, w.id).Error; err != nil {
		return fmt.Errorf("free endpoint %d: %w", endpointID, err)
	}
	return nil
}

// leases are the endpoints a round holds and until when, as last renewed.
type leases struct {
	mu    sync.Mutex
	until map[int64]time.Time
}

func (l *leases) ids() []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]int64, 0, len(l.until))
	for id := range l.until {
		out = append(out, id)
	}
	return out
}

func (l *leases) get(id int64) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.until[id]
}

func (l *leases) drop(id int64) {
	l.mu.Lock()
	delete(l.until, id)
	l.mu.Unlock()
}

// renew extends the round's leases every Lease/6 until stop; an endpoint
// another worker has taken over (its lease ran out) is no longer held.
func (w *Worker) renew(ctx context.Context, held *leases, stop <-chan struct{}) {
	tick := time.NewTicker(max(w.Lease/6, time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		ids := held.ids()
		if len(ids) == 0 {
			continue
		}
		until := w.clock.Now().Add(w.Lease)
		var kept []int64
		err := w.store.Tx(ctx, func(tx *gorm.DB) error {
			kept = nil
			return tx.Raw(`UPDATE webhook_endpoints SET locked_until = ? WHERE locked_by = ? AND id IN ? RETURNING id`,
				until, w.id, ids).Scan(&kept).Error
		})
		if err != nil {
			if ctx.Err() == nil {
				w.log.Warn("renew webhook endpoint leases", "error", err)
			}
			continue // the leases run out unless a later renewal succeeds
		}
		isKept := map[int64]bool{}
		for _, id := range kept {
			isKept[id] = true
		}
		held.mu.Lock()
		for _, id := range ids {
			if _, ok := held.until[id]; !ok {
				continue
			}
			if isKept[id] {
				held.until[id] = until
			} else {
				held.until[id] = time.Time{}
			}
		}
		held.mu.Unlock()
	}
}

// queued is a pending delivery of the endpoint being served.
type queued struct {
	ID            int64
	EndpointID    int64
	EventID       int64
	Attempts      int
	NextAttemptAt time.Time
}

// serve sends one endpoint's pending deliveries in order, up to Batch: a
// delivery waiting for a retry in its first InOrderAttempts attempts holds
// back the later ones; one past them is sent when due, without holding
// anything back. It stops when the lease is no longer safely held.
func (w *Worker) serve(ctx context.Context, ep Endpoint, held *leases) (int, error) {
	sent := 0
	for sent < w.Batch && ctx.Err() == nil {
		limit := w.Batch - sent
		queue, events, err := w.queue(ctx, ep.ID, limit)
		if err != nil {
			return sent, err
		}
		progressed := false
		for _, d := range queue {
			now := w.clock.Now()
			if d.NextAttemptAt.After(now) {
				if d.Attempts < InOrderAttempts {
					return sent, nil // the later events wait for this one
				}
				continue
			}
			// Send only with at least half a lease left, and never past it:
			// no other worker can take the endpoint while this request runs.
			left := held.get(ep.ID).Sub(now)
			if left < w.Lease/2 {
				return sent, nil
			}
			o := w.attempt(ctx, d, ep, events[d.EventID], min(left, w.client.Timeout))
			if o.released {
				return sent, nil
			}
			sent++
			progressed = true
			// Recorded even when ctx was cancelled: what was sent is known.
			if err := w.record(context.WithoutCancel(ctx), o); err != nil {
				return sent, err
			}
			if o.err != "" && d.Attempts+1 < InOrderAttempts {
				return sent, nil
			}
		}
		if !progressed || len(queue) < limit {
			return sent, nil
		}
	}
	return sent, nil
}

// queue reads the next pending deliveries of an endpoint in order (those
// past InOrderAttempts that are not due yet are left out: they hold nothing
// back) and their events.
func (w *Worker) queue(ctx context.Context, endpointID int64, limit int) ([]queued, map[int64]Event, error) {
	var queue []queued
	if err := w.store.DB.WithContext(ctx).Raw(`SELECT id, endpoint_id, event_id, attempts, next_attempt_at FROM webhook_deliveries
		WHERE endpoint_id = ? AND status = 'pending' AND (next_attempt_at <= ? OR attempts < ?) ORDER BY id LIMIT ?`,
		endpointID, w.clock.Now(), InOrderAttempts, limit).Scan(&queue).Error; err != nil {
		return nil, nil, fmt.Errorf("read deliveries: %w", err)
	}
	events := map[int64]Event{}
	if len(queue) == 0 {
		return queue, events, nil
	}
	ids := make([]int64, len(queue))
	for i, d := range queue {
		ids[i] = d.EventID
	}
	var evs []Event
	if err := w.store.DB.WithContext(ctx).Where("id IN ?", ids).Find(&evs).Error; err != nil {
		return nil, nil, fmt.Errorf("read events: %w", err)
	}
	for _, e := range evs {
		events[e.ID] = e
	}
	return queue, events, nil
}

// outcome of one attempt.
type outcome struct {
	d        queued
	status   int
	err      string
	released bool // the worker stopped mid-request: not an attempt
}

// attempt sends one event to one endpoint, signed, waiting at most limit.
func (w *Worker) attempt(ctx context.Context, d queued, ep Endpoint, ev Event, limit time.Duration) outcome {
	if ev.ID == 0 {
		return outcome{d: d, err: "event gone"}
	}
	body := ev.message()
	now := w.clock.Now()
	sig, err := webhook.Sign(ep.Secret, ev.msgID(), now, body)
	if err != nil {
		return outcome{d: d, err: err.Error()}
	}
	rctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		return outcome{d: d, err: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "routeloop-webhooks/1")
	req.Header.Set(webhook.HeaderID, ev.msgID())
	req.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(webhook.HeaderSignature, sig)
	resp, err := w.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return outcome{d: d, released: true}
		}
		return outcome{d: d, err: err.Error()}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return outcome{d: d, status: resp.StatusCode, err: fmt.Sprintf("answered %d", resp.StatusCode)}
	}
	return outcome{d: d, status: resp.StatusCode}
}

// record writes one attempt's result: delivered (reviving a failing
// endpoint), or rescheduled with backoff, or failed for good after the last.
func (w *Worker) record(ctx context.Context, o outcome) error {
	err := w.recordTx(ctx, o)
	if err == nil && w.OnAttempt != nil {
		switch {
		case o.err == "":
			w.OnAttempt("delivered")
		case o.d.Attempts+1 > len(Backoff):
			w.OnAttempt("failed")
		default:
			w.OnAttempt("retrying")
		}
	}
	return err
}

func (w *Worker) recordTx(ctx context.Context, o outcome) error {
	now := w.clock.Now()
	return w.store.Tx(ctx, func(tx *gorm.DB) error {
		if o.err == "" {
			if err := tx.Exec(`UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1, delivered_at = ?,
				last_attempt_at = ?, last_status = ?, last_error = '', locked_until = NULL WHERE id = ? AND status = 'pending'`,
				now, now, o.status, o.d.ID).Error; err != nil {
				return fmt.Errorf("record delivery: %w", err)
			}
			if err := tx.Exec(`UPDATE webhook_endpoints SET status = 'active', failing_since = NULL WHERE id = ? AND status = 'failing'`,
				o.d.EndpointID).Error; err != nil {
				return fmt.Errorf("revive endpoint: %w", err)
			}
			return nil
		}
		attempts := o.d.Attempts + 1
		var status *int
		if o.status != 0 {
			status = &o.status
		}
		if attempts > len(Backoff) {
			if err := tx.Exec(`UPDATE webhook_deliveries SET status = 'failed', attempts = ?, last_attempt_at = ?, last_status = ?,
				last_error = ?, locked_until = NULL WHERE id = ? AND status = 'pending'`, attempts, now, status, o.err, o.d.ID).Error; err != nil {
				return fmt.Errorf("record failure: %w", err)
			}
			if err := tx.Exec(`UPDATE webhook_endpoints SET status = 'failing', failing_since = ? WHERE id = ? AND status = 'active'`,
				now, o.d.EndpointID).Error; err != nil {
				return fmt.Errorf("mark endpoint failing: %w", err)
			}
			return nil
		}
		next := now.Add(jitter(Backoff[attempts-1]))
		if err := tx.Exec(`UPDATE webhook_deliveries SET attempts = ?, next_attempt_at = ?, last_attempt_at = ?, last_status = ?,
			last_error = ?, locked_until = NULL WHERE id = ? AND status = 'pending'`, attempts, next, now, status, o.err, o.d.ID).Error; err != nil {
			return fmt.Errorf("reschedule delivery: %w", err)
		}
		return nil
	})
}

// jitter spreads a wait by ±20% so retries of many events do not arrive
// together.
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}
