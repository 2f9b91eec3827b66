package httpapi_test

import (
	"bytes"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	verrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/paths"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	"github.com/pb33f/libopenapi/datamodel"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"

	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// Every request a story test sends through the harness, and every answer it
// gets, is checked against openapi.json by libopenapi-validator: the answer
// always (its status must be documented and its body, errors included, must
// match the schema), the request when the server accepted it (2xx), since
// tests of bad input send bodies the document rightly refuses. A request
// the server accepts although the document refuses it on purpose (a bad
// object inside a batch, a JSON media type other than application/json) is
// sent with one of the harness's unchecked senders. An answer to a path or
// method the document does not have (404, 405) must still be an Error. The
// check is strict (a member the document does not declare fails), and
// TestMain fails the package when a 2xx answer the document lists was never
// given and checked.

var contract struct {
	once sync.Once
	openAPI
	err error
	// answered holds "METHOD /documented/{path} status" of every 2xx
	// answer checked against the document.
	answered sync.Map
}

// openAPI is a document with its validator.
type openAPI struct {
	v     validator.Validator
	model *v3.Document
	// errorSchema is components/schemas/Error, for answers to paths and
	// methods the document does not have.
	errorSchema *base.Schema
}

// openAPIValidator is the validator of openapi.json, built once per test binary.
func openAPIValidator(t testing.TB) validator.Validator {
	t.Helper()
	contract.once.Do(func() {
		raw, err := os.ReadFile("openapi.json")
		if err != nil {
			contract.err = err
			return
		}
		contract.openAPI, contract.err = loadOpenAPI(raw)
	})
	if contract.err != nil {
		t.Fatal(contract.err)
	}
	return contract.v
}

// loadOpenAPI reads an OpenAPI 3.1 document: it must be valid against the
// OpenAPI schema and every reference in it must resolve.
func loadOpenAPI(raw []byte) (openAPI, error) {
	// What goes wrong comes back as an error; the library's own log of it
	// would only repeat it.
	cfg := datamodel.NewDocumentConfiguration()
	cfg.Logger = slog.New(slog.DiscardHandler)
	doc, err := libopenapi.NewDocumentWithConfiguration(raw, cfg)
	if err != nil {
		return openAPI{}, fmt.Errorf("parse openapi.json: %w", err)
	}
	if info := doc.GetSpecInfo(); info.SpecType != "openapi" || !strings.HasPrefix(info.Version, "3.1.") {
		return openAPI{}, fmt.Errorf("openapi.json is %s %s, want openapi 3.1.x", info.SpecType, info.Version)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		return openAPI{}, fmt.Errorf("build model of openapi.json: %w", err)
	}
	// Strict: an answer or request member, query parameter or header the
	// document does not declare fails, even where a schema leaves
	// additionalProperties open. Not checked: the security headers every
	// answer carries, the members of error.fields (named by the fields that
	// failed), and the document itself as GET /api/v1/openapi.json serves it.
	v, errs := validator.NewValidator(doc, config.WithFormatAssertions(), config.WithStrictMode(),
		config.WithStrictIgnoredHeadersExtra("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"),
		config.WithStrictIgnorePaths("$.body.error.fields**", "$.body.results[*].error.fields**",
			"$.body.openapi", "$.body.info", "$.body.servers", "$.body.tags", "$.body.paths", "$.body.webhooks", "$.body.components"))
	if len(errs) > 0 {
		return openAPI{}, fmt.Errorf("build validator of openapi.json: %v", errs)
	}
	if ok, errs := v.ValidateDocument(); !ok {
		return openAPI{}, fmt.Errorf("openapi.json is not a valid OpenAPI document:\n%s", contractErrors(errs))
	}
	return openAPI{v: v, model: &model.Model, errorSchema: model.Model.Components.Schemas.GetOrZero("Error").Schema()}, nil
}

// contractPath reports whether a path is part of the documented surface:
// the API, the inbound webhook receiver and the health probes. Customer
// pages and /metrics are not in the document.
func contractPath(path string) bool {
	return strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/hooks/") || path == "/healthz" || path == "/readyz"
}

// serve sends req (whose body is body) to the app and checks the exchange
// against openapi.json.
func (h *harness) serve(req *http.Request, body []byte) *httptest.ResponseRecorder {
	h.t.Helper()
	return h.serveChecking(req, body, true)
}

// serveAnswerChecked is serve for a request the document refuses on
// purpose: only the answer is checked.
func (h *harness) serveAnswerChecked(req *http.Request, body []byte) *httptest.ResponseRecorder {
	h.t.Helper()
	return h.serveChecking(req, body, false)
}

func (h *harness) serveChecking(req *http.Request, body []byte, checkRequest bool) *httptest.ResponseRecorder {
	h.t.Helper()
	rec := httptest.NewRecorder()
	h.app.HTTP.ServeHTTP(rec, req)
	if contractPath(req.URL.Path) {
		h.checkContract(req, body, rec, checkRequest)
	}
	return rec
}

// checkContract fails the test when the answer, or the accepted request,
// does not match openapi.json.
func (h *harness) checkContract(req *http.Request, body []byte, rec *httptest.ResponseRecorder, checkRequest bool) {
	h.t.Helper()
	v := openAPIValidator(h.t)
	again := func() *http.Request {
		r := req.Clone(req.Context())
		r.Body = http.NoBody
		if len(body) > 0 {
			r.Body = readCloser{bytes.NewReader(body)}
		}
		r.ContentLength = int64(len(body))
		return r
	}
	what := req.Method + " " + req.URL.RequestURI()
	ok, errs := v.ValidateHttpResponse(again(), rec.Result())
	if !ok && undocumented(errs) {
		if rec.Code != http.StatusNotFound && rec.Code != http.StatusMethodNotAllowed {
			h.t.Fatalf("%s is not in openapi.json, yet it answered %d: %s", what, rec.Code, rec.Body.Bytes())
		}
		ok, errs = schema_validation.NewSchemaValidator().ValidateSchemaBytes(contract.errorSchema, rec.Body.Bytes())
	}
	if !ok {
		h.t.Fatalf("%s: answer %d does not match openapi.json:\n%s\nbody: %s", what, rec.Code, contractErrors(errs), rec.Body.Bytes())
	}
	if rec.Code < 200 || rec.Code > 299 {
		return
	}
	if checkRequest {
		if ok, errs := v.ValidateHttpRequestSync(again()); !ok {
			h.t.Fatalf("%s: accepted request (%d) does not match openapi.json:\n%s\nbody: %s", what, rec.Code, contractErrors(errs), body)
		}
	}
	if _, _, path := paths.FindPath(again(), contract.model, nil); path != "" {
		contract.answered.Store(fmt.Sprintf("%s %s %d", req.Method, path, rec.Code), true)
		if checkRequest && len(body) > 0 {
			contract.answered.Store(fmt.Sprintf("%s %s request", req.Method, path), true)
		}
	}
}

// TestMain runs the tests and then, when all of them ran and passed, fails
// unless every 2xx answer the document lists was given in some test and
// checked against it, and every request body it lists was sent, accepted
// and checked: each operation's schemas are then proven by a real exchange,
// not only written down.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && flag.Lookup("test.run").Value.String() == "" && flag.Lookup("test.skip").Value.String() == "" && !testing.Short() {
		if missing := unanswered(); len(missing) > 0 {
			fmt.Fprintf(os.Stderr, "openapi.json lists answers no test received and checked:\n  %s\n", strings.Join(missing, "\n  "))
			code = 1
		}
	}
	os.Exit(code)
}

