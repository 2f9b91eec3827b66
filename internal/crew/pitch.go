package crew

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/contact"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/referral"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/tenant"
)

// Pitch outcomes.
const (
	OutcomePitched       = "pitched"
	OutcomeDeclined      = "declined"
	OutcomeReferralGiven = "referral_given"
)

// Point kinds of the crew ledger.
const (
	PointsPitch         = "pitch"
	PointsReferralGiven = "referral_given"
	PointsConversion    = "conversion"
)

// Pitch is one crew member's pitch at one visit; at most one per visit and
// member.
type Pitch struct {
	ID           int64     `json:"id"`
	TenantID     string    `json:"-"`
	VisitID      int64     `json:"-"`
	CustomerID   int64     `json:"-"`
	CrewMemberID int64     `json:"-"`
	Script       string    `json:"script_variant"`
	Outcome      string    `json:"outcome"`
	ReferralID   *int64    `json:"referral_id"`
	CreatedAt    time.Time `json:"created_at"`
	// Filled for answers.
	// SkipReason is why the pitch earns no points: the rule said skip
	// this stop (null when it said pitch). The pitch is kept either way.
	SkipReason *string       `json:"skip_reason"`
	Visit      string        `json:"visit_id" gorm:"->"`
	Customer   string        `json:"customer_id" gorm:"->"`
	CrewMember string        `json:"crew_member_id" gorm:"->"`
	Points     []PointsEntry `json:"points" gorm:"-"`
}

// TableName is pitches.
func (Pitch) TableName() string { return "pitches" }

// PointsEntry is one entry of the crew points ledger, with its reason.
type PointsEntry struct {
	ID             int64     `json:"-"`
	TenantID       string    `json:"-"`
	CrewMemberID   int64     `json:"-"`
	Kind           string    `json:"kind"`
	Points         int       `json:"points"`
	Reason         string    `json:"reason"`
	IdempotencyKey string    `json:"-"`
	CreatedAt      time.Time `json:"created_at"`
}

// TableName is crew_points.
func (PointsEntry) TableName() string { return "crew_points" }

// PitchInput is the body of POST /pitches; ids are the scheduler's.
type PitchInput struct {
	VisitID      string                 `json:"visit_id"`
	CrewMemberID string                 `json:"crew_member_id"`
	Outcome      string                 `json:"outcome"`
	Referee      *referral.RefereeInput `json:"referee"`
}

// check collects what is wrong with the body's own fields.
func (in *PitchInput) check() apperror.Fields {
	f := apperror.Fields{}
	if err := mirror.CheckExternalID(in.VisitID); err != nil {
		f.Add("visit_id", err.Error())
	}
	if err := mirror.CheckExternalID(in.CrewMemberID); err != nil {
		f.Add("crew_member_id", err.Error())
	}
	switch in.Outcome {
	case OutcomePitched, OutcomeDeclined:
		if in.Referee != nil {
			f.Add("referee", "only a referral_given pitch names a friend")
		}
	case OutcomeReferralGiven:
		if in.Referee == nil {
			f.Add("referee", "name the friend (name and phone or e-mail) the customer referred")
		}
	default:
		f.Add("outcome", "must be pitched, declined or referral_given")
	}
	return f
}

type memberRow struct {
	ID         int64
	ExternalID string
	Name       string
	CrewID     int64
	Active     bool
}

func findMember(db *gorm.DB, tenantID, externalID string) (*memberRow, error) {
	var ms []memberRow
	if err := db.Raw(`SELECT id, external_id, name, crew_id, active FROM crew_members WHERE tenant_id = ? AND external_id = ?`,
		tenantID, externalID).Scan(&ms).Error; err != nil {
		return nil, fmt.Errorf("find crew member: %w", err)
	}
	if len(ms) == 0 {
		return nil, nil
	}
	return &ms[0], nil
}

