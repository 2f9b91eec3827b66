package neighbor

import (
	"context"
	"fmt"
	"slices"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/store"
)

// UpdateProgram changes the tenant's settings and, in the same
// transaction, brings what depends on them up to date: open links beyond a
// smaller radius end today, every customer with a draft has it re-filled
// with the new rates (issued invoices keep the terms they were issued
// under), and the program listeners run (rewards a raised budget frees).
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
		var customers []int64
		if err := tx.Raw(`SELECT DISTINCT customer_id FROM invoices WHERE tenant_id = ? AND status = 'draft'`, tenantID).Scan(&customers).Error; err != nil {
			return fmt.Errorf("find drafts: %w", err)
		}
		if next.NeighborRadiusM < cur.NeighborRadiusM {
			ended, err := s.endLinksBeyond(tx, tenantID, next.NeighborRadiusM)
			if err != nil {
				return err
			}
			customers = append(customers, ended...)
		}
		if err := store.LockCustomers(tx, tenantID, customers...); err != nil {
			return err
		}
		for batch := range slices.Chunk(customers, store.MaxInList) {
			if err := s.ledger.Refresh(tx, tenantID, batch...); err != nil {
				return err
			}
		}
		for _, fn := range s.onProgram {
			if err := fn(tx, tenantID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return program.Program{}, err
	}
	return saved, nil
}

// OnProgramChange registers fn to run inside the transaction that updates
// the program (the referral engine releases rewards a raised budget now
// allows).
func (s *Service) OnProgramChange(fn func(tx *gorm.DB, tenantID string) error) {
	s.onProgram = append(s.onProgram, fn)
}

// endLinksBeyond ends the open links longer than radiusM today and returns
// their customers.
func (s *Service) endLinksBeyond(tx *gorm.DB, tenantID string, radiusM int) ([]int64, error) {
	var far []Link
	if err := tx.Where("tenant_id = ? AND ends_on IS NULL AND distance_m > ?", tenantID, radiusM).Find(&far).Error; err != nil {
		return nil, fmt.Errorf("read links: %w", err)
	}
	if len(far) == 0 {
		return nil, nil
	}
	today, err := s.today(tx, tenantID)
	if err != nil {
		return nil, err
	}
	var customers []int64
	for _, l := range far {
		day := today
		if day.Before(l.StartsOn) {
			day = l.StartsOn
		}
		if err := s.endOnly(tx, tenantID, l, day, fmt.Sprintf("the program radius became %d m; they live %d m apart", radiusM, l.DistanceM)); err != nil {
			return nil, err
		}
		customers = append(customers, l.CustomerAID, l.CustomerBID)
	}
	return customers, nil
}
