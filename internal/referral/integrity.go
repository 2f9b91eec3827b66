package referral

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/geo"
	"github.com/routeloop/routeloop/internal/contact"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/tenant"
)

// The rules that keep a referral honest, whenever its facts arrive:
//
//   - one friend, one referrer: the first valid referral of a friend
//     (matched by normalised e-mail, phone or customer record) wins; later
//     ones are kept as duplicates and earn nothing;
//   - fraud checks (self-referral, an existing customer, outside the
//     service area, bursts) run at creation and again when the friend's
//     record is attached or changes, at attribution and approval, and just
//     before conversion; a new flag sends the referral back to review;
//   - the attribution window holds at conversion.

// friend is who a referral names, as far as it is known.
type friend struct {
	emailNorm, phoneNorm string
	customerID           *int64
}

// lockFriend takes the locks under which "is this friend already
// credited?" is answered: one per way of recognising them.
func lockFriend(tx *gorm.DB, tenantID string, f friend) error {
	var names []string
	if f.emailNorm != "" {
		names = append(names, "friend:"+tenantID+":email:"+f.emailNorm)
	}
	if f.phoneNorm != "" {
		names = append(names, "friend:"+tenantID+":phone:"+f.phoneNorm)
	}
	if f.customerID != nil {
		names = append(names, "friend:"+tenantID+":customer:"+strconv.FormatInt(*f.customerID, 10))
	}
	return store.LockNames(tx, names...)
}

// earlier is a referral of the same friend made before another one.
type earlier struct {
	ID         int64
	ReferrerID *int64
	Referrer   *string
	Status     string
}

// known says whether anything recognises the friend.
func (f friend) known() bool { return f.emailNorm != "" || f.phoneNorm != "" || f.customerID != nil }

// firstSQL selects the earliest referral of a friend that still counts
// (pending, in review or converted), other than one; firstArgs are its
// parameters.
const firstSQL = `SELECT r.id, r.referrer_id, c.external_id AS referrer, r.status
		FROM referrals r LEFT JOIN customers c ON c.id = r.referrer_id
		WHERE r.tenant_id = ? AND r.id <> ? AND r.status IN ('pending', 'pending_review', 'converted')
		  AND ((? <> '' AND r.referee_email_norm = ?) OR (? <> '' AND r.referee_phone_norm = ?) OR r.referee_customer_id = ?)
		ORDER BY (r.status = 'converted') DESC, r.id LIMIT 1`

func firstArgs(tenantID string, f friend, except int64) []any {
	var customer int64 = -1
	if f.customerID != nil {
		customer = *f.customerID
	}
	return []any{tenantID, except, f.emailNorm, f.emailNorm, f.phoneNorm, f.phoneNorm, customer}
}

// firstOf returns the earliest referral of the friend that still counts
// (pending, in review or converted), other than except; nil when none.
func firstOf(tx *gorm.DB, tenantID string, f friend, except int64) (*earlier, error) {
	if !f.known() {
		return nil, nil
	}
	var es []earlier
	err := tx.Raw(firstSQL, firstArgs(tenantID, f, except)...).Scan(&es).Error
	if err != nil {
		return nil, fmt.Errorf("find earlier referral of the friend: %w", err)
	}
	if len(es) == 0 {
		return nil, nil
	}
	return &es[0], nil
}

// duplicateReason says why a referral earns nothing.
func duplicateReason(e *earlier) string {
	by := "another customer"
	if e.Referrer != nil {
		by = *e.Referrer
	}
	return fmt.Sprintf("duplicate: this friend was already referred by %s (referral #%d); the first referral wins", by, e.ID)
}

// markDuplicate closes an open referral as a duplicate of e.
func (s *Service) markDuplicate(tx *gorm.DB, tenantID string, id int64, e *earlier) error {
	return s.closeOpen(tx, tenantID, id, StatusDuplicate, duplicateReason(e), &e.ID)
}

