package mirror_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/app"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/config"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/neighbor"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// BenchmarkUpsertVisit writes visits as the scheduler does, through the
// wired service (its listeners — neighbour links, conversions — included):
// each PUT names a customer and crew by external id; a quarter of the
// writes update a visit written before; a tenth of the customers have a
// linked neighbour. Run: go test ./internal/mirror -run x -bench UpsertVisit
func BenchmarkUpsertVisit(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(d, func(b *testing.B) {
			s := storetest.Open(b, d)
			ctx := context.Background()
			a := app.Wire(config.Defaults(), s, clock.System{}, slog.New(slog.DiscardHandler))
			ten, _, err := a.Tenants.Create(ctx, tenant.NewTenant{Name: "Bench", Timezone: "America/Los_Angeles", Currency: "USD"})
			if err != nil {
				b.Fatal(err)
			}
			svc := a.Mirror
			for i := 0; i < 100; i++ {
				lat, lon := 45.5+float64(i/2)*0.01, -122.6+float64(i%2)*0.001
				if _, _, err := svc.PutCustomer(ctx, ten.ID, fmt.Sprintf("c%d", i), mirror.CustomerInput{Name: "C", Lat: &lat, Lon: &lon, ConsentSameDay: true}); err != nil {
					b.Fatal(err)
				}
			}
			for i := 0; i < 100; i += 20 {
				if _, _, err := a.Neighbors.CreateLink(ctx, ten.ID, neighbor.LinkInput{CustomerA: fmt.Sprintf("c%d", i), CustomerB: fmt.Sprintf("c%d", i+1)}); err != nil {
					b.Fatal(err)
				}
			}
			lat, lon := 45.5, -122.6
			if _, _, err := svc.PutCrew(ctx, ten.ID, "north", mirror.CrewInput{Name: "North", DepotLat: &lat, DepotLon: &lon}); err != nil {
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
					in := mirror.VisitInput{CustomerID: fmt.Sprintf("c%d", i%100), CrewID: &crew,
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