func customerName(db *gorm.DB, id int64) (ext, name string, err error) {
	var rows []struct{ ExternalID, Name string }
	if err := db.Raw(`SELECT external_id, name FROM customers WHERE id = ?`, id).Scan(&rows).Error; err != nil {
		return "", "", fmt.Errorf("read customer: %w", err)
	}
	if len(rows) == 0 {
		return "", "", fmt.Errorf("customer %d not found", id)
	}
	return rows[0].ExternalID, rows[0].Name, nil
}

// LogPitch records a crew member's pitch at a visit and awards its points
// when the pitch rule (Decide) said pitch there; where it said skip, the
// pitch is recorded all the same (it happened) and earns 0 points, the
// reason in the ledger. Only an active member of the visit's crew pitches,
// and only at a visit of today or earlier. A friend given on site is
// recorded through the referral engine (channel crew_pitch, the member
// attributed). The same pitch again (same visit and member) returns the one
// stored; created is false then. Every field is checked before that.
func (s *Service) LogPitch(ctx context.Context, tenantID, actor string, in PitchInput) (Pitch, bool, error) {
	f := in.check()
	if in.Referee != nil {
		checkReferee(*in.Referee, f)
	}
	if err := f.Err(); err != nil {
		return Pitch{}, false, err
	}
	db := s.store.DB.WithContext(ctx)
	v, err := findVisit(db, tenantID, in.VisitID)
	if err != nil {
		return Pitch{}, false, err
	}
	m, err := findMember(db, tenantID, in.CrewMemberID)
	if err != nil {
		return Pitch{}, false, err
	}
	today, _, err := s.today(db, tenantID)
	if err != nil {
		return Pitch{}, false, err
	}
	switch {
	case v == nil:
		f.Add("visit_id", "no visit with id "+in.VisitID)
	case v.Status == mirror.VisitCancelled:
		f.Add("visit_id", "visit "+in.VisitID+" was cancelled")
	case v.ServiceDate.After(today):
		f.Add("visit_id", fmt.Sprintf("visit %s is on %s, after today (%s): log the pitch on the day of the visit", in.VisitID, v.ServiceDate, today))
	case v.CrewID == nil:
		f.Add("visit_id", "visit "+in.VisitID+" has no crew: only a member of the visit's crew logs a pitch there")
	}
	switch {
	case m == nil:
		f.Add("crew_member_id", "no crew member with id "+in.CrewMemberID)
	case v != nil && v.CrewID != nil && (m.CrewID != *v.CrewID || !m.Active):
		f.Add("crew_member_id", fmt.Sprintf("%s is not a member of the crew of visit %s: only that crew's members pitch there", in.CrewMemberID, in.VisitID))
	}
	if in.Referee != nil {
		// The friend's phone is checked here, for the company's country, as
		// well as by the referral engine: a pitch logged again answers the
		// stored one without reaching the engine.
		prog, err := program.Get(db, tenantID)
		if err != nil {
			return Pitch{}, false, err
		}
		if err := contact.CheckPhone(in.Referee.Phone, prog.Country); err != nil {
			f.Add("referee.phone", err.Error())
		}
	}
	if err := f.Err(); err != nil {
		return Pitch{}, false, err
	}
	if p, err := s.pitch(db, tenantID, "p.visit_id = ? AND p.crew_member_id = ?", v.ID, m.ID); err == nil {
		return s.replay(p, in)
	} else if !apperror.HasCode(err, apperror.CodeNotFound) {
		return Pitch{}, false, err
	}
	custExt, custName, err := customerName(db, v.CustomerID)
	if err != nil {
		return Pitch{}, false, err
	}
	var ref *referral.Referral
	if in.Outcome == OutcomeReferralGiven {
		r, _, err := s.referrals.Create(ctx, tenantID, actor, referral.Input{Channel: referral.ChannelCrewPitch,
			ReferrerID: custExt, CrewMemberID: m.ExternalID, Referee: *in.Referee})
		if err != nil {
			return Pitch{}, false, err
		}
		ref = &r
	}
	var id int64
	created := false
	err = s.store.Tx(ctx, func(tx *gorm.DB) error {
		id, created = 0, false
		// The customer's lock: of two members pitching there at once, one
		// sees the other's pitch.
		if err := store.LockCustomers(tx, tenantID, v.CustomerID); err != nil {
			return err
		}
		prog, err := program.Get(tx, tenantID)
		if err != nil {
			return err
		}
		scripts, err := activeScripts(tx, tenantID)
		if err != nil {
			return err
		}
		skip, err := s.gate(tx, tenantID, prog, v)
		if err != nil {
			return err
		}
		var refID *int64
		if ref != nil {
			refID = &ref.ID
		}
		var skipReason *string
		if skip != "" {
			skipReason = &skip
		}
		var rows []Pitch
		if err := tx.Raw(`INSERT INTO pitches (tenant_id, visit_id, customer_id, crew_member_id, script, outcome, referral_id, skip_reason, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, visit_id, crew_member_id) DO NOTHING RETURNING *`,
			tenantID, v.ID, v.CustomerID, m.ID, ScriptForVisit(tenantID, v.ID, scripts).Name, in.Outcome, refID, skipReason, s.clock.Now()).Scan(&rows).Error; err != nil {
			return fmt.Errorf("log pitch: %w", err)
		}
		if len(rows) == 0 { // a concurrent twin won
			return nil
		}
		id, created = rows[0].ID, true
		how := map[string]string{OutcomePitched: "pitched the referral program to", OutcomeDeclined: "pitched (declined) the referral program to",
			OutcomeReferralGiven: "pitched the referral program to"}[in.Outcome]
		if err := s.award(tx, tenantID, m.ID, PointsPitch, prog.PointsPerPitch, fmt.Sprintf("pitch:%d", id),
			fmt.Sprintf("%s %s at visit %s on %s", how, custName, v.ExternalID, v.ServiceDate), skip); err != nil {
			return err
		}
		if ref != nil {
			refSkip := skip
			if refSkip == "" {
				// A referral closed before its points are written earns none
				// (its reversal, in the engine's transaction, found nothing to
				// take back); the row lock orders this with a closing.
				status, err := lockedReferralStatus(tx, tenantID, ref.ID)
				if err != nil {
					return err
				}
				if closedStatus(status) {
					refSkip = fmt.Sprintf("referral #%d is %s", ref.ID, status)
				}
			}
			if err := s.award(tx, tenantID, m.ID, PointsReferralGiven, prog.PointsPerReferral, fmt.Sprintf("referral_given:%d", ref.ID),
				fmt.Sprintf("%s referred %s on site at visit %s (referral #%d)", custName, ref.Referee.Name, v.ExternalID, ref.ID), refSkip); err != nil {
				return err
			}
		}
		return s.checkMilestones(tx, tenantID)
	})
	if err != nil {
		return Pitch{}, false, err
	}
	if !created {
		p, err := s.pitch(db, tenantID, "p.visit_id = ? AND p.crew_member_id = ?", v.ID, m.ID)
		if err != nil {
			return Pitch{}, false, err
		}
		return s.replay(p, in)
	}
	p, err := s.pitch(db, tenantID, "p.id = ?", id)
	return p, true, err
}

