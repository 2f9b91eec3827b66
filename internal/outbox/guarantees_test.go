package outbox_test

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/outbox"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
)

// eventNumber is n of a webhook-id evt_<n>.
func eventNumber(t *testing.T, id string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(id, "evt_"))
	if err != nil {
		t.Fatalf("webhook-id %q", id)
	}
	return n
}

// tally counts the extra copies a receiver got and its order inversions
// (an event arriving right after a later one).
func (r *receiver) tally(t *testing.T) (extra, inversions int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.got {
		extra += n - 1
	}
	for i := 1; i < len(r.order); i++ {
		if eventNumber(t, r.order[i]) < eventNumber(t, r.order[i-1]) {
			inversions++
		}
	}
	return extra, inversions
}

// Two replicas share a scheduler whose endpoints answer slowly, so sending
// one endpoint's events takes longer than a lease: every event arrives
// once, in order, at each endpoint.
func TestTwoReplicasAndASlowSchedulerSendEachEventOnceInOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		const events = 150
		var rs []*receiver
		for range 2 {
			r := newReceiver(t)
			r.status = func(string) int { time.Sleep(5 * time.Millisecond); return 200 }
			f.endpoint(t, r)
			rs = append(rs, r)
		}
		f.emit(t, events, "reward.granted")
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for range 2 {
			w := outbox.NewWorker(s, clock.System{}, slog.New(slog.DiscardHandler), true)
			w.Lease, w.Poll = 300*time.Millisecond, 10*time.Millisecond // 150 × 5 ms is longer than a lease
			wg.Add(1)
			go func() { defer wg.Done(); w.Run(ctx) }()
		}
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			done := true
			for _, r := range rs {
				r.mu.Lock()
				done = done && len(r.got) == events
				r.mu.Unlock()
			}
			if done {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(400 * time.Millisecond) // room for a late repeat
		cancel()
		wg.Wait()
		for i, r := range rs {
			extra, inversions := r.tally(t)
			t.Logf("endpoint %d: %d of %d events, %d extra copies, %d inversions", i+1, len(r.got), events, extra, inversions)
			if len(r.got) != events || extra != 0 || inversions != 0 {
				t.Errorf("endpoint %d got %d of %d events, %d sent twice, %d out of order", i+1, len(r.got), events, extra, inversions)
			}
		}
	})
}

// sameDatabaseTwice opens one fresh, migrated database through two
// handles, as two routeloop processes would.
func sameDatabaseTwice(t *testing.T, dialect string) (*store.Store, *store.Store) {
	var opts store.Options
	if dialect == store.SQLite {
		opts.DataDir = t.TempDir()
	} else {
		opts.DatabaseURL = storetest.FreshPostgresURL(t)
	}
	var out []*store.Store
	for range 2 {
		s, err := store.Open(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		if len(out) == 0 {
			if _, err := s.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, s)
	}
	return out[0], out[1]
}

// A replica dies (its database connections gone, kill -9) while evt_10 is
// on the wire: a fresh worker waits out the lease and the half lease its
// holder had to record what it sent, then sends the rest.
// Only the delivery in flight is sent again; nothing is lost or reordered.
func TestACrashedWorkerRepeatsOnlyWhatWasInFlight(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			s, doomed := sameDatabaseTwice(t, dialect)
			f := newFixture(t, s)
			r := newReceiver(t)
			r.now = f.clock.Now
			f.endpoint(t, r)
			const events = 40
			f.emit(t, events, "visit.booked")
			ctx, cancel := context.WithCancel(context.Background())
			var once sync.Once
			r.status = func(id string) int {
				if id == "evt_10" {
					once.Do(func() { _ = doomed.Close(); cancel() })
				}
				return 200
			}
			crashed := outbox.NewWorker(doomed, f.clock, slog.New(slog.DiscardHandler), true)
			crashed.RunOnce(ctx)
			r.settle("evt_10")
			if r.count("evt_10") != 1 || r.received() != 10 {
				t.Fatalf("the crash came at the wrong time: %d events arrived", r.received())
			}
			r.status = func(string) int { return 200 }
			if n, err := f.worker.RunOnce(context.Background()); n != 0 || err != nil {
				t.Fatalf("sent %d (%v) while the dead worker's lease still held", n, err)
			}
			f.clock.Advance(f.worker.Lease + time.Second)
			if n, err := f.worker.RunOnce(context.Background()); n != 0 || err != nil {
				t.Fatalf("sent %d (%v) just after the dead worker's lease ran out, before its time to record what it sent", n, err)
			}
			f.clock.Advance(f.worker.Lease / 2)
			for {
				n, err := f.worker.RunOnce(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					break
				}
			}
			extra, inversions := r.tally(t)
			t.Logf("after a crash: %d of %d events, %d extra copies, %d inversions, stalled for the lease (%v)",
				len(r.got), events, extra, inversions, f.worker.Lease)
			if len(r.got) != events {
				t.Errorf("%d of %d events arrived", len(r.got), events)
			}
			for id, n := range r.got {
				if n > 1 && id != "evt_10" {
					t.Errorf("%s arrived %d times; only evt_10 was in flight", id, n)
				}
			}
			if extra > 1 || inversions != 0 {
				t.Errorf("%d extra copies (at most the one in flight), %d out of order", extra, inversions)
			}
		})
	}
}
