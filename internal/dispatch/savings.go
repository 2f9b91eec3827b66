package dispatch

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/geo"
	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/ledger"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/store"
)

// MaxSavingsYears bounds the days one route-savings question covers.
const MaxSavingsYears = 2

// SavingsRow is what one crew's synced visits saved on one day.
type SavingsRow struct {
	Date     localdate.Date `json:"date"`
	CrewID   string         `json:"crew_id"`
	CrewName string         `json:"crew_name"`
	// SyncedVisits are the crew's completed visits that day synced with a
	// linked neighbour; the others of the route save nothing here.
	SyncedVisits int     `json:"synced_visits"`
	KmSaved      float64 `json:"km_saved"`
	MinutesSaved float64 `json:"minutes_saved"`
	ValueCents   int64   `json:"value_cents"`
}

// Savings is what completed synced visits saved against separate trips,
// measured on the routes the crews drove, per day and crew, and in total.
type Savings struct {
	From         localdate.Date `json:"from"`
	To           localdate.Date `json:"to"`
	CrewID       string         `json:"crew_id,omitempty"`
	Visits       int            `json:"visits"`
	KmSaved      float64        `json:"km_saved"`
	MinutesSaved float64        `json:"minutes_saved"`
	ValueCents   int64          `json:"value_cents"`
	Rows         []SavingsRow   `json:"rows"`
}

// VisitSaving is the saving of one visit in its route (StopSaving).
type VisitSaving struct {
	Metres, Minutes float64
}

// StopSaving is what serving route stop i (an index into the route's
// stops, m covering [depot, stops...] in route order, back to the depot at
// the end) saves against its own trip depot → stop → depot: that trip's
// length less the stop's marginal cost in the route, previous → stop →
// next less previous → next, never below zero (separately for metres and
// driving minutes).
func StopSaving(m geo.Matrix, stops, i int) VisitSaving {
	x := i + 1
	prev, next := i, x+1 // matrix indexes: the stop before (0: the depot) and after
	if next > stops {
		next = 0
	}
	aloneM, aloneMin := geo.StandaloneTrip(m, i)
	addM := m.Metres(prev, x) + m.Metres(x, next) - m.Metres(prev, next)
	addMin := m.Minutes(prev, x) + m.Minutes(x, next) - m.Minutes(prev, next)
	return VisitSaving{Metres: max(0, aloneM-addM), Minutes: max(0, aloneMin-addMin)}
}

// SavingsQuery is the days (both included) and optionally one crew (its
// external id).
type SavingsQuery struct {
	From, To localdate.Date
	CrewID   string
}

// RouteSavings measures, from the current facts, what completed visits
// synced with a linked neighbour saved on their crews' routes of the days
// from q.From to q.To (README "Route savings"). Nothing is frozen: a visit
// moved, cancelled or unlinked changes the answer.
func (s *Service) RouteSavings(ctx context.Context, tenantID string, q SavingsQuery) (Savings, error) {
	if q.To.Before(q.From) {
		return Savings{}, apperror.Invalid("to", "must not be before from")
	}
	if !q.To.Before(localdate.Of(q.From.Start(time.UTC).AddDate(MaxSavingsYears, 0, 0))) {
		return Savings{}, apperror.Invalid("to", fmt.Sprintf("the range may span at most %d years", MaxSavingsYears))
	}
	db := s.store.DB.WithContext(ctx)
	crews, err := loadCrews(db, tenantID)
	if err != nil {
		return Savings{}, err
	}
	var crewID int64
	if q.CrewID != "" {
		for _, c := range crews {
			if c.ExternalID == q.CrewID {
				crewID = c.ID
			}
		}
		if crewID == 0 {
			return Savings{}, apperror.Invalid("crew_id", "no crew with this id")
		}
	}
	prog, err := program.Get(db, tenantID)
	if err != nil {
		return Savings{}, err
	}
	if err := s.refreshRoutes(ctx, tenantID, prog); err != nil {
		return Savings{}, err
	}
	rows, err := s.rolledRows(db, tenantID, prog, crews, crewID, q.From, q.To)
	if err != nil {
		return Savings{}, err
	}
	// The totals are the sums of the rows as shown.
	out := Savings{From: q.From, To: q.To, CrewID: q.CrewID, Rows: rows}
	var kms, minutes float64
	for _, r := range rows {
		out.Visits += r.SyncedVisits
		out.ValueCents += r.ValueCents
		kms += r.KmSaved
		minutes += r.MinutesSaved
	}
	out.KmSaved, out.MinutesSaved = math.Round(kms*100)/100, round1(minutes)
	return out, nil
}

