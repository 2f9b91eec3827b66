package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
)

// Friends who came through a text, the invoice page and a social post show
// on the admin's channel chart in words.
func TestTheAdminSeesLandingChannelsInWords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newStaffSite(t, s)
		code := x.customer(x.green.ID, "angie", "Angie Baker")
		for i, ch := range []string{"sms", "invoice", "social", "crew"} {
			cookies, token, _ := x.landingCookies("/r/" + code + "?ch=" + ch)
			if r := x.post("/r/"+code, url.Values{"csrf_token": {token}, "name": {"Friend"}, "phone": {fmt.Sprintf("+1 503 555 01%02d", 10+i)}},
				cookies...); r.Code != http.StatusOK {
				t.Fatalf("%s: %d", ch, r.Code)
			}
		}
		page := x.get("/admin?period=this_month", x.session("admin@greenway.example"))
		body := page.Body.String()
		for _, want := range []string{">Text message<", ">Invoice page<", ">Social media<", ">Crew QR code<"} {
			if !strings.Contains(body, want) {
				t.Errorf("the admin page lacks %q", want)
			}
		}
		if page.Code != http.StatusOK || strings.Contains(body, ">sms<") {
			t.Fatalf("admin %d", page.Code)
		}
	})
}
