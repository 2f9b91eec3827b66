package invoice

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/store"
)

// invoiceQuery selects a tenant's invoices with their customer's scheduler id.
func invoiceQuery(db *gorm.DB, tenantID string) *gorm.DB {
	return db.Table("invoices AS i").
		Select("i.*, c.external_id AS customer_external_id").
		Joins("JOIN customers c ON c.id = i.customer_id").
		Where("i.tenant_id = ?", tenantID)
}

// invoiceWithLines reads one invoice and its lines in a single round trip:
// the invoice columns repeat on each line row. Its columns are named, in
// the order read scans them; the first is the invoice's version (%s:
// versionOf on PostgreSQL, an empty string on SQLite).
const invoiceWithLines = `
SELECT %s, i.id, i.external_id, i.customer_id, c.external_id, i.status, i.currency,
       i.subtotal_cents, i.discount_cents, i.total_cents, i.public_token, i.pay_url,
       i.issued_at, i.source_updated_at, i.created_at, i.updated_at,
       l.id, l.position, l.kind, l.visit_id, v.external_id, l.description,
       l.amount_cents, l.reason, l.item_key
FROM invoices i
JOIN customers c ON c.id = i.customer_id
LEFT JOIN invoice_lines l ON l.invoice_id = i.id
LEFT JOIN visits v ON v.id = l.visit_id
WHERE i.tenant_id = ? AND i.external_id = ?
ORDER BY l.position`

// versionOf names, on PostgreSQL, the row versions an invoice i is read
// from: its own row's and each of its lines' (the transaction that wrote
// the version, xmin, and where it lies, ctid). Any write of the invoice or
// of a line (a line added, changed or removed) makes a new one; the other
// things an invoice answers with (its customer's and its visits' scheduler
// ids, the base URL) never change. Two reads with one version read the
// same invoice.
const versionOf = `i.xmin::text || '/' || i.ctid::text || COALESCE((SELECT string_agg(l.xmin::text || '/' || l.ctid::text, ',' ORDER BY l.id)
	FROM invoice_lines l WHERE l.invoice_id = i.id), '')`

var (
	readPostgres = fmt.Sprintf(invoiceWithLines, versionOf)
	readSQLite   = fmt.Sprintf(invoiceWithLines, "''")
	// readVersion is what Get reads first on PostgreSQL: the invoice's
	// version alone, a look-up in two indexes.
	readVersion = `SELECT ` + versionOf + ` FROM invoices i WHERE i.tenant_id = ? AND i.external_id = ?`
)

// seenInvoices is how many invoices a service remembers (about a
// kilobyte each with a few lines).
const seenInvoices = 8192

// seenInvoice is an invoice as read, with the version it was read at and,
// once asked for, its JSON answer.
type seenInvoice struct {
	version string
	inv     Invoice
	body    []byte
}

// Get returns one invoice with its lines (current).
func (s *Service) Get(ctx context.Context, tenantID, externalID string) (Invoice, error) {
	e, err := s.current(ctx, tenantID, externalID)
	return e.inv.clone(), err
}

// Encoded returns one invoice with its lines as its JSON answer (as
// encoding/json's Encoder writes it), encoded once per version of the
// invoice on PostgreSQL.
func (s *Service) Encoded(ctx context.Context, tenantID, externalID string) ([]byte, error) {
	e, err := s.current(ctx, tenantID, externalID)
	if err != nil || e.body != nil {
		return e.body, err
	}
	body, err := json.Marshal(e.inv)
	if err != nil {
		return nil, fmt.Errorf("encode invoice: %w", err)
	}
	body = append(body, '\n')
	if s.seen != nil {
		e.body = body
		s.seen.Add(seenKey(tenantID, externalID), e)
	}
	return body, nil
}

// current returns the invoice as stored now. On PostgreSQL it first reads
// the invoice's version (versionOf) and answers with the invoice it
// remembers at that version if it read it lately: what the database holds
// now, never an earlier state, without reading the invoice and its lines
// again (GET /invoices/{id} is the mirror's busiest read). Otherwise, and
// on SQLite, it reads it whole (read). What it returns is not to be
// changed (Get clones it).
func (s *Service) current(ctx context.Context, tenantID, externalID string) (seenInvoice, error) {
	if s.seen == nil {
		inv, err := s.read(ctx, tenantID, externalID)
		return seenInvoice{inv: inv}, err
	}
	rows, err := store.Query(s.store.Conn(ctx), readVersion, tenantID, externalID)
	if err != nil {
		return seenInvoice{}, fmt.Errorf("read invoice: %w", err)
	}
	var version string
	found := rows.Next()
	if found {
		err = rows.Scan(&version)
	}
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = rows.Err()
	}
	if err != nil {
		return seenInvoice{}, fmt.Errorf("read invoice: %w", err)
	}
	if !found {
		return seenInvoice{}, apperror.NotFound("invoice %s not found", externalID)
	}
	key := seenKey(tenantID, externalID)
	if e, ok := s.seen.Get(key); ok && e.version == version {
		return e, nil
	}
	return s.readSeen(ctx, tenantID, externalID)
}

func seenKey(tenantID, externalID string) string { return tenantID + "/" + externalID }

// clone is the invoice with lines of its own, for a caller to change.
func (inv Invoice) clone() Invoice {
	inv.Lines = slices.Clone(inv.Lines)
	return inv
}

// read reads one invoice with its lines in one statement scanned without
// gorm, and on PostgreSQL remembers it with its version for Get.
func (s *Service) read(ctx context.Context, tenantID, externalID string) (Invoice, error) {
	e, err := s.readSeen(ctx, tenantID, externalID)
	return e.inv, err
}