// closeOpen closes an open referral for good — a duplicate (of
// duplicateOf) or expired — with why, logs the decision and tells the
// listeners; a referral already closed or converted is left as it is.
func (s *Service) closeOpen(tx *gorm.DB, tenantID string, id int64, status, why string, duplicateOf *int64) error {
	res := tx.Exec(`UPDATE referrals SET status = ?, duplicate_of = COALESCE(?, duplicate_of), note = ?, updated_at = ?
		WHERE id = ? AND tenant_id = ? AND status IN ('pending', 'pending_review')`, status, duplicateOf, why, s.clock.Now(), id, tenantID)
	if res.Error != nil {
		return fmt.Errorf("close referral as %s: %w", status, res.Error)
	}
	if res.RowsAffected == 0 {
		return nil
	}
	if err := s.decide(tx, tenantID, id, status, "system", why); err != nil {
		return err
	}
	return s.closed(tx, tenantID, id, status, why)
}

// checkFacts is what the fraud checks read of one referral.
type checkFacts struct {
	referralID int64 // 0 before it is stored
	referrer   *person
	referee    *person // the friend's customer record, when known
	emailNorm  string  // as the referral gave them
	phoneNorm  string
	street     string
	point      *geo.Point // where the friend lives, as best known
	created    time.Time
}

// checks runs every fraud check on the facts, and measures the distance
// between the two homes: it reads what the checks need (fraudEvidence) and
// leaves the decision to fraudFlags.
func checks(tx *gorm.DB, tenantID string, prog program.Program, f checkFacts) (flags []Flag, distance *int, within bool, err error) {
	var ev fraudEvidence
	if r := f.referrer; r != nil {
		if err := tx.Raw(recentSQL, recentArgs(tenantID, prog, f)...).Scan(&ev.recent).Error; err != nil {
			return nil, nil, false, fmt.Errorf("count recent referrals: %w", err)
		}
	}
	return checksWith(tx, tenantID, prog, f, ev)
}

// recentSQL counts the other referrals naming a referrer within the
// program's burst_hours up to one referral (fraudEvidence.recent);
// recentArgs are its parameters.
const recentSQL = `SELECT COUNT(*) FROM referrals WHERE tenant_id = ? AND referrer_id = ? AND created_at >= ? AND created_at <= ? AND id <> ?`

func recentArgs(tenantID string, prog program.Program, f checkFacts) []any {
	since := f.created.Add(-time.Duration(prog.BurstHours) * time.Hour)
	return []any{tenantID, f.referrer.ID, since, f.created, f.referralID}
}

// checksWith is checks with the count of recent referrals already read
// (ev.recent).
func checksWith(tx *gorm.DB, tenantID string, prog program.Program, f checkFacts, ev fraudEvidence) (flags []Flag, distance *int, within bool, err error) {
	if e := f.referee; e != nil && (f.referrer == nil || e.ID != f.referrer.ID) {
		if ev.alreadyCustomer, err = existingCustomer(tx, tenantID, *e, f.created); err != nil {
			return nil, nil, false, err
		}
	}
	flags, distance, within = fraudFlags(prog, f, ev)
	return flags, distance, within, nil
}

// fraudEvidence is what the fraud checks read of the database for one
// referral.
type fraudEvidence struct {
	// recent counts the other referrals naming the same referrer in the
	// program's burst_hours up to this one.
	recent int64
	// alreadyCustomer says why the friend was a customer before the
	// referral ("" when not, or when the friend's record is unknown).
	alreadyCustomer string
}

