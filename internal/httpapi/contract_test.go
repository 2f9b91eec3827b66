package httpapi_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	verrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	"github.com/pb33f/libopenapi/datamodel/high/base"
)

// Every request a story test sends through the harness, and every answer it
// gets, is checked against openapi.json by libopenapi-validator: the answer
// always (its status must be documented and its body, errors included, must
// match the schema), the request when the server accepted it (2xx), since
// tests of bad input send bodies the document rightly refuses. A request
// the server accepts although the document refuses it on purpose (a bad
// object inside a batch, a JSON media type other than application/json) is
// sent with one of the harness's unchecked senders. An answer to a path or
// method the document does not have (404, 405) must still be an Error.

var contract struct {
	once sync.Once
	v    validator.Validator
	// errorSchema is components/schemas/Error, for answers to paths and
	// methods the document does not have.
	errorSchema *base.Schema
	err         error
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
		doc, err := libopenapi.NewDocument(raw)
		if err != nil {
			contract.err = fmt.Errorf("parse openapi.json: %w", err)
			return
		}
		v, errs := validator.NewValidator(doc, config.WithFormatAssertions())
		if len(errs) > 0 {
			contract.err = fmt.Errorf("build validator of openapi.json: %v", errs)
			return
		}
		model, err := doc.BuildV3Model()
		if err != nil {
			contract.err = fmt.Errorf("build model of openapi.json: %w", err)
			return
		}
		contract.errorSchema = model.Model.Components.Schemas.GetOrZero("Error").Schema()
		contract.v = v
	})
	if contract.err != nil {
		t.Fatal(contract.err)
	}
	return contract.v
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
	if checkRequest && rec.Code >= 200 && rec.Code < 300 {
		if ok, errs := v.ValidateHttpRequestSync(again()); !ok {
			h.t.Fatalf("%s: accepted request (%d) does not match openapi.json:\n%s\nbody: %s", what, rec.Code, contractErrors(errs), body)
		}
	}
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
// answer with a wrong field type, one with an undocumented status, and an
// accepted body missing a required field are all reported.
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
	put := httptest.NewRequest(http.MethodPut, "/api/v1/customers/angie", strings.NewReader(`{"address":"14 Maple St"}`))
	put.Header.Set("Content-Type", "application/json")
	put.Header.Set("Authorization", "Bearer k")
	if ok, _ := v.ValidateHttpRequestSync(put); ok {
		t.Error("a customer without a name passed")
	}
}
