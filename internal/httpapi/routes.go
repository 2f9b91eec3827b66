package httpapi

import (
	"net/http"

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

// routeTable is the whole API surface, one line per route with who may
// call it: the roles whose API keys it admits (key), or what stands in for
// a key (noKey). Expensive work (route optimisation, suggestions, insights
// and their CSV, batch import) is also rate-limited per key (.expensive()).
// Auth is per route, not per group: a group middleware would turn a wrong
// method into 404 instead of 405.
func (a *API) routeTable() []route {
	t := []route{
		get("/healthz", a.healthz, noKey("a liveness probe")),
		get("/readyz", a.readyz, noKey("a readiness probe")),
		get("/api/v1/openapi.json", a.openAPI, noKey("the published contract")),
		post("/hooks/v1/:tenant_id", a.receiveWebhook, noKey("the webhook signature authenticates")),

		// The scheduler's mirror: customers, crews, visits, invoices.
		put("/api/v1/customers/:external_id", a.putCustomer, key(mirrorWriters)),
		get("/api/v1/customers/:external_id", a.getCustomer, key(mirrorReaders)),
		get("/api/v1/customers/:external_id/referral-links", a.referralLinks, key(mirrorReaders)),
		get("/api/v1/customers", a.listCustomers, key(mirrorReaders)),
		put("/api/v1/crews/:external_id", a.putCrew, key(mirrorWriters)),
		get("/api/v1/crews/:external_id", a.getCrew, key(mirrorReaders)),
		get("/api/v1/crews", a.listCrews, key(mirrorReaders)),
		put("/api/v1/visits/:external_id", a.putVisit, key(mirrorWriters)),
		get("/api/v1/visits/:external_id", a.getVisit, key(mirrorReaders)),
		get("/api/v1/visits", a.listVisits, key(mirrorReaders)),
		put("/api/v1/invoices/:external_id", a.putInvoice, key(invoiceWriters)),
		get("/api/v1/invoices/:external_id", a.getInvoice, key(invoiceReaders)),
		post("/api/v1/invoices/:external_id/rotate-link", a.rotateInvoiceLink, key(invoiceWriters)),
		get("/api/v1/invoices", a.listInvoices, key(invoiceReaders)),

		// The program, neighbour links and sync discounts.
		get("/api/v1/program", a.getProgram, key(planners)),
		put("/api/v1/program", a.putProgram, key(adminsOnly)),
		get("/api/v1/customers/:external_id/nearby", a.nearby, key(planners)),
		get("/api/v1/customers/:external_id/sync-history", a.syncHistory, key(planners)),
		get("/api/v1/customers/:external_id/ledger", a.customerLedger, key(planners)),
		post("/api/v1/neighbor-links", a.createLink, key(dispatchers)),
		get("/api/v1/neighbor-links", a.listLinks, key(planners)),
		get("/api/v1/neighbor-links/:id", a.getLink, key(planners)),
		del("/api/v1/neighbor-links/:id", a.endLink, key(dispatchers)),
		get("/api/v1/sync-adjustments", a.listAdjustments, key(dispatchers)),
		post("/api/v1/reconcile", a.reconcile, key(adminsOnly)),

		// Referrals and rewards.
		post("/api/v1/referrals", a.createReferral, key(referrers)),
		get("/api/v1/referrals", a.listReferrals, key(planners)),
		get("/api/v1/referrals/:id", a.getReferral, key(planners)),
		get("/api/v1/referrals/:id/decisions", a.referralDecisions, key(dispatchers)),
		post("/api/v1/referrals/:id/approve", a.approveReferral, key(dispatchers)),
		post("/api/v1/referrals/:id/reject", a.rejectReferral, key(dispatchers)),
		post("/api/v1/referrals/:id/attribute", a.attributeReferral, key(dispatchers)),
		put("/api/v1/referrals/:id/location", a.putReferralLocation, key(dispatchers)),
		get("/api/v1/rewards", a.listRewards, key(planners)),
		get("/api/v1/customers/:external_id/referral-status", a.referralStatus, key(referrers)),

		// Inbound: batch import and the webhook signing secrets.
		post("/api/v1/sync/batch", a.syncBatch, key(mirrorWriters).expensive()),
		post("/api/v1/webhook-secrets", a.createWebhookSecret, key(adminsOnly)),
		get("/api/v1/webhook-secrets", a.listWebhookSecrets, key(adminsOnly)),
		del("/api/v1/webhook-secrets/:id", a.revokeWebhookSecret, key(adminsOnly)),

		// Outbound: the endpoints tenants receive events at, and the deliveries.
		post("/api/v1/webhook-endpoints", a.createEndpoint, key(integrators)),
		get("/api/v1/webhook-endpoints", a.listEndpoints, key(integrators)),
		del("/api/v1/webhook-endpoints/:id", a.deleteEndpoint, key(integrators)),
		post("/api/v1/webhook-endpoints/:id/enable", a.enableEndpoint, key(integrators)),
		get("/api/v1/webhook-deliveries", a.listDeliveries, key(integrators)),
		post("/api/v1/webhook-deliveries/:id/redeliver", a.redeliver, key(integrators)),

		// Dispatch: suggestions, booking, day routes and savings.
		get("/api/v1/customers/:external_id/suggestions", a.customerSuggestions, key(planners).expensive()),
		get("/api/v1/referrals/:id/suggestions", a.referralSuggestions, key(planners).expensive()),
		post("/api/v1/linked-visits", a.bookVisit, key(dispatchers)),
		get("/api/v1/crews/:external_id/route", a.dayRoute, key(referrers)),
		post("/api/v1/crews/:external_id/route/optimize", a.optimizeDay, key(dispatchers).expensive()),
		post("/api/v1/routes/optimize", a.optimizeStops, key(planners).expensive()),
		get("/api/v1/insights/route-savings", a.routeSavings, key(planners).expensive()),

		// The crew program: scripts, ratings, the day, pitches, points.
		get("/api/v1/scripts", a.listScripts, key(referrers)),
		post("/api/v1/scripts", a.createScript, key(adminsOnly)),
		put("/api/v1/scripts/:name", a.putScript, key(adminsOnly)),
		get("/api/v1/visits/:external_id/rating", a.visitRatings, key(referrers)),
		post("/api/v1/visits/:external_id/rating", a.rateVisit, key(referrers)),
		post("/api/v1/visits/:external_id/rating/resolve", a.resolveComplaint, key(dispatchers)),
		get("/api/v1/crews/:external_id/today", a.crewToday, key(referrers)),
		post("/api/v1/pitches", a.logPitch, key(referrers)),
		get("/api/v1/crew/leaderboard", a.leaderboard, key(referrers)),
		get("/api/v1/crew/milestones", a.listMilestones, key(referrers)),
		post("/api/v1/crew/milestones", a.createMilestone, key(adminsOnly)),

		// The owner's insights.
		get("/api/v1/insights/kpis", a.kpis, key(dispatchers).expensive()),
		get("/api/v1/insights/ab", a.abTest, key(dispatchers).expensive()),
		get("/api/v1/insights/word-of-mouth", a.wordOfMouth, key(dispatchers).expensive()),
	}
	if a.metrics != nil {
		t = append(t, get("/metrics", a.metrics.Handler(a.metricsToken), noKey("its own token (metrics_token), not an API key")))
	}
	return t
}

// routes registers every route of the table on e, each behind its access
// checks: the API key and its role (a.allow), then the per-key rate limit
// of expensive work (a.expensive).
func (a *API) routes(e *echo.Echo) {
	for _, r := range a.routeTable() {
		var mw []echo.MiddlewareFunc
		if r.access.keyed {
			mw = append(mw, a.allow(r.access.roles...))
		}
		if r.access.limited {
			mw = append(mw, a.expensive)
		}
		e.Add(r.method, r.path, r.handler, mw...)
	}
}

// route is one line of the route table.
type route struct {
	method, path string
	handler      echo.HandlerFunc
	access       access
}

// access says who may call a route.
type access struct {
	// keyed routes need an API key of one of roles (admin keys always
	// pass; no roles: admin keys only).
	keyed bool
	roles []string
	// limited routes also count against the key's expensive requests.
	limited bool
	// instead says, for a route without an API key, what guards it.
	instead string
}

// key admits API keys of the roles, and admin keys.
func key(roles []string) access { return access{keyed: true, roles: roles} }

// expensive also rate-limits the route per key.
func (ac access) expensive() access { ac.limited = true; return ac }

// noKey is a route without an API key; instead says why that is safe.
func noKey(instead string) access { return access{instead: instead} }

// get, put, post and del are the table's lines for each method.
func get(path string, h echo.HandlerFunc, ac access) route {
	return route{http.MethodGet, path, h, ac}
}

func put(path string, h echo.HandlerFunc, ac access) route {
	return route{http.MethodPut, path, h, ac}
}

func post(path string, h echo.HandlerFunc, ac access) route {
	return route{http.MethodPost, path, h, ac}
}

func del(path string, h echo.HandlerFunc, ac access) route {
	return route{http.MethodDelete, path, h, ac}
}
