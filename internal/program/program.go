// Package program holds each tenant's referral program settings: the
// neighbour radius, the same-day sync discount, the per-line discount cap and
// the service areas. A tenant that never saved settings runs on the defaults.
package program

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/routeloop/routeloop/geo"
	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/contact"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/text"
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
	ServiceAreas string `json:"service_areas,omitempty"`
	// Country (ISO 3166 alpha-2) reads national phone numbers.
	Country string `json:"country"`
	// Offers are the referral offer variants (A/B); a referrer is assigned
	// one for good. Empty means the standard offer.
	Offers []Offer `json:"offers" gorm:"serializer:json"`
	// ReferrerCap is how many referrals of one referrer are rewarded.
	ReferrerCap int `json:"referrer_cap"`
	// YearlyCap limits a referrer's rewarded referrals per calendar year (0: no limit).
	YearlyCap int `json:"yearly_cap"`
	// MonthlyBudgetCents bounds reward spending per tenant-local month (0: no limit).
	MonthlyBudgetCents int64 `json:"monthly_budget_cents"`
	// RewardHoldDays is how long a conversion's rewards wait before they
	// count (0: granted at once). A qualifying visit cancelled or invoice
	// voided during the hold voids them.
	RewardHoldDays int `json:"reward_hold_days"`
	// AttributionDays is how long a link click attributes a later sign-up,
	// and how long after a referral the friend may qualify for it.
	AttributionDays int `json:"attribution_days"`
	// ConvertOn is the event that converts a referral.
	ConvertOn string `json:"convert_on"`
	// BurstMax referrals from one code within BurstHours get flagged.
	BurstMax   int `json:"burst_max"`
	BurstHours int `json:"burst_hours"`
	// EstimatedVisitCents values a percent reward against the budget when
	// the customer has no visit price yet.
	EstimatedVisitCents int64 `json:"estimated_visit_cents"`
	// RoadFactor turns straight-line distance into road distance, and
	// SpeedKmh road distance into driving time (until a road-network
	// service is plugged in).
	RoadFactor float64 `json:"road_factor"`
	SpeedKmh   float64 `json:"speed_kmh"`
	// WorkdayMinutes is a crew's day (driving and service); a day that a
	// booking would overfill is not suggested.
	WorkdayMinutes int `json:"workday_minutes"`
	// DefaultVisitMinutes is the service time of a visit that states none.
	DefaultVisitMinutes int `json:"default_visit_minutes"`
	// CostPerKmCents and LabourCentsPerMinute value route savings.
	CostPerKmCents       int `json:"cost_per_km_cents"`
	LabourCentsPerMinute int `json:"labour_cents_per_minute"`
	// GrossMarginBps is the share of service revenue left after the cost of
	// doing the work (4000 = 40%): the KPIs' contribution of referred
	// customers' revenue.
	GrossMarginBps int `json:"gross_margin_bps"`
	// Crew points: per pitch logged, per referral given on site, per
	// conversion; what a point is worth (the year-end bonus, for the KPIs);
	// and how long after a pitch a customer is not pitched again.
	PointsPerPitch      int       `json:"points_per_pitch"`
	PointsPerReferral   int       `json:"points_per_referral"`
	PointsPerConversion int       `json:"points_per_conversion"`
	PointValueCents     int       `json:"point_value_cents"`
	RepitchDays         int       `json:"repitch_days"`
	UpdatedAt           time.Time `json:"updated_at"`
}

// Conversion events.
const (
	ConvertOnFirstCompletedVisit = "first_completed_visit"
	ConvertOnFirstPaidInvoice    = "first_paid_invoice"
)

// Reward kinds.
const (
	RewardPercentNextInvoice = "percent_next_invoice"
	RewardFixedCredit        = "fixed_credit"
	RewardFreeAddon          = "free_addon"
	RewardPoints             = "points"
)

// Reward is what one side of a referral earns.
type Reward struct {
	Kind string `json:"kind"`
	// Bps for percent_next_invoice (1000 = 10%).
	Bps int `json:"bps,omitempty"`
	// AmountCents for fixed_credit, and the value of a free add-on.
	AmountCents int64 `json:"amount_cents,omitempty"`
	// AddonName names the free add-on ("Gutter clean").
	AddonName string `json:"addon_name,omitempty"`
	// Points for points.
	Points int `json:"points,omitempty"`
}

