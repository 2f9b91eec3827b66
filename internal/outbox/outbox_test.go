package outbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/apptest"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/outbox"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
	"github.com/routeloop/routeloop/internal/webhook"
)

// receiver is a local endpoint that checks every signature and counts
// deliveries per webhook-id.
type receiver struct {
	t      *testing.T
	mu     sync.Mutex
	secret string
	got    map[string]int
	order  []string // webhook-ids in the order they were accepted
	types  []string
	status func(id string) int
	now    func() time.Time
	srv    *httptest.Server
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t, got: map[string]int{}, status: func(string) int { return 200 }, now: time.Now}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		id := req.Header.Get(webhook.HeaderID)
		r.mu.Lock()
		secret := r.secret
		r.mu.Unlock()
		if err := webhook.Verify([]string{secret}, id, req.Header.Get(webhook.HeaderTimestamp), req.Header.Get(webhook.HeaderSignature), body, r.now()); err != nil {
			t.Errorf("delivery %s does not verify: %v", id, err)
		}
		var msg struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(body, &msg); err != nil || msg.Type == "" || len(msg.Data) == 0 {
			t.Errorf("payload %s", body)
		}
		code := r.status(id)
		r.mu.Lock()
		if code < 300 {
			r.got[id]++
			r.order = append(r.order, id)
			r.types = append(r.types, msg.Type)
		}
		r.mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) count(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got[id]
}

// received is how many distinct events have arrived.
func (r *receiver) received() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

// settle waits (up to 5 s) until id has arrived: a worker whose request was
// cancelled returns before the receiver has finished answering it.
func (r *receiver) settle(id string) {
	for deadline := time.Now().Add(5 * time.Second); r.count(id) == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
}

type fixture struct {
	s      *store.Store
	clock  *clock.Fixed
	box    *outbox.Outbox
	eps    *outbox.Endpoints
	worker *outbox.Worker
	tenant string
}

func newFixture(t *testing.T, s *store.Store) *fixture {
	c := clock.NewFixed(time.Now())
	ten := apptest.Tenant(t, tenant.NewService(s, c), tenant.NewTenant{Name: "G", Timezone: "UTC", Currency: "USD"})
	box := outbox.New(s, c)
	w := outbox.NewWorker(s, c, slog.New(slog.DiscardHandler), true)
	w.Poll = 10 * time.Millisecond
	return &fixture{s: s, clock: c, box: box, eps: outbox.NewEndpoints(s, box, true), worker: w, tenant: ten.ID}
}

func (f *fixture) endpoint(t *testing.T, r *receiver, types ...string) outbox.Endpoint {
	ep, err := f.eps.Create(context.Background(), f.tenant, outbox.EndpointInput{URL: r.srv.URL, EventTypes: types})
	if err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	r.secret = ep.Secret
	r.mu.Unlock()
	return ep
}

