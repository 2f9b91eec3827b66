package dispatch

import (
	"context"

	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/program"
)

// MeasureDirect is route savings worked out from the facts alone, past the
// rollup: the oracle the rollup is checked against.
func (s *Service) MeasureDirect(ctx context.Context, tenantID string, from, to localdate.Date) ([]SavingsRow, error) {
	db := s.store.DB.WithContext(ctx)
	crews, err := loadCrews(db, tenantID)
	if err != nil {
		return nil, err
	}
	prog, err := program.Get(db, tenantID)
	if err != nil {
		return nil, err
	}
	days, err := s.measure(db, tenantID, prog, crews, from, to)
	if err != nil {
		return nil, err
	}
	return savingsRows(days, crews, prog), nil
}
