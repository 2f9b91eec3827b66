package referral

import (
	"fmt"
	"sort"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/program"
)

type application struct {
	RewardID    int64
	InvoiceID   int64
	AmountCents int64
	Status      string // of the invoice
}

// Propose turns granted rewards into lines on the customer's draft: a
// percent reward takes that share off each visit line of one invoice (the
// next one); a fixed credit is spent over as many invoices as it takes,
// never below zero; a free add-on appears once. What was spent where is
// kept in reward_applications, so a reward is never spent twice.
func (s *Service) Propose(tx *gorm.DB, tenantID string, prog program.Program, drafts []invoice.Draft) (map[int64][]invoice.Line, error) {
	customers := map[int64]bool{}
	draftIDs := make([]int64, len(drafts))
	for i, d := range drafts {
		customers[d.CustomerID] = true
		draftIDs[i] = d.ID
	}
	ids := make([]int64, 0, len(customers))
	for c := range customers {
		ids = append(ids, c)
	}
	var rewards []Reward
	if err := tx.Where("tenant_id = ? AND customer_id IN ? AND status = 'granted' AND kind <> 'points'", tenantID, ids).
		Order("id").Find(&rewards).Error; err != nil {
		return nil, fmt.Errorf("read rewards: %w", err)
	}
	if len(rewards) == 0 {
		return nil, s.keepApplications(tx, tenantID, draftIDs, nil)
	}
	rids := make([]int64, len(rewards))
	for i, r := range rewards {
		rids[i] = r.ID
	}
	var apps []application
	if err := tx.Raw(`SELECT a.reward_id, a.invoice_id, a.amount_cents, i.status FROM reward_applications a
		JOIN invoices i ON i.id = a.invoice_id WHERE a.tenant_id = ? AND a.reward_id IN ?`, tenantID, rids).Scan(&apps).Error; err != nil {
		return nil, fmt.Errorf("read reward applications: %w", err)
	}
	inSet := map[int64]bool{}
	for _, id := range draftIDs {
		inSet[id] = true
	}
	sort.Slice(drafts, func(i, j int) bool { return drafts[i].ID < drafts[j].ID })
	room := map[int64]int64{}
	for _, d := range drafts {
		room[d.ID] = d.CreditRoom(prog.MaxDiscountBps)
	}
	out := map[int64][]invoice.Line{}
	keep := map[[2]int64]int64{} // (reward, invoice) → amount
	for _, r := range rewards {
		spentElsewhere, onOtherDraft := int64(0), false
		for _, a := range apps {
			if a.RewardID != r.ID || inSet[a.InvoiceID] || a.Status == invoice.StatusVoid {
				continue
			}
			spentElsewhere += a.AmountCents
			if a.Status == invoice.StatusDraft || r.Kind != program.RewardFixedCredit {
				onOtherDraft = true
			}
		}
		if onOtherDraft && r.Kind != program.RewardFixedCredit {
			continue // already on another invoice
		}
		remaining := r.AmountCents - spentElsewhere
		for _, d := range drafts {
			if d.CustomerID != r.CustomerID {
				continue
			}
			lines, spent := rewardLines(r, d, remaining, room[d.ID])
			if len(lines) == 0 {
				continue
			}
			out[d.ID] = append(out[d.ID], lines...)
			keep[[2]int64{r.ID, d.ID}] = spent
			if r.Kind == program.RewardFixedCredit {
				room[d.ID] -= spent
				remaining -= spent
				if remaining > 0 {
					continue
				}
			}
			break
		}
	}
	return out, s.keepApplications(tx, tenantID, draftIDs, keep)
}