// fraudFlags decides the fraud checks from the facts and what was read of
// the database, in this order: self-referral (by the contact the referral
// gave, else by the friend's record once attached), a burst (more than
// burst_max referrals naming the referrer within burst_hours, this one
// included), a friend who was already a customer, a home outside every
// service area. It also answers the distance between the two homes, in
// whole metres, and whether that is within the program's neighbour radius.
func fraudFlags(prog program.Program, f checkFacts, ev fraudEvidence) (flags []Flag, distance *int, within bool) {
	if r := f.referrer; r != nil {
		flags = append(flags, selfReferral(*r, f.referee, f.emailNorm, f.phoneNorm, f.street, f.point)...)
		if len(flags) == 0 && f.referee != nil { // the record's own contact, once attached
			ref := f.referee
			var p *geo.Point
			if pt, ok := ref.point(); ok {
				p = &pt
			}
			flags = append(flags, selfReferral(*r, nil, ref.EmailNorm, ref.PhoneNorm, ref.StreetNorm, p)...)
		}
		if p, ok := r.point(); ok && f.point != nil {
			d, in := homesApart(geo.DistanceM(p, *f.point), prog.NeighborRadiusM)
			distance, within = &d, in
		}
		if int(ev.recent) >= prog.BurstMax {
			flags = append(flags, Flag{FlagBurst, fmt.Sprintf("%s was named as referrer %d times in the last %d hours (more than %d)",
				r.ExternalID, ev.recent+1, prog.BurstHours, prog.BurstMax)})
		}
	}
	if ev.alreadyCustomer != "" {
		flags = append(flags, Flag{FlagAlreadyCustomer, ev.alreadyCustomer})
	}
	if prog.OutsideServiceArea(f.point) {
		flags = append(flags, Flag{FlagOutsideArea, "the friend lives outside every service area"})
	}
	return flags, distance, within
}

// homesApart is the distance between the two homes as a referral records
// it, rounded to the metre, and whether that is within radiusM (the
// neighbour radius): a friend 500.4 m away is 500 m away, and within 500.
func homesApart(metres float64, radiusM int) (int, bool) {
	d := int(math.Round(metres))
	return d, d <= radiusM
}

// existingCustomer explains why the friend was a customer before the
// referral ("" when not): a visit booked before it (a scheduled one counts:
// they had already booked), a visit completed on a day before it, or an
// invoice made before it.
func existingCustomer(tx *gorm.DB, tenantID string, friend person, before time.Time) (string, error) {
	loc, err := tenant.LocationOf(tx, tenantID)
	if err != nil {
		return "", err
	}
	day := localdate.In(before, loc)
	var got struct {
		Visits   int64
		First    *localdate.Date
		Invoices int64
	}
	if err := tx.Raw(`SELECT
		(SELECT COUNT(*) FROM visits WHERE tenant_id = ? AND customer_id = ? AND status <> 'cancelled'
		    AND (created_at < ? OR (status = 'completed' AND service_date < ?))) AS visits,
		(SELECT MIN(service_date) FROM visits WHERE tenant_id = ? AND customer_id = ? AND status <> 'cancelled'
		    AND (created_at < ? OR (status = 'completed' AND service_date < ?))) AS first,
		(SELECT COUNT(*) FROM invoices WHERE tenant_id = ? AND customer_id = ? AND created_at < ?) AS invoices`,
		tenantID, friend.ID, before, day, tenantID, friend.ID, before, day, tenantID, friend.ID, before).Scan(&got).Error; err != nil {
		return "", fmt.Errorf("check the friend's history: %w", err)
	}
	switch {
	case got.Visits > 0:
		visits := "visits"
		if got.Visits == 1 {
			visits = "visit"
		}
		return fmt.Sprintf("%s was already a customer before the referral (%d %s, the first on %s)", friend.ExternalID, got.Visits, visits, got.First), nil
	case got.Invoices > 0:
		return fmt.Sprintf("%s was already a customer before the referral (already invoiced)", friend.ExternalID), nil
	}
	return "", nil
}