func (f *fixture) emit(t *testing.T, n int, kind string) {
	err := f.s.Tx(context.Background(), func(tx *gorm.DB) error {
		for i := 0; i < n; i++ {
			if err := f.box.Emit(tx, f.tenant, kind, map[string]any{"n": i}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestARolledBackChangeSendsNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		r := newReceiver(t)
		f.endpoint(t, r, "referral.converted")
		boom := errors.New("boom")
		err := s.Tx(context.Background(), func(tx *gorm.DB) error {
			if err := f.box.Emit(tx, f.tenant, "referral.converted", map[string]any{"referral_id": 1}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if storetest.Count(t, s.DB, "outbox_events")+storetest.Count(t, s.DB, "webhook_deliveries") != 0 {
			t.Fatal("a rolled-back change left an event")
		}
		f.emit(t, 1, "referral.converted")
		f.emit(t, 1, "reward.granted") // not subscribed
		if n := storetest.Count(t, s.DB, "webhook_deliveries"); n != 1 {
			t.Fatalf("%d deliveries, want 1", n)
		}
		if n, err := f.worker.RunOnce(context.Background()); n != 1 || err != nil {
			t.Fatalf("run: %d %v", n, err)
		}
		if len(r.got) != 1 || len(r.types) != 1 || r.types[0] != "referral.converted" {
			t.Fatalf("received %v %v", r.got, r.types)
		}
	})
}

// Stop the worker in the middle of a batch and start it again: every event
// arrives, and none that arrived before the stop is sent again.
func TestKilledWorkerLosesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		r := newReceiver(t)
		f.endpoint(t, r)
		f.emit(t, 30, "reward.granted")
		ctx, cancel := context.WithCancel(context.Background())
		stuck := make(chan struct{})
		var once sync.Once
		r.status = func(id string) int {
			if id == "evt_10" {
				once.Do(func() { cancel(); close(stuck) })
				time.Sleep(50 * time.Millisecond)
			}
			return 200
		}
		f.worker.Parallel = 1
		f.worker.RunOnce(ctx)
		<-stuck
		before := map[string]int{}
		r.mu.Lock()
		for k, v := range r.got {
			before[k] = v
		}
		r.mu.Unlock()
		if len(before) >= 30 {
			t.Fatalf("the stop came too late to test anything: %d delivered", len(before))
		}
		r.status = func(string) int { return 200 }
		if _, err := f.worker.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 30; i++ {
			id := "evt_" + itoa(i)
			if r.count(id) < 1 {
				t.Errorf("%s never arrived", id)
			}
			if before[id] == 1 && r.count(id) != 1 {
				t.Errorf("%s arrived before the stop and again after", id)
			}
		}
		if n := storetest.Count(t, s.DB.Where("status = 'delivered'"), "webhook_deliveries"); n != 30 {
			t.Fatalf("%d delivered", n)
		}
	})
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// A receiver answering 500 gets retries with growing gaps, then the
// delivery fails and the endpoint is marked failing; redelivery starts over.
func TestRetriesBackOffThenFail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		r := newReceiver(t)
		r.status = func(string) int { return 500 }
		r.now = f.clock.Now
		ep := f.endpoint(t, r)
		f.emit(t, 1, "invoice.discounted")
		var gaps []time.Duration
		for attempt := 1; attempt <= len(outbox.Backoff)+1; attempt++ {
			n, err := f.worker.RunOnce(context.Background())
			if err != nil || n != 1 {
				t.Fatalf("attempt %d: %d %v", attempt, n, err)
			}
			var next *time.Time
			s.DB.Raw(`SELECT next_attempt_at FROM webhook_deliveries WHERE status = 'pending'`).Scan(&next)
			if next == nil {
				break
			}
			gaps = append(gaps, next.Sub(f.clock.Now()))
			if n, _ := f.worker.RunOnce(context.Background()); n != 0 {
				t.Fatal("retried before its time")
			}
			f.clock.Set(next.Add(time.Second))
		}
		if len(gaps) != len(outbox.Backoff) {
			t.Fatalf("%d retries, want %d", len(gaps), len(outbox.Backoff))
		}
		var total time.Duration
		for i, g := range gaps {
			total += g
			want := outbox.Backoff[i]
			if g < want*8/10-time.Second || g > want*12/10+time.Second || (i > 0 && want < outbox.Backoff[i-1]) {
				t.Errorf("gap %d is %v; the schedule says %v (±20%%), never shorter than the one before", i, g, want)
			}
		}
		if gaps[len(gaps)-1] < 10*gaps[0] || total < 48*time.Hour || total > 4*24*time.Hour {
			t.Fatalf("gaps %v (total %v) do not grow to about three days", gaps, total)
		}
		ds, _, _ := f.eps.Deliveries(context.Background(), f.tenant, "failed", store.Page{Limit: 10})
		if len(ds) != 1 || ds[0].Attempts != len(outbox.Backoff)+1 || ds[0].LastStatus == nil || *ds[0].LastStatus != 500 {
			t.Fatalf("failed deliveries: %+v", ds)
		}
		eps, _ := f.eps.List(context.Background(), f.tenant)
		if eps[0].Status != outbox.EndpointFailing || eps[0].Secret != "" {
			t.Fatalf("endpoint %+v", eps[0])
		}
		// The receiver is fixed; redelivery succeeds and revives the endpoint.
		r.status = func(string) int { return 204 }
		if _, err := f.eps.Redeliver(context.Background(), f.tenant, ds[0].ID); err != nil {
			t.Fatal(err)
		}
		f.worker.RunOnce(context.Background())
		if r.count(ds[0].WebhookID) != 1 {
			t.Fatal("redelivery did not arrive")
		}
		eps, _ = f.eps.List(context.Background(), f.tenant)
		if eps[0].Status != outbox.EndpointActive || eps[0].ID != ep.ID {
			t.Fatalf("endpoint after success: %+v", eps[0])
		}
		if _, err := f.eps.Redeliver(context.Background(), "00000000-0000-4000-8000-000000000000", ds[0].ID); !apperror.HasCode(err, apperror.CodeNotFound) {
			t.Fatalf("another tenant redelivered: %v", err)
		}
	})
}

