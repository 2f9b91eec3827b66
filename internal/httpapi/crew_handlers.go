package httpapi

import "github.com/labstack/echo/v4"

// crewRoutes registers the crew program's routes.
func (a *API) crewRoutes(v1 *echo.Group) {}
