package outbox_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
)

// The worker tells its listener what each recorded attempt came to: a
// scheduler down for the first try, up for the second.
func TestEachRecordedAttemptIsHeard(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		r := newReceiver(t)
		var mu sync.Mutex
		down := true
		r.status = func(string) int {
			mu.Lock()
			defer mu.Unlock()
			if down {
				return 503
			}
			return 200
		}
		r.now = f.clock.Now
		f.endpoint(t, r)
		var heard []string
		f.worker.OnAttempt = func(result string) { heard = append(heard, result) }
		f.emit(t, 1, "invoice.discounted")
		if n, err := f.worker.RunOnce(context.Background()); n != 1 || err != nil {
			t.Fatalf("first round: %d %v", n, err)
		}
		mu.Lock()
		down = false
		mu.Unlock()
		f.clock.Advance(24 * time.Hour)
		if n, err := f.worker.RunOnce(context.Background()); n != 1 || err != nil {
			t.Fatalf("second round: %d %v", n, err)
		}
		if got := strings.Join(heard, ","); got != "retrying,delivered" {
			t.Fatalf("heard %s", got)
		}
	})
}
