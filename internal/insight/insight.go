// Package insight answers the owner's questions: does the program earn more
// than it costs (KPIs with ROI and route savings), which offer or script
// converts better (A/B with a two-proportion z-test), and what word of mouth
// the ratings predict.
package insight

import (
	"context"
	"fmt"
	"time"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/dispatch"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/tenant"
)

// Service computes insights.
type Service struct {
	store *store.Store
	clock clock.Clock
	// dispatch owns the definition of route savings; insights only read it.
	dispatch *dispatch.Service
}

// NewService returns the insight service.
func NewService(s *store.Store, c clock.Clock) *Service {
	return &Service{store: s, clock: c, dispatch: dispatch.NewService(s, c, nil)}
}

// MaxRangeYears bounds a period: longer ones are refused, not slowly
// answered. The KPIs measure the period's route savings, so it is the
// route-savings bound.
const MaxRangeYears = dispatch.MaxSavingsYears

// DefaultDays is the period when from and to are not given: the last 30
// tenant-local days, today included.
const DefaultDays = 30

// Period is a range of tenant-local days, both ends included.
type Period struct {
	From localdate.Date `json:"from"`
	To   localdate.Date `json:"to"`
}

// bounds are the UTC instants [start, end) of a period in the tenant's zone.
func (p Period) bounds(loc *time.Location) (time.Time, time.Time) {
	return p.From.Start(loc).UTC(), p.To.AddDays(1).Start(loc).UTC()
}

// period fills a missing end from today (the last DefaultDays days ending
// today, or DefaultDays from a given from) and checks the range.
func period(from, to *localdate.Date, today localdate.Date) (Period, error) {
	var p Period
	switch {
	case from == nil && to == nil:
		p = Period{From: today.AddDays(-(DefaultDays - 1)), To: today}
	case from == nil:
		p = Period{From: to.AddDays(-(DefaultDays - 1)), To: *to}
	case to == nil:
		p = Period{From: *from, To: today}
		if today.Before(*from) {
			p.To = from.AddDays(DefaultDays - 1)
		}
	default:
		p = Period{From: *from, To: *to}
	}
	if p.To.Before(p.From) {
		return p, apperror.Invalid("to", "must not be before from")
	}
	limit := localdate.Of(p.From.Start(time.UTC).AddDate(MaxRangeYears, 0, 0))
	if !p.To.Before(limit) {
		return p, apperror.Invalid("to", fmt.Sprintf("the range may span at most %d years", MaxRangeYears))
	}
	return p, nil
}

// Range is what a caller asks for: optional days, read in the tenant's zone.
type Range struct {
	From *localdate.Date
	To   *localdate.Date
}

// resolve reads the tenant's zone and turns a Range into a checked Period.
func (s *Service) resolve(ctx context.Context, tenantID string, r Range) (Period, *time.Location, error) {
	loc, err := tenant.LocationOf(s.store.DB.WithContext(ctx), tenantID)
	if err != nil {
		return Period{}, nil, err
	}
	p, err := period(r.From, r.To, localdate.In(s.clock.Now(), loc))
	return p, loc, err
}
