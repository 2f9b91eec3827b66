package web_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
)

// After signing in, next= is followed only to a path on this site; anything
// a browser could resolve to another origin lands on the person's home page.
func TestSignInFollowsOnlyLocalPaths(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newStaffSite(t, s)
		sess := x.session("dispatcher@greenway.example")
		cases := map[string]string{
			"/ok?x=1":                    "/ok?x=1",
			"/dispatch?date=2026-05-01":  "/dispatch?date=2026-05-01",
			"/admin#referrals":           "/admin#referrals",
			"/cards?q=a%20b":             "/cards?q=a%20b",
			"//evil":                     "/dispatch",
			"//evil.example/x":           "/dispatch",
			"/\\evil":                    "/dispatch",
			"/%09/evil":                  "/dispatch",
			"/\t/evil.example":           "/dispatch",
			"/\n/evil":                   "/dispatch",
			"/ /evil":                    "/dispatch",
			"/%2F/evil":                  "/dispatch",
			"/%2f%2fevil":                "/dispatch",
			"/%5Cevil":                   "/dispatch",
			"%2F%2Fevil":                 "/dispatch",
			"https://evil":               "/dispatch",
			"http:evil":                  "/dispatch",
			"javascript:alert(1)":        "/dispatch",
			"evil.example":               "/dispatch",
			"":                           "/dispatch",
			"/\u00a0/evil":               "/dispatch",
			"/x\x00":                     "/dispatch",
			"/x\xff":                     "/dispatch",
			"/%E2%80%A8/evil":            "/dispatch",
			"///evil":                    "/dispatch",
			"/\\/evil":                   "/dispatch",
			"https://routeloop.invalid/": "/dispatch",
		}
		for next, want := range cases {
			rec := x.get("/login?next="+url.QueryEscape(next), sess)
			if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != want {
				t.Errorf("signed in, next=%q: %d %q, want %q", next, rec.Code, rec.Header().Get("Location"), want)
			}
		}
		// The sign-in form itself: the payload of the report.
		for next, want := range map[string]string{"/%09/evil.example": "/dispatch", "/\t/evil.example": "/dispatch", "/ok?x=1": "/ok?x=1"} {
			rec := x.signIn("dispatcher@greenway.example", password, url.Values{"next": {next}})
			if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != want {
				t.Errorf("sign in, next=%q: %d %q, want %q", next, rec.Code, rec.Header().Get("Location"), want)
			}
		}
	})
}

// GET / opens the signed-in person's own page, and the sign-in for anyone
// else.
func TestTheStartPageIsThePersonsOwn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newStaffSite(t, s)
		for email, want := range map[string]string{
			"admin@greenway.example":      "/admin",
			"dispatcher@greenway.example": "/dispatch",
			"marisol@greenway.example":    "/crew/today",
		} {
			rec := x.get("/", x.session(email))
			if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != want {
				t.Errorf("%s at /: %d %q, want %q", email, rec.Code, rec.Header().Get("Location"), want)
			}
			if page := x.get(want, x.session(email)); page.Code != http.StatusOK {
				t.Errorf("%s's own page %s: %d", email, want, page.Code)
			}
		}
		for what, cookies := range map[string][]*http.Cookie{"signed out": nil, "a made-up session": {{Name: "rl_session", Value: "made-up"}}} {
			if rec := x.get("/", cookies...); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/login" {
				t.Errorf("%s at /: %d %q", what, rec.Code, rec.Header().Get("Location"))
			}
		}
	})
}
