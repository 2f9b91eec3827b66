// Package httpapi serves routeloop's JSON API (/api/v1): the scheduler's side
// of the plug-in. Handlers decode, call one feature function and encode; the
// rules live in the feature packages.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/neighbor"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/scheduling"
	"github.com/routeloop/routeloop/internal/tenant"
)

// API holds the services the handlers call.
type API struct {
	tenants   *tenant.Service
	mirror    *scheduling.Service
	invoices  *invoice.Service
	programs  *program.Service
	neighbors *neighbor.Service
	ready     func(context.Context) error
	log       *slog.Logger
}

// Deps are what the API needs.
type Deps struct {
	Tenants   *tenant.Service
	Mirror    *scheduling.Service
	Invoices  *invoice.Service
	Programs  *program.Service
	Neighbors *neighbor.Service
	// Ready reports whether the database answers and is migrated.
	Ready func(context.Context) error
	Log   *slog.Logger
}

// New builds the echo server with every route and middleware.
func New(d Deps) *echo.Echo {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	a := &API{tenants: d.Tenants, mirror: d.Mirror, invoices: d.Invoices, programs: d.Programs,
		neighbors: d.Neighbors, ready: d.Ready, log: d.Log}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = errorHandler(d.Log)
	e.Use(middleware.RequestID())
	e.Use(logRequests(d.Log))
	e.Use(recoverJSON(d.Log))
	a.routes(e)
	return e
}

func (a *API) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func (a *API) readyz(c echo.Context) error {
	if err := a.ready(c.Request().Context()); err != nil {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "not_ready", "reason": err.Error()})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

// upserted answers a PUT: 201 when it created, 200 when it updated.
func upserted(c echo.Context, created bool, v any) error {
	if created {
		c.Response().Header().Set("Routeloop-Upsert", "created")
		return c.JSON(http.StatusCreated, v)
	}
	c.Response().Header().Set("Routeloop-Upsert", "updated")
	return c.JSON(http.StatusOK, v)
}
