package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/tenant"
	"github.com/routeloop/routeloop/internal/user"
)

// Cookie and form names of sign-in.
const (
	sessionCookie = "rl_session"
	// loginCookie carries the sign-in form's CSRF token before there is a
	// session (double submit): a cross-site page cannot read it, so it
	// cannot post a sign-in into the attacker's account.
	loginCookie = "rl_login"
	// CSRFField is the hidden form field (or X-CSRF-Token header, for
	// scripts) every state-changing request from a page carries.
	CSRFField  = "csrf_token"
	csrfHeader = "X-CSRF-Token"
	staffKey   = "routeloop.staff"
)

// Staff returns the signed-in person of a request that passed RequireStaff.
func Staff(c echo.Context) (user.Principal, bool) {
	p, ok := c.Get(staffKey).(user.Principal)
	return p, ok
}

func isSafe(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

func tokensEqual(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// csrfOK checks a state-changing request's token against want.
func csrfOK(c echo.Context, want string) bool {
	got := c.Request().Header.Get(csrfHeader)
	if got == "" {
		got = c.FormValue(CSRFField)
	}
	return tokensEqual(got, want)
}

// signedIn resolves the session cookie, if any.
func (p *Pages) signedIn(c echo.Context) (user.Principal, string, bool, error) {
	ck, err := c.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return user.Principal{}, "", false, nil
	}
	pr, err := p.users.Session(c.Request().Context(), ck.Value)
	if errors.Is(err, user.ErrNoSession) {
		return user.Principal{}, ck.Value, false, nil
	}
	if err != nil {
		return user.Principal{}, "", false, err
	}
	return pr, ck.Value, true, nil
}

// RequireStaff guards staff pages: signed out → 303 to /login (coming back
// here afterwards); signed in with a role not in roles (none given: any
// staff role) → 403; a POST, PUT, PATCH or DELETE without the session's
// CSRF token → 403. Handlers find the person with Staff(c).
func (p *Pages) RequireStaff(roles ...string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			pr, _, ok, err := p.signedIn(c)
			if err != nil {
				return err
			}
			if !ok {
				target := "/login"
				if isSafe(c.Request().Method) {
					target += "?next=" + url.QueryEscape(c.Request().URL.RequestURI())
				}
				return c.Redirect(http.StatusSeeOther, target)
			}
			if len(roles) > 0 && !slices.Contains(roles, pr.Role) {
				return p.forbidden(c, pr, "Your login as "+roleInWords(pr.Role)+" can't open this page. Ask an administrator if you need it.")
			}
			if !isSafe(c.Request().Method) && !csrfOK(c, pr.CSRFToken) {
				return p.forbidden(c, pr, "This form was not sent from a current page. Go back, reload the page and try again.")
			}
			c.Set(staffKey, pr)
			return next(c)
		}
	}
}

type forbiddenData struct {
	Staff   user.Principal
	Message string
	// Home is the person's own page, the way on.
	Home string
}

func (p *Pages) forbidden(c echo.Context, pr user.Principal, msg string) error {
	return p.render(c, http.StatusForbidden, "forbidden", forbiddenData{Staff: pr, Message: msg, Home: home(pr.Role)})
}

// roleInWords is a role as people say it: "a dispatcher".
func roleInWords(role string) string {
	switch role {
	case tenant.RoleAdmin:
		return "an administrator"
	case tenant.RoleDispatcher:
		return "a dispatcher"
	case tenant.RoleCrew:
		return "a crew member"
	}
	return strings.ReplaceAll(role, "_", " ")
}

// home is where a role lands after signing in.
func home(role string) string {
	switch role {
	case tenant.RoleAdmin:
		return "/admin"
	case tenant.RoleDispatcher:
		return "/dispatch"
	}
	return "/crew/today"
}

// localPath accepts only a path on this site as where to go after signing
// in ("/dispatch?date=…"). Anything a browser could resolve to another
// origin is refused: a scheme or host ("https://evil.example"), a leading
// "//" or "/\" (also once decoded: "%2F%2Fevil", "/%09/evil"), and any
// whitespace, backslash or control character, which browsers strip or turn
// into "/" before resolving. Refused means "" (go to the default page).
func localPath(next string) string {
	if len(next) > 2048 || !strings.HasPrefix(next, "/") || unsafeInURL(next) {
		return ""
	}
	path, _, _ := strings.Cut(next, "?")
	path, _, _ = strings.Cut(path, "#")
	decoded, err := url.PathUnescape(path)
	if err != nil || unsafeInURL(decoded) || strings.HasPrefix(decoded, "//") {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return ""
	}
	// Resolved against the site, it must stay on the site.
	site := &url.URL{Scheme: "https", Host: "routeloop.invalid"}
	if r := site.ResolveReference(u); r.Scheme != site.Scheme || r.Host != site.Host {
		return ""
	}
	return next
}

// unsafeInURL reports a character browsers strip or reinterpret in a URL
// (whitespace, control characters, a backslash, which they read as "/"),
// or text that is not UTF-8.
func unsafeInURL(s string) bool {
	return !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool {
		return r == '\\' || unicode.IsSpace(r) || unicode.IsControl(r)
	})
}

type loginData struct {
	Email     string
	Next      string
	CSRF      string
	Error     string
	Companies []user.Company
}

// secure says the page came over https: TLS here, or X-Forwarded-Proto
// from a trusted proxy (the server's SchemeExtractor decides).
func (p *Pages) secure(c echo.Context) bool { return c.Scheme() == "https" }

// loginToken returns the sign-in form's CSRF token, setting its cookie when
// the browser has none yet.
func (p *Pages) loginToken(c echo.Context) string { return p.formToken(c, loginCookie, "/login") }

