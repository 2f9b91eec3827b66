package dispatch_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/app"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/config"
	"github.com/routeloop/routeloop/internal/dispatch"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// BenchmarkSuggest ranks every crew-day of a 14-day window for 20 crews with
// 15 stops a day (4,200 visits), as a dispatcher's request does, on each
// database. Target: under 30 ms.
//
//	go test ./internal/dispatch -run x -bench Suggest -benchtime 50x
func BenchmarkSuggest(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(d, func(b *testing.B) {
			s := storetest.Open(b, d)
			ctx := context.Background()
			c := clock.NewFixed(time.Date(2026, 5, 1, 16, 0, 0, 0, time.UTC))
			a := app.Wire(config.Defaults(), s, c, slog.New(slog.DiscardHandler))
			ten, _, _ := a.Tenants.Create(ctx, tenant.NewTenant{Name: "Big", Timezone: "America/Los_Angeles", Currency: "USD"})
			rng := rand.New(rand.NewPCG(5, 5))
			const crews, stops = 20, 15
			storetest.BulkCustomers(b, s, ten.ID, crews*stops*2, rng)
			for k := 0; k < crews; k++ {
				lat, lon := 45.35+rng.Float64()*0.36, -122.85+rng.Float64()*0.5
				if _, _, err := a.Mirror.PutCrew(ctx, ten.ID, fmt.Sprintf("crew%d", k), mirror.CrewInput{Name: fmt.Sprintf("Crew %d", k), DepotLat: &lat, DepotLon: &lon}); err != nil {
					b.Fatal(err)
				}
			}
			// Every weekday of the window, each crew serves 15 customers.
			day := "d.day"
			if s.Dialect == store.Postgres {
				day = "CAST(d.day AS DATE)"
			}
			err := s.DB.Exec(`INSERT INTO visits (tenant_id, external_id, customer_id, crew_id, service_date, route_position, duration_min,
					status, price_cents, source, created_at, updated_at)
				SELECT c.tenant_id, 'v' || c.id || '-' || d.day, c.id, cr.id, `+day+`, (c.id % 15) + 1, 30, 'scheduled', 4500, 'scheduler', ?, ?
				FROM customers c
				JOIN crews cr ON cr.tenant_id = c.tenant_id AND cr.external_id = 'crew' || ((c.id - 1) / 15 % 20)
				CROSS JOIN (SELECT '2026-05-04' AS day UNION ALL SELECT '2026-05-05' UNION ALL SELECT '2026-05-06' UNION ALL SELECT '2026-05-07'
				            UNION ALL SELECT '2026-05-08' UNION ALL SELECT '2026-05-11' UNION ALL SELECT '2026-05-12' UNION ALL SELECT '2026-05-13'
				            UNION ALL SELECT '2026-05-14' UNION ALL SELECT '2026-05-15') d
				WHERE c.tenant_id = ? AND c.id <= 300`, c.Now(), c.Now(), ten.ID).Error
			if err != nil {
				b.Fatal(err)
			}
			// Random homes across the metro make long days: measure the
			// ranking, not the working-day limit.
			workday := 24 * 60
			if _, err := a.Neighbors.UpdateProgram(ctx, ten.ID, program.Input{WorkdayMinutes: &workday}); err != nil {
				b.Fatal(err)
			}
			target, err := a.Dispatch.CustomerTarget(ctx, ten.ID, "c450")
			if err != nil {
				b.Fatal(err)
			}
			from, to := localdate.Date{Year: 2026, Month: 5, Day: 2}, localdate.Date{Year: 2026, Month: 5, Day: 15}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				slots, err := a.Dispatch.Suggest(ctx, ten.ID, target, dispatch.Window{From: &from, To: &to, DurationMin: 30})
				if err != nil || len(slots) == 0 {
					b.Fatal(err, len(slots))
				}
			}
		})
	}
}