// Offer is one variant of the program's two-sided offer.
type Offer struct {
	Name     string `json:"name"`
	Referee  Reward `json:"referee"`
	Referrer Reward `json:"referrer"`
	// Weight is the variant's share of new referrers against the other
	// variants' weights (1–1000; 0 or left out counts as 1). Changing it
	// moves nobody already assigned.
	Weight int `json:"weight,omitempty"`
}

// StandardOffer is 10% off the friend's first visit and 10% off the
// referrer's next invoice.
var StandardOffer = Offer{Name: "standard",
	Referee:  Reward{Kind: RewardPercentNextInvoice, Bps: 1000},
	Referrer: Reward{Kind: RewardPercentNextInvoice, Bps: 1000}}

// Defaults are the settings of a tenant that saved none.
func Defaults(tenantID string) Program {
	return Program{TenantID: tenantID, NeighborRadiusM: 500, SyncDiscountBps: 1000, MaxDiscountBps: 2000,
		Country: "US", Offers: []Offer{StandardOffer}, ReferrerCap: 32, AttributionDays: 60,
		ConvertOn: ConvertOnFirstCompletedVisit, BurstMax: 5, BurstHours: 24, EstimatedVisitCents: 5000,
		RoadFactor: 1.3, SpeedKmh: 30, WorkdayMinutes: 480, DefaultVisitMinutes: 30, CostPerKmCents: 60, LabourCentsPerMinute: 50,
		GrossMarginBps: 4000,
		PointsPerPitch: 1, PointsPerReferral: 5, PointsPerConversion: 20, PointValueCents: 10, RepitchDays: 90}
}

// OfferList is the offers in force: the standard one when none are set.
func (p Program) OfferList() []Offer {
	if len(p.Offers) == 0 {
		return []Offer{StandardOffer}
	}
	return p.Offers
}

// Offer returns the offer of that name.
func (p Program) Offer(name string) (Offer, bool) {
	for _, o := range p.OfferList() {
		if o.Name == name {
			return o, true
		}
	}
	return Offer{}, false
}