// readSeen is read, returning the invoice with the version it read.
func (s *Service) readSeen(ctx context.Context, tenantID, externalID string) (seenInvoice, error) {
	q := readSQLite
	if s.seen != nil {
		q = readPostgres
	}
	rows, err := store.Query(s.store.Conn(ctx), q, tenantID, externalID)
	if err != nil {
		return seenInvoice{}, fmt.Errorf("read invoice: %w", err)
	}
	defer rows.Close()
	var (
		inv     Invoice
		version string
		found   bool
	)
	for rows.Next() {
		var (
			l           Line
			lineID      *int64
			position    *int
			kind        *string
			description *string
			amount      *int64
			reason      *string
		)
		if err := rows.Scan(&version, &inv.ID, &inv.ExternalID, &inv.CustomerID, &inv.CustomerExternalID, &inv.Status, &inv.Currency,
			&inv.SubtotalCents, &inv.DiscountCents, &inv.TotalCents, &inv.PublicToken, &inv.PayURL,
			&inv.IssuedAt, &inv.SourceUpdatedAt, &inv.CreatedAt, &inv.UpdatedAt,
			&lineID, &position, &kind, &l.VisitID, &l.VisitExternalID, &description,
			&amount, &reason, &l.ItemKey); err != nil {
			return seenInvoice{}, fmt.Errorf("read invoice: %w", err)
		}
		if !found {
			found = true
			inv.Lines = make([]Line, 0, 4)
		}
		if lineID == nil {
			continue // an invoice without lines
		}
		l.ID, l.TenantID, l.InvoiceID, l.Position, l.Kind = *lineID, tenantID, inv.ID, *position, *kind
		l.Description, l.AmountCents, l.Reason = *description, *amount, *reason
		inv.Lines = append(inv.Lines, l)
	}
	if err := rows.Err(); err != nil {
		return seenInvoice{}, fmt.Errorf("read invoice: %w", err)
	}
	if !found {
		return seenInvoice{}, apperror.NotFound("invoice %s not found", externalID)
	}
	inv.TenantID = tenantID
	inv.InvoiceURL = s.URLOf(inv)
	e := seenInvoice{version: version, inv: inv}
	if s.seen != nil {
		s.seen.Add(seenKey(tenantID, externalID), seenInvoice{version: version, inv: inv.clone()})
	}
	return e, nil
}

func (s *Service) attachLines(db *gorm.DB, tenantID string, invs []Invoice) error {
	if len(invs) == 0 {
		return nil
	}
	ids := make([]int64, len(invs))
	at := make(map[int64]int, len(invs))
	for i, inv := range invs {
		ids[i] = inv.ID
		at[inv.ID] = i
		invs[i].Lines = []Line{}
	}
	var lines []Line
	err := db.Table("invoice_lines AS l").
		Select("l.*, v.external_id AS visit_external_id").
		Joins("LEFT JOIN visits v ON v.id = l.visit_id").
		Where("l.tenant_id = ? AND l.invoice_id IN ?", tenantID, ids).
		Order("l.invoice_id, l.position").Scan(&lines).Error
	if err != nil {
		return fmt.Errorf("read invoice lines: %w", err)
	}
	for _, l := range lines {
		i := at[l.InvoiceID]
		invs[i].Lines = append(invs[i].Lines, l)
	}
	return nil
}

// Filter narrows an invoice list; zero fields don't filter.
type Filter struct {
	CustomerID string
	Status     string
}

// ParseFilter reads the list query parameters.
func ParseFilter(customerID, status string) (Filter, error) {
	switch status {
	case "", StatusDraft, StatusIssued, StatusPaid, StatusVoid:
	default:
		return Filter{}, apperror.Invalid("status", "must be draft, issued, paid or void")
	}
	return Filter{CustomerID: customerID, Status: status}, nil
}

// List returns invoices in id order, one page at a time.
func (s *Service) List(ctx context.Context, tenantID string, f Filter, p store.Page) ([]Invoice, string, error) {
	db := s.store.Conn(ctx)
	q := invoiceQuery(db, tenantID).Where("i.id > ?", p.After)
	if f.CustomerID != "" {
		q = q.Where("c.external_id = ?", f.CustomerID)
	}
	if f.Status != "" {
		q = q.Where("i.status = ?", f.Status)
	}
	var invs []Invoice
	if err := q.Order("i.id").Limit(p.Limit).Scan(&invs).Error; err != nil {
		return nil, "", fmt.Errorf("list invoices: %w", err)
	}
	if err := s.attachLines(db, tenantID, invs); err != nil {
		return nil, "", err
	}
	for i := range invs {
		invs[i].InvoiceURL = s.URLOf(invs[i])
	}
	var last int64
	if len(invs) > 0 {
		last = invs[len(invs)-1].ID
	}
	return invs, p.Next(len(invs), last), nil
}

// ByToken finds an invoice by the unguessable token of its customer page,
// across tenants (the page's link carries no tenant). An unknown token is
// not_found.
func (s *Service) ByToken(ctx context.Context, token string) (string, Invoice, error) {
	if len(token) < 16 || len(token) > 64 {
		return "", Invoice{}, apperror.NotFound("invoice not found")
	}
	var rows []struct {
		TenantID   string
		ExternalID string
	}
	if err := s.store.Conn(ctx).Raw(`SELECT tenant_id, external_id FROM invoices WHERE public_token = ?`, token).Scan(&rows).Error; err != nil {
		return "", Invoice{}, fmt.Errorf("find invoice page: %w", err)
	}
	if len(rows) == 0 {
		return "", Invoice{}, apperror.NotFound("invoice not found")
	}
	inv, err := s.Get(ctx, rows[0].TenantID, rows[0].ExternalID)
	return rows[0].TenantID, inv, err
}
