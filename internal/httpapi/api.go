// Package httpapi serves routeloop's JSON API (/api/v1): the scheduler's side
// of the plug-in. Handlers decode, call one feature function and encode; the
// rules live in the feature packages.
package httpapi

import (
	"context"
	"log/slog"
	"net"
	"net/http"

	"github.com/routeloop/routeloop/internal/crew"
	"github.com/routeloop/routeloop/internal/insight"

	"github.com/routeloop/routeloop/internal/dispatch"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/ledger"
	"github.com/routeloop/routeloop/internal/metrics"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/neighbor"
	"github.com/routeloop/routeloop/internal/outbox"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/ratelimit"
	"github.com/routeloop/routeloop/internal/referral"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/tenant"
	"github.com/routeloop/routeloop/internal/webhook"
)

// API holds the services the handlers call.
type API struct {
	tenants   *tenant.Service
	mirror    *mirror.Service
	invoices  *invoice.Service
	programs  *program.Service
	neighbors *neighbor.Service
	ledger    *ledger.Service
	referrals *referral.Service
	endpoints *outbox.Endpoints
	webhooks  *webhook.Service
	dispatch  *dispatch.Service
	crew      *crew.Service
	insights  *insight.Service
	// expensiveLimit is each key's allowance of expensive requests.
	expensiveLimit *ratelimit.PerKey
	// metrics, when set, is served at /metrics (behind metricsToken when
	// that is set) and counts requests and reconciliations.
	metrics      *metrics.Metrics
	metricsToken string
	ready        func(context.Context) error
	log          *slog.Logger
}

// Deps are what the API needs.
type Deps struct {
	Tenants   *tenant.Service
	Mirror    *mirror.Service
	Invoices  *invoice.Service
	Programs  *program.Service
	Neighbors *neighbor.Service
	// Ledger reads back what customers are owed and reconciles.
	Ledger    *ledger.Service
	Referrals *referral.Service
	Endpoints *outbox.Endpoints
	// Webhooks takes inbound webhooks and sync batches.
	Webhooks *webhook.Service
	// Dispatch suggests and books linked visits.
	Dispatch *dispatch.Service
	// Crew runs the crew program; Insights the owner's KPIs.
	Crew     *crew.Service
	Insights *insight.Service
	// Ready reports whether the database answers and is migrated.
	Ready func(context.Context) error
	Log   *slog.Logger
	// TrustedProxies are the only peers whose X-Forwarded-For and
	// X-Forwarded-Proto are believed (none: the peer is the client).
	TrustedProxies []*net.IPNet
	// PageError answers a failed request outside the API (a page) as HTML;
	// nil answers every error as JSON.
	PageError func(c echo.Context, status int, message string) error
	// ExpensivePerMinute is how many expensive requests one API key may
	// make a minute (0: no limit).
	ExpensivePerMinute int
	// Metrics counts every request and is served at GET /metrics; nil
	// serves no /metrics. MetricsToken, when set, is the bearer token a
	// scrape must send.
	Metrics      *metrics.Metrics
	MetricsToken string
	// Middleware runs around every route after the built-in ones (the
	// pages' security headers).
	Middleware []echo.MiddlewareFunc
}

// New builds the echo server with every route and middleware.
func New(d Deps) *echo.Echo {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	a := &API{tenants: d.Tenants, mirror: d.Mirror, invoices: d.Invoices, programs: d.Programs,
		neighbors: d.Neighbors, ledger: d.Ledger, referrals: d.Referrals, endpoints: d.Endpoints, webhooks: d.Webhooks, dispatch: d.Dispatch, crew: d.Crew, insights: d.Insights, ready: d.Ready, log: d.Log,
		expensiveLimit: ratelimit.New(d.ExpensivePerMinute), metrics: d.Metrics, metricsToken: d.MetricsToken}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = errorHandler(d.Log, d.PageError)
	e.IPExtractor, e.SchemeExtractor = forwardedBy(d.TrustedProxies)
	e.Use(middleware.RequestID())
	// Compressed when the client accepts gzip: pages, JSON, CSV exports
	// and error answers (written by logRequests, inside). Answers too short
	// to gain are sent as they are.
	e.Use(middleware.GzipWithConfig(middleware.GzipConfig{MinLength: 512}))
	e.Use(d.Metrics.Middleware)
	e.Use(logRequests(d.Log))
	e.Use(recoverJSON(d.Log))
	e.Use(d.Middleware...)
	a.routes(e)
	return e
}

// forwardedBy says who the client is and whether it came over https:
// from the forwarding headers when the peer is one of the trusted proxies,
// from the connection otherwise. Echo's defaults would believe any peer on
// a loopback or private address, so those are switched off.
func forwardedBy(proxies []*net.IPNet) (echo.IPExtractor, echo.SchemeExtractor) {
	if len(proxies) == 0 {
		return echo.ExtractIPDirect(), echo.ExtractSchemeDirect()
	}
	trust := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range proxies {
		trust = append(trust, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(trust...), echo.ExtractSchemeFromHeaders(trust...)
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

// upserted answers a PUT: 201 when it created, 200 when it updated or kept
// a newer stored row (stale); the Routeloop-Upsert header says which.
func upserted(c echo.Context, up store.Upserted, v any) error {
	c.Response().Header().Set("Routeloop-Upsert", string(up))
	if up == store.Created {
		return c.JSON(http.StatusCreated, v)
	}
	return c.JSON(http.StatusOK, v)
}
