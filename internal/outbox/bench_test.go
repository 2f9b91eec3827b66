package outbox_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/outbox"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
)

// BenchmarkDeliver: events written to the outbox and delivered, signed, to
// a local receiver by one worker, on Postgres, to one endpoint and to four
// (one endpoint's events go out in order, one after another).
//
//	go test ./internal/outbox -run x -bench Deliver -benchtime 20000x
func BenchmarkDeliver(b *testing.B) {
	b.Run("1-endpoint", func(b *testing.B) { benchDeliver(b, 1) })
	b.Run("4-endpoints", func(b *testing.B) { benchDeliver(b, 4) })
}

func benchDeliver(b *testing.B, endpoints int) {
	s := storetest.Open(b, store.Postgres)
	t := &testing.T{}
	f := newFixture(t, s)
	var got atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	ctx := context.Background()
	for i := 0; i < endpoints; i++ {
		if _, err := f.eps.Create(ctx, f.tenant, outbox.EndpointInput{URL: srv.URL}); err != nil {
			b.Fatal(err)
		}
	}
	for start := 0; start < b.N; start += 1000 {
		err := s.Tx(ctx, func(tx *gorm.DB) error {
			for i := start; i < min(start+1000, b.N); i++ {
				if err := f.box.Emit(tx, f.tenant, "reward.granted", map[string]any{"n": i}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	f.worker.Batch = 500
	b.ResetTimer()
	start := time.Now()
	for got.Load() < int64(endpoints*b.N) {
		n, err := f.worker.RunOnce(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	b.StopTimer()
	if got.Load() != int64(endpoints*b.N) {
		b.Fatalf("%d of %d delivered", got.Load(), endpoints*b.N)
	}
	b.ReportMetric(float64(got.Load())/time.Since(start).Seconds(), "deliveries/s")
}
