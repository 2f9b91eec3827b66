package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/dispatch"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/referral"
	"github.com/routeloop/routeloop/internal/scheduling"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/tenant"
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

// dispatchRoutes registers the dispatch board and its booking form.
func (p *Pages) dispatchRoutes(e *echo.Echo) {
	guard := p.RequireStaff(tenant.RoleAdmin, tenant.RoleDispatcher)
	e.GET("/dispatch", p.dispatchBoard, guard)
	e.POST("/dispatch/book", p.dispatchBook, guard)
}

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
}

type routeStopView struct {
	Number                    int
	Name, Address, CustomerID string
	LegKm                     string
	Linked                    string
}

type routeView struct {
	CrewID, CrewName   string
	TotalKm, TotalTime string
	Stops              []routeStopView
	Map                *routeMap
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
}

func kmText(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) + " km" }

// dispatchBoard is GET /dispatch: referrals waiting for a visit with where
// they fit, and the day's routes per crew.
func (p *Pages) dispatchBoard(c echo.Context) error {
	return p.renderBoard(c, http.StatusOK, "")
}

func (p *Pages) renderBoard(c echo.Context, status int, problem string) error {
	pr, _ := Staff(c)
	ctx := c.Request().Context()
	loc := pr.Location
	if loc == nil {
		loc = time.UTC
	}
	d := dispatchData{Staff: pr, Problem: problem, Rule: needsVisitRule}
	day := localdate.In(dispatchNow(), loc)
	if q := c.QueryParam("date"); q != "" {
		parsed, err := localdate.Parse(q)
		if err != nil {
			status = http.StatusBadRequest
			d.Problem = joinProblem(d.Problem, fmt.Sprintf("%q is not a date: use YYYY-MM-DD. Showing %s.", q, day))
		} else {
			day = parsed
		}
	}
	d.Date = day.String()
	d.Crew = c.QueryParam("crew")

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
		d.Problem = joinProblem(d.Problem, "There is no crew "+d.Crew+". Showing every crew.")
		d.Crew = ""
	}

	if flash, err := p.bookedFlash(ctx, pr.TenantID, c.QueryParam("booked"), c.QueryParam("saved")); err != nil {
		return err
	} else {
		d.Flash = flash
	}

	if d.Needs, d.MoreNeeds, err = p.needs(ctx, pr.TenantID); err != nil {
		return err
	}

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
		d.Routes = append(d.Routes, routeViewOf(r))
	}
	d.DayKm = kmText(dayKm)
	return renderPage(c, status, dispatchPage, d)
}

func joinProblem(a, b string) string {
	if a == "" {
		return b
	}
	return a + " " + b
}

