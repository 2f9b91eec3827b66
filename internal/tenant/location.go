package tenant

import (
	"fmt"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/apperror"
)

// locations caches loaded time zones: LoadLocation reads and parses the zone
// database each call, which would otherwise happen on every request.
var locations sync.Map // string -> *time.Location

func loadLocation(name string) (*time.Location, error) {
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	locations.Store(name, l)
	return l, nil
}

// LoadLocation returns the named IANA zone, cached.
func LoadLocation(name string) (*time.Location, error) { return loadLocation(name) }

// LocationOf returns a tenant's time zone, read through db.
func LocationOf(db *gorm.DB, tenantID string) (*time.Location, error) {
	var tz string
	if err := db.Raw(`SELECT timezone FROM tenants WHERE id = ?`, tenantID).Scan(&tz).Error; err != nil {
		return nil, fmt.Errorf("read tenant time zone: %w", err)
	}
	if tz == "" {
		return nil, apperror.NotFound("tenant %s not found", tenantID)
	}
	return loadLocation(tz)
}
