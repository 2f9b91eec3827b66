package neighbor_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/apptest"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
)

// BenchmarkNearbyDatabase1M answers "who lives within 500 m of this
// customer" through the database path (cell index, exact distance) for a
// tenant with 1,000,000 customers. Reports p50 and p99 per query.
//
//	go test ./internal/neighbor -run x -bench NearbyDatabase1M -benchtime 2000x
func BenchmarkNearbyDatabase1M(b *testing.B) {
	s := storetest.Open(b, store.Postgres)
	ctx := context.Background()
	a, ten := apptest.New(b, s, clock.System{}, "Big")
	rng := rand.New(rand.NewPCG(7, 7))
	const n = 1_000_000
	storetest.BulkCustomers(b, s, ten.ID, n, rng)
	lat := make([]time.Duration, 0, b.N)
	found := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		ns, err := a.Neighbors.Nearby(ctx, ten.ID, fmt.Sprintf("c%d", rng.IntN(n)), 500, 50)
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		found += len(ns)
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(found)/float64(b.N), "found/op")
}