// rewardLines are the lines one reward puts on one draft, and what it spends.
func rewardLines(r Reward, d invoice.Draft, remaining, room int64) ([]invoice.Line, int64) {
	key := func(suffix string) *string { k := fmt.Sprintf("reward:%d%s", r.ID, suffix); return &k }
	switch r.Kind {
	case program.RewardPercentNextInvoice:
		var lines []invoice.Line
		var spent int64
		for _, l := range d.Lines {
			if l.VisitID == nil || !l.Charges() {
				continue
			}
			amount := invoice.PercentOf(l.AmountCents, r.Bps)
			if amount == 0 {
				continue
			}
			spent += amount
			lines = append(lines, invoice.Line{Kind: invoice.KindReferralReward, VisitID: l.VisitID, AmountCents: -amount,
				Description: fmt.Sprintf("Referral reward (%s)", percentText(r.Bps)), Reason: r.Reason,
				SourceKey: key(fmt.Sprintf(":visit:%d", *l.VisitID))})
		}
		return lines, spent
	case program.RewardFixedCredit:
		amount := min(remaining, room)
		if amount <= 0 {
			return nil, 0
		}
		return []invoice.Line{{Kind: invoice.KindCredit, AmountCents: -amount, Description: "Referral credit",
			Reason: r.Reason, SourceKey: key("")}}, amount
	case program.RewardFreeAddon:
		return []invoice.Line{{Kind: invoice.KindAddon, AmountCents: 0,
			Description: fmt.Sprintf("Free %s (worth %s) — referral reward", r.AddonName, cents(r.AmountCents)),
			Reason:      r.Reason, SourceKey: key("")}}, 0
	}
	return nil, 0
}

func percentText(bps int) string {
	if bps%100 == 0 {
		return fmt.Sprintf("%d%%", bps/100)
	}
	return fmt.Sprintf("%.2f%%", float64(bps)/100)
}

// keepApplications makes the drafts' reward applications exactly keep.
func (s *Service) keepApplications(tx *gorm.DB, tenantID string, draftIDs []int64, keep map[[2]int64]int64) error {
	if err := tx.Exec(`DELETE FROM reward_applications WHERE tenant_id = ? AND invoice_id IN ?`, tenantID, draftIDs).Error; err != nil {
		return fmt.Errorf("clear reward applications: %w", err)
	}
	for k, amount := range keep {
		if err := tx.Exec(`INSERT INTO reward_applications (tenant_id, reward_id, invoice_id, amount_cents) VALUES (?, ?, ?, ?)`,
			tenantID, k[0], k[1], amount).Error; err != nil {
			return fmt.Errorf("record reward application: %w", err)
		}
	}
	return nil
}

// Settle frees the rewards spent on voided invoices (they go to the next
// draft) and, when the program converts on the first paid invoice, converts
// the referrals of customers whose invoice was just paid.
func (s *Service) Settle(tx *gorm.DB, tenantID string, prog program.Program, invs []invoice.Invoice) error {
	var voided []int64
	refresh := map[int64]bool{}
	for _, inv := range invs {
		switch inv.Status {
		case invoice.StatusVoid:
			voided = append(voided, inv.ID)
			refresh[inv.CustomerID] = true
		case invoice.StatusPaid:
			if prog.ConvertOn != program.ConvertOnFirstPaidInvoice {
				continue
			}
			var ids []int64
			if err := tx.Raw(`SELECT id FROM referrals WHERE tenant_id = ? AND referee_customer_id = ? AND status = 'pending'`,
				tenantID, inv.CustomerID).Scan(&ids).Error; err != nil {
				return fmt.Errorf("find referrals: %w", err)
			}
			for _, id := range ids {
				if err := s.convert(tx, tenantID, prog, id, "system"); err != nil {
					return err
				}
			}
		}
	}
	if len(voided) > 0 {
		if err := tx.Exec(`DELETE FROM reward_applications WHERE tenant_id = ? AND invoice_id IN ?`, tenantID, voided).Error; err != nil {
			return fmt.Errorf("free rewards of void invoices: %w", err)
		}
		customers := make([]int64, 0, len(refresh))
		for c := range refresh {
			customers = append(customers, c)
		}
		return s.recomputeDraftsOf(tx, tenantID, customers)
	}
	return nil
}
