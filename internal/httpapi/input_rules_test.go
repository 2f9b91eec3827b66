package httpapi_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// jsonText is s as a JSON string literal, escapes and all (a NUL becomes
// \u0000, as a scheduler would send it); invalid UTF-8 is left raw.
func jsonText(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, c)
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// Names, addresses, friends, descriptions, comments, dates and ids that a
// database would choke on or a terminal would run are refused with a 422
// naming the field, on every write route; nothing stored changes. Text at
// its limit in multibyte characters is accepted, one character more is not.
func TestTextDatesAndIDsFollowTheInputRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.seed(h.keys[tenant.RoleAdmin], "")
		secret := h.must(201, "POST", "/api/v1/webhook-secrets", nil).Body["secret"].(string)
		customer := func(field, v string) string {
			return `{"name":"Angie Baker","address":"14 Maple St","lat":45.4655,"lon":-122.6501,"consent_same_day":true,"` + field + `":` + jsonText(v) + `}`
		}
		visit := func(date string) string {
			return `{"customer_id":"angie","crew_id":"north","service_date":"` + date + `","price_cents":4500}`
		}
		friend := func(name string) string {
			return `{"channel":"code","referrer_id":"angie","referee":{"name":` + jsonText(name) + `,"phone":"503 555 0199"}}`
		}
		line := func(desc string) string {
			return `{"customer_id":"angie","lines":[{"visit_id":"v1","description":` + jsonText(desc) + `,"amount_cents":4500}]}`
		}
		rating := func(comment string) string { return `{"score":4,"comment":` + jsonText(comment) + `}` }
		longID := url.PathEscape(strings.Repeat("é", 129))

		refused := []struct {
			name, method, path, body, field string
		}{
			{"NUL in a name", "PUT", "/api/v1/customers/angie", customer("name", "Angie\x00Baker"), "name"},
			{"NUL in an address", "PUT", "/api/v1/customers/angie", customer("address", "14 Maple\x00 St"), "address"},
			{"a bell in a name", "PUT", "/api/v1/customers/angie", customer("name", "Angie\aBaker"), "name"},
			{"an ANSI escape in a name", "PUT", "/api/v1/customers/angie", customer("name", "\x1b[31mAngie\x1b[0m"), "name"},
			{"a newline in a name", "PUT", "/api/v1/customers/angie", customer("name", "Angie\nBaker"), "name"},
			{"invalid UTF-8 in a name", "PUT", "/api/v1/customers/angie", customer("name", "Angie \xff\xfe"), "name"},
			{"a name one character over", "PUT", "/api/v1/customers/angie", customer("name", strings.Repeat("€", 201)), "name"},
			{"NUL in a phone", "PUT", "/api/v1/customers/angie", customer("phone", "503\x00555"), "phone"},
			{"NUL in a crew name", "PUT", "/api/v1/crews/north", `{"name":"North\u0000","depot_lat":45.55,"depot_lon":-122.66}`, "name"},
			{"NUL in a member's name", "PUT", "/api/v1/crews/north", `{"name":"North","depot_lat":45.55,"depot_lon":-122.66,"members":[{"external_id":"sam","name":"Sam\u0000"}]}`, "members[0].name"},
			{"a visit on 1999-12-31", "PUT", "/api/v1/visits/v1", visit("1999-12-31"), "service_date"},
			{"a visit on 2101-01-01", "PUT", "/api/v1/visits/v1", visit("2101-01-01"), "service_date"},
			{"a visit on 9999-12-31", "PUT", "/api/v1/visits/v1", visit("9999-12-31"), "service_date"},
			{"a visit in year 0", "PUT", "/api/v1/visits/v1", visit("0000-01-01"), "service_date"},
			{"NUL in a visit's customer id", "PUT", "/api/v1/visits/v1", `{"customer_id":"angie\u0000","service_date":"2026-05-05"}`, "customer_id"},
			{"NUL in a line", "PUT", "/api/v1/invoices/inv1", line("Mowing\x00"), "lines[0].description"},
			{"an ANSI escape in a line", "PUT", "/api/v1/invoices/inv1", line("\x1b[2JMowing"), "lines[0].description"},
			{"a line one character over", "PUT", "/api/v1/invoices/inv1", line(strings.Repeat("€", 501)), "lines[0].description"},
			{"NUL in a friend's name", "POST", "/api/v1/referrals", friend("Ben\x00Ortiz"), "referee.name"},
			{"an ANSI escape in a friend's name", "POST", "/api/v1/referrals", friend("\x1b]0;pwned\aBen"), "referee.name"},
			{"invalid UTF-8 in a friend's name", "POST", "/api/v1/referrals", friend("Ben \xc3"), "referee.name"},
			{"NUL in a referrer id", "POST", "/api/v1/referrals", `{"channel":"code","referrer_id":"angie\u0000","referee":{"name":"Ben","phone":"503 555 0199"}}`, "referrer_id"},
			{"NUL in a rating comment", "POST", "/api/v1/visits/v1/rating", rating("great\x00"), "comment"},
			{"a rating comment one character over", "POST", "/api/v1/visits/v1/rating", rating(strings.Repeat("€", 2001)), "comment"},
			{"an escaped slash in an id", "PUT", "/api/v1/customers/a%252Fb", customer("name", "A"), "external_id"},
			{"a space in an id", "PUT", "/api/v1/customers/a%20b", customer("name", "A"), "external_id"},
			{"an id of 129 characters", "PUT", "/api/v1/customers/" + longID, customer("name", "A"), "external_id"},
			{"invalid UTF-8 in an id", "PUT", "/api/v1/customers/a%FFb", customer("name", "A"), "external_id"},
			{"a filter from 1999-12-31", "GET", "/api/v1/visits?from=1999-12-31&to=2000-01-01", "", "from"},
		}
		tables := []string{"customers", "crews", "crew_members", "visits", "invoices", "invoice_lines", "referrals", "ratings"}
		counts := func() string {
			var parts []string
			for _, table := range tables {
				parts = append(parts, fmt.Sprintf("%s=%d", table, storetest.Count(t, s.DB, table)))
			}
			return strings.Join(parts, " ")
		}
		objects := func() string {
			var b strings.Builder
			for _, p := range []string{"/api/v1/customers/angie", "/api/v1/crews/north", "/api/v1/visits/v1", "/api/v1/invoices/inv1"} {
				b.Write(h.must(200, "GET", p, nil).Raw)
			}
			return b.String()
		}
		beforeCounts, beforeObjects := counts(), objects()
		for _, c := range refused {
			var body any
			if c.body != "" {
				body = c.body
			}
			r := h.do(c.method, c.path, h.keys[tenant.RoleAdmin], body)
			if r.Status != 422 || r.field(c.field) == "" {
				t.Errorf("%s: %d, want 422 naming %s: %.300s", c.name, r.Status, c.field, r.Raw)
			}
		}

		// The signed inbound webhook follows the same rule.
		for i, name := range []string{"Angie\x00Baker", "\x1b[31mAngie", "Angie \xff"} {
			body := []byte(`{"type":"customer.upserted","timestamp":"2026-05-01T15:59:00Z","data":{"external_id":"angie","name":` + jsonText(name) + `}}`)
			if r := h.hook(h.greenway, secret, fmt.Sprintf("msg-bad-%d", i), body); r.Status != 422 || r.field("data.name") == "" {
				t.Errorf("webhook with name %q: %d %.300s", name, r.Status, r.Raw)
			}
		}
		if after := counts(); after != beforeCounts {
			t.Errorf("refused requests changed row counts: %s → %s", beforeCounts, after)
		}
		if after := objects(); after != beforeObjects {
			t.Errorf("refused requests changed what is stored:\n%s\n%s", beforeObjects, after)
		}

		// What the rule allows goes through and reads back as sent.
		atLimit := strings.Repeat("x", 199) + "€"
		if r := h.must(200, "PUT", "/api/v1/customers/angie", customer("name", atLimit)); r.Body["name"] != atLimit {
			t.Errorf("a name of 200 characters in %d bytes: %s", len(atLimit), r.Raw)
		}
		if r := h.must(201, "PUT", "/api/v1/customers/"+url.PathEscape(strings.Repeat("é", 128)), customer("name", "Zoë")); r.Body["external_id"] != strings.Repeat("é", 128) {
			t.Errorf("an id of 128 characters: %s", r.Raw)
		}
		h.must(201, "PUT", "/api/v1/customers/Z2lkOi8vSm9iYmVy:42@crm~a+b=", customer("name", "Ben"))
		for _, date := range []string{"2000-01-01", "2100-12-31"} {
			if r := h.must(201, "PUT", "/api/v1/visits/v-"+date, visit(date)); r.Body["service_date"] != date {
				t.Errorf("a visit on %s: %s", date, r.Raw)
			}
		}
		desc := "Mowing\n\tand edging " + strings.Repeat("€", 480)
		if r := h.must(200, "PUT", "/api/v1/invoices/inv1", line(desc)); itemWith(list(r.Body, "lines"), "description", desc) == nil {
			t.Errorf("a multi-line description: %s", r.Raw)
		}
		comment := strings.Repeat("x", 1999) + "€"
		if r := h.must(201, "POST", "/api/v1/visits/v1/rating", rating(comment)); object(r.Body, "latest")["comment"] != comment {
			t.Errorf("a comment of 2000 characters: %.300s", r.Raw)
		}
	})
}
