package jobs_test

import (
	"context"
	"io"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/apptest"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// After the 03:05 tick in Los Angeles the scrape shows one reconciliation
// and when each job last succeeded.
func TestTheNightlyRunShowsInTheMetrics(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		at := time.Date(2026, 5, 6, 10, 5, 0, 0, time.UTC)
		a := apptest.Wire(s, clock.NewFixed(at))
		if _, _, err := a.Tenants.Create(ctx, tenant.NewTenant{Name: "LA", Timezone: "America/Los_Angeles", Currency: "USD"}); err != nil {
			t.Fatal(err)
		}
		a.Jobs.Tick(ctx)
		rec := httptest.NewRecorder()
		a.HTTP.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		body, _ := io.ReadAll(rec.Body)
		text := string(body)
		for _, want := range []string{
			`routeloop_reconcile_runs_total{result="ok"} 1`,
			`routeloop_jobs_last_success_timestamp_seconds{job="reconcile"} ` + strconv.FormatFloat(float64(at.Unix()), 'g', -1, 64),
			`routeloop_jobs_last_success_timestamp_seconds{job="release_held"} `,
			`routeloop_jobs_last_success_timestamp_seconds{job="clean_inbox"} `,
		} {
			if !strings.Contains(text, want) {
				t.Errorf("the scrape lacks %s", want)
			}
		}
	})
}
