package invoice

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/routeloop/routeloop/internal/events"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/store"
)

// PercentOf returns bps basis points of amount, rounded half away from zero
// (the stated rounding of rule 2): 10% of 4505 is 451, of -4505 is -451.
func PercentOf(amount int64, bps int) int64 {
	p := amount * int64(bps)
	if p >= 0 {
		return (p + 5000) / 10000
	}
	return -((-p + 5000) / 10000)
}

// Draft is what a Producer sees of a draft invoice: its scheduler lines.
type Draft struct {
	ID         int64
	CustomerID int64
	Lines      []Line
}

// Subtotal is the sum of the draft's charged lines.
func (d Draft) Subtotal() int64 {
	var s int64
	for _, l := range d.Lines {
		if l.Charges() {
			s += l.AmountCents
		}
	}
	return s
}

// CreditRoom is how much fixed credit fits on the draft whatever percent
// discounts its lines get: the subtotal less the largest discount the cap
// allows. Producers claim credits only within it, so none is ever cut.
func (d Draft) CreditRoom(maxDiscountBps int) int64 {
	return d.Subtotal() - PercentOf(d.Subtotal(), maxDiscountBps)
}

// Producer proposes computed lines — discounts, rewards, credits — for
// draft invoices, and is told when invoices leave draft so that what it finds
// later becomes a credit elsewhere instead of a change (rule 6).
type Producer interface {
	// Propose returns computed lines per draft id. Each line carries a
	// SourceKey naming what produced it (unique per invoice and kind).
	Propose(tx *gorm.DB, tenantID string, prog program.Program, drafts []Draft) (map[int64][]Line, error)
	// Settle looks at invoices that are issued, paid or void.
	Settle(tx *gorm.DB, tenantID string, prog program.Program, invoices []Invoice) error
}

// AddProducer registers a source of computed lines; producers run in the
// order added, and the per-line cap trims the later ones first.
func (s *Service) AddProducer(p Producer) { s.producers = append(s.producers, p) }

// isPercent reports whether a computed line is a percentage of a visit's
// line, and so counts against the per-line cap.
func isPercent(l Line) bool {
	return l.VisitID != nil && (l.Kind == KindSyncDiscount || l.Kind == KindReferralReward)
}

// capLines applies rule 2 to proposed lines: percent discounts on one
// visit's line together stay within maxBps of that line (trimming the later
// ones, dropping lines cut to nothing); a percent line for a visit not on the
// invoice is dropped; credits never take the total below zero.
func capLines(service, proposed []Line, maxBps int) []Line {
	base := map[int64]int64{}
	var subtotal int64
	for _, l := range service {
		if l.VisitID != nil && l.Charges() {
			base[*l.VisitID] += l.AmountCents
		}
		if l.Charges() {
			subtotal += l.AmountCents
		}
	}
	used := map[int64]int64{}
	var out []Line
	var discount int64
	for _, l := range proposed {
		if isPercent(l) {
			b, ok := base[*l.VisitID]
			if !ok {
				continue
			}
			room := PercentOf(b, maxBps) - used[*l.VisitID]
			if -l.AmountCents > room {
				l.AmountCents = -room
				if l.Reason != "" {
					l.Reason += fmt.Sprintf(" (capped: discounts on one line stop at %s)", percent(maxBps))
				}
			}
			if l.AmountCents >= 0 {
				continue
			}
			used[*l.VisitID] -= l.AmountCents
		}
		out = append(out, l)
		if !l.Charges() {
			discount -= l.AmountCents
		}
	}
	// Last guard: credits stop at zero.
	for i := len(out) - 1; i >= 0 && discount > subtotal; i-- {
		if out[i].Kind != KindCredit {
			continue
		}
		cut := min(discount-subtotal, -out[i].AmountCents)
		out[i].AmountCents += cut
		discount -= cut
	}
	kept := out[:0]
	for _, l := range out {
		if l.AmountCents != 0 || l.Charges() {
			kept = append(kept, l)
		}
	}
	return kept
}

func percent(bps int) string {
	if bps%100 == 0 {
		return fmt.Sprintf("%d%%", bps/100)
	}
	return fmt.Sprintf("%.2f%%", float64(bps)/100)
}