// formToken is the CSRF token of a form shown before anyone signs in (the
// sign-in form, the friend's landing form): a random value in a cookie
// limited to the form's path, which the form must send back (double
// submit). formTokenOK checks it.
func (p *Pages) formToken(c echo.Context, cookie, path string) string {
	if ck, err := c.Cookie(cookie); err == nil && len(ck.Value) >= 32 {
		return ck.Value
	}
	tok := newFormToken()
	c.SetCookie(&http.Cookie{Name: cookie, Value: tok, Path: path, HttpOnly: true, Secure: p.secure(c),
		SameSite: http.SameSiteStrictMode, MaxAge: int(time.Hour / time.Second)})
	return tok
}

func formTokenOK(c echo.Context, cookie string) bool {
	ck, err := c.Cookie(cookie)
	return err == nil && tokensEqual(c.FormValue(CSRFField), ck.Value)
}

func (p *Pages) renderLogin(c echo.Context, status int, d loginData) error {
	d.CSRF = p.loginToken(c)
	return p.render(c, status, "login", d)
}

// loginPage shows the sign-in form, or sends a signed-in person on.
func (p *Pages) loginPage(c echo.Context) error {
	next := localPath(c.QueryParam("next"))
	if pr, _, ok, err := p.signedIn(c); err != nil {
		return err
	} else if ok {
		return c.Redirect(http.StatusSeeOther, orDefault(next, home(pr.Role)))
	}
	return p.renderLogin(c, http.StatusOK, loginData{Next: next})
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// login signs in: e-mail and password, and the company when that e-mail
// and password open logins in several tenants.
func (p *Pages) login(c echo.Context) error {
	// tenant is sent only after the page asked which company (Companies).
	// Failures count against the e-mail and c.RealIP(): X-Forwarded-For is
	// believed only from trusted_proxies, so a client cannot dodge the
	// throttle by claiming a new address with every try.
	d := loginData{Email: strings.TrimSpace(c.FormValue("email")), Next: localPath(c.FormValue("next"))}
	if !formTokenOK(c, loginCookie) {
		d.Error = "The sign-in form had expired. Please try again."
		return p.renderLogin(c, http.StatusForbidden, d)
	}
	ctx := c.Request().Context()
	u, err := p.users.Login(ctx, d.Email, c.FormValue("password"), c.FormValue("tenant"), c.RealIP())
	var (
		throttled *user.Throttled
		choose    *user.ChooseCompany
	)
	switch {
	case errors.As(err, &throttled):
		secs := int(throttled.RetryAfter.Round(time.Second) / time.Second)
		c.Response().Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
		d.Error = "Too many failed sign-ins. Please wait " + minutes(throttled.RetryAfter) + " and try again."
		return p.renderLogin(c, http.StatusTooManyRequests, d)
	case errors.As(err, &choose):
		d.Companies = choose.Companies
		d.Error = "This login works for several companies. Choose one and enter your password again."
		return p.renderLogin(c, http.StatusOK, d)
	case errors.Is(err, user.ErrBadCredentials):
		d.Error = "The e-mail or password is not right. Check both and try again."
		return p.renderLogin(c, http.StatusUnauthorized, d)
	case errors.Is(err, user.ErrDisabled):
		d.Error = "This login has been switched off. Ask your administrator if you need it again."
		return p.renderLogin(c, http.StatusUnauthorized, d)
	case err != nil:
		return err
	}
	// A new token on every sign-in; the one the browser had (if any) ends.
	if ck, err := c.Cookie(sessionCookie); err == nil {
		if err := p.users.EndSession(ctx, ck.Value); err != nil {
			return err
		}
	}
	token, expires, err := p.users.StartSession(ctx, u)
	if err != nil {
		return err
	}
	c.SetCookie(p.newSessionCookie(c, token, expires))
	c.SetCookie(&http.Cookie{Name: loginCookie, Path: "/login", MaxAge: -1, HttpOnly: true, Secure: p.secure(c), SameSite: http.SameSiteStrictMode})
	return c.Redirect(http.StatusSeeOther, orDefault(d.Next, home(u.Role)))
}

func minutes(d time.Duration) string {
	m := int((d + time.Minute - 1) / time.Minute)
	if m <= 1 {
		return "a minute"
	}
	return strconv.Itoa(m) + " minutes"
}

// newSessionCookie is HttpOnly (scripts cannot read it), SameSite=Lax (other
// sites' forms do not carry it) and Secure when the page came over https.
func (p *Pages) newSessionCookie(c echo.Context, token string, expires time.Time) *http.Cookie {
	return &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true, Secure: p.secure(c),
		SameSite: http.SameSiteLaxMode, Expires: expires, MaxAge: int(user.SessionLifetime / time.Second)}
}

// newFormToken is 32 random bytes, URL-safe.
func newFormToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// logout ends the session (POST with the session's CSRF token).
func (p *Pages) logout(c echo.Context) error {
	pr, token, ok, err := p.signedIn(c)
	if err != nil {
		return err
	}
	if ok {
		if !csrfOK(c, pr.CSRFToken) {
			return p.forbidden(c, pr, "This form was not sent from a current page. Go back, reload the page and try again.")
		}
		if err := p.users.EndSession(c.Request().Context(), token); err != nil {
			return err
		}
	}
	c.SetCookie(&http.Cookie{Name: sessionCookie, Path: "/", MaxAge: -1, HttpOnly: true, Secure: p.secure(c), SameSite: http.SameSiteLaxMode})
	return c.Redirect(http.StatusSeeOther, "/login")
}
