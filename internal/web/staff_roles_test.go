package web_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
	"github.com/routeloop/routeloop/internal/web"
)

// Each staff page lets in exactly the roles its line of the route table
// names: any other signed-in role gets the 403 page saying so.
func TestEachStaffPageAdmitsTheRolesOfItsLine(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newStaffSite(t, s)
		logins := map[string]*http.Cookie{
			tenant.RoleAdmin:      x.session("admin@greenway.example"),
			tenant.RoleDispatcher: x.session("dispatcher@greenway.example"),
			tenant.RoleCrew:       x.session("marisol@greenway.example"),
		}
		staffRoles := web.StaffRoles()
		seen := 0
		for _, r := range x.a.HTTP.Routes() {
			name := r.Method + " " + r.Path
			roles, ok := staffRoles[name]
			if !ok {
				continue
			}
			seen++
			path := strings.ReplaceAll(r.Path, ":id", "1")
			for role, ck := range logins {
				rec := x.do(r.Method, path, nil, ck)
				refused := rec.Code == http.StatusForbidden && strings.Contains(rec.Body.String(), "can&#39;t open this page")
				if admitted := slices.Contains(roles, role); admitted == refused {
					t.Errorf("%s as %s: %d, admitted by the table: %v\n%.400s", name, role, rec.Code, admitted, rec.Body.String())
				}
			}
		}
		if seen != len(staffRoles) {
			t.Errorf("the app serves %d of the table's %d staff pages", seen, len(staffRoles))
		}
	})
}
