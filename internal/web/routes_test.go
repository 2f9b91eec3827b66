package web

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/tenant"
)

// Every page echo serves is one line of the route table, with the same
// handler and who may open it said there (staff of the roles listed, or
// anyone, with what guards the page instead); a page registered anywhere
// else fails here. Signed out, every staff page sends the person to sign
// in before its handler runs.
func TestEveryPageIsALineOfTheRouteTable(t *testing.T) {
	e := echo.New()
	p := New(Deps{})
	p.Routes(e)
	table := p.routeTable()

	lines := map[string]pageRoute{}
	for _, r := range table {
		name := r.method + " " + r.path
		if _, twice := lines[name]; twice {
			t.Errorf("%s is in the table twice", name)
		}
		lines[name] = r
		ac := r.access
		switch {
		case ac.staff && ac.instead != "", !ac.staff && strings.TrimSpace(ac.instead) == "":
			t.Errorf("%s: say either staff(roles) or public(what guards it)", name)
		case ac.staff && len(ac.roles) == 0:
			t.Errorf("%s: name the staff roles that may open it", name)
		}
		for _, role := range ac.roles {
			if !slices.Contains([]string{tenant.RoleAdmin, tenant.RoleDispatcher, tenant.RoleCrew}, role) {
				t.Errorf("%s admits %q, which is no staff role", name, role)
			}
		}
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
		if !r.access.staff {
			continue
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(rt.Method, strings.ReplaceAll(rt.Path, ":id", "1"), nil))
		if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/login") {
			t.Errorf("%s signed out: %d %q, want 303 to /login", name, rec.Code, rec.Header().Get("Location"))
		}
	}
	for name := range lines {
		if !served[name] {
			t.Errorf("%s is in the table but not served", name)
		}
	}
	if len(served) != len(table) {
		t.Errorf("%d pages served, %d lines in the table", len(served), len(table))
	}
}
