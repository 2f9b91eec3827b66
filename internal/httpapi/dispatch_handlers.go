package httpapi

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/dispatch"
	"github.com/routeloop/routeloop/internal/localdate"
)

// window reads from, to, duration_min and limit.
func window(c echo.Context) (dispatch.Window, error) {
	var w dispatch.Window
	var err error
	if w.From, err = dateParam(c, "from"); err != nil {
		return w, err
	}
	if w.To, err = dateParam(c, "to"); err != nil {
		return w, err
	}
	if w.DurationMin, err = intParam(c, "duration_min", 0, 1, 24*60); err != nil {
		return w, err
	}
	if w.Limit, err = intParam(c, "limit", 10, 1, 200); err != nil {
		return w, err
	}
	return w, nil
}

func (a *API) suggestions(c echo.Context, t dispatch.Target) error {
	w, err := window(c)
	if err != nil {
		return err
	}
	slots, err := a.dispatch.Suggest(c.Request().Context(), principal(c).TenantID, t, w)
	if err != nil {
		return err
	}
	if slots == nil {
		slots = []dispatch.Slot{}
	}
	return c.JSON(http.StatusOK, map[string]any{"suggestions": slots})
}

func (a *API) customerSuggestions(c echo.Context) error {
	t, err := a.dispatch.CustomerTarget(c.Request().Context(), principal(c).TenantID, c.Param("external_id"))
	if err != nil {
		return err
	}
	return a.suggestions(c, t)
}

func (a *API) referralSuggestions(c echo.Context) error {
	id, err := referralID(c)
	if err != nil {
		return err
	}
	t, err := a.dispatch.ReferralTarget(c.Request().Context(), principal(c).TenantID, id)
	if err != nil {
		return err
	}
	return a.suggestions(c, t)
}

func (a *API) bookVisit(c echo.Context) error {
	var in dispatch.BookInput
	if err := decode(c, &in); err != nil {
		return err
	}
	b, err := a.dispatch.Book(c.Request().Context(), principal(c).TenantID, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, b)
}

// requiredDate reads a date query parameter that must be there.
func requiredDate(c echo.Context, name string) (localdate.Date, error) {
	d, err := dateParam(c, name)
	if err != nil {
		return localdate.Date{}, err
	}
	if d == nil {
		return localdate.Date{}, apperror.Invalid(name, "is required (YYYY-MM-DD)")
	}
	return *d, nil
}

func (a *API) dayRoute(c echo.Context) error {
	day, err := requiredDate(c, "date")
	if err != nil {
		return err
	}
	r, err := a.dispatch.Route(c.Request().Context(), principal(c).TenantID, c.Param("external_id"), day)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

func (a *API) optimizeDay(c echo.Context) error {
	day, err := requiredDate(c, "date")
	if err != nil {
		return err
	}
	apply := false
	if s := c.QueryParam("apply"); s != "" {
		if apply, err = strconv.ParseBool(s); err != nil {
			return apperror.Invalid("apply", "must be true or false")
		}
	}
	p, err := a.dispatch.OptimizeDay(c.Request().Context(), principal(c).TenantID, c.Param("external_id"), day, apply)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (a *API) optimizeStops(c echo.Context) error {
	var in dispatch.OptimizeInput
	if err := decode(c, &in); err != nil {
		return err
	}
	r, err := a.dispatch.Optimize(c.Request().Context(), principal(c).TenantID, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

func (a *API) routeSavings(c echo.Context) error {
	from, err := requiredDate(c, "from")
	if err != nil {
		return err
	}
	to, err := requiredDate(c, "to")
	if err != nil {
		return err
	}
	sv, err := a.dispatch.RouteSavings(c.Request().Context(), principal(c).TenantID,
		dispatch.SavingsQuery{From: from, To: to, CrewID: c.QueryParam("crew_id")})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, sv)
}