// unanswered lists the documented 2xx answers ("METHOD /path status") that
// no exchange of the harness gave, and the documented request bodies
// ("METHOD /path request") no accepted request carried.
func unanswered() []string {
	if contract.model == nil {
		return []string{"(the document was never loaded)"}
	}
	var out []string
	for path, item := range contract.model.Paths.PathItems.FromOldest() {
		for method, op := range item.GetOperations().FromOldest() {
			name := strings.ToUpper(method) + " " + path
			for status := range op.Responses.Codes.KeysFromOldest() {
				if _, ok := contract.answered.Load(name + " " + status); status[0] == '2' && !ok {
					out = append(out, name+" "+status)
				}
			}
			if _, ok := contract.answered.Load(name + " request"); op.RequestBody != nil && !ok {
				out = append(out, name+" request")
			}
		}
	}
	slices.Sort(out)
	return out
}

// undocumented reports whether the validator found no operation for the
// request: its path, or its method on that path, is not in the document.
func undocumented(errs []*verrors.ValidationError) bool {
	for _, e := range errs {
		if e.ValidationType != "path" {
			return false
		}
	}
	return len(errs) > 0
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// contractErrors renders the validator's findings, one per line.
func contractErrors(errs []*verrors.ValidationError) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "  %s: %s", e.Message, e.Reason)
		for _, f := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "\n    %s: %s (%s)", f.FieldPath, f.Reason, f.KeywordLocation)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestContractCheckRefusesWhatTheDocumentDoesNot shows the check can fail: an
