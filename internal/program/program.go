// Package program holds each tenant's referral program settings: the
// neighbour radius, the same-day sync discount, the per-line discount cap and
// the service areas. A tenant that never saved settings runs on the defaults.
package program

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/routeloop/routeloop/geo"
	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/store"
)

// Program is one tenant's settings.
type Program struct {
	TenantID string `json:"-" gorm:"primaryKey"`
	// NeighborRadiusM is how close two customers must live to be linked.
	NeighborRadiusM int `json:"neighbor_radius_m"`
	// SyncDiscountBps is the discount on every synced visit (1000 = 10%).
	SyncDiscountBps int `json:"sync_discount_bps"`
	// MaxDiscountBps caps all discounts together on one invoice line.
	MaxDiscountBps int `json:"max_discount_bps"`
	// SyncRequiresSameCrew makes a visit synced only when the neighbour's
	// visit that day is done by the same crew.
	SyncRequiresSameCrew bool `json:"sync_requires_same_crew"`
	// ServiceAreas is a GeoJSON (Multi)Polygon or FeatureCollection; empty
	// means no areas are defined and nobody is flagged as outside.
	ServiceAreas string    `json:"service_areas,omitempty"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Defaults are the settings of a tenant that saved none.
func Defaults(tenantID string) Program {
	return Program{TenantID: tenantID, NeighborRadiusM: 500, SyncDiscountBps: 1000, MaxDiscountBps: 2000}
}

// parsedAreas caches parsed service areas by their GeoJSON text.
var parsedAreas sync.Map // string -> geo.Area

// Areas returns the parsed service areas; ok is false when none are defined.
func (p Program) Areas() (geo.Area, bool) {
	if p.ServiceAreas == "" {
		return geo.Area{}, false
	}
	if a, ok := parsedAreas.Load(p.ServiceAreas); ok {
		return a.(geo.Area), true
	}
	a, err := geo.ParseArea([]byte(p.ServiceAreas))
	if err != nil {
		return geo.Area{}, false
	}
	parsedAreas.Store(p.ServiceAreas, a)
	return a, true
}

// OutsideServiceArea reports whether a location lies outside every service
// area; false when no areas are defined or the location is unknown.
func (p Program) OutsideServiceArea(pt *geo.Point) bool {
	if pt == nil {
		return false
	}
	a, ok := p.Areas()
	return ok && !a.Contains(*pt)
}

// Validate checks the settings.
func (p Program) Validate() error {
	f := apperror.Fields{}
	if p.NeighborRadiusM < 1 || p.NeighborRadiusM > 5000 {
		f.Add("neighbor_radius_m", "must be between 1 and 5000 metres")
	}
	if p.SyncDiscountBps < 0 || p.SyncDiscountBps > 10000 {
		f.Add("sync_discount_bps", "must be between 0 and 10000 basis points (10000 = 100%)")
	}
	if p.MaxDiscountBps < 0 || p.MaxDiscountBps > 10000 {
		f.Add("max_discount_bps", "must be between 0 and 10000 basis points")
	} else if p.MaxDiscountBps < p.SyncDiscountBps {
		f.Add("max_discount_bps", "must be at least sync_discount_bps, or the sync discount could never be given in full")
	}
	if p.ServiceAreas != "" {
		if _, err := geo.ParseArea([]byte(p.ServiceAreas)); err != nil {
			f.Add("service_areas", err.Error())
		}
	}
	return f.Err()
}

// Service reads programs.
type Service struct {
	store *store.Store
}

// NewService returns the program service over s.
func NewService(s *store.Store) *Service { return &Service{store: s} }

// Get returns the tenant's program, or the defaults.
func (s *Service) Get(ctx context.Context, tenantID string) (Program, error) {
	return Get(s.store.DB.WithContext(ctx), tenantID)
}

// Get reads the program inside a transaction or any other handle.
func Get(db *gorm.DB, tenantID string) (Program, error) {
	var p Program
	err := db.Where("tenant_id = ?", tenantID).Take(&p).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Defaults(tenantID), nil
	}
	if err != nil {
		return p, fmt.Errorf("read program: %w", err)
	}
	return p, nil
}

// Input is the body of PUT /program: the settings to change. Fields left
// out keep their current value; updated_at is accepted (so a GET answer can
// be sent back) and ignored.
type Input struct {
	NeighborRadiusM      *int       `json:"neighbor_radius_m"`
	SyncDiscountBps      *int       `json:"sync_discount_bps"`
	MaxDiscountBps       *int       `json:"max_discount_bps"`
	SyncRequiresSameCrew *bool      `json:"sync_requires_same_crew"`
	ServiceAreas         *string    `json:"service_areas"`
	UpdatedAt            *time.Time `json:"updated_at"`
}

// Apply returns p with the input's fields changed, validated.
func (p Program) Apply(in Input) (Program, error) {
	if in.NeighborRadiusM != nil {
		p.NeighborRadiusM = *in.NeighborRadiusM
	}
	if in.SyncDiscountBps != nil {
		p.SyncDiscountBps = *in.SyncDiscountBps
	}
	if in.MaxDiscountBps != nil {
		p.MaxDiscountBps = *in.MaxDiscountBps
	}
	if in.SyncRequiresSameCrew != nil {
		p.SyncRequiresSameCrew = *in.SyncRequiresSameCrew
	}
	if in.ServiceAreas != nil {
		p.ServiceAreas = *in.ServiceAreas
	}
	return p, p.Validate()
}

// Save stores the tenant's settings inside the caller's transaction.
func Save(tx *gorm.DB, p Program, now time.Time) (Program, error) {
	if err := p.Validate(); err != nil {
		return Program{}, err
	}
	p.UpdatedAt = now
	err := tx.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "tenant_id"}},
		UpdateAll: true,
	}).Create(&p).Error
	if err != nil {
		return Program{}, fmt.Errorf("save program: %w", err)
	}
	return p, nil
}
