package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/app"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/config"
	"github.com/routeloop/routeloop/internal/scheduling"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

type site struct {
	t     *testing.T
	a     *app.App
	s     *store.Store
	clock *clock.Fixed
}

func newSite(t *testing.T, s *store.Store) *site {
	c := clock.NewFixed(time.Date(2026, 5, 1, 16, 0, 0, 0, time.UTC))
	return &site{t: t, a: app.Wire(config.Defaults(), s, c, slog.New(slog.DiscardHandler)), s: s, clock: c}
}

// customer creates a tenant's customer and returns their referral code.
func (x *site) customer(tenantID, id, name string) string {
	c, _, err := x.a.Mirror.PutCustomer(context.Background(), tenantID, id, scheduling.CustomerInput{Name: name})
	if err != nil {
		x.t.Fatal(err)
	}
	return c.ReferralCode
}

func (x *site) get(path string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", path, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	x.a.HTTP.ServeHTTP(rec, req)
	return rec
}

func (x *site) post(path string, form url.Values, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	x.a.HTTP.ServeHTTP(rec, req)
	return rec
}

func TestTheFriendsLandingPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newSite(t, s)
		ctx := context.Background()
		green, _, _ := x.a.Tenants.Create(ctx, tenant.NewTenant{Name: "Greenway Lawn", Timezone: "America/Los_Angeles", Currency: "USD"})
		rival, _, _ := x.a.Tenants.Create(ctx, tenant.NewTenant{Name: "Rival", Timezone: "Europe/Berlin", Currency: "EUR"})
		code := x.customer(green.ID, "angie", "Angie Baker")
		other := x.customer(green.ID, "mallory", "<script>alert(1)</script> Mallory")

		page := x.get("/r/" + strings.ToLower(code) + "?ch=sms")
		body := page.Body.String()
		if page.Code != 200 || !strings.Contains(body, "Angie invited you") || !strings.Contains(body, "10% off your first visit") ||
			!strings.Contains(body, "Greenway Lawn") || strings.Contains(body, "Baker") {
			t.Fatalf("landing page %d:\n%s", page.Code, body)
		}
		cookies := page.Result().Cookies()
		var visit, form *http.Cookie
		for _, ck := range cookies {
			switch ck.Name {
			case "rl_ref":
				visit = ck
			case "rl_form":
				form = ck
			}
		}
		if visit == nil || !visit.HttpOnly || visit.SameSite != http.SameSiteLaxMode || form == nil || !strings.Contains(body, form.Value) {
			t.Fatalf("cookies %+v", cookies)
		}
		// The form's CSRF token goes back with every post.
		withToken := func(v url.Values) url.Values { v.Set("csrf_token", form.Value); return v }
		if forged := x.post("/r/"+code, url.Values{"name": {"Mallory"}, "phone": {"503 555 0666"}}, cookies...); forged.Code != 403 {
			t.Fatalf("a post without the form's token: %d", forged.Code)
		}
		var ch string
		s.DB.Raw(`SELECT channel FROM referral_clicks`).Scan(&ch)
		if ch != "sms" {
			t.Fatalf("visit channel %q", ch)
		}
		if hostile := x.get("/r/" + other).Body.String(); strings.Contains(hostile, "<script>alert") {
			t.Fatal("a hostile name was not escaped")
		}
		if nf := x.get("/r/ZZZZ-ZZZZ"); nf.Code != 404 || !strings.Contains(nf.Body.String(), "couldn't find that invitation") {
			t.Fatalf("unknown code: %d", nf.Code)
		}

		// An empty form is refused and stores nothing.
		bad := x.post("/r/"+code, withToken(url.Values{"name": {""}}), cookies...)
		if bad.Code != 422 || !strings.Contains(bad.Body.String(), "Please check") {
			t.Fatalf("empty form: %d", bad.Code)
		}
		if n := storetest.Count(t, s.DB, "referrals"); n != 0 {
			t.Fatalf("%d referrals from a refused form", n)
		}
		ok := x.post("/r/"+code, withToken(url.Values{"name": {"Ben Ortiz"}, "phone": {"(503) 555-0199"}}), cookies...)
		if ok.Code != 200 || !strings.Contains(ok.Body.String(), "Thank you") {
			t.Fatalf("form: %d %s", ok.Code, ok.Body.String())
		}
		var r struct {
			TenantID string
			Channel  string
			ClickID  *int64
		}
		s.DB.Raw(`SELECT tenant_id, channel, click_id FROM referrals`).Scan(&r)
		if r.TenantID != green.ID || r.Channel != "link" || r.ClickID == nil {
			t.Fatalf("referral %+v", r)
		}
		if n := storetest.Count(t, s.DB.Where("tenant_id = ?", rival.ID), "referrals"); n != 0 {
			t.Fatal("a Greenway code made a referral for Rival")
		}
		// Another referrer's cookie, or one past the attribution window, attributes no visit.
		x.post("/r/"+other, withToken(url.Values{"name": {"Cleo"}, "phone": {"503 555 0111"}}), cookies...)
		x.clock.Advance(61 * 24 * time.Hour)
		x.post("/r/"+code, withToken(url.Values{"name": {"Dot"}, "phone": {"503 555 0112"}}), cookies...)
		if n := storetest.Count(t, s.DB.Where("click_id IS NOT NULL"), "referrals"); n != 1 {
			t.Fatalf("%d referrals attributed to a visit, want only Ben's", n)
		}
	})
}
