// Package apptest wires routeloop for a feature's tests: the app's services
// over a store from storetest, with the default configuration and a silent
// log, and the tenants a story needs.
package apptest

import (
	"context"
	"log/slog"
	"testing"

	"github.com/routeloop/routeloop/internal/app"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/config"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/tenant"
)

// Wire is the app over s with the default configuration, asking c the time
// and logging nothing.
func Wire(s *store.Store, c clock.Clock) *app.App {
	return app.Wire(config.Defaults(), s, c, slog.New(slog.DiscardHandler))
}

// New is Wire with one company of that name, in Los Angeles, billing in US
// dollars: most stories' only tenant.
func New(tb testing.TB, s *store.Store, c clock.Clock, name string) (*app.App, tenant.Tenant) {
	tb.Helper()
	a := Wire(s, c)
	return a, Tenant(tb, a.Tenants, tenant.NewTenant{Name: name, Timezone: "America/Los_Angeles", Currency: "USD"})
}

// Tenant creates a tenant, failing the test if it cannot.
func Tenant(tb testing.TB, tenants *tenant.Service, n tenant.NewTenant) tenant.Tenant {
	tb.Helper()
	t, _, err := tenants.Create(context.Background(), n)
	if err != nil {
		tb.Fatalf("create tenant %s: %v", n.Name, err)
	}
	return t
}
