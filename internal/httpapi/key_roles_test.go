package httpapi_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/httpapi"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// Each keyed route lets in exactly the roles its line of the route table
// names, and admin keys: any other role's key gets 403 forbidden.
func TestEachRouteAdmitsTheRolesOfItsLine(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		keyRoles := httpapi.KeyRoles()
		seen := 0
		for _, rt := range h.app.HTTP.Routes() {
			name := rt.Method + " " + rt.Path
			roles, ok := keyRoles[name]
			if !ok {
				continue
			}
			seen++
			path := strings.NewReplacer(":external_id", "nobody", ":id", "999999", ":name", "nobody").Replace(rt.Path)
			for _, role := range []string{tenant.RoleAdmin, tenant.RoleDispatcher, tenant.RoleCrew, tenant.RoleIntegration} {
				r := h.do(rt.Method, path, h.keys[role], map[string]any{})
				// Admitted: no 403 forbidden of any kind. Refused: the one answer naming the key's role.
				refused := r.Status == 403 && r.errorCode() == apperror.CodeForbidden
				if admitted := role == tenant.RoleAdmin || slices.Contains(roles, role); admitted == refused ||
					refused && r.message() != "a "+role+" key may not do this" {
					t.Errorf("%s with a %s key: %d %.300s (admitted by the table: %v)", name, role, r.Status, r.Raw, admitted)
				}
			}
		}
		if seen != len(keyRoles) {
			t.Errorf("the app serves %d of the table's %d keyed routes", seen, len(keyRoles))
		}
	})
}
