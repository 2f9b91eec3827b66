package dispatch

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/geo"
	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/tenant"
)

// BookInput is the body of POST /linked-visits.
type BookInput struct {
	CustomerID  string `json:"customer_id"`
	Date        string `json:"date"`
	CrewID      string `json:"crew_id"`
	Position    int    `json:"position"`
	DurationMin int    `json:"duration_min"`
	PriceCents  int64  `json:"price_cents"`
}

// Booking is what a booking did: the new visit and the day's route.
type Booking struct {
	VisitID             string   `json:"visit_id"`
	KmSavedVsStandalone float64  `json:"km_saved_vs_standalone"`
	MinutesSaved        float64  `json:"minutes_saved_vs_standalone"`
	Route               DayRoute `json:"route"`
}

func newVisitID() string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return "rl-" + hex.EncodeToString(b)
}

// Book writes a visit at a position of a crew's day (status scheduled,
// source routeloop), moves the later stops down, records the drive it saves
// against a separate trip and announces visit.booked. The crew-day is
// locked while booking: of two dispatchers booking its last room at once,
// one wins and the other is told the day is full.
func (s *Service) Book(ctx context.Context, tenantID string, in BookInput) (Booking, error) {
	day, err := in.check()
	if err != nil {
		return Booking{}, err
	}
	var (
		visitExt string
		pl       placement
	)
	err = s.store.Tx(ctx, func(tx *gorm.DB) error {
		var err error
		visitExt, pl, err = s.book(tx, tenantID, in, day)
		return err
	})
	if err != nil {
		return Booking{}, err
	}
	route, err := s.Route(ctx, tenantID, in.CrewID, day)
	if err != nil {
		return Booking{}, err
	}
	return Booking{VisitID: visitExt, KmSavedVsStandalone: km(max(pl.savedMetres, 0)), MinutesSaved: round1(max(pl.savedMinutes, 0)),
		Route: route}, nil
}

// check checks the input's own fields, all at once, and answers the day.
func (in BookInput) check() (localdate.Date, error) {
	f := apperror.Fields{}
	if err := mirror.CheckExternalID(in.CustomerID); err != nil {
		f.Add("customer_id", err.Error())
	}
	if err := mirror.CheckExternalID(in.CrewID); err != nil {
		f.Add("crew_id", err.Error())
	}
	day, err := localdate.Parse(in.Date)
	if err != nil {
		f.Add("date", err.Error())
	}
	if in.Position < 0 || in.Position > 10_000 {
		f.Add("position", "must be a route position from 1 (0: the cheapest)")
	}
	if in.DurationMin < 0 || in.DurationMin > 24*60 {
		f.Add("duration_min", "must be between 1 and 1440 minutes")
	}
	if in.PriceCents < 0 || in.PriceCents > mirror.MaxPriceCents {
		f.Add("price_cents", "must not be negative")
	}
	return day, f.Err()
}

// book is Book inside its transaction: the customer and crew looked up,
// their locks taken in the one lock order, the visit placed on the day and
// written. It answers the new visit's id and where it went.
func (s *Service) book(tx *gorm.DB, tenantID string, in BookInput, day localdate.Date) (string, placement, error) {
	loc, err := tenant.LocationOf(tx, tenantID)
	if err != nil {
		return "", placement{}, err
	}
	if day.Before(s.today(loc)) {
		return "", placement{}, apperror.Invalid("date", fmt.Sprintf("%s is in the past", day))
	}
	prog, err := program.Get(tx, tenantID)
	if err != nil {
		return "", placement{}, err
	}
	customerID, point, err := bookedCustomer(tx, tenantID, in.CustomerID)
	if err != nil {
		return "", placement{}, err
	}
	// Every crew: the booked one, and the depots the separate trip is
	// measured from.
	crews, err := loadCrews(tx, tenantID)
	if err != nil {
		return "", placement{}, err
	}
	i := slices.IndexFunc(crews, func(c crewRow) bool { return c.ExternalID == in.CrewID })
	if i < 0 {
		return "", placement{}, apperror.Invalid("crew_id", "no crew with id "+in.CrewID)
	}
	crew := crews[i]
	if err := s.lockBooking(tx, tenantID, customerID, crew, day); err != nil {
		return "", placement{}, err
	}
	if err := onNoRouteThatDay(tx, tenantID, customerID, day); err != nil {
		return "", placement{}, err
	}
	days, err := loadStops(tx, tenantID, crew.ID, day, day)
	if err != nil {
		return "", placement{}, err
	}
	duration := float64(prog.DefaultVisitMinutes)
	if in.DurationMin > 0 {
		duration = float64(in.DurationMin)
	}
	pl, err := place(s.Travel(prog), prog, crew, crews, days[crewDay{crew.ID, day}], point, duration, in.Position, day)
	if err != nil {
		return "", placement{}, err
	}
	visitExt, err := s.writeBooking(tx, tenantID, in, customerID, crew, day, pl)
	return visitExt, pl, err
}

