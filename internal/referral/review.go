package referral

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/text"
)

// Decision is the body of approve, reject and attribute.
type Decision struct {
	Reason     string `json:"reason"`
	ReferrerID string `json:"referrer_id"` // attribute only
}

func (d Decision) check(requireReason bool) error {
	switch {
	case requireReason && strings.TrimSpace(d.Reason) == "":
		return apperror.Invalid("reason", "say why")
	case d.ReferrerID != "" && mirror.CheckExternalID(d.ReferrerID) != nil:
		return apperror.Invalid("referrer_id", mirror.CheckExternalID(d.ReferrerID).Error())
	}
	if err := text.Invalid("reason", d.Reason, text.Free, 500); err != nil {
		return err
	}
	return nil
}

// lockReferral reads a referral for update within the tenant.
func lockReferral(tx *gorm.DB, tenantID string, id int64) (Referral, error) {
	var rs []Referral
	if err := store.LockRows(store.Tenant(tx, tenantID)).Where("id = ?", id).Limit(1).Find(&rs).Error; err != nil {
		return Referral{}, fmt.Errorf("read referral: %w", err)
	}
	if len(rs) == 0 {
		return Referral{}, apperror.NotFound("referral %d not found", id)
	}
	return rs[0], nil
}

// Approve clears a flagged referral for conversion (and converts it at once
// if the friend's first visit is already done).
func (s *Service) Approve(ctx context.Context, tenantID string, id int64, actor string, d Decision) (Referral, error) {
	if err := d.check(false); err != nil {
		return Referral{}, err
	}
	err := s.store.Tx(ctx, func(tx *gorm.DB) error {
		r, err := lockReferral(tx, tenantID, id)
		if err != nil {
			return err
		}
		if r.Status != StatusPendingReview {
			return apperror.Conflict("referral %d is %s, not waiting for review", id, r.Status)
		}
		if r.ReferrerID == nil {
			return apperror.Unprocessable("referral %d has no referrer yet: attribute it to a customer first", id)
		}
		if r.RefereeCustomerID != nil && *r.RefereeCustomerID == *r.ReferrerID {
			return apperror.Unprocessable("referral %d names the referrer as their own friend: reject it instead", id)
		}
		if err := tx.Exec(`UPDATE referrals SET status = 'pending', updated_at = ? WHERE id = ?`, s.clock.Now(), id).Error; err != nil {
			return fmt.Errorf("approve: %w", err)
		}
		if err := s.decide(tx, tenantID, id, "approved", actor, d.Reason); err != nil {
			return err
		}
		if r.RefereeCustomerID == nil {
			return nil
		}
		prog, err := program.Get(tx, tenantID)
		if err != nil {
			return err
		}
		return s.convert(tx, tenantID, prog, id, actor) // if the friend has qualified
	})
	if err != nil {
		return Referral{}, err
	}
	return s.Get(ctx, tenantID, id)
}

// Reject closes a referral; it earns nothing. A reason is required.
func (s *Service) Reject(ctx context.Context, tenantID string, id int64, actor string, d Decision) (Referral, error) {
	if err := d.check(true); err != nil {
		return Referral{}, err
	}
	err := s.store.Tx(ctx, func(tx *gorm.DB) error {
		r, err := lockReferral(tx, tenantID, id)
		if err != nil {
			return err
		}
		if r.Status != StatusPending && r.Status != StatusPendingReview {
			return apperror.Conflict("referral %d is %s and can no longer be rejected", id, r.Status)
		}
		if err := tx.Exec(`UPDATE referrals SET status = 'rejected', note = ?, updated_at = ? WHERE id = ?`,
			"rejected: "+d.Reason, s.clock.Now(), id).Error; err != nil {
			return fmt.Errorf("reject: %w", err)
		}
		if err := s.decide(tx, tenantID, id, "rejected", actor, d.Reason); err != nil {
			return err
		}
		return s.closed(tx, tenantID, id, StatusRejected, "rejected: "+d.Reason)
	})
	if err != nil {
		return Referral{}, err
	}
	return s.Get(ctx, tenantID, id)
}

// Attribute sets the referrer of a referral whose friend named someone the
// engine could not pick with confidence; it stays in review until approved.
func (s *Service) Attribute(ctx context.Context, tenantID string, id int64, actor string, d Decision) (Referral, error) {
	if err := d.check(false); err != nil {
		return Referral{}, err
	}
	if d.ReferrerID == "" {
		return Referral{}, apperror.Invalid("referrer_id", "name the customer who referred")
	}
	err := s.store.Tx(ctx, func(tx *gorm.DB) error {
		r, err := lockReferral(tx, tenantID, id)
		if err != nil {
			return err
		}
		if r.ReferrerID != nil {
			return apperror.Conflict("referral %d already has its referrer", id)
		}
		if r.Status != StatusPendingReview {
			return apperror.Conflict("referral %d is %s, not waiting for review", id, r.Status)
		}
		ps, err := findPeople(tx, tenantID, "external_id = ?", d.ReferrerID)
		if err != nil {
			return err
		}
		if len(ps) == 0 {
			return apperror.Invalid("referrer_id", "no customer with id "+d.ReferrerID)
		}
		prog, err := program.Get(tx, tenantID)
		if err != nil {
			return err
		}
		// A variant stated with the referral stays, with the rewards it
		// promised; else the referrer's (assigned now if they have none).
		variant, offer, err := promise(tx, prog, &ps[0], r.Variant, r.Offer, s.clock.Now())
		if err != nil {
			return err
		}
		res := tx.Exec(`UPDATE referrals SET referrer_id = ?, variant = ?, offer = ?, updated_at = ? WHERE id = ?`,
			ps[0].ID, variant, offer, s.clock.Now(), id)
		if store.IsUniqueViolation(res.Error) {
			return apperror.Conflict("%s already referred this friend", d.ReferrerID)
		}
		if res.Error != nil {
			return fmt.Errorf("attribute: %w", res.Error)
		}
		if err := s.decide(tx, tenantID, id, "attributed", actor, fmt.Sprintf("referrer set to %s. %s", d.ReferrerID, d.Reason)); err != nil {
			return err
		}
		// With its referrer known, the checks that need one run now.
		_, err = s.recheck(tx, tenantID, id, "when the referrer was named")
		return err
	})
	if err != nil {
		return Referral{}, err
	}
	return s.Get(ctx, tenantID, id)
}
