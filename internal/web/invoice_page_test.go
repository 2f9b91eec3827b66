package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/neighbor"
	"github.com/routeloop/routeloop/internal/scheduling"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

func TestTheCustomersInvoicePage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newSite(t, s)
		ctx := context.Background()
		ten, _, _ := x.a.Tenants.Create(ctx, tenant.NewTenant{Name: "Greenway Lawn", Timezone: "America/Los_Angeles", Currency: "USD"})
		loc := ten.Location()
		put := func(id, address string, lat, lon float64) {
			if _, _, err := x.a.Mirror.PutCustomer(ctx, ten.ID, id, scheduling.CustomerInput{Name: id, Address: address, Lat: &lat, Lon: &lon, ConsentSameDay: true}); err != nil {
				t.Fatal(err)
			}
			if _, _, err := x.a.Mirror.PutVisit(ctx, ten.ID, loc, "v-"+id, scheduling.VisitInput{CustomerID: id, ServiceDate: "2026-05-05", Status: "completed", PriceCents: 4500}); err != nil {
				t.Fatal(err)
			}
		}
		put("angie", "14 SE Maple St, Portland", 45.4655, -122.6501)
		put("ben", "30 SE Maple St, Portland", 45.4655, -122.64805)
		if _, _, err := x.a.Neighbors.CreateLink(ctx, ten.ID, neighbor.LinkInput{CustomerA: "angie", CustomerB: "ben"}); err != nil {
			t.Fatal(err)
		}
		vid := "v-angie"
		inv, _, err := x.a.Invoices.Put(ctx, ten.ID, "USD", "inv-1", invoice.Input{CustomerID: "angie",
			Lines: []invoice.LineInput{{VisitID: &vid, Description: "Weekly mow <script>alert(1)</script>", AmountCents: 4500}}})
		if err != nil {
			t.Fatal(err)
		}
		token := inv.PublicToken
		if token == "" {
			s.DB.Raw(`SELECT public_token FROM invoices WHERE external_id = 'inv-1'`).Scan(&token)
		}
		page := x.get("/i/" + token)
		body := page.Body.String()
		for _, want := range []string{"Greenway Lawn", "10% off: we serviced your property the same day as your neighbour on 30 SE Maple St",
			"$45.00", "$40.50", "0 of 32 friends rewarded", "How did we do?"} {
			if !strings.Contains(body, want) {
				t.Errorf("the page lacks %q", want)
			}
		}
		if page.Code != 200 || strings.Contains(body, "<script>alert") {
			t.Fatalf("page %d (or unescaped):\n%s", page.Code, body)
		}
		if nf := x.get("/i/not-a-real-token-at-all"); nf.Code != 404 {
			t.Fatalf("unknown token: %d", nf.Code)
		}
		cookies := page.Result().Cookies()
		var form *http.Cookie
		for _, ck := range cookies {
			if ck.Name == "rl_rate" {
				form = ck
			}
		}
		if form == nil || !strings.Contains(body, form.Value) {
			t.Fatalf("no rating form token: %+v", cookies)
		}
		if forged := x.post("/i/"+token+"/rating", url.Values{"score": {"1"}}, cookies...); forged.Code != 403 {
			t.Fatalf("a rating without the form's token: %d", forged.Code)
		}
		if bad := x.post("/i/"+token+"/rating", url.Values{"score": {"9"}, "csrf_token": {form.Value}}, cookies...); bad.Code != 422 || !strings.Contains(bad.Body.String(), "from 1 to 5") {
			t.Fatalf("bad score: %d", bad.Code)
		}
		ok := x.post("/i/"+token+"/rating", url.Values{"score": {"5"}, "comment": {"Lovely edges"}, "csrf_token": {form.Value}}, cookies...)
		if ok.Code != 200 || !strings.Contains(ok.Body.String(), "Thank you for rating this visit 5 out of 5") {
			t.Fatalf("rating: %d", ok.Code)
		}
		var score int
		s.DB.Raw(`SELECT score FROM ratings`).Scan(&score)
		if score != 5 {
			t.Fatalf("stored score %d", score)
		}
	})
}
