package crew

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/text"
)

// EventMilestoneReached is announced once per milestone and period.
const EventMilestoneReached = "crew.milestone_reached"

// What a milestone counts, team-wide, in its period.
const (
	MetricConversions = "conversions" // crew-pitched referrals converted
	MetricReferrals   = "referrals"   // referrals recorded with a crew member that still count
	MetricPitches     = "pitches"     // pitches logged
	MetricPoints      = "points"      // crew points earned
)

// Milestone is a team goal ("25 conversions this quarter → team golf day").
type Milestone struct {
	ID        int64     `json:"id"`
	TenantID  string    `json:"-"`
	Name      string    `json:"name"`
	Metric    string    `json:"metric"`
	Target    int64     `json:"target"`
	Period    string    `json:"period"`
	Reward    string    `json:"reward"`
	CreatedAt time.Time `json:"created_at"`
}

// TableName is milestones.
func (Milestone) TableName() string { return "milestones" }

// Progress is a milestone in its current period.
type Progress struct {
	Milestone
	Current   Period     `json:"current"`
	Progress  int64      `json:"progress"`
	Reached   bool       `json:"reached"`
	ReachedAt *time.Time `json:"reached_at"`
}

// MilestoneInput is the body of POST /crew/milestones.
type MilestoneInput struct {
	Name   string `json:"name"`
	Metric string `json:"metric"`
	Target int64  `json:"target"`
	Period string `json:"period"`
	Reward string `json:"reward"`
}

func (in *MilestoneInput) validate() error {
	f := apperror.Fields{}
	in.Name, in.Reward = strings.TrimSpace(in.Name), strings.TrimSpace(in.Reward)
	text.Field(f, "name", in.Name, text.Line, true, 100)
	switch in.Metric {
	case MetricConversions, MetricReferrals, MetricPitches, MetricPoints:
	default:
		f.Add("metric", "must be conversions, referrals, pitches or points")
	}
	if in.Target < 1 || in.Target > 100_000_000 {
		f.Add("target", "must be a whole number from 1 to 100000000")
	}
	if CheckPeriod(in.Period) != nil {
		f.Add("period", "must be month, quarter or year")
	}
	text.Field(f, "reward", in.Reward, text.Free, false, 200)
	return f.Err()
}

// CreateMilestone adds a team goal; a name already used is a conflict. A
// goal already met in the current period is announced at once.
func (s *Service) CreateMilestone(ctx context.Context, tenantID string, in MilestoneInput) (Progress, error) {
	if err := in.validate(); err != nil {
		return Progress{}, err
	}
	var m Milestone
	err := s.store.Tx(ctx, func(tx *gorm.DB) error {
		var rows []Milestone
		if err := tx.Raw(`INSERT INTO milestones (tenant_id, name, metric, target, period, reward, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (tenant_id, name) DO NOTHING RETURNING *`,
			tenantID, in.Name, in.Metric, in.Target, in.Period, in.Reward, s.clock.Now()).Scan(&rows).Error; err != nil {
			return fmt.Errorf("save milestone: %w", err)
		}
		if len(rows) == 0 {
			return apperror.Conflict("a milestone named %q exists", in.Name)
		}
		m = rows[0]
		return s.checkMilestones(tx, tenantID)
	})
	if err != nil {
		return Progress{}, err
	}
	db := s.store.DB.WithContext(ctx)
	d, loc, err := s.today(db, tenantID)
	if err != nil {
		return Progress{}, err
	}
	return s.progress(db, tenantID, m, d, loc)
}

// Milestones lists the team goals with progress in the period holding day
// ("" = today).
func (s *Service) Milestones(ctx context.Context, tenantID, day string) ([]Progress, error) {
	db := s.store.DB.WithContext(ctx)
	d, loc, err := s.dayOr(db, tenantID, day, "date")
	if err != nil {
		return nil, err
	}
	var ms []Milestone
	if err := store.Tenant(db, tenantID).Order("id").Find(&ms).Error; err != nil {
		return nil, fmt.Errorf("list milestones: %w", err)
	}
	out := make([]Progress, 0, len(ms))
	for _, m := range ms {
		p, err := s.progress(db, tenantID, m, d, loc)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func (s *Service) progress(db *gorm.DB, tenantID string, m Milestone, d localdate.Date, loc *time.Location) (Progress, error) {
	per := PeriodOf(m.Period, d, loc)
	n, err := measure(db, tenantID, m.Metric, per)
	if err != nil {
		return Progress{}, err
	}
	p := Progress{Milestone: m, Current: per, Progress: n, Reached: n >= m.Target}
	var hits []struct{ ReachedAt time.Time }
	if err := db.Raw(`SELECT reached_at FROM milestone_hits WHERE tenant_id = ? AND milestone_id = ? AND period_key = ?`,
		tenantID, m.ID, per.Key).Scan(&hits).Error; err != nil {
		return Progress{}, fmt.Errorf("read milestone hits: %w", err)
	}
	if len(hits) > 0 {
		p.Reached, p.ReachedAt = true, &hits[0].ReachedAt
	}
	return p, nil
}

// measure counts a metric team-wide in a period.
func measure(db *gorm.DB, tenantID, metric string, p Period) (int64, error) {
	q := map[string]string{
		MetricConversions: `SELECT COUNT(*) FROM referrals WHERE tenant_id = ? AND crew_member_id IS NOT NULL AND status = 'converted'
			AND converted_at >= ? AND converted_at < ?`,
		MetricReferrals: `SELECT COUNT(*) FROM referrals WHERE tenant_id = ? AND crew_member_id IS NOT NULL AND ` + validReferrals + `
			AND created_at >= ? AND created_at < ?`,
		MetricPitches: `SELECT COUNT(*) FROM pitches WHERE tenant_id = ? AND created_at >= ? AND created_at < ?`,
		MetricPoints:  `SELECT COALESCE(SUM(points), 0) FROM crew_points WHERE tenant_id = ? AND created_at >= ? AND created_at < ?`,
	}[metric]
	var n int64
	if err := db.Raw(q, tenantID, p.start, p.end).Scan(&n).Error; err != nil {
		return 0, fmt.Errorf("measure %s: %w", metric, err)
	}
	return n, nil
}

// checkMilestones records (once per period: milestone_hits' key) and
// announces every milestone the team has now reached.
func (s *Service) checkMilestones(tx *gorm.DB, tenantID string) error {
	var ms []Milestone
	if err := store.Tenant(tx, tenantID).Order("id").Find(&ms).Error; err != nil {
		return fmt.Errorf("list milestones: %w", err)
	}
	if len(ms) == 0 {
		return nil
	}
	d, loc, err := s.today(tx, tenantID)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	for _, m := range ms {
		per := PeriodOf(m.Period, d, loc)
		n, err := measure(tx, tenantID, m.Metric, per)
		if err != nil {
			return err
		}
		if n < m.Target {
			continue
		}
		res := tx.Exec(`INSERT INTO milestone_hits (tenant_id, milestone_id, period_key, reached_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (milestone_id, period_key) DO NOTHING`, tenantID, m.ID, per.Key, now)
		if res.Error != nil {
			return fmt.Errorf("record milestone: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			continue // announced already this period
		}
		if err := s.events.Emit(tx, tenantID, EventMilestoneReached, map[string]any{"milestone_id": m.ID, "name": m.Name,
			"metric": m.Metric, "target": m.Target, "progress": n, "period": m.Period, "period_key": per.Key, "reward": m.Reward}); err != nil {
			return err
		}
	}
	return nil
}
