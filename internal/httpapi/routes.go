package httpapi

import (
	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/tenant"
)

// Role sets, named for what they may do. Admin keys may do everything.
var (
	mirrorWriters  = []string{tenant.RoleIntegration}
	mirrorReaders  = []string{tenant.RoleIntegration, tenant.RoleDispatcher, tenant.RoleCrew}
	invoiceWriters = []string{tenant.RoleIntegration}
	invoiceReaders = []string{tenant.RoleIntegration, tenant.RoleDispatcher}
	dispatchers    = []string{tenant.RoleDispatcher}
	planners       = []string{tenant.RoleDispatcher, tenant.RoleIntegration}
	adminsOnly     = []string{}
	referrers      = []string{tenant.RoleDispatcher, tenant.RoleIntegration, tenant.RoleCrew}
	integrators    = []string{tenant.RoleIntegration}
)

// routes is the whole API surface with the roles each route admits.
// Expensive work (route optimisation, suggestions, insights and their CSV,
// batch import) also passes a.expensive: a per-key rate limit.
func (a *API) routes(e *echo.Echo) {
	e.GET("/healthz", a.healthz)
	e.GET("/readyz", a.readyz)
	e.GET("/api/v1/openapi.json", a.openAPI)
	if a.metrics != nil {
		e.GET("/metrics", a.metrics.Handler(a.metricsToken)) // its own token, not an API key
	}

	// Auth is per route, not per group: a group middleware would turn a wrong
	// method into 404 instead of 405.
	v1 := e.Group("/api/v1")
	v1.PUT("/customers/:external_id", a.putCustomer, a.allow(mirrorWriters...))
	v1.GET("/customers/:external_id", a.getCustomer, a.allow(mirrorReaders...))
	v1.GET("/customers/:external_id/referral-links", a.referralLinks, a.allow(mirrorReaders...))
	v1.GET("/customers", a.listCustomers, a.allow(mirrorReaders...))
	v1.PUT("/crews/:external_id", a.putCrew, a.allow(mirrorWriters...))
	v1.GET("/crews/:external_id", a.getCrew, a.allow(mirrorReaders...))
	v1.GET("/crews", a.listCrews, a.allow(mirrorReaders...))
	v1.PUT("/visits/:external_id", a.putVisit, a.allow(mirrorWriters...))
	v1.GET("/visits/:external_id", a.getVisit, a.allow(mirrorReaders...))
	v1.GET("/visits", a.listVisits, a.allow(mirrorReaders...))
	v1.PUT("/invoices/:external_id", a.putInvoice, a.allow(invoiceWriters...))
	v1.GET("/invoices/:external_id", a.getInvoice, a.allow(invoiceReaders...))
	v1.POST("/invoices/:external_id/rotate-link", a.rotateInvoiceLink, a.allow(invoiceWriters...))
	v1.GET("/invoices", a.listInvoices, a.allow(invoiceReaders...))

	v1.GET("/program", a.getProgram, a.allow(planners...))
	v1.PUT("/program", a.putProgram, a.allow(adminsOnly...))
	v1.GET("/customers/:external_id/nearby", a.nearby, a.allow(planners...))
	v1.GET("/customers/:external_id/sync-history", a.syncHistory, a.allow(planners...))
	v1.GET("/customers/:external_id/ledger", a.customerLedger, a.allow(planners...))
	v1.POST("/neighbor-links", a.createLink, a.allow(dispatchers...))
	v1.GET("/neighbor-links", a.listLinks, a.allow(planners...))
	v1.GET("/neighbor-links/:id", a.getLink, a.allow(planners...))
	v1.DELETE("/neighbor-links/:id", a.endLink, a.allow(dispatchers...))
	v1.GET("/sync-adjustments", a.listAdjustments, a.allow(dispatchers...))
	v1.POST("/reconcile", a.reconcile, a.allow(adminsOnly...))

	v1.POST("/referrals", a.createReferral, a.allow(referrers...))
	v1.GET("/referrals", a.listReferrals, a.allow(planners...))
	v1.GET("/referrals/:id", a.getReferral, a.allow(planners...))
	v1.GET("/referrals/:id/decisions", a.referralDecisions, a.allow(dispatchers...))
	v1.POST("/referrals/:id/approve", a.approveReferral, a.allow(dispatchers...))
	v1.POST("/referrals/:id/reject", a.rejectReferral, a.allow(dispatchers...))
	v1.POST("/referrals/:id/attribute", a.attributeReferral, a.allow(dispatchers...))
	v1.PUT("/referrals/:id/location", a.putReferralLocation, a.allow(dispatchers...))
	v1.GET("/rewards", a.listRewards, a.allow(planners...))
	v1.GET("/customers/:external_id/referral-status", a.referralStatus, a.allow(referrers...))

	a.webhookInRoutes(e, v1)
	a.webhookOutRoutes(v1)
	a.dispatchRoutes(v1)
	a.crewRoutes(v1)
	a.insightRoutes(v1)
}
