package referral

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/program"
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
	HoldUntil      string     `json:"hold_until,omitempty"`
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
func (s *Service) VisitChanged(tx *gorm.DB, ch mirror.VisitChange) error {
	if visitUndone(ch) {
		if err := s.undoneDuringHold(tx, ch.TenantID, "qualified_visit_id", ch.Visit.ID); err != nil {
			return err
		}
	}
	if ch.Visit.Status != mirror.VisitCompleted || (ch.Before != nil && ch.Before.Status == mirror.VisitCompleted &&
		ch.Before.CustomerID == ch.Visit.CustomerID) {
		return nil
	}
	return s.convertReferee(tx, ch.TenantID, ch.Visit.CustomerID, program.ConvertOnFirstCompletedVisit)
}

// CustomerChanged attaches a newly mirrored customer to the open referrals
// that named them (by e-mail or phone), runs the fraud checks again on
// every open referral of theirs (the record brings an address, a location
// and a history), and converts them if their first visit is already done,
// inside the customer write's transaction.
func (s *Service) CustomerChanged(tx *gorm.DB, ch mirror.CustomerChange) error {
	c := ch.Customer
	open, err := s.attachReferee(tx, c)
	if err != nil {
		return err
	}
	if ch.Created && (ch.SameDayOmitted || ch.MarketingOmitted) {
		if err := s.carryConsents(tx, ch); err != nil {
			return err
		}
	}
	if len(open) == 0 {
		return nil
	}
	for _, id := range open {
		if _, err := s.recheck(tx, c.TenantID, id, "when the friend's customer record arrived or changed"); err != nil {
			return err
		}
	}
	return s.convertReferee(tx, c.TenantID, c.ID, "")
}

// attachReferee attaches the customer to the open referrals that named them
// (by e-mail or phone) and returns all their open referrals, oldest first.
// On PostgreSQL that is one statement: the referrals already theirs (as they
// were before it) and those it attaches.
func (s *Service) attachReferee(tx *gorm.DB, c mirror.Customer) ([]int64, error) {
	attach := `UPDATE referrals SET referee_customer_id = ?, updated_at = ?
		WHERE tenant_id = ? AND referee_customer_id IS NULL AND status IN ('pending', 'pending_review')
		  AND ((referee_email_norm <> '' AND referee_email_norm = (SELECT email_norm FROM customers WHERE tenant_id = ? AND id = ?))
		    OR (referee_phone_norm <> '' AND referee_phone_norm = (SELECT phone_norm FROM customers WHERE tenant_id = ? AND id = ?)))`
	args := []any{c.ID, s.clock.Now(), c.TenantID, c.TenantID, c.ID, c.TenantID, c.ID}
	open := `SELECT id FROM referrals WHERE tenant_id = ? AND referee_customer_id = ? AND status IN ('pending', 'pending_review')`
	var ids []int64
	if tx.Dialector.Name() == store.Postgres {
		if err := tx.Raw(`WITH attached AS (`+attach+` RETURNING id) `+open+` UNION SELECT id FROM attached ORDER BY id`,
			append(args, c.TenantID, c.ID)...).Scan(&ids).Error; err != nil {
			return nil, fmt.Errorf("attach referee: %w", err)
		}
		return ids, nil
	}
	if err := tx.Exec(attach, args...).Error; err != nil {
		return nil, fmt.Errorf("attach referee: %w", err)
	}
	if err := tx.Raw(open+` ORDER BY id`, c.TenantID, c.ID).Scan(&ids).Error; err != nil {
		return nil, fmt.Errorf("find the friend's referrals: %w", err)
	}
	return ids, nil
}

