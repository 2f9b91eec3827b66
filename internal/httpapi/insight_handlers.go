package httpapi

import "github.com/labstack/echo/v4"

// insightRoutes registers the owner's insights.
func (a *API) insightRoutes(v1 *echo.Group) {}
