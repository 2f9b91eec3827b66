package mirror_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/app"
	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/config"
	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/neighbor"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// visitWorld is a wired service with one tenant and a crew.
type visitWorld struct {
	a      *app.App
	tenant string
	loc    *time.Location
	day    string // a week from today, tenant-local
}

func newVisitWorld(t *testing.T, s *store.Store) visitWorld {
	t.Helper()
	ctx := context.Background()
	a := app.Wire(config.Defaults(), s, clock.System{}, slog.New(slog.DiscardHandler))
	ten, _, err := a.Tenants.Create(ctx, tenant.NewTenant{Name: "Race", Timezone: "America/Chicago", Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	lat, lon := 41.88, -87.63
	if _, _, err := a.Mirror.PutCrew(ctx, ten.ID, "north", mirror.CrewInput{Name: "North", DepotLat: &lat, DepotLon: &lon}); err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("America/Chicago")
	return visitWorld{a: a, tenant: ten.ID, loc: loc, day: localdate.In(time.Now(), loc).AddDays(7).String()}
}

func (w visitWorld) customer(t *testing.T, id string, lat float64) {
	t.Helper()
	lon := -87.63
	if _, _, err := w.a.Mirror.PutCustomer(context.Background(), w.tenant, id, mirror.CustomerInput{Name: id, Lat: &lat, Lon: &lon, ConsentSameDay: true}); err != nil {
		t.Fatal(err)
	}
}

func (w visitWorld) visit(id, customer, status string) (mirror.Visit, store.Upserted, error) {
	crew := "north"
	return w.a.Mirror.PutVisit(context.Background(), w.tenant, w.loc, id, mirror.VisitInput{
		CustomerID: customer, CrewID: &crew, ServiceDate: w.day, Status: status, PriceCents: 5000})
}

// A scheduled visit of a customer without links is written without a
// transaction; a link made at the same moment must still see it (or be
// seen by it), so the neighbour's draft gets its discount either way.
func TestAVisitWrittenAsItsCustomerIsLinkedStillGivesTheNeighbourTheDiscount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newVisitWorld(t, s)
		ctx := context.Background()
		for round := range 25 {
			a, b := fmt.Sprintf("a%d", round), fmt.Sprintf("b%d", round)
			w.customer(t, a, 41.0+float64(round)*0.01)
			w.customer(t, b, 41.0+float64(round)*0.01+0.0005) // about 55 m north
			if _, _, err := w.visit("va"+a, a, mirror.VisitScheduled); err != nil {
				t.Fatal(err)
			}
			visit := "va" + a
			if _, _, err := w.a.Invoices.Put(ctx, w.tenant, "USD", "inv-"+a, invoice.Input{CustomerID: a, Status: invoice.StatusDraft,
				Lines: []invoice.LineInput{{VisitID: &visit, Description: "Mowing", AmountCents: 5000}}}); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			errs := make([]error, 2)
			wg.Add(2)
			go func() {
				defer wg.Done()
				_, _, errs[0] = w.a.Neighbors.CreateLink(ctx, w.tenant, neighbor.LinkInput{CustomerA: a, CustomerB: b})
			}()
			go func() {
				defer wg.Done()
				_, _, errs[1] = w.visit("vb"+b, b, mirror.VisitScheduled)
			}()
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			l, err := w.a.Ledger.Customer(ctx, w.tenant, a)
			if err != nil {
				t.Fatal(err)
			}
			if l.OwedCents != 500 || l.GivenCents != 500 {
				t.Fatalf("round %d: %s is owed %d and given %d, want 500 and 500 (10%% of one visit)", round, a, l.OwedCents, l.GivenCents)
			}
		}
	})
}