// PickOffer is the offer a referrer gets on first use: a hash of (tenant,
// customer, test) into buckets as wide as the offers' weights. It is only
// the first assignment; OfferOf stores it, and the stored one holds however
// the offers change later.
func (p Program) PickOffer(customerID int64) Offer {
	offers := p.OfferList()
	var total uint64
	for _, o := range offers {
		total += uint64(o.weight())
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%d/%s", p.TenantID, customerID, OfferTest)
	x := h.Sum64() % total
	for _, o := range offers {
		if x < uint64(o.weight()) {
			return o
		}
		x -= uint64(o.weight())
	}
	return offers[len(offers)-1]
}

func (o Offer) weight() int {
	if o.Weight <= 0 {
		return 1
	}
	return o.Weight
}

func (r Reward) validate(f apperror.Fields, field string) {
	switch r.Kind {
	case RewardPercentNextInvoice:
		if r.Bps < 1 || r.Bps > 10000 {
			f.Add(field+".bps", "must be between 1 and 10000 basis points")
		}
	case RewardFixedCredit:
		if r.AmountCents < 1 || r.AmountCents > 10_000_000 {
			f.Add(field+".amount_cents", "must be a positive amount in cents")
		}
	case RewardFreeAddon:
		if strings.TrimSpace(r.AddonName) == "" {
			f.Add(field+".addon_name", "must name the add-on")
		} else {
			text.Field(f, field+".addon_name", r.AddonName, text.Line, true, 200)
		}
		if r.AmountCents < 0 || r.AmountCents > 10_000_000 {
			f.Add(field+".amount_cents", "must be the add-on's value in cents")
		}
	case RewardPoints:
		if r.Points < 1 || r.Points > 1_000_000 {
			f.Add(field+".points", "must be a positive number of points")
		}
	default:
		f.Add(field+".kind", "must be percent_next_invoice, fixed_credit, free_addon or points")
	}
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
	if !contact.ValidRegion(p.Country) {
		f.Add("country", "must be an ISO 3166 country code such as US or DE")
	}
	if len(p.Offers) > 5 {
		f.Add("offers", "at most 5 offer variants")
	}
	names := map[string]bool{}
	for i, o := range p.Offers {
		field := fmt.Sprintf("offers[%d]", i)
		if o.Name == "" || text.Check(o.Name, text.Line, 40) != nil || strings.TrimSpace(o.Name) != o.Name {
			f.Add(field+".name", "must be a short name such as A or B")
		} else if names[o.Name] {
			f.Add(field+".name", "is used twice")
		}
		names[o.Name] = true
		if o.Weight < 0 || o.Weight > 1000 {
			f.Add(field+".weight", "must be between 1 and 1000 (left out: 1)")
		}
		o.Referee.validate(f, field+".referee")
		o.Referrer.validate(f, field+".referrer")
	}
	if p.ReferrerCap < 1 || p.ReferrerCap > 10000 {
		f.Add("referrer_cap", "must be between 1 and 10000")
	}
	if p.YearlyCap < 0 || p.YearlyCap > 10000 {
		f.Add("yearly_cap", "must be between 0 (no limit) and 10000")
	}
	if p.MonthlyBudgetCents < 0 {
		f.Add("monthly_budget_cents", "must not be negative (0 means no limit)")
	}
	if p.RewardHoldDays < 0 || p.RewardHoldDays > 365 {
		f.Add("reward_hold_days", "must be between 0 (no hold) and 365")
	}
	if p.AttributionDays < 1 || p.AttributionDays > 365 {
		f.Add("attribution_days", "must be between 1 and 365")
	}
	if p.ConvertOn != ConvertOnFirstCompletedVisit && p.ConvertOn != ConvertOnFirstPaidInvoice {
		f.Add("convert_on", "must be first_completed_visit or first_paid_invoice")
	}
	if p.BurstMax < 1 || p.BurstMax > 10000 {
		f.Add("burst_max", "must be between 1 and 10000")
	}
	if p.BurstHours < 1 || p.BurstHours > 720 {
		f.Add("burst_hours", "must be between 1 and 720")
	}
	if p.EstimatedVisitCents < 0 {
		f.Add("estimated_visit_cents", "must not be negative")
	}
	if !(p.RoadFactor >= 1 && p.RoadFactor <= 3) {
		f.Add("road_factor", "must be between 1 and 3 (road distance over straight-line distance)")
	}
	if !(p.SpeedKmh >= 5 && p.SpeedKmh <= 130) {
		f.Add("speed_kmh", "must be between 5 and 130")
	}
	if p.WorkdayMinutes < 60 || p.WorkdayMinutes > 24*60 {
		f.Add("workday_minutes", "must be between 60 and 1440")
	}
	if p.DefaultVisitMinutes < 1 || p.DefaultVisitMinutes > 24*60 {
		f.Add("default_visit_minutes", "must be between 1 and 1440")
	}
	if p.CostPerKmCents < 0 || p.CostPerKmCents > 100_000 {
		f.Add("cost_per_km_cents", "must be between 0 and 100000")
	}
	if p.LabourCentsPerMinute < 0 || p.LabourCentsPerMinute > 100_000 {
		f.Add("labour_cents_per_minute", "must be between 0 and 100000")
	}
	if p.GrossMarginBps < 0 || p.GrossMarginBps > 10000 {
		f.Add("gross_margin_bps", "must be between 0 and 10000 basis points (4000 = 40%)")
	}
	for field, v := range map[string]int{"points_per_pitch": p.PointsPerPitch, "points_per_referral": p.PointsPerReferral,
		"points_per_conversion": p.PointsPerConversion, "point_value_cents": p.PointValueCents} {
		if v < 0 || v > 100_000 {
			f.Add(field, "must be between 0 and 100000")
		}
	}
	if p.RepitchDays < 0 || p.RepitchDays > 3650 {
		f.Add("repitch_days", "must be between 0 and 3650")
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
	if len(p.Offers) == 0 { // saved before offers existed
		p.Offers = []Offer{StandardOffer}
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
	Country              *string    `json:"country"`
	Offers               *[]Offer   `json:"offers"`
	ReferrerCap          *int       `json:"referrer_cap"`
	YearlyCap            *int       `json:"yearly_cap"`
	MonthlyBudgetCents   *int64     `json:"monthly_budget_cents"`
	AttributionDays      *int       `json:"attribution_days"`
	RewardHoldDays       *int       `json:"reward_hold_days"`
	ConvertOn            *string    `json:"convert_on"`
	BurstMax             *int       `json:"burst_max"`
	BurstHours           *int       `json:"burst_hours"`
	EstimatedVisitCents  *int64     `json:"estimated_visit_cents"`
	RoadFactor           *float64   `json:"road_factor"`
	SpeedKmh             *float64   `json:"speed_kmh"`
	WorkdayMinutes       *int       `json:"workday_minutes"`
	DefaultVisitMinutes  *int       `json:"default_visit_minutes"`
	CostPerKmCents       *int       `json:"cost_per_km_cents"`
	LabourCentsPerMinute *int       `json:"labour_cents_per_minute"`
	GrossMarginBps       *int       `json:"gross_margin_bps"`
	PointsPerPitch       *int       `json:"points_per_pitch"`
	PointsPerReferral    *int       `json:"points_per_referral"`
	PointsPerConversion  *int       `json:"points_per_conversion"`
	PointValueCents      *int       `json:"point_value_cents"`
	RepitchDays          *int       `json:"repitch_days"`
	UpdatedAt            *time.Time `json:"updated_at"`
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// Apply returns p with the input's fields changed, validated.
func (p Program) Apply(in Input) (Program, error) {
	set(&p.NeighborRadiusM, in.NeighborRadiusM)
	set(&p.SyncDiscountBps, in.SyncDiscountBps)
	set(&p.MaxDiscountBps, in.MaxDiscountBps)
	set(&p.SyncRequiresSameCrew, in.SyncRequiresSameCrew)
	set(&p.ServiceAreas, in.ServiceAreas)
	set(&p.Country, in.Country)
	set(&p.Offers, in.Offers)
	if in.Offers != nil {
		p.Offers = append([]Offer(nil), p.Offers...)
		for i := range p.Offers {
			p.Offers[i].Name = strings.TrimSpace(p.Offers[i].Name)
		}
	}
	if len(p.Offers) == 0 {
		p.Offers = []Offer{StandardOffer}
	}
	set(&p.ReferrerCap, in.ReferrerCap)
	set(&p.YearlyCap, in.YearlyCap)
	set(&p.MonthlyBudgetCents, in.MonthlyBudgetCents)
	set(&p.AttributionDays, in.AttributionDays)
	set(&p.RewardHoldDays, in.RewardHoldDays)
	set(&p.ConvertOn, in.ConvertOn)
	set(&p.BurstMax, in.BurstMax)
	set(&p.BurstHours, in.BurstHours)
	set(&p.EstimatedVisitCents, in.EstimatedVisitCents)
	set(&p.RoadFactor, in.RoadFactor)
	set(&p.SpeedKmh, in.SpeedKmh)
	set(&p.WorkdayMinutes, in.WorkdayMinutes)
	set(&p.DefaultVisitMinutes, in.DefaultVisitMinutes)
	set(&p.CostPerKmCents, in.CostPerKmCents)
	set(&p.LabourCentsPerMinute, in.LabourCentsPerMinute)
	set(&p.GrossMarginBps, in.GrossMarginBps)
	set(&p.PointsPerPitch, in.PointsPerPitch)
	set(&p.PointsPerReferral, in.PointsPerReferral)
	set(&p.PointsPerConversion, in.PointsPerConversion)
	set(&p.PointValueCents, in.PointValueCents)
	set(&p.RepitchDays, in.RepitchDays)
	p.Country = strings.ToUpper(p.Country)
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

// Percent writes basis points, the program's unit for discounts and
// rewards, as people read them: 1000 → "10%", 1250 → "12.50%". Invoice
// lines, scripts and pages all write a rate with it.
func Percent(bps int) string {
	if bps%100 == 0 {
		return fmt.Sprintf("%d%%", bps/100)
	}
	return fmt.Sprintf("%.2f%%", float64(bps)/100)
}

// Describe says in plain words what the reward gives; first is what a
// percent reward applies to ("your first visit", "your next invoice").
func (r Reward) Describe(first string) string {
	switch r.Kind {
	case RewardPercentNextInvoice:
		return Percent(r.Bps) + " off " + first
	case RewardFixedCredit:
		return fmt.Sprintf("a %d.%02d credit on %s", r.AmountCents/100, r.AmountCents%100, first)
	case RewardFreeAddon:
		return "a free " + strings.ToLower(r.AddonName)
	case RewardPoints:
		return fmt.Sprintf("%d points", r.Points)
	}
	return ""
}
