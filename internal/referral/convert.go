package referral

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/ledger"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/scheduling"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/tenant"
)

// Reward statuses.
const (
	RewardGranted       = "granted"
	RewardPendingBudget = "pending_budget"
	RewardCapped        = "capped"
)

// Reward is an entry of the append-only reward ledger.
type Reward struct {
	ID             int64      `json:"id"`
	TenantID       string     `json:"-"`
	CustomerID     int64      `json:"-"`
	ReferralID     int64      `json:"referral_id"`
	Role           string     `json:"role"`
	Kind           string     `json:"kind"`
	Bps            int        `json:"bps,omitempty"`
	AmountCents    int64      `json:"amount_cents,omitempty"`
	Points         int        `json:"points,omitempty"`
	AddonName      string     `json:"addon_name,omitempty"`
	ValueCents     int64      `json:"value_cents"`
	Status         string     `json:"status"`
	BudgetMonth    string     `json:"budget_month,omitempty"`
	Reason         string     `json:"reason"`
	IdempotencyKey string     `json:"-"`
	CreatedAt      time.Time  `json:"created_at"`
	ReleasedAt     *time.Time `json:"released_at,omitempty"`
	// Filled for answers.
	Customer     string `json:"customer_id" gorm:"->"`
	AppliedCents int64  `json:"applied_cents" gorm:"->"`
}

// TableName is rewards.
func (Reward) TableName() string { return "rewards" }

// VisitChanged converts, inside the visit write's transaction, the pending
// referrals of a customer whose visit has just been completed (when the
// program converts on the first completed visit). A customer who is
// nobody's referee costs one query.
func (s *Service) VisitChanged(tx *gorm.DB, ch scheduling.VisitChange) error {
	if ch.Visit.Status != scheduling.VisitCompleted || (ch.Before != nil && ch.Before.Status == scheduling.VisitCompleted) {
		return nil
	}
	return s.convertReferee(tx, ch.TenantID, ch.Visit.CustomerID, program.ConvertOnFirstCompletedVisit)
}

