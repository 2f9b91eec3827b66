package httpapi

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/outbox"
)

func pathID(c echo.Context, what string) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperror.NotFound("%s %s not found", what, c.Param("id"))
	}
	return id, nil
}

func (a *API) createEndpoint(c echo.Context) error {
	var in outbox.EndpointInput
	if err := decode(c, &in); err != nil {
		return err
	}
	ep, err := a.endpoints.Create(c.Request().Context(), principal(c).TenantID, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, ep)
}

func (a *API) listEndpoints(c echo.Context) error {
	eps, err := a.endpoints.List(c.Request().Context(), principal(c).TenantID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"webhook_endpoints": eps})
}

func (a *API) deleteEndpoint(c echo.Context) error {
	id, err := pathID(c, "webhook endpoint")
	if err != nil {
		return err
	}
	if err := a.endpoints.Delete(c.Request().Context(), principal(c).TenantID, id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *API) enableEndpoint(c echo.Context) error {
	id, err := pathID(c, "webhook endpoint")
	if err != nil {
		return err
	}
	ep, err := a.endpoints.Enable(c.Request().Context(), principal(c).TenantID, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ep)
}

func (a *API) listDeliveries(c echo.Context) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	ds, next, err := a.endpoints.Deliveries(c.Request().Context(), principal(c).TenantID, c.QueryParam("status"), p)
	if err != nil {
		return err
	}
	return list(c, "webhook_deliveries", ds, next)
}

func (a *API) redeliver(c echo.Context) error {
	id, err := pathID(c, "delivery")
	if err != nil {
		return err
	}
	d, err := a.endpoints.Redeliver(c.Request().Context(), principal(c).TenantID, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}