// Two workers (two replicas) at once never make the same attempt twice.
func TestTwoWorkersNeverSendTwice(t *testing.T) {
	s := storetest.Open(t, store.Postgres)
	f := newFixture(t, s)
	r := newReceiver(t)
	f.endpoint(t, r)
	f.emit(t, 300, "reward.granted")
	other := outbox.NewWorker(s, f.clock, slog.New(slog.DiscardHandler), true)
	f.worker.Batch, other.Batch = 20, 20
	var wg sync.WaitGroup
	for _, w := range []*outbox.Worker{f.worker, other} {
		wg.Add(1)
		go func(w *outbox.Worker) {
			defer wg.Done()
			for {
				n, err := w.RunOnce(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				if n == 0 {
					return
				}
			}
		}(w)
	}
	wg.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.got) != 300 {
		t.Fatalf("%d events arrived", len(r.got))
	}
	for id, n := range r.got {
		if n != 1 {
			t.Fatalf("%s arrived %d times", id, n)
		}
	}
}

func TestEndpointsRefuseWhatTheyShouldNotReach(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	f := newFixture(t, s)
	strict := outbox.NewEndpoints(s, f.box, false)
	ctx := context.Background()
	for _, u := range []string{"ftp://example.com/hook", "http://127.0.0.1:8080/hook", "http://localhost/x", "http://10.0.0.5/x",
		"http://[::1]/x", "http://169.254.169.254/latest/meta-data", "https://user:pw@example.com/x", "not a url", "http://192.168.1.10/"} {
		if _, err := strict.Create(ctx, f.tenant, outbox.EndpointInput{URL: u}); !apperror.HasCode(err, apperror.CodeValidation) {
			t.Errorf("%s accepted: %v", u, err)
		}
	}
	if _, err := strict.Create(ctx, f.tenant, outbox.EndpointInput{URL: "https://hooks.example.com/x", EventTypes: []string{"visit.teleported"}}); !apperror.HasCode(err, apperror.CodeValidation) {
		t.Errorf("unknown event type accepted: %v", err)
	}
	if n := storetest.Count(t, s.DB, "webhook_endpoints"); n != 0 {
		t.Fatalf("%d endpoints stored", n)
	}
	// The worker's dialer refuses private addresses too (DNS may change).
	r := newReceiver(t)
	f.endpoint(t, r) // registered while private addresses were allowed
	guarded := outbox.NewWorker(s, f.clock, slog.New(slog.DiscardHandler), false)
	f.emit(t, 1, "reward.granted")
	guarded.RunOnce(ctx)
	var lastErr string
	s.DB.Raw(`SELECT last_error FROM webhook_deliveries`).Scan(&lastErr)
	if r.count("evt_1") != 0 || lastErr == "" {
		t.Fatalf("delivered to a loopback address: %q", lastErr)
	}
}

// An integrator subscribing its endpoint lists each event type once: the
// same type given twice is kept once, ten thousand copies are refused, and
// so is a type routeloop does not send. A refused endpoint is not stored.
func TestEndpointEventTypesAreDedupedAndBounded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		many := make([]string, 10_000)
		for i := range many {
			many[i] = "reward.granted"
		}
		for name, types := range map[string][]string{
			"event_types":    many,
			"event_types[1]": {"reward.granted", "visit.teleported"},
		} {
			_, err := f.eps.Create(ctx, f.tenant, outbox.EndpointInput{URL: "http://127.0.0.1:9/hook", EventTypes: types})
			var ae *apperror.Error
			if !errors.As(err, &ae) || ae.Code != apperror.CodeValidation || ae.Fields[name] == "" {
				t.Fatalf("%d event types accepted or refused without naming %s: %v", len(types), name, err)
			}
		}
		if n := storetest.Count(t, s.DB, "webhook_endpoints"); n != 0 {
			t.Fatalf("%d endpoints stored after refusals", n)
		}
		ep, err := f.eps.Create(ctx, f.tenant, outbox.EndpointInput{URL: "http://127.0.0.1:9/hook",
			EventTypes: []string{"visit.booked", "reward.granted", "visit.booked", "reward.granted"}})
		if err != nil {
			t.Fatal(err)
		}
		eps, err := f.eps.List(ctx, f.tenant)
		if err != nil || len(eps) != 1 || strings.Join(eps[0].EventTypes, ",") != "visit.booked,reward.granted" ||
			strings.Join(ep.EventTypes, ",") != "visit.booked,reward.granted" {
			t.Fatalf("stored %+v (answered %v): %v", eps, ep.EventTypes, err)
		}
	})
}

