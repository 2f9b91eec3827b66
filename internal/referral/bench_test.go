package referral_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/app"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/config"
	"github.com/routeloop/routeloop/internal/referral"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// BenchmarkCreateReferral1M records referrals, with every fraud check
// (self-referral by e-mail, phone, street and distance; already a customer;
// bursts; service area), for a tenant with 1,000,000 customers on Postgres.
// Half the friends are strangers, half are existing customers. Reports p50
// and p99.
//
//	go test ./internal/referral -run x -bench CreateReferral1M -benchtime 2000x
func BenchmarkCreateReferral1M(b *testing.B) {
	s := storetest.Open(b, store.Postgres)
	ctx := context.Background()
	a := app.Wire(config.Defaults(), s, clock.System{}, slog.New(slog.DiscardHandler))
	ten, _, _ := a.Tenants.Create(ctx, tenant.NewTenant{Name: "Big", Timezone: "America/Los_Angeles", Currency: "USD"})
	rng := rand.New(rand.NewPCG(3, 3))
	const n = 1_000_000
	storetest.BulkCustomers(b, s, ten.ID, n, rng)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		referee := referral.RefereeInput{Name: fmt.Sprintf("Friend %d", i), Phone: fmt.Sprintf("503 555 %04d", i%10000),
			Email: fmt.Sprintf("friend%d@example.net", i)}
		if i%2 == 1 { // an existing customer named as the friend
			referee.Email = fmt.Sprintf("customer%d@example.com", rng.IntN(n))
		}
		start := time.Now()
		_, _, err := a.Referrals.Create(ctx, ten.ID, "bench", referral.Input{Channel: referral.ChannelCode,
			ReferrerID: fmt.Sprintf("c%d", rng.IntN(n)), Referee: referee})
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
