// Package web serves routeloop's HTML pages. Pages are server-rendered and
// work without JavaScript.
package web

import (
	"html/template"
	"net/http"
	"time"

	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/crew"
	"github.com/routeloop/routeloop/internal/dispatch"
	"github.com/routeloop/routeloop/internal/insight"
	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/neighbor"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/scheduling"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/referral"
	"github.com/routeloop/routeloop/internal/tenant"
	"github.com/routeloop/routeloop/internal/user"
	"github.com/routeloop/routeloop/templates"
)

// Deps are the services pages call.
type Deps struct {
	Referrals *referral.Service
	Users     *user.Service
	Tenants   *tenant.Service
	Mirror    *scheduling.Service
	Invoices  *invoice.Service
	Programs  *program.Service
	Neighbors *neighbor.Service
	Dispatch  *dispatch.Service
	Crew      *crew.Service
	Insights  *insight.Service
	// Clock tells the pages today (the admin dashboard's periods); the
	// system clock when nil.
	Clock clock.Clock
}

// Pages holds the services pages call.
type Pages struct {
	referrals *referral.Service
	users     *user.Service
	d         Deps
}

// pages are parsed once; the templates are embedded, so a page that does
// not parse is a build mistake caught by the tests.
var pages = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range []string{"landing", "notfound", "login", "forbidden", "invoice", "invoice_notfound", "error"} {
		out[name] = template.Must(template.ParseFS(templates.FS, "layout.html", "staffbar.html", name+".html"))
	}
	return out
}()

// New returns the pages.
func New(d Deps) *Pages { return &Pages{referrals: d.Referrals, users: d.Users, d: d} }

// now is the pages' clock.
func (p *Pages) now() time.Time {
	if p.d.Clock == nil {
		return clock.System{}.Now()
	}
	return p.d.Clock.Now()
}

// parsePage parses one page with the layout and the staff bar; a page that
// does not parse stops start-up (templates are embedded: a build mistake).
func parsePage(name string) *template.Template {
	return template.Must(template.ParseFS(templates.FS, "layout.html", "staffbar.html", name+".html"))
}

// Routes registers the pages on e. Staff pages go through RequireStaff,
// which also checks the CSRF token of every form they receive.
func (p *Pages) Routes(e *echo.Echo) {
	staticRoutes(e)
	e.GET("/r/:code", p.landing)
	e.POST("/r/:code", p.submitReferral)

	e.GET("/login", p.loginPage)
	e.POST("/login", p.login)
	e.POST("/logout", p.logout)
	p.invoiceRoutes(e)
	p.adminRoutes(e)
	p.dispatchRoutes(e)
	p.crewRoutes(e)
	p.optOutRoutes(e)
}

// render writes one of the pages.
func (p *Pages) render(c echo.Context, status int, name string, data any) error {
	return renderPage(c, status, pages[name], data)
}

// notFound is the friendly page for an unknown link, with a 404 status.
func (p *Pages) notFound(c echo.Context) error {
	return p.render(c, http.StatusNotFound, "notfound", nil)
}