// CustomerChanged attaches a newly mirrored customer to the open referrals
// that named them (by e-mail or phone), and converts them if their first
// visit is already done, inside the customer write's transaction.
func (s *Service) CustomerChanged(tx *gorm.DB, ch scheduling.CustomerChange) error {
	c := ch.Customer
	var norm struct {
		EmailNorm string
		PhoneNorm string
	}
	if err := tx.Raw(`SELECT email_norm, phone_norm FROM customers WHERE id = ?`, c.ID).Scan(&norm).Error; err != nil {
		return fmt.Errorf("read customer: %w", err)
	}
	if norm.EmailNorm == "" && norm.PhoneNorm == "" {
		return nil
	}
	res := tx.Exec(`UPDATE referrals SET referee_customer_id = ?, updated_at = ?
		WHERE tenant_id = ? AND referee_customer_id IS NULL AND status IN ('pending', 'pending_review')
		  AND ((referee_email_norm <> '' AND referee_email_norm = ?) OR (referee_phone_norm <> '' AND referee_phone_norm = ?))
		  AND (referrer_id IS NULL OR referrer_id <> ?)`,
		c.ID, s.clock.Now(), c.TenantID, norm.EmailNorm, norm.PhoneNorm, c.ID)
	if res.Error != nil {
		return fmt.Errorf("attach referee: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil
	}
	return s.convertReferee(tx, c.TenantID, c.ID, "")
}

// InvoiceChanged converts, inside the invoice write's transaction, the
// referrals of a customer whose invoice was just paid, when the program
// converts on the first paid invoice.
func (s *Service) InvoiceChanged(tx *gorm.DB, tenantID string, inv invoice.Invoice) error {
	if inv.Status != invoice.StatusPaid {
		return nil
	}
	return s.convertReferee(tx, tenantID, inv.CustomerID, program.ConvertOnFirstPaidInvoice)
}

// convertReferee converts the customer's pending referrals if the
// program's conversion event has happened for them (event names the event
// that just happened; "" checks both).
func (s *Service) convertReferee(tx *gorm.DB, tenantID string, customerID int64, event string) error {
	var ids []int64
	if err := tx.Raw(`SELECT id FROM referrals WHERE tenant_id = ? AND referee_customer_id = ? AND status = 'pending' ORDER BY id`,
		tenantID, customerID).Scan(&ids).Error; err != nil {
		return fmt.Errorf("find referrals: %w", err)
	}
	if len(ids) == 0 {
		return nil
	}
	prog, err := program.Get(tx, tenantID)
	if err != nil {
		return err
	}
	if event != "" && event != prog.ConvertOn {
		return nil
	}
	met, err := conversionMet(tx, tenantID, customerID, prog.ConvertOn)
	if err != nil || !met {
		return err
	}
	for _, id := range ids {
		if err := s.convert(tx, tenantID, prog, id, "system"); err != nil {
			return err
		}
	}
	return nil
}

// conversionMet reports whether the referee has done what converts.
func conversionMet(tx *gorm.DB, tenantID string, customerID int64, on string) (bool, error) {
	q := `SELECT COUNT(*) FROM visits WHERE tenant_id = ? AND customer_id = ? AND status = 'completed'`
	if on == program.ConvertOnFirstPaidInvoice {
		q = `SELECT COUNT(*) FROM invoices WHERE tenant_id = ? AND customer_id = ? AND status = 'paid'`
	}
	var n int64
	if err := tx.Raw(q, tenantID, customerID).Scan(&n).Error; err != nil {
		return false, fmt.Errorf("check conversion: %w", err)
	}
	return n > 0, nil
}

// convert marks a pending referral converted — exactly once however many
// callers race — grants both rewards, links the neighbours if they qualify
// and refreshes both customers' draft invoices.
func (s *Service) convert(tx *gorm.DB, tenantID string, prog program.Program, id int64, actor string) error {
	now := s.clock.Now()
	res := tx.Exec(`UPDATE referrals SET status = 'converted', converted_at = ?, updated_at = ? WHERE id = ? AND tenant_id = ? AND status = 'pending'`,
		now, now, id, tenantID)
	if res.Error != nil {
		return fmt.Errorf("convert referral: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil // someone else converted it, or it is not pending
	}
	var r Referral
	if err := tx.Where("id = ?", id).Take(&r).Error; err != nil {
		return fmt.Errorf("read referral: %w", err)
	}
	if r.ReferrerID == nil || r.RefereeCustomerID == nil {
		return fmt.Errorf("convert referral %d: referrer and referee must be known", id)
	}
	offer, ok := prog.Offer(r.Variant)
	if !ok {
		offer = prog.AssignOffer(*r.ReferrerID)
	}
	names := map[int64]string{}
	var people []struct {
		ID   int64
		Name string
	}
	tx.Raw(`SELECT id, name FROM customers WHERE id IN ?`, []int64{*r.ReferrerID, *r.RefereeCustomerID}).Scan(&people)
	for _, p := range people {
		names[p.ID] = p.Name
	}
	loc, err := tenant.LocationOf(tx, tenantID)
	if err != nil {
		return err
	}
	today := localdate.In(now, loc)
	if err := s.grant(tx, tenantID, prog, r, "referrer", *r.ReferrerID, offer.Referrer, today,
		fmt.Sprintf("%s, whom you referred, became a customer on %s (referral #%d)", names[*r.RefereeCustomerID], today, r.ID)); err != nil {
		return err
	}
	if err := s.grant(tx, tenantID, prog, r, "referee", *r.RefereeCustomerID, offer.Referee, today,
		fmt.Sprintf("welcome offer: referred by %s (referral #%d)", names[*r.ReferrerID], r.ID)); err != nil {
		return err
	}
	note := ""
	if s.neighbors != nil {
		l, linked, why, err := s.neighbors.LinkReferral(tx, tenantID, *r.ReferrerID, *r.RefereeCustomerID, r.ID, today)
		if err != nil {
			return err
		}
		if linked {
			note = fmt.Sprintf("neighbours linked (%d m apart): same-day visits get the sync discount", l.DistanceM)
			if err := tx.Exec(`UPDATE referrals SET distance_m = ?, within_radius = TRUE WHERE id = ?`, l.DistanceM, r.ID).Error; err != nil {
				return fmt.Errorf("record distance: %w", err)
			}
		} else {
			note = "not linked as neighbours: " + why
		}
		if err := tx.Exec(`UPDATE referrals SET note = ? WHERE id = ?`, note, r.ID).Error; err != nil {
			return fmt.Errorf("record note: %w", err)
		}
	}
	if err := s.decide(tx, tenantID, r.ID, "converted", actor, note); err != nil {
		return err
	}
	if err := s.events.Emit(tx, tenantID, EventConverted, map[string]any{"referral_id": r.ID, "variant": r.Variant}); err != nil {
		return err
	}
	for _, fn := range s.onConverted {
		if err := fn(tx, tenantID, r.ID, r.CrewMemberID); err != nil {
			return err
		}
	}
	return s.ledger.Refresh(tx, tenantID, *r.ReferrerID, *r.RefereeCustomerID)
}

// grant adds one side's reward to the ledger, once (idempotency key), as
// granted, held for the budget, or capped — each with its reason.
func (s *Service) grant(tx *gorm.DB, tenantID string, prog program.Program, r Referral, role string, customerID int64,
	spec program.Reward, today localdate.Date, reason string) error {
	// One referrer's conversions are counted one at a time.
	if err := store.LockRows(tx.Table("customers")).Where("id = ?", customerID).Select("id").Scan(&struct{ ID int64 }{}).Error; err != nil {
		return fmt.Errorf("lock customer: %w", err)
	}
	status := RewardGranted
	if role == "referrer" {
		var total, thisYear int64
		if err := tx.Raw(`SELECT COUNT(*) FROM rewards WHERE tenant_id = ? AND customer_id = ? AND role = 'referrer' AND status <> 'capped'`,
			tenantID, customerID).Scan(&total).Error; err != nil {
			return fmt.Errorf("count rewards: %w", err)
		}
		loc, err := tenant.LocationOf(tx, tenantID)
		if err != nil {
			return err
		}
		yearStart := localdate.Date{Year: today.Year, Month: 1, Day: 1}.Start(loc)
		if err := tx.Raw(`SELECT COUNT(*) FROM rewards WHERE tenant_id = ? AND customer_id = ? AND role = 'referrer' AND status <> 'capped' AND created_at >= ?`,
			tenantID, customerID, yearStart.UTC()).Scan(&thisYear).Error; err != nil {
			return fmt.Errorf("count rewards: %w", err)
		}
		switch {
		case int(total) >= prog.ReferrerCap:
			status = RewardCapped
			reason = fmt.Sprintf("no reward: you have reached the program's cap of %d rewarded referrals (%s)", prog.ReferrerCap, reason)
		case prog.YearlyCap > 0 && int(thisYear) >= prog.YearlyCap:
			status = RewardCapped
			reason = fmt.Sprintf("no reward: you have reached this year's cap of %d rewarded referrals (%s)", prog.YearlyCap, reason)
		}
	}
	value, err := s.valueOf(tx, tenantID, prog, customerID, spec)
	if err != nil {
		return err
	}
	month := monthOf(today)
	if status == RewardGranted && prog.MonthlyBudgetCents > 0 && value > 0 {
		if _, err := s.releaseBudget(tx, tenantID, prog, today); err != nil {
			return err
		}
		used, waiting, err := budgetUse(tx, tenantID, month)
		if err != nil {
			return err
		}
		if waiting > 0 || used+value > prog.MonthlyBudgetCents {
			status, month = RewardPendingBudget, ""
			reason += fmt.Sprintf("; held: this month's reward budget of %s is used up — it is released in order when budget frees up", ledger.Cents(prog.MonthlyBudgetCents))
		}
	}
	if status != RewardGranted {
		month = ""
	}
	res := tx.Exec(`INSERT INTO rewards (tenant_id, customer_id, referral_id, role, kind, bps, amount_cents, points, addon_name,
			value_cents, status, budget_month, reason, idempotency_key, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, idempotency_key) DO NOTHING`,
		tenantID, customerID, r.ID, role, spec.Kind, spec.Bps, spec.AmountCents, spec.Points, spec.AddonName,
		value, status, month, reason, fmt.Sprintf("referral:%d:%s", r.ID, role), s.clock.Now())
	if res.Error != nil {
		return fmt.Errorf("record reward: %w", res.Error)
	}
	if res.RowsAffected == 1 && status != RewardCapped {
		return s.events.Emit(tx, tenantID, EventReward, map[string]any{"referral_id": r.ID, "role": role, "kind": spec.Kind,
			"status": status, "value_cents": value, "reason": reason})
	}
	return nil
}

// valueOf is what a reward is worth, fixed when it is granted: what the
// ledger gives the customer and the budget counts. A percent reward is worth
// its share of the customer's latest priced visit (or of the program's
// estimate), points their value as credit, an add-on its worth.
func (s *Service) valueOf(tx *gorm.DB, tenantID string, prog program.Program, customerID int64, spec program.Reward) (int64, error) {
	switch spec.Kind {
	case program.RewardFixedCredit, program.RewardFreeAddon:
		return spec.AmountCents, nil
	case program.RewardPercentNextInvoice:
		var prices []int64
		if err := tx.Raw(`SELECT price_cents FROM visits WHERE tenant_id = ? AND customer_id = ? AND price_cents > 0 ORDER BY service_date DESC, id DESC LIMIT 1`,
			tenantID, customerID).Scan(&prices).Error; err != nil {
			return 0, fmt.Errorf("read visit price: %w", err)
		}
		base := prog.EstimatedVisitCents
		if len(prices) > 0 {
			base = prices[0]
		}
		return invoice.PercentOf(base, spec.Bps), nil
	case program.RewardPoints:
		return int64(spec.Points) * int64(prog.PointValueCents), nil
	}
	return 0, nil
}

func monthOf(d localdate.Date) string { return fmt.Sprintf("%04d-%02d", d.Year, d.Month) }

// budgetUse is the value granted in a month and how many rewards wait.
func budgetUse(tx *gorm.DB, tenantID, month string) (used int64, waiting int64, err error) {
	if err = tx.Raw(`SELECT COALESCE(SUM(value_cents), 0) FROM rewards WHERE tenant_id = ? AND status = 'granted' AND budget_month = ?`,
		tenantID, month).Scan(&used).Error; err != nil {
		return 0, 0, fmt.Errorf("read budget: %w", err)
	}
	if err = tx.Raw(`SELECT COUNT(*) FROM rewards WHERE tenant_id = ? AND status = 'pending_budget'`, tenantID).Scan(&waiting).Error; err != nil {
		return 0, 0, fmt.Errorf("read budget: %w", err)
	}
	return used, waiting, nil
}

// releaseBudget grants held rewards, oldest first, while this month's budget
// has room (all of them when the budget was lifted). It stops at the first
// that does not fit, so the order is kept. It returns whose were released.
func (s *Service) releaseBudget(tx *gorm.DB, tenantID string, prog program.Program, today localdate.Date) ([]int64, error) {
	var held []Reward
	if err := tx.Where("tenant_id = ? AND status = 'pending_budget'", tenantID).Order("id").Find(&held).Error; err != nil {
		return nil, fmt.Errorf("read held rewards: %w", err)
	}
	if len(held) == 0 {
		return nil, nil
	}
	month := monthOf(today)
	used, _, err := budgetUse(tx, tenantID, month)
	if err != nil {
		return nil, err
	}
	var released []int64
	for _, r := range held {
		if prog.MonthlyBudgetCents > 0 && used+r.ValueCents > prog.MonthlyBudgetCents {
			break
		}
		used += r.ValueCents
		if err := tx.Exec(`UPDATE rewards SET status = 'granted', budget_month = ?, released_at = ? WHERE id = ? AND status = 'pending_budget'`,
			month, s.clock.Now(), r.ID).Error; err != nil {
			return nil, fmt.Errorf("release reward: %w", err)
		}
		released = append(released, r.CustomerID)
	}
	return released, nil
}

// ReleaseBudget grants the rewards held for the budget that now fit (a new
// month, or a raised budget) and re-fills those customers' drafts.
func (s *Service) ReleaseBudget(ctx context.Context, tenantID string) (int, error) {
	var n int
	err := s.store.Tx(ctx, func(tx *gorm.DB) error {
		var err error
		n, err = s.ReleaseBudgetIn(tx, tenantID)
		return err
	})
	return n, err
}

// ReleaseBudgetIn is ReleaseBudget inside the caller's transaction.
func (s *Service) ReleaseBudgetIn(tx *gorm.DB, tenantID string) (int, error) {
	prog, err := program.Get(tx, tenantID)
	if err != nil {
		return 0, err
	}
	loc, err := tenant.LocationOf(tx, tenantID)
	if err != nil {
		return 0, err
	}
	released, err := s.releaseBudget(tx, tenantID, prog, localdate.In(s.clock.Now(), loc))
	if err != nil {
		return 0, err
	}
	return len(released), s.ledger.Refresh(tx, tenantID, released...)
}
