package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/geo"
	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/dispatch"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/referral"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/user"
)

// dispatchPage is parsed once (embedded templates: a mistake stops start-up).
var dispatchPage = parsePage("dispatch")

// dispatchNow is the clock of the page's default day (the services keep
// their own clocks for suggestions and bookings).
var dispatchNow = time.Now

// Referrals the board looks at: the newest of each status, and how many
// it shows with suggestions (each costs one Suggest).
const (
	dispatchReferralScan = 100
	dispatchReferralShow = 20
	dispatchSuggestions  = 3
)

// needsVisitRule is the board's rule, said on the page.
const needsVisitRule = "Pending and converted referrals whose friend has no scheduled visit yet (a friend who is not a customer yet has none)."

type crewOption struct {
	ID, Name string
	Selected bool
}

type slotView struct {
	Date, CrewID, CrewName string
	StopNumber             int
	AddedKm, AddedMinutes  string
	Saves                  string
	Neighbor               string
}

type needView struct {
	ID                              int64
	Name, Address, Status, Referrer string
	CustomerID                      string
	Problem                         string
	Slots                           []slotView
	NotCustomer                     bool
	Contact                         string
	// Just is set on the lead whose location was just entered.
	Just bool
	// Locate is the location form of a lead without a location.
	Locate *locateForm
}

type routeStopView struct {
	Number                    int
	VisitID                   string
	Name, Address, CustomerID string
	LegKm                     string
	Linked                    string
	Booked                    bool
}

type routeView struct {
	CrewID, CrewName   string
	TotalKm, TotalTime string
	Stops              []routeStopView
	Map                *routeMap
	route              dispatch.DayRoute
}

type dispatchData struct {
	Staff     user.Principal
	Date      string
	Crew      string
	Crews     []crewOption
	Flash     string
	Problem   string
	Rule      string
	Needs     []needView
	MoreNeeds int
	Routes    []routeView
	DayKm     string
	// Past: the day is over (its routes cannot be optimised).
	Past bool
}

func kmText(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) + " km" }

// dispatchBoard is GET /dispatch: referrals waiting for a visit with where
// they fit, and the day's routes per crew.
func (p *Pages) dispatchBoard(c echo.Context) error {
	return p.renderBoard(c, http.StatusOK, "", nil)
}

// renderBoard renders the board of the day and crew the request names
// (query or form), with problem at the top and, when a location form was
// refused, that lead's form as typed with its errors.
func (p *Pages) renderBoard(c echo.Context, status int, problem string, typed *locateState) error {
	pr, _ := Staff(c)
	ctx := c.Request().Context()
	loc := pr.Location
	if loc == nil {
		loc = time.UTC
	}
	d := dispatchData{Staff: pr, Problem: problem, Rule: needsVisitRule}
	day := localdate.In(dispatchNow(), loc)
	if q := c.FormValue("date"); q != "" {
		parsed, err := localdate.Parse(q)
		if err != nil {
			// A date that does not parse is a refused field, as in the API.
			status = apperror.Status(apperror.CodeValidation)
			d.Problem = joinProblem(d.Problem, fmt.Sprintf("%q is not a date: use YYYY-MM-DD. Showing %s.", q, day))
		} else {
			day = parsed
		}
	}
	d.Date = day.String()
	d.Past = day.Before(localdate.In(p.now(), loc))
	d.Crew = c.FormValue("crew")

	crews, err := p.allCrews(ctx, pr.TenantID)
	if err != nil {
		return err
	}
	found := d.Crew == ""
	for _, cr := range crews {
		d.Crews = append(d.Crews, crewOption{ID: cr.ExternalID, Name: cr.Name, Selected: cr.ExternalID == d.Crew})
		found = found || cr.ExternalID == d.Crew
	}
	if !found {
		status = http.StatusNotFound
		d.Problem = joinProblem(d.Problem, "That crew does not exist (any more). Showing every crew.")
		d.Crew = ""
	}

	booked := c.QueryParam("booked")
	var dayKm float64
	for _, cr := range crews {
		if d.Crew != "" && cr.ExternalID != d.Crew {
			continue
		}
		r, err := p.d.Dispatch.Route(ctx, pr.TenantID, cr.ExternalID, day)
		if err != nil {
			return err
		}
		dayKm += r.TotalKm
		d.Routes = append(d.Routes, routeViewOf(r, booked))
	}
	d.DayKm = kmText(dayKm)

	located, _ := strconv.ParseInt(c.QueryParam("located"), 10, 64)
	if d.Needs, d.MoreNeeds, err = p.needs(ctx, pr.TenantID, d.Routes, typed, located); err != nil {
		return err
	}
	if d.Flash, err = p.boardFlash(ctx, c, d.Routes); err != nil {
		return err
	}
	return renderPage(c, status, dispatchPage, d)
}

