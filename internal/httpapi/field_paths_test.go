package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// A field in an error is named by its full path, list indices and all,
// whether the field is unknown, of the wrong type or breaks a rule; under
// a webhook's data it starts with data. Nothing is stored.
func TestFieldErrorsNameTheFullPath(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.seed(h.keys[tenant.RoleAdmin], "")
		secret := h.must(201, "POST", "/api/v1/webhook-secrets", nil).Body["secret"].(string)
		crew := func(members string) string {
			return `{"name":"North crew","depot_lat":45.55,"depot_lon":-122.66,"members":[` + members + `]}`
		}
		invoice := func(lines string) string { return `{"customer_id":"angie","lines":[` + lines + `]}` }
		const sam, mowing = `{"external_id":"sam","name":"Sam"}`, `{"visit_id":"v1","description":"Mowing","amount_cents":4500}`

		cases := []struct {
			name, method, path, body, field string
		}{
			{"an unknown field of the second member", "PUT", "/api/v1/crews/north", crew(sam + `,{"external_id":"kim","name":"Kim","zz":1}`), "members[1].zz"},
			{"a member's name of the wrong type", "PUT", "/api/v1/crews/north", crew(`{"external_id":"sam","name":7}`), "members[0].name"},
			{"a member without a name", "PUT", "/api/v1/crews/north", crew(sam + `,{"external_id":"kim"}`), "members[1].name"},
			{"a member's active of the wrong type", "PUT", "/api/v1/crews/north", crew(`{"external_id":"sam","name":"Sam","active":"yes"}`), "members[0].active"},
			{"a member that is not an object", "PUT", "/api/v1/crews/north", crew(sam + `,"kim"`), "members[1]"},
			{"a line's cents as a fraction", "PUT", "/api/v1/invoices/inv1", invoice(mowing + `,{"description":"Edging","amount_cents":10.5}`), "lines[1].amount_cents"},
			{"an unknown field of a line", "PUT", "/api/v1/invoices/inv1", invoice(`{"description":"Mowing","amount_cents":4500,"visit":"v1"}`), "lines[0].visit"},
			{"a line without a description", "PUT", "/api/v1/invoices/inv1", invoice(mowing + `,{"amount_cents":100}`), "lines[1].description"},
			{"an unknown field of the friend", "POST", "/api/v1/referrals", `{"channel":"code","referrer_id":"angie","referee":{"name":"Ben","phone":"503 555 0199","nmae":"x"}}`, "referee.nmae"},
			{"the friend's lat as text", "POST", "/api/v1/referrals", `{"channel":"code","referrer_id":"angie","referee":{"name":"Ben","phone":"503 555 0199","lat":"45.4"}}`, "referee.lat"},
			{"an unknown field of a batch object", "POST", "/api/v1/sync/batch", `{"objects":[{"type":"customer","external_id":"ben","data":{"name":"Ben"}},{"type":"customer","id":"x"}]}`, "objects[1].id"},
			{"a program offer of the wrong type", "PUT", "/api/v1/program", `{"offers":[{"name":"a"},{"name":5}]}`, "offers[1].name"},
		}
		before := allRowCounts(t, s)
		for _, c := range cases {
			r := h.do(c.method, c.path, h.keys[tenant.RoleAdmin], c.body)
			if r.Status != http.StatusUnprocessableEntity || r.field(c.field) == "" {
				t.Errorf("%s: %d, want 422 naming %s: %s", c.name, r.Status, c.field, r.Raw)
			}
		}

		// The signed webhook carries the PUT's body under data.
		for i, c := range []struct{ data, field string }{
			{`{"external_id":"north","name":"North crew","depot_lat":45.55,"depot_lon":-122.66,"members":[{"external_id":"sam","name":"Sam","zz":1}]}`, "data.members[0].zz"},
			{`{"external_id":"north","name":"North crew","depot_lat":45.55,"depot_lon":-122.66,"members":[{"external_id":"sam","name":"Sam"},{"external_id":"kim","name":false}]}`, "data.members[1].name"},
			{`{"external_id":"north","name":"North crew","depot_lat":45.55,"depot_lon":-122.66,"members":[{"external_id":"sam"}]}`, "data.members[0].name"},
		} {
			body := []byte(`{"type":"crew.upserted","timestamp":"2026-05-01T15:59:00Z","data":` + c.data + `}`)
			if r := h.hook(h.greenway, secret, fmt.Sprintf("msg-path-%d", i), body); r.Status != http.StatusUnprocessableEntity || r.field(c.field) == "" {
				t.Errorf("webhook %s: %d, want 422 naming %s: %s", c.data, r.Status, c.field, r.Raw)
			}
		}
		// The batch names a field of an object relative to it.
		r := h.mustRefused(200, "POST", "/api/v1/sync/batch", `{"objects":[{"type":"crew","external_id":"north","data":{"name":"North crew","depot_lat":45.55,"depot_lon":-122.66,"members":[{"external_id":"sam","name":"Sam","zz":1}]}}]}`)
		res := list(r.Body, "results")
		if len(res) != 1 || object(object(res[0].(map[string]any), "error"), "fields")["data.members[0].zz"] == nil {
			t.Errorf("batch: %s", r.Raw)
		}
		if after := allRowCounts(t, s); after != before {
			t.Errorf("refused bodies changed what is stored:\n%s\n%s", before, after)
		}
	})
}
