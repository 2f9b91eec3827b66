package web

import (
	"net/http"
	"net/url"
	"sort"
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
	// The two ticks: same-day service next to the neighbour, and marketing
	// messages (unticked until the friend ticks them).
	SameDay, Marketing bool
}

// landingError is one thing wrong with the form, in people's words.
type landingError struct {
	Field, Message string
}

type landingData struct {
	Landing       referral.Landing
	RefereeOffer  string
	ReferrerOffer string
	// SameDayText is the same-day consent's wording, with the program's
	// discount: "… for 10% off every visit".
	SameDayText string
	Form        landingForm
	// Errors are every problem of a refused form, in the form's order;
	// FieldErrors the same by field, shown beside each field.
	Errors      []landingError
	FieldErrors map[string]string
	// Action is where the form posts: the page's own link, with the
	// channel and utm_* it came with, so a sign-up keeps them even when
	// the browser keeps no cookie.
	Action string
	Done   bool
	CSRF   string
}

func pageData(l referral.Landing) landingData {
	d := landingData{Landing: l, RefereeOffer: l.Offer.Referee.Describe("your first visit"),
		ReferrerOffer: l.Offer.Referrer.Describe("their next invoice"), Action: "/r/" + l.Code,
		SameDayText: "I'm happy to be serviced the same day as my neighbour"}
	if l.SyncDiscountBps > 0 {
		d.SameDayText += " for " + percentText(l.SyncDiscountBps) + "% off every visit"
	}
	return d
}

// landingSource is the channel and utm_* of a link (its query).
func landingSource(q url.Values) (string, referral.UTM) {
	return referral.LinkChannel(q.Get("ch")), referral.ParseUTM(q)
}

// formAction is the landing form's action: the page's link with the
// channel (unless a plain link) and utm_* it was opened with.
func formAction(code, channel string, utm referral.UTM) string {
	q := utm.Query()
	if channel != referral.ChannelLink {
		q = strings.TrimPrefix(q+"&ch="+url.QueryEscape(channel), "&")
	}
	if q == "" {
		return "/r/" + code
	}
	return "/r/" + code + "?" + q
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
	channel, utm := landingSource(c.QueryParams())
	id, err := p.referrals.RecordVisit(ctx, l, channel, utm, c.RealIP(), c.Request().UserAgent())
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
	d.Action = formAction(l.Code, channel, utm)
	d.CSRF = p.formToken(c, landingCookie, "/r/")
	return p.render(c, http.StatusOK, "landing", d)
}

// ticked reads a checkbox: sent (with any value but "0" or "false") means
// ticked; a box left unticked is not sent at all.
func ticked(c echo.Context, name string) bool {
	v := strings.ToLower(strings.TrimSpace(c.FormValue(name)))
	return v != "" && v != "0" && v != "false" && v != "off"
}

// submitReferral records the friend from the landing form, attributed to
// the link visit when the cookie is still within the attribution window;
// the referral takes that visit's channel and utm_* (or, without it, those
// of the link the form was opened from).
func (p *Pages) submitReferral(c echo.Context) error {
	ctx := c.Request().Context()
	l, err := p.referrals.Landing(ctx, c.Param("code"))
	if apperror.HasCode(err, apperror.CodeNotFound) {
		return p.notFound(c)
	}
	if err != nil {
		return err
	}
	f := landingForm{Name: c.FormValue("name"), Phone: c.FormValue("phone"), Email: c.FormValue("email"), Address: c.FormValue("address"),
		SameDay: ticked(c, "consent_same_day"), Marketing: ticked(c, "consent_marketing")}
	channel, utm := landingSource(c.QueryParams())
	var clickID *int64
	if ck, err := c.Cookie(visitCookie); err == nil {
		if v := p.referrals.AttributedVisit(ctx, l, ck.Value); v != nil {
			clickID, channel, utm = &v.ID, v.Channel, v.UTM
		}
	}
	data := pageData(l)
	data.Form, data.Action, data.CSRF = f, formAction(l.Code, channel, utm), p.formToken(c, landingCookie, "/r/")
	if !formTokenOK(c, landingCookie) {
		data.Errors = []landingError{{Message: "The form had expired. Please check your details and send it again."}}
		return p.render(c, http.StatusForbidden, "landing", data)
	}
	in := referral.Input{Channel: channel, ReferrerCode: l.Code, ClickID: clickID, UTM: utm,
		Referee: referral.RefereeInput{Name: f.Name, Phone: f.Phone, Email: f.Email, Address: f.Address,
			ConsentSameDay: f.SameDay, ConsentMarketing: f.Marketing}}
	_, _, err = p.referrals.Create(ctx, l.TenantID, "landing page", in)
	if ae, ok := apperror.As(err); ok && ae.Code == apperror.CodeValidation {
		data.Errors, data.FieldErrors = landingErrors(ae.Fields)
		return p.render(c, apperror.Status(ae.Code), "landing", data)
	}
	if err != nil {
		return err
	}
	data.Done = true
	return p.render(c, http.StatusOK, "landing", data)
}

// landingFields are the form's fields in order, with how a sentence names
// each.
var landingFields = []struct{ key, field, words string }{
	{"referee.name", "name", "your name"},
	{"referee.phone", "phone", "your phone number"},
	{"referee.email", "email", "your e-mail address"},
	{"referee.address", "address", "your address"},
}

// landingErrors turns the referral engine's field errors into sentences for
// the friend, every one of them, in the form's order.
func landingErrors(fields map[string]string) ([]landingError, map[string]string) {
	var list []landingError
	byField := map[string]string{}
	seen := map[string]bool{}
	for _, lf := range landingFields {
		msg, ok := fields[lf.key]
		if !ok {
			continue
		}
		seen[lf.key] = true
		var s string
		switch {
		case lf.field == "phone" && strings.HasPrefix(msg, "give the friend's phone or e-mail"):
			s = "Please give your phone number or your e-mail address, so we can reach you."
		case msg == "must not be empty":
			s = "Please fill in " + lf.words + "."
		case strings.HasPrefix(msg, "must "):
			s = upperFirst(lf.words) + " should " + strings.TrimPrefix(msg, "must ") + "."
		default:
			s = upperFirst(lf.words) + ": " + msg + "."
		}
		list = append(list, landingError{Field: lf.field, Message: s})
		byField[lf.field] = s
	}
	rest := make([]string, 0, len(fields))
	for k := range fields { // anything else (never expected from this form)
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		list = append(list, landingError{Message: "Something in the form was not right: " + fields[k] + "."})
	}
	return list, byField
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
