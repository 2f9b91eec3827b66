package referral

import (
	"fmt"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/ledger"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/tenant"
)

// A reward's life: granted at once, or — when the program holds rewards
// (reward_hold_days) — held until the hold passes and then admitted. To be
// admitted is to pass the referrer caps (capped: never paid, with why) and
// fit the month's budget (pending_budget: waits, released oldest first).
// A hold whose qualifying visit is cancelled (or moved away), or whose
// invoice billing it is voided (and not billed again), voids the
// conversion's rewards, and the referral waits for the friend to qualify
// again.

// More reward statuses.
const (
	RewardHeld   = "held"
	RewardVoided = "voided"
)

// EventRewardVoided: a held reward will never be paid.
const EventRewardVoided = "reward.voided"

// grant adds one side's reward to the ledger, once (idempotency key): held
// for the program's hold period, or admitted now — each with its reason.
func (s *Service) grant(tx *gorm.DB, tenantID string, prog program.Program, r Referral, role string, customerID int64,
	spec program.Reward, today localdate.Date, reason string) error {
	// One referrer's conversions are counted one at a time.
	if err := store.LockRows(tx.Table("customers")).Where("id = ?", customerID).Select("id").Scan(&struct{ ID int64 }{}).Error; err != nil {
		return fmt.Errorf("lock customer: %w", err)
	}
	value, err := s.valueOf(tx, tenantID, prog, customerID, spec)
	if err != nil {
		return err
	}
	status, month, holdUntil := RewardHeld, "", ""
	if prog.RewardHoldDays > 0 {
		holdUntil = today.AddDays(prog.RewardHoldDays).String()
		reason += fmt.Sprintf("; held until %s: the program waits %d days before a reward counts", holdUntil, prog.RewardHoldDays)
	} else if status, month, reason, err = s.admit(tx, tenantID, prog, role, customerID, value, today, reason); err != nil {
		return err
	}
	key := fmt.Sprintf("referral:%d:%s", r.ID, role)
	res := tx.Exec(`INSERT INTO rewards (tenant_id, customer_id, referral_id, role, kind, bps, amount_cents, points, addon_name,
			value_cents, status, budget_month, hold_until, reason, idempotency_key, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, idempotency_key) DO NOTHING`,
		tenantID, customerID, r.ID, role, spec.Kind, spec.Bps, spec.AmountCents, spec.Points, spec.AddonName,
		value, status, month, holdUntil, reason, key, s.clock.Now())
	if res.Error != nil {
		return fmt.Errorf("record reward: %w", res.Error)
	}
	if res.RowsAffected == 1 {
		return s.announceStatus(tx, tenantID, status, key)
	}
	return nil
}

// announceStatus emits the event of a reward's new status (none for a
// capped reward, which is explained on the referrer's ledger instead).
func (s *Service) announceStatus(tx *gorm.DB, tenantID, status, key string) error {
	kind := map[string]string{RewardGranted: EventRewardGranted, RewardPendingBudget: EventRewardHeld, RewardHeld: EventRewardHeld,
		RewardVoided: EventRewardVoided}[status]
	if kind == "" {
		return nil
	}
	return s.announceReward(tx, tenantID, kind, key)
}

// admit decides what becomes of a reward now: capped, waiting for the
// budget, or granted in this month's budget; with the reason extended.
func (s *Service) admit(tx *gorm.DB, tenantID string, prog program.Program, role string, customerID, value int64,
	today localdate.Date, reason string) (status, month, why string, err error) {
	status, why = RewardGranted, reason
	if role == "referrer" {
		var total, thisYear int64
		if err := tx.Raw(`SELECT COUNT(*) FROM rewards WHERE tenant_id = ? AND customer_id = ? AND role = 'referrer' AND status IN ('granted', 'pending_budget')`,
			tenantID, customerID).Scan(&total).Error; err != nil {
			return "", "", "", fmt.Errorf("count rewards: %w", err)
		}
		loc, err := tenant.LocationOf(tx, tenantID)
		if err != nil {
			return "", "", "", err
		}
		yearStart := localdate.Date{Year: today.Year, Month: 1, Day: 1}.Start(loc)
		if err := tx.Raw(`SELECT COUNT(*) FROM rewards WHERE tenant_id = ? AND customer_id = ? AND role = 'referrer' AND status IN ('granted', 'pending_budget') AND created_at >= ?`,
			tenantID, customerID, yearStart.UTC()).Scan(&thisYear).Error; err != nil {
			return "", "", "", fmt.Errorf("count rewards: %w", err)
		}
		if why := referrerCapped(prog, total, thisYear, reason); why != "" {
			return RewardCapped, "", why, nil
		}
	}
	month = monthOf(today)
	if budgeted(prog, value) {
		// The month's budget is a ceiling however many conversions race.
		if err := store.LockNames(tx, budgetLock(tenantID, month)); err != nil {
			return "", "", "", err
		}
		if _, err := s.releaseBudget(tx, tenantID, prog, today); err != nil {
			return "", "", "", err
		}
		used, waiting, err := budgetUse(tx, tenantID, month)
		if err != nil {
			return "", "", "", err
		}
		// Rewards already waiting are released first, in order.
		if waiting > 0 || !fitsBudget(prog, used, value) {
			why += fmt.Sprintf("; held: this month's reward budget of %s is used up — it is released in order when budget frees up", ledger.Cents(prog.MonthlyBudgetCents))
			return RewardPendingBudget, "", why, nil
		}
	}
	return status, month, why, nil
}

