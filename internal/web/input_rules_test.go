package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/routeloop/routeloop/internal/apptest"
	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
	"github.com/routeloop/routeloop/internal/web"
)

// formCookie is the CSRF cookie a page set.
func formCookie(t *testing.T, rec interface{ Result() *http.Response }, name string) (*http.Cookie, []*http.Cookie) {
	t.Helper()
	cookies := rec.Result().Cookies()
	for _, c := range cookies {
		if c.Name == name {
			return c, cookies
		}
	}
	t.Fatalf("no %s cookie in %+v", name, cookies)
	return nil, nil
}

// The friend's landing form and the customer's rating form refuse NUL,
// control characters, ANSI escapes and invalid UTF-8 with a page (not
// JSON) naming the field, store nothing, and count limits in characters:
// a 500-character comment ending in "€" is kept whole.
func TestFormsFollowTheInputRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newSite(t, s)
		ctx := context.Background()
		ten := apptest.Tenant(t, x.a.Tenants, tenant.NewTenant{Name: "Greenway Lawn", Timezone: "America/Los_Angeles", Currency: "USD"})
		code := x.customer(ten.ID, "angie", "Angie Baker")

		page := x.get("/r/" + code)
		form, cookies := formCookie(t, page, "rl_form")
		for _, bad := range []struct{ name, field, value string }{
			{"NUL in the name", "name", "Ben\x00Ortiz"},
			{"an ANSI escape in the name", "name", "\x1b[31mBen"},
			{"invalid UTF-8 in the name", "name", "Ben \xff"},
			{"a newline in the address", "address", "30 Maple St\nPortland"},
			{"NUL in the phone", "phone", "503\x00555 0199"},
			{"words for a phone", "phone", "call me maybe"},
		} {
			v := url.Values{"name": {"Ben Ortiz"}, "phone": {"503 555 0199"}, "csrf_token": {form.Value}}
			v.Set(bad.field, bad.value)
			rec := x.post("/r/"+code, v, cookies...)
			body := rec.Body.String()
			if rec.Code != 422 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") ||
				!strings.Contains(body, map[string]string{"name": "Your name", "address": "Your address", "phone": "Your phone number"}[bad.field]+" should") {
				t.Errorf("landing form, %s: %d %s\n%.600s", bad.name, rec.Code, rec.Header().Get("Content-Type"), body)
			}
		}
		if n := storetest.Count(t, s.DB, "referrals"); n != 0 {
			t.Fatalf("%d referrals from refused forms", n)
		}

		loc := ten.Location()
		if _, _, err := x.a.Mirror.PutVisit(ctx, ten.ID, loc, "v-angie", mirror.VisitInput{CustomerID: "angie", ServiceDate: "2026-05-05", Status: "completed", PriceCents: 4500}); err != nil {
			t.Fatal(err)
		}
		vid := "v-angie"
		inv, _, err := x.a.Invoices.Put(ctx, ten.ID, "USD", "inv-1", invoice.Input{CustomerID: "angie",
			Lines: []invoice.LineInput{{VisitID: &vid, Description: "Weekly mow", AmountCents: 4500}}})
		if err != nil {
			t.Fatal(err)
		}
		token := inv.PublicToken
		if token == "" {
			s.DB.Raw(`SELECT public_token FROM invoices WHERE external_id = 'inv-1'`).Scan(&token)
		}
		rform, rcookies := formCookie(t, x.get("/i/"+token), "rl_rate")
		rate := func(comment string) (int, string) {
			rec := x.post("/i/"+token+"/rating", url.Values{"score": {"4"}, "comment": {comment}, "csrf_token": {rform.Value}}, rcookies...)
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("rating %.20q answered %s", comment, ct)
			}
			return rec.Code, rec.Body.String()
		}
		for _, bad := range []struct{ name, comment, want string }{
			{"NUL", "Lovely\x00", "Your comment must not contain NUL characters"},
			{"an ANSI escape", "\x1b[2JLovely", "Your comment must not contain control characters"},
			{"invalid UTF-8", "Lovely \xe2\x82", "Your comment must be valid UTF-8 text"},
			{"one character over", strings.Repeat("€", web.MaxRatingComment+1), "Your comment must be at most 500 characters"},
		} {
			if status, body := rate(bad.comment); status != 422 || !strings.Contains(body, bad.want) {
				t.Errorf("rating with %s: %d\n%.600s", bad.name, status, body)
			}
		}
		if n := storetest.Count(t, s.DB, "ratings"); n != 0 {
			t.Fatalf("%d ratings from refused forms", n)
		}
		comment := strings.Repeat("x", web.MaxRatingComment-1) + "€"
		if status, body := rate(comment); status != 200 || !strings.Contains(body, "Thank you for rating this visit 4 out of 5") {
			t.Fatalf("a %d-character comment ending in €: %d\n%.600s", web.MaxRatingComment, status, body)
		}
		var stored string
		s.DB.Raw(`SELECT comment FROM ratings`).Scan(&stored)
		if stored != comment {
			t.Fatalf("stored comment of %d bytes, want the %d sent", len(stored), len(comment))
		}
	})
}
