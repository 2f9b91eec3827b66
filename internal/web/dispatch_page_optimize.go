package web

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/mirror"
)

// dispatchOptimize is POST /dispatch/optimize: apply the best order to a
// crew's day (linked neighbours kept next to each other; the scheduler
// hears route.changed when the order changed), then back to the board,
// which says what changed. A day that is over is not changed.
func (p *Pages) dispatchOptimize(c echo.Context) error {
	pr, _ := Staff(c)
	ctx := c.Request().Context()
	crewID := c.FormValue("crew_id")
	day, err := localdate.Parse(c.FormValue("date"))
	if err != nil {
		return p.renderBoard(c, http.StatusUnprocessableEntity, "Not optimised: the day is not a date.", nil)
	}
	loc := pr.Location
	if loc == nil {
		loc = time.UTC
	}
	if day.Before(localdate.In(p.now(), loc)) {
		return p.renderBoard(c, http.StatusUnprocessableEntity, "Not optimised: "+day.String()+" is over, so its route stays as it was driven.", nil)
	}
	if mirror.CheckExternalID(crewID) != nil {
		return p.renderBoard(c, http.StatusNotFound, "Not optimised: that crew does not exist (any more).", nil)
	}
	before, err := p.d.Dispatch.Route(ctx, pr.TenantID, crewID, day)
	if apperror.HasCode(err, apperror.CodeNotFound) {
		return p.renderBoard(c, http.StatusNotFound, "Not optimised: that crew does not exist (any more).", nil)
	}
	if err != nil {
		return err
	}
	out, err := p.d.Dispatch.OptimizeDay(ctx, pr.TenantID, crewID, day, true)
	if e, ok := apperror.As(err); ok {
		return p.renderBoard(c, apperror.Status(e.Code), "Not optimised: "+inWords(e.Message, map[string]string{crewID: before.CrewName})+".", nil)
	}
	if err != nil {
		return err
	}
	was := make([]string, 0, len(before.Stops))
	for _, s := range before.Stops {
		was = append(was, s.VisitID)
	}
	changed := "0"
	if !slices.Equal(was, out.Order) {
		changed = "1"
	}
	q := boardQuery(c, day.String())
	q.Set("optimized", crewID)
	q.Set("was", strconv.FormatFloat(out.CurrentKm, 'f', 2, 64))
	q.Set("now", strconv.FormatFloat(out.ProposedKm, 'f', 2, 64))
	q.Set("changed", changed)
	return c.Redirect(http.StatusSeeOther, "/dispatch?"+q.Encode()+"#route-"+crewID)
}

// optimizedFlash says what optimising a crew's day did, by the crew's name.
func (p *Pages) optimizedFlash(ctx context.Context, tenantID, crewID, date, was, now string, changed bool) (string, error) {
	if mirror.CheckExternalID(crewID) != nil {
		return "", nil
	}
	day, err := localdate.Parse(date)
	if err != nil {
		return "", nil
	}
	cr, err := p.d.Mirror.Crew(ctx, tenantID, crewID)
	if apperror.HasCode(err, apperror.CodeNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	from, errA := strconv.ParseFloat(was, 64)
	to, errB := strconv.ParseFloat(now, 64)
	if errA != nil || errB != nil || !(from >= 0 && from < 1e6) || !(to >= 0 && to < 1e6) {
		return "", nil
	}
	if !changed {
		return fmt.Sprintf("%s's route on %s was already in the best order (%s).", cr.Name, day, kmText(to)), nil
	}
	msg := fmt.Sprintf("Optimised %s's route on %s: %s → %s", cr.Name, day, kmText(from), kmText(to))
	switch d := math.Round((from-to)*10) / 10; {
	case d > 0:
		msg += ", " + kmText(d) + " shorter"
	case d < 0:
		msg += ", " + kmText(-d) + " longer, to keep linked neighbours next to each other"
	}
	return msg + ". The stops are renumbered below and the scheduler has been told.", nil
}
