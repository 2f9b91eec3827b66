package referral_test

import (
	"context"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/routeloop/routeloop/geo"
	"github.com/routeloop/routeloop/internal/app"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/config"
	"github.com/routeloop/routeloop/internal/geocode/geocodetest"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/referral"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// Angie lives at 14 Maple St; the fake geocoder knows her street and a road
// across town.
var (
	angieHome = geo.Point{Lat: 45.4655, Lon: -122.6501}
	maple30   = geo.Point{Lat: 45.4665, Lon: -122.6501} // about 111 m north
	farRoad   = geo.Point{Lat: 45.5000, Lon: -122.6501} // about 3.8 km north
)

// greenway is a tenant wired with settings cfg, and Angie as a customer.
func greenway(t *testing.T, s *store.Store, cfg config.Config) (*app.App, string) {
	t.Helper()
	ctx := context.Background()
	a := app.Wire(cfg, s, clock.NewFixed(time.Date(2026, 5, 1, 16, 0, 0, 0, time.UTC)), slog.New(slog.DiscardHandler))
	ten, _, err := a.Tenants.Create(ctx, tenant.NewTenant{Name: "Greenway", Timezone: "America/Los_Angeles", Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Mirror.PutCustomer(ctx, ten.ID, "angie", mirror.CustomerInput{Name: "Angie Baker", Email: "angie@example.com",
		Address: "14 Maple St, Portland", Lat: &angieHome.Lat, Lon: &angieHome.Lon, ConsentSameDay: true}); err != nil {
		t.Fatal(err)
	}
	return a, ten.ID
}

func withGeocoder(url string) config.Config {
	cfg := config.Defaults()
	cfg.GeocoderURL, cfg.GeocoderRate = url, 0
	return cfg
}

// signUp records that Angie referred a friend who gave an address.
func signUp(t *testing.T, a *app.App, tid, name, address string) referral.Referral {
	t.Helper()
	r, _, err := a.Referrals.Create(context.Background(), tid, "landing page", referral.Input{Channel: referral.ChannelLink, ReferrerCode: code(t, a, tid),
		Referee: referral.RefereeInput{Name: name, Email: name + "@example.com", Address: address}})
	if err != nil {
		t.Fatalf("%s's sign-up was lost: %v", name, err)
	}
	return r
}

func code(t *testing.T, a *app.App, tid string) string {
	t.Helper()
	c, err := a.Mirror.Customer(context.Background(), tid, "angie")
	if err != nil {
		t.Fatal(err)
	}
	return c.ReferralCode
}

func metres(a, b geo.Point) int { return int(math.Round(geo.DistanceM(a, b))) }

// Ben gives his address on Angie's link and nothing else: the geocoder
// finds it, the referral keeps the point as geocoded, and the checks measure
// him 111 m from Angie — within the radius. Cara across town is measured
// too, outside it. Read back, the referral says the same.
func TestAFriendsAddressIsGeocodedAtSignUp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		fake := geocodetest.New(t, map[string]geo.Point{"30 Maple St, Portland": maple30, "900 Far Rd, Portland": farRoad})
		a, tid := greenway(t, s, withGeocoder(fake.URL))

		ben := signUp(t, a, tid, "ben", "30 Maple St, Portland")
		if ben.LocationSource != referral.LocationGeocoded || ben.LocationNote != "" {
			t.Fatalf("Ben's location: %q %q", ben.LocationSource, ben.LocationNote)
		}
		if ben.Referee.Lat == nil || ben.Referee.Lon == nil || *ben.Referee.Lat != maple30.Lat || *ben.Referee.Lon != maple30.Lon {
			t.Fatalf("Ben's point: %v %v", ben.Referee.Lat, ben.Referee.Lon)
		}
		if want := metres(angieHome, maple30); !ben.WithinRadius || ben.DistanceM == nil || *ben.DistanceM != want || want != 111 {
			t.Fatalf("Ben: within %v, distance %v, want within and %d m", ben.WithinRadius, ben.DistanceM, want)
		}
		got, err := a.Referrals.Get(context.Background(), tid, ben.ID)
		if err != nil || got.LocationSource != referral.LocationGeocoded || got.DistanceM == nil || *got.DistanceM != 111 {
			t.Fatalf("Ben read back: %+v %v", got, err)
		}

		cara := signUp(t, a, tid, "cara", "900 Far Rd, Portland")
		if want := metres(angieHome, farRoad); cara.LocationSource != referral.LocationGeocoded || cara.WithinRadius || cara.DistanceM == nil || *cara.DistanceM != want {
			t.Fatalf("Cara: %q within %v distance %v, want %d m outside", cara.LocationSource, cara.WithinRadius, cara.DistanceM, want)
		}
		if qs := fake.Queries(); len(qs) != 2 || qs[0].Address != "30 Maple St, Portland" {
			t.Fatalf("geocoder queries %+v", qs)
		}
	})
}