func joinProblem(a, b string) string {
	if a == "" {
		return b
	}
	return a + " " + b
}

// boardFlash says what the last form did: a booking, an optimised route,
// a lead located. Everything named is looked up, so a crafted link cannot
// put words on the page.
func (p *Pages) boardFlash(ctx context.Context, c echo.Context, routes []routeView) (string, error) {
	pr, _ := Staff(c)
	if v := c.QueryParam("booked"); v != "" {
		return p.bookedFlash(ctx, pr.TenantID, v, c.QueryParam("saved"), routes)
	}
	if cr := c.QueryParam("optimized"); cr != "" {
		return p.optimizedFlash(ctx, pr.TenantID, cr, c.QueryParam("date"), c.QueryParam("was"), c.QueryParam("now"), c.QueryParam("changed") == "1")
	}
	if id, err := strconv.ParseInt(c.QueryParam("located"), 10, 64); err == nil && id > 0 {
		return p.locatedFlash(ctx, pr.TenantID, id)
	}
	return "", nil
}

// bookedFlash says what the booking form just booked, and where the stop
// is on the route below (highlighted there).
func (p *Pages) bookedFlash(ctx context.Context, tenantID, visitID, saved string, routes []routeView) (string, error) {
	if mirror.CheckExternalID(visitID) != nil {
		return "", nil
	}
	v, err := p.d.Mirror.Visit(ctx, tenantID, visitID)
	if apperror.HasCode(err, apperror.CodeNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	who := "the customer"
	if cu, err := p.d.Mirror.Customer(ctx, tenantID, v.CustomerExternalID); err == nil && cu.Name != "" {
		who = cu.Name
	}
	crewName := "the crew"
	if v.CrewExternalID != nil {
		if cr, err := p.d.Mirror.Crew(ctx, tenantID, *v.CrewExternalID); err == nil && cr.Name != "" {
			crewName = cr.Name
		}
	}
	msg := fmt.Sprintf("Booked %s with %s on %s", who, crewName, v.ServiceDate)
	for _, r := range routes {
		for _, s := range r.Stops {
			if s.VisitID == visitID {
				msg += fmt.Sprintf(" as stop %d (highlighted on the route below)", s.Number)
			}
		}
	}
	if km, err := strconv.ParseFloat(saved, 64); err == nil && km > 0 && km < 100000 {
		msg += ": saves " + kmText(km) + " vs a separate trip"
	}
	return msg + ".", nil
}

// needs lists the referrals waiting for a visit (dispatch.AwaitingVisit),
// each with its best days; a lead without a location gets the location
// form instead (as typed, when typed names it), with a map of the route
// among routes nearest to whoever referred them. located is the lead just
// located.
func (p *Pages) needs(ctx context.Context, tenantID string, routes []routeView, typed *locateState, located int64) ([]needView, int, error) {
	var rs []referral.Referral
	for _, st := range dispatch.AwaitingStatuses() {
		got, _, err := p.d.Referrals.List(ctx, tenantID, referral.Filter{Status: st}, store.Page{Limit: dispatchReferralScan})
		if err != nil {
			return nil, 0, err
		}
		rs = append(rs, got...)
	}
	awaiting, err := dispatch.AwaitingVisit(rs, func(customerID string) (bool, error) {
		vs, _, err := p.d.Mirror.Visits(ctx, tenantID, mirror.VisitFilter{CustomerID: customerID, Status: mirror.VisitScheduled},
			store.Page{Limit: 1})
		return len(vs) > 0, err
	})
	if err != nil {
		return nil, 0, err
	}
	people := map[string]*mirror.Customer{}
	customer := func(ext string) *mirror.Customer {
		if cu, ok := people[ext]; ok {
			return cu
		}
		var found *mirror.Customer
		if cu, err := p.d.Mirror.Customer(ctx, tenantID, ext); err == nil {
			found = &cu
		}
		people[ext] = found
		return found
	}
	nameOf := func(ext string) string {
		if cu := customer(ext); cu != nil && cu.Name != "" {
			return cu.Name
		}
		return "a customer"
	}
	var out []needView
	more := 0
	for _, a := range awaiting {
		r := a.Referral
		nv := needView{ID: r.ID, Name: r.Referee.Name, Address: r.Referee.Address, Status: r.Status,
			Contact: strings.TrimSpace(r.Referee.Phone + " " + r.Referee.Email), Just: r.ID == located,
			CustomerID: a.CustomerID}
		if nv.CustomerID != "" {
			if cu := customer(nv.CustomerID); cu != nil {
				if nv.Name == "" {
					nv.Name = cu.Name
				}
				if nv.Address == "" {
					nv.Address = cu.Address
				}
			}
		} else {
			nv.NotCustomer = true
		}
		if len(out) >= dispatchReferralShow {
			more++
			continue
		}
		if nv.Name == "" {
			nv.Name = "(no name given)"
		}
		var home *geo.Point
		if r.Referrer != nil {
			nv.Referrer = nameOf(*r.Referrer)
			if cu := customer(*r.Referrer); cu != nil {
				if pt, ok := cu.Location(); ok {
					home = &pt
				}
			}
		}
		names := map[string]string{}
		if r.Referrer != nil {
			names[*r.Referrer] = nv.Referrer
		}
		if nv.CustomerID != "" {
			names[nv.CustomerID] = nv.Name
		}
		t, err := p.d.Dispatch.ReferralTarget(ctx, tenantID, r.ID)
		if e, ok := apperror.As(err); ok {
			switch {
			case e.Code == apperror.CodeUnprocessable && r.Status == referral.StatusPending:
				form, err := p.locateFormOf(ctx, tenantID, r.ID, nv, home, routes, typed)
				if err != nil {
					return nil, 0, err
				}
				nv.Locate = form
			case e.Code == apperror.CodeUnprocessable:
				nv.Problem = "We don't know where " + nv.Name + " lives: ask the scheduler to add their address and location to their customer record."
			default:
				nv.Problem = inWords(e.Message, names)
			}
			out = append(out, nv)
			continue
		} else if err != nil {
			return nil, 0, err
		}
		slots, err := p.d.Dispatch.Suggest(ctx, tenantID, t, dispatch.Window{Limit: dispatchSuggestions})
		if e, ok := apperror.As(err); ok {
			nv.Problem = inWords(e.Message, names)
		} else if err != nil {
			return nil, 0, err
		}
		for _, s := range slots {
			sv := slotView{Date: s.Date.String(), CrewID: s.CrewID, CrewName: s.CrewName, StopNumber: s.Position,
				AddedKm: kmText(s.AddedKm), AddedMinutes: strconv.FormatFloat(s.AddedMinutes, 'f', 0, 64) + " min"}
			if s.KmSavedVsStandalone > 0 {
				sv.Saves = "saves " + kmText(s.KmSavedVsStandalone) + " vs a separate trip"
			}
			if s.LinkedNeighbor != nil {
				sv.Neighbor = nameOf(s.LinkedNeighbor.CustomerID)
				if s.LinkedNeighbor.Street != "" {
					sv.Neighbor += " on " + s.LinkedNeighbor.Street
				}
			}
			nv.Slots = append(nv.Slots, sv)
		}
		if len(slots) == 0 && nv.Problem == "" {
			nv.Problem = "No crew has room in the next two weeks."
		}
		out = append(out, nv)
	}
	return out, more, nil
}

func routeViewOf(r dispatch.DayRoute, booked string) routeView {
	v := routeView{CrewID: r.CrewID, CrewName: r.CrewName, TotalKm: kmText(r.TotalKm),
		TotalTime: strconv.FormatFloat(r.TotalMinutes, 'f', 0, 64) + " min", route: r}
	names := map[string]string{}
	for _, s := range r.Stops {
		names[s.CustomerID] = s.Name
	}
	for i, s := range r.Stops {
		sv := routeStopView{Number: i + 1, VisitID: s.VisitID, Name: s.Name, Address: s.Address, CustomerID: s.CustomerID,
			LegKm: kmText(s.LegKm), Booked: booked != "" && s.VisitID == booked}
		var linked []string
		for _, n := range s.LinkedNeighbors {
			linked = append(linked, names[n])
		}
		sv.Linked = strings.Join(linked, ", ")
		v.Stops = append(v.Stops, sv)
	}
	v.Map = drawRoute(r, booked)
	return v
}

// boardQuery is the board to go back to after a form: its day and crew
// filter as the form carried them (dropped when they do not read).
func boardQuery(c echo.Context, date string) url.Values {
	q := url.Values{}
	if _, err := localdate.Parse(date); err == nil {
		q.Set("date", date)
	}
	if cr := c.FormValue("crew"); cr != "" && mirror.CheckExternalID(cr) == nil {
		q.Set("crew", cr)
	}
	return q
}

// dispatchBook is POST /dispatch/book: book a suggested day for the
// friend's customer record, then back to the board on that day.
func (p *Pages) dispatchBook(c echo.Context) error {
	pr, _ := Staff(c)
	ctx := c.Request().Context()
	in := dispatch.BookInput{CustomerID: c.FormValue("customer_id"), Date: c.FormValue("date"), CrewID: c.FormValue("crew_id")}
	// Position 0 is the cheapest place in the route as it is now: the
	// suggestion's own place, unless the day changed since the page loaded.
	b, err := p.d.Dispatch.Book(ctx, pr.TenantID, in)
	if e, ok := apperror.As(err); ok {
		return p.renderBoard(c, apperror.Status(e.Code), "Not booked: "+p.bookProblem(ctx, pr.TenantID, in, e), nil)
	}
	if err != nil {
		return err
	}
	q := boardQuery(c, b.Route.Date.String())
	q.Set("booked", b.VisitID)
	q.Set("saved", strconv.FormatFloat(b.KmSavedVsStandalone, 'f', 1, 64))
	return c.Redirect(http.StatusSeeOther, "/dispatch?"+q.Encode())
}

// bookProblem says why a booking was refused, naming the customer and the
// crew, never their ids.
func (p *Pages) bookProblem(ctx context.Context, tenantID string, in dispatch.BookInput, e *apperror.Error) string {
	who, crewName := "the customer", "the crew"
	if cu, err := p.d.Mirror.Customer(ctx, tenantID, in.CustomerID); err == nil && cu.Name != "" {
		who = cu.Name
	}
	if cr, err := p.d.Mirror.Crew(ctx, tenantID, in.CrewID); err == nil && cr.Name != "" {
		crewName = cr.Name
	}
	names := map[string]string{in.CustomerID: who, in.CrewID: crewName}
	if len(e.Fields) == 0 {
		return inWords(e.Message, names) + "."
	}
	var msgs []string
	for _, f := range e.FieldNames() {
		switch f {
		case "customer_id":
			msgs = append(msgs, who+" is not among the scheduler's customers (any more)")
		case "crew_id":
			msgs = append(msgs, crewName+" is not among the crews (any more)")
		case "date":
			msgs = append(msgs, "the day: "+inWords(e.Fields[f], names))
		default:
			msgs = append(msgs, inWords(e.Fields[f], names))
		}
	}
	return strings.Join(msgs, "; ") + "."
}