// gate applies the pitch rule to a pitch about to be logged at visit v:
// "" when it earns its points, else why it earns none. One pitch per visit
// earns: another member's pitch there already took it. Otherwise the rule
// is the crew's today page's (Decide) on the visit's day, over the
// customer's ratings and pitches so far.
func (s *Service) gate(tx *gorm.DB, tenantID string, prog program.Program, v *visitRow) (string, error) {
	var first []struct{ Name string }
	if err := tx.Raw(`SELECT m.name FROM pitches p JOIN crew_members m ON m.id = p.crew_member_id
		WHERE p.tenant_id = ? AND p.visit_id = ? ORDER BY p.id LIMIT 1`, tenantID, v.ID).Scan(&first).Error; err != nil {
		return "", fmt.Errorf("read pitches of visit: %w", err)
	}
	if len(first) > 0 {
		return fmt.Sprintf("%s already pitched at visit %s: one pitch per visit earns points", first[0].Name, v.ExternalID), nil
	}
	loc, err := tenant.LocationOf(tx, tenantID)
	if err != nil {
		return "", err
	}
	ratings, err := ratingStatuses(tx, tenantID, []int64{v.CustomerID}, loc)
	if err != nil {
		return "", err
	}
	pitched, err := lastPitches(tx, tenantID, []int64{v.CustomerID}, loc)
	if err != nil {
		return "", err
	}
	if dec := Decide(ratings[v.CustomerID], pitched[v.CustomerID], v.ServiceDate, prog.RepitchDays); !dec.Pitch {
		return dec.Reason, nil
	}
	return "", nil
}