// carryConsents gives a customer the scheduler has just created the
// friend's answers from the landing form, for each consent the creating
// write left out: a yes on any of the friend's referrals now attached to
// them (marketing as of the latest such sign-up). What the scheduler
// states, in this write or a later one, wins: it is never overwritten here.
func (s *Service) carryConsents(tx *gorm.DB, ch mirror.CustomerChange) error {
	c := ch.Customer
	var given []struct {
		ConsentSameDay   bool
		ConsentMarketing bool
		CreatedAt        time.Time
	}
	if err := tx.Raw(`SELECT consent_same_day, consent_marketing, created_at FROM referrals
		WHERE tenant_id = ? AND referee_customer_id = ? AND (consent_same_day OR consent_marketing) ORDER BY id`,
		c.TenantID, c.ID).Scan(&given).Error; err != nil {
		return fmt.Errorf("read the friend's consents: %w", err)
	}
	var sameDay bool
	var marketingAt *time.Time
	for _, g := range given {
		sameDay = sameDay || g.ConsentSameDay
		if g.ConsentMarketing && (marketingAt == nil || g.CreatedAt.After(*marketingAt)) {
			at := g.CreatedAt.UTC().Truncate(time.Microsecond)
			marketingAt = &at
		}
	}
	var set []string
	var args []any
	if ch.SameDayOmitted && sameDay {
		set = append(set, "consent_same_day = TRUE")
	}
	if ch.MarketingOmitted && marketingAt != nil {
		set, args = append(set, "consent_marketing = TRUE, consent_marketing_at = ?"), append(args, *marketingAt)
	}
	if len(set) == 0 {
		return nil
	}
	if err := tx.Exec(`UPDATE customers SET `+strings.Join(set, ", ")+` WHERE id = ? AND tenant_id = ?`,
		append(args, c.ID, c.TenantID)...).Error; err != nil {
		return fmt.Errorf("carry the friend's consents: %w", err)
	}
	return nil
}

// InvoiceChanged converts, inside the invoice write's transaction, the
// referrals of a customer whose invoice was just paid, when the program
// converts on the first paid invoice.
func (s *Service) InvoiceChanged(tx *gorm.DB, tenantID string, inv invoice.Invoice) error {
	if inv.Status == invoice.StatusVoid {
		// The held rewards of a conversion this invoice's visits made.
		var visits []int64
		if err := tx.Raw(`SELECT DISTINCT visit_id FROM invoice_lines WHERE tenant_id = ? AND invoice_id = ? AND visit_id IS NOT NULL`,
			tenantID, inv.ID).Scan(&visits).Error; err != nil {
			return fmt.Errorf("read the invoice's visits: %w", err)
		}
		for _, v := range visits {
			if err := s.undoneDuringHold(tx, tenantID, "qualified_visit_id", v); err != nil {
				return err
			}
		}
		return s.undoneDuringHold(tx, tenantID, "qualified_invoice_id", inv.ID)
	}
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
	for _, id := range ids {
		if err := s.convert(tx, tenantID, prog, id, "system"); err != nil {
			return err
		}
	}
	return nil
}

// convert converts a pending referral whose friend has qualified, unless
// a rule says otherwise: the checks run again first (a new flag sends it
// to review), an earlier referral of the same friend wins (this one is a
// duplicate, or waits while the earlier one is in review), and a friend
// who qualified after the attribution window expires it.
func (s *Service) convert(tx *gorm.DB, tenantID string, prog program.Program, id int64, actor string) error {
	r, err := lockReferral(tx, tenantID, id)
	if err != nil {
		return err
	}
	if r.Status != StatusPending || r.ReferrerID == nil || r.RefereeCustomerID == nil {
		return nil
	}
	loc, err := tenant.LocationOf(tx, tenantID)
	if err != nil {
		return err
	}
	q, err := qualifying(tx, tenantID, *r.RefereeCustomerID, prog.ConvertOn, loc)
	if err != nil || q == nil {
		return err // not qualified (yet)
	}
	fr := friend{emailNorm: r.RefereeEmailNorm, phoneNorm: r.RefereePhoneNorm, customerID: r.RefereeCustomerID}
	if err := lockFriend(tx, tenantID, fr); err != nil {
		return err
	}
	if flagged, err := s.recheck(tx, tenantID, id, "before conversion"); err != nil || flagged {
		return err
	}
	if *r.ReferrerID == *r.RefereeCustomerID {
		return nil // a self-referral is flagged by the checks above and waits for review
	}
	first, err := firstOf(tx, tenantID, fr, id)
	if err != nil {
		return err
	}
	if first != nil && (first.Status == StatusConverted || first.ID < id) {
		if first.Status == StatusConverted {
			return s.markDuplicate(tx, tenantID, id, first)
		}
		return nil // the earlier referral goes first
	}
	if why := outsideWindow(prog, r.CreatedAt, loc, q.day); why != "" {
		return s.closeOpen(tx, tenantID, id, StatusExpired, why, nil)
	}
	if err := s.grantConversion(tx, tenantID, prog, id, actor); err != nil {
		return err
	}
	if err := tx.Exec(`UPDATE referrals SET qualified_visit_id = ?, qualified_invoice_id = ? WHERE id = ?`,
		q.visitID, q.invoiceID, id).Error; err != nil {
		return fmt.Errorf("record what qualified the referral: %w", err)
	}
	// Whoever else referred this friend earns nothing.
	var others []int64
	if err := tx.Raw(`SELECT id FROM referrals WHERE tenant_id = ? AND id <> ? AND status IN ('pending', 'pending_review')
		  AND ((? <> '' AND referee_email_norm = ?) OR (? <> '' AND referee_phone_norm = ?) OR referee_customer_id = ?)`,
		tenantID, id, fr.emailNorm, fr.emailNorm, fr.phoneNorm, fr.phoneNorm, *fr.customerID).Scan(&others).Error; err != nil {
		return fmt.Errorf("find other referrals of the friend: %w", err)
	}
	winner := &earlier{ID: id, ReferrerID: r.ReferrerID, Status: StatusConverted}
	var ext []string
	if err := tx.Raw(`SELECT external_id FROM customers WHERE id = ?`, *r.ReferrerID).Scan(&ext).Error; err != nil {
		return fmt.Errorf("read referrer: %w", err)
	}
	if len(ext) == 1 {
		winner.Referrer = &ext[0]
	}
	for _, o := range others {
		if err := s.markDuplicate(tx, tenantID, o, winner); err != nil {
			return err
		}
	}
	return nil
}

