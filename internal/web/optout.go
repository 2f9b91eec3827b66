package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/mirror"
)

// The marketing opt-out page, /optout/{token}: the company's name and one
// button, "Stop marketing messages" (a form: it works without JavaScript),
// then a confirmation. The signed token is the only key; the page names
// nobody, so a forwarded link tells nothing about its customer.

// optOutCookie carries the opt-out form's CSRF token.
const optOutCookie = "rl_optout"

var (
	optOutPage         = parsePage("optout")
	optOutNotFoundPage = parsePage("optout_notfound")
)

type optOutData struct {
	Token, Company string
	// Stopped: the customer already said no (or just did); Done: just now.
	Stopped, Done bool
	Problem       string
	CSRF          string
}

// optOutForm shows the button, or that messages are already stopped.
func (p *Pages) optOutForm(c echo.Context) error {
	o, err := p.d.Mirror.OptOutByToken(c.Request().Context(), c.Param("token"))
	if err != nil {
		return optOutAnswer(c, err)
	}
	return p.renderOptOut(c, http.StatusOK, o, "")
}

// optOut stops the customer's marketing messages; sending it again changes
// nothing.
func (p *Pages) optOut(c echo.Context) error {
	ctx := c.Request().Context()
	o, err := p.d.Mirror.OptOutByToken(ctx, c.Param("token"))
	if err != nil {
		return optOutAnswer(c, err)
	}
	if !formTokenOK(c, optOutCookie) {
		return p.renderOptOut(c, http.StatusForbidden, o, "The page had expired. Please press the button again.")
	}
	if o, err = p.d.Mirror.StopMarketing(ctx, c.Param("token")); err != nil {
		return optOutAnswer(c, err)
	}
	return p.renderOptOut(c, http.StatusOK, o, "")
}

func (p *Pages) renderOptOut(c echo.Context, status int, o mirror.OptOut, problem string) error {
	d := optOutData{Token: c.Param("token"), Company: o.Company, Stopped: o.Stopped, Problem: problem,
		Done: o.Stopped && c.Request().Method == http.MethodPost, CSRF: p.formToken(c, optOutCookie, "/optout/")}
	return renderPage(c, status, optOutPage, d)
}

// optOutAnswer is the friendly 404 page of an unknown or forged link, or
// the error.
func optOutAnswer(c echo.Context, err error) error {
	if apperror.HasCode(err, apperror.CodeNotFound) {
		return renderPage(c, http.StatusNotFound, optOutNotFoundPage, nil)
	}
	return err
}
