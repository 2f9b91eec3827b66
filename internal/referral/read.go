package referral

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/store"
)

func referralQuery(db *gorm.DB, tenantID string) *gorm.DB {
	return db.Table("referrals AS r").Select(referralCols).Joins(referralJoins).Where("r.tenant_id = ?", tenantID)
}

// referralCols and referralJoins read a referral (r) as Referral holds it:
// with the scheduler's ids of the two customers and the crew member, and
// their consents.
const (
	referralCols = `r.*, cr.external_id AS referrer, ce.external_id AS referee_customer_external, m.external_id AS crew_member,
			cr.consent_marketing AS referrer_consent_marketing, ce.consent_same_day AS referee_customer_consent_same_day,
			ce.consent_marketing AS referee_customer_consent_marketing`
	referralJoins = `LEFT JOIN customers cr ON cr.id = r.referrer_id LEFT JOIN customers ce ON ce.id = r.referee_customer_id
			LEFT JOIN crew_members m ON m.id = r.crew_member_id`
)

// Get returns one referral.
func (s *Service) Get(ctx context.Context, tenantID string, id int64) (Referral, error) {
	var rs []Referral
	if err := referralQuery(s.store.DB.WithContext(ctx), tenantID).Where("r.id = ?", id).Scan(&rs).Error; err != nil {
		return Referral{}, fmt.Errorf("read referral: %w", err)
	}
	if len(rs) == 0 {
		return Referral{}, apperror.NotFound("referral %d not found", id)
	}
	rs[0].present()
	return rs[0], nil
}

// Filter narrows a referral list.
type Filter struct {
	Status     string
	ReferrerID string // scheduler id
}

// List returns referrals, newest first.
func (s *Service) List(ctx context.Context, tenantID string, f Filter, p store.Page) ([]Referral, string, error) {
	switch f.Status {
	case "", StatusPending, StatusPendingReview, StatusConverted, StatusRejected, StatusDuplicate, StatusExpired:
	default:
		return nil, "", apperror.Invalid("status", "must be pending, pending_review, converted, rejected, duplicate or expired")
	}
	q := referralQuery(s.store.DB.WithContext(ctx), tenantID)
	if f.Status != "" {
		q = q.Where("r.status = ?", f.Status)
	}
	if f.ReferrerID != "" {
		q = q.Where("cr.external_id = ?", f.ReferrerID)
	}
	if p.After > 0 {
		q = q.Where("r.id < ?", p.After)
	}
	var rs []Referral
	if err := q.Order("r.id DESC").Limit(p.Limit).Scan(&rs).Error; err != nil {
		return nil, "", fmt.Errorf("list referrals: %w", err)
	}
	var last int64
	for i := range rs {
		rs[i].present()
		last = rs[i].ID
	}
	return rs, p.Next(len(rs), last), nil
}

