package scheduling_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/scheduling"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// BenchmarkUpsertVisit writes visits as the scheduler does: each PUT names a
// customer and crew by external id; a quarter of the writes update a visit
// written before. Run: go test ./internal/scheduling -run x -bench UpsertVisit
func BenchmarkUpsertVisit(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(d, func(b *testing.B) {
			s := storetest.Open(b, d)
			ctx := context.Background()
			ten, _, err := tenant.NewService(s, clock.System{}).Create(ctx, tenant.NewTenant{Name: "Bench", Timezone: "America/Los_Angeles", Currency: "USD"})
			if err != nil {
				b.Fatal(err)
			}
			svc := scheduling.NewService(s, clock.System{}, "http://localhost")
			lat, lon := 45.5, -122.6
			for i := 0; i < 100; i++ {
				if _, _, err := svc.PutCustomer(ctx, ten.ID, fmt.Sprintf("c%d", i), scheduling.CustomerInput{Name: "C", Lat: &lat, Lon: &lon}); err != nil {
					b.Fatal(err)
				}
			}
			if _, _, err := svc.PutCrew(ctx, ten.ID, "north", scheduling.CrewInput{Name: "North", DepotLat: &lat, DepotLon: &lon}); err != nil {
				b.Fatal(err)
			}
			loc, _ := time.LoadLocation("America/Los_Angeles")
			crew := "north"
			var n atomic.Int64
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					id := i
					if i%4 == 0 {
						id = i / 2 // an update of an earlier visit
					}
					in := scheduling.VisitInput{CustomerID: fmt.Sprintf("c%d", i%100), CrewID: &crew,
						ServiceDate: fmt.Sprintf("2026-05-%02d", 1+i%28), PriceCents: 4500}
					if _, _, err := svc.PutVisit(ctx, ten.ID, loc, fmt.Sprintf("v%d", id), in); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
