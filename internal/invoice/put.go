package invoice

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/events"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/text"
)

// Service writes and reads invoices.
type Service struct {
	store    *store.Store
	clock    clock.Clock
	ledger   Ledger
	onStatus []StatusFunc
	baseURL  string
	events   events.Emitter
	seen     *lru.Cache[string, seenInvoice] // PostgreSQL: the invoices read lately (Get)
}

// NewService returns the invoice service over s. Until UseLedger is called
// no computed lines are added.
func NewService(s *store.Store, c clock.Clock) *Service {
	svc := &Service{store: s, clock: c, ledger: noLedger{}, events: events.Discard{}}
	if s.Dialect == store.Postgres {
		svc.seen, _ = lru.New[string, seenInvoice](seenInvoices) // only a size below one fails
	}
	return svc
}

type noLedger struct{}

func (noLedger) Refresh(*gorm.DB, string, ...int64) error { return nil }

// Input is the body of PUT /invoices/{external_id}.
type Input struct {
	CustomerID string `json:"customer_id"`
	Status     string `json:"status"`
	// IssuedAt is when the scheduler issued it; defaults to when routeloop
	// first sees it leave draft.
	IssuedAt *time.Time  `json:"issued_at"`
	Lines    []LineInput `json:"lines"`
	// UpdatedAt is when the scheduler changed it; a write older than the
	// stored one is ignored (deliveries may arrive out of order).
	UpdatedAt *time.Time `json:"updated_at"`
	// PayURL is the scheduler's payment page for the invoice (CheckPayURL):
	// absent (nil) keeps the stored one, "" removes it. It is not money, so
	// it may change on an invoice that has left draft.
	PayURL *string `json:"pay_url"`
}

// LineInput is one line the scheduler bills.
type LineInput struct {
	VisitID     *string `json:"visit_id"`
	Description string  `json:"description"`
	AmountCents int64   `json:"amount_cents"`
}

// MaxLines bounds one invoice.
const MaxLines = 500

// Validate checks the input's own fields as Put does, without changing it.
func (in Input) Validate() error { return in.validate() }

func (in *Input) validate() error {
	f := apperror.Fields{}
	in.Lines = append([]LineInput(nil), in.Lines...) // trimmed below: not the caller's copy
	if err := mirror.CheckExternalID(in.CustomerID); err != nil {
		f.Add("customer_id", err.Error())
	}
	if in.Status == "" {
		in.Status = StatusDraft
	}
	switch in.Status {
	case StatusDraft, StatusIssued, StatusPaid, StatusVoid:
	default:
		f.Add("status", "must be draft, issued, paid or void")
	}
	if in.PayURL != nil {
		u := strings.TrimSpace(*in.PayURL)
		in.PayURL = &u // trimmed: not the caller's copy
		if err := CheckPayURL(u); err != nil {
			f.Add("pay_url", err.Error())
		}
	}
	if len(in.Lines) > MaxLines {
		f.Add("lines", fmt.Sprintf("an invoice has at most %d lines", MaxLines))
	}
	seen := map[string]bool{}
	for i := range in.Lines {
		l := &in.Lines[i]
		field := fmt.Sprintf("lines[%d]", i)
		l.Description = strings.TrimSpace(l.Description)
		text.Field(f, field+".description", l.Description, text.Free, true, 500)
		if l.AmountCents < 0 {
			f.Add(field+".amount_cents", "must not be negative; routeloop adds discounts itself")
		} else if l.AmountCents > mirror.MaxPriceCents {
			f.Add(field+".amount_cents", "is too large")
		}
		if l.VisitID != nil {
			if err := mirror.CheckExternalID(*l.VisitID); err != nil {
				f.Add(field+".visit_id", err.Error())
			} else if seen[*l.VisitID] {
				f.Add(field+".visit_id", "the visit is billed twice on this invoice")
			}
			seen[*l.VisitID] = true
		}
	}
	return f.Err()
}

