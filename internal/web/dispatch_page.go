package web

import (
	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/tenant"
)

// dispatchRoutes registers the dispatch board and the printable cards.
func (p *Pages) dispatchRoutes(e *echo.Echo) {
	e.GET("/dispatch", p.placeholder("Dispatch"), p.RequireStaff(tenant.RoleAdmin, tenant.RoleDispatcher))
}