// DecisionEntry is one line of a referral's decision log.
type DecisionEntry struct {
	Action    string    `json:"action"`
	Actor     string    `json:"actor"`
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"created_at"`
}

// Decisions returns who decided what about a referral, oldest first.
func (s *Service) Decisions(ctx context.Context, tenantID string, id int64) ([]DecisionEntry, error) {
	if _, err := s.Get(ctx, tenantID, id); err != nil {
		return nil, err
	}
	var ds []DecisionEntry
	err := s.store.DB.WithContext(ctx).Raw(`SELECT action, actor, reason, created_at FROM referral_decisions
		WHERE tenant_id = ? AND referral_id = ? ORDER BY id`, tenantID, id).Scan(&ds).Error
	if err != nil {
		return nil, fmt.Errorf("read decisions: %w", err)
	}
	return ds, nil
}

func customerID(db *gorm.DB, tenantID, externalID string) (int64, error) {
	var ids []int64
	if err := db.Raw(`SELECT id FROM customers WHERE tenant_id = ? AND external_id = ?`, tenantID, externalID).Scan(&ids).Error; err != nil {
		return 0, fmt.Errorf("find customer: %w", err)
	}
	if len(ids) == 0 {
		return 0, apperror.NotFound("customer %s not found", externalID)
	}
	return ids[0], nil
}

// Rewards lists a customer's reward ledger, newest first, with what of
// each has been spent on invoices.
func (s *Service) Rewards(ctx context.Context, tenantID, customerExt string) ([]Reward, error) {
	db := s.store.DB.WithContext(ctx)
	cid, err := customerID(db, tenantID, customerExt)
	if err != nil {
		return nil, err
	}
	var rs []Reward
	err = db.Raw(`SELECT w.*, c.external_id AS customer,
			COALESCE((SELECT li.given_cents FROM ledger_items li WHERE li.tenant_id = w.tenant_id AND li.reward_id = w.id), 0) AS applied_cents
		FROM rewards w JOIN customers c ON c.id = w.customer_id
		WHERE w.tenant_id = ? AND w.customer_id = ? ORDER BY w.id DESC`, tenantID, cid).Scan(&rs).Error
	if err != nil {
		return nil, fmt.Errorf("read rewards: %w", err)
	}
	return rs, nil
}

// Status is a referrer's standing: "3 of 32 friends, 1 pending".
type Status struct {
	CustomerID   string `json:"customer_id"`
	ReferralCode string `json:"referral_code"`
	Rewarded     int    `json:"rewarded"`
	Cap          int    `json:"cap"`
	Pending      int    `json:"pending"`
	Converted    int    `json:"converted"`
	Referred     int    `json:"referred"`
	PointsEarned int    `json:"points_earned"`
	Offer        string `json:"offer"`
	Summary      string `json:"summary"`
}

// ReferralStatus tells a customer where they stand.
func (s *Service) ReferralStatus(ctx context.Context, tenantID, customerExt string) (Status, error) {
	db := s.store.DB.WithContext(ctx)
	cid, err := customerID(db, tenantID, customerExt)
	if err != nil {
		return Status{}, err
	}
	prog, err := program.Get(db, tenantID)
	if err != nil {
		return Status{}, err
	}
	offer, err := s.OfferFor(ctx, prog, cid)
	if err != nil {
		return Status{}, err
	}
	st := Status{CustomerID: customerExt, Cap: prog.ReferrerCap, Offer: offer.Name}
	db.Raw(`SELECT referral_code FROM customers WHERE id = ?`, cid).Scan(&st.ReferralCode)
	var counts []struct {
		Status string
		N      int
	}
	if err := db.Raw(`SELECT status, COUNT(*) AS n FROM referrals WHERE tenant_id = ? AND referrer_id = ? GROUP BY status`,
		tenantID, cid).Scan(&counts).Error; err != nil {
		return Status{}, fmt.Errorf("count referrals: %w", err)
	}
	for _, c := range counts {
		st.Referred += c.N
		switch c.Status {
		case StatusPending, StatusPendingReview:
			st.Pending += c.N
		case StatusConverted:
			st.Converted += c.N
		}
	}
	db.Raw(`SELECT COUNT(*) FROM rewards WHERE tenant_id = ? AND customer_id = ? AND role = 'referrer' AND status <> 'capped'`,
		tenantID, cid).Scan(&st.Rewarded)
	db.Raw(`SELECT COALESCE(SUM(points), 0) FROM rewards WHERE tenant_id = ? AND customer_id = ? AND status = 'granted'`,
		tenantID, cid).Scan(&st.PointsEarned)
	friends := "friends"
	if st.Cap == 1 {
		friends = "friend"
	}
	st.Summary = fmt.Sprintf("%d of %d %s", st.Rewarded, st.Cap, friends)
	if st.Pending > 0 {
		st.Summary += fmt.Sprintf(", %d pending", st.Pending)
	}
	return st, nil
}

// announce emits a referral event with what a messaging tool needs: who
// referred whom (the scheduler's ids, when known), the friend's contact,
// the channel, status and flags. It returns the referral as it read it.
func (s *Service) announce(tx *gorm.DB, tenantID, kind string, id int64) (Referral, error) {
	var rs []Referral
	if err := referralQuery(tx, tenantID).Where("r.id = ?", id).Scan(&rs).Error; err != nil {
		return Referral{}, fmt.Errorf("read referral: %w", err)
	}
	if len(rs) == 0 {
		return Referral{}, fmt.Errorf("announce referral %d: not found", id)
	}
	return s.announceRow(tx, tenantID, kind, rs[0])
}

// announceRow is announce of a referral r already read as referralCols
// reads it.
func (s *Service) announceRow(tx *gorm.DB, tenantID, kind string, r Referral) (Referral, error) {
	r.present()
	// The friend's consents as they stand: their customer record's once
	// mirrored (the scheduler's word, or an opt-out, wins), else their own
	// ticks on the landing form.
	sameDay, marketing := r.ConsentSameDay, r.ConsentMarketing
	if r.RefereeCustSameDay != nil && r.RefereeCustMarketing != nil {
		sameDay, marketing = *r.RefereeCustSameDay, *r.RefereeCustMarketing
	}
	return r, s.events.Emit(tx, tenantID, kind, map[string]any{"referral_id": r.ID, "status": r.Status, "channel": r.Channel,
		"variant": r.Variant, "flags": r.Flags, "referrer_id": r.Referrer, "friend_customer_id": r.RefereeCustExternal,
		"referrer_consent_marketing": r.ReferrerMarketing != nil && *r.ReferrerMarketing, "utm": r.UTM,
		"friend": map[string]any{"name": r.RefereeName, "email": r.RefereeEmail, "phone": r.RefereePhone,
			"consent_same_day": sameDay, "consent_marketing": marketing}})
}
