package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/neighbor"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/scheduling"
)

// These tests keep openapi.json honest: every registered route is documented
// and nothing else is, every reference resolves, and the body schemas list
// exactly the JSON fields of the Go types the handlers decode and encode.

type specObject = map[string]any

// specMethods are the operation keys of an OpenAPI path item.
var specMethods = map[string]bool{
	"get": true, "put": true, "post": true, "delete": true,
	"options": true, "head": true, "patch": true, "trace": true,
}

func loadOpenAPISpec(t *testing.T) specObject {
	t.Helper()
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatalf("read openapi.json: %v", err)
	}
	var doc specObject
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	return doc
}

func specRouter() *echo.Echo {
	return New(Deps{Ready: func(context.Context) error { return nil }})
}

func specMap(t *testing.T, v any, where string) specObject {
	t.Helper()
	m, ok := v.(specObject)
	if !ok {
		t.Fatalf("%s: want a JSON object, got %T", where, v)
	}
	return m
}

// specOperation is one method on one path of the document.
type specOperation struct {
	method, path string
	op           specObject
}

func (o specOperation) String() string { return strings.ToUpper(o.method) + " " + o.path }

func specOperations(t *testing.T, doc specObject) []specOperation {
	t.Helper()
	var out []specOperation
	for path, item := range specMap(t, doc["paths"], "paths") {
		for method, op := range specMap(t, item, "paths."+path) {
			if specMethods[method] {
				out = append(out, specOperation{method, path, specMap(t, op, path+"."+method)})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// specResolve follows a local reference such as "#/components/schemas/Customer".
func specResolve(doc specObject, ref string) (any, bool) {
	if !strings.HasPrefix(ref, "#/") {
		return nil, false
	}
	var cur any = doc
	for _, tok := range strings.Split(ref[2:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(specObject)
		if !ok {
			return nil, false
		}
		if cur, ok = m[tok]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// specDeref returns v itself, or what its $ref points at.
func specDeref(t *testing.T, doc specObject, v any) specObject {
	t.Helper()
	m := specMap(t, v, "reference")
	if ref, ok := m["$ref"].(string); ok {
		target, ok := specResolve(doc, ref)
		if !ok {
			t.Fatalf("$ref %q does not resolve", ref)
		}
		return specMap(t, target, ref)
	}
	return m
}

var echoParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// registeredRoutes lists the routes echo serves as "METHOD /path/{param}",
// leaving out echo's own catch-alls (method echo_route_not_found and the like).
func registeredRoutes(e *echo.Echo) map[string]bool {
	out := map[string]bool{}
	for _, r := range e.Routes() {
		if !specMethods[strings.ToLower(r.Method)] {
			continue
		}
		out[r.Method+" "+echoParam.ReplaceAllString(r.Path, "{$1}")] = true
	}
	return out
}

func TestOpenAPIIsOpenAPI31(t *testing.T) {
	doc := loadOpenAPISpec(t)
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		t.Errorf(`openapi = %q, want "3.1.x"`, v)
	}
	info := specMap(t, doc["info"], "info")
	if info["title"] != "routeloop" || info["version"] != "1" {
		t.Errorf("info title/version = %v/%v, want routeloop/1", info["title"], info["version"])
	}
	schemes := specMap(t, specMap(t, doc["components"], "components")["securitySchemes"], "securitySchemes")
	bearer := specMap(t, schemes["bearerAuth"], "securitySchemes.bearerAuth")
	if bearer["type"] != "http" || bearer["scheme"] != "bearer" {
		t.Errorf("bearerAuth = %v, want an http bearer scheme", bearer)
	}
	ids := map[string]string{}
	for _, o := range specOperations(t, doc) {
		id, _ := o.op["operationId"].(string)
		if id == "" {
			t.Errorf("%s has no operationId", o)
		} else if prev, dup := ids[id]; dup {
			t.Errorf("operationId %s is used by both %s and %s", id, prev, o)
		}
		ids[id] = o.String()
	}
}

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	doc := loadOpenAPISpec(t)
	routes := registeredRoutes(specRouter())
	if len(routes) == 0 {
		t.Fatal("the router has no routes")
	}
	documented := map[string]bool{}
	for _, o := range specOperations(t, doc) {
		documented[o.String()] = true
	}
	var missing, extra []string
	for r := range routes {
		if !documented[r] {
			missing = append(missing, r)
		}
	}
	for d := range documented {
		if !routes[d] {
			extra = append(extra, d)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	for _, r := range missing {
		t.Errorf("route %s is registered in routes.go but not documented in openapi.json", r)
	}
	for _, d := range extra {
		t.Errorf("openapi.json documents %s, but no such route is registered", d)
	}
}

func TestOpenAPIPathParameters(t *testing.T) {
	doc := loadOpenAPISpec(t)
	inPath := regexp.MustCompile(`\{([^}]+)\}`)
	for _, o := range specOperations(t, doc) {
		want := map[string]bool{}
		for _, m := range inPath.FindAllStringSubmatch(o.path, -1) {
			want[m[1]] = true
		}
		got := map[string]bool{}
		params, _ := o.op["parameters"].([]any)
		for _, p := range params {
			p := specDeref(t, doc, p)
			if p["in"] == "path" {
				got[p["name"].(string)] = true
				if p["required"] != true {
					t.Errorf("%s: path parameter %v must be required", o, p["name"])
				}
				schema, _ := p["schema"].(specObject)
				if want, ok := specPathParamTypes[p["name"].(string)]; ok && schema["type"] != want {
					t.Errorf("%s: path parameter %v has type %v, want %s", o, p["name"], schema["type"], want)
				}
			}
		}
		if !reflect.DeepEqual(want, got) {
			t.Errorf("%s: path parameters %v, but the path has %v", o, specKeys(got), specKeys(want))
		}
	}
}

// specPathParamTypes are the JSON types of the path parameters: the
// scheduler's ids are strings, routeloop's own ids (neighbour links) are
// whole numbers that the handlers parse.
var specPathParamTypes = map[string]string{
	"external_id": "string",
	"id":          "integer",
}

func specKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// specSecurity is the security requirement list that applies to an operation.
func specSecurity(doc specObject, op specObject) []any {
	if s, ok := op["security"]; ok {
		list, _ := s.([]any)
		return list
	}
	list, _ := doc["security"].([]any)
	return list
}

func TestOpenAPISecurityAndResponses(t *testing.T) {
	doc := loadOpenAPISpec(t)
	public := map[string]bool{
		"GET /healthz":             true,
		"GET /readyz":              true,
		"GET /api/v1/openapi.json": true,
	}
	for _, o := range specOperations(t, doc) {
		responses := specMap(t, o.op["responses"], o.String()+" responses")
		sec := specSecurity(doc, o.op)
		if public[o.String()] {
			for _, req := range sec {
				if len(specMap(t, req, o.String()+" security")) > 0 {
					t.Errorf("%s is served without a key, but the document asks for %v", o, req)
				}
			}
			continue
		}
		if strings.HasPrefix(o.path, "/api/v1/") {
			bearer := false
			for _, req := range sec {
				if _, ok := specMap(t, req, o.String()+" security")["bearerAuth"]; ok {
					bearer = true
				}
			}
			if !bearer {
				t.Errorf("%s needs a key but does not declare the bearerAuth security", o)
			}
			for _, code := range []string{"401", "403"} {
				if _, ok := responses[code]; !ok {
					t.Errorf("%s needs a key but documents no %s response", o, code)
				}
			}
			if desc, _ := o.op["description"].(string); !strings.Contains(desc, "Roles:") {
				t.Errorf("%s: the description must say which roles may call it (\"Roles: ...\")", o)
			}
		}
		if o.method == "put" || o.method == "post" {
			if _, ok := responses["422"]; !ok {
				t.Errorf("%s documents no 422 response", o)
			}
			if _, ok := o.op["requestBody"]; !ok {
				t.Errorf("%s documents no request body", o)
			}
		}
		for _, code := range []string{"200", "201"} {
			r, ok := responses[code]
			if !ok {
				if specUpsert(o) || (code == "200" && o.method == "put") {
					t.Errorf("%s documents no %s response", o, code)
				}
				continue
			}
			headers, _ := specDeref(t, doc, r)["headers"].(specObject)
			_, has := headers["Routeloop-Upsert"]
			if specUpsert(o) && !has {
				t.Errorf("%s: the %s response does not document the Routeloop-Upsert header", o, code)
			}
			if !specUpsert(o) && has {
				t.Errorf("%s: the %s response documents the Routeloop-Upsert header, which only upserts send", o, code)
			}
		}
	}
}

// specUpsert reports whether an operation answers through upserted(): 201
// with "Routeloop-Upsert: created" when it made the object, 200 with
// "updated" when it was there. These are the PUTs keyed by the scheduler's
// id, and POST /neighbor-links (linking a linked pair returns its open link).
// PUT /program replaces the settings and always answers 200 without it.
func specUpsert(o specOperation) bool {
	return (o.method == "put" && strings.Contains(o.path, "{external_id}")) ||
		o.String() == "POST /api/v1/neighbor-links"
}

// specWalkRefs calls fn with every $ref value in v and where it was found.
func specWalkRefs(v any, where string, fn func(ref, where string)) {
	switch x := v.(type) {
	case specObject:
		for k, val := range x {
			if s, ok := val.(string); ok && k == "$ref" {
				fn(s, where)
				continue
			}
			specWalkRefs(val, where+"/"+k, fn)
		}
	case []any:
		for _, val := range x {
			specWalkRefs(val, where, fn)
		}
	}
}

func TestOpenAPIRefsResolve(t *testing.T) {
	doc := loadOpenAPISpec(t)
	n := 0
	specWalkRefs(doc, "#", func(ref, where string) {
		n++
		if !strings.HasPrefix(ref, "#/components/") {
			t.Errorf("%s: $ref %q does not point into #/components", where, ref)
			return
		}
		if _, ok := specResolve(doc, ref); !ok {
			t.Errorf("%s: $ref %q does not resolve", where, ref)
		}
	})
	if n == 0 {
		t.Error("the document has no $ref at all; the walk is broken")
	}
}

// goJSONMember is one JSON member encoding/json writes for a struct field.
type goJSONMember struct {
	name      string
	omitempty bool // left out when empty, so an answer need not carry it
}

// goJSONMembers lists the JSON members encoding/json uses for a struct type:
// json tags that are not "-", embedded structs flattened, sorted by name.
func goJSONMembers(t reflect.Type) []goJSONMember {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []goJSONMember
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				out = append(out, goJSONMembers(ft)...)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		omit := false
		for _, o := range strings.Split(opts, ",") {
			omit = omit || o == "omitempty" || o == "omitzero"
		}
		out = append(out, goJSONMember{name, omit})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// goJSONFields lists the JSON member names encoding/json uses for a struct
// type: json tags that are not "-", options stripped, embedded structs
// flattened.
func goJSONFields(t reflect.Type) []string {
	var out []string
	for _, m := range goJSONMembers(t) {
		out = append(out, m.name)
	}
	return out
}

// goJSONAlways lists the members an answer always carries (no omitempty).
func goJSONAlways(t reflect.Type) []string {
	out := []string{}
	for _, m := range goJSONMembers(t) {
		if !m.omitempty {
			out = append(out, m.name)
		}
	}
	return out
}

// specRequired lists a schema's required members, sorted.
func specRequired(schema specObject) []string {
	out := []string{}
	req, _ := schema["required"].([]any)
	for _, r := range req {
		out = append(out, r.(string))
	}
	sort.Strings(out)
	return out
}

func specSchema(t *testing.T, doc specObject, name string) specObject {
	t.Helper()
	s, ok := specResolve(doc, "#/components/schemas/"+name)
	if !ok {
		t.Fatalf("components/schemas/%s is missing", name)
	}
	return specMap(t, s, name)
}

func specProperties(t *testing.T, schema specObject, where string) []string {
	t.Helper()
	props, ok := schema["properties"].(specObject)
	if !ok {
		t.Fatalf("%s has no properties", where)
	}
	return specKeys(props)
}

func TestOpenAPISchemasMatchGoTypes(t *testing.T) {
	doc := loadOpenAPISpec(t)
	cases := []struct {
		schema string
		goType any
		input  bool // a request body: unknown fields are refused
	}{
		{"CustomerInput", scheduling.CustomerInput{}, true},
		{"CrewInput", scheduling.CrewInput{}, true},
		{"CrewMemberInput", scheduling.MemberInput{}, true},
		{"VisitInput", scheduling.VisitInput{}, true},
		{"InvoiceInput", invoice.Input{}, true},
		{"InvoiceLineInput", invoice.LineInput{}, true},
		{"Customer", scheduling.Customer{}, false},
		{"Crew", scheduling.Crew{}, false},
		{"CrewMember", scheduling.CrewMember{}, false},
		{"Visit", scheduling.Visit{}, false},
		{"Invoice", invoice.Invoice{}, false},
		{"InvoiceLine", invoice.Line{}, false},
		{"Error", errorBody{}, false},
		// The neighbour feature. PUT /program decodes into program.Program
		// itself, so ProgramInput lists updated_at too (accepted, ignored).
		{"ProgramInput", program.Program{}, true},
		{"NeighborLinkInput", neighbor.LinkInput{}, true},
		{"ReconcileInput", reconcileInput{}, true},
		{"Program", program.Program{}, false},
		{"NearbyCustomer", neighbor.Nearby{}, false},
		{"SyncedVisit", neighbor.SyncedVisit{}, false},
		{"NeighborRef", neighbor.NeighborRef{}, false},
		{"NeighborLink", neighbor.Link{}, false},
		{"SyncAdjustment", neighbor.Adjustment{}, false},
		{"ReconcileResult", neighbor.ReconcileResult{}, false},
	}
	for _, c := range cases {
		t.Run(c.schema, func(t *testing.T) {
			s := specSchema(t, doc, c.schema)
			want := goJSONFields(reflect.TypeOf(c.goType))
			got := specProperties(t, s, c.schema)
			if !reflect.DeepEqual(want, got) {
				t.Errorf("schema %s has properties %v, but %T has JSON fields %v",
					c.schema, got, c.goType, want)
			}
			if c.input && s["additionalProperties"] != false {
				t.Errorf("schema %s must say additionalProperties: false: decode refuses unknown fields", c.schema)
			}
			// An answer always carries the members without omitempty, and
			// may leave out the others: required says exactly that.
			if !c.input {
				if want, got := goJSONAlways(reflect.TypeOf(c.goType)), specRequired(s); !reflect.DeepEqual(want, got) {
					t.Errorf("schema %s requires %v, but %T always writes %v (the others are omitempty)",
						c.schema, got, c.goType, want)
				}
			}
		})
	}
	t.Run("Error.error", func(t *testing.T) {
		inner := specMap(t, specMap(t, specSchema(t, doc, "Error")["properties"], "Error.properties")["error"], "Error.error")
		want := goJSONFields(reflect.TypeOf(errorDetail{}))
		if got := specProperties(t, inner, "Error.error"); !reflect.DeepEqual(want, got) {
			t.Errorf("Error.error has properties %v, but errorDetail has JSON fields %v", got, want)
		}
	})
}

func TestOpenAPIRequiredFieldsExist(t *testing.T) {
	doc := loadOpenAPISpec(t)
	var check func(v any, where string)
	check = func(v any, where string) {
		switch x := v.(type) {
		case specObject:
			if req, ok := x["required"].([]any); ok {
				props, _ := x["properties"].(specObject)
				for _, r := range req {
					if _, ok := props[r.(string)]; !ok {
						t.Errorf("%s requires %v, which is not among its properties", where, r)
					}
				}
			}
			for k, val := range x {
				check(val, where+"/"+k)
			}
		case []any:
			for _, val := range x {
				check(val, where)
			}
		}
	}
	check(specMap(t, doc["components"], "components")["schemas"], "#/components/schemas")
}

// specBodyRef is the schema $ref of an application/json body (request or response).
func specBodyRef(t *testing.T, doc specObject, body any, where string) string {
	t.Helper()
	b := specDeref(t, doc, body)
	content := specMap(t, b["content"], where+" content")
	media := specMap(t, content["application/json"], where+" application/json")
	schema := specMap(t, media["schema"], where+" schema")
	ref, _ := schema["$ref"].(string)
	return ref
}

func TestOpenAPIOperationsUseTheirSchemas(t *testing.T) {
	doc := loadOpenAPISpec(t)
	ops := map[string]specObject{}
	for _, o := range specOperations(t, doc) {
		ops[o.String()] = o.op
	}
	const schemas = "#/components/schemas/"
	for _, c := range []struct{ collection, input, object, list string }{
		{"customers", "CustomerInput", "Customer", "CustomerList"},
		{"crews", "CrewInput", "Crew", "CrewList"},
		{"visits", "VisitInput", "Visit", "VisitList"},
		{"invoices", "InvoiceInput", "Invoice", "InvoiceList"},
	} {
		one := "/api/v1/" + c.collection + "/{external_id}"
		put, get, list := ops["PUT "+one], ops["GET "+one], ops["GET /api/v1/"+c.collection]
		if put == nil || get == nil || list == nil {
			t.Errorf("%s: PUT and GET %s and GET /api/v1/%s must all be documented", c.collection, one, c.collection)
			continue
		}
		if got := specBodyRef(t, doc, put["requestBody"], "PUT "+one+" body"); got != schemas+c.input {
			t.Errorf("PUT %s takes %q, want %s", one, got, schemas+c.input)
		}
		for _, code := range []string{"200", "201"} {
			r, ok := specMap(t, put["responses"], "responses")[code]
			if !ok {
				continue // TestOpenAPISecurityAndResponses reports it
			}
			if got := specBodyRef(t, doc, r, "PUT "+one+" "+code); got != schemas+c.object {
				t.Errorf("PUT %s answers %s with %q, want %s", one, code, got, schemas+c.object)
			}
		}
		if got := specBodyRef(t, doc, specMap(t, get["responses"], "responses")["200"], "GET "+one); got != schemas+c.object {
			t.Errorf("GET %s answers %q, want %s", one, got, schemas+c.object)
		}
		if got := specBodyRef(t, doc, specMap(t, list["responses"], "responses")["200"], "GET list"); got != schemas+c.list {
			t.Errorf("GET /api/v1/%s answers %q, want %s", c.collection, got, schemas+c.list)
		}
		// The list body is {"<collection>": [...], "next_cursor": "..."}.
		ls := specSchema(t, doc, c.list)
		want := []string{c.collection, "next_cursor"}
		sort.Strings(want)
		if got := specProperties(t, ls, c.list); !reflect.DeepEqual(got, want) {
			t.Errorf("%s has properties %v, want %v", c.list, got, want)
		}
		items := specMap(t, specMap(t, specMap(t, ls["properties"], c.list)[c.collection], c.list+"."+c.collection)["items"], "items")
		if items["$ref"] != schemas+c.object {
			t.Errorf("%s.%s items are %v, want %s", c.list, c.collection, items["$ref"], schemas+c.object)
		}
		var names []string
		for _, p := range list["parameters"].([]any) {
			names = append(names, specDeref(t, doc, p)["name"].(string))
		}
		for _, want := range []string{"limit", "cursor"} {
			if !strings.Contains(" "+strings.Join(names, " ")+" ", " "+want+" ") {
				t.Errorf("GET /api/v1/%s does not document the %s query parameter", c.collection, want)
			}
		}
	}
}

// TestOpenAPINeighborOperationsUseTheirSchemas checks the bodies of the
// program and neighbour operations, whose handlers encode maps for lists:
// {"<name>": [...]} and, when paginated, "next_cursor".
func TestOpenAPINeighborOperationsUseTheirSchemas(t *testing.T) {
	doc := loadOpenAPISpec(t)
	ops := map[string]specObject{}
	for _, o := range specOperations(t, doc) {
		ops[o.String()] = o.op
	}
	const schemas = "#/components/schemas/"
	for _, c := range []struct {
		op, input string
		answers   map[string]string // status -> schema
		params    []string          // query parameters the handler reads
	}{
		{"GET /api/v1/program", "", map[string]string{"200": "Program"}, nil},
		{"PUT /api/v1/program", "ProgramInput", map[string]string{"200": "Program"}, nil},
		{"GET /api/v1/customers/{external_id}/nearby", "", map[string]string{"200": "NearbyCustomerList"}, []string{"radius_m", "limit"}},
		{"GET /api/v1/customers/{external_id}/sync-history", "", map[string]string{"200": "SyncHistory"}, []string{"from", "to"}},
		{"POST /api/v1/neighbor-links", "NeighborLinkInput", map[string]string{"200": "NeighborLink", "201": "NeighborLink"}, nil},
		{"GET /api/v1/neighbor-links", "", map[string]string{"200": "NeighborLinkList"}, []string{"limit", "cursor", "customer_id", "active_on"}},
		{"GET /api/v1/neighbor-links/{id}", "", map[string]string{"200": "NeighborLink"}, nil},
		{"DELETE /api/v1/neighbor-links/{id}", "", map[string]string{"200": "NeighborLink"}, []string{"ends_on", "reason"}},
		{"GET /api/v1/sync-adjustments", "", map[string]string{"200": "SyncAdjustmentList"}, []string{"limit", "cursor", "kind", "status"}},
		{"POST /api/v1/reconcile", "ReconcileInput", map[string]string{"200": "ReconcileResult"}, nil},
	} {
		op := ops[c.op]
		if op == nil {
			t.Errorf("%s is not documented", c.op)
			continue
		}
		if c.input != "" {
			if got := specBodyRef(t, doc, op["requestBody"], c.op+" body"); got != schemas+c.input {
				t.Errorf("%s takes %q, want %s", c.op, got, schemas+c.input)
			}
		} else if _, ok := op["requestBody"]; ok {
			t.Errorf("%s documents a request body, but the handler reads none", c.op)
		}
		responses := specMap(t, op["responses"], c.op+" responses")
		for code, want := range c.answers {
			r, ok := responses[code]
			if !ok {
				t.Errorf("%s documents no %s response", c.op, code)
				continue
			}
			if got := specBodyRef(t, doc, r, c.op+" "+code); got != schemas+want {
				t.Errorf("%s answers %s with %q, want %s", c.op, code, got, schemas+want)
			}
		}
		for code := range responses {
			if code[0] == '2' && c.answers[code] == "" {
				t.Errorf("%s documents a %s answer the handler never gives", c.op, code)
			}
		}
		var names []string
		params, _ := op["parameters"].([]any)
		for _, p := range params {
			if p := specDeref(t, doc, p); p["in"] == "query" {
				names = append(names, p["name"].(string))
			}
		}
		sort.Strings(names)
		want := slices.Sorted(slices.Values(c.params))
		if !slices.Equal(names, want) {
			t.Errorf("%s documents the query parameters %v, but the handler reads %v", c.op, names, want)
		}
	}
	for _, c := range []struct {
		list, member, item string
		paged              bool
	}{
		{"NearbyCustomerList", "customers", "NearbyCustomer", false},
		{"SyncHistory", "synced_visits", "SyncedVisit", false},
		{"NeighborLinkList", "neighbor_links", "NeighborLink", true},
		{"SyncAdjustmentList", "sync_adjustments", "SyncAdjustment", true},
	} {
		ls := specSchema(t, doc, c.list)
		want := []string{c.member}
		if c.paged {
			want = append(want, "next_cursor")
		}
		sort.Strings(want)
		if got := specProperties(t, ls, c.list); !reflect.DeepEqual(got, want) {
			t.Errorf("%s has properties %v, want %v", c.list, got, want)
		}
		if got := specRequired(ls); !reflect.DeepEqual(got, want) {
			t.Errorf("%s requires %v, want %v: the handler always writes them", c.list, got, want)
		}
		items := specMap(t, specMap(t, specMap(t, ls["properties"], c.list)[c.member], c.list+"."+c.member)["items"], "items")
		if items["$ref"] != schemas+c.item {
			t.Errorf("%s.%s items are %v, want %s", c.list, c.member, items["$ref"], schemas+c.item)
		}
	}
	neighbor := specMap(t, specMap(t, specSchema(t, doc, "SyncedVisit")["properties"], "SyncedVisit.properties")["neighbor"], "SyncedVisit.neighbor")
	if neighbor["$ref"] != schemas+"NeighborRef" {
		t.Errorf("SyncedVisit.neighbor is %v, want %sNeighborRef", neighbor["$ref"], schemas)
	}
}

func TestOpenAPIServedAsIs(t *testing.T) {
	want, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	specRouter().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/openapi.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /api/v1/openapi.json = %d, want 200; body %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get(echo.HeaderContentType); !strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		t.Errorf("Content-Type = %q, want %s", ct, echo.MIMEApplicationJSON)
	}
	if !bytes.Equal(rec.Body.Bytes(), want) {
		t.Errorf("GET /api/v1/openapi.json serves %d bytes that differ from openapi.json (%d bytes)", rec.Body.Len(), len(want))
	}
}
