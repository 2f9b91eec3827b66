package webhook_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/webhook"
)

// BenchmarkInboundWebhook measures verified and applied visit.upserted
// webhooks per second on Postgres, wired as in production: signature check,
// inbox claim, PutVisit with its listeners, result recorded. A thousand
// visits are created, then updated over and over.
//
//	go test -run x -bench InboundWebhook -benchtime 10s ./internal/webhook/
func BenchmarkInboundWebhook(b *testing.B) {
	s := storetest.Open(b, store.Postgres)
	f := newFixture(b, s)
	f.seed()
	ctx := context.Background()
	now := f.clock.Now()
	ts := strconv.FormatInt(now.Unix(), 10)
	var n atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	began := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			id := "bench-" + strconv.FormatInt(i, 10)
			body := event("visit.upserted", visitData("v"+strconv.FormatInt(i%1000, 10), 4000+int(i%1000)))
			sig, err := webhook.Sign(f.secret, id, now, body)
			if err != nil {
				b.Error(err)
				return
			}
			res, err := f.app.Webhooks.Receive(ctx, webhook.Delivery{TenantID: f.greenway, ID: id, Timestamp: ts, Signature: sig, Body: body}, now)
			if err != nil || res.Status != 200 {
				b.Errorf("delivery %s: %v", id, err)
				return
			}
		}
	})
	elapsed := time.Since(began)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "webhooks/s")
}
