// Package neighbor is the heart of routeloop: neighbour links between
// customers who live a few blocks apart and agreed to same-day service, the
// synced visits that follow from them, and the recurring sync discount on
// every invoice line of a synced visit.
package neighbor

import (
	"fmt"
	"log/slog"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/geo"
	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/events"
	"github.com/routeloop/routeloop/internal/ledger"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/tenant"
)

// Service manages links and sync discounts.
type Service struct {
	store     *store.Store
	clock     clock.Clock
	ledger    *ledger.Service
	events    events.Emitter
	onProgram []func(tx *gorm.DB, tenantID string) error
	nearby    *nearbyCache
}

// NewService returns the neighbour service; what links change in money it
// leaves to the ledger.
func NewService(s *store.Store, c clock.Clock, l *ledger.Service, em events.Emitter) *Service {
	if em == nil {
		em = events.Discard{}
	}
	return &Service{store: s, clock: c, ledger: l, events: em}
}

// KeepNearbyCopies lets the nearby search hold up to limit customers in
// memory across tenants (0: every search reads the database). See
// nearbycache.go for how a copy is kept current on every replica.
func (s *Service) KeepNearbyCopies(limit int, log *slog.Logger) {
	s.nearby = newNearbyCache(s.store, limit, log)
}

// NearbyHeld is how many customers the nearby search holds in memory.
func (s *Service) NearbyHeld() int { return s.nearby.held() }

// customerRow is what this package reads of a customer.
type customerRow struct {
	ID             int64
	ExternalID     string
	Name           string
	Address        string
	Lat            *float64
	Lon            *float64
	ConsentSameDay bool
}

func (c customerRow) point() (geo.Point, bool) {
	if c.Lat == nil || c.Lon == nil {
		return geo.Point{}, false
	}
	return geo.Point{Lat: *c.Lat, Lon: *c.Lon}, true
}

// street is what a discount reason names of the customer: the street, never
// the name.
func (c customerRow) street() string { return ledger.Street(c.Address) }

const customerCols = "id, external_id, name, address, lat, lon, consent_same_day"

func customerByExternalID(db *gorm.DB, tenantID, externalID string) (customerRow, error) {
	var rows []customerRow
	err := db.Raw(`SELECT `+customerCols+` FROM customers WHERE tenant_id = ? AND external_id = ?`, tenantID, externalID).Scan(&rows).Error
	if err != nil {
		return customerRow{}, fmt.Errorf("read customer: %w", err)
	}
	if len(rows) == 0 {
		return customerRow{}, apperror.NotFound("customer %s not found", externalID)
	}
	return rows[0], nil
}

func customersByID(db *gorm.DB, tenantID string, ids []int64) (map[int64]customerRow, error) {
	out := map[int64]customerRow{}
	for chunk := range slices.Chunk(ids, store.MaxInList) {
		var rows []customerRow
		err := db.Raw(`SELECT `+customerCols+` FROM customers WHERE tenant_id = ? AND id IN ?`, tenantID, chunk).Scan(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("read customers: %w", err)
		}
		for _, r := range rows {
			out[r.ID] = r
		}
	}
	return out, nil
}

// today is the tenant-local date now.
func (s *Service) today(db *gorm.DB, tenantID string) (localdate.Date, error) {
	loc, err := tenant.LocationOf(db, tenantID)
	if err != nil {
		return localdate.Date{}, err
	}
	return localdate.In(s.clock.Now(), loc), nil
}

// now is the clock's time, for timestamps.
func (s *Service) now() time.Time { return s.clock.Now() }