// answer with a wrong field type, one with an undocumented status, one with
// a member the document does not declare, a request without the bearer key,
// and an accepted body missing a required field are all reported.
func TestContractCheckRefusesWhatTheDocumentDoesNot(t *testing.T) {
	v := openAPIValidator(t)
	answer := func(status int, body string) *http.Response {
		rec := httptest.NewRecorder()
		rec.Header().Set("Content-Type", "application/json")
		rec.WriteHeader(status)
		rec.WriteString(body)
		return rec.Result()
	}
	get := func() *http.Request {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/customers/angie", nil)
		req.Header.Set("Authorization", "Bearer k")
		return req
	}
	if ok, _ := v.ValidateHttpResponse(get(), answer(200, `{"external_id":"angie","name":5}`)); ok {
		t.Error("a customer whose name is a number passed")
	}
	if ok, _ := v.ValidateHttpResponse(get(), answer(418, `{"error":{"code":"teapot","message":"no"}}`)); ok {
		t.Error("an undocumented status passed")
	}
	endpoints := func(key string) *http.Request {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/webhook-endpoints", nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		return req
	}
	if ok, errs := v.ValidateHttpResponse(endpoints("k"), answer(200, `{"webhook_endpoints":[]}`)); !ok {
		t.Errorf("an empty list of endpoints failed:\n%s", contractErrors(errs))
	}
	if ok, _ := v.ValidateHttpResponse(endpoints("k"), answer(200, `{"webhook_endpoints":[],"total":0}`)); ok {
		t.Error("an answer with a member the document does not declare passed")
	}
	if ok, errs := v.ValidateHttpRequestSync(endpoints("k")); !ok {
		t.Errorf("a request with a key failed:\n%s", contractErrors(errs))
	}
	if ok, _ := v.ValidateHttpRequestSync(endpoints("")); ok {
		t.Error("a request without a bearer key passed")
	}
	put := httptest.NewRequest(http.MethodPut, "/api/v1/customers/angie", strings.NewReader(`{"address":"14 Maple St"}`))
	put.Header.Set("Content-Type", "application/json")
	put.Header.Set("Authorization", "Bearer k")
	if ok, _ := v.ValidateHttpRequestSync(put); ok {
		t.Error("a customer without a name passed")
	}
}

// Greenway's admin reads the document, adds an endpoint for its events,
// sends a delivery again, puts the endpoint back to work and removes it:
// answers no other story gives, checked against the document like all.
func TestTheWebhookEndpointAnswersMatchTheDocument(t *testing.T) {
	h := newHarness(t, storetest.Open(t, store.SQLite))
	if r := h.do("GET", "/api/v1/openapi.json", "", nil); r.Status != 200 || r.Body["openapi"] == nil {
		t.Fatalf("GET /api/v1/openapi.json: %d %.200s", r.Status, r.Raw)
	}
	hook := h.must(201, "POST", "/api/v1/webhook-endpoints", map[string]any{"url": "https://hooks.greenway.example/routeloop"})
	path := fmt.Sprintf("/api/v1/webhook-endpoints/%.0f", hook.Body["id"].(float64))
	h.seed(h.keys[tenant.RoleAdmin], "")
	h.must(201, "POST", "/api/v1/referrals", map[string]any{"channel": "code", "referrer_id": "angie",
		"referee": map[string]any{"name": "Ben Ortiz", "phone": "503 555 0199"}})
	ds, _ := h.must(200, "GET", "/api/v1/webhook-deliveries", nil).Body["webhook_deliveries"].([]any)
	if len(ds) == 0 {
		t.Fatal("the referral made no delivery")
	}
	d, _ := ds[0].(map[string]any)
	again := h.must(200, "POST", fmt.Sprintf("/api/v1/webhook-deliveries/%.0f/redeliver", d["id"].(float64)), nil)
	if again.Body["status"] != "pending" || again.Body["id"] != d["id"] {
		t.Errorf("redelivered: %s", again.Raw)
	}
	if r := h.must(200, "POST", path+"/enable", nil); r.Body["status"] != "active" {
		t.Errorf("enabled: %s", r.Raw)
	}
	h.must(204, "DELETE", path, nil)
	if eps, _ := h.must(200, "GET", "/api/v1/webhook-endpoints", nil).Body["webhook_endpoints"].([]any); len(eps) != 0 {
		t.Errorf("the endpoint is still listed: %v", eps)
	}
}

// A document whose reference leads nowhere does not load: every $ref of
// openapi.json resolves, or no test runs.
func TestADocumentWithABrokenReferenceDoesNotLoad(t *testing.T) {
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := loadOpenAPI(raw); err != nil {
		t.Fatalf("openapi.json does not load: %v", err)
	}
	const ref = `"$ref": "#/components/schemas/RefereeInput"`
	if !bytes.Contains(raw, []byte(ref)) {
		t.Fatalf("openapi.json has no %s to break", ref)
	}
	broken := bytes.Replace(raw, []byte(ref), []byte(`"$ref": "#/components/schemas/Nobody"`), 1)
	if _, err := loadOpenAPI(broken); err == nil || !strings.Contains(err.Error(), "Nobody") {
		t.Errorf("a reference to a missing schema loaded: %v", err)
	}
	notOpenAPI := bytes.Replace(raw, []byte(`"openapi": "3.1.0"`), []byte(`"openapi": "3.0.3"`), 1)
	if _, err := loadOpenAPI(notOpenAPI); err == nil {
		t.Error("an OpenAPI 3.0 document loaded")
	}
	invalid := bytes.Replace(raw, []byte(`"paths": {`), []byte(`"paths": {"no-slash": {}, `), 1)
	if _, err := loadOpenAPI(invalid); err == nil {
		t.Error("a path not starting with / passed the OpenAPI schema")
	}
}
