// Package web serves routeloop's HTML pages. Pages are server-rendered and
// work without JavaScript.
package web

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/referral"
	"github.com/routeloop/routeloop/templates"
)

// Pages holds the services pages call.
type Pages struct {
	referrals *referral.Service
}

// pages are parsed once; the templates are embedded, so a page that does
// not parse is a build mistake caught by the tests.
var pages = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range []string{"landing", "notfound"} {
		out[name] = template.Must(template.ParseFS(templates.FS, "layout.html", name+".html"))
	}
	return out
}()

// New returns the pages.
func New(r *referral.Service) *Pages { return &Pages{referrals: r} }

// Routes registers the pages on e.
func (p *Pages) Routes(e *echo.Echo) {
	e.GET("/r/:code", p.landing)
	e.POST("/r/:code", p.submitReferral)
}

// render writes a page; rendering into a buffer first means a template
// error becomes a clean 500, not half a page.
func (p *Pages) render(c echo.Context, status int, name string, data any) error {
	var buf bytes.Buffer
	if err := pages[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTMLBlob(status, buf.Bytes())
}

// notFound is the friendly page for an unknown link, with a 404 status.
func (p *Pages) notFound(c echo.Context) error {
	return p.render(c, http.StatusNotFound, "notfound", nil)
}