// grantConversion marks a pending referral converted — exactly once however
// many callers race — grants both rewards, links the neighbours if they
// qualify and refreshes both customers' draft invoices.
func (s *Service) grantConversion(tx *gorm.DB, tenantID string, prog program.Program, id int64, actor string) error {
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
	// What was promised when the referral was made; for a referral made
	// before promises were stored, its variant's rewards now (or the
	// referrer's assignment, if the variant is gone).
	offer, ok := program.PromisedOffer(r.Offer)
	if !ok {
		offer, ok = prog.Offer(r.Variant)
	}
	if !ok {
		var err error
		if offer, err = program.OfferOf(tx, prog, *r.ReferrerID, "", now); err != nil {
			return err
		}
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
	if _, err := s.announce(tx, tenantID, EventConverted, r.ID); err != nil {
		return err
	}
	for _, fn := range s.onConverted {
		if err := fn(tx, tenantID, r.ID, r.CrewMemberID); err != nil {
			return err
		}
	}
	return s.ledger.Refresh(tx, tenantID, *r.ReferrerID, *r.RefereeCustomerID)
}

// valueOf is what a reward is worth, fixed when it is granted: what the
// ledger gives the customer and the budget counts. A percent reward is worth
// its share of the customer's latest priced visit (or of the program's
// estimate), points their value as credit, an add-on its worth.
func (s *Service) valueOf(tx *gorm.DB, tenantID string, prog program.Program, customerID int64, spec program.Reward) (int64, error) {
	var latest int64
	if spec.Kind == program.RewardPercentNextInvoice {
		var prices []int64
		if err := tx.Raw(`SELECT price_cents FROM visits WHERE tenant_id = ? AND customer_id = ? AND price_cents > 0 ORDER BY service_date DESC, id DESC LIMIT 1`,
			tenantID, customerID).Scan(&prices).Error; err != nil {
			return 0, fmt.Errorf("read visit price: %w", err)
		}
		if len(prices) > 0 {
			latest = prices[0]
		}
	}
	return rewardValue(prog, spec, latest), nil
}

// rewardValue is what valueOf answers, given the price of the customer's
// latest priced visit (latestPriceCents, 0 when they have none).
func rewardValue(prog program.Program, spec program.Reward, latestPriceCents int64) int64 {
	switch spec.Kind {
	case program.RewardFixedCredit, program.RewardFreeAddon:
		return spec.AmountCents
	case program.RewardPercentNextInvoice:
		base := prog.EstimatedVisitCents
		if latestPriceCents > 0 {
			base = latestPriceCents
		}
		return invoice.PercentOf(base, spec.Bps)
	case program.RewardPoints:
		return int64(spec.Points) * int64(prog.PointValueCents)
	}
	return 0
}

// budgetLock names the lock of a tenant's month of reward budget.
func budgetLock(tenantID, month string) string { return "budget:" + tenantID + ":" + month }

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
	if err := store.LockNames(tx, budgetLock(tenantID, month)); err != nil {
		return nil, err
	}
	used, _, err := budgetUse(tx, tenantID, month)
	if err != nil {
		return nil, err
	}
	var released []int64
	for _, r := range held {
		if !fitsBudget(prog, used, r.ValueCents) {
			break
		}
		used += r.ValueCents
		if err := tx.Exec(`UPDATE rewards SET status = 'granted', budget_month = ?, released_at = ? WHERE id = ? AND status = 'pending_budget'`,
			month, s.clock.Now(), r.ID).Error; err != nil {
			return nil, fmt.Errorf("release reward: %w", err)
		}
		if err := s.announceReward(tx, tenantID, EventRewardReleased, r.IdempotencyKey); err != nil {
			return nil, err
		}
		released = append(released, r.CustomerID)
	}
	return released, nil
}