// recheck runs the fraud checks again on a stored referral, with what is
// known now. A flag it had not raised before sends an open referral back
// to review, with the reason (flags a person already saw and approved do
// not). flagged reports whether it did.
func (s *Service) recheck(tx *gorm.DB, tenantID string, id int64, trigger string) (flagged bool, err error) {
	r, err := lockReferral(tx, tenantID, id)
	if err != nil {
		return false, err
	}
	if r.Status != StatusPending && r.Status != StatusPendingReview {
		return false, nil
	}
	prog, err := program.Get(tx, tenantID)
	if err != nil {
		return false, err
	}
	f := checkFacts{referralID: r.ID, emailNorm: r.RefereeEmailNorm, phoneNorm: r.RefereePhoneNorm,
		street: contact.Street(r.RefereeAddress), created: r.CreatedAt}
	if r.ReferrerID != nil {
		ps, err := findPeople(tx, tenantID, "id = ?", *r.ReferrerID)
		if err != nil {
			return false, err
		}
		if len(ps) == 1 {
			f.referrer = &ps[0]
		}
	}
	if r.RefereeCustomerID != nil {
		ps, err := findPeople(tx, tenantID, "id = ?", *r.RefereeCustomerID)
		if err != nil {
			return false, err
		}
		if len(ps) == 1 {
			f.referee = &ps[0]
			if p, ok := ps[0].point(); ok {
				f.point = &p
			}
		}
	}
	if f.point == nil && r.RefereeLat != nil && r.RefereeLon != nil {
		f.point = &geo.Point{Lat: *r.RefereeLat, Lon: *r.RefereeLon}
	}
	flags, distance, within, err := checks(tx, tenantID, prog, f)
	if err != nil {
		return false, err
	}
	var had []Flag
	_ = json.Unmarshal([]byte(r.FlagsJSON), &had)
	seen := map[string]bool{}
	for _, fl := range had {
		seen[fl.Code] = true
	}
	var fresh []Flag
	for _, fl := range flags {
		if !seen[fl.Code] {
			fresh = append(fresh, fl)
			seen[fl.Code] = true
		}
	}
	if err := tx.Exec(`UPDATE referrals SET distance_m = COALESCE(?, distance_m), within_radius = ? WHERE id = ?`,
		distance, within, r.ID).Error; err != nil {
		return false, fmt.Errorf("record distance: %w", err)
	}
	if len(fresh) == 0 {
		return false, nil
	}
	all := append(had, fresh...)
	if err := tx.Exec(`UPDATE referrals SET status = 'pending_review', flags = ?, updated_at = ? WHERE id = ?`,
		mustJSON(all), s.clock.Now(), r.ID).Error; err != nil {
		return false, fmt.Errorf("flag referral: %w", err)
	}
	why := "flagged " + trigger
	for _, fl := range fresh {
		why += "; " + fl.Reason
	}
	return true, s.decide(tx, tenantID, r.ID, "flagged", "system", why)
}

// outsideWindow explains why a referral expired at conversion ("" when it
// did not): its qualifying event came more than attribution_days after it.
func outsideWindow(prog program.Program, created time.Time, loc *time.Location, qualified localdate.Date) string {
	last := localdate.In(created, loc).AddDays(prog.AttributionDays)
	if !qualified.After(last) {
		return ""
	}
	return fmt.Sprintf("expired: the friend qualified on %s, more than %d days after the referral (%s); the window closed on %s",
		qualified, prog.AttributionDays, localdate.In(created, loc), last)
}

// qualifier is what first made a friend qualify for their referral: their
// first completed visit, or their first paid invoice, and its tenant-local
// day.
type qualifier struct {
	day                localdate.Date
	visitID, invoiceID *int64
}

// qualifying reads the friend's qualifier under the program's convert_on;
// nil when they have not qualified yet.
func qualifying(tx *gorm.DB, tenantID string, customerID int64, on string, loc *time.Location) (*qualifier, error) {
	if on == program.ConvertOnFirstPaidInvoice {
		var rows []struct {
			ID        int64
			UpdatedAt time.Time
		}
		if err := tx.Raw(`SELECT id, updated_at FROM invoices WHERE tenant_id = ? AND customer_id = ? AND status = 'paid'
			ORDER BY updated_at, id LIMIT 1`, tenantID, customerID).Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("check conversion: %w", err)
		}
		if len(rows) == 0 {
			return nil, nil
		}
		return &qualifier{day: localdate.In(rows[0].UpdatedAt, loc), invoiceID: &rows[0].ID}, nil
	}
	var rows []struct {
		ID          int64
		ServiceDate localdate.Date
	}
	if err := tx.Raw(`SELECT id, service_date FROM visits WHERE tenant_id = ? AND customer_id = ? AND status = 'completed'
		ORDER BY service_date, id LIMIT 1`, tenantID, customerID).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("check conversion: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return &qualifier{day: rows[0].ServiceDate, visitID: &rows[0].ID}, nil
}
