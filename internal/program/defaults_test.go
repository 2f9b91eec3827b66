package program_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/apptest"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// The defaults are written twice: in Defaults, for a tenant that never
// saved settings, and in both migration sets' DEFAULT clauses, for a row
// that names only what it must. A tenant gets the same program either way:
// a row holding only its tenant and time reads back as Defaults, setting by
// setting.
func TestTheDatabaseDefaultsAreTheProgramDefaults(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ten := apptest.Tenant(t, tenant.NewService(s, clock.System{}), tenant.NewTenant{Name: "Green Thumb", Timezone: "America/Los_Angeles", Currency: "USD"})
		saved := time.Date(2026, 5, 1, 16, 0, 0, 0, time.UTC)
		if err := s.DB.Exec(`INSERT INTO programs (tenant_id, updated_at) VALUES (?, ?)`, ten.ID, saved).Error; err != nil {
			t.Fatal(err)
		}
		got, err := program.Get(s.DB, ten.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.UpdatedAt.Equal(saved) { // read from the row, not the defaults for a tenant without one
			t.Fatalf("updated_at %v, want the row's %v", got.UpdatedAt, saved)
		}
		want := program.Defaults(ten.ID)
		gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
		for i := range gv.NumField() {
			f := gv.Type().Field(i)
			if f.Name == "UpdatedAt" {
				continue
			}
			if g, w := gv.Field(i).Interface(), wv.Field(i).Interface(); !reflect.DeepEqual(g, w) {
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				t.Errorf("%s: the migrations' DEFAULT gives %v, Defaults %v", name, g, w)
			}
		}
	})
}