// referrerCapped explains why a referrer's reward is not paid ("" when it
// is): total and thisYear count their rewards that count (granted or
// waiting for the budget), in all and since the tenant-local year began.
// The cap-th reward is paid, the next is capped; a yearly cap of 0 is
// none. reason is the reward's own.
func referrerCapped(prog program.Program, total, thisYear int64, reason string) string {
	switch {
	case int(total) >= prog.ReferrerCap:
		return fmt.Sprintf("no reward: you have reached the program's cap of %d rewarded referrals (%s)", prog.ReferrerCap, reason)
	case prog.YearlyCap > 0 && int(thisYear) >= prog.YearlyCap:
		return fmt.Sprintf("no reward: you have reached this year's cap of %d rewarded referrals (%s)", prog.YearlyCap, reason)
	}
	return ""
}

// budgeted reports whether a reward worth value counts against the
// month's budget: the program has one (0 is none) and the reward is worth
// something.
func budgeted(prog program.Program, value int64) bool {
	return prog.MonthlyBudgetCents > 0 && value > 0
}

// fitsBudget reports whether a reward worth value fits what the month's
// budget has left once used is spent: one that fits to the cent does;
// every reward fits a program without a budget.
func fitsBudget(prog program.Program, used, value int64) bool {
	return prog.MonthlyBudgetCents <= 0 || used+value <= prog.MonthlyBudgetCents
}

// heldReward is a held reward with what qualified its referral, and
// whether that still stands: the visit still completed and the friend's,
// and not billed only on void invoices (a void and reissue keeps it); or
// the paid invoice not void.
type heldReward struct {
	Reward
	Stands bool
}

// held reads the tenant's held rewards (of the referrals named, or all),
// with whether their qualifying visit or invoice still stands.
func held(tx *gorm.DB, tenantID string, where string, args ...any) ([]heldReward, error) {
	var hs []heldReward
	err := tx.Raw(`SELECT w.*, (CASE
			WHEN r.qualified_visit_id IS NOT NULL THEN EXISTS (SELECT 1 FROM visits v WHERE v.id = r.qualified_visit_id
			    AND v.status = 'completed' AND v.customer_id = r.referee_customer_id
			    AND (NOT EXISTS (SELECT 1 FROM invoice_lines l WHERE l.tenant_id = v.tenant_id AND l.visit_id = v.id AND l.kind = 'service')
			      OR EXISTS (SELECT 1 FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
			          WHERE l.tenant_id = v.tenant_id AND l.visit_id = v.id AND l.kind = 'service' AND i.status <> 'void')))
			WHEN r.qualified_invoice_id IS NOT NULL THEN EXISTS (SELECT 1 FROM invoices i WHERE i.id = r.qualified_invoice_id
			    AND i.status <> 'void')
			ELSE TRUE END) AS stands
		FROM rewards w JOIN referrals r ON r.id = w.referral_id
		WHERE w.tenant_id = ? AND w.status = 'held' AND `+where+` ORDER BY w.id`, append([]any{tenantID}, args...)...).Scan(&hs).Error
	if err != nil {
		return nil, fmt.Errorf("read held rewards: %w", err)
	}
	return hs, nil
}