// ReleaseBudget admits the rewards whose hold has passed, grants the
// rewards held for the budget that now fit (a new month, or a raised
// budget) and re-fills those customers' drafts. It runs hourly and on every
// program change.
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
	// Rewards whose hold has passed are admitted (or voided) first: those
	// admitted may then wait for the budget like any other.
	held, err := s.ReleaseHolds(tx, tenantID)
	if err != nil {
		return 0, err
	}
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
	return held + len(released), s.ledger.Refresh(tx, tenantID, released...)
}

// announceReward emits a reward event with what a messaging tool needs:
// the customer's scheduler id and marketing consent, their role, the
// reward's kind, value, status and reason.
func (s *Service) announceReward(tx *gorm.DB, tenantID, kind, key string) error {
	var rs []struct {
		Reward
		ConsentMarketing bool
	}
	if err := tx.Raw(`SELECT w.*, c.external_id AS customer, c.consent_marketing FROM rewards w JOIN customers c ON c.id = w.customer_id
		WHERE w.tenant_id = ? AND w.idempotency_key = ?`, tenantID, key).Scan(&rs).Error; err != nil {
		return fmt.Errorf("read reward: %w", err)
	}
	if len(rs) == 0 {
		return fmt.Errorf("announce reward %s: not found", key)
	}
	w := rs[0]
	return s.events.Emit(tx, tenantID, kind, map[string]any{"reward_id": w.ID, "referral_id": w.ReferralID,
		"customer_id": w.Customer, "role": w.Role, "kind": w.Kind, "value_cents": w.ValueCents, "status": w.Status,
		"reason": w.Reason, "consent_marketing": w.ConsentMarketing})
}

// Sweep settles every pending referral whose friend has qualified — a
// conversion an outage kept from happening with its write — one friend per
// transaction: converted, or a duplicate, expired, or back in review as the
// rules say. It runs with reconciliation (nightly and `routeloop
// reconcile`) and answers how many referrals it settled.
func (s *Service) Sweep(ctx context.Context, tenantID string) (int, error) {
	var friends []int64
	db := s.store.DB.WithContext(ctx)
	if err := db.Raw(`SELECT DISTINCT referee_customer_id FROM referrals
		WHERE tenant_id = ? AND status = 'pending' AND referee_customer_id IS NOT NULL AND referrer_id IS NOT NULL
		ORDER BY referee_customer_id`, tenantID).Scan(&friends).Error; err != nil {
		return 0, fmt.Errorf("find pending referrals: %w", err)
	}
	pending := func() (int64, error) {
		var n int64
		err := db.Raw(`SELECT COUNT(*) FROM referrals WHERE tenant_id = ? AND status = 'pending'`, tenantID).Scan(&n).Error
		return n, err
	}
	before, err := pending()
	if err != nil {
		return 0, fmt.Errorf("count pending referrals: %w", err)
	}
	for _, c := range friends {
		if err := s.store.Tx(ctx, func(tx *gorm.DB) error {
			return s.convertReferee(tx, tenantID, c, "")
		}); err != nil {
			return 0, fmt.Errorf("settle the referrals of customer %d: %w", c, err)
		}
	}
	after, err := pending()
	if err != nil {
		return 0, fmt.Errorf("count pending referrals: %w", err)
	}
	return int(before - after), nil
}
