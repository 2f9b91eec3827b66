package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
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

// These tests keep openapi.json honest where no validator can: every
// registered route is documented and nothing else is, the body schemas list
// exactly the JSON fields of the Go types the handlers decode and encode,
// and the closed sets, path and query parameters, roles and CSV answers are
// the code's. That the document is valid OpenAPI 3.1, that its references
// resolve, and that every request and answer of the tests matches the
// schemas its operations name is checked by libopenapi-validator
// (contract_test.go).

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

// TestOpenAPINamesEachOperationOnce: the document is routeloop's, version
// 1, and no two operations share an operationId (a generated client names
// its methods by them).
func TestOpenAPINamesEachOperationOnce(t *testing.T) {
	doc := loadOpenAPISpec(t)
	info := specMap(t, doc["info"], "info")
	if info["title"] != "routeloop" || info["version"] != "1" {
		t.Errorf("info title/version = %v/%v, want routeloop/1", info["title"], info["version"])
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
			t.Errorf("%s: path parameters %v, but the path has %v", o, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
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
	return slices.Sorted(maps.Keys(props))
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
	// The data of a webhook or of a batch object is one of the mirrored
	// objects, by type (webhook.decodeObject): with external_id in a
	// webhook, beside it in a batch.
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
			got = append(got, strings.TrimPrefix(ref, "#/components/schemas/"))
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s.data is any of %v, want %v", c.schema, got, c.want)
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

// TestOpenAPIQueryParameters keeps each operation's query parameters equal
// to those its handler reads, and its request body documented exactly when
// the handler reads one: a validator checks only what the document lists.
func TestOpenAPIQueryParameters(t *testing.T) {
	doc := loadOpenAPISpec(t)
	ops := map[string]specObject{}
	for _, o := range specOperations(t, doc) {
		ops[o.String()] = o.op
	}
	for _, c := range []struct {
		op     string
		body   bool     // the handler reads a request body
		params []string // query parameters the handler reads
	}{
		{"GET /api/v1/program", false, nil},
		{"PUT /api/v1/program", true, nil},
		{"GET /api/v1/customers/{external_id}/nearby", false, []string{"radius_m", "limit"}},
		{"GET /api/v1/customers/{external_id}/sync-history", false, []string{"from", "to"}},
		{"POST /api/v1/neighbor-links", true, nil},
		{"GET /api/v1/neighbor-links", false, []string{"limit", "cursor", "customer_id", "active_on"}},
		{"GET /api/v1/neighbor-links/{id}", false, nil},
		{"DELETE /api/v1/neighbor-links/{id}", false, []string{"ends_on", "reason"}},
		{"GET /api/v1/sync-adjustments", false, []string{"limit", "cursor", "kind", "status"}},
		{"POST /api/v1/reconcile", true, nil},
		{"POST /api/v1/referrals", true, nil},
		{"GET /api/v1/referrals", false, []string{"limit", "cursor", "status", "referrer_id"}},
		{"GET /api/v1/referrals/{id}", false, nil},
		{"GET /api/v1/referrals/{id}/decisions", false, nil},
		{"POST /api/v1/referrals/{id}/approve", true, nil},
		{"POST /api/v1/referrals/{id}/reject", true, nil},
		{"POST /api/v1/referrals/{id}/attribute", true, nil},
		{"PUT /api/v1/referrals/{id}/location", true, nil},
		{"GET /api/v1/rewards", false, []string{"customer_id"}},
		{"GET /api/v1/customers/{external_id}/referral-status", false, nil},
		{"GET /api/v1/customers/{external_id}/referral-links", false, nil},
		{"POST /hooks/v1/{tenant_id}", true, nil},
		{"POST /api/v1/sync/batch", true, nil},
		{"POST /api/v1/webhook-secrets", false, nil},
		{"GET /api/v1/webhook-secrets", false, []string{"limit", "cursor"}},
		{"DELETE /api/v1/webhook-secrets/{id}", false, nil},
		{"POST /api/v1/webhook-endpoints", true, nil},
		{"GET /api/v1/webhook-endpoints", false, nil},
		{"DELETE /api/v1/webhook-endpoints/{id}", false, nil},
		{"POST /api/v1/webhook-endpoints/{id}/enable", false, nil},
		{"POST /api/v1/invoices/{external_id}/rotate-link", true, nil},
		{"GET /api/v1/webhook-deliveries", false, []string{"limit", "cursor", "status"}},
		{"POST /api/v1/webhook-deliveries/{id}/redeliver", false, nil},
		{"GET /api/v1/customers/{external_id}/suggestions", false, []string{"from", "to", "duration_min", "limit"}},
		{"GET /api/v1/referrals/{id}/suggestions", false, []string{"from", "to", "duration_min", "limit"}},
		{"POST /api/v1/linked-visits", true, nil},
		{"GET /api/v1/crews/{external_id}/route", false, []string{"date"}},
		{"POST /api/v1/crews/{external_id}/route/optimize", false, []string{"date", "apply"}},
		{"POST /api/v1/routes/optimize", true, nil},
		{"GET /api/v1/insights/route-savings", false, []string{"from", "to", "crew_id"}},
		{"GET /api/v1/scripts", false, nil},
		{"POST /api/v1/scripts", true, nil},
		{"PUT /api/v1/scripts/{name}", true, nil},
		{"GET /api/v1/visits/{external_id}/rating", false, nil},
		{"POST /api/v1/visits/{external_id}/rating", true, nil},
		{"POST /api/v1/visits/{external_id}/rating/resolve", true, nil},
		{"GET /api/v1/crews/{external_id}/today", false, []string{"date", "member_id"}},
		{"POST /api/v1/pitches", true, nil},
		{"GET /api/v1/crew/leaderboard", false, []string{"period", "date"}},
		{"GET /api/v1/crew/milestones", false, []string{"date"}},
		{"POST /api/v1/crew/milestones", true, nil},
		{"GET /api/v1/insights/kpis", false, []string{"from", "to", "group", "group_by", "format"}},
		{"GET /api/v1/insights/ab", false, []string{"from", "to", "kind", "format"}},
		{"GET /api/v1/insights/word-of-mouth", false, []string{"from", "to", "format"}},
	} {
		op := ops[c.op]
		if op == nil {
			t.Errorf("%s is not documented", c.op)
			continue
		}
		if _, has := op["requestBody"]; has != c.body {
			t.Errorf("%s: documents a request body: %v, the handler reads one: %v", c.op, has, c.body)
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
	// The mirror's lists page by limit and cursor.
	for _, collection := range []string{"customers", "crews", "visits", "invoices"} {
		op := "GET /api/v1/" + collection
		var names []string
		params, _ := ops[op]["parameters"].([]any)
		for _, p := range params {
			names = append(names, specDeref(t, doc, p)["name"].(string))
		}
		for _, want := range []string{"limit", "cursor"} {
			if !slices.Contains(names, want) {
				t.Errorf("%s does not document the %s query parameter", op, want)
			}
		}
	}
	// An answer without a body documents none.
	for _, o := range specOperations(t, doc) {
		if r, ok := specMap(t, o.op["responses"], o.String()+" responses")["204"]; ok {
			if _, has := specDeref(t, doc, r)["content"]; has {
				t.Errorf("%s documents a body for 204, which has none", o)
			}
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
	if got, want := slices.Sorted(maps.Keys(hooks)), slices.Sorted(slices.Values(outbox.EventTypes)); !slices.Equal(got, want) {
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
