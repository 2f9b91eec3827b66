package neighbor

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/program"
)

// UpdateProgram changes the tenant's settings and brings what depends on
// them up to date: open links beyond a smaller radius end today, and every
// draft invoice is recomputed with the new rates. Issued invoices keep theirs.
func (s *Service) UpdateProgram(ctx context.Context, tenantID string, in program.Input) (program.Program, error) {
	var saved program.Program
	err := s.store.Tx(ctx, func(tx *gorm.DB) error {
		cur, err := program.Get(tx, tenantID)
		if err != nil {
			return err
		}
		next, err := cur.Apply(in)
		if err != nil {
			return err
		}
		if saved, err = program.Save(tx, next, s.now()); err != nil {
			return err
		}
		if next.NeighborRadiusM < cur.NeighborRadiusM {
			return s.endLinksBeyond(tx, tenantID, next.NeighborRadiusM)
		}
		return nil
	})
	if err != nil {
		return program.Program{}, err
	}
	var drafts []int64
	if err := s.store.DB.WithContext(ctx).Raw(`SELECT id FROM invoices WHERE tenant_id = ? AND status = 'draft' ORDER BY id`, tenantID).Scan(&drafts).Error; err != nil {
		return saved, fmt.Errorf("find drafts: %w", err)
	}
	for _, batch := range chunks(drafts) {
		if err := s.store.Tx(ctx, func(tx *gorm.DB) error { return s.recompute(tx, tenantID, batch) }); err != nil {
			return saved, err
		}
	}
	for _, fn := range s.onProgram {
		if err := fn(ctx, tenantID); err != nil {
			return saved, err
		}
	}
	return saved, nil
}

// OnProgramChange registers fn to run after the program was updated (the
// referral engine releases rewards a raised budget now allows).
func (s *Service) OnProgramChange(fn func(ctx context.Context, tenantID string) error) {
	s.onProgram = append(s.onProgram, fn)
}

func (s *Service) endLinksBeyond(tx *gorm.DB, tenantID string, radiusM int) error {
	var far []Link
	if err := tx.Where("tenant_id = ? AND ends_on IS NULL AND distance_m > ?", tenantID, radiusM).Find(&far).Error; err != nil {
		return fmt.Errorf("read links: %w", err)
	}
	if len(far) == 0 {
		return nil
	}
	today, err := s.today(tx, tenantID)
	if err != nil {
		return err
	}
	for _, l := range far {
		day := today
		if day.Before(l.StartsOn) {
			day = l.StartsOn
		}
		if err := s.end(tx, tenantID, l, day, fmt.Sprintf("the program radius became %d m; they live %d m apart", radiusM, l.DistanceM)); err != nil {
			return err
		}
	}
	return nil
}
