package crew

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/tenant"
)

// Standing is one crew member's line on the leaderboard.
type Standing struct {
	Rank         int    `json:"rank"`
	CrewMemberID string `json:"crew_member_id"`
	Name         string `json:"name"`
	CrewID       string `json:"crew_id"`
	Points       int64  `json:"points"`
	// Counts of what happened in the period, not of ledger entries:
	// pitches logged (points or not), crew-attributed referrals recorded
	// that still count (not rejected, duplicate or expired), and those
	// converted.
	Pitches     int64 `json:"pitches"`
	Referrals   int64 `json:"referrals"`
	Conversions int64 `json:"conversions"`
	// The year-end bonus tally: points in the calendar year holding the
	// date, times the program's point value.
	YearPoints     int64 `json:"year_points"`
	YearBonusCents int64 `json:"year_bonus_cents"`
}

// Leaderboard is the crew members' points in one period.
type Leaderboard struct {
	Period
	Year            string     `json:"bonus_year"`
	PointValueCents int        `json:"point_value_cents"`
	Members         []Standing `json:"members"`
}

// today is the tenant-local date now.
func (s *Service) today(db *gorm.DB, tenantID string) (localdate.Date, *time.Location, error) {
	loc, err := tenant.LocationOf(db, tenantID)
	if err != nil {
		return localdate.Date{}, nil, err
	}
	return localdate.In(s.clock.Now(), loc), loc, nil
}

// dayOr is the given YYYY-MM-DD (field names the parameter) or today.
func (s *Service) dayOr(db *gorm.DB, tenantID, day, field string) (localdate.Date, *time.Location, error) {
	today, loc, err := s.today(db, tenantID)
	if err != nil || day == "" {
		return today, loc, err
	}
	d, err := localdate.Parse(day)
	if err != nil {
		return d, loc, apperror.Invalid(field, err.Error())
	}
	return d, loc, nil
}

// Leaderboard ranks every crew member (active, or with points) by points in
// the tenant-local period holding day ("" = today): most points first, ties
// in name order sharing a rank.
func (s *Service) Leaderboard(ctx context.Context, tenantID, kind, day string) (Leaderboard, error) {
	if kind == "" {
		kind = PeriodMonth
	}
	if err := CheckPeriod(kind); err != nil {
		return Leaderboard{}, err
	}
	db := s.store.DB.WithContext(ctx)
	d, loc, err := s.dayOr(db, tenantID, day, "date")
	if err != nil {
		return Leaderboard{}, err
	}
	prog, err := program.Get(db, tenantID)
	if err != nil {
		return Leaderboard{}, err
	}
	per, year := PeriodOf(kind, d, loc), PeriodOf(PeriodYear, d, loc)
	var rows []struct {
		ID         int64
		ExternalID string
		Name       string
		Crew       string
	}
	if err := db.Raw(`SELECT m.id, m.external_id, m.name, c.external_id AS crew FROM crew_members m JOIN crews c ON c.id = m.crew_id
		WHERE m.tenant_id = ? AND (m.active OR EXISTS (SELECT 1 FROM crew_points p WHERE p.crew_member_id = m.id)
		   OR EXISTS (SELECT 1 FROM pitches p WHERE p.crew_member_id = m.id))`, tenantID).Scan(&rows).Error; err != nil {
		return Leaderboard{}, fmt.Errorf("list crew members: %w", err)
	}
	sumPoints := func(p Period) (map[int64]int64, error) {
		var ss []struct {
			CrewMemberID int64
			Points       int64
		}
		if err := db.Raw(`SELECT crew_member_id, COALESCE(SUM(points), 0) AS points FROM crew_points
			WHERE tenant_id = ? AND created_at >= ? AND created_at < ? GROUP BY crew_member_id`,
			tenantID, p.start, p.end).Scan(&ss).Error; err != nil {
			return nil, fmt.Errorf("sum points: %w", err)
		}
		out := map[int64]int64{}
		for _, x := range ss {
			out[x.CrewMemberID] = x.Points
		}
		return out, nil
	}
	inPeriod, err := sumPoints(per)
	if err != nil {
		return Leaderboard{}, err
	}
	inYear, err := sumPoints(year)
	if err != nil {
		return Leaderboard{}, err
	}
	counts := map[string]map[int64]int64{}
	for name, q := range map[string]string{
		"pitches": `SELECT crew_member_id AS id, COUNT(*) AS n FROM pitches WHERE tenant_id = ? AND created_at >= ? AND created_at < ?
			GROUP BY crew_member_id`,
		"referrals": `SELECT crew_member_id AS id, COUNT(*) AS n FROM referrals WHERE tenant_id = ? AND crew_member_id IS NOT NULL
			AND ` + validReferrals + ` AND created_at >= ? AND created_at < ? GROUP BY crew_member_id`,
		"conversions": `SELECT crew_member_id AS id, COUNT(*) AS n FROM referrals WHERE tenant_id = ? AND crew_member_id IS NOT NULL
			AND status = 'converted' AND converted_at >= ? AND converted_at < ? GROUP BY crew_member_id`,
	} {
		var ns []struct{ ID, N int64 }
		if err := db.Raw(q, tenantID, per.start, per.end).Scan(&ns).Error; err != nil {
			return Leaderboard{}, fmt.Errorf("count %s: %w", name, err)
		}
		counts[name] = map[int64]int64{}
		for _, x := range ns {
			counts[name][x.ID] = x.N
		}
	}
	out := Leaderboard{Period: per, Year: year.Key, PointValueCents: prog.PointValueCents, Members: []Standing{}}
	for _, r := range rows {
		st := Standing{CrewMemberID: r.ExternalID, Name: r.Name, CrewID: r.Crew, Points: inPeriod[r.ID],
			Pitches: counts["pitches"][r.ID], Referrals: counts["referrals"][r.ID], Conversions: counts["conversions"][r.ID],
			YearPoints: inYear[r.ID]}
		st.YearBonusCents = st.YearPoints * int64(prog.PointValueCents)
		out.Members = append(out.Members, st)
	}
	sort.Slice(out.Members, func(i, j int) bool {
		a, b := out.Members[i], out.Members[j]
		if a.Points != b.Points {
			return a.Points > b.Points
		}
		if an, bn := strings.ToLower(a.Name), strings.ToLower(b.Name); an != bn {
			return an < bn
		}
		return a.CrewMemberID < b.CrewMemberID
	})
	for i := range out.Members {
		out.Members[i].Rank = i + 1
		if i > 0 && out.Members[i].Points == out.Members[i-1].Points {
			out.Members[i].Rank = out.Members[i-1].Rank
		}
	}
	return out, nil
}
