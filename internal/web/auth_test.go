package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/apptest"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
	"github.com/routeloop/routeloop/internal/user"
	"github.com/routeloop/routeloop/internal/web"
)

const password = "correct horse battery"

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// formToken is the CSRF token of the first form on a page.
func formToken(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(rec.Body.String())
	if m == nil {
		t.Fatalf("no csrf_token on the page:\n%s", rec.Body.String())
	}
	return m[1]
}

func cookieNamed(rec *httptest.ResponseRecorder, name string) *http.Cookie {
	for _, c := range rec.Result().Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// loginForm opens /login and returns its cookie and form token.
func (x *site) loginForm() (*http.Cookie, string) {
	page := x.get("/login")
	ck := cookieNamed(page, "rl_login")
	if page.Code != 200 || ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
		x.t.Fatalf("login page %d, cookie %+v", page.Code, ck)
	}
	return ck, formToken(x.t, page)
}

// signIn posts the sign-in form and returns the response.
func (x *site) signIn(email, pw string, extra url.Values) *httptest.ResponseRecorder {
	ck, tok := x.loginForm()
	f := url.Values{"email": {email}, "password": {pw}, "csrf_token": {tok}}
	for k, v := range extra {
		f[k] = v
	}
	return x.post("/login", f, ck)
}

// session signs in and returns the session cookie.
func (x *site) session(email string) *http.Cookie {
	x.t.Helper()
	rec := x.signIn(email, password, nil)
	ck := cookieNamed(rec, "rl_session")
	if rec.Code != http.StatusSeeOther || ck == nil {
		x.t.Fatalf("sign in as %s: %d %s", email, rec.Code, rec.Body.String())
	}
	return ck
}

type staffSite struct {
	*site
	green, rival tenant.Tenant
}