// The write without a transaction answers as the full write does: created,
// updated, stale, and the same refusals.
func TestAQuietVisitWriteAnswersAsAnyOther(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newVisitWorld(t, s)
		w.customer(t, "ann", 41.0)
		w.customer(t, "bob", 41.5)
		v, up, err := w.visit("v1", "ann", mirror.VisitScheduled)
		if err != nil || up != store.Created || v.CustomerExternalID != "ann" || v.Status != mirror.VisitScheduled || v.PriceCents != 5000 {
			t.Fatalf("create: %+v %s %v", v, up, err)
		}
		v2, up, err := w.visit("v1", "bob", mirror.VisitScheduled) // moved to another customer
		if err != nil || up != store.Updated || v2.ID != v.ID || v2.CustomerExternalID != "bob" {
			t.Fatalf("move: %+v %s %v", v2, up, err)
		}
		got, err := w.a.Mirror.Visit(context.Background(), w.tenant, "v1")
		if err != nil || got.CustomerExternalID != "bob" || !got.CreatedAt.Equal(v.CreatedAt) {
			t.Fatalf("stored: %+v %v (created %v)", got, err, v.CreatedAt)
		}
		// Older than what is stored: kept as it was.
		old := time.Now().Add(-time.Hour)
		crew := "north"
		if _, _, err := w.a.Mirror.PutVisit(context.Background(), w.tenant, w.loc, "v1", mirror.VisitInput{
			CustomerID: "bob", CrewID: &crew, ServiceDate: w.day, PriceCents: 6000, UpdatedAt: &old}); err != nil {
			t.Fatal(err)
		}
		newer := time.Now()
		if _, _, err := w.a.Mirror.PutVisit(context.Background(), w.tenant, w.loc, "v1", mirror.VisitInput{
			CustomerID: "bob", CrewID: &crew, ServiceDate: w.day, PriceCents: 7000, UpdatedAt: &newer}); err != nil {
			t.Fatal(err)
		}
		_, up, err = w.a.Mirror.PutVisit(context.Background(), w.tenant, w.loc, "v1", mirror.VisitInput{
			CustomerID: "bob", CrewID: &crew, ServiceDate: w.day, PriceCents: 6500, UpdatedAt: &old})
		if got, _ := w.a.Mirror.Visit(context.Background(), w.tenant, "v1"); err != nil || up != store.Stale || got.PriceCents != 7000 {
			t.Fatalf("stale write: %s %v, stored price %d", up, err, got.PriceCents)
		}
		for name, in := range map[string]mirror.VisitInput{
			"customer_id": {CustomerID: "nobody", ServiceDate: w.day},
			"crew_id":     {CustomerID: "ann", CrewID: ptr("nocrew"), ServiceDate: w.day},
		} {
			_, _, err := w.a.Mirror.PutVisit(context.Background(), w.tenant, w.loc, "v1", in)
			var ae *apperror.Error
			if !errors.As(err, &ae) || ae.Fields[name] == "" {
				t.Fatalf("unknown %s: %v", name, err)
			}
		}
		if got, _ := w.a.Mirror.Visit(context.Background(), w.tenant, "v1"); got.CustomerExternalID != "bob" || got.PriceCents != 7000 {
			t.Fatalf("a refused write changed the visit: %+v", got)
		}
	})
}

func ptr(s string) *string { return &s }

// The scheduler sends a visit without its status: a new one is scheduled,
// one Ann's crew completed stays completed (also when its customer has no
// links and the write would otherwise take the quiet way), and a cancelled
// one stays cancelled.
func TestAVisitWrittenWithoutStatusKeepsTheStoredOne(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newVisitWorld(t, s)
		w.customer(t, "ann", 41.0)
		v, up, err := w.visit("v1", "ann", "")
		if err != nil || up != store.Created || v.Status != mirror.VisitScheduled {
			t.Fatalf("new visit without status: %+v %s %v", v, up, err)
		}
		for _, status := range []string{mirror.VisitCompleted, mirror.VisitCancelled, mirror.VisitScheduled} {
			if _, _, err := w.visit("v1", "ann", status); err != nil {
				t.Fatal(err)
			}
			crew := "north"
			v, up, err := w.a.Mirror.PutVisit(context.Background(), w.tenant, w.loc, "v1", mirror.VisitInput{
				CustomerID: "ann", CrewID: &crew, ServiceDate: w.day, PriceCents: 6100})
			if err != nil || up != store.Updated || v.Status != status || v.PriceCents != 6100 {
				t.Fatalf("%s visit written without status: %+v %s %v", status, v, up, err)
			}
			if got, _ := w.a.Mirror.Visit(context.Background(), w.tenant, "v1"); got.Status != status || got.PriceCents != 6100 {
				t.Fatalf("%s visit stored as %+v", status, got)
			}
		}
	})
}
