package referral

import (
	"context"
	"fmt"
	"strconv"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/geo"
	"github.com/routeloop/routeloop/internal/apperror"
)

// Where a friend's location came from (referrals.location_source): the
// dispatcher entered it by hand (lat/lon, or a point picked on a route map),
// when neither the sign-up nor a geocoder gave one.
const locationByDispatcher = "dispatcher"

// LocationInput is the body of PUT /referrals/{id}/location.
type LocationInput struct {
	Lat *float64 `json:"lat"`
	Lon *float64 `json:"lon"`
}

// Point returns the location the body gives, or a validation error naming
// every field that is missing or out of range.
func (in LocationInput) Point() (lat, lon float64, err error) {
	f := apperror.Fields{}
	if in.Lat == nil {
		f.Add("lat", "is required: the friend's latitude, such as 45.4655")
	}
	if in.Lon == nil {
		f.Add("lon", "is required: the friend's longitude, such as -122.6501")
	}
	if err := f.Err(); err != nil {
		return 0, 0, err
	}
	return *in.Lat, *in.Lon, checkLocation(*in.Lat, *in.Lon)
}

// checkLocation refuses a latitude or longitude out of range (each named).
func checkLocation(lat, lon float64) error {
	f := apperror.Fields{}
	if err := geo.CheckLat(lat); err != nil {
		f.Add("lat", err.Error())
	}
	if err := geo.CheckLon(lon); err != nil {
		f.Add("lon", err.Error())
	}
	return f.Err()
}

// LeadLocation is what is known of where a referred friend lives.
type LeadLocation struct {
	Lat, Lon *float64
	// Source is '' (unknown), given, geocoded or dispatcher; Note says why
	// the location is unknown, when it is.
	Source, Note string
}

// Location reads where a referral's friend lives as the referral records it.
func (s *Service) Location(ctx context.Context, tenantID string, referralID int64) (LeadLocation, error) {
	var ls []struct {
		RefereeLat, RefereeLon       *float64
		LocationSource, LocationNote string
	}
	if err := s.store.DB.WithContext(ctx).Raw(`SELECT referee_lat, referee_lon, location_source, location_note FROM referrals
		WHERE tenant_id = ? AND id = ?`, tenantID, referralID).Scan(&ls).Error; err != nil {
		return LeadLocation{}, fmt.Errorf("read the friend's location: %w", err)
	}
	if len(ls) == 0 {
		return LeadLocation{}, apperror.NotFound("referral %d not found", referralID)
	}
	l := ls[0]
	return LeadLocation{Lat: l.RefereeLat, Lon: l.RefereeLon, Source: l.LocationSource, Note: l.LocationNote}, nil
}

// SetLocation records where an open referral's friend lives, as a
// dispatcher entered it: the location (source 'dispatcher', the note on
// why it was unknown cleared), a line in the decision log, and the checks
// run again with it — distance to the referrer, within_radius, and any new
// flag (a friend next door to the referrer, outside the service area) —
// all in one transaction. A converted or closed referral is a conflict:
// its friend is the scheduler's customer, or will never be booked from here.
func (s *Service) SetLocation(ctx context.Context, tenantID string, referralID int64, lat, lon float64, actor string) (Referral, error) {
	if err := checkLocation(lat, lon); err != nil {
		return Referral{}, err
	}
	err := s.store.Tx(ctx, func(tx *gorm.DB) error {
		r, err := lockReferral(tx, tenantID, referralID)
		if err != nil {
			return err
		}
		switch r.Status {
		case StatusPending, StatusPendingReview:
		case StatusConverted:
			return apperror.Conflict("referral %d is converted: the friend is a customer now, and their location comes from the scheduler", referralID)
		default:
			return apperror.Conflict("referral %d is %s: it is closed, so the friend's location is no longer needed", referralID, r.Status)
		}
		if err := tx.Exec(`UPDATE referrals SET referee_lat = ?, referee_lon = ?, location_source = ?, location_note = '', updated_at = ?
			WHERE tenant_id = ? AND id = ?`, lat, lon, locationByDispatcher, s.clock.Now(), tenantID, referralID).Error; err != nil {
			return fmt.Errorf("record the friend's location: %w", err)
		}
		where := "the friend's location was entered: " + strconv.FormatFloat(lat, 'f', 6, 64) + ", " + strconv.FormatFloat(lon, 'f', 6, 64)
		if err := s.decide(tx, tenantID, referralID, "located", actor, where); err != nil {
			return err
		}
		_, err = s.recheck(tx, tenantID, referralID, "when the friend's location was entered")
		return err
	})
	if err != nil {
		return Referral{}, err
	}
	return s.Get(ctx, tenantID, referralID)
}
