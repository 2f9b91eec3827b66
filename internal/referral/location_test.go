package referral_test

import (
	"context"
	"math"
	"testing"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/referral"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
)

// Angie (at home on Maple St) refers Ben by phone, with no address the
// engine can place: the dispatcher enters where he lives. The distance and
// within_radius follow, the source is the dispatcher's, the note on why it
// was unknown is gone, and the decision log says so.
func TestTheDispatcherEntersTheFriendsLocation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEngine(t, s, program.Input{})
		ctx := context.Background()
		lat, lon := 45.4655, -122.6501
		if _, _, err := e.a.Mirror.PutCustomer(ctx, e.tenant, "angie", mirror.CustomerInput{Name: "Angie", Phone: "503 555 0100",
			Address: "14 SE Maple St, Portland", Lat: &lat, Lon: &lon}); err != nil {
			t.Fatal(err)
		}
		r, _, err := e.a.Referrals.Create(ctx, e.tenant, "test", referral.Input{Channel: referral.ChannelCode, ReferrerID: "angie",
			Referee: referral.RefereeInput{Name: "Ben", Phone: "503 555 0199", Address: "30 SE Maple St"}})
		if err != nil {
			t.Fatal(err)
		}
		if r.WithinRadius || r.DistanceM != nil {
			t.Fatalf("before a location: %+v", r)
		}
		s.DB.Exec(`UPDATE referrals SET location_note = 'the geocoder did not answer' WHERE id = ?`, r.ID)

		// Out of range: refused field by field, nothing stored.
		_, err = e.a.Referrals.SetLocation(ctx, e.tenant, r.ID, 95, -190, "dispatcher")
		if ae, ok := apperror.As(err); !ok || ae.Code != apperror.CodeValidation || ae.Fields["lat"] == "" || ae.Fields["lon"] == "" {
			t.Fatalf("out of range: %v", err)
		}
		if _, err := e.a.Referrals.SetLocation(ctx, e.tenant, r.ID, math.NaN(), -122.6, "dispatcher"); !apperror.HasCode(err, apperror.CodeValidation) {
			t.Fatalf("NaN: %v", err)
		}
		if loc, _ := e.a.Referrals.Location(ctx, e.tenant, r.ID); loc.Lat != nil || loc.Source != "" || loc.Note == "" {
			t.Fatalf("stored after a refusal: %+v", loc)
		}

		// 160 m north of Angie: within the 500 m radius.
		got, err := e.a.Referrals.SetLocation(ctx, e.tenant, r.ID, lat+160.0/111_195, lon, "dispatcher dana@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if !got.WithinRadius || got.DistanceM == nil || *got.DistanceM < 159 || *got.DistanceM > 161 || got.Status != referral.StatusPending {
			t.Fatalf("after the location: within %v, distance %v, %s", got.WithinRadius, got.DistanceM, got.Status)
		}
		loc, err := e.a.Referrals.Location(ctx, e.tenant, r.ID)
		if err != nil || loc.Source != "dispatcher" || loc.Note != "" || loc.Lat == nil || *loc.Lon != lon {
			t.Fatalf("stored %+v (%v)", loc, err)
		}
		ds, err := e.a.Referrals.Decisions(ctx, e.tenant, r.ID)
		if err != nil || len(ds) != 2 || ds[1].Action != "located" || ds[1].Actor != "dispatcher dana@example.com" {
			t.Fatalf("decisions %+v (%v)", ds, err)
		}

		// Moved 2 km away: no longer within the radius.
		got, err = e.a.Referrals.SetLocation(ctx, e.tenant, r.ID, lat+2000.0/111_195, lon, "dispatcher")
		if err != nil || got.WithinRadius || got.DistanceM == nil || *got.DistanceM < 1995 || *got.DistanceM > 2005 {
			t.Fatalf("2 km away: within %v, distance %v (%v)", got.WithinRadius, got.DistanceM, err)
		}
		// Next door (5 m): the same household, sent to review with the reason.
		got, err = e.a.Referrals.SetLocation(ctx, e.tenant, r.ID, lat+5.0/111_195, lon, "dispatcher")
		if err != nil || got.Status != referral.StatusPendingReview || len(got.Flags) != 1 || got.Flags[0].Code != referral.FlagSelfReferral {
			t.Fatalf("next door: %s %+v (%v)", got.Status, got.Flags, err)
		}

		// Another tenant's referral, or none: not found.
		other := newEngine(t, s, program.Input{})
		if _, err := other.a.Referrals.SetLocation(ctx, other.tenant, r.ID, lat, lon, "dispatcher"); !apperror.HasCode(err, apperror.CodeNotFound) {
			t.Fatalf("another tenant's referral: %v", err)
		}
		// A closed referral: a conflict, said in words, nothing changed.
		if _, err := e.a.Referrals.Reject(ctx, e.tenant, r.ID, "test", referral.Decision{Reason: "same house"}); err != nil {
			t.Fatal(err)
		}
		_, err = e.a.Referrals.SetLocation(ctx, e.tenant, r.ID, lat, lon, "dispatcher")
		if ae, ok := apperror.As(err); !ok || ae.Code != apperror.CodeConflict || ae.Message == "" {
			t.Fatalf("rejected referral: %v", err)
		}
		if loc, _ := e.a.Referrals.Location(ctx, e.tenant, r.ID); *loc.Lat != lat+5.0/111_195 {
			t.Fatalf("a refused write changed the location: %+v", loc)
		}
	})
}
