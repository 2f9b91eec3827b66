package web

import (
	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/tenant"
)

// crewRoutes registers the crew's phone pages.
func (p *Pages) crewRoutes(e *echo.Echo) {
	e.GET("/crew/today", p.placeholder("Crew today"), p.RequireStaff(tenant.RoleCrew, tenant.RoleAdmin, tenant.RoleDispatcher))
}