// bookedCustomer is the customer a booking names, and where they live; a
// customer unknown or without a location is refused.
func bookedCustomer(tx *gorm.DB, tenantID, externalID string) (int64, geo.Point, error) {
	var cus []struct {
		ID       int64
		Lat, Lon *float64
	}
	if err := tx.Raw(`SELECT id, lat, lon FROM customers WHERE tenant_id = ? AND external_id = ?`, tenantID, externalID).Scan(&cus).Error; err != nil {
		return 0, geo.Point{}, fmt.Errorf("read customer: %w", err)
	}
	if len(cus) == 0 {
		return 0, geo.Point{}, apperror.Invalid("customer_id", "no customer with id "+externalID)
	}
	if cus[0].Lat == nil {
		return 0, geo.Point{}, apperror.Unprocessable("customer %s has no location to route to", externalID)
	}
	return cus[0].ID, geo.Point{Lat: *cus[0].Lat, Lon: *cus[0].Lon}, nil
}

// lockBooking takes a booking's locks: the booked customer's money (and
// their neighbours') first, then the crew's day — the one lock order.
func (s *Service) lockBooking(tx *gorm.DB, tenantID string, customerID int64, crew crewRow, day localdate.Date) error {
	if err := mirror.LockMoney(tx, tenantID, customerID); err != nil {
		return err
	}
	if s.store.Dialect == store.Postgres {
		if err := tx.Exec(`SELECT pg_advisory_xact_lock(hashtext(?))`, fmt.Sprintf("routeloop.crewday.%s.%d.%s", tenantID, crew.ID, day)).Error; err != nil {
			return fmt.Errorf("lock crew day: %w", err)
		}
	}
	return nil
}

// onNoRouteThatDay refuses a booking of a customer already on a route that
// day: a customer is on one crew's route a day, and the visit of theirs
// that day, on this crew or another, is named in the refusal. (Their money
// lock, taken before, keeps two bookings of them apart.)
func onNoRouteThatDay(tx *gorm.DB, tenantID string, customerID int64, day localdate.Date) error {
	var taken []struct {
		ExternalID string
		CrewName   string
		Name       string
	}
	if err := tx.Raw(`SELECT v.external_id, cr.name AS crew_name, c.name FROM visits v JOIN crews cr ON cr.id = v.crew_id JOIN customers c ON c.id = v.customer_id
		WHERE v.tenant_id = ? AND v.customer_id = ? AND v.service_date = ? AND v.status <> 'cancelled' ORDER BY v.id LIMIT 1`,
		tenantID, customerID, day).Scan(&taken).Error; err != nil {
		return fmt.Errorf("read the customer's day: %w", err)
	}
	if len(taken) > 0 {
		return apperror.Conflict("%s is already on %s's route on %s (visit %s): a customer is on one crew's route a day",
			taken[0].Name, taken[0].CrewName, day, taken[0].ExternalID)
	}
	return nil
}

// placement is where a booking puts the new visit on the crew's day and
// what that saves against a separate trip (negative when the detour costs
// more than the trip).
type placement struct {
	// routePosition is the visit's route position: that of the stop it
	// goes before, which moves down with the later ones.
	routePosition int
	duration      float64 // minutes
	savedMetres   float64
	savedMinutes  float64
}