func newStaffSite(t *testing.T, s *store.Store) *staffSite {
	x := &staffSite{site: newSite(t, s)}
	ctx := context.Background()
	x.green = apptest.Tenant(t, x.a.Tenants, tenant.NewTenant{Name: "Greenway <b>Lawn</b>", Timezone: "America/Los_Angeles", Currency: "USD"})
	x.rival = apptest.Tenant(t, x.a.Tenants, tenant.NewTenant{Name: "Rival", Timezone: "Europe/Berlin", Currency: "EUR"})
	lat, lon := 45.5, -122.6
	if _, _, err := x.a.Mirror.PutCrew(ctx, x.green.ID, "crew-a", mirror.CrewInput{Name: "A", DepotLat: &lat, DepotLon: &lon,
		Members: []mirror.MemberInput{{ExternalID: "m1", Name: "Marisol Vega"}}}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []user.NewUser{
		{Email: "admin@greenway.example", Role: "admin"},
		{Email: "dispatcher@greenway.example", Role: "dispatcher"},
		{Email: "marisol@greenway.example", Role: "crew", CrewMember: "m1"},
	} {
		n.Password = password
		if _, _, err := x.a.Users.Create(ctx, x.green.ID, n); err != nil {
			t.Fatal(err)
		}
	}
	return x
}

func TestSignInAndOut(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newStaffSite(t, s)

		// Signed out, a staff page sends you to sign in and back.
		rec := x.get("/dispatch?date=2026-05-01")
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/login?next="+url.QueryEscape("/dispatch?date=2026-05-01") {
			t.Fatalf("signed out: %d %q", rec.Code, rec.Header().Get("Location"))
		}
		login := x.get(rec.Header().Get("Location"))
		if login.Code != 200 || !strings.Contains(login.Body.String(), `name="next" value="/dispatch?date=2026-05-01"`) {
			t.Fatalf("login page keeps next: %d\n%s", login.Code, login.Body.String())
		}

		// The wrong password: 401, the form again, no session; the words
		// are people's, without the code behind them.
		bad := x.signIn("dispatcher@greenway.example", "wrong password!", nil)
		if bad.Code != http.StatusUnauthorized || cookieNamed(bad, "rl_session") != nil || !strings.Contains(bad.Body.String(), `value="dispatcher@greenway.example"`) {
			t.Fatalf("wrong password: %d\n%s", bad.Code, bad.Body.String())
		}
		if said := parseDOM(t, bad.Body.String()).one("p.error").text(); said != "The e-mail or password is not right. Check both and try again." {
			t.Fatalf("wrong password says %q", said)
		}
		if strings.Contains(bad.Body.String(), "unauthorized") {
			t.Fatalf("the sign-in page shows the error code")
		}
		if n := storetest.Count(t, s.DB, "sessions"); n != 0 {
			t.Fatalf("%d sessions after a failed sign-in", n)
		}

		// The right one: a session cookie, and on to where you were going.
		ok := x.signIn("Dispatcher@Greenway.example", password, url.Values{"next": {"/dispatch?date=2026-05-01"}})
		ck := cookieNamed(ok, "rl_session")
		if ok.Code != http.StatusSeeOther || ok.Header().Get("Location") != "/dispatch?date=2026-05-01" || ck == nil {
			t.Fatalf("sign in: %d %q", ok.Code, ok.Header().Get("Location"))
		}
		if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Secure || ck.Path != "/" || ck.MaxAge != 12*3600 || len(ck.Value) < 40 {
			t.Fatalf("session cookie %+v", ck)
		}
		if cleared := cookieNamed(ok, "rl_login"); cleared == nil || cleared.MaxAge >= 0 {
			t.Fatalf("login cookie not cleared: %+v", cleared)
		}
		page := x.get("/dispatch", ck)
		body := page.Body.String()
		if page.Code != 200 || !strings.Contains(body, "dispatcher@greenway.example") || !strings.Contains(body, "Greenway &lt;b&gt;Lawn&lt;/b&gt;") {
			t.Fatalf("dispatch: %d\n%s", page.Code, body)
		}
		if page.Header().Get("Cache-Control") != "no-store" {
			t.Fatal("a staff page may be cached")
		}
		// Signed in, /login sends you on.
		if again := x.get("/login", ck); again.Code != http.StatusSeeOther || again.Header().Get("Location") != "/dispatch" {
			t.Fatalf("login while signed in: %d %q", again.Code, again.Header().Get("Location"))
		}

		// Sign out needs the page's token; then the cookie opens nothing.
		if out := x.post("/logout", url.Values{}, ck); out.Code != http.StatusForbidden {
			t.Fatalf("logout without token: %d", out.Code)
		}
		if still := x.get("/dispatch", ck); still.Code != 200 {
			t.Fatalf("session ended by a refused logout: %d", still.Code)
		}
		out := x.post("/logout", url.Values{"csrf_token": {formToken(t, page)}}, ck)
		if out.Code != http.StatusSeeOther || out.Header().Get("Location") != "/login" {
			t.Fatalf("logout: %d %q", out.Code, out.Header().Get("Location"))
		}
		if cl := cookieNamed(out, "rl_session"); cl == nil || cl.MaxAge >= 0 {
			t.Fatalf("logout left the cookie: %+v", cl)
		}
		if after := x.get("/dispatch", ck); after.Code != http.StatusSeeOther {
			t.Fatalf("old cookie after logout: %d", after.Code)
		}
		var revoked int64
		s.DB.Raw(`SELECT COUNT(*) FROM sessions WHERE revoked_at IS NOT NULL`).Scan(&revoked)
		if revoked != 1 {
			t.Fatalf("%d revoked sessions", revoked)
		}
		// Signed out, logging out again just goes to /login.
		if again := x.post("/logout", url.Values{}); again.Code != http.StatusSeeOther {
			t.Fatalf("logout signed out: %d", again.Code)
		}
	})
}