// bookedFlash says what the booking form just booked (the visit is looked
// up, so a crafted link cannot put words on the page).
func (p *Pages) bookedFlash(ctx context.Context, tenantID, visitID, saved string) (string, error) {
	if visitID == "" || scheduling.CheckExternalID(visitID) != nil {
		return "", nil
	}
	v, err := p.d.Mirror.Visit(ctx, tenantID, visitID)
	if apperror.HasCode(err, apperror.CodeNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	who := v.CustomerExternalID
	if cu, err := p.d.Mirror.Customer(ctx, tenantID, v.CustomerExternalID); err == nil && cu.Name != "" {
		who = cu.Name
	}
	crewName := ""
	if v.CrewExternalID != nil {
		crewName = *v.CrewExternalID
		if cr, err := p.d.Mirror.Crew(ctx, tenantID, *v.CrewExternalID); err == nil {
			crewName = cr.Name
		}
	}
	msg := fmt.Sprintf("Booked %s with %s on %s", who, crewName, v.ServiceDate)
	if v.RoutePosition != nil {
		msg += fmt.Sprintf(" (route position %d)", *v.RoutePosition)
	}
	if km, err := strconv.ParseFloat(saved, 64); err == nil && km > 0 && km < 100000 {
		msg += ": saves " + kmText(km) + " vs a separate trip"
	}
	return msg + ".", nil
}

// needs lists the referrals waiting for a visit, each with its best days.
func (p *Pages) needs(ctx context.Context, tenantID string) ([]needView, int, error) {
	var rs []referral.Referral
	for _, st := range []string{referral.StatusPending, referral.StatusConverted} {
		got, _, err := p.d.Referrals.List(ctx, tenantID, referral.Filter{Status: st}, store.Page{Limit: dispatchReferralScan})
		if err != nil {
			return nil, 0, err
		}
		rs = append(rs, got...)
	}
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].ID > rs[j].ID })
	names := map[string]string{}
	nameOf := func(ext string) string {
		if n, ok := names[ext]; ok {
			return n
		}
		n := ext
		if cu, err := p.d.Mirror.Customer(ctx, tenantID, ext); err == nil && cu.Name != "" {
			n = cu.Name
		}
		names[ext] = n
		return n
	}
	var out []needView
	more := 0
	for _, r := range rs {
		nv := needView{ID: r.ID, Name: r.Referee.Name, Address: r.Referee.Address, Status: r.Status,
			Contact: strings.TrimSpace(r.Referee.Phone + " " + r.Referee.Email)}
		if r.Referee.CustomerID != nil && *r.Referee.CustomerID != "" {
			nv.CustomerID = *r.Referee.CustomerID
			vs, _, err := p.d.Mirror.Visits(ctx, tenantID, scheduling.VisitFilter{CustomerID: nv.CustomerID, Status: scheduling.VisitScheduled},
				store.Page{Limit: 1})
			if err != nil {
				return nil, 0, err
			}
			if len(vs) > 0 {
				continue // already booked
			}
			if cu, err := p.d.Mirror.Customer(ctx, tenantID, nv.CustomerID); err == nil {
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
		if r.Referrer != nil {
			nv.Referrer = nameOf(*r.Referrer)
		}
		t, err := p.d.Dispatch.ReferralTarget(ctx, tenantID, r.ID)
		if e, ok := apperror.As(err); ok {
			nv.Problem = e.Message
			out = append(out, nv)
			continue
		} else if err != nil {
			return nil, 0, err
		}
		slots, err := p.d.Dispatch.Suggest(ctx, tenantID, t, dispatch.Window{Limit: dispatchSuggestions})
		if e, ok := apperror.As(err); ok {
			nv.Problem = e.Message
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

func routeViewOf(r dispatch.DayRoute) routeView {
	v := routeView{CrewID: r.CrewID, CrewName: r.CrewName, TotalKm: kmText(r.TotalKm),
		TotalTime: strconv.FormatFloat(r.TotalMinutes, 'f', 0, 64) + " min"}
	names := map[string]string{}
	for _, s := range r.Stops {
		names[s.CustomerID] = s.Name
	}
	for i, s := range r.Stops {
		sv := routeStopView{Number: i + 1, Name: s.Name, Address: s.Address, CustomerID: s.CustomerID, LegKm: kmText(s.LegKm)}
		var linked []string
		for _, n := range s.LinkedNeighbors {
			linked = append(linked, names[n])
		}
		sv.Linked = strings.Join(linked, ", ")
		v.Stops = append(v.Stops, sv)
	}
	v.Map = drawRoute(r)
	return v
}

// dispatchBook is POST /dispatch/book: book a suggested day for the
// friend's customer record, then back to the board on that day.
func (p *Pages) dispatchBook(c echo.Context) error {
	pr, _ := Staff(c)
	in := dispatch.BookInput{CustomerID: c.FormValue("customer_id"), Date: c.FormValue("date"), CrewID: c.FormValue("crew_id")}
	// Position 0 is the cheapest place in the route as it is now: the
	// suggestion's own place, unless the day changed since the page loaded.
	b, err := p.d.Dispatch.Book(c.Request().Context(), pr.TenantID, in)
	if e, ok := apperror.As(err); ok {
		status := http.StatusUnprocessableEntity
		switch e.Code {
		case apperror.CodeConflict:
			status = http.StatusConflict
		case apperror.CodeNotFound:
			status = http.StatusNotFound
		}
		msg := e.Message
		for _, f := range sortedKeys(e.Fields) {
			msg += " " + f + ": " + e.Fields[f] + "."
		}
		return p.renderBoard(c, status, "Not booked: "+msg)
	}
	if err != nil {
		return err
	}
	q := url.Values{"date": {b.Route.Date.String()}, "booked": {b.VisitID},
		"saved": {strconv.FormatFloat(b.KmSavedVsStandalone, 'f', 1, 64)}}
	if cr := c.FormValue("crew"); cr != "" {
		q.Set("crew", cr)
	}
	return c.Redirect(http.StatusSeeOther, "/dispatch?"+q.Encode())
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