// Put creates or updates an invoice. A draft takes the new lines and its
// computed lines are recomputed; an issued, paid or void invoice may only move
// on in its life (issued → paid or void) and refuses changed lines with a
// conflict. pay_url, when given, is stored in any state: it is not money.
func (s *Service) Put(ctx context.Context, tenantID, currency, externalID string, in Input) (Invoice, store.Upserted, error) {
	if err := mirror.CheckExternalID(externalID); err != nil {
		return Invoice{}, store.Updated, apperror.Invalid("external_id", err.Error())
	}
	if err := in.validate(); err != nil {
		return Invoice{}, store.Updated, err
	}
	var (
		out Invoice
		up  store.Upserted
	)
	err := s.store.Tx(ctx, func(tx *gorm.DB) error {
		customerID, lines, err := resolve(tx, tenantID, in)
		if err != nil {
			return err
		}
		// Customers first, then the invoice (the one lock order): the
		// customer it is for, and the one it was for if it moves.
		var was []int64
		if err := tx.Raw(`SELECT customer_id FROM invoices WHERE tenant_id = ? AND external_id = ?`, tenantID, externalID).Scan(&was).Error; err != nil {
			return fmt.Errorf("read invoice: %w", err)
		}
		customers := append([]int64{customerID}, was...)
		if err := store.LockCustomers(tx, tenantID, customers...); err != nil {
			return err
		}
		now := s.clock.Now()
		inv, created, err := lockOrCreate(tx, tenantID, currency, externalID, customerID, in.Status, now)
		if err != nil {
			return err
		}
		customers = append(customers, inv.CustomerID)
		up = created
		if created == store.Updated && in.UpdatedAt != nil && inv.SourceUpdatedAt != nil && in.UpdatedAt.Before(*inv.SourceUpdatedAt) {
			up = store.Stale
			return nil
		}
		if in.UpdatedAt != nil {
			if err := tx.Exec(`UPDATE invoices SET source_updated_at = ? WHERE id = ?`, in.UpdatedAt.UTC().Truncate(time.Microsecond), inv.ID).Error; err != nil {
				return fmt.Errorf("save change time: %w", err)
			}
		}
		wasDraft := created == store.Created || inv.Status == StatusDraft
		if created == store.Updated && !canMove(inv.Status, in.Status) {
			return apperror.Conflict("invoice %s cannot go from %s to %s", externalID, inv.Status, in.Status)
		}
		// The payment page is not part of the bill: it is stored whatever
		// the state, and touches no line, total or status (a refused write
		// below rolls it back with the rest).
		if in.PayURL != nil && *in.PayURL != inv.PayURL {
			if err := tx.Exec(`UPDATE invoices SET pay_url = ?, updated_at = ? WHERE id = ?`, *in.PayURL, now, inv.ID).Error; err != nil {
				return fmt.Errorf("save pay_url: %w", err)
			}
		}
		if !wasDraft {
			if err := checkUnchanged(tx, inv, customerID, lines); err != nil {
				return err
			}
		} else {
			changed, err := replaceLines(tx, inv, lines)
			if err != nil {
				return err
			}
			if inv.CustomerID != customerID { // a draft moved to the right customer
				if err := tx.Exec(`UPDATE invoices SET customer_id = ? WHERE id = ?`, customerID, inv.ID).Error; err != nil {
					return fmt.Errorf("move draft: %w", err)
				}
				if err := tx.Exec(`DELETE FROM invoice_lines WHERE invoice_id = ? AND source_key IS NOT NULL`, inv.ID).Error; err != nil {
					return fmt.Errorf("clear computed lines: %w", err)
				}
				changed = true
			}
			if changed {
				if err := saveTotals(tx, inv.ID, lines, now); err != nil {
					return err
				}
			}
			// Computed lines are worked out while it is a draft — also when
			// this very request issues it, so they are on what gets issued;
			// an invoice that arrives already issued keeps the scheduler's
			// lines, and what it missed becomes a credit elsewhere.
			if created == store.Updated || in.Status == StatusDraft {
				if err := s.ledger.Refresh(tx, tenantID, customers...); err != nil {
					return err
				}
			}
		}
		moved := created == store.Created && in.Status != StatusDraft || created == store.Updated && inv.Status != in.Status
		if !moved {
			return nil
		}
		if inv.IssuedAt == nil {
			issued := now
			if in.IssuedAt != nil {
				issued = in.IssuedAt.UTC().Truncate(time.Microsecond)
			}
			inv.IssuedAt = &issued
		}
		// The terms it leaves draft under stay with it: a later program
		// change never re-prices it.
		prog, err := program.Get(tx, tenantID)
		if err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE invoices SET status = ?, issued_at = ?, updated_at = ?,
				terms_sync_bps = COALESCE(terms_sync_bps, ?), terms_max_bps = COALESCE(terms_max_bps, ?),
				terms_same_crew = COALESCE(terms_same_crew, ?)
			WHERE id = ?`,
			in.Status, inv.IssuedAt, now, prog.SyncDiscountBps, prog.MaxDiscountBps, prog.SyncRequiresSameCrew, inv.ID).Error; err != nil {
			return fmt.Errorf("save status: %w", err)
		}
		if err := s.ledger.Refresh(tx, tenantID, customers...); err != nil {
			return err
		}
		inv.Status, inv.CustomerID = in.Status, customerID
		for _, fn := range s.onStatus {
			if err := fn(tx, tenantID, inv); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Invoice{}, store.Updated, fmt.Errorf("put invoice %s: %w", externalID, err)
	}
	out, err = s.read(ctx, tenantID, externalID)
	return out, up, err
}

// resolve maps the scheduler's customer and visit ids to internal ids and
// builds the service lines.
func resolve(tx *gorm.DB, tenantID string, in Input) (int64, []Line, error) {
	f := apperror.Fields{}
	var customerIDs []int64
	if err := store.Tenant(tx, tenantID).Table("customers").Where("external_id = ?", in.CustomerID).
		Pluck("id", &customerIDs).Error; err != nil {
		return 0, nil, fmt.Errorf("resolve customer: %w", err)
	}
	if len(customerIDs) == 0 {
		f.Add("customer_id", "no customer with id "+in.CustomerID+"; send the customer first")
	}
	var visitExt []string
	for _, l := range in.Lines {
		if l.VisitID != nil {
			visitExt = append(visitExt, *l.VisitID)
		}
	}
	type visitRef struct {
		ID         int64
		ExternalID string
		CustomerID int64
	}
	byExt := map[string]visitRef{}
	if len(visitExt) > 0 {
		var refs []visitRef
		if err := store.Tenant(tx, tenantID).Table("visits").Select("id, external_id, customer_id").
			Where("external_id IN ?", visitExt).Scan(&refs).Error; err != nil {
			return 0, nil, fmt.Errorf("resolve visits: %w", err)
		}
		for _, r := range refs {
			byExt[r.ExternalID] = r
		}
	}
	lines := make([]Line, 0, len(in.Lines))
	for i, l := range in.Lines {
		line := Line{TenantID: tenantID, Kind: KindService, Description: l.Description, AmountCents: l.AmountCents}
		if l.VisitID != nil {
			field := fmt.Sprintf("lines[%d].visit_id", i)
			ref, ok := byExt[*l.VisitID]
			switch {
			case !ok:
				f.Add(field, "no visit with id "+*l.VisitID+"; send the visit first")
			case len(customerIDs) > 0 && ref.CustomerID != customerIDs[0]:
				f.Add(field, "visit "+*l.VisitID+" belongs to another customer")
			default:
				id, ext := ref.ID, ref.ExternalID
				line.VisitID, line.VisitExternalID = &id, &ext
			}
		}
		lines = append(lines, line)
	}
	if err := f.Err(); err != nil {
		return 0, nil, err
	}
	return customerIDs[0], lines, nil
}

// lockOrCreate returns the invoice row, locked for this transaction, creating
// it when it does not exist yet. Of concurrent creators exactly one creates.
func lockOrCreate(tx *gorm.DB, tenantID, currency, externalID string, customerID int64, status string, now time.Time) (Invoice, store.Upserted, error) {
	var rows []Invoice
	err := tx.Raw(`
		INSERT INTO invoices (tenant_id, external_id, customer_id, status, currency, subtotal_cents,
		                      discount_cents, total_cents, public_token, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 0, 0, 0, ?, ?, ?)
		ON CONFLICT (tenant_id, external_id) DO NOTHING
		RETURNING *`,
		tenantID, externalID, customerID, status, currency, newToken(), now, now).Scan(&rows).Error
	if err != nil {
		return Invoice{}, store.Updated, fmt.Errorf("insert invoice: %w", err)
	}
	if len(rows) == 1 {
		return rows[0], store.Created, nil
	}
	var inv Invoice
	err = store.LockRows(store.Tenant(tx, tenantID)).Where("external_id = ?", externalID).Take(&inv).Error
	if err != nil {
		return Invoice{}, store.Updated, fmt.Errorf("lock invoice: %w", err)
	}
	return inv, store.Updated, nil
}

// schedulerLines reads the lines the scheduler sent, in order.
func schedulerLines(tx *gorm.DB, invoiceID int64) ([]Line, error) {
	var stored []Line
	if err := tx.Where("invoice_id = ? AND source_key IS NULL", invoiceID).Order("position").Find(&stored).Error; err != nil {
		return nil, fmt.Errorf("read lines: %w", err)
	}
	return stored, nil
}

// sameLines reports whether the scheduler sent the same lines again.
func sameLines(stored, lines []Line) bool {
	if len(stored) != len(lines) {
		return false
	}
	for i := range lines {
		a, b := stored[i], lines[i]
		if a.Kind != b.Kind || a.Description != b.Description || a.AmountCents != b.AmountCents || !sameID(a.VisitID, b.VisitID) {
			return false
		}
	}
	return true
}

// checkUnchanged refuses a different customer or different lines on an
// invoice that has left draft.
func checkUnchanged(tx *gorm.DB, inv Invoice, customerID int64, lines []Line) error {
	stored, err := schedulerLines(tx, inv.ID)
	if err != nil {
		return err
	}
	if inv.CustomerID != customerID || !sameLines(stored, lines) {
		return apperror.Conflict("invoice %s is %s; issued invoices never change (late discounts become credits on the next invoice)",
			inv.ExternalID, inv.Status)
	}
	return nil
}

func sameID(a, b *int64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// replaceLines swaps a draft's lines for the new ones, computed lines
// included (Recompute adds those back). The same lines sent again change
// nothing.
func replaceLines(tx *gorm.DB, inv Invoice, lines []Line) (changed bool, err error) {
	stored, err := schedulerLines(tx, inv.ID)
	if err != nil {
		return false, err
	}
	if sameLines(stored, lines) {
		return false, nil
	}
	if err := tx.Where("invoice_id = ?", inv.ID).Delete(&Line{}).Error; err != nil {
		return false, fmt.Errorf("clear lines: %w", err)
	}
	for i := range lines {
		lines[i].InvoiceID = inv.ID
		lines[i].Position = i + 1
	}
	if len(lines) > 0 {
		if err := tx.Omit("VisitExternalID").Create(&lines).Error; err != nil {
			return false, fmt.Errorf("insert lines: %w", err)
		}
	}
	return true, nil
}

// newToken is an invoice page's key: 144 bits from crypto/rand, URL-safe
// base64 (24 characters).
func newToken() string {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
