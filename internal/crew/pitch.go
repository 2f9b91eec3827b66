package crew

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/referral"
	"github.com/routeloop/routeloop/internal/scheduling"
	"github.com/routeloop/routeloop/internal/store"
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

func (in *PitchInput) validate() error {
	f := apperror.Fields{}
	if err := scheduling.CheckExternalID(in.VisitID); err != nil {
		f.Add("visit_id", err.Error())
	}
	if err := scheduling.CheckExternalID(in.CrewMemberID); err != nil {
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
	return f.Err()
}

type memberRow struct {
	ID         int64
	ExternalID string
	Name       string
	CrewID     int64
}

func findMember(db *gorm.DB, tenantID, externalID string) (*memberRow, error) {
	var ms []memberRow
	if err := db.Raw(`SELECT id, external_id, name, crew_id FROM crew_members WHERE tenant_id = ? AND external_id = ?`,
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

// LogPitch records a crew member's pitch at a visit and awards its points.
// A friend given on site is recorded through the referral engine (channel
// crew_pitch, the member attributed). The same pitch again (same visit and
// member) returns the one stored; created is false then.
func (s *Service) LogPitch(ctx context.Context, tenantID, actor string, in PitchInput) (Pitch, bool, error) {
	if err := in.validate(); err != nil {
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
	f := apperror.Fields{}
	if v == nil {
		f.Add("visit_id", "no visit with id "+in.VisitID)
	} else if v.Status == scheduling.VisitCancelled {
		f.Add("visit_id", "visit "+in.VisitID+" was cancelled")
	}
	if m == nil {
		f.Add("crew_member_id", "no crew member with id "+in.CrewMemberID)
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
		prog, err := program.Get(tx, tenantID)
		if err != nil {
			return err
		}
		scripts, err := activeScripts(tx, tenantID)
		if err != nil {
			return err
		}
		var refID *int64
		if ref != nil {
			refID = &ref.ID
		}
		now := s.clock.Now()
		var rows []Pitch
		if err := tx.Raw(`INSERT INTO pitches (tenant_id, visit_id, customer_id, crew_member_id, script, outcome, referral_id, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, visit_id, crew_member_id) DO NOTHING RETURNING *`,
			tenantID, v.ID, v.CustomerID, m.ID, AssignScript(tenantID, m.ID, scripts).Name, in.Outcome, refID, now).Scan(&rows).Error; err != nil {
			return fmt.Errorf("log pitch: %w", err)
		}
		if len(rows) == 0 { // a concurrent twin won
			return nil
		}
		id, created = rows[0].ID, true
		how := map[string]string{OutcomePitched: "pitched the referral program to", OutcomeDeclined: "pitched (declined) the referral program to",
			OutcomeReferralGiven: "pitched the referral program to"}[in.Outcome]
		if err := s.award(tx, tenantID, m.ID, PointsPitch, prog.PointsPerPitch, fmt.Sprintf("pitch:%d", id),
			fmt.Sprintf("%s %s at visit %s on %s", how, custName, v.ExternalID, v.ServiceDate)); err != nil {
			return err
		}
		if ref != nil {
			if err := s.award(tx, tenantID, m.ID, PointsReferralGiven, prog.PointsPerReferral, fmt.Sprintf("referral_given:%d", ref.ID),
				fmt.Sprintf("%s referred %s on site at visit %s (referral #%d)", custName, ref.Referee.Name, v.ExternalID, ref.ID)); err != nil {
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
		keys = append(keys, fmt.Sprintf("referral_given:%d", *p.ReferralID), fmt.Sprintf("conversion:%d", *p.ReferralID))
	}
	p.Points = []PointsEntry{}
	if err := store.Tenant(db, tenantID).Where("crew_member_id = ? AND idempotency_key IN ?", p.CrewMemberID, keys).
		Order("id").Find(&p.Points).Error; err != nil {
		return Pitch{}, fmt.Errorf("read points: %w", err)
	}
	return p, nil
}

// award adds a ledger entry once per key; a zero-point setting records
// nothing.
func (s *Service) award(tx *gorm.DB, tenantID string, memberID int64, kind string, points int, key, reason string) error {
	if points == 0 {
		return nil
	}
	err := tx.Exec(`INSERT INTO crew_points (tenant_id, crew_member_id, kind, points, reason, idempotency_key, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, idempotency_key) DO NOTHING`,
		tenantID, memberID, kind, points, reason, key, s.clock.Now()).Error
	if err != nil {
		return fmt.Errorf("award points: %w", err)
	}
	return nil
}

// converted awards the conversion points of a referral a crew member
// brought in; it runs inside the referral engine's conversion.
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
	reason := fmt.Sprintf("%s, whom %s referred after your pitch, became a customer (referral #%d)", rows[0].RefereeName, rows[0].ReferrerName, referralID)
	if err := s.award(tx, tenantID, *crewMemberID, PointsConversion, prog.PointsPerConversion, fmt.Sprintf("conversion:%d", referralID), reason); err != nil {
		return err
	}
	return s.checkMilestones(tx, tenantID)
}
