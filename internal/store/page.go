package store

import (
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/routeloop/routeloop/internal/apperror"
)

// Page is one step of keyset pagination over ids: rows after After, at most
// Limit of them.
type Page struct {
	After int64
	Limit int
}

// Page sizes.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// ParsePage reads the limit and cursor query parameters.
func ParsePage(limit, cursor string) (Page, error) {
	p := Page{Limit: DefaultLimit}
	f := apperror.Fields{}
	if limit != "" {
		n, err := strconv.Atoi(limit)
		if err != nil || n < 1 || n > MaxLimit {
			f.Add("limit", "must be a whole number from 1 to "+strconv.Itoa(MaxLimit))
		}
		p.Limit = n
	}
	if cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cursor)
		n, err2 := strconv.ParseInt(string(raw), 10, 64)
		if err != nil || err2 != nil || n < 0 {
			f.Add("cursor", "is not a cursor this API returned")
		}
		p.After = n
	}
	return p, f.Err()
}

// Next returns the cursor for the page after one that ended at lastID, or ""
// when fewer rows than the limit came back.
func (p Page) Next(got int, lastID int64) string {
	if got < p.Limit {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(lastID, 10)))
}

// MaxInList bounds the ids one IN (...) list carries.
const MaxInList = 500

// LockRows makes a SELECT lock the rows it reads on Postgres. SQLite needs
// no row lock: its immediate transactions already hold the one write lock.
func LockRows(tx *gorm.DB) *gorm.DB {
	if tx.Dialector.Name() == Postgres {
		return tx.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	return tx
}

// LockCustomers takes the lock of the customers' money for the transaction,
// in ascending id order: the one lock order of every money write is
// customers first, then their invoices (README "The money ledger"). On
// SQLite a write transaction already holds the database.
func LockCustomers(tx *gorm.DB, tenantID string, customerIDs ...int64) error {
	if tx.Dialector.Name() != Postgres || len(customerIDs) == 0 {
		return nil
	}
	ids := append([]int64(nil), customerIDs...)
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var got []int64
	if err := tx.Raw(`SELECT id FROM customers WHERE tenant_id = ? AND id IN ? ORDER BY id FOR UPDATE`, tenantID, ids).Scan(&got).Error; err != nil {
		return fmt.Errorf("lock customers: %w", err)
	}
	return nil
}

// LockNames takes named locks for the transaction, in sorted order, across
// every replica on PostgreSQL (SQLite's write transaction already holds the
// database): for a rule over rows that do not exist yet, such as one friend
// credited to one referrer, or one month's reward budget.
func LockNames(tx *gorm.DB, names ...string) error {
	if tx.Dialector.Name() != Postgres || len(names) == 0 {
		return nil
	}
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	for i, n := range sorted {
		if i > 0 && n == sorted[i-1] {
			continue
		}
		if err := tx.Exec(`SELECT pg_advisory_xact_lock(hashtext(?))`, n).Error; err != nil {
			return fmt.Errorf("lock %s: %w", n, err)
		}
	}
	return nil
}
