package referral

import (
	"context"

	"github.com/routeloop/routeloop/geo"
)

// Where a friend's location came from (referrals.location_source); ""
// while it is unknown, and location_note then says why.
const (
	LocationGiven      = "given"      // lat and lon came with the referral
	LocationGeocoded   = "geocoded"   // found from the address by the geocoder
	LocationDispatcher = "dispatcher" // entered by a dispatcher later
)

// Why a friend's location is unknown, when it is not the geocoder's answer.
const (
	NoteNoAddress      = "the friend gave no address"
	NoteNoGeocoder     = "no geocoder is set up"
	NoteCustomerRecord = "the friend's customer record gives their location"
)

// Locator finds where an address is. Its error says, in people's words,
// why it could not ("the address was not found").
type Locator interface {
	Locate(ctx context.Context, address string) (geo.Point, error)
}

// UseGeocoder makes Create look up the address of a friend who comes
// without lat and lon; nil: no geocoder.
func (s *Service) UseGeocoder(l Locator) { s.locator = l }

// location is where the referral's own record of the friend came from.
type location struct {
	source, note string
}

// locate fills the friend's lat and lon from their address when none were
// given, before any transaction: a lookup is a network call and may be
// slow. It never fails; without a point it says why.
func (s *Service) locate(ctx context.Context, r *RefereeInput) location {
	switch {
	case r.Lat != nil && r.Lon != nil:
		return location{source: LocationGiven}
	case r.Address == "":
		return location{note: NoteNoAddress}
	case s.locator == nil:
		return location{note: NoteNoGeocoder}
	}
	p, err := s.locator.Locate(ctx, r.Address)
	if err != nil {
		return location{note: err.Error()}
	}
	if geo.CheckLat(p.Lat) != nil || geo.CheckLon(p.Lon) != nil {
		return location{note: "the geocoder's answer could not be read"}
	}
	r.Lat, r.Lon = &p.Lat, &p.Lon
	return location{source: LocationGeocoded}
}