// routeDay is what one crew's completed synced visits saved on one day's
// route, unrounded: a row of the route_days rollup.
type routeDay struct {
	Day          localdate.Date
	CrewID       int64
	SyncedVisits int
	Metres       float64
	Minutes      float64
}

// row is the answer's row of d: km to 10 m, minutes to 0.1, and the money
// at the program's prices, from the unrounded metres and minutes.
func (d routeDay) row(c crewRow, prog program.Program) SavingsRow {
	return SavingsRow{Date: d.Day, CrewID: c.ExternalID, CrewName: c.Name, SyncedVisits: d.SyncedVisits,
		KmSaved: km(d.Metres), MinutesSaved: round1(d.Minutes),
		ValueCents: int64(math.Round(d.Metres/1000*float64(prog.CostPerKmCents) + d.Minutes*float64(prog.LabourCentsPerMinute)))}
}

// measure works out, from the facts, every crew-day from from to to with
// synced completed visits.
func (s *Service) measure(db *gorm.DB, tenantID string, prog program.Program, crews []crewRow, from, to localdate.Date) ([]routeDay, error) {
	done, err := readStops(db, tenantID, 0, from, to, true)
	if err != nil {
		return nil, fmt.Errorf("read completed visits: %w", err)
	}
	if len(done) == 0 {
		return nil, nil
	}
	matches, err := syncedAmong(db, tenantID, done, from, to, prog.SyncRequiresSameCrew)
	if err != nil || len(matches) == 0 {
		return nil, err
	}
	byID := map[int64]crewRow{}
	for _, c := range crews {
		byID[c.ID] = c
	}
	var out []routeDay
	for k, stops := range routesOf(done) {
		synced := 0
		for _, st := range stops {
			if _, ok := matches[st.VisitID]; ok {
				synced++
			}
		}
		if synced == 0 {
			continue
		}
		c := byID[k.crew]
		p, located, _ := dayProblem(c.depot(), stops, prog)
		m, err := s.matrix(prog, p)
		if err != nil {
			return nil, fmt.Errorf("price the route of crew %s on %s: %w", c.ExternalID, k.day, err)
		}
		d := routeDay{Day: k.day, CrewID: k.crew, SyncedVisits: synced}
		for i, st := range located {
			if _, ok := matches[st.VisitID]; !ok {
				continue
			}
			sv := StopSaving(m, len(located), i)
			d.Metres += sv.Metres
			d.Minutes += sv.Minutes
		}
		out = append(out, d)
	}
	return out, nil
}

// syncedAmong decides which of the completed visits are synced, by the rule
// of the same-day discount (ledger.MatchSynced: a linked neighbour, link
// active that day, has a visit that is not cancelled on the same day, by
// the same crew when the program says so).
func syncedAmong(db *gorm.DB, tenantID string, done []stop, from, to localdate.Date, sameCrew bool) (map[int64]ledger.Match, error) {
	customers := map[int64]bool{}
	visits := make([]ledger.VisitRef, len(done))
	for i, d := range done {
		crew := d.CrewID
		visits[i] = ledger.VisitRef{ID: d.VisitID, CustomerID: d.CustomerID, CrewID: &crew, ServiceDate: d.ServiceDate, Status: "completed"}
		customers[d.CustomerID] = true
	}
	links, err := ledger.LinksOf(db, tenantID, slices.Sorted(maps.Keys(customers)))
	if err != nil || len(links) == 0 {
		return nil, err
	}
	others := map[int64]bool{}
	for _, l := range links {
		others[l.CustomerAID], others[l.CustomerBID] = true, true
	}
	var theirs []ledger.VisitRef
	for chunk := range slices.Chunk(slices.Sorted(maps.Keys(others)), store.MaxInList) {
		var vs []ledger.VisitRef
		if err := db.Raw(`SELECT id, customer_id, crew_id, service_date, status FROM visits
			WHERE tenant_id = ? AND customer_id IN ? AND service_date BETWEEN ? AND ? AND status <> 'cancelled'`,
			tenantID, chunk, from, to).Scan(&vs).Error; err != nil {
			return nil, fmt.Errorf("read neighbours' visits: %w", err)
		}
		theirs = append(theirs, vs...)
	}
	return ledger.MatchSynced(visits, links, theirs, sameCrew), nil
}
