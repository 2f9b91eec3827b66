package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// send is do with the Content-Type given ("" sends none). Only the answer is
// checked against openapi.json: the document names application/json alone,
// and these tests send the other types the server also reads or refuses.
func (h *harness) send(method, path, key, contentType, body string) response {
	h.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	rec := h.serveAnswerChecked(req, []byte(body))
	return response{Status: rec.Code, Header: rec.Header(), Raw: rec.Body.Bytes()}
}

// allRowCounts is the number of rows of every table, to show that a refused
// request stored nothing.
func allRowCounts(t *testing.T, s *store.Store) string {
	t.Helper()
	tables, err := s.DB.Migrator().GetTables()
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(tables)
	var b strings.Builder
	for _, table := range tables {
		fmt.Fprintf(&b, "%s=%d ", table, storetest.Count(t, s.DB, table))
	}
	return b.String()
}

// bodyOperations are the operations the OpenAPI document gives a request
// body, with their path parameters filled in: a route added there cannot
// be forgotten here. Each must document its 415.
func bodyOperations(t *testing.T, h *harness) [][2]string {
	t.Helper()
	params := map[string]string{"{external_id}": "zed", "{id}": "1", "{tenant_id}": h.greenway, "{name}": "short"}
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			RequestBody any            `json:"requestBody"`
			Responses   map[string]any `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var out [][2]string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if op.RequestBody == nil {
				continue
			}
			if op.Responses["415"] == nil {
				t.Errorf("%s %s takes a body but documents no 415 response", method, path)
			}
			filled := path
			for p, v := range params {
				filled = strings.ReplaceAll(filled, p, v)
			}
			if strings.Contains(filled, "{") {
				t.Fatalf("%s %s: no sample value for its path parameter", method, path)
			}
			out = append(out, [2]string{strings.ToUpper(method), filled})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][1]+out[i][0] < out[j][1]+out[j][0] })
	if len(out) < 20 {
		t.Fatalf("only %d operations with a body in the document", len(out))
	}
	return out
}

// Every operation with a JSON body refuses a body that does not say it is
// JSON with 415 and the JSON error, before anything is read or stored;
// application/json with parameters, in any case, and application/*+json
// are JSON. A missing Content-Type is refused too (curl -d sends a form).
func TestJSONBodiesMustSayTheyAreJSON(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.seed(h.keys[tenant.RoleAdmin], "")
		ops := bodyOperations(t, h)
		// A body PUT /customers/zed would take: refused only for its type.
		body := `{"name": "Zed Adams", "address": "1 Elm St"}`

		before := allRowCounts(t, s)
		for _, op := range ops {
			for _, ct := range []string{"", "text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded",
				"multipart/form-data; boundary=x", "application/xml", "text/json", "application/jsonp", "json", ";;"} {
				key := h.keys[tenant.RoleAdmin]
				if strings.HasPrefix(op[1], "/hooks/") {
					key = ""
				}
				r := h.send(op[0], op[1], key, ct, body)
				if r.Status != http.StatusUnsupportedMediaType || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
					t.Errorf("%s %s with Content-Type %q: %d %s", op[0], op[1], ct, r.Status, r.Raw)
					continue
				}
				if r = r.decoded(t); r.errorCode() != "unsupported_media_type" || !strings.HasSuffix(r.message(), "Content-Type: application/json") {
					t.Errorf("%s %s with Content-Type %q: %d %s", op[0], op[1], ct, r.Status, r.Raw)
				}
			}
		}
		if after := allRowCounts(t, s); after != before {
			t.Errorf("bodies refused for their type changed what is stored:\n%s\n%s", before, after)
		}
		if r := h.do("GET", "/api/v1/customers/zed", h.keys[tenant.RoleAdmin], nil); r.Status != http.StatusNotFound {
			t.Errorf("a customer sent as text/plain was stored: %d %s", r.Status, r.Raw)
		}

		for _, op := range ops {
			for _, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON; Charset=UTF-8",
				"application/vnd.routeloop+json", "application/merge-patch+json"} {
				key := h.keys[tenant.RoleAdmin]
				if strings.HasPrefix(op[1], "/hooks/") {
					key = ""
				}
				if r := h.send(op[0], op[1], key, ct, body); r.Status == http.StatusUnsupportedMediaType {
					t.Errorf("%s %s with Content-Type %q: %d %s", op[0], op[1], ct, r.Status, r.Raw)
				}
			}
		}
		if r := h.send("PUT", "/api/v1/customers/zed", h.keys[tenant.RoleIntegration], "application/json; charset=utf-8", body); r.Status != http.StatusOK {
			t.Errorf("the same customer as JSON: %d %s", r.Status, r.Raw)
		}

		// Pages take their forms as forms: the check is the API's only.
		code := h.must(200, "GET", "/api/v1/customers/angie", nil).Body["referral_code"].(string)
		for _, path := range []string{"/login", "/r/" + strings.ToLower(code)} {
			form := url.Values{"name": {"Ben Ortiz"}, "phone": {"503 555 0199"}, "email": {"x@example.com"}, "password": {"wrong"}}
			r := h.send("POST", path, "", "application/x-www-form-urlencoded", form.Encode())
			if r.Status == http.StatusUnsupportedMediaType || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
				t.Errorf("the form at %s: %d %s %.200s", path, r.Status, r.Header.Get("Content-Type"), r.Raw)
			}
		}
	})
}

// Every curl example that sends a body says it is JSON, or it would get 415.
func TestCurlExamplesSendJSON(t *testing.T) {
	for _, file := range []string{"../../README.md", "../../docs/load/run.sh"} {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(raw), "\n")
		for i := 0; i < len(lines); i++ {
			if !strings.Contains(lines[i], "curl ") {
				continue
			}
			start, cmd := i+1, lines[i]
			for strings.HasSuffix(strings.TrimSpace(lines[i]), `\`) && i+1 < len(lines) {
				i++
				cmd += "\n" + lines[i]
			}
			if (strings.Contains(cmd, " -d ") || strings.Contains(cmd, "--data")) && !strings.Contains(cmd, "Content-Type: application/json") {
				t.Errorf("%s:%d: curl sends a body without Content-Type: application/json", file, start)
			}
		}
	}
}
