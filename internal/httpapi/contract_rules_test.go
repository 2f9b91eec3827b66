package httpapi_test

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// The rules the server enforces across fields and in characters are stated
// in openapi.json, so a client checking its requests against the document
// sends none the server refuses, and is refused none the server accepts.
// Each body here goes to both: the document must refuse exactly those the
// server answers 422, and pass those the server takes.
func TestTheDocumentRefusesTheBodiesTheServerRefuses(t *testing.T) {
	h := newHarness(t, storetest.Open(t, store.SQLite))
	admin := h.keys[tenant.RoleAdmin]
	h.seed(admin, "")
	h.must(-1, "PUT", "/api/v1/customers/ben", map[string]any{"name": "Ben Ortiz", "phone": "503 555 0177", "address": "30 SE Maple St"})
	// Visits of today (1 May in Los Angeles): a pitch is logged on the
	// day, a rating is given to a completed visit.
	for _, v := range []struct{ id, customer string }{{"today-angie", "angie"}, {"today-ben", "ben"}} {
		h.must(-1, "PUT", "/api/v1/visits/"+v.id, map[string]any{"customer_id": v.customer, "crew_id": "north",
			"service_date": "2026-05-01", "status": "completed", "price_cents": 4500})
	}
	h.must(-1, "POST", "/api/v1/visits/today-ben/rating", map[string]any{"score": 1, "comment": "they broke my fence", "complaint": true})
	code := h.must(200, "GET", "/api/v1/customers/angie", nil).Body["referral_code"].(string)

	// A referral of a new friend each time, from Angie (pending) or from a
	// name nobody has (no referrer: waiting to be attributed).
	friends := 0
	referral := func(fromAngie bool) string {
		friends++
		body := map[string]any{"channel": "code", "referrer_id": "angie"}
		if !fromAngie {
			body = map[string]any{"channel": "name_only", "referrer_name": "Nobody Known", "referrer_street": "1 Nowhere Rd"}
		}
		body["referee"] = map[string]any{"name": "Friend", "phone": fmt.Sprintf("503 555 %04d", 1000+friends)}
		id, _ := h.must(201, "POST", "/api/v1/referrals", body).Body["id"].(float64)
		return fmt.Sprintf("/api/v1/referrals/%d", int64(id))
	}

	friend := `"referee":{"name":"Cleo Park","phone":"503 555 0144"}`
	ref := func(fields string) string { return `{"channel":"code",` + fields + `,` + friend + `}` }
	refTo := func(referee string) string {
		return `{"channel":"code","referrer_id":"angie","referee":` + referee + `}`
	}
	offer := func(reward string) string {
		return `{"offers":[{"name":"A","referee":` + reward + `,"referrer":{"kind":"points","points":50}}]}`
	}
	long := func(n int) string { return strings.Repeat("é", n) }

	cases := []struct {
		rule, name   string
		method, path string
		body         string
		refused      int // the server's status when it refuses the body; 0: it takes it
	}{
		{"lat and lon together", "both", "PUT", "/api/v1/customers/dot", `{"name":"Dot","lat":45.46,"lon":-122.65}`, 0},
		{"lat and lon together", "neither", "PUT", "/api/v1/customers/dot", `{"name":"Dot"}`, 0},
		{"lat and lon together", "both null", "PUT", "/api/v1/customers/dot", `{"name":"Dot","lat":null,"lon":null}`, 0},
		{"lat and lon together", "lat null, lon left out", "PUT", "/api/v1/customers/dot", `{"name":"Dot","lat":null}`, 0},
		{"lat and lon together", "lat only", "PUT", "/api/v1/customers/dot", `{"name":"Dot","lat":45.46}`, 422},
		{"lat and lon together", "lon only", "PUT", "/api/v1/customers/dot", `{"name":"Dot","lon":-122.65}`, 422},
		{"lat and lon together", "lat with lon null", "PUT", "/api/v1/customers/dot", `{"name":"Dot","lat":45.46,"lon":null}`, 422},
		{"lat and lon together", "a friend's lat only", "POST", "/api/v1/referrals", refTo(`{"name":"Cleo Park","phone":"503 555 0144","lat":45.46}`), 422},
		{"lat and lon together", "a friend's both", "POST", "/api/v1/referrals", refTo(`{"name":"Cleo Park","phone":"503 555 0144","lat":45.46,"lon":-122.65}`), 0},

		{"one referrer", "by code", "POST", "/api/v1/referrals", ref(`"referrer_code":"` + code + `"`), 0},
		{"one referrer", "by id", "POST", "/api/v1/referrals", ref(`"referrer_id":"angie"`), 0},
		{"one referrer", "by name and street", "POST", "/api/v1/referrals", ref(`"referrer_name":"Angie Baker","referrer_street":"14 Maple St"`), 0},
		{"one referrer", "by name and phone", "POST", "/api/v1/referrals", ref(`"referrer_name":"Angie Baker","referrer_phone":"503 555 0101"`), 0},
		{"one referrer", "an empty code beside the id", "POST", "/api/v1/referrals", ref(`"referrer_code":"","referrer_id":"angie"`), 0},
		{"one referrer", "a blank code beside the id", "POST", "/api/v1/referrals", ref(`"referrer_code":"  ","referrer_id":"angie"`), 404},
		{"a code as typed", "lower case, split by a space", "POST", "/api/v1/referrals", ref(`"referrer_code":"` + strings.ToLower(code[:4]+" "+code[5:]) + `"`), 0},
		{"a code as typed", "dashes and spaces anywhere, padded", "POST", "/api/v1/referrals", ref(`"referrer_code":"\u00a0 -` + code[:2] + `- -` + code[2:4] + code[5:] + `- \u3000"`), 0},
		{"a code as typed", "one character short", "POST", "/api/v1/referrals", ref(`"referrer_code":"` + code[:8] + `"`), 404},
		{"a code as typed", "with an O for a 0", "POST", "/api/v1/referrals", ref(`"referrer_code":"` + code[:8] + `O"`), 404},
		{"a code as typed", "split by a tab", "POST", "/api/v1/referrals", ref(`"referrer_code":"` + code[:4] + `\t` + code[5:] + `"`), 422},
		{"one referrer", "a blank name and a street beside the code", "POST", "/api/v1/referrals", ref(`"referrer_code":"` + code + `","referrer_name":" ","referrer_street":"14 Maple St"`), 0},
		{"one referrer", "nobody", "POST", "/api/v1/referrals", `{"channel":"code",` + friend + `}`, 422},
		{"one referrer", "only a blank name", "POST", "/api/v1/referrals", ref(`"referrer_name":"\u00a0","referrer_street":"14 Maple St"`), 422},
		{"one referrer", "code and id", "POST", "/api/v1/referrals", ref(`"referrer_code":"` + code + `","referrer_id":"angie"`), 422},
		{"one referrer", "id and name", "POST", "/api/v1/referrals", ref(`"referrer_id":"angie","referrer_name":"Angie Baker","referrer_street":"14 Maple St"`), 422},
		{"a referrer's name needs a street or a phone", "neither", "POST", "/api/v1/referrals", ref(`"referrer_name":"Angie Baker"`), 422},
		{"a referrer's name needs a street or a phone", "an empty street", "POST", "/api/v1/referrals", ref(`"referrer_name":"Angie Baker","referrer_street":""`), 422},
		{"a referrer's name needs a street or a phone", "a blank name beside the code, no street", "POST", "/api/v1/referrals", ref(`"referrer_code":"` + code + `","referrer_name":" "`), 422},

		{"name_only names the referrer", "by name", "POST", "/api/v1/referrals", `{"channel":"name_only","referrer_name":"Angie Baker","referrer_street":"14 Maple St",` + friend + `}`, 0},
		{"name_only names the referrer", "by id", "POST", "/api/v1/referrals", `{"channel":"name_only","referrer_id":"angie",` + friend + `}`, 0},
		{"name_only names the referrer", "by code only", "POST", "/api/v1/referrals", `{"channel":"name_only","referrer_code":"` + code + `",` + friend + `}`, 422},
		{"crew_pitch names the crew member", "with", "POST", "/api/v1/referrals", `{"channel":"crew_pitch","referrer_id":"angie","crew_member_id":"sam",` + friend + `}`, 0},
		{"crew_pitch names the crew member", "without", "POST", "/api/v1/referrals", `{"channel":"crew_pitch","referrer_id":"angie",` + friend + `}`, 422},
		{"crew_pitch names the crew member", "empty", "POST", "/api/v1/referrals", `{"channel":"crew_pitch","referrer_id":"angie","crew_member_id":"",` + friend + `}`, 422},
		{"crew_pitch names the crew member", "an empty member on another channel", "POST", "/api/v1/referrals", ref(`"referrer_id":"angie","crew_member_id":""`), 0},

		{"the friend can be reached", "by phone", "POST", "/api/v1/referrals", refTo(`{"name":"Cleo Park","phone":"503 555 0144"}`), 0},
		{"the friend can be reached", "by e-mail", "POST", "/api/v1/referrals", refTo(`{"name":"Cleo Park","email":"cleo@example.com"}`), 0},
		{"the friend can be reached", "as a customer", "POST", "/api/v1/referrals", refTo(`{"name":"Ben Ortiz","customer_id":"ben"}`), 0},
		{"the friend can be reached", "not at all", "POST", "/api/v1/referrals", refTo(`{"name":"Cleo Park"}`), 422},
		{"the friend can be reached", "a blank phone", "POST", "/api/v1/referrals", refTo(`{"name":"Cleo Park","phone":"  "}`), 422},
		{"the friend can be reached", "an empty customer id", "POST", "/api/v1/referrals", refTo(`{"name":"Cleo Park","customer_id":""}`), 422},
		{"the friend has a name", "a blank one", "POST", "/api/v1/referrals", refTo(`{"name":"\u3000","phone":"503 555 0144"}`), 422},

		{"lengths in characters", "a referrer's name of 200", "POST", "/api/v1/referrals", ref(`"referrer_name":"` + long(200) + `","referrer_street":"14 Maple St"`), 0},
		{"lengths in characters", "a referrer's name of 201", "POST", "/api/v1/referrals", ref(`"referrer_name":"` + long(201) + `","referrer_street":"14 Maple St"`), 422},
		{"lengths in characters", "a street of 301", "POST", "/api/v1/referrals", ref(`"referrer_name":"Angie Baker","referrer_street":"` + long(301) + `"`), 422},
		{"lengths in characters", "a referrer's phone of 41", "POST", "/api/v1/referrals", ref(`"referrer_name":"Angie Baker","referrer_phone":"` + strings.Repeat("5", 41) + `"`), 422},
		{"lengths in characters", "a code of 41", "POST", "/api/v1/referrals", ref(`"referrer_code":"` + strings.Repeat("K", 41) + `"`), 422},
		{"lengths in characters", "a friend's e-mail of 255", "POST", "/api/v1/referrals", refTo(`{"name":"Cleo Park","email":"` + strings.Repeat("c", 243) + `@example.com"}`), 422},
		{"lengths in characters", "an add-on of 200", "PUT", "/api/v1/program", offer(`{"kind":"free_addon","addon_name":"` + long(200) + `"}`), 0},
		{"lengths in characters", "an add-on of 201", "PUT", "/api/v1/program", offer(`{"kind":"free_addon","addon_name":"` + long(201) + `"}`), 422},

		{"rewards by kind", "a percentage", "PUT", "/api/v1/program", offer(`{"kind":"percent_next_invoice","bps":1000}`), 0},
		{"rewards by kind", "a percentage without bps", "PUT", "/api/v1/program", offer(`{"kind":"percent_next_invoice"}`), 422},
		{"rewards by kind", "a percentage over 100%", "PUT", "/api/v1/program", offer(`{"kind":"percent_next_invoice","bps":10001}`), 422},
		{"rewards by kind", "a percentage with another kind's member", "PUT", "/api/v1/program", offer(`{"kind":"percent_next_invoice","bps":1000,"points":0}`), 0},
		{"rewards by kind", "a credit", "PUT", "/api/v1/program", offer(`{"kind":"fixed_credit","amount_cents":2000}`), 0},
		{"rewards by kind", "a credit of nothing", "PUT", "/api/v1/program", offer(`{"kind":"fixed_credit","amount_cents":0}`), 422},
		{"rewards by kind", "a credit given in points", "PUT", "/api/v1/program", offer(`{"kind":"fixed_credit","points":100}`), 422},
		{"rewards by kind", "an add-on worth nothing", "PUT", "/api/v1/program", offer(`{"kind":"free_addon","addon_name":"Gutter clean"}`), 0},
		{"rewards by kind", "an add-on with a value", "PUT", "/api/v1/program", offer(`{"kind":"free_addon","addon_name":"Gutter clean","amount_cents":3500}`), 0},
		{"rewards by kind", "an add-on without a name", "PUT", "/api/v1/program", offer(`{"kind":"free_addon","amount_cents":3500}`), 422},
		{"rewards by kind", "an add-on with a blank name", "PUT", "/api/v1/program", offer(`{"kind":"free_addon","addon_name":"  "}`), 422},
		{"rewards by kind", "an add-on worth less than nothing", "PUT", "/api/v1/program", offer(`{"kind":"free_addon","addon_name":"Gutter clean","amount_cents":-1}`), 422},
		{"rewards by kind", "points", "PUT", "/api/v1/program", offer(`{"kind":"points","points":100}`), 0},
		{"rewards by kind", "no points", "PUT", "/api/v1/program", offer(`{"kind":"points","points":0}`), 422},

		{"a script's name", "letters, digits, . _ -", "POST", "/api/v1/scripts", `{"name":"short_2.b-c","body":"Thanks!"}`, 0},
		{"a script's name", "letters of any script", "POST", "/api/v1/scripts", `{"name":"café-山田","body":"Thanks!"}`, 0},
		{"a script's name", "surrounded by space", "POST", "/api/v1/scripts", `{"name":" padded ","body":"Thanks!"}`, 0},
		{"a script's name", "40 characters", "POST", "/api/v1/scripts", `{"name":"` + long(40) + `","body":"Thanks!"}`, 0},
		{"a script's name", "41 characters", "POST", "/api/v1/scripts", `{"name":"` + long(41) + `","body":"Thanks!"}`, 422},
		{"a script's name", "with a space inside", "POST", "/api/v1/scripts", `{"name":"two words","body":"Thanks!"}`, 422},
		{"a script's name", "with a slash", "POST", "/api/v1/scripts", `{"name":"a/b","body":"Thanks!"}`, 422},
		{"a script's name", "left out of a new script", "POST", "/api/v1/scripts", `{"body":"Thanks!"}`, 422},
		{"a script's name", "empty in a new script", "POST", "/api/v1/scripts", `{"name":"","body":"Thanks!"}`, 422},
		{"a script's name", "left out of a replacement", "PUT", "/api/v1/scripts/kept", `{"body":"Thanks!"}`, 0},
		{"a script's name", "empty in a replacement", "PUT", "/api/v1/scripts/kept", `{"name":"","body":"Thanks!"}`, 0},
		{"a script's name", "blank in a replacement", "PUT", "/api/v1/scripts/kept", `{"name":"  ","body":"Thanks!"}`, 422},
		{"a script's body", "blank", "PUT", "/api/v1/scripts/kept", `{"body":" \n "}`, 422},

		{"a reject says why", "with a reason", "POST", referral(true) + "/reject", `{"reason":"not our area"}`, 0},
		{"a reject says why", "without", "POST", referral(true) + "/reject", `{}`, 422},
		{"a reject says why", "a blank reason", "POST", referral(true) + "/reject", `{"reason":" \t\n"}`, 422},
		{"an attribution names the referrer", "with", "POST", referral(false) + "/attribute", `{"referrer_id":"angie"}`, 0},
		{"an attribution names the referrer", "with a reason only", "POST", referral(false) + "/attribute", `{"reason":"Dot said so"}`, 422},
		{"an attribution names the referrer", "an empty id", "POST", referral(false) + "/attribute", `{"referrer_id":""}`, 422},

		{"a pitch names a friend when one was given", "given", "POST", "/api/v1/pitches", `{"visit_id":"today-angie","crew_member_id":"sam","outcome":"referral_given",` + friend + `}`, 0},
		{"a pitch names a friend when one was given", "given without a friend", "POST", "/api/v1/pitches", `{"visit_id":"today-angie","crew_member_id":"sam","outcome":"referral_given"}`, 422},
		{"a pitch names a friend when one was given", "declined with a friend", "POST", "/api/v1/pitches", `{"visit_id":"today-ben","crew_member_id":"sam","outcome":"declined",` + friend + `}`, 422},
		{"a pitch names a friend when one was given", "declined, friend null", "POST", "/api/v1/pitches", `{"visit_id":"today-ben","crew_member_id":"sam","outcome":"declined","referee":null}`, 0},

		{"names and texts are not blank", "a customer's name", "PUT", "/api/v1/customers/dot", `{"name":"\u2003"}`, 422},
		{"names and texts are not blank", "a crew's name", "PUT", "/api/v1/crews/north", `{"name":"  ","depot_lat":45.55,"depot_lon":-122.66}`, 422},
		{"names and texts are not blank", "a member's name", "PUT", "/api/v1/crews/north", `{"name":"North crew","depot_lat":45.55,"depot_lon":-122.66,"members":[{"external_id":"sam","name":" "}]}`, 422},
		{"names and texts are not blank", "an invoice line", "PUT", "/api/v1/invoices/inv1", `{"customer_id":"angie","lines":[{"visit_id":"v1","description":" ","amount_cents":4500}]}`, 422},
		{"names and texts are not blank", "a milestone", "POST", "/api/v1/crew/milestones", `{"name":" ","metric":"referrals","target":10,"period":"month"}`, 422},
		{"names and texts are not blank", "a milestone named", "POST", "/api/v1/crew/milestones", `{"name":"Ten friends","metric":"referrals","target":10,"period":"month"}`, 0},
		{"names and texts are not blank", "a resolution", "POST", "/api/v1/visits/today-ben/rating/resolve", `{"note":"  "}`, 422},
		{"names and texts are not blank", "a resolution said", "POST", "/api/v1/visits/today-ben/rating/resolve", `{"note":"fence mended"}`, 0},
	}
	v := openAPIValidator(t)
	for _, c := range cases {
		what := c.rule + ": " + c.name
		req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+admin)
		ok, errs := v.ValidateHttpRequestSync(req)
		switch {
		case c.refused == 0 && !ok:
			t.Errorf("%s: the document refuses a body the server takes:\n%s", what, contractErrors(errs))
		case c.refused != 0 && ok:
			t.Errorf("%s: the document passes a body the server refuses", what)
		}
		r := h.doRefused(c.method, c.path, admin, c.body)
		switch {
		case c.refused == 0 && (r.Status < 200 || r.Status > 299):
			t.Errorf("%s: the server answers %d: %s", what, r.Status, r.Raw)
		case c.refused != 0 && r.Status != c.refused:
			t.Errorf("%s: the server answers %d, want %d: %s", what, r.Status, c.refused, r.Raw)
		}
	}
}