// Recompute refreshes the computed lines and totals of the given invoices
// that are drafts, locking them for the transaction. Lines that would come
// out the same are not rewritten, so running it again changes nothing.
func (s *Service) Recompute(tx *gorm.DB, tenantID string, invoiceIDs []int64) error {
	if len(invoiceIDs) == 0 {
		return nil
	}
	ids := append([]int64(nil), invoiceIDs...)
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var drafts []Invoice
	err := store.LockRows(store.Tenant(tx, tenantID)).Where("id IN ? AND status = ?", ids, StatusDraft).
		Order("id").Find(&drafts).Error
	if err != nil {
		return fmt.Errorf("lock drafts: %w", err)
	}
	if len(drafts) == 0 {
		return nil
	}
	draftIDs := make([]int64, len(drafts))
	for i, d := range drafts {
		draftIDs[i] = d.ID
	}
	var lines []Line
	if err := store.Tenant(tx, tenantID).Where("invoice_id IN ?", draftIDs).Order("invoice_id, position").Find(&lines).Error; err != nil {
		return fmt.Errorf("read lines: %w", err)
	}
	scheduler, computed := map[int64][]Line{}, map[int64][]Line{}
	for _, l := range lines {
		if l.SourceKey == nil {
			scheduler[l.InvoiceID] = append(scheduler[l.InvoiceID], l)
		} else {
			computed[l.InvoiceID] = append(computed[l.InvoiceID], l)
		}
	}
	in := make([]Draft, len(drafts))
	for i, d := range drafts {
		in[i] = Draft{ID: d.ID, CustomerID: d.CustomerID, Lines: scheduler[d.ID]}
	}
	prog, err := program.Get(tx, tenantID)
	if err != nil {
		return err
	}
	proposed := map[int64][]Line{}
	for _, p := range s.producers {
		got, err := p.Propose(tx, tenantID, prog, in)
		if err != nil {
			return err
		}
		for id, ls := range got {
			proposed[id] = append(proposed[id], ls...)
		}
	}
	now := s.clock.Now()
	external := map[int64]string{}
	for _, d := range drafts {
		external[d.ID] = d.ExternalID
	}
	// Work out every draft's lines first, then write the changed ones in a
	// few statements (reconciling a busy day touches tens of thousands).
	var changed []int64
	var inserts []Line
	totals := map[int64][3]int64{}
	for _, d := range in {
		want := capLines(d.Lines, proposed[d.ID], prog.MaxDiscountBps)
		if sameComputed(computed[d.ID], want) {
			continue
		}
		changed = append(changed, d.ID)
		next := len(d.Lines) + 1
		for i := range want {
			want[i].TenantID, want[i].InvoiceID, want[i].Position = tenantID, d.ID, next
			next++
		}
		inserts = append(inserts, want...)
		all := append(append([]Line(nil), d.Lines...), want...)
		sub, disc, total := Totals(all)
		totals[d.ID] = [3]int64{sub, disc, total}
		if err := s.announceDiscounts(tx, tenantID, external[d.ID], all); err != nil {
			return err
		}
	}
	if len(changed) == 0 {
		return nil
	}
	if err := store.Tenant(tx, tenantID).Where("invoice_id IN ? AND source_key IS NOT NULL", changed).Delete(&Line{}).Error; err != nil {
		return fmt.Errorf("clear computed lines: %w", err)
	}
	if len(inserts) > 0 {
		if err := tx.Omit("VisitExternalID").CreateInBatches(&inserts, 500).Error; err != nil {
			return fmt.Errorf("insert computed lines: %w", err)
		}
	}
	return saveAllTotals(tx, totals, now)
}

// saveAllTotals stores the totals of many invoices in one statement.
func saveAllTotals(tx *gorm.DB, totals map[int64][3]int64, now time.Time) error {
	ids := make([]int64, 0, len(totals))
	for id := range totals {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var sql strings.Builder
	var args []any
	sql.WriteString("UPDATE invoices SET ")
	for k, col := range []string{"subtotal_cents", "discount_cents", "total_cents"} {
		sql.WriteString(col + " = CASE id")
		for _, id := range ids {
			sql.WriteString(" WHEN ? THEN CAST(? AS BIGINT)")
			args = append(args, id, totals[id][k])
		}
		sql.WriteString(" END, ")
	}
	sql.WriteString("updated_at = ? WHERE id IN ?")
	args = append(args, now, ids)
	if err := tx.Exec(sql.String(), args...).Error; err != nil {
		return fmt.Errorf("save totals: %w", err)
	}
	return nil
}

// announceDiscounts emits invoice.discounted when a draft's computed lines
// changed and it now carries discounts.
func (s *Service) announceDiscounts(tx *gorm.DB, tenantID, externalID string, lines []Line) error {
	sub, disc, total := Totals(lines)
	if disc == 0 {
		return nil
	}
	var given []map[string]any
	for _, l := range lines {
		if !l.Charges() {
			given = append(given, map[string]any{"kind": l.Kind, "amount_cents": l.AmountCents, "reason": l.Reason})
		}
	}
	return s.events.Emit(tx, tenantID, events.InvoiceDiscounted, map[string]any{
		"invoice_id": externalID, "subtotal_cents": sub, "discount_cents": disc, "total_cents": total, "discounts": given,
	})
}

// sameComputed reports whether stored computed lines equal the wanted ones.
func sameComputed(have, want []Line) bool {
	if len(have) != len(want) {
		return false
	}
	sort.Slice(have, func(i, j int) bool { return have[i].Position < have[j].Position })
	for i := range want {
		a, b := have[i], want[i]
		if a.Kind != b.Kind || *a.SourceKey != *b.SourceKey || a.AmountCents != b.AmountCents ||
			a.Description != b.Description || a.Reason != b.Reason || !sameID(a.VisitID, b.VisitID) {
			return false
		}
	}
	return true
}

// saveTotals stores the totals of an invoice with the given lines.
func saveTotals(tx *gorm.DB, invoiceID int64, lines []Line, now time.Time) error {
	sub, disc, total := Totals(lines)
	err := tx.Exec(`UPDATE invoices SET subtotal_cents = ?, discount_cents = ?, total_cents = ?, updated_at = ? WHERE id = ?`,
		sub, disc, total, now, invoiceID).Error
	if err != nil {
		return fmt.Errorf("save totals: %w", err)
	}
	return nil
}

// Settle tells the producers about invoices that are not drafts.
func (s *Service) Settle(tx *gorm.DB, tenantID string, invoiceIDs []int64) error {
	if len(invoiceIDs) == 0 || len(s.producers) == 0 {
		return nil
	}
	var invs []Invoice
	if err := store.Tenant(tx, tenantID).Where("id IN ? AND status <> ?", invoiceIDs, StatusDraft).Order("id").Find(&invs).Error; err != nil {
		return fmt.Errorf("read invoices: %w", err)
	}
	if len(invs) == 0 {
		return nil
	}
	prog, err := program.Get(tx, tenantID)
	if err != nil {
		return err
	}
	for _, p := range s.producers {
		if err := p.Settle(tx, tenantID, prog, invs); err != nil {
			return err
		}
	}
	return nil
}
