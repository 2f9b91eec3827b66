// Package crew is the crew program: scripts read on site, satisfaction
// first (pitch only happy customers), pitches logged, crew points and team
// milestones.
package crew

import (
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/events"
	"github.com/routeloop/routeloop/internal/referral"
	"github.com/routeloop/routeloop/internal/store"
	"gorm.io/gorm"
)

// Service runs the crew program.
type Service struct {
	store     *store.Store
	clock     clock.Clock
	referrals *referral.Service
	events    events.Emitter
}

// NewService returns the crew program.
func NewService(s *store.Store, c clock.Clock, r *referral.Service, em events.Emitter) *Service {
	if em == nil {
		em = events.Discard{}
	}
	svc := &Service{store: s, clock: c, referrals: r, events: em}
	if r != nil {
		r.OnConverted(svc.converted)
		// Points earned for a referral that is rejected, a duplicate or
		// expired are taken back by a ledger entry.
		r.OnClosed(svc.closed)
		// A crew-attributed referral can reach a "referrals" milestone even
		// when it is recorded through the API rather than a pitch.
		r.OnCreated(func(tx *gorm.DB, tenantID string, _ int64, crewMemberID *int64) error {
			if crewMemberID == nil {
				return nil
			}
			return svc.checkMilestones(tx, tenantID)
		})
	}
	return svc
}
