package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/crew"
	"github.com/routeloop/routeloop/internal/store"
)

func (a *API) listScripts(c echo.Context) error {
	ss, err := a.crew.Scripts(c.Request().Context(), principal(c).TenantID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"scripts": ss})
}

func (a *API) createScript(c echo.Context) error {
	var in crew.ScriptInput
	if err := decode(c, &in); err != nil {
		return err
	}
	s, err := a.crew.CreateScript(c.Request().Context(), principal(c).TenantID, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, s)
}

func (a *API) putScript(c echo.Context) error {
	var in crew.ScriptInput
	if err := decode(c, &in); err != nil {
		return err
	}
	s, up, err := a.crew.PutScript(c.Request().Context(), principal(c).TenantID, c.Param("name"), in)
	if err != nil {
		return err
	}
	return upserted(c, up, s)
}

func (a *API) rateVisit(c echo.Context) error {
	var in crew.RatingInput
	if err := decode(c, &in); err != nil {
		return err
	}
	r, up, err := a.crew.Rate(c.Request().Context(), principal(c).TenantID, c.Param("external_id"), in)
	if err != nil {
		return err
	}
	return upserted(c, up, r)
}

func (a *API) visitRatings(c echo.Context) error {
	r, err := a.crew.VisitRatings(c.Request().Context(), principal(c).TenantID, c.Param("external_id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

func (a *API) resolveComplaint(c echo.Context) error {
	var in crew.ResolveInput
	if err := decode(c, &in); err != nil {
		return err
	}
	r, err := a.crew.ResolveComplaint(c.Request().Context(), principal(c).TenantID, c.Param("external_id"), actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

func (a *API) crewToday(c echo.Context) error {
	d, err := a.crew.Today(c.Request().Context(), principal(c).TenantID, c.Param("external_id"),
		c.QueryParam("date"), c.QueryParam("member_id"), a.mirror.Customer)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

func (a *API) logPitch(c echo.Context) error {
	var in crew.PitchInput
	if err := decode(c, &in); err != nil {
		return err
	}
	if err := a.checkPitch(c.Request().Context(), principal(c), in.VisitID, in.CrewMemberID, in.Referee); err != nil {
		return err
	}
	p, created, err := a.crew.LogPitch(c.Request().Context(), principal(c).TenantID, actor(c), in)
	if err != nil {
		return err
	}
	up := store.Updated
	if created {
		up = store.Created
	}
	return upserted(c, up, p)
}

func (a *API) leaderboard(c echo.Context) error {
	l, err := a.crew.Leaderboard(c.Request().Context(), principal(c).TenantID, c.QueryParam("period"), c.QueryParam("date"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, l)
}

func (a *API) listMilestones(c echo.Context) error {
	ms, err := a.crew.Milestones(c.Request().Context(), principal(c).TenantID, c.QueryParam("date"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"milestones": ms})
}

func (a *API) createMilestone(c echo.Context) error {
	var in crew.MilestoneInput
	if err := decode(c, &in); err != nil {
		return err
	}
	m, err := a.crew.CreateMilestone(c.Request().Context(), principal(c).TenantID, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, m)
}
