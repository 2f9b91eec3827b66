package httpapi

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/routeloop/routeloop/internal/metrics"
	"github.com/routeloop/routeloop/internal/tenant"
)

// Every route echo serves is one line of the route table, with the same
// handler and its access said there (the roles of the API keys it admits,
// or what guards it instead of a key); a route registered anywhere else
// fails here. Each keyed route turns away a request without a key (401)
// before its handler runs, and every crew-bound rule names a route of the
// table open to crew keys.
func TestEveryRouteIsALineOfTheRouteTable(t *testing.T) {
	m := metrics.New(nil)
	e := New(Deps{Metrics: m})
	table := (&API{metrics: m}).routeTable()

	lines := map[string]route{}
	for _, r := range table {
		name := r.method + " " + r.path
		if _, twice := lines[name]; twice {
			t.Errorf("%s is in the table twice", name)
		}
		lines[name] = r
		switch ac := r.access; {
		case ac.keyed && ac.instead != "", !ac.keyed && strings.TrimSpace(ac.instead) == "":
			t.Errorf("%s: say either key(roles) or noKey(what guards it instead)", name)
		case ac.limited && !ac.keyed:
			t.Errorf("%s: the rate limit of expensive work counts per key, and the route takes none", name)
		}
	}
	if _, ok := lines["GET /metrics"]; !ok {
		t.Errorf("GET /metrics is not in the table though metrics are on")
	}

	served := map[string]bool{}
	for _, rt := range e.Routes() {
		name := rt.Method + " " + rt.Path
		served[name] = true
		r, ok := lines[name]
		if !ok {
			t.Errorf("%s is served but is not a line of the route table (routes.go)", name)
			continue
		}
		if h := runtime.FuncForPC(reflect.ValueOf(r.handler).Pointer()).Name(); h != rt.Name {
			t.Errorf("%s is served by %s, the table says %s", name, rt.Name, h)
		}
		if !r.access.keyed {
			continue
		}
		path := strings.NewReplacer(":external_id", "x", ":id", "1", ":name", "x").Replace(rt.Path)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(rt.Method, path, nil))
		if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), `"code":"unauthorized"`) {
			t.Errorf("%s without a key: %d %s", name, rec.Code, rec.Body.String())
		}
	}
	for name := range lines {
		if !served[name] {
			t.Errorf("%s is in the table but not served", name)
		}
	}
	if len(served) != len(table) {
		t.Errorf("%d routes served, %d lines in the table", len(served), len(table))
	}

	for name := range crewScope {
		if r, ok := lines[name]; !ok || !r.access.keyed || !slices.Contains(r.access.roles, tenant.RoleCrew) {
			t.Errorf("crewScope has a rule for %s, which is not a route crew keys may call", name)
		}
	}
}