// closedStatus reports a referral that will never count.
func closedStatus(status string) bool {
	return status == referral.StatusRejected || status == referral.StatusDuplicate || status == referral.StatusExpired
}

// validReferrals is the SQL condition of referrals that still count.
const validReferrals = `status NOT IN ('` + referral.StatusRejected + `', '` + referral.StatusDuplicate + `', '` + referral.StatusExpired + `')`

func lockedReferralStatus(tx *gorm.DB, tenantID string, id int64) (string, error) {
	var rs []struct{ Status string }
	if err := store.LockRows(store.Tenant(tx.Table("referrals"), tenantID)).Select("status").Where("id = ?", id).Find(&rs).Error; err != nil {
		return "", fmt.Errorf("read referral: %w", err)
	}
	if len(rs) == 0 {
		return "", fmt.Errorf("referral %d not found", id)
	}
	return rs[0].Status, nil
}

// checkReferee adds to f what the referral engine would refuse of the
// friend, before anything is recorded.
func checkReferee(r referral.RefereeInput, f apperror.Fields) {
	if ae, ok := apperror.As(r.Validate()); ok {
		for field, msg := range ae.Fields {
			f.Add(field, msg)
		}
	}
}

// replay answers a pitch logged again: the stored one, unless the outcome
// differs (a conflict: a pitch is logged once).
func (s *Service) replay(p Pitch, in PitchInput) (Pitch, bool, error) {
	if p.Outcome != in.Outcome {
		return Pitch{}, false, apperror.Conflict("%s's pitch at visit %s is already logged as %s", in.CrewMemberID, in.VisitID, p.Outcome)
	}
	return p, false, nil
}

// pitch reads one pitch with its points.
func (s *Service) pitch(db *gorm.DB, tenantID, where string, args ...any) (Pitch, error) {
	var ps []Pitch
	err := db.Table("pitches AS p").Select("p.*, v.external_id AS visit, c.external_id AS customer, m.external_id AS crew_member").
		Joins("JOIN visits v ON v.id = p.visit_id").Joins("JOIN customers c ON c.id = p.customer_id").
		Joins("JOIN crew_members m ON m.id = p.crew_member_id").
		Where("p.tenant_id = ?", tenantID).Where(where, args...).Scan(&ps).Error
	if err != nil {
		return Pitch{}, fmt.Errorf("read pitch: %w", err)
	}
	if len(ps) == 0 {
		return Pitch{}, apperror.NotFound("pitch not found")
	}
	p := ps[0]
	keys := []string{fmt.Sprintf("pitch:%d", p.ID)}
	if p.ReferralID != nil {
		for _, k := range referralKeys(*p.ReferralID) {
			keys = append(keys, k, reversalPrefix+k)
		}
	}
	p.Points = []PointsEntry{}
	if err := store.Tenant(db, tenantID).Where("crew_member_id = ? AND idempotency_key IN ?", p.CrewMemberID, keys).
		Order("id").Find(&p.Points).Error; err != nil {
		return Pitch{}, fmt.Errorf("read points: %w", err)
	}
	return p, nil
}

// award adds a ledger entry once per key. skip, when set, is why the entry
// earns 0 points (recorded with the reason); otherwise a zero-point
// setting records nothing.
func (s *Service) award(tx *gorm.DB, tenantID string, memberID int64, kind string, points int, key, reason, skip string) error {
	if skip != "" {
		points, reason = 0, reason+"; no points: "+skip
	} else if points == 0 {
		return nil
	}
	return s.entry(tx, tenantID, memberID, kind, points, key, reason)
}

