package neighbor_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/apptest"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
)

// When a referral converts, the referral engine calls LinkReferral: the
// referrer and the friend are linked if both agreed to same-day service and
// live within the radius; otherwise it says why and links nothing.
func TestLinkReferral(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a, ten := apptest.New(t, s, clock.NewFixed(time.Date(2026, 5, 1, 18, 0, 0, 0, time.UTC)), "G")
		put := func(id string, lat, lon float64, consent bool) int64 {
			c, _, err := a.Mirror.PutCustomer(ctx, ten.ID, id, mirror.CustomerInput{Name: id, Address: id + " St", Lat: &lat, Lon: &lon, ConsentSameDay: consent})
			if err != nil {
				t.Fatal(err)
			}
			return c.ID
		}
		angie := put("angie", 45.4655, -122.6501, true)
		friend := put("friend", 45.4662, -122.6499, true)
		shy := put("shy", 45.4660, -122.6505, false)
		far := put("far", 45.5300, -122.6800, true)
		day := localdate.Date{Year: 2026, Month: 5, Day: 1}
		cases := []struct {
			referee int64
			linked  bool
			says    string
		}{
			{shy, false, "has not agreed to same-day service"},
			{far, false, "m apart"},
			{friend, true, ""},
		}
		for _, c := range cases {
			err := s.Tx(ctx, func(tx *gorm.DB) error {
				l, linked, reason, err := a.Neighbors.LinkReferral(tx, ten.ID, angie, c.referee, 77, day)
				if err != nil {
					return err
				}
				if linked != c.linked || !strings.Contains(reason, c.says) {
					t.Errorf("referee %d: linked %v reason %q", c.referee, linked, reason)
				}
				if linked && (l.Source != "referral" || l.ReferralID == nil || *l.ReferralID != 77 || l.StartsOn != day) {
					t.Errorf("link %+v", l)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if n := storetest.Count(t, s.DB, "neighbor_links"); n != 1 {
			t.Fatalf("%d links", n)
		}
		// Converting twice links once.
		_ = s.Tx(ctx, func(tx *gorm.DB) error {
			_, linked, _, err := a.Neighbors.LinkReferral(tx, ten.ID, angie, friend, 77, day)
			if err != nil || !linked {
				t.Fatalf("second conversion: %v %v", linked, err)
			}
			return nil
		})
		if n := storetest.Count(t, s.DB, "neighbor_links"); n != 1 {
			t.Fatalf("%d links after converting twice", n)
		}
	})
}
