package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/routeloop/routeloop/internal/apptest"
	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

var optOutHref = regexp.MustCompile(`href="([^"]*/optout/[^"]+)"`)

// The customer's invoice page links to their opt-out page; pressing its
// one button stops marketing messages once, however often it is pressed.
func TestACustomerStopsMarketingMessagesFromTheirInvoicePage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newSite(t, s)
		ctx := context.Background()
		ten := apptest.Tenant(t, x.a.Tenants, tenant.NewTenant{Name: "Greenway <Lawn>", Timezone: "America/Los_Angeles", Currency: "USD"})
		yes := true
		if _, _, err := x.a.Mirror.PutCustomer(ctx, ten.ID, "angie", mirror.CustomerInput{Name: "Angie Baker", ConsentMarketing: &yes}); err != nil {
			t.Fatal(err)
		}
		inv, _, err := x.a.Invoices.Put(ctx, ten.ID, "USD", "inv-1", invoice.Input{CustomerID: "angie",
			Lines: []invoice.LineInput{{Description: "Weekly mow", AmountCents: 4500}}})
		if err != nil {
			t.Fatal(err)
		}
		invoicePage := x.get("/i/" + inv.PublicToken).Body.String()
		m := optOutHref.FindStringSubmatch(invoicePage)
		if m == nil || !strings.Contains(invoicePage, "Stop marketing messages from Greenway &lt;Lawn&gt;") {
			t.Fatalf("the invoice page has no opt-out link:\n%s", invoicePage)
		}
		u, err := url.Parse(html.UnescapeString(m[1]))
		if err != nil {
			t.Fatal(err)
		}
		path := u.Path
		page := x.get(path)
		body := page.Body.String()
		if page.Code != 200 || !strings.Contains(body, "Greenway &lt;Lawn&gt;") || !strings.Contains(body, ">Stop marketing messages</button>") ||
			strings.Contains(body, "Angie") || page.Header().Get("X-Robots-Tag") == "" {
			t.Fatalf("opt-out page %d:\n%s", page.Code, body)
		}
		var token string
		for _, ck := range page.Result().Cookies() {
			if ck.Name == "rl_optout" {
				token = ck.Value
			}
		}
		if token == "" || !strings.Contains(body, token) {
			t.Fatal("the opt-out form carries no CSRF token")
		}
		cookies := page.Result().Cookies()
		if forged := x.post(path, url.Values{}, cookies...); forged.Code != 403 || !strings.Contains(forged.Body.String(), "press the button again") {
			t.Fatalf("a post without the form's token: %d", forged.Code)
		}
		if c, _ := x.a.Mirror.Customer(ctx, ten.ID, "angie"); !c.ConsentMarketing {
			t.Fatal("a refused post stopped the messages")
		}
		for i := 0; i < 2; i++ { // pressed, then the page reloaded (the post sent again)
			done := x.post(path, url.Values{"csrf_token": {token}}, cookies...)
			if done.Code != 200 || !strings.Contains(done.Body.String(), "no more marketing messages") {
				t.Fatalf("post %d: %d\n%s", i, done.Code, done.Body.String())
			}
		}
		c, _ := x.a.Mirror.Customer(ctx, ten.ID, "angie")
		if c.ConsentMarketing || c.ConsentMarketingAt == nil || !c.ConsentMarketingAt.Equal(x.clock.Now()) {
			t.Fatalf("after the opt-out: %+v", c)
		}
		if n := storetest.Count(t, s.DB.Where("kind = ?", mirror.EventMarketingOptOut), "outbox_events"); n != 1 {
			t.Fatalf("%d opt-out events, want 1", n)
		}
		if again := x.get(path).Body.String(); !strings.Contains(again, "Marketing messages are stopped") || strings.Contains(again, "<button") {
			t.Fatalf("the page after the opt-out:\n%s", again)
		}
		// A forged, cut or made-up link is a friendly 404, and changes nothing.
		tok := strings.TrimPrefix(path, "/optout/")
		last := "x" // a changed last character, whatever the real one is
		if strings.HasSuffix(tok, last) {
			last = "y"
		}
		for _, bad := range []string{"/optout/" + tok[:20], "/optout/" + strings.Repeat("A", 32), "/optout/" + tok[:31] + last,
			"/optout/%3Cscript%3E"} {
			nf := x.get(bad)
			if nf.Code != 404 || !strings.Contains(nf.Body.String(), "This link doesn't work") {
				t.Errorf("%s: %d\n%s", bad, nf.Code, nf.Body.String())
			}
			if p := x.post(bad, url.Values{"csrf_token": {token}}, &http.Cookie{Name: "rl_optout", Value: token}); p.Code != 404 {
				t.Errorf("post %s: %d", bad, p.Code)
			}
		}
		if n := storetest.Count(t, s.DB.Where("kind = ?", mirror.EventMarketingOptOut), "outbox_events"); n != 1 {
			t.Fatalf("%d opt-out events after forged links, want 1", n)
		}
	})
}
