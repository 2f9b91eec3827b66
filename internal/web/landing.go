package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/referral"
)

const (
	visitCookie = "rl_ref"
	// landingCookie carries the landing form's CSRF token.
	landingCookie = "rl_form"
)

type landingForm struct {
	Name, Phone, Email, Address string
}

type landingData struct {
	Landing       referral.Landing
	RefereeOffer  string
	ReferrerOffer string
	Form          landingForm
	Errors        map[string]string
	Done          bool
	CSRF          string
}

func pageData(l referral.Landing) landingData {
	return landingData{Landing: l, RefereeOffer: l.Offer.Referee.Describe("your first visit"),
		ReferrerOffer: l.Offer.Referrer.Describe("their next invoice")}
}

// landing shows the friend's page and records the visit to the link.
func (p *Pages) landing(c echo.Context) error {
	ctx := c.Request().Context()
	l, err := p.referrals.Landing(ctx, c.Param("code"))
	if apperror.HasCode(err, apperror.CodeNotFound) {
		return p.notFound(c)
	}
	if err != nil {
		return err
	}
	id, err := p.referrals.RecordVisit(ctx, l, c.QueryParam("ch"), c.RealIP(), c.Request().UserAgent())
	if err != nil {
		return err
	}
	v, err := p.referrals.VisitCookie(ctx, id)
	if err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{Name: visitCookie, Value: v, Path: "/r/", HttpOnly: true, Secure: c.Scheme() == "https",
		SameSite: http.SameSiteLaxMode, Expires: time.Now().Add(365 * 24 * time.Hour)})
	d := pageData(l)
	d.CSRF = p.formToken(c, landingCookie, "/r/")
	return p.render(c, http.StatusOK, "landing", d)
}

// submitReferral records the friend from the landing form, attributed to
// the link visit when the cookie is still within the attribution window.
func (p *Pages) submitReferral(c echo.Context) error {
	ctx := c.Request().Context()
	l, err := p.referrals.Landing(ctx, c.Param("code"))
	if apperror.HasCode(err, apperror.CodeNotFound) {
		return p.notFound(c)
	}
	if err != nil {
		return err
	}
	f := landingForm{Name: c.FormValue("name"), Phone: c.FormValue("phone"), Email: c.FormValue("email"), Address: c.FormValue("address")}
	if !formTokenOK(c, landingCookie) {
		d := pageData(l)
		d.Form, d.CSRF = f, p.formToken(c, landingCookie, "/r/")
		d.Errors = map[string]string{"form": "had expired; please send it again"}
		return p.render(c, http.StatusForbidden, "landing", d)
	}
	in := referral.Input{Channel: referral.ChannelLink, ReferrerCode: l.Code,
		Referee: referral.RefereeInput{Name: f.Name, Phone: f.Phone, Email: f.Email, Address: f.Address}}
	if ck, err := c.Cookie(visitCookie); err == nil {
		in.ClickID = p.referrals.AttributedClick(ctx, l, ck.Value)
	}
	_, _, err = p.referrals.Create(ctx, l.TenantID, "landing page", in)
	data := pageData(l)
	data.Form, data.CSRF = f, p.formToken(c, landingCookie, "/r/")
	if ae, ok := apperror.As(err); ok && ae.Code == apperror.CodeValidation {
		data.Errors = map[string]string{}
		for k, m := range ae.Fields {
			data.Errors[strings.TrimPrefix(k, "referee.")] = m
		}
		return p.render(c, http.StatusUnprocessableEntity, "landing", data)
	}
	if err != nil {
		return err
	}
	data.Done = true
	return p.render(c, http.StatusOK, "landing", data)
}