// place puts point, a visit of duration minutes, on the crew's day of
// stops at position (from 1; 0: the cheapest place), as travel prices the
// legs; crews' depots are where a separate trip may start. A position past
// the route's end is refused, and so is a day the visit would run past the
// working day (ending exactly at its end fits).
func place(travel geo.Travel, prog program.Program, crew crewRow, crews []crewRow, stops []stop, point geo.Point, duration float64,
	position int, day localdate.Date) (placement, error) {
	p, located, unrouted := dayProblem(crew.depot(), stops, prog, point)
	p.ServiceMin[len(p.ServiceMin)-1] = duration
	m, err := travel.Matrix(append([]geo.Point{p.Depot}, p.Stops...))
	if err != nil {
		return placement{}, err
	}
	n := len(located)
	order := identity(n)
	baseM, before := geo.RouteLength(p, m, order)
	pos := position - 1
	if position == 0 {
		pos = geo.CheapestInsertion(p, m, order, n).Position
	}
	if pos < 0 || pos > n {
		return placement{}, apperror.Invalid("position", fmt.Sprintf("the route that day has %d stops: choose 1 to %d", n, n+1))
	}
	withNew := append(append(append([]int(nil), order[:pos]...), n), order[pos:]...)
	addedM, after := geo.RouteLength(p, m, withNew)
	if after+unrouted > float64(prog.WorkdayMinutes) {
		return placement{}, apperror.Conflict("%s's day on %s is full: it would take %.0f of %d minutes", crew.Name, day, after+unrouted, prog.WorkdayMinutes)
	}
	alone, aloneMin, err := separateTrip(travel, crews, point)
	if err != nil {
		return placement{}, err
	}
	// Route positions: the new stop takes the place of the stop it goes
	// before; that stop and the later ones move down one.
	newPos := pos + 1
	if pos < n && located[pos].RoutePosition != nil {
		newPos = *located[pos].RoutePosition
	} else if pos == n && n > 0 && located[n-1].RoutePosition != nil {
		newPos = *located[n-1].RoutePosition + 1
	}
	return placement{routePosition: newPos, duration: duration, savedMetres: alone - (addedM - baseM),
		savedMinutes: aloneMin - ((after - before) - duration)}, nil
}

// writeBooking writes the placed visit: the later stops moved down, the
// visit inserted, its neighbours' money changed with it, visit.booked
// announced (and route.changed when stops moved). It answers the visit's
// new id.
func (s *Service) writeBooking(tx *gorm.DB, tenantID string, in BookInput, customerID int64, crew crewRow, day localdate.Date, pl placement) (string, error) {
	moved := tx.Exec(`UPDATE visits SET route_position = route_position + 1, updated_at = ?
		WHERE tenant_id = ? AND crew_id = ? AND service_date = ? AND route_position >= ?`,
		s.clock.Now(), tenantID, crew.ID, day, pl.routePosition)
	if moved.Error != nil {
		return "", fmt.Errorf("move later stops: %w", moved.Error)
	}
	visitExt := newVisitID()
	now := s.clock.Now()
	dur := int(pl.duration)
	var booked mirror.Visit
	if err := tx.Raw(`INSERT INTO visits (tenant_id, external_id, customer_id, crew_id, service_date, route_position, duration_min,
			status, price_cents, source, saved_metres, saved_minutes, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, 'scheduled', ?, 'routeloop', ?, ?, ?, ?) RETURNING *`,
		tenantID, visitExt, customerID, crew.ID, day, pl.routePosition, dur, in.PriceCents, int(max(pl.savedMetres, 0)),
		max(pl.savedMinutes, 0), now, now).Scan(&booked).Error; err != nil {
		return "", fmt.Errorf("book visit: %w", err)
	}
	// A booked visit syncs with the neighbours' that day: their money
	// changes in this transaction too.
	if s.booked != nil {
		if err := s.booked(tx, mirror.VisitChange{TenantID: tenantID, Visit: booked}); err != nil {
			return "", err
		}
	}
	if err := s.events.Emit(tx, tenantID, EventVisitBooked, map[string]any{
		"visit_id": visitExt, "customer_id": in.CustomerID, "crew_id": in.CrewID, "service_date": day,
		"route_position": pl.routePosition, "duration_min": dur, "price_cents": in.PriceCents,
		"km_saved_vs_standalone": km(max(pl.savedMetres, 0)),
	}); err != nil {
		return "", err
	}
	// Later stops moved down: the scheduler hears the whole new route.
	if moved.RowsAffected > 0 {
		return visitExt, s.emitRouteChanged(tx, tenantID, crew, day)
	}
	return visitExt, nil
}
