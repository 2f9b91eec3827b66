package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/app"
	"github.com/routeloop/routeloop/internal/apptest"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/program"
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
	return &site{t: t, a: apptest.Wire(s, c), s: s, clock: c}
}

// customer creates a tenant's customer and returns their referral code.
func (x *site) customer(tenantID, id, name string) string {
	c, _, err := x.a.Mirror.PutCustomer(context.Background(), tenantID, id, mirror.CustomerInput{Name: name})
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
		green := apptest.Tenant(t, x.a.Tenants, tenant.NewTenant{Name: "Greenway Lawn", Timezone: "America/Los_Angeles", Currency: "USD"})
		rival := apptest.Tenant(t, x.a.Tenants, tenant.NewTenant{Name: "Rival", Timezone: "Europe/Berlin", Currency: "EUR"})
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
		if r.TenantID != green.ID || r.Channel != "sms" || r.ClickID == nil { // the visit's ?ch=sms
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

// landingCookies opens a landing link and answers its cookies and the
// form's CSRF token.
func (x *site) landingCookies(path string) ([]*http.Cookie, string, string) {
	x.t.Helper()
	page := x.get(path)
	if page.Code != 200 {
		x.t.Fatalf("%s: %d", path, page.Code)
	}
	var token string
	for _, ck := range page.Result().Cookies() {
		if ck.Name == "rl_form" {
			token = ck.Value
		}
	}
	return page.Result().Cookies(), token, page.Body.String()
}

func TestTheLandingFormAsksForBothConsentsAndKeepsWhatWasTyped(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newSite(t, s)
		ctx := context.Background()
		green := apptest.Tenant(t, x.a.Tenants, tenant.NewTenant{Name: "Greenway Lawn", Timezone: "America/Los_Angeles", Currency: "USD"})
		code := x.customer(green.ID, "angie", "Angie Baker")
		cookies, token, body := x.landingCookies("/r/" + code)
		// The same-day wording carries the program's discount (default 10%);
		// neither box is ticked until the friend ticks it.
		if !strings.Contains(body, "I&#39;m happy to be serviced the same day as my neighbour for 10% off every visit") ||
			!strings.Contains(body, `name="consent_same_day"`) || !strings.Contains(body, `name="consent_marketing"`) ||
			strings.Contains(body, "checked") {
			t.Fatalf("landing form:\n%s", body)
		}
		// Every problem at once, in people's words, with what was typed
		// and ticked kept.
		bad := x.post("/r/"+code, url.Values{"csrf_token": {token}, "name": {""}, "phone": {"call me maybe"},
			"email": {"not-an-email"}, "address": {"14 <Maple> St"}, "consent_same_day": {"1"}, "consent_marketing": {"1"}}, cookies...)
		page := bad.Body.String()
		for _, want := range []string{"Please check 3 things", "Please fill in your name.", "Your phone number should be a phone number",
			"Your e-mail address should be an e-mail address", `value="call me maybe"`, `value="not-an-email"`, `value="14 &lt;Maple&gt; St"`,
			`name="consent_same_day" value="1" checked`, `name="consent_marketing" value="1" checked`, `aria-invalid="true"`} {
			if !strings.Contains(page, want) {
				t.Errorf("the refused form lacks %q", want)
			}
		}
		if bad.Code != 422 || strings.Contains(page, "referee.") || strings.Contains(page, "the friend") {
			t.Fatalf("refused form %d:\n%s", bad.Code, page)
		}
		// No way to reach the friend: said so, the ticks kept.
		none := x.post("/r/"+code, url.Values{"csrf_token": {token}, "name": {"Ben"}, "consent_marketing": {"1"}}, cookies...).Body.String()
		if !strings.Contains(none, "Please give your phone number or your e-mail address, so we can reach you.") ||
			!strings.Contains(none, `name="consent_marketing" value="1" checked`) || strings.Contains(none, `name="consent_same_day" value="1" checked`) {
			t.Fatalf("form without contact:\n%s", none)
		}
		if n := storetest.Count(t, s.DB, "referrals"); n != 0 {
			t.Fatalf("%d referrals from refused forms", n)
		}
		// An expired form says so in words and keeps the ticks too.
		expired := x.post("/r/"+code, url.Values{"csrf_token": {"stale"}, "name": {"Ben"}, "consent_same_day": {"1"}}, cookies...)
		if expired.Code != 403 || !strings.Contains(expired.Body.String(), "The form had expired") ||
			!strings.Contains(expired.Body.String(), `name="consent_same_day" value="1" checked`) {
			t.Fatalf("expired form %d", expired.Code)
		}
		// Ticked: both stored on the referral.
		ok := x.post("/r/"+code, url.Values{"csrf_token": {token}, "name": {"Ben Ortiz"}, "phone": {"(503) 555-0199"},
			"consent_same_day": {"1"}}, cookies...)
		if ok.Code != 200 || !strings.Contains(ok.Body.String(), "Thank you") {
			t.Fatalf("form %d", ok.Code)
		}
		var r struct{ ConsentSameDay, ConsentMarketing bool }
		s.DB.Raw(`SELECT consent_same_day, consent_marketing FROM referrals`).Scan(&r)
		if !r.ConsentSameDay || r.ConsentMarketing {
			t.Fatalf("stored consents %+v", r)
		}
		// Another program's discount changes the wording; none leaves it out.
		for bps, want := range map[int]string{1250: "for 12.5% off every visit", 0: "same day as my neighbour</span>"} {
			if _, err := x.a.Neighbors.UpdateProgram(ctx, green.ID, program.Input{SyncDiscountBps: &bps}); err != nil {
				t.Fatal(err)
			}
			if _, _, body := x.landingCookies("/r/" + code); !strings.Contains(body, want) {
				t.Errorf("discount %d bps: the form lacks %q", bps, want)
			}
		}
	})
}

