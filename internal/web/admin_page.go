package web

import (
	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/tenant"
)

// adminRoutes registers the owner's pages.
func (p *Pages) adminRoutes(e *echo.Echo) {
	e.GET("/admin", p.placeholder("Admin"), p.RequireStaff(tenant.RoleAdmin))
}