// The geocoder failing never loses a sign-up: the referral is stored
// without a location, and says why in people's words.
func TestAFailingGeocoderStillRecordsTheFriend(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		fake := geocodetest.New(t, map[string]geo.Point{"30 Maple St, Portland": maple30})
		a, tid := greenway(t, s, withGeocoder(fake.URL))

		dan := signUp(t, a, tid, "dan", "1 Nowhere Rd")
		fake.Fail(http.StatusServiceUnavailable)
		eve := signUp(t, a, tid, "eve", "30 Maple St, Portland")
		for _, c := range []struct {
			r    referral.Referral
			note string
		}{{dan, "the address was not found"}, {eve, "the geocoder answered with an error (HTTP 503)"}} {
			got, err := a.Referrals.Get(context.Background(), tid, c.r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.LocationSource != "" || got.LocationNote != c.note || got.Referee.Lat != nil || got.DistanceM != nil || got.WithinRadius ||
				got.Status != referral.StatusPending || got.Referee.Address == "" {
				t.Fatalf("%s: source %q note %q lat %v distance %v within %v status %s", got.Referee.Name, got.LocationSource, got.LocationNote,
					got.Referee.Lat, got.DistanceM, got.WithinRadius, got.Status)
			}
		}

		// A geocoder that does not answer in time: the friend waits no
		// longer than the timeout and is recorded.
		release := make(chan struct{})
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		defer slow.Close()
		defer close(release)
		cfg := withGeocoder(slow.URL)
		cfg.GeocoderTimeout = 50 * time.Millisecond
		a2, tid2 := greenway(t, s, cfg)
		if fay := signUp(t, a2, tid2, "fay", "30 Maple St, Portland"); fay.LocationSource != "" || fay.LocationNote != "the geocoder did not answer in time" {
			t.Fatalf("slow geocoder: %q %q", fay.LocationSource, fay.LocationNote)
		}
	})
}

// Lat and lon the caller gives are kept as given, and the geocoder is not
// asked; without an address or without a geocoder the referral says why its
// location is unknown; a friend named by their customer record is located
// by it.
func TestWhereAFriendsLocationComesFrom(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		fake := geocodetest.New(t, map[string]geo.Point{"30 Maple St, Portland": maple30})
		a, tid := greenway(t, s, withGeocoder(fake.URL))
		ctx := context.Background()

		r, _, err := a.Referrals.Create(ctx, tid, "test", referral.Input{Channel: referral.ChannelCode, ReferrerID: "angie",
			Referee: referral.RefereeInput{Name: "Gil", Phone: "+15035550123", Address: "30 Maple St, Portland", Lat: &farRoad.Lat, Lon: &farRoad.Lon}})
		if err != nil || r.LocationSource != referral.LocationGiven || r.LocationNote != "" || *r.Referee.Lat != farRoad.Lat || *r.DistanceM != metres(angieHome, farRoad) {
			t.Fatalf("given: %+v %v", r, err)
		}
		if len(fake.Queries()) != 0 {
			t.Fatalf("the geocoder was asked about a friend with lat and lon: %+v", fake.Queries())
		}

		r, _, err = a.Referrals.Create(ctx, tid, "test", referral.Input{Channel: referral.ChannelCode, ReferrerID: "angie",
			Referee: referral.RefereeInput{Name: "Hal", Phone: "+15035550124"}})
		if err != nil || r.LocationSource != "" || r.LocationNote != referral.NoteNoAddress || len(fake.Queries()) != 0 {
			t.Fatalf("no address: %+v %v", r, err)
		}

		if _, _, err := a.Mirror.PutCustomer(ctx, tid, "ida", mirror.CustomerInput{Name: "Ida", Lat: &maple30.Lat, Lon: &maple30.Lon}); err != nil {
			t.Fatal(err)
		}
		r, _, err = a.Referrals.Create(ctx, tid, "test", referral.Input{Channel: referral.ChannelCode, ReferrerID: "angie",
			Referee: referral.RefereeInput{Name: "Ida", ExternalID: "ida"}})
		if err != nil || r.LocationSource != "" || r.LocationNote != referral.NoteCustomerRecord || r.DistanceM == nil || *r.DistanceM != 111 {
			t.Fatalf("by the customer record: %+v %v", r, err)
		}

		none, tid2 := greenway(t, s, config.Defaults())
		if r := signUp(t, none, tid2, "jo", "30 Maple St, Portland"); r.LocationSource != "" || r.LocationNote != "no geocoder is set up" || r.DistanceM != nil {
			t.Fatalf("no geocoder: %+v", r)
		}
	})
}

// inUse is a geocoder that notes how many database connections are busy
// when it is asked.
type inUse struct {
	s    *store.Store
	busy []int
}

func (l *inUse) Locate(ctx context.Context, address string) (geo.Point, error) {
	db, _ := l.s.DB.DB()
	l.busy = append(l.busy, db.Stats().InUse)
	return maple30, nil
}

// The geocoder is asked before the referral's transaction opens: a slow
// geocoder never holds a database connection or its locks.
func TestTheGeocoderIsAskedOutsideTheTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		a, tid := greenway(t, s, config.Defaults())
		l := &inUse{s: s}
		a.Referrals.UseGeocoder(l)
		r := signUp(t, a, tid, "kim", "30 Maple St, Portland")
		if len(l.busy) != 1 || l.busy[0] != 0 {
			t.Fatalf("connections in use while geocoding: %v, want none", l.busy)
		}
		if r.LocationSource != referral.LocationGeocoded || *r.DistanceM != 111 {
			t.Fatalf("kim: %q %v", r.LocationSource, r.DistanceM)
		}
	})
}
