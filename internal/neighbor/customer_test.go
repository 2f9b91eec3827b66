package neighbor_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/apptest"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/neighbor"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
)

// TestCustomerWritesKeepTheirLinks: a linked customer's write keeps the
// link and its distance true — a move within the radius records the new
// distance, a move beyond it or consent withdrawn ends the link with the
// reason — while a customer never linked is written without any of it.
func TestCustomerWritesKeepTheirLinks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a, ten := apptest.New(t, s, clock.NewFixed(time.Date(2026, 5, 1, 18, 0, 0, 0, time.UTC)), "G")
		put := func(id string, lat, lon float64, consent bool) {
			t.Helper()
			if _, _, err := a.Mirror.PutCustomer(ctx, ten.ID, id, mirror.CustomerInput{Name: id, Address: id + " St", Lat: &lat, Lon: &lon,
				ConsentSameDay: consent}); err != nil {
				t.Fatal(err)
			}
		}
		link := func(x, y string) neighbor.Link {
			t.Helper()
			l, _, err := a.Neighbors.CreateLink(ctx, ten.ID, neighbor.LinkInput{CustomerA: x, CustomerB: y})
			if err != nil {
				t.Fatal(err)
			}
			return l
		}
		read := func(l neighbor.Link) neighbor.Link {
			t.Helper()
			got, err := a.Neighbors.Link(ctx, ten.ID, l.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		put("angie", 45.4655, -122.6501, true)
		put("bea", 45.4662, -122.6499, true)
		put("cal", 45.4650, -122.6510, true)
		put("dee", 45.4640, -122.6490, true)
		ab, cd := link("angie", "bea"), link("cal", "dee")

		put("bea", 45.4668, -122.6499, true) // a few metres further, still within the radius
		if got := read(ab); got.EndsOn != nil || got.DistanceM <= ab.DistanceM {
			t.Fatalf("bea moved within the radius: %+v (was %d m)", got, ab.DistanceM)
		}
		put("bea", 45.5300, -122.6800, true) // across town
		if got := read(ab); got.EndsOn == nil || !strings.Contains(got.EndReason, "m apart") {
			t.Fatalf("bea moved away: %+v", got)
		}
		put("dee", 45.4640, -122.6490, false)
		if got := read(cd); got.EndsOn == nil || got.EndReason == "" {
			t.Fatalf("dee withdrew consent: %+v", got)
		}
		put("eve", 45.4641, -122.6491, true)
		put("eve", 45.4642, -122.6492, false) // never linked: nothing to end
		if n := storetest.Count(t, s.DB, "neighbor_links"); n != 2 {
			t.Fatalf("%d links, want the 2 made", n)
		}
	})
}