func TestTheLandingLinksChannelAndUTMReachTheReferral(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newSite(t, s)
		green := apptest.Tenant(t, x.a.Tenants, tenant.NewTenant{Name: "Greenway Lawn", Timezone: "America/Los_Angeles", Currency: "USD"})
		code := x.customer(green.ID, "angie", "Angie Baker")
		long := strings.Repeat("z", 300)
		type row struct {
			Channel string
			UTM     string
		}
		cases := []struct {
			query, channel, utm string
		}{
			{"?ch=invoice&utm_source=newsletter&utm_campaign=" + long + "&utm_medium=%1B%5B31m&utm_x=1&gclid=abc", "invoice",
				`{"utm_campaign":"` + strings.Repeat("z", 100) + `","utm_source":"newsletter"}`},
			{"?ch=crew", "crew", ""},
			{"?ch=social&utm_content=reel", "social", `{"utm_content":"reel"}`},
			{"?ch=crew_pitch", "link", ""}, // not a link channel
			{"?ch=%3Cscript%3E", "link", ""},
			{"", "link", ""},
		}
		for i, c := range cases {
			cookies, token, body := x.landingCookies("/r/" + code + c.query)
			var click row
			s.DB.Raw(`SELECT channel, utm FROM referral_clicks ORDER BY id DESC LIMIT 1`).Scan(&click)
			if click.Channel != c.channel || click.UTM != c.utm {
				t.Errorf("%q: click %+v, want %s %s", c.query, click, c.channel, c.utm)
			}
			if strings.Contains(body, "gclid") || strings.Contains(body, "<script>") {
				t.Errorf("%q: the page repeats what it should ignore", c.query)
			}
			phone := fmt.Sprintf("+1 503 555 01%02d", 10+i)
			if res := x.post("/r/"+code, url.Values{"csrf_token": {token}, "name": {"Friend"}, "phone": {phone}}, cookies...); res.Code != 200 {
				t.Fatalf("%q: %d", c.query, res.Code)
			}
			var ref row
			s.DB.Raw(`SELECT channel, utm FROM referrals ORDER BY id DESC LIMIT 1`).Scan(&ref)
			if ref != click {
				t.Errorf("%q: the referral has %+v, its visit %+v", c.query, ref, click)
			}
		}
		// Without the visit's cookie, the form's own link still carries them.
		_, token, body := x.landingCookies("/r/" + code + "?ch=email&utm_source=spring")
		if !strings.Contains(body, `action="/r/`+code+`?utm_source=spring&amp;ch=email"`) {
			t.Fatalf("form action:\n%s", body)
		}
		form := []*http.Cookie{{Name: "rl_form", Value: token}}
		if res := x.post("/r/"+code+"?utm_source=spring&ch=email", url.Values{"csrf_token": {token}, "name": {"Nocookie"},
			"phone": {"+1 503 555 0190"}}, form...); res.Code != 200 {
			t.Fatalf("no cookie: %d", res.Code)
		}
		var ref row
		s.DB.Raw(`SELECT channel, utm FROM referrals WHERE referee_name = 'Nocookie'`).Scan(&ref)
		if ref.Channel != "email" || ref.UTM != `{"utm_source":"spring"}` {
			t.Fatalf("a sign-up without the cookie: %+v", ref)
		}
	})
}
