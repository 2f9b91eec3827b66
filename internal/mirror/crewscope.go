package mirror

import (
	"context"
	"fmt"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/store"
)

// A crew-bound key sees the mirror through its crew: the crew itself, the
// crew's visits, and the customers with a visit of the crew (any day, any
// status) — "the customers on its routes". Everything else answers exactly
// as an unknown id does, so another crew's ids don't leak.

// onRoutes is the condition "customer c has a visit of crew ?".
const onRoutes = `EXISTS (SELECT 1 FROM visits rv WHERE rv.tenant_id = customers.tenant_id AND rv.customer_id = customers.id AND rv.crew_id = ?)`

// CustomerOnRoutes reports whether the customer (the scheduler's id) has a
// visit of the crew (internal id).
func (s *Service) CustomerOnRoutes(ctx context.Context, tenantID string, crewID int64, externalID string) (bool, error) {
	return s.exists(ctx, `SELECT 1 FROM customers WHERE tenant_id = ? AND external_id = ? AND `+onRoutes, tenantID, externalID, crewID)
}

// CodeOnRoutes reports whether the referral code is that of a customer with
// a visit of the crew.
func (s *Service) CodeOnRoutes(ctx context.Context, tenantID string, crewID int64, code string) (bool, error) {
	return s.exists(ctx, `SELECT 1 FROM customers WHERE tenant_id = ? AND referral_code = ? AND `+onRoutes, tenantID, code, crewID)
}

// VisitOfCrew reports whether the visit (the scheduler's id) is the crew's.
func (s *Service) VisitOfCrew(ctx context.Context, tenantID string, crewID int64, externalID string) (bool, error) {
	return s.exists(ctx, `SELECT 1 FROM visits WHERE tenant_id = ? AND external_id = ? AND crew_id = ?`, tenantID, externalID, crewID)
}

// MemberOfCrew reports whether the crew member (the scheduler's id) belongs
// to the crew.
func (s *Service) MemberOfCrew(ctx context.Context, tenantID string, crewID int64, externalID string) (bool, error) {
	return s.exists(ctx, `SELECT 1 FROM crew_members WHERE tenant_id = ? AND external_id = ? AND crew_id = ?`, tenantID, externalID, crewID)
}

// IsCrew reports whether the crew (the scheduler's id) is the crew with the
// internal id.
func (s *Service) IsCrew(ctx context.Context, tenantID string, crewID int64, externalID string) (bool, error) {
	return s.exists(ctx, `SELECT 1 FROM crews WHERE tenant_id = ? AND external_id = ? AND id = ?`, tenantID, externalID, crewID)
}

func (s *Service) exists(ctx context.Context, query string, args ...any) (bool, error) {
	var n []int
	if err := s.store.Conn(ctx).Raw(query+` LIMIT 1`, args...).Scan(&n).Error; err != nil {
		return false, fmt.Errorf("crew scope: %w", err)
	}
	return len(n) > 0, nil
}

// CrewOnly lists the one crew a crew-bound key sees, paginated like Crews.
func (s *Service) CrewOnly(ctx context.Context, tenantID string, crewID int64, p store.Page) ([]Crew, string, error) {
	var cs []Crew
	err := store.Tenant(s.store.Conn(ctx), tenantID).Where("id = ? AND id > ?", crewID, p.After).
		Order("id").Limit(p.Limit).Find(&cs).Error
	if err != nil {
		return nil, "", fmt.Errorf("list crews: %w", err)
	}
	if len(cs) == 0 {
		return cs, "", nil
	}
	ms, err := s.members(ctx, tenantID, []int64{crewID})
	if err != nil {
		return nil, "", err
	}
	cs[0].Members = ms[crewID]
	return cs, p.Next(len(cs), cs[0].ID), nil
}

// NotOnRoutes is how a crew-bound key is told an object outside its crew
// does not exist: the same not_found an unknown id gets.
func NotOnRoutes(kind, externalID string) error {
	return apperror.NotFound("%s %s not found", kind, externalID)
}