func TestSignInDetails(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newStaffSite(t, s)
		ctx := context.Background()

		// The sign-in form itself needs its token (login CSRF).
		ck, tok := x.loginForm()
		f := url.Values{"email": {"dispatcher@greenway.example"}, "password": {password}}
		if rec := x.post("/login", f); rec.Code != http.StatusForbidden || cookieNamed(rec, "rl_session") != nil {
			t.Fatalf("sign-in without token: %d", rec.Code)
		}
		f.Set("csrf_token", "forged")
		if rec := x.post("/login", f, ck); rec.Code != http.StatusForbidden {
			t.Fatalf("sign-in with a wrong token: %d", rec.Code)
		}
		f.Set("csrf_token", tok)
		if rec := x.post("/login", f, ck); rec.Code != http.StatusSeeOther {
			t.Fatalf("sign-in with the token: %d", rec.Code)
		}

		// Over https the cookie is Secure; X-Forwarded-Proto from a peer
		// not in trusted_proxies (none by default) is not believed.
		ck, tok = x.loginForm()
		req := httptest.NewRequest("POST", "/login", strings.NewReader(url.Values{"email": {"admin@greenway.example"},
			"password": {password}, "csrf_token": {tok}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-Proto", "https")
		req.RemoteAddr = "10.0.0.5:41000"
		req.AddCookie(ck)
		rec := httptest.NewRecorder()
		x.a.HTTP.ServeHTTP(rec, req)
		if sc := cookieNamed(rec, "rl_session"); rec.Code != http.StatusSeeOther || sc == nil || sc.Secure || rec.Header().Get("Location") != "/admin" {
			t.Fatalf("sign-in from an untrusted peer saying https: %d %+v", rec.Code, sc)
		}

		// Only local paths are followed after signing in.
		for _, next := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example"} {
			if rec := x.signIn("dispatcher@greenway.example", password, url.Values{"next": {next}}); rec.Header().Get("Location") != "/dispatch" {
				t.Errorf("next %q went to %q", next, rec.Header().Get("Location"))
			}
		}

		// A crew login lands on its day and is its crew member.
		crew := x.session("marisol@greenway.example")
		if today := x.get("/crew/today", crew); today.Code != 200 || !strings.Contains(today.Body.String(), "Marisol Vega") {
			t.Fatalf("crew today: %d", today.Code)
		}

		// The same e-mail and password in two companies: choose one.
		if _, _, err := x.a.Users.Create(ctx, x.rival.ID, user.NewUser{Email: "dispatcher@greenway.example", Role: "admin", Password: password}); err != nil {
			t.Fatal(err)
		}
		choose := x.signIn("dispatcher@greenway.example", password, nil)
		body := choose.Body.String()
		if choose.Code != 200 || !strings.Contains(body, `name="tenant" value="`+x.rival.ID+`"`) || !strings.Contains(body, "Rival") ||
			cookieNamed(choose, "rl_session") != nil || strings.Contains(body, password) {
			t.Fatalf("choose company: %d\n%s", choose.Code, body)
		}
		if rec := x.signIn("dispatcher@greenway.example", password, url.Values{"tenant": {x.rival.ID}}); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/admin" {
			t.Fatalf("chosen company: %d %q", rec.Code, rec.Header().Get("Location"))
		}

		// A disabled user cannot sign in, and their open session ends.
		sess := x.session("marisol@greenway.example")
		if err := x.a.Users.Disable(ctx, x.green.ID, "marisol@greenway.example"); err != nil {
			t.Fatal(err)
		}
		if rec := x.signIn("marisol@greenway.example", password, nil); rec.Code != http.StatusUnauthorized ||
			!strings.Contains(rec.Body.String(), "This login has been switched off. Ask your administrator") || cookieNamed(rec, "rl_session") != nil {
			t.Fatalf("disabled sign-in: %d", rec.Code)
		}
		if rec := x.get("/crew/today", sess); rec.Code != http.StatusSeeOther {
			t.Fatalf("disabled user's session: %d", rec.Code)
		}
	})
}

func TestSignInIsRateLimited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newStaffSite(t, s)
		for i := range 5 {
			// A made-up X-Forwarded-For from a public address changes nothing.
			ck, tok := x.loginForm()
			req := httptest.NewRequest("POST", "/login", strings.NewReader(url.Values{"email": {"admin@greenway.example"},
				"password": {"guess number " + string(rune('a'+i))}, "csrf_token": {tok}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Forwarded-For", "203.0.113."+string(rune('1'+i)))
			req.AddCookie(ck)
			rec := httptest.NewRecorder()
			x.a.HTTP.ServeHTTP(rec, req)
			if rec.Code != http.StatusUnauthorized {
				t.Fatalf("failure %d: %d", i+1, rec.Code)
			}
		}
		// The sixth try is refused, even with the right password.
		rec := x.signIn("admin@greenway.example", password, nil)
		if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "900" ||
			!strings.Contains(rec.Body.String(), "Too many failed sign-ins") || cookieNamed(rec, "rl_session") != nil {
			t.Fatalf("sixth try: %d %q\n%s", rec.Code, rec.Header().Get("Retry-After"), rec.Body.String())
		}
		// Others are not held back.
		x.session("dispatcher@greenway.example")
		// A quarter of an hour later it may try again.
		x.clock.Advance(15 * 60 * 1e9)
		x.session("admin@greenway.example")
	})
}

