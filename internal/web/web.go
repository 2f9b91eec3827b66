// Package web serves routeloop's HTML pages. Pages are server-rendered and
// work without JavaScript.
package web

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/crew"
	"github.com/routeloop/routeloop/internal/dispatch"
	"github.com/routeloop/routeloop/internal/insight"
	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/neighbor"
	"github.com/routeloop/routeloop/internal/program"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/refcode"
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
	Mirror    *mirror.Service
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

// render writes one of the pages.
func (p *Pages) render(c echo.Context, status int, name string, data any) error {
	return renderPage(c, status, pages[name], data)
}

// start sends a signed-in person to their own page (crew → /crew/today,
// dispatcher → /dispatch, admin → /admin) and anyone else to sign in.
func (p *Pages) start(c echo.Context) error {
	pr, _, ok, err := p.signedIn(c)
	if err != nil {
		return err
	}
	if !ok {
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	return c.Redirect(http.StatusSeeOther, home(pr.Role))
}

type notFoundData struct {
	// Code is what the friend typed into the not-found page's form, and
	// Problem why it is not a code.
	Code, Problem string
}

// notFound is the friendly page for an unknown referral link, with a 404
// status: it asks for the code printed on the card instead.
func (p *Pages) notFound(c echo.Context) error {
	return p.render(c, http.StatusNotFound, "notfound", notFoundData{})
}

// typedCode takes the code a friend typed on the not-found page
// (/r?code=k7pm 4qxt) to its referral page, or says why it is not one.
func (p *Pages) typedCode(c echo.Context) error {
	typed := strings.TrimSpace(c.QueryParam("code"))
	if code, ok := refcode.Normalize(typed); ok {
		return c.Redirect(http.StatusSeeOther, "/r/"+url.PathEscape(code))
	}
	d := notFoundData{Code: typed, Problem: "Type the code from the card: 8 letters and digits, like K7PM-4QXT."}
	if typed != "" {
		d.Problem = "“" + typed + "” is not a referral code. " + d.Problem
	}
	return p.render(c, http.StatusNotFound, "notfound", d)
}

// errorTitles are the error page's headings by status.
var errorTitles = map[int]string{
	http.StatusBadRequest:            "That didn't work",
	http.StatusNotFound:              "Page not found",
	http.StatusMethodNotAllowed:      "That can't be done here",
	http.StatusForbidden:             "You can't do that here",
	http.StatusRequestEntityTooLarge: "That was too much to send",
	http.StatusTooManyRequests:       "Too many tries",
}

// errorWords say what happened, and what to do, when the error itself has
// no sentence for people (echo's "Method Not Allowed", the API's "the
// request has invalid fields").
var errorWords = map[int]string{
	http.StatusNotFound:              "There is no page at this address. Check the link, or start again from the page you came from.",
	http.StatusMethodNotAllowed:      "This address can't be used that way. Go back to the page and use its buttons and links.",
	http.StatusForbidden:             "Your login can't do this. Ask an administrator if you need it.",
	http.StatusRequestEntityTooLarge: "What you sent was too large. Go back and send less.",
	http.StatusTooManyRequests:       "There were too many tries in a short time. Wait a minute and try again.",
	http.StatusUnsupportedMediaType:  "What you sent could not be read. Go back and send the form again.",
}

// apiPhrases are error messages meant for programs, never shown on a page.
var apiPhrases = []string{"the request has invalid fields", "no such endpoint", "json", "content-type"}

type errorData struct {
	Title, Message string
	// Back is where the page sends people on, BackText its words.
	Back, BackText string
}

// ErrorPage answers a failed page request as HTML (the API answers JSON):
// the status, a heading, what happened and what to do in people's words
// (a 5xx says only that it was logged), and a link back.
func (p *Pages) ErrorPage(c echo.Context, status int, message string) error {
	d := errorData{Title: errorTitles[status], Message: pageMessage(status, message)}
	if status >= 500 {
		d = errorData{Title: "Something went wrong", Message: "Something went wrong on our side; it has been logged. Please try again in a moment."}
	}
	if d.Title == "" {
		d.Title = "That didn't work"
	}
	d.Back, d.BackText = errorBack(c)
	return p.render(c, status, "error", d)
}

// pageMessage is message as a sentence for people, or the status's own
// words when message is empty, an HTTP status text or meant for programs.
func pageMessage(status int, message string) string {
	words, ok := errorWords[status]
	if !ok {
		words = "What was sent could not be used. Go back, check it and try again."
	}
	lower := strings.ToLower(message)
	if status == http.StatusNotFound || message == "" || strings.EqualFold(message, http.StatusText(status)) {
		return words
	}
	for _, ph := range apiPhrases {
		if strings.Contains(lower, ph) {
			return words
		}
	}
	return sentence(message)
}

// errorBack is where an error page leads back to: the page the person came
// from on this site; on a friend's or a customer's page (/r/, /i/) that
// page itself; elsewhere "/", which opens the signed-in person's own page
// (or the sign-in).
func errorBack(c echo.Context) (string, string) {
	req := c.Request()
	if ref, err := url.Parse(req.Referer()); err == nil && ref.Host == req.Host && req.Host != "" {
		if back := localPath(ref.RequestURI()); back != "" && back != req.URL.RequestURI() {
			return back, "Back to the page you came from"
		}
	}
	if seg := strings.SplitN(req.URL.Path, "/", 4); len(seg) >= 3 && (seg[1] == "r" || seg[1] == "i") {
		if seg[2] == "" {
			return "", ""
		}
		return "/" + seg[1] + "/" + url.PathEscape(seg[2]), "Back to the page"
	}
	return "/", "Go to your start page"
}
