package web

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/geo"
	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/dispatch"
)

// Without a geocoder (or when it found nothing), a lead's location is
// entered on the board: latitude and longitude, or a click on the map of
// the route near whoever referred them.

// locateState is a refused location form: which lead, what was typed and
// what is wrong with it (by field: lat, lon, pick).
type locateState struct {
	ID       int64
	Lat, Lon string
	Errors   map[string]string
}

// locateForm is a lead's location form as the template shows it.
type locateForm struct {
	Why            string
	Lat, Lon       string
	LatErr, LonErr string
	PickErr        string
	Picker         *locationPicker
	MapHint        string
}

// locateFormOf builds the form of lead (referral id) nv: why the location
// is unknown, and a picker of the route nearest to home (the referrer's,
// when known), or of home alone.
func (p *Pages) locateFormOf(ctx context.Context, tenantID string, id int64, nv needView, home *geo.Point, routes []routeView, typed *locateState) (*locateForm, error) {
	ll, err := p.d.Referrals.Location(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	f := &locateForm{Why: "We don't know where " + nv.Name + " lives yet"}
	if ll.Note != "" {
		f.Why += " (" + ll.Note + ")"
	}
	f.Why += "."
	if typed != nil && typed.ID == id {
		f.Lat, f.Lon = typed.Lat, typed.Lon
		f.LatErr, f.LonErr, f.PickErr = typed.Errors["lat"], typed.Errors["lon"], typed.Errors["pick"]
	}
	route := nearestRoute(routes, home)
	if route == nil && home == nil {
		return f, nil
	}
	var day *dispatch.DayRoute
	if route != nil {
		day = &route.route
	}
	pick, _ := pickerMap(day, home)
	switch {
	case route != nil && home != nil:
		f.MapHint = fmt.Sprintf("Or click where %s lives on the map: the diamond is %s's home, the numbered circles are %s's stops on %s (the square is the depot; grid lines every 200 m).",
			nv.Name, nv.Referrer, route.CrewName, route.route.Date)
	case route != nil:
		f.MapHint = fmt.Sprintf("Or click where %s lives on the map of %s's stops on %s (the square is the depot; grid lines every 200 m).",
			nv.Name, route.CrewName, route.route.Date)
	default:
		f.MapHint = fmt.Sprintf("Or click where %s lives on the map around %s's home (the diamond; grid lines every 200 m).", nv.Name, nv.Referrer)
	}
	pick.Alt = "Map to click where " + nv.Name + " lives"
	f.Picker = &pick
	return f, nil
}

// nearestRoute is the route (with stops) passing nearest to home; without
// a home, the first route with stops; nil when there is none.
func nearestRoute(routes []routeView, home *geo.Point) *routeView {
	var best *routeView
	bestM := math.Inf(1)
	for i := range routes {
		r := &routes[i]
		depot, pts, _ := dayPoints(r.route)
		if len(pts) == 0 {
			continue
		}
		if home == nil {
			return r
		}
		for _, pt := range append(pts, depot) {
			if m := geo.DistanceM(*home, pt); m < bestM {
				best, bestM = r, m
			}
		}
	}
	return best
}

// dispatchLocate is POST /dispatch/referrals/{id}/location: the lead's
// location from the form's latitude and longitude, or from a click on the
// map (pick.x, pick.y with the map's projection); refused, the board again
// with the form as typed and each error beside its field, nothing stored.
func (p *Pages) dispatchLocate(c echo.Context) error {
	pr, _ := Staff(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return p.renderBoard(c, http.StatusNotFound, "That referral does not exist.", nil)
	}
	st := &locateState{ID: id, Lat: strings.TrimSpace(c.FormValue("lat")), Lon: strings.TrimSpace(c.FormValue("lon")), Errors: map[string]string{}}
	lat, lon, ok := st.read(c)
	if !ok {
		return p.renderBoard(c, http.StatusUnprocessableEntity, "Not saved: "+st.summary(), st)
	}
	who := fmt.Sprintf("%s %s (user #%d)", pr.Role, pr.Email, pr.UserID)
	_, err = p.d.Referrals.SetLocation(c.Request().Context(), pr.TenantID, id, lat, lon, who)
	if e, ok := apperror.As(err); ok {
		if e.Code == apperror.CodeValidation {
			for k, m := range e.Fields {
				st.Errors[k] = fieldWord(k) + ": " + m + "."
			}
			return p.renderBoard(c, apperror.Status(e.Code), "Not saved: "+st.summary(), st)
		}
		msg := "That referral does not exist."
		if e.Code == apperror.CodeConflict {
			msg = "Not saved: " + decisionProblem(e)
		}
		return p.renderBoard(c, apperror.Status(e.Code), msg, nil)
	}
	if err != nil {
		return err
	}
	q := boardQuery(c, c.FormValue("date"))
	q.Set("located", strconv.FormatInt(id, 10))
	return c.Redirect(http.StatusSeeOther, "/dispatch?"+q.Encode()+"#lead-"+strconv.FormatInt(id, 10))
}

// read takes the location from a map click when there is one, else from
// the typed fields; false when it does not read (the errors say why).
func (st *locateState) read(c echo.Context) (lat, lon float64, ok bool) {
	if xs, ys := c.FormValue("pick.x"), c.FormValue("pick.y"); xs != "" || ys != "" {
		x, errX := strconv.Atoi(xs)
		y, errY := strconv.Atoi(ys)
		if errX != nil || errY != nil {
			st.Errors["pick"] = "The click on the map could not be read: type the latitude and longitude instead."
			return 0, 0, false
		}
		pt, err := pickedPoint(x, y, c.FormValue("view"))
		if err != nil {
			st.Errors["pick"] = "The click on the map could not be read (" + err.Error() + "): type the latitude and longitude instead."
			return 0, 0, false
		}
		return pt.Lat, pt.Lon, true
	}
	// A pasted pair ("45.4655, -122.6501") in the latitude field reads too.
	if st.Lon == "" {
		if a, b, found := strings.Cut(st.Lat, ","); found {
			st.Lat, st.Lon = strings.TrimSpace(a), strings.TrimSpace(b)
		}
	}
	num := func(s, field, example string) float64 {
		if s == "" {
			st.Errors[field] = fieldWord(field) + " is needed, such as " + example + "."
			return 0
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			st.Errors[field] = fieldWord(field) + " must be a number such as " + example + "."
			return 0
		}
		return v
	}
	lat, lon = num(st.Lat, "lat", "45.4655"), num(st.Lon, "lon", "-122.6501")
	if st.Errors["lat"] == "" {
		if err := geo.CheckLat(lat); err != nil {
			st.Errors["lat"] = "Latitude must be between -90 and 90 (north is positive), such as 45.4655."
		}
	}
	if st.Errors["lon"] == "" {
		if err := geo.CheckLon(lon); err != nil {
			st.Errors["lon"] = "Longitude must be between -180 and 180 (west is negative), such as -122.6501."
		}
	}
	return lat, lon, len(st.Errors) == 0
}

// summary is every error of the form in one line, lat first.
func (st *locateState) summary() string {
	var msgs []string
	for _, k := range []string{"pick", "lat", "lon"} {
		if m := st.Errors[k]; m != "" {
			msgs = append(msgs, m)
		}
	}
	return strings.Join(msgs, " ")
}

// fieldWord names a location field for people.
func fieldWord(field string) string {
	switch field {
	case "lat":
		return "Latitude"
	case "lon":
		return "Longitude"
	}
	return field
}

// locatedFlash says where the lead just placed lives, and how far from
// whoever referred them.
func (p *Pages) locatedFlash(ctx context.Context, tenantID string, id int64) (string, error) {
	r, err := p.d.Referrals.Get(ctx, tenantID, id)
	if apperror.HasCode(err, apperror.CodeNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if r.Referee.Lat == nil || r.Referee.Lon == nil {
		return "", nil
	}
	name := r.Referee.Name
	if name == "" {
		name = "the friend"
	}
	msg := fmt.Sprintf("Saved where %s lives (%.5f, %.5f)", name, *r.Referee.Lat, *r.Referee.Lon)
	if r.DistanceM != nil && r.Referrer != nil {
		who := "the referrer"
		if cu, err := p.d.Mirror.Customer(ctx, tenantID, *r.Referrer); err == nil && cu.Name != "" {
			who = cu.Name
		}
		msg += fmt.Sprintf(", %s from %s's home", distanceText(float64(*r.DistanceM), 10), who)
	}
	return msg + ". Their best days are shown with the referral.", nil
}