// ReleaseHolds admits the held rewards whose hold has passed (today is the
// tenant-local day), and voids those whose qualifying visit or invoice no
// longer stands; inside the caller's transaction. It answers how many it
// settled.
func (s *Service) ReleaseHolds(tx *gorm.DB, tenantID string) (int, error) {
	loc, err := tenant.LocationOf(tx, tenantID)
	if err != nil {
		return 0, err
	}
	today := localdate.In(s.clock.Now(), loc)
	hs, err := held(tx, tenantID, "w.hold_until <= ?", today.String())
	if err != nil || len(hs) == 0 {
		return 0, err
	}
	prog, err := program.Get(tx, tenantID)
	if err != nil {
		return 0, err
	}
	var touched []int64
	for _, h := range hs {
		if !h.Stands {
			if err := s.voidHeld(tx, tenantID, h.ReferralID); err != nil {
				return 0, err
			}
			continue
		}
		status, month, why, err := s.admit(tx, tenantID, prog, h.Role, h.CustomerID, h.ValueCents, today, h.Reason)
		if err != nil {
			return 0, err
		}
		if err := tx.Exec(`UPDATE rewards SET status = ?, budget_month = ?, reason = ?, released_at = ? WHERE id = ? AND status = 'held'`,
			status, month, why+"; the hold passed on "+h.HoldUntil, s.clock.Now(), h.ID).Error; err != nil {
			return 0, fmt.Errorf("admit held reward: %w", err)
		}
		if err := s.announceStatus(tx, tenantID, status, h.IdempotencyKey); err != nil {
			return 0, err
		}
		touched = append(touched, h.CustomerID)
	}
	return len(hs), s.ledger.Refresh(tx, tenantID, touched...)
}

// voidHeld voids the held rewards of a converted referral whose qualifying
// visit or invoice no longer stands, and sends the referral back to
// pending: the friend may qualify again (and earn them then).
func (s *Service) voidHeld(tx *gorm.DB, tenantID string, referralID int64) error {
	var hs []Reward
	if err := tx.Where("tenant_id = ? AND referral_id = ? AND status = 'held'", tenantID, referralID).Order("id").Find(&hs).Error; err != nil {
		return fmt.Errorf("read held rewards: %w", err)
	}
	if len(hs) == 0 {
		return nil
	}
	why := "voided during the hold: the visit or invoice that converted the referral was cancelled, moved or voided"
	for _, h := range hs {
		// The key is freed, so a later qualifying visit can earn the reward again.
		voidedKey := fmt.Sprintf("%s:voided:%d", h.IdempotencyKey, h.ID)
		if err := tx.Exec(`UPDATE rewards SET status = 'voided', reason = ?, idempotency_key = ?, released_at = ? WHERE id = ?`,
			h.Reason+"; "+why, voidedKey, s.clock.Now(), h.ID).Error; err != nil {
			return fmt.Errorf("void held reward: %w", err)
		}
		if err := s.announceStatus(tx, tenantID, RewardVoided, voidedKey); err != nil {
			return err
		}
	}
	if err := tx.Exec(`UPDATE referrals SET status = 'pending', converted_at = NULL, qualified_visit_id = NULL, qualified_invoice_id = NULL,
			note = ?, updated_at = ? WHERE id = ? AND status = 'converted'`, "rewards "+why+"; waiting for the friend to qualify again",
		s.clock.Now(), referralID).Error; err != nil {
		return fmt.Errorf("reopen referral: %w", err)
	}
	return s.decide(tx, tenantID, referralID, "rewards_voided", "system", why)
}

// undoneDuringHold voids the held rewards of referrals that a visit or an
// invoice qualified, when it no longer stands.
func (s *Service) undoneDuringHold(tx *gorm.DB, tenantID, column string, id int64) error {
	hs, err := held(tx, tenantID, "r."+column+" = ?", id)
	if err != nil {
		return err
	}
	for _, h := range hs {
		if !h.Stands {
			if err := s.voidHeld(tx, tenantID, h.ReferralID); err != nil {
				return err
			}
		}
	}
	return nil
}

// visitUndone reports a write that takes a completed visit back (cancelled,
// scheduled again, or moved to another customer).
func visitUndone(ch mirror.VisitChange) bool {
	b := ch.Before
	return b != nil && b.Status == mirror.VisitCompleted &&
		(ch.Visit.Status != mirror.VisitCompleted || ch.Visit.CustomerID != b.CustomerID)
}