func TestStaffPagesByRole(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newStaffSite(t, s)
		sessions := map[string]*http.Cookie{
			"admin":      x.session("admin@greenway.example"),
			"dispatcher": x.session("dispatcher@greenway.example"),
			"crew":       x.session("marisol@greenway.example"),
		}
		want := map[string]map[string]int{
			"/admin":      {"admin": 200, "dispatcher": 403, "crew": 403},
			"/dispatch":   {"admin": 200, "dispatcher": 200, "crew": 403},
			"/crew/today": {"admin": 200, "dispatcher": 200, "crew": 200},
		}
		for path, byRole := range want {
			for role, code := range byRole {
				rec := x.get(path, sessions[role])
				if rec.Code != code {
					t.Errorf("%s as %s: %d, want %d", path, role, rec.Code, code)
				}
				if code == 403 && !strings.Contains(rec.Body.String(), "open this page") {
					t.Errorf("%s as %s: %s", path, role, rec.Body.String())
				}
			}
			if rec := x.get(path); rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/login?next=") {
				t.Errorf("%s signed out: %d %q", path, rec.Code, rec.Header().Get("Location"))
			}
			if rec := x.get(path, &http.Cookie{Name: "rl_session", Value: "made-up"}); rec.Code != http.StatusSeeOther {
				t.Errorf("%s with a made-up session: %d", path, rec.Code)
			}
		}
	})
}

// Every state-changing form behind RequireStaff needs the session's token.
func TestStaffFormsNeedTheCSRFToken(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newStaffSite(t, s)
		pages := web.New(web.Deps{Referrals: x.a.Referrals, Users: x.a.Users})
		x.a.HTTP.POST("/test/book", func(c echo.Context) error {
			p, _ := web.Staff(c)
			return c.String(http.StatusOK, "booked by "+p.Email+" for "+c.FormValue("visit"))
		}, pages.RequireStaff(tenant.RoleDispatcher))

		ck := x.session("dispatcher@greenway.example")
		token := formToken(t, x.get("/dispatch", ck))
		other := formToken(t, x.get("/admin", x.session("admin@greenway.example")))

		if rec := x.post("/test/book", url.Values{"visit": {"v1"}}, ck); rec.Code != http.StatusForbidden ||
			!strings.Contains(rec.Body.String(), "not sent from a current page") {
			t.Fatalf("without token: %d %s", rec.Code, rec.Body.String())
		}
		for _, bad := range []string{"wrong", other} {
			if rec := x.post("/test/book", url.Values{"visit": {"v1"}, "csrf_token": {bad}}, ck); rec.Code != http.StatusForbidden {
				t.Fatalf("token %q: %d", bad, rec.Code)
			}
		}
		if rec := x.post("/test/book", url.Values{"visit": {"v1"}, "csrf_token": {token}}, ck); rec.Code != 200 || rec.Body.String() != "booked by dispatcher@greenway.example for v1" {
			t.Fatalf("with token: %d %s", rec.Code, rec.Body.String())
		}
		// Scripts may send it as a header.
		req := httptest.NewRequest("POST", "/test/book", strings.NewReader("visit=v2"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-CSRF-Token", token)
		req.AddCookie(ck)
		rec := httptest.NewRecorder()
		x.a.HTTP.ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Fatalf("header token: %d", rec.Code)
		}
		// Signed out, a form post goes to sign in (without coming back to a POST).
		if rec := x.post("/test/book", url.Values{"csrf_token": {token}}); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/login" {
			t.Fatalf("signed-out post: %d %q", rec.Code, rec.Header().Get("Location"))
		}
	})
}

