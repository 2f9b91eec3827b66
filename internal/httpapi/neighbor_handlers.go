package httpapi

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/ledger"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/neighbor"
	"github.com/routeloop/routeloop/internal/program"
)

func (a *API) getProgram(c echo.Context) error {
	p, err := a.programs.Get(c.Request().Context(), principal(c).TenantID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (a *API) putProgram(c echo.Context) error {
	var in program.Input
	if err := decode(c, &in); err != nil {
		return err
	}
	p, err := a.neighbors.UpdateProgram(c.Request().Context(), principal(c).TenantID, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// intParam reads an optional whole-number query parameter within [min, max].
func intParam(c echo.Context, name string, def, min, max int) (int, error) {
	s := c.QueryParam(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < min || n > max {
		return 0, apperror.Invalid(name, "must be a whole number from "+strconv.Itoa(min)+" to "+strconv.Itoa(max))
	}
	return n, nil
}

// dateParam reads an optional YYYY-MM-DD query parameter.
func dateParam(c echo.Context, name string) (*localdate.Date, error) {
	s := c.QueryParam(name)
	if s == "" {
		return nil, nil
	}
	d, err := localdate.Parse(s)
	if err != nil {
		return nil, apperror.Invalid(name, err.Error())
	}
	return &d, nil
}

func (a *API) nearby(c echo.Context) error {
	radius, err := intParam(c, "radius_m", 0, 1, neighbor.MaxNearbyRadiusM)
	if err != nil {
		return err
	}
	limit, err := intParam(c, "limit", 20, 1, neighbor.MaxNearbyLimit)
	if err != nil {
		return err
	}
	ns, err := a.neighbors.Nearby(c.Request().Context(), principal(c).TenantID, c.Param("external_id"), radius, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"customers": ns})
}

func (a *API) syncHistory(c echo.Context) error {
	pr := principal(c)
	from, err := dateParam(c, "from")
	if err != nil {
		return err
	}
	to, err := dateParam(c, "to")
	if err != nil {
		return err
	}
	h, err := a.neighbors.SyncHistory(c.Request().Context(), pr.TenantID, c.Param("external_id"), from, to)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"synced_visits": h})
}

func (a *API) createLink(c echo.Context) error {
	var in neighbor.LinkInput
	if err := decode(c, &in); err != nil {
		return err
	}
	l, up, err := a.neighbors.CreateLink(c.Request().Context(), principal(c).TenantID, in)
	if err != nil {
		return err
	}
	return upserted(c, up, l)
}

func linkID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperror.NotFound("neighbour link %s not found", c.Param("id"))
	}
	return id, nil
}

func (a *API) getLink(c echo.Context) error {
	id, err := linkID(c)
	if err != nil {
		return err
	}
	l, err := a.neighbors.Link(c.Request().Context(), principal(c).TenantID, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, l)
}

func (a *API) listLinks(c echo.Context) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	on, err := dateParam(c, "active_on")
	if err != nil {
		return err
	}
	ls, next, err := a.neighbors.Links(c.Request().Context(), principal(c).TenantID,
		neighbor.LinkFilter{CustomerID: c.QueryParam("customer_id"), ActiveOn: on}, p)
	if err != nil {
		return err
	}
	return list(c, "neighbor_links", ls, next)
}

func (a *API) endLink(c echo.Context) error {
	id, err := linkID(c)
	if err != nil {
		return err
	}
	l, err := a.neighbors.EndLink(c.Request().Context(), principal(c).TenantID, id,
		neighbor.EndInput{EndsOn: c.QueryParam("ends_on"), Reason: c.QueryParam("reason")})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, l)
}

func (a *API) listAdjustments(c echo.Context) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	adjs, next, err := a.ledger.Adjustments(c.Request().Context(), principal(c).TenantID,
		c.QueryParam("kind"), c.QueryParam("status"), p)
	if err != nil {
		return err
	}
	return list(c, "sync_adjustments", adjs, next)
}

func (a *API) customerLedger(c echo.Context) error {
	l, err := a.ledger.Customer(c.Request().Context(), principal(c).TenantID, c.Param("external_id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, l)
}

// reconcileInput is the body of POST /reconcile: one day, or a range.
type reconcileInput struct {
	Date string `json:"date"`
	From string `json:"from"`
	To   string `json:"to"`
}

func (in reconcileInput) days() (from, to localdate.Date, err error) {
	f := apperror.Fields{}
	parse := func(field, v string) localdate.Date {
		d, err := localdate.Parse(v)
		if err != nil {
			f.Add(field, err.Error())
		}
		return d
	}
	switch {
	case in.Date != "" && (in.From != "" || in.To != ""):
		f.Add("date", "give either date or from and to")
	case in.Date != "":
		from = parse("date", in.Date)
		to = from
	case in.From == "" && in.To == "":
		f.Add("date", "is required (or from and to)")
	default:
		from, to = parse("from", in.From), parse("to", in.To)
		if f.Err() == nil && to.Before(from) {
			f.Add("to", "must not be before from")
		}
		if f.Err() == nil && from.AddDays(ledger.MaxRangeDays).Before(to) {
			f.Add("to", fmt.Sprintf("a range spans at most %d days", ledger.MaxRangeDays))
		}
	}
	return from, to, f.Err()
}

func (a *API) reconcile(c echo.Context) error {
	var in reconcileInput
	if err := decode(c, &in); err != nil {
		return err
	}
	from, to, err := in.days()
	if err != nil {
		return err
	}
	res, ran, err := a.ledger.ReconcileRange(c.Request().Context(), principal(c).TenantID, from, to, nil)
	a.metrics.Reconciled(ran, err, res)
	if err != nil {
		return err
	}
	if !ran {
		return apperror.Conflict("a reconciliation of this company is running (the nightly job or another request); try again shortly")
	}
	if in.Date != "" {
		return c.JSON(http.StatusOK, res[0])
	}
	return c.JSON(http.StatusOK, reconcileRange{TenantID: principal(c).TenantID, From: from, To: to, Days: res})
}

// reconcileRange answers POST /reconcile for a range of days.
type reconcileRange struct {
	TenantID string                   `json:"tenant_id"`
	From     localdate.Date           `json:"from"`
	To       localdate.Date           `json:"to"`
	Days     []ledger.ReconcileResult `json:"days"`
}