// TestManyEventsAtOnceAreEachQueuedOnceInOrder: a day's reconciliation
// announces thousands of events in one call; each is recorded once, in the
// order given, with one delivery to each endpoint subscribed to the kind and
// none to the others.
func TestManyEventsAtOnceAreEachQueuedOnceInOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		wants, other := newReceiver(t), newReceiver(t)
		ep := f.endpoint(t, wants, "invoice.discounted")
		f.endpoint(t, other, "referral.converted")
		const n = 2500 // more than one chunk
		payloads := make([]any, n)
		for i := range payloads {
			payloads[i] = map[string]any{"n": i}
		}
		if err := s.Tx(context.Background(), func(tx *gorm.DB) error {
			return f.box.EmitMany(tx, f.tenant, "invoice.discounted", payloads)
		}); err != nil {
			t.Fatal(err)
		}
		var got []string
		s.DB.Raw(`SELECT payload FROM outbox_events WHERE tenant_id = ? ORDER BY id`, f.tenant).Scan(&got)
		if len(got) != n {
			t.Fatalf("%d events, want %d", len(got), n)
		}
		for i, p := range got {
			if p != fmt.Sprintf(`{"n":%d}`, i) {
				t.Fatalf("event %d is %s", i, p)
			}
		}
		var deliveries []struct {
			EndpointID     int64
			Events         int
			DistinctEvents int
		}
		s.DB.Raw(`SELECT endpoint_id, COUNT(*) AS events, COUNT(DISTINCT event_id) AS distinct_events FROM webhook_deliveries
			WHERE tenant_id = ? GROUP BY endpoint_id`, f.tenant).Scan(&deliveries)
		if len(deliveries) != 1 || deliveries[0].EndpointID != ep.ID || deliveries[0].Events != n || deliveries[0].DistinctEvents != n {
			t.Fatalf("deliveries %+v, want %d to endpoint %d alone", deliveries, n, ep.ID)
		}
	})
}

// Each endpoint that wants the kind gets its own delivery of every event,
// in event order (an endpoint subscribed to nothing in particular wants
// all); a disabled endpoint, and one subscribed to other kinds, get none.
func TestEventsAreQueuedToEveryEndpointThatWantsThem(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		all := f.endpoint(t, newReceiver(t))
		named := f.endpoint(t, newReceiver(t), "visit.booked", "invoice.discounted")
		f.endpoint(t, newReceiver(t), "referral.converted")
		off := f.endpoint(t, newReceiver(t))
		if err := s.DB.Exec(`UPDATE webhook_endpoints SET status = 'disabled' WHERE id = ?`, off.ID).Error; err != nil {
			t.Fatal(err)
		}
		if err := s.Tx(context.Background(), func(tx *gorm.DB) error {
			return f.box.EmitMany(tx, f.tenant, "invoice.discounted", []any{map[string]int{"n": 0}, map[string]int{"n": 1}, map[string]int{"n": 2}})
		}); err != nil {
			t.Fatal(err)
		}
		var events []int64
		s.DB.Raw(`SELECT id FROM outbox_events WHERE tenant_id = ? ORDER BY id`, f.tenant).Scan(&events)
		var got []struct{ EndpointID, EventID int64 }
		s.DB.Raw(`SELECT endpoint_id, event_id FROM webhook_deliveries WHERE tenant_id = ? AND status = 'pending' ORDER BY id`, f.tenant).Scan(&got)
		want := []struct{ EndpointID, EventID int64 }{}
		for _, ep := range []int64{all.ID, named.ID} {
			for _, ev := range events {
				want = append(want, struct{ EndpointID, EventID int64 }{ep, ev})
			}
		}
		if len(events) != 3 || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("deliveries (endpoint, event) in order %v, want %v", got, want)
		}
	})
}
