package outbox_test

import (
	"context"
	"log/slog"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/app"
	"github.com/routeloop/routeloop/internal/apptest"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/config"
	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/outbox"
	"github.com/routeloop/routeloop/internal/referral"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// A referral's life announces itself: created, converted, two rewards, the
// neighbour link and the discounted invoice all reach a subscribed endpoint.
func TestAReferralsLifeReachesTheScheduler(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	cfg := config.Defaults()
	cfg.WebhooksAllowPrivate = true
	a := app.Wire(cfg, s, clock.NewFixed(time.Date(2026, 5, 1, 16, 0, 0, 0, time.UTC)), slog.New(slog.DiscardHandler))
	ctx := context.Background()
	ten := apptest.Tenant(t, a.Tenants, tenant.NewTenant{Name: "G", Timezone: "America/Los_Angeles", Currency: "USD"})
	r := newReceiver(t)
	r.now = a.Clock.Now
	ep, err := a.Endpoints.Create(ctx, ten.ID, outbox.EndpointInput{URL: r.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	r.secret = ep.Secret
	lat, lon, lat2, lon2 := 45.4655, -122.6501, 45.4662, -122.6499
	a.Mirror.PutCustomer(ctx, ten.ID, "angie", mirror.CustomerInput{Name: "Angie", Lat: &lat, Lon: &lon, ConsentSameDay: true})
	if _, _, err := a.Referrals.Create(ctx, ten.ID, "test", referral.Input{Channel: referral.ChannelCard, ReferrerID: "angie",
		Referee: referral.RefereeInput{Name: "Ben", Email: "ben@example.com"}}); err != nil {
		t.Fatal(err)
	}
	a.Mirror.PutCustomer(ctx, ten.ID, "ben", mirror.CustomerInput{Name: "Ben", Email: "ben@example.com", Lat: &lat2, Lon: &lon2, ConsentSameDay: true})
	loc := ten.Location()
	for _, who := range []string{"angie", "ben"} {
		if _, _, err := a.Mirror.PutVisit(ctx, ten.ID, loc, "v-"+who, mirror.VisitInput{CustomerID: who, ServiceDate: "2026-05-05", PriceCents: 4500}); err != nil {
			t.Fatal(err)
		}
	}
	vid := "v-angie"
	if _, _, err := a.Invoices.Put(ctx, ten.ID, "USD", "i-angie", invoice.Input{CustomerID: "angie",
		Lines: []invoice.LineInput{{VisitID: &vid, Description: "Mow", AmountCents: 4500}}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Mirror.PutVisit(ctx, ten.ID, loc, "v-ben", mirror.VisitInput{CustomerID: "ben", ServiceDate: "2026-05-05", Status: "completed", PriceCents: 4500}); err != nil {
		t.Fatal(err)
	}
	for {
		n, err := a.Deliverer.RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	got := map[string]int{}
	for _, k := range r.types {
		got[k]++
	}
	want := map[string]int{"referral.created": 1, "referral.converted": 1, "reward.granted": 2, "neighbor_link.created": 1, "invoice.discounted": 1}
	for k, n := range want {
		if got[k] != n {
			keys := make([]string, 0, len(got))
			for k, n := range got {
				keys = append(keys, k+"="+itoa(n))
			}
			sort.Strings(keys)
			t.Fatalf("%s arrived %d times, want %d (got %s)", k, got[k], n, strings.Join(keys, " "))
		}
	}
}
