package dispatch

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/store"
)

// Route savings are read from a rollup per crew and day (route_days,
// migration 0020) holding each crew-day's saved metres and minutes; the
// money is priced when read. The rollup is a function of the facts alone:
// the database marks a day dirty (route_dirty) in the same transaction as
// any write that can change it — a visit added, removed, moved (day, crew,
// route position, customer) or changing status, a customer's home or a
// crew's depot moved, a link made, ended or removed — whichever code made
// it. RouteSavings works every dirty day out again before answering, so an
// answer counts every fact committed before it. A new travel model or
// same-crew rule works every day out again.

// routeSpan is how many days one measurement reads when every day is
// worked out again.
const routeSpan = 31

// routeSettings names what the measurement depends on besides the facts.
func routeSettings(s *Service, prog program.Program) string {
	t := s.Travel(prog)
	return fmt.Sprintf("%T%+v same_crew=%t", t, t, prog.SyncRequiresSameCrew)
}

// RefreshRoutes brings the tenant's route rollup up to date (RouteSavings
// does it before it answers; the hourly job does it ahead of it).
func (s *Service) RefreshRoutes(ctx context.Context, tenantID string) error {
	prog, err := program.Get(s.store.DB.WithContext(ctx), tenantID)
	if err != nil {
		return err
	}
	return s.refreshRoutes(ctx, tenantID, prog)
}

// refreshRoutes brings the tenant's route rollup up to date.
func (s *Service) refreshRoutes(ctx context.Context, tenantID string, prog program.Program) error {
	settings := routeSettings(s, prog)
	return s.store.Tx(ctx, func(tx *gorm.DB) error {
		// One refresher per tenant at a time; writers never wait on it.
		if err := store.LockNames(tx, "route-rollup:"+tenantID); err != nil {
			return err
		}
		var saved []string
		if err := tx.Raw(`SELECT settings FROM route_rollup_state WHERE tenant_id = ?`, tenantID).Scan(&saved).Error; err != nil {
			return fmt.Errorf("read route rollup state: %w", err)
		}
		// Taking the marks and reading them is one statement: a mark
		// committed later stays for the next refresh.
		var marks []struct{ Day localdate.Date }
		if err := tx.Raw(`DELETE FROM route_dirty WHERE tenant_id = ? RETURNING day`, tenantID).Scan(&marks).Error; err != nil {
			return fmt.Errorf("take route marks: %w", err)
		}
		full := len(saved) == 0 || saved[0] != settings
		var runs [][]localdate.Date
		if full {
			if err := tx.Exec(`DELETE FROM route_days WHERE tenant_id = ?`, tenantID).Error; err != nil {
				return fmt.Errorf("clear route rollup: %w", err)
			}
			days, err := everyRouteDay(tx, tenantID)
			if err != nil {
				return err
			}
			runs = localdate.Runs(days, routeSpan)
		} else {
			days := make([]localdate.Date, len(marks))
			for i, m := range marks {
				days[i] = m.Day
			}
			runs = localdate.Runs(localdate.Sorted(days), 1) // each day on its own
		}
		if len(runs) == 0 && !full {
			return nil
		}
		crews, err := loadCrews(tx, tenantID)
		if err != nil {
			return err
		}
		for _, run := range runs {
			from, to := run[0], run[len(run)-1]
			days, err := s.measure(tx, tenantID, prog, crews, from, to)
			if err != nil {
				return err
			}
			if err := tx.Exec(`DELETE FROM route_days WHERE tenant_id = ? AND day >= ? AND day <= ?`, tenantID, from, to).Error; err != nil {
				return fmt.Errorf("clear route days: %w", err)
			}
			if err := saveRouteDays(tx, tenantID, days); err != nil {
				return err
			}
		}
		if !full {
			return nil
		}
		q, args := `UPDATE route_rollup_state SET settings = ? WHERE tenant_id = ?`, []any{settings, tenantID}
		if len(saved) == 0 {
			q, args = `INSERT INTO route_rollup_state (tenant_id, settings) VALUES (?, ?)`, []any{tenantID, settings}
		}
		if err := tx.Exec(q, args...).Error; err != nil {
			return fmt.Errorf("save route rollup state: %w", err)
		}
		return nil
	})
}

// everyRouteDay answers every day from the first completed visit of a crew
// to the last.
func everyRouteDay(tx *gorm.DB, tenantID string) ([]localdate.Date, error) {
	var first, last []struct{ ServiceDate localdate.Date }
	for _, q := range []struct {
		order string
		into  *[]struct{ ServiceDate localdate.Date }
	}{{"ASC", &first}, {"DESC", &last}} {
		if err := tx.Raw(`SELECT service_date FROM visits WHERE tenant_id = ? AND status = 'completed' AND crew_id IS NOT NULL
			ORDER BY service_date `+q.order+` LIMIT 1`, tenantID).Scan(q.into).Error; err != nil {
			return nil, fmt.Errorf("read route span: %w", err)
		}
	}
	if len(first) == 0 || len(last) == 0 {
		return nil, nil
	}
	return localdate.Span(first[0].ServiceDate, last[0].ServiceDate), nil
}

// saveRouteDays writes rollup rows, a few hundred per statement.
func saveRouteDays(tx *gorm.DB, tenantID string, days []routeDay) error {
	const batch = 500
	for len(days) > 0 {
		n := min(batch, len(days))
		args := make([]any, 0, 6*n)
		for _, d := range days[:n] {
			args = append(args, tenantID, d.Day, d.CrewID, d.SyncedVisits, d.Metres, d.Minutes)
		}
		values := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?), ", n), ", ")
		if err := tx.Exec(`INSERT INTO route_days (tenant_id, day, crew_id, synced_visits, metres, minutes) VALUES `+values, args...).Error; err != nil {
			return fmt.Errorf("save route days: %w", err)
		}
		days = days[n:]
	}
	return nil
}

// rolledRows reads the answer's rows from the rollup: by date, then crew.
func (s *Service) rolledRows(db *gorm.DB, tenantID string, prog program.Program, crews []crewRow, crewID int64, from, to localdate.Date) ([]SavingsRow, error) {
	q, args := `SELECT day, crew_id, synced_visits, metres, minutes FROM route_days WHERE tenant_id = ? AND day >= ? AND day <= ?`,
		[]any{tenantID, from, to}
	if crewID > 0 {
		q += ` AND crew_id = ?`
		args = append(args, crewID)
	}
	var days []routeDay
	if err := db.Raw(q, args...).Scan(&days).Error; err != nil {
		return nil, fmt.Errorf("read route savings: %w", err)
	}
	return savingsRows(days, crews, prog), nil
}

// savingsRows prices route days as the answer's rows, by date, then crew.
func savingsRows(days []routeDay, crews []crewRow, prog program.Program) []SavingsRow {
	byID := map[int64]crewRow{}
	for _, c := range crews {
		byID[c.ID] = c
	}
	rows := make([]SavingsRow, 0, len(days))
	for _, d := range days {
		rows = append(rows, d.row(byID[d.CrewID], prog))
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Date != rows[j].Date {
			return rows[i].Date.Before(rows[j].Date)
		}
		return rows[i].CrewID < rows[j].CrewID
	})
	return rows
}
