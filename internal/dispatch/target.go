package dispatch

import (
	"context"
	"fmt"

	"github.com/routeloop/routeloop/geo"
	"github.com/routeloop/routeloop/internal/apperror"
)

// CustomerTarget is a customer to place, with their linked neighbours.
func (s *Service) CustomerTarget(ctx context.Context, tenantID, customerExt string) (Target, error) {
	db := s.store.DB.WithContext(ctx)
	var cs []struct {
		ID       int64
		Lat, Lon *float64
	}
	if err := db.Raw(`SELECT id, lat, lon FROM customers WHERE tenant_id = ? AND external_id = ?`, tenantID, customerExt).Scan(&cs).Error; err != nil {
		return Target{}, fmt.Errorf("read customer: %w", err)
	}
	if len(cs) == 0 {
		return Target{}, apperror.NotFound("customer %s not found", customerExt)
	}
	if cs[0].Lat == nil || cs[0].Lon == nil {
		return Target{}, apperror.Unprocessable("customer %s has no location to route to", customerExt)
	}
	var linked []int64
	if err := db.Raw(`SELECT CASE WHEN customer_a_id = ? THEN customer_b_id ELSE customer_a_id END FROM neighbor_links
		WHERE tenant_id = ? AND (customer_a_id = ? OR customer_b_id = ?) AND ends_on IS NULL`,
		cs[0].ID, tenantID, cs[0].ID, cs[0].ID).Scan(&linked).Error; err != nil {
		return Target{}, fmt.Errorf("read links: %w", err)
	}
	return Target{Point: geo.Point{Lat: *cs[0].Lat, Lon: *cs[0].Lon}, CustomerID: cs[0].ID, Neighbors: linked}, nil
}

// ReferralTarget is a referred friend to place next to whoever referred
// them: the friend's customer record when the scheduler has it, otherwise
// the location the referral gave.
func (s *Service) ReferralTarget(ctx context.Context, tenantID string, referralID int64) (Target, error) {
	db := s.store.DB.WithContext(ctx)
	var rs []struct {
		ReferrerID        *int64
		RefereeCustomerID *int64
		RefereeLat        *float64
		RefereeLon        *float64
		CustomerLat       *float64
		CustomerLon       *float64
	}
	err := db.Raw(`SELECT r.referrer_id, r.referee_customer_id, r.referee_lat, r.referee_lon, c.lat AS customer_lat, c.lon AS customer_lon
		FROM referrals r LEFT JOIN customers c ON c.id = r.referee_customer_id WHERE r.tenant_id = ? AND r.id = ?`,
		tenantID, referralID).Scan(&rs).Error
	if err != nil {
		return Target{}, fmt.Errorf("read referral: %w", err)
	}
	if len(rs) == 0 {
		return Target{}, apperror.NotFound("referral %d not found", referralID)
	}
	r := rs[0]
	t := Target{}
	switch {
	case r.CustomerLat != nil && r.CustomerLon != nil:
		t.Point = geo.Point{Lat: *r.CustomerLat, Lon: *r.CustomerLon}
	case r.RefereeLat != nil && r.RefereeLon != nil:
		t.Point = geo.Point{Lat: *r.RefereeLat, Lon: *r.RefereeLon}
	default:
		return Target{}, apperror.Unprocessable("referral %d has no location for the friend yet: add their address (lat, lon)", referralID)
	}
	if r.RefereeCustomerID != nil {
		t.CustomerID = *r.RefereeCustomerID
	}
	if r.ReferrerID != nil {
		t.Neighbors = []int64{*r.ReferrerID}
	}
	return t, nil
}