// Error pages say what happened and what to do, in words, with a link on:
// back where the person came from, or to their own page; a page handler's
// error is such a page, never the API's JSON.
func TestErrorPagesSayWhatHappenedAndWhereToGo(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newStaffSite(t, s)
		x.a.HTTP.GET("/test/refused", func(c echo.Context) error { return apperror.Invalid("date", "must be a date") },
			web.New(web.Deps{Referrals: x.a.Referrals, Users: x.a.Users}).RequireStaff())
		x.a.HTTP.GET("/test/failed", func(c echo.Context) error { return errors.New("disk on fire") })
		x.a.HTTP.GET("/test/clash", func(c echo.Context) error { return apperror.Conflict("that visit is already booked") })
		ck := x.session("dispatcher@greenway.example")

		page := func(what string, rec *httptest.ResponseRecorder, status int) dom {
			t.Helper()
			if rec.Code != status || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
				t.Fatalf("%s: %d %q\n%s", what, rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
			}
			for _, technical := range []string{"Method Not Allowed", "invalid fields", "validation_failed", "disk on fire", "openapi", `{"error"`} {
				if strings.Contains(rec.Body.String(), technical) {
					t.Errorf("%s shows %q", what, technical)
				}
			}
			return parseDOM(t, rec.Body.String())
		}
		next := func(what string, d dom, href, words string) {
			t.Helper()
			a := d.one("a.next")
			if a.attr("href") != href || a.text() != words {
				t.Errorf("%s leads to %q %q, want %q %q", what, a.attr("href"), a.text(), href, words)
			}
		}

		d := page("unknown page", x.get("/nowhere", ck), 404)
		if d.one("h1").text() != "Page not found" || !strings.Contains(d.all("main p")[0].text(), "There is no page at this address") {
			t.Errorf("404 says %q", d.text())
		}
		next("unknown page", d, "/", "Go to your start page")
		// Coming from a page of this site, back to it; from elsewhere, not.
		for referer, back := range map[string]string{"http://example.com/dispatch?date=2026-05-01": "/dispatch?date=2026-05-01", "https://evil.example/x": "/"} {
			rec := x.do("GET", "/nowhere", map[string]string{"Referer": referer}, ck)
			d := page("unknown page from "+referer, rec, 404)
			if a := d.one("a.next"); a.attr("href") != back {
				t.Errorf("from %s, back to %q, want %q", referer, a.attr("href"), back)
			}
		}
		d = page("wrong method", x.do("PUT", "/login", nil), 405)
		if !strings.Contains(d.text(), "This address can't be used that way") {
			t.Errorf("405 says %q", d.text())
		}
		d = page("a page's refusal", x.get("/test/refused", ck), 422)
		if !strings.Contains(d.text(), "Go back, check it and try again") {
			t.Errorf("422 says %q", d.text())
		}
		d = page("a page's conflict", x.get("/test/clash", ck), 409)
		if got := d.all("main p")[0].text(); got != "That visit is already booked." {
			t.Errorf("409 says %q", got)
		}
		d = page("a page's failure", x.get("/test/failed", ck), 500)
		if d.one("h1").text() != "Something went wrong" || !strings.Contains(d.text(), "it has been logged") {
			t.Errorf("500 says %q", d.text())
		}
		// A friend's page errs back to itself, never to the staff's sign-in.
		d = page("a friend's page", x.do("PUT", "/r/K7PM-4QXT", nil), 405)
		next("a friend's page", d, "/r/K7PM-4QXT", "Back to the page")

		// Not allowed: why, and the way to the person's own page.
		d = page("crew on /dispatch", x.get("/dispatch", x.session("marisol@greenway.example")), 403)
		if !strings.Contains(d.text(), "Your login as a crew member can't open this page") {
			t.Errorf("403 says %q", d.text())
		}
		next("crew on /dispatch", d, "/crew/today", "Go to your own page")

		// An unknown referral link asks for the code on the card.
		d = page("unknown referral link", x.get("/r/ZZZZ-ZZZZ"), 404)
		if f := d.one("form[action=/r]"); f.attr("method") != "get" || !f.has("input[name=code]") {
			t.Fatalf("no code form on the not-found page")
		}
		code := x.customer(x.green.ID, "angie", "Angie Baker")
		typed := strings.ToLower(strings.ReplaceAll(code, "-", " "))
		if rec := x.get("/r?code=" + url.QueryEscape(typed)); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/r/"+code {
			t.Fatalf("typed code %q: %d %q", typed, rec.Code, rec.Header().Get("Location"))
		}
		d = page("a typed non-code", x.get("/r?code=hello+there"), 404)
		if !strings.Contains(d.one("p.error").text(), "“hello there” is not a referral code") || d.one("input[name=code]").attr("value") != "hello there" {
			t.Errorf("a typed non-code: %q", d.text())
		}
	})
}
