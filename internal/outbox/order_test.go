package outbox_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/outbox"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
)

// The scheduler stumbles on some events: the later ones wait behind an
// event being retried until its third failed attempt, then go ahead; the
// stuck event keeps its own schedule and arrives when the scheduler
// recovers.
func TestLaterEventsWaitBehindARetryUntilItsThirdFailure(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		r := newReceiver(t)
		r.now = f.clock.Now
		f.endpoint(t, r)
		var mu sync.Mutex
		failures := map[string]int{} // webhook-id → attempts still to refuse
		r.status = func(id string) int {
			mu.Lock()
			defer mu.Unlock()
			if failures[id] > 0 {
				failures[id]--
				return 503
			}
			return 200
		}
		refuse := func(id string, n int) { mu.Lock(); failures[id] = n; mu.Unlock() }
		run := func(want int, why string) {
			t.Helper()
			n, err := f.worker.RunOnce(context.Background())
			if err != nil || n != want {
				t.Fatalf("%s: %d attempts (%v), want %d", why, n, err, want)
			}
		}
		retryOf := func(event int) {
			t.Helper()
			var next time.Time
			s.DB.Raw(`SELECT next_attempt_at FROM webhook_deliveries WHERE event_id = ?`, event).Scan(&next)
			f.clock.Set(next.Add(time.Second))
		}

		// evt_1 fails twice, then is taken: evt_2..5 wait for it.
		refuse("evt_1", 2)
		f.emit(t, 5, "visit.booked")
		run(1, "first attempt of evt_1")
		run(0, "evt_2..5 are due but wait behind evt_1")
		retryOf(1)
		run(1, "second attempt of evt_1")
		run(0, "still waiting")
		retryOf(1)
		run(5, "evt_1 taken, then the rest")

		// evt_6 keeps failing: after its third failure evt_7..10 go ahead.
		refuse("evt_6", outbox.InOrderAttempts+1)
		f.emit(t, 5, "visit.booked")
		for attempt := 1; attempt < outbox.InOrderAttempts; attempt++ {
			run(1, "evt_6 fails and holds the rest back")
			retryOf(6)
		}
		run(5, "third failure of evt_6, then evt_7..10 go ahead")
		f.emit(t, 1, "visit.booked")
		run(1, "evt_11 does not wait for evt_6 either")
		retryOf(6)
		run(1, "evt_6's fourth attempt, on its own schedule")
		retryOf(6)
		run(1, "evt_6 taken")

		want := strings.Fields("evt_1 evt_2 evt_3 evt_4 evt_5 evt_7 evt_8 evt_9 evt_10 evt_11 evt_6")
		r.mu.Lock()
		defer r.mu.Unlock()
		if !slices.Equal(r.order, want) {
			t.Fatalf("arrived in the order %v, want %v", r.order, want)
		}
	})
}