func (s *Service) entry(tx *gorm.DB, tenantID string, memberID int64, kind string, points int, key, reason string) error {
	err := tx.Exec(`INSERT INTO crew_points (tenant_id, crew_member_id, kind, points, reason, idempotency_key, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, idempotency_key) DO NOTHING`,
		tenantID, memberID, kind, points, reason, key, s.clock.Now()).Error
	if err != nil {
		return fmt.Errorf("award points: %w", err)
	}
	return nil
}

// referralKeys are the ledger keys of the points a referral earns.
func referralKeys(referralID int64) []string {
	return []string{fmt.Sprintf("referral_given:%d", referralID), fmt.Sprintf("conversion:%d", referralID)}
}

// reversalPrefix keys the entry that takes back the entry of the rest of
// the key.
const reversalPrefix = "reversal:"

// converted awards the conversion points of a referral a crew member
// brought in; it runs inside the referral engine's conversion. A referral
// given at a pitch the rule said to skip earns 0, with the reason.
func (s *Service) converted(tx *gorm.DB, tenantID string, referralID int64, crewMemberID *int64) error {
	if crewMemberID == nil {
		return nil
	}
	prog, err := program.Get(tx, tenantID)
	if err != nil {
		return err
	}
	var rows []struct{ RefereeName, ReferrerName string }
	if err := tx.Raw(`SELECT r.referee_name, COALESCE(c.name, '') AS referrer_name FROM referrals r
		LEFT JOIN customers c ON c.id = r.referrer_id WHERE r.id = ? AND r.tenant_id = ?`, referralID, tenantID).Scan(&rows).Error; err != nil {
		return fmt.Errorf("read referral: %w", err)
	}
	if len(rows) == 0 {
		return errors.New("converted referral not found")
	}
	var pitches []struct{ SkipReason *string }
	if err := tx.Raw(`SELECT skip_reason FROM pitches WHERE tenant_id = ? AND referral_id = ? ORDER BY id LIMIT 1`,
		tenantID, referralID).Scan(&pitches).Error; err != nil {
		return fmt.Errorf("read pitch of referral: %w", err)
	}
	skip := ""
	if len(pitches) > 0 && pitches[0].SkipReason != nil {
		skip = "the pitch that brought it was at a stop to skip (" + *pitches[0].SkipReason + ")"
	}
	reason := fmt.Sprintf("%s, whom %s referred after your pitch, became a customer (referral #%d)", rows[0].RefereeName, rows[0].ReferrerName, referralID)
	if err := s.award(tx, tenantID, *crewMemberID, PointsConversion, prog.PointsPerConversion, fmt.Sprintf("conversion:%d", referralID), reason, skip); err != nil {
		return err
	}
	return s.checkMilestones(tx, tenantID)
}

// closed takes back, inside the referral engine's transaction, the points
// earned for a referral that will never count (rejected, a duplicate,
// expired): one negative entry per entry earned, with the reason, each once
// (its key is the earned entry's, prefixed).
func (s *Service) closed(tx *gorm.DB, tenantID string, referralID int64, status, reason string) error {
	var earned []PointsEntry
	if err := store.Tenant(tx, tenantID).Where("idempotency_key IN ? AND points <> 0", referralKeys(referralID)).
		Order("id").Find(&earned).Error; err != nil {
		return fmt.Errorf("read points of referral: %w", err)
	}
	why := reason
	if !strings.HasPrefix(why, status) {
		why = status + ": " + reason
	}
	for _, e := range earned {
		if err := s.entry(tx, tenantID, e.CrewMemberID, e.Kind, -e.Points, reversalPrefix+e.IdempotencyKey,
			fmt.Sprintf("taken back: referral #%d no longer counts (%s)", referralID, why)); err != nil {
			return err
		}
	}
	return nil
}
