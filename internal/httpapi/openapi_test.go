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

	"github.com/routeloop/routeloop/internal/crew"
	"github.com/routeloop/routeloop/internal/dispatch"
	"github.com/routeloop/routeloop/internal/insight"
	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/ledger"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/neighbor"
	"github.com/routeloop/routeloop/internal/outbox"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/referral"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/webhook"
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

// registeredRoutes lists the API routes echo serves (paths under /api/, the
// inbound webhook receiver under /hooks/, and /healthz and /readyz) as
// "METHOD /path/{param}", leaving out echo's own catch-alls (method
// echo_route_not_found and the like).
func registeredRoutes(e *echo.Echo) map[string]bool {
	out := map[string]bool{}
	for _, r := range e.Routes() {
		if !specMethods[strings.ToLower(r.Method)] {
			continue
		}
		// HTML pages (such as /r/{code}) share the echo server but are not part of the JSON contract.
		if !strings.HasPrefix(r.Path, "/api/") && !strings.HasPrefix(r.Path, "/hooks/") && r.Path != "/healthz" && r.Path != "/readyz" {
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
// scheduler's ids, tenant ids (UUIDs) and script names are strings,
// routeloop's own ids (neighbour links, referrals, secrets, endpoints,
// deliveries) are whole numbers that the handlers parse.
var specPathParamTypes = map[string]string{
	"external_id": "string",
	"id":          "integer",
	"name":        "string",
	"tenant_id":   "string",
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

// specBodyless are the POSTs whose handlers read no request body: actions
// named by the path (and query) alone.
var specBodyless = map[string]bool{
	"POST /api/v1/webhook-secrets":                    true,
	"POST /api/v1/webhook-endpoints/{id}/enable":      true,
	"POST /api/v1/webhook-deliveries/{id}/redeliver":  true,
	"POST /api/v1/crews/{external_id}/route/optimize": true,
}

func TestOpenAPISecurityAndResponses(t *testing.T) {
	doc := loadOpenAPISpec(t)
	// The inbound webhook receiver takes no key: the Standard Webhooks
	// signature authenticates the sender.
	public := map[string]bool{
		"GET /healthz":               true,
		"GET /readyz":                true,
		"GET /api/v1/openapi.json":   true,
		"POST /hooks/v1/{tenant_id}": true,
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
		} else if strings.HasPrefix(o.path, "/api/v1/") {
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
		if specBodyless[o.String()] {
			if _, ok := o.op["requestBody"]; ok {
				t.Errorf("%s documents a request body, but the handler reads none", o)
			}
		} else if o.method == "put" || o.method == "post" {
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
// id, POST /neighbor-links (linking a linked pair returns its open link) and
// POST /referrals (the same friend referred again by the same referrer
// returns the referral already recorded), and the crew program's PUT
// /scripts/{name} (replaces the script of that name), POST
// /visits/{external_id}/rating (the same rating as the visit's latest again
// records nothing) and POST /pitches (the same visit and member again
// returns the pitch logged).
// PUT /program changes the settings and always answers 200 without it.
func specUpsert(o specOperation) bool {
	return (o.method == "put" && strings.Contains(o.path, "{external_id}")) ||
		specKeyedUpserts[o.String()]
}

// specKeyedUpserts are the upserts that are not the mirror's PUTs: they
// never answer stale, so 200 says "updated" and 201 "created".
var specKeyedUpserts = map[string]bool{
	"POST /api/v1/neighbor-links":              true,
	"POST /api/v1/referrals":                   true,
	"PUT /api/v1/scripts/{name}":               true,
	"POST /api/v1/visits/{external_id}/rating": true,
	"POST /api/v1/pitches":                     true,
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
		{"CustomerInput", mirror.CustomerInput{}, true},
		{"CrewInput", mirror.CrewInput{}, true},
		{"CrewMemberInput", mirror.MemberInput{}, true},
		{"VisitInput", mirror.VisitInput{}, true},
		{"InvoiceInput", invoice.Input{}, true},
		{"InvoiceLineInput", invoice.LineInput{}, true},
		{"Customer", mirror.Customer{}, false},
		{"Crew", mirror.Crew{}, false},
		{"CrewMember", mirror.CrewMember{}, false},
		{"Visit", mirror.Visit{}, false},
		{"Invoice", invoice.Invoice{}, false},
		{"InvoiceLine", invoice.Line{}, false},
		{"Error", errorBody{}, false},
		// The neighbour feature. PUT /program decodes into program.Input,
		// whose members are those of program.Program, updated_at included
		// (accepted, ignored).
		{"ProgramInput", program.Input{}, true},
		{"NeighborLinkInput", neighbor.LinkInput{}, true},
		{"ReconcileInput", reconcileInput{}, true},
		{"Program", program.Program{}, false},
		{"NearbyCustomer", neighbor.Nearby{}, false},
		{"SyncedVisit", neighbor.SyncedVisit{}, false},
		{"NeighborRef", neighbor.NeighborRef{}, false},
		{"NeighborLink", neighbor.Link{}, false},
		{"SyncAdjustment", ledger.Adjustment{}, false},
		{"ReconcileResult", ledger.ReconcileResult{}, false},
		{"ReconcileError", ledger.ReconcileError{}, false},
		{"ReconcileRangeResult", reconcileRange{}, false},
		{"CustomerLedger", ledger.CustomerLedger{}, false},
		{"LedgerItem", ledger.ItemEntry{}, false},
		{"LedgerGivenOn", ledger.GivenOn{}, false},
		// The referral engine, and the program's offers.
		{"ReferralOffer", program.Offer{}, true},
		{"OfferReward", program.Reward{}, true},
		{"ReferralInput", referral.Input{}, true},
		{"RefereeInput", referral.RefereeInput{}, true},
		{"ReferralDecisionInput", referral.Decision{}, true},
		{"ReferralRejectInput", referral.Decision{}, true},
		{"ReferralAttributeInput", referral.Decision{}, true},
		{"ReferralLocationInput", referral.LocationInput{}, true},
		{"Referral", referral.Referral{}, false},
		{"Referee", referral.Referee{}, false},
		{"ReferralFlag", referral.Flag{}, false},
		{"ReferralDecision", referral.DecisionEntry{}, false},
		{"Reward", referral.Reward{}, false},
		{"ReferralStatus", referral.Status{}, false},
		{"ReferralLinks", mirror.ReferralLinks{}, false},
		// Webhooks in: the data of a webhook is the PUT body plus
		// external_id, decoded into these structs (webhook.decodeObject).
		{"CustomerEventData", struct {
			ExternalID string `json:"external_id"`
			mirror.CustomerInput
		}{}, true},
		{"CrewEventData", struct {
			ExternalID string `json:"external_id"`
			mirror.CrewInput
		}{}, true},
		{"VisitEventData", struct {
			ExternalID string `json:"external_id"`
			mirror.VisitInput
		}{}, true},
		{"InvoiceEventData", struct {
			ExternalID string `json:"external_id"`
			invoice.Input
		}{}, true},
		{"SyncBatchInput", webhook.BatchInput{}, true},
		{"SyncBatchObject", webhook.BatchObject{}, true},
		{"SyncBatchReport", webhook.BatchReport{}, false},
		{"SyncBatchResult", webhook.BatchResult{}, false},
		{"SyncObjectError", webhook.ObjectError{}, false},
		{"WebhookSecret", webhook.Secret{}, false},
		// Webhooks out.
		{"WebhookEndpointInput", outbox.EndpointInput{}, true},
		{"WebhookEndpoint", outbox.Endpoint{}, false},
		{"WebhookDelivery", outbox.Delivery{}, false},
		// Dispatch.
		{"Slot", dispatch.Slot{}, false},
		{"NeighborOnDay", dispatch.NeighborOnDay{}, false},
		{"BookInput", dispatch.BookInput{}, true},
		{"Booking", dispatch.Booking{}, false},
		{"DayRoute", dispatch.DayRoute{}, false},
		{"RouteStop", dispatch.RouteStop{}, false},
		{"DayProposal", dispatch.DayProposal{}, false},
		{"OptimizeInput", dispatch.OptimizeInput{}, true},
		{"LatLonInput", dispatch.LatLon{}, true},
		{"OptimizeStopInput", dispatch.StopInput{}, true},
		{"Optimized", dispatch.Optimized{}, false},
		{"RouteSavings", dispatch.Savings{}, false},
		{"RouteSavingsRow", dispatch.SavingsRow{}, false},
		// The crew program.
		{"ScriptInput", crew.ScriptInput{}, true},
		{"Script", crew.Script{}, false},
		{"RatingInput", crew.RatingInput{}, true},
		{"Rating", crew.Rating{}, false},
		{"VisitRatings", crew.VisitRatings{}, false},
		{"ResolveInput", crew.ResolveInput{}, true},
		{"OpenComplaint", crew.Complaint{}, false},
		{"CrewDay", crew.Day{}, false},
		{"CrewDayMember", crew.MemberRef{}, false},
		{"CrewDayStop", crew.Stop{}, false},
		{"CrewDayCustomer", crew.StopCustomer{}, false},
		{"RatingSummary", crew.RatingStatus{}, false},
		{"PitchInput", crew.PitchInput{}, true},
		{"Pitch", crew.Pitch{}, false},
		{"CrewPointsEntry", crew.PointsEntry{}, false},
		{"CrewPeriod", crew.Period{}, false},
		{"Leaderboard", crew.Leaderboard{}, false},
		{"LeaderboardStanding", crew.Standing{}, false},
		{"MilestoneInput", crew.MilestoneInput{}, true},
		{"Milestone", crew.Progress{}, false},
		// Insights.
		{"InsightKPIs", insight.KPIs{}, false},
		{"KPIRow", insight.Row{}, false},
		{"KPIBudget", insight.Budget{}, false},
		{"ABTest", insight.AB{}, false},
		{"ABVariant", insight.Variant{}, false},
		{"ABComparison", insight.Comparison{}, false},
		{"WordOfMouth", insight.WordOfMouth{}, false},
		{"WordOfMouthMonth", insight.Month{}, false},
	}
	// Both a request body and part of an answer: the program's offers, sent
	// in PUT /program and answered by GET /program.
	shared := map[string]bool{"ReferralOffer": true, "OfferReward": true}
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
			if !c.input || shared[c.schema] {
				if want, got := goJSONAlways(reflect.TypeOf(c.goType)), specRequired(s); !reflect.DeepEqual(want, got) {
					t.Errorf("schema %s requires %v, but %T always writes %v (the others are omitempty)",
						c.schema, got, c.goType, want)
				}
			}
		})
	}
	// Answers the handlers encode from maps or unexported types, whose
	// members can only be listed here: keep them equal to the handler code.
	for _, c := range []struct {
		schema, where   string
		members, always []string
	}{
		// createWebhookSecret's map.
		{"WebhookSecretCreated", "createWebhookSecret", []string{"id", "secret", "prefix", "created_at"}, nil},
		// webhook.outcome, the body of an applied inbound webhook.
		{"WebhookOutcome", "webhook.outcome", []string{"webhook_id", "type", "external_id", "result"}, nil},
		// webhook.envelope, the body of an inbound webhook (type and data
		// are checked by decodeEvent; timestamp is optional).
		{"WebhookEvent", "webhook.envelope", []string{"type", "timestamp", "data"}, []string{"type", "data"}},
	} {
		s := specSchema(t, doc, c.schema)
		want := slices.Sorted(slices.Values(c.members))
		if got := specProperties(t, s, c.schema); !slices.Equal(got, want) {
			t.Errorf("schema %s has properties %v, but %s writes %v", c.schema, got, c.where, want)
		}
		always := c.always
		if always == nil {
			always = c.members
		}
		if got, want := specRequired(s), slices.Sorted(slices.Values(always)); !slices.Equal(got, want) {
			t.Errorf("schema %s requires %v, want %v", c.schema, got, want)
		}
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

// specNoContent stands for an answer without a body (204).
const specNoContent = "(no content)"

// TestOpenAPIFeatureOperationsUseTheirSchemas checks the bodies of the
// program, neighbour, referral, webhook and dispatch operations, whose
// handlers encode maps for lists: {"<name>": [...]} and, when paginated,
// "next_cursor".
func TestOpenAPIFeatureOperationsUseTheirSchemas(t *testing.T) {
	doc := loadOpenAPISpec(t)
	ops := map[string]specObject{}
	for _, o := range specOperations(t, doc) {
		ops[o.String()] = o.op
	}
	const schemas = "#/components/schemas/"
	for _, c := range []struct {
		op, input string
		answers   map[string]string // status -> schema, or specNoContent
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
		{"POST /api/v1/reconcile", "ReconcileInput", map[string]string{"200": "ReconcileAnswer"}, nil},
		{"POST /api/v1/referrals", "ReferralInput", map[string]string{"200": "Referral", "201": "Referral"}, nil},
		{"GET /api/v1/referrals", "", map[string]string{"200": "ReferralList"}, []string{"limit", "cursor", "status", "referrer_id"}},
		{"GET /api/v1/referrals/{id}", "", map[string]string{"200": "Referral"}, nil},
		{"GET /api/v1/referrals/{id}/decisions", "", map[string]string{"200": "ReferralDecisionList"}, nil},
		{"POST /api/v1/referrals/{id}/approve", "ReferralDecisionInput", map[string]string{"200": "Referral"}, nil},
		{"POST /api/v1/referrals/{id}/reject", "ReferralRejectInput", map[string]string{"200": "Referral"}, nil},
		{"POST /api/v1/referrals/{id}/attribute", "ReferralAttributeInput", map[string]string{"200": "Referral"}, nil},
		{"PUT /api/v1/referrals/{id}/location", "ReferralLocationInput", map[string]string{"200": "Referral"}, nil},
		{"GET /api/v1/rewards", "", map[string]string{"200": "RewardList"}, []string{"customer_id"}},
		{"GET /api/v1/customers/{external_id}/referral-status", "", map[string]string{"200": "ReferralStatus"}, nil},
		{"GET /api/v1/customers/{external_id}/referral-links", "", map[string]string{"200": "ReferralLinks"}, nil},
		{"POST /hooks/v1/{tenant_id}", "WebhookEvent", map[string]string{"200": "WebhookOutcome"}, nil},
		{"POST /api/v1/sync/batch", "SyncBatchInput", map[string]string{"200": "SyncBatchReport"}, nil},
		{"POST /api/v1/webhook-secrets", "", map[string]string{"201": "WebhookSecretCreated"}, nil},
		{"GET /api/v1/webhook-secrets", "", map[string]string{"200": "WebhookSecretList"}, []string{"limit", "cursor"}},
		{"DELETE /api/v1/webhook-secrets/{id}", "", map[string]string{"200": "WebhookSecret"}, nil},
		{"POST /api/v1/webhook-endpoints", "WebhookEndpointInput", map[string]string{"201": "WebhookEndpoint"}, nil},
		{"GET /api/v1/webhook-endpoints", "", map[string]string{"200": "WebhookEndpointList"}, nil},
		{"DELETE /api/v1/webhook-endpoints/{id}", "", map[string]string{"204": specNoContent}, nil},
		{"POST /api/v1/webhook-endpoints/{id}/enable", "", map[string]string{"200": "WebhookEndpoint"}, nil},
		{"POST /api/v1/invoices/{external_id}/rotate-link", "EmptyBody", map[string]string{"200": "Invoice"}, nil},
		{"GET /api/v1/webhook-deliveries", "", map[string]string{"200": "WebhookDeliveryList"}, []string{"limit", "cursor", "status"}},
		{"POST /api/v1/webhook-deliveries/{id}/redeliver", "", map[string]string{"200": "WebhookDelivery"}, nil},
		{"GET /api/v1/customers/{external_id}/suggestions", "", map[string]string{"200": "SuggestionList"}, []string{"from", "to", "duration_min", "limit"}},
		{"GET /api/v1/referrals/{id}/suggestions", "", map[string]string{"200": "SuggestionList"}, []string{"from", "to", "duration_min", "limit"}},
		{"POST /api/v1/linked-visits", "BookInput", map[string]string{"201": "Booking"}, nil},
		{"GET /api/v1/crews/{external_id}/route", "", map[string]string{"200": "DayRoute"}, []string{"date"}},
		{"POST /api/v1/crews/{external_id}/route/optimize", "", map[string]string{"200": "DayProposal"}, []string{"date", "apply"}},
		{"POST /api/v1/routes/optimize", "OptimizeInput", map[string]string{"200": "Optimized"}, nil},
		{"GET /api/v1/insights/route-savings", "", map[string]string{"200": "RouteSavings"}, []string{"from", "to", "crew_id"}},
		{"GET /api/v1/scripts", "", map[string]string{"200": "ScriptList"}, nil},
		{"POST /api/v1/scripts", "ScriptCreateInput", map[string]string{"201": "Script"}, nil},
		{"PUT /api/v1/scripts/{name}", "ScriptInput", map[string]string{"200": "Script", "201": "Script"}, nil},
		{"GET /api/v1/visits/{external_id}/rating", "", map[string]string{"200": "VisitRatings"}, nil},
		{"POST /api/v1/visits/{external_id}/rating", "RatingInput", map[string]string{"200": "VisitRatings", "201": "VisitRatings"}, nil},
		{"POST /api/v1/visits/{external_id}/rating/resolve", "ResolveInput", map[string]string{"200": "VisitRatings"}, nil},
		{"GET /api/v1/crews/{external_id}/today", "", map[string]string{"200": "CrewDay"}, []string{"date", "member_id"}},
		{"POST /api/v1/pitches", "PitchInput", map[string]string{"200": "Pitch", "201": "Pitch"}, nil},
		{"GET /api/v1/crew/leaderboard", "", map[string]string{"200": "Leaderboard"}, []string{"period", "date"}},
		{"GET /api/v1/crew/milestones", "", map[string]string{"200": "MilestoneList"}, []string{"date"}},
		{"POST /api/v1/crew/milestones", "MilestoneInput", map[string]string{"201": "Milestone"}, nil},
		{"GET /api/v1/insights/kpis", "", map[string]string{"200": "InsightKPIs"}, []string{"from", "to", "group", "group_by", "format"}},
		{"GET /api/v1/insights/ab", "", map[string]string{"200": "ABTest"}, []string{"from", "to", "kind", "format"}},
		{"GET /api/v1/insights/word-of-mouth", "", map[string]string{"200": "WordOfMouth"}, []string{"from", "to", "format"}},
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
			if want == specNoContent {
				if _, has := specDeref(t, doc, r)["content"]; has {
					t.Errorf("%s documents a body for %s, but the handler answers without one", c.op, code)
				}
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
		{"ReferralList", "referrals", "Referral", true},
		{"ReferralDecisionList", "decisions", "ReferralDecision", false},
		{"RewardList", "rewards", "Reward", false},
		{"WebhookSecretList", "webhook_secrets", "WebhookSecret", true},
		{"WebhookEndpointList", "webhook_endpoints", "WebhookEndpoint", false},
		{"WebhookDeliveryList", "webhook_deliveries", "WebhookDelivery", true},
		{"SuggestionList", "suggestions", "Slot", false},
		// listScripts' and listMilestones' maps.
		{"ScriptList", "scripts", "Script", false},
		{"MilestoneList", "milestones", "Milestone", false},
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
	for _, c := range []struct{ schema, member, want string }{
		{"SyncedVisit", "neighbor", "NeighborRef"},
		{"ReferralInput", "referee", "RefereeInput"},
		{"Referral", "referee", "Referee"},
		{"ReferralOffer", "referee", "OfferReward"},
		{"ReferralOffer", "referrer", "OfferReward"},
		{"SyncBatchResult", "error", "SyncObjectError"},
		{"Slot", "linked_neighbor", "NeighborOnDay"},
		{"Booking", "route", "DayRoute"},
		{"DayProposal", "route", "DayRoute"},
		{"OptimizeInput", "depot", "LatLonInput"},
		{"CrewDay", "member", "CrewDayMember"},
		{"CrewDayStop", "customer", "CrewDayCustomer"},
		{"CrewDayStop", "rating", "RatingSummary"},
		{"PitchInput", "referee", "RefereeInput"},
		{"Milestone", "current", "CrewPeriod"},
		{"InsightKPIs", "total", "KPIRow"},
		{"InsightKPIs", "budget", "KPIBudget"},
	} {
		m := specMap(t, specMap(t, specSchema(t, doc, c.schema)["properties"], c.schema+".properties")[c.member], c.schema+"."+c.member)
		if got := specMemberRef(m); got != schemas+c.want {
			t.Errorf("%s.%s is %v, want %s%s", c.schema, c.member, got, schemas, c.want)
		}
	}
	for _, c := range []struct{ schema, member, want string }{
		{"Referral", "flags", "ReferralFlag"},
		{"Program", "offers", "ReferralOffer"},
		{"ProgramInput", "offers", "ReferralOffer"},
		{"SyncBatchInput", "objects", "SyncBatchObject"},
		{"SyncBatchReport", "results", "SyncBatchResult"},
		{"DayRoute", "stops", "RouteStop"},
		{"OptimizeInput", "stops", "OptimizeStopInput"},
		{"CrewDay", "stops", "CrewDayStop"},
		{"Pitch", "points", "CrewPointsEntry"},
		{"Leaderboard", "members", "LeaderboardStanding"},
		{"InsightKPIs", "groups", "KPIRow"},
		{"RouteSavings", "rows", "RouteSavingsRow"},
		{"ABTest", "variants", "ABVariant"},
		{"ABTest", "comparisons", "ABComparison"},
		{"WordOfMouth", "months", "WordOfMouthMonth"},
	} {
		m := specMap(t, specMap(t, specSchema(t, doc, c.schema)["properties"], c.schema+".properties")[c.member], c.schema+"."+c.member)
		if items, _ := m["items"].(specObject); items["$ref"] != schemas+c.want {
			t.Errorf("%s.%s items are %v, want %s%s", c.schema, c.member, items["$ref"], schemas, c.want)
		}
	}
	// The data of a webhook or of a batch object is one of the mirrored
	// objects, by type: with external_id in a webhook, beside it in a batch.
	for _, c := range []struct {
		schema string
		want   []string
	}{
		{"WebhookEvent", []string{"CustomerEventData", "CrewEventData", "VisitEventData", "InvoiceEventData"}},
		{"SyncBatchObject", []string{"CustomerInput", "CrewInput", "VisitInput", "InvoiceInput"}},
	} {
		m := specMap(t, specMap(t, specSchema(t, doc, c.schema)["properties"], c.schema+".properties")["data"], c.schema+".data")
		var got []string
		alts, _ := m["anyOf"].([]any)
		for _, a := range alts {
			ref, _ := specMap(t, a, c.schema+".data.anyOf")["$ref"].(string)
			got = append(got, strings.TrimPrefix(ref, schemas))
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s.data is any of %v, want %v", c.schema, got, c.want)
		}
	}
	// Query parameters without which the handler answers 422.
	for op, names := range map[string][]string{
		"GET /api/v1/crews/{external_id}/route":           {"date"},
		"POST /api/v1/crews/{external_id}/route/optimize": {"date"},
		"GET /api/v1/insights/route-savings":              {"from", "to"},
	} {
		params, _ := ops[op]["parameters"].([]any)
		for _, name := range names {
			found := false
			for _, p := range params {
				if p := specDeref(t, doc, p); p["in"] == "query" && p["name"] == name {
					found = true
					if p["required"] != true {
						t.Errorf("%s: the query parameter %s must be required", op, name)
					}
				}
			}
			if !found {
				t.Errorf("%s does not document the query parameter %s", op, name)
			}
		}
	}
}

// specInsightTables are the insights answerTable serves as JSON or, with
// ?format=csv or Accept: text/csv, as CSV.
var specInsightTables = []string{
	"GET /api/v1/insights/kpis",
	"GET /api/v1/insights/ab",
	"GET /api/v1/insights/word-of-mouth",
}

// TestOpenAPIInsightsOfferCSV checks that the insights document their CSV
// answer beside the JSON one, and the format parameter's values.
func TestOpenAPIInsightsOfferCSV(t *testing.T) {
	doc := loadOpenAPISpec(t)
	ops := map[string]specObject{}
	for _, o := range specOperations(t, doc) {
		ops[o.String()] = o.op
	}
	for _, name := range specInsightTables {
		op := ops[name]
		if op == nil {
			t.Errorf("%s is not documented", name)
			continue
		}
		ok := specDeref(t, doc, specMap(t, op["responses"], name+" responses")["200"])
		content := specMap(t, ok["content"], name+" 200 content")
		for _, media := range []string{"application/json", "text/csv"} {
			if _, has := content[media]; !has {
				t.Errorf("%s: the 200 answer does not document %s", name, media)
			}
		}
		if csv, has := content["text/csv"].(specObject); has {
			schema, _ := csv["schema"].(specObject)
			if schema["type"] != "string" {
				t.Errorf("%s: the text/csv answer's schema is %v, want a string", name, schema)
			}
			if ex, _ := csv["example"].(string); !strings.Contains(ex, "\n") {
				t.Errorf("%s: the text/csv answer has no example table", name)
			}
		}
		params, _ := op["parameters"].([]any)
		found := false
		for _, p := range params {
			if p := specDeref(t, doc, p); p["in"] == "query" && p["name"] == "format" {
				found = true
				if got := specEnum(specMap(t, p["schema"], "format schema")); !slices.Equal(got, []string{"csv", "json"}) {
					t.Errorf("%s: format enum is %v, want [csv json]", name, got)
				}
			}
		}
		if !found {
			t.Errorf("%s does not document the format query parameter", name)
		}
		if desc, _ := op["description"].(string); !strings.Contains(desc, "text/csv") {
			t.Errorf("%s: the description does not say that Accept: text/csv asks for CSV", name)
		}
	}
}

// specMemberRef is the schema a member refers to: its $ref, or the one
// $ref of an anyOf or oneOf with null (a member that may be null).
func specMemberRef(m specObject) string {
	if ref, ok := m["$ref"].(string); ok {
		return ref
	}
	for _, key := range []string{"anyOf", "oneOf"} {
		alts, _ := m[key].([]any)
		ref, refs := "", 0
		for _, a := range alts {
			a, _ := a.(specObject)
			if r, ok := a["$ref"].(string); ok {
				ref, refs = r, refs+1
			} else if a["type"] != "null" {
				refs = 2
			}
		}
		if refs == 1 {
			return ref
		}
	}
	return ""
}

// TestOpenAPIEnumsMatchGoConstants keeps the documented values of the
// closed sets (referral engine, webhooks, upserts) equal to the constants
// the code checks.
func TestOpenAPIEnumsMatchGoConstants(t *testing.T) {
	doc := loadOpenAPISpec(t)
	channels := referral.Channels
	statuses := []string{referral.StatusPending, referral.StatusPendingReview, referral.StatusConverted, referral.StatusRejected,
		referral.StatusDuplicate, referral.StatusExpired}
	flags := []string{referral.FlagSelfReferral, referral.FlagAlreadyCustomer, referral.FlagBurst, referral.FlagOutsideArea,
		referral.FlagNoMatch, referral.FlagAmbiguous}
	kinds := []string{program.RewardPercentNextInvoice, program.RewardFixedCredit, program.RewardFreeAddon, program.RewardPoints}
	rewardStatuses := []string{referral.RewardGranted, referral.RewardPendingBudget, referral.RewardCapped, referral.RewardHeld, referral.RewardVoided}
	convertOn := []string{program.ConvertOnFirstCompletedVisit, program.ConvertOnFirstPaidInvoice}
	upserted := []string{string(store.Created), string(store.Updated), string(store.Stale)}
	batchStatuses := []string{string(store.Created), string(store.Updated), string(store.Stale), webhook.StatusError}
	endpointStatuses := []string{outbox.EndpointActive, outbox.EndpointFailing, outbox.EndpointDisabled}
	// The delivery states are SQL literals in the outbox (a CHECK constraint
	// and outbox.Deliveries' filter), not Go constants.
	deliveryStatuses := []string{"pending", "delivered", "failed"}
	linkSources := []string{neighbor.SourceReferral, neighbor.SourceDispatcher}
	outcomes := []string{crew.OutcomePitched, crew.OutcomeDeclined, crew.OutcomeReferralGiven}
	pointKinds := []string{crew.PointsPitch, crew.PointsReferralGiven, crew.PointsConversion}
	periods := []string{crew.PeriodMonth, crew.PeriodQuarter, crew.PeriodYear}
	metrics := []string{crew.MetricConversions, crew.MetricReferrals, crew.MetricPitches, crew.MetricPoints}
	groupBys := []string{insight.GroupByMonth, insight.GroupByCrew, insight.GroupByChannel, insight.GroupByVariant}
	abKinds := []string{insight.KindOffer, insight.KindScript}
	// A crew day's stops: the literals crew.Today writes, and the visit
	// statuses other than cancelled (cancelled visits are not stops).
	stopActions := []string{"pitch", "skip"}
	stopStatuses := []string{mirror.VisitScheduled, mirror.VisitCompleted}
	for _, c := range []struct {
		schema, member string
		want           []string
	}{
		{"ReferralInput", "channel", channels},
		{"Referral", "channel", channels},
		{"Referral", "status", statuses},
		{"Referral", "location_source", []string{"", referral.LocationGiven, referral.LocationGeocoded, referral.LocationDispatcher}},
		{"ReferralFlag", "code", flags},
		{"OfferReward", "kind", kinds},
		{"Reward", "kind", kinds},
		{"Reward", "status", rewardStatuses},
		{"Program", "convert_on", convertOn},
		{"ProgramInput", "convert_on", convertOn},
		{"WebhookEvent", "type", webhook.EventTypes},
		{"WebhookOutcome", "type", webhook.EventTypes},
		{"WebhookOutcome", "result", upserted},
		{"SyncBatchObject", "type", webhook.Kinds},
		{"SyncBatchResult", "status", batchStatuses},
		{"WebhookEndpoint", "status", endpointStatuses},
		{"WebhookDelivery", "status", deliveryStatuses},
		{"WebhookDelivery", "event_type", outbox.EventTypes},
		{"ReferralCreatedData", "channel", channels},
		{"RewardData", "kind", kinds},
		{"NeighborLinkCreatedData", "source", linkSources},
		{"PitchInput", "outcome", outcomes},
		{"Pitch", "outcome", outcomes},
		{"CrewPointsEntry", "kind", pointKinds},
		{"CrewPeriod", "period", periods},
		{"Leaderboard", "period", periods},
		{"MilestoneInput", "period", periods},
		{"Milestone", "period", periods},
		{"MilestoneInput", "metric", metrics},
		{"Milestone", "metric", metrics},
		{"CrewDayStop", "action", stopActions},
		{"CrewDayStop", "status", stopStatuses},
		{"InsightKPIs", "group_by", groupBys},
		{"ABTest", "kind", abKinds},
	} {
		m := specMap(t, specMap(t, specSchema(t, doc, c.schema)["properties"], c.schema+".properties")[c.member], c.schema+"."+c.member)
		if got, want := specEnum(m), slices.Sorted(slices.Values(c.want)); !slices.Equal(got, want) {
			t.Errorf("%s.%s enum is %v, want %v", c.schema, c.member, got, want)
		}
	}
	for _, c := range []struct{ schema, member string }{
		{"WebhookEndpointInput", "event_types"},
		{"WebhookEndpoint", "event_types"},
	} {
		m := specMap(t, specMap(t, specSchema(t, doc, c.schema)["properties"], c.schema+".properties")[c.member], c.schema+"."+c.member)
		items, _ := m["items"].(specObject)
		if got, want := specEnum(items), slices.Sorted(slices.Values(outbox.EventTypes)); !slices.Equal(got, want) {
			t.Errorf("%s.%s items enum is %v, want %v", c.schema, c.member, got, want)
		}
	}
	// The events routeloop sends are the webhooks of the document, one per
	// event type, each with its type as the body's type.
	hooks := specMap(t, doc["webhooks"], "webhooks")
	if got, want := specKeys(hooks), slices.Sorted(slices.Values(outbox.EventTypes)); !slices.Equal(got, want) {
		t.Errorf("the document describes the webhooks %v, but routeloop sends %v", got, want)
	}
	for name, item := range hooks {
		post := specMap(t, specMap(t, item, "webhooks."+name)["post"], "webhooks."+name+".post")
		body := specDeref(t, doc, post["requestBody"])
		schema := specMap(t, specMap(t, specMap(t, body["content"], name)["application/json"], name)["schema"], name+" schema")
		typ := specMap(t, specMap(t, schema["properties"], name+" properties")["type"], name+" type")
		if typ["const"] != name {
			t.Errorf("webhook %s: the body's type is %v", name, typ["const"])
		}
	}
	// What the mirrored PUTs say in Routeloop-Upsert.
	for _, o := range specOperations(t, doc) {
		if o.method != "put" || !strings.Contains(o.path, "{external_id}") {
			continue
		}
		responses := specMap(t, o.op["responses"], o.String()+" responses")
		for code, want := range map[string][]string{"200": {string(store.Updated), string(store.Stale)}, "201": {string(store.Created)}} {
			h := specMap(t, specMap(t, specDeref(t, doc, responses[code])["headers"], o.String()+" headers")["Routeloop-Upsert"], "Routeloop-Upsert")
			schema := specMap(t, h["schema"], "Routeloop-Upsert schema")
			got := specEnum(schema)
			if c, ok := schema["const"].(string); ok {
				got = []string{c}
			}
			if want := slices.Sorted(slices.Values(want)); !slices.Equal(got, want) {
				t.Errorf("%s: the %s answer's Routeloop-Upsert is %v, want %v", o, code, got, want)
			}
		}
	}
	// What the other upserts say in Routeloop-Upsert: they never answer stale.
	for _, o := range specOperations(t, doc) {
		if !specKeyedUpserts[o.String()] {
			continue
		}
		responses := specMap(t, o.op["responses"], o.String()+" responses")
		for code, want := range map[string]string{"200": string(store.Updated), "201": string(store.Created)} {
			r, ok := responses[code]
			if !ok {
				continue // TestOpenAPISecurityAndResponses reports it
			}
			headers, _ := specDeref(t, doc, r)["headers"].(specObject)
			h, _ := headers["Routeloop-Upsert"].(specObject)
			schema, _ := h["schema"].(specObject)
			if got, _ := schema["const"].(string); got != want {
				t.Errorf("%s: the %s answer's Routeloop-Upsert is %v, want the const %q", o, code, schema, want)
			}
		}
	}
	// Query parameters with a closed set of values.
	queryEnums := map[string]map[string][]string{
		"GET /api/v1/crew/leaderboard":       {"period": periods},
		"GET /api/v1/insights/kpis":          {"group_by": groupBys, "format": {"json", "csv"}},
		"GET /api/v1/insights/ab":            {"kind": abKinds, "format": {"json", "csv"}},
		"GET /api/v1/insights/word-of-mouth": {"format": {"json", "csv"}},
	}
	for _, o := range specOperations(t, doc) {
		want := queryEnums[o.String()]
		params, _ := o.op["parameters"].([]any)
		for _, p := range params {
			p := specDeref(t, doc, p)
			name, _ := p["name"].(string)
			values, ok := want[name]
			if p["in"] != "query" || !ok {
				continue
			}
			if got, want := specEnum(specMap(t, p["schema"], name+" schema")), slices.Sorted(slices.Values(values)); !slices.Equal(got, want) {
				t.Errorf("%s?%s= enum is %v, want %v", o, name, got, want)
			}
		}
	}
	var status specObject
	for _, o := range specOperations(t, doc) {
		if o.String() != "GET /api/v1/referrals" {
			continue
		}
		params, _ := o.op["parameters"].([]any)
		for _, p := range params {
			if p := specDeref(t, doc, p); p["name"] == "status" {
				status = specMap(t, p["schema"], "status schema")
			}
		}
	}
	if got, want := specEnum(status), slices.Sorted(slices.Values(statuses)); !slices.Equal(got, want) {
		t.Errorf("GET /api/v1/referrals?status= enum is %v, want %v", got, want)
	}
	for _, o := range specOperations(t, doc) {
		if o.String() != "GET /api/v1/webhook-deliveries" {
			continue
		}
		params, _ := o.op["parameters"].([]any)
		for _, p := range params {
			if p := specDeref(t, doc, p); p["name"] == "status" {
				if got, want := specEnum(specMap(t, p["schema"], "status schema")), slices.Sorted(slices.Values(deliveryStatuses)); !slices.Equal(got, want) {
					t.Errorf("GET /api/v1/webhook-deliveries?status= enum is %v, want %v", got, want)
				}
			}
		}
	}
}

// specEnum lists a schema's enum values, sorted.
func specEnum(schema specObject) []string {
	out := []string{}
	vals, _ := schema["enum"].([]any)
	for _, v := range vals {
		s, _ := v.(string)
		out = append(out, s)
	}
	sort.Strings(out)
	return out
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
