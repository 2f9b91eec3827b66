package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/tenant"
)

// Cache lifetimes of the static files: the favicon never changes under its
// name; the pages' script may.
const (
	cacheForAYear = "public, max-age=31536000, immutable"
	cacheForADay  = "public, max-age=86400"
)

// routeTable is every page, one line per route with who may open it: staff
// of the roles listed (staff; RequireStaff also checks the CSRF token of
// every form they send), or anyone, with what guards the page instead
// (public).
func (p *Pages) routeTable() []pageRoute {
	return []pageRoute{
		// The favicon and the script behind the cards page's Print button.
		get("/favicon.ico", staticFile("favicon.ico", "image/x-icon", cacheForAYear), public("a static file")),
		get("/favicon.svg", staticFile("favicon.svg", "image/svg+xml", cacheForAYear), public("a static file")),
		get("/static/print.js", staticFile("print.js", "text/javascript; charset=utf-8", cacheForADay), public("a static file")),

		// The start page sends a signed-in person to their own page and
		// anyone else to sign in.
		get("/", p.start, public("it only redirects")),
		get("/login", p.loginPage, public("the sign-in")),
		post("/login", p.login, public("the sign-in")),
		post("/logout", p.logout, public("ends the session it names")),

		// The friend's landing page, the customer's invoice and opt-out.
		get("/r", p.typedCode, public("it only redirects to a code's page")),
		get("/r/:code", p.landing, public("the referral code in the link")),
		post("/r/:code", p.submitReferral, public("the referral code in the link, and the form's token")),
		get("/i/:token", p.show, public("the invoice's unguessable token")),
		post("/i/:token/rating", p.rate, public("the invoice's unguessable token, and the form's token")),
		get("/optout/:token", p.optOutForm, public("the customer's unguessable token")),
		post("/optout/:token", p.optOut, public("the customer's unguessable token, and the form's token")),

		// The owner's page: dashboard, its CSV, the program's settings.
		get("/admin", p.adminShow, staff(tenant.RoleAdmin)),
		get("/admin/kpis.csv", p.adminKPIsCSV, staff(tenant.RoleAdmin)),
		post("/admin/program", p.adminSaveProgram, staff(tenant.RoleAdmin)),

		// The review queue of flagged referrals: approve, reject, or
		// attribute a name-only referral to one of the customers of that name.
		get("/review", p.reviewShow, staff(tenant.RoleAdmin, tenant.RoleDispatcher)),
		post("/review/referrals/:id/approve", p.reviewDecide(decisionApprove), staff(tenant.RoleAdmin, tenant.RoleDispatcher)),
		post("/review/referrals/:id/reject", p.reviewDecide(decisionReject), staff(tenant.RoleAdmin, tenant.RoleDispatcher)),
		post("/review/referrals/:id/attribute", p.reviewDecide(decisionAttribute), staff(tenant.RoleAdmin, tenant.RoleDispatcher)),

		// The dispatch board and its forms: book a suggestion, optimise a
		// crew's day, enter a lead's location.
		get("/dispatch", p.dispatchBoard, staff(tenant.RoleAdmin, tenant.RoleDispatcher)),
		post("/dispatch/book", p.dispatchBook, staff(tenant.RoleAdmin, tenant.RoleDispatcher)),
		post("/dispatch/optimize", p.dispatchOptimize, staff(tenant.RoleAdmin, tenant.RoleDispatcher)),
		post("/dispatch/referrals/:id/location", p.dispatchLocate, staff(tenant.RoleAdmin, tenant.RoleDispatcher)),

		// The crew's phone pages and the printable cards.
		get("/crew/today", p.crewToday, staff(tenant.RoleCrew, tenant.RoleAdmin, tenant.RoleDispatcher)),
		post("/crew/today/pitch", p.crewLogPitch, staff(tenant.RoleCrew, tenant.RoleAdmin, tenant.RoleDispatcher)),
		post("/crew/today/referral", p.crewLogReferral, staff(tenant.RoleCrew, tenant.RoleAdmin, tenant.RoleDispatcher)),
		get("/cards", p.cards, staff(tenant.RoleAdmin, tenant.RoleDispatcher)),
	}
}

// Routes registers every page of the table on e, staff pages behind
// RequireStaff with their roles.
func (p *Pages) Routes(e *echo.Echo) {
	for _, r := range p.routeTable() {
		var mw []echo.MiddlewareFunc
		if r.access.staff {
			mw = append(mw, p.RequireStaff(r.access.roles...))
		}
		e.Add(r.method, r.path, r.handler, mw...)
	}
}

// pageRoute is one line of the route table.
type pageRoute struct {
	method, path string
	handler      echo.HandlerFunc
	access       pageAccess
}

// pageAccess says who may open a page: signed-in staff of the roles, or
// anyone (instead says what guards the page then).
type pageAccess struct {
	staff   bool
	roles   []string
	instead string
}

// staff admits signed-in staff of the roles.
func staff(roles ...string) pageAccess { return pageAccess{staff: true, roles: roles} }

// public admits anyone; instead says what guards the page.
func public(instead string) pageAccess { return pageAccess{instead: instead} }

// get and post are the table's lines for each method.
func get(path string, h echo.HandlerFunc, ac pageAccess) pageRoute {
	return pageRoute{http.MethodGet, path, h, ac}
}

func post(path string, h echo.HandlerFunc, ac pageAccess) pageRoute {
	return pageRoute{http.MethodPost, path, h, ac}
}
