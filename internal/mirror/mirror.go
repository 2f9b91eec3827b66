// Package mirror is routeloop's copy of the field-service company's
// scheduler: customers, crews with their members, and visits. Scheduling
// itself (which day, which crew, where in the route) is the scheduler's;
// routeloop's suggestions and bookings of linked visits are package
// dispatch. The scheduler owns these objects and addresses them by its own
// ids (external ids); every write is an idempotent upsert keyed by (tenant,
// external id), whether it comes from the API, a webhook in (package
// webhook) or the CSV import.
package mirror

import (
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/events"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/text"
)

// Service reads and writes the mirror.
type Service struct {
	store   *store.Store
	clock   clock.Clock
	baseURL string
	// Listeners run inside the write's transaction, so a write and what
	// features derive from it (links ended, discounts, conversions) commit
	// together; they register here at wiring.
	onVisit    []func(*gorm.DB, VisitChange) error
	onCustomer []func(*gorm.DB, CustomerChange) error
	// events announces opt-outs (UseEvents); optOut holds the secret their
	// links are signed with.
	events events.Emitter
	optOut keyCache
}

// CustomerChange tells listeners what a customer write did.
type CustomerChange struct {
	Customer Customer
	// Created is true when the write created the customer.
	Created bool
	// SameDayOmitted and MarketingOmitted say the write left that consent
	// out: a listener may fill it on a customer the write created (the
	// friend's answers on the landing form).
	SameDayOmitted, MarketingOmitted bool
}

// VisitChange tells listeners what a visit write did.
type VisitChange struct {
	TenantID string
	Visit    Visit
	// Before is the visit as it was; nil when the write created it.
	Before *VisitState
	// Linked says whether the customers the write touched (the visit's, and
	// the one it left) have any neighbour link, read under their lock; nil
	// when the writer does not know.
	Linked *bool
	// Locked are the customers whose money locks the write already holds
	// (on PostgreSQL): a listener need not take them again.
	Locked []int64
}

// VisitState is what of a visit decides whether it is synced.
type VisitState struct {
	CustomerID  int64
	CrewID      *int64
	ServiceDate localdate.Date
	Status      string
}

// OnVisitChange registers fn to run inside every visit write that can
// change something a feature derives: a write of a customer with neighbour
// links (or of a visit leaving one), and any write that creates or leaves
// a visit completed or cancelled. A scheduled visit written as scheduled,
// of customers without links, changes nobody's money or referrals and runs
// no listener (writeAlone).
func (s *Service) OnVisitChange(fn func(*gorm.DB, VisitChange) error) {
	s.onVisit = append(s.onVisit, fn)
}

// OnCustomerChange registers fn to run inside every customer write.
func (s *Service) OnCustomerChange(fn func(*gorm.DB, CustomerChange) error) {
	s.onCustomer = append(s.onCustomer, fn)
}

// VisitWritten runs the visit listeners for a write made elsewhere (a
// booking), inside its transaction.
func (s *Service) VisitWritten(tx *gorm.DB, ch VisitChange) error {
	for _, fn := range s.onVisit {
		if err := fn(tx, ch); err != nil {
			return err
		}
	}
	return nil
}

// NewService returns the mirror over s; baseURL prefixes referral links.
func NewService(s *store.Store, c clock.Clock, baseURL string) *Service {
	return &Service{store: s, clock: c, baseURL: strings.TrimRight(baseURL, "/")}
}

// MaxExternalIDLen bounds the scheduler's ids, in characters.
const MaxExternalIDLen = 128

// ExternalIDPunctuation is what an external id may hold besides letters and
// digits (of any script).
const ExternalIDPunctuation = "-_.:@~+="

// CheckExternalID explains why id cannot be a scheduler id, or returns nil:
// an id is 1 to 128 characters, letters, digits and - _ . : @ ~ + =, and
// not "." or ".." (it goes in URLs). A % is refused, so an id escaped twice
// ("a%2Fb") is never kept as a different id.
func CheckExternalID(id string) error {
	switch {
	case id == "":
		return errText("must not be empty")
	case !utf8.ValidString(id):
		return errText("must be valid UTF-8 text")
	case text.Len(id) > MaxExternalIDLen:
		return errText("must be at most 128 characters")
	case id == "." || id == "..":
		return errText(`must not be "." or ".."`)
	}
	for _, r := range id {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune(ExternalIDPunctuation, r) {
			return errText("may hold only letters, digits and - _ . : @ ~ + =")
		}
	}
	return nil
}

type errText string

func (e errText) Error() string { return string(e) }

// checkText validates a one-line text field (see package text).
func checkText(f apperror.Fields, field, v string, required bool, max int) {
	text.Field(f, field, v, text.Line, required, max)
}

// checkEmail validates an optional e-mail address.
func checkEmail(f apperror.Fields, field, v string) {
	if v == "" {
		return
	}
	if err := text.Check(v, text.Line, 254); err != nil {
		f.Add(field, err.Error())
	} else if a, err := mail.ParseAddress(v); err != nil || a.Address != v {
		f.Add(field, "must be an e-mail address such as angie@example.com")
	}
}

// newerOnly is the WHERE clause that keeps a stored row when the write's
// change time is older; empty when the write carries none.
func newerOnly(t *time.Time) string { return newerOnlyIn("", t) }

// newerOnlyIn is newerOnly for a statement that names table's columns
// with the table's name.
func newerOnlyIn(table string, t *time.Time) string {
	if t == nil {
		return ""
	}
	if table != "" {
		table += "."
	}
	return " AND (" + table + "source_updated_at IS NULL OR " + table + "source_updated_at <= ?)"
}

func newerArgs(t *time.Time) []any {
	if t == nil {
		return nil
	}
	return []any{t.UTC()}
}

// utc is t in UTC, or nil.
func utc(t *time.Time) any {
	if t == nil {
		return nil
	}
	u := t.UTC().Truncate(time.Microsecond)
	return &u
}
