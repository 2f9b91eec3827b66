package tenant_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

func TestCreateRefusesWhatIsNotAZoneOrCurrency(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	svc := tenant.NewService(s, clock.System{})
	cases := map[string]tenant.NewTenant{
		"timezone": {Name: "A", Timezone: "Mars/Olympus", Currency: "EUR"},
		"currency": {Name: "A", Timezone: "Europe/Berlin", Currency: "EURO"},
		"name":     {Name: " ", Timezone: "Europe/Berlin", Currency: "EUR"},
	}
	for field, n := range cases {
		_, _, err := svc.Create(context.Background(), n)
		ae, ok := apperror.As(err)
		if !ok || ae.Fields[field] == "" {
			t.Errorf("%s: error %v does not name the field", field, err)
		}
	}
	for _, tz := range []string{"", "Local", "europe/berlin ", "+02:00"} {
		if tenant.ValidateTimezone(tz) == nil {
			t.Errorf("time zone %q accepted", tz)
		}
	}
	for _, c := range []string{"usd", "XYZ", "US"} {
		if tenant.ValidateCurrency(c) == nil {
			t.Errorf("currency %q accepted", c)
		}
	}
	if n := storetest.Count(t, s.DB, "tenants"); n != 0 {
		t.Fatalf("refused tenants were stored: %d", n)
	}
}

func TestKeysAreStoredHashedAndResolveToTheirTenant(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		svc := tenant.NewService(s, clock.NewFixed(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)))
		ten, key, err := svc.Create(ctx, tenant.NewTenant{Name: "Greenway", Timezone: "America/Los_Angeles", Currency: "USD"})
		if err != nil {
			t.Fatal(err)
		}
		var hashes []string
		s.DB.Table("api_keys").Pluck("key_hash", &hashes)
		if len(hashes) != 1 || strings.Contains(hashes[0], key[3:]) || hashes[0] != tenant.HashKey(key) {
			t.Fatalf("stored %v for key %s", hashes, key)
		}
		p, err := svc.Authenticate(ctx, key)
		if err != nil || p.TenantID != ten.ID || p.Role != tenant.RoleAdmin || p.Location.String() != "America/Los_Angeles" || p.Currency != "USD" {
			t.Fatalf("principal %+v, %v", p, err)
		}
		crewKey, k, err := svc.IssueKey(ctx, ten.ID, tenant.RoleCrew, "north crew tablet")
		if err != nil || k.Role != tenant.RoleCrew {
			t.Fatal(err)
		}
		if _, _, err := svc.IssueKey(ctx, ten.ID, "owner", ""); !apperror.HasCode(err, apperror.CodeValidation) {
			t.Fatalf("role owner: %v", err)
		}
		if _, _, err := svc.IssueKey(ctx, "3f1c1d7e-0000-4000-8000-000000000000", tenant.RoleCrew, ""); !apperror.HasCode(err, apperror.CodeNotFound) {
			t.Fatalf("key for a missing tenant: %v", err)
		}
		if err := svc.RevokeKey(ctx, ten.ID, k.ID); err != nil {
			t.Fatal(err)
		}
		if err := svc.RevokeKey(ctx, ten.ID, k.ID); err != nil {
			t.Fatalf("revoking twice: %v", err)
		}
		if _, err := svc.Authenticate(ctx, crewKey); !apperror.HasCode(err, apperror.CodeUnauthorized) {
			t.Fatalf("revoked key: %v", err)
		}
		if err := svc.RevokeKey(ctx, ten.ID, 99999); !apperror.HasCode(err, apperror.CodeNotFound) {
			t.Fatalf("unknown key id: %v", err)
		}
		keys, _ := svc.Keys(ctx, ten.ID)
		if len(keys) != 2 || keys[1].RevokedAt == nil {
			t.Fatalf("keys %+v", keys)
		}
	})
}

func TestImportKeyOnlyForItsOwnTenant(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	svc := tenant.NewService(s, clock.System{})
	a, _, _ := svc.Create(ctx, tenant.NewTenant{Name: "A", Timezone: "UTC", Currency: "EUR"})
	b, _, _ := svc.Create(ctx, tenant.NewTenant{Name: "B", Timezone: "UTC", Currency: "EUR"})
	const key = "rl_demo_key_for_tests_only"
	for i := 0; i < 2; i++ {
		if err := svc.ImportKey(ctx, a.ID, tenant.RoleAdmin, key); err != nil {
			t.Fatalf("import %d: %v", i, err)
		}
	}
	if err := svc.ImportKey(ctx, b.ID, tenant.RoleAdmin, key); !apperror.HasCode(err, apperror.CodeConflict) {
		t.Fatalf("same key for another tenant: %v", err)
	}
	if err := svc.ImportKey(ctx, a.ID, tenant.RoleCrew, key); !apperror.HasCode(err, apperror.CodeConflict) {
		t.Fatalf("same key with another role: %v", err)
	}
	if err := svc.ImportKey(ctx, a.ID, tenant.RoleAdmin, "short"); !apperror.HasCode(err, apperror.CodeValidation) {
		t.Fatalf("a key without the prefix: %v", err)
	}
	if p, err := svc.Authenticate(ctx, key); err != nil || p.TenantID != a.ID {
		t.Fatalf("imported key: %+v %v", p, err)
	}
}

func TestACrewKeyIsBoundToACrewOfItsTenant(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := clock.NewFixed(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
		svc := tenant.NewService(s, c)
		m := mirror.NewService(s, c, "https://greenway.example")
		green, _, err := svc.Create(ctx, tenant.NewTenant{Name: "Greenway", Timezone: "America/Los_Angeles", Currency: "USD"})
		if err != nil {
			t.Fatal(err)
		}
		rival, _, err := svc.Create(ctx, tenant.NewTenant{Name: "Rival", Timezone: "Europe/Berlin", Currency: "EUR"})
		if err != nil {
			t.Fatal(err)
		}
		north, _, err := m.PutCrew(ctx, green.ID, "north", mirror.CrewInput{Name: "North crew", DepotLat: ptr(45.55), DepotLon: ptr(-122.66)})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := m.PutCrew(ctx, rival.ID, "east", mirror.CrewInput{Name: "East", DepotLat: ptr(52.5), DepotLon: ptr(13.4)}); err != nil {
			t.Fatal(err)
		}
		key, k, err := svc.IssueCrewKey(ctx, green.ID, "north", "north tablet")
		if err != nil || k.Role != tenant.RoleCrew || k.CrewID == nil || *k.CrewID != north.ID || k.Crew != "north" {
			t.Fatalf("IssueCrewKey: %+v %v", k, err)
		}
		p, err := svc.Authenticate(ctx, key)
		if err != nil || p.Role != tenant.RoleCrew || p.CrewID != north.ID || p.Crew != "north" || p.TenantID != green.ID {
			t.Fatalf("principal %+v %v", p, err)
		}
		unbound, _, err := svc.IssueKey(ctx, green.ID, tenant.RoleCrew, "any crew")
		if err != nil {
			t.Fatal(err)
		}
		if p, err := svc.Authenticate(ctx, unbound); err != nil || p.CrewID != 0 || p.Crew != "" {
			t.Fatalf("unbound principal %+v %v", p, err)
		}
		before := storetest.Count(t, s.DB, "api_keys")
		for _, crew := range []string{"east", "south", ""} { // another tenant's crew, none, empty
			if _, _, err := svc.IssueCrewKey(ctx, green.ID, crew, ""); !apperror.HasCode(err, apperror.CodeValidation) {
				t.Errorf("crew %q: %v, want validation_failed", crew, err)
			} else if ae, _ := apperror.As(err); ae.Fields["crew"] == "" {
				t.Errorf("crew %q: %v does not name the field crew", crew, err)
			}
		}
		if n := storetest.Count(t, s.DB, "api_keys"); n != before {
			t.Fatalf("refused keys were stored: %d -> %d", before, n)
		}
		ks, err := svc.Keys(ctx, green.ID)
		if err != nil || len(ks) != 3 || ks[1].Crew != "north" || ks[2].Crew != "" || ks[0].Crew != "" {
			t.Fatalf("keys %+v %v", ks, err)
		}
		// A key bound to another tenant's crew (the schema cannot refuse it)
		// shows no crew and opens nothing: the crew is looked up in the
		// key's own tenant only.
		stray, _, err := svc.IssueCrewKey(ctx, green.ID, "north", "stray")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.DB.Exec(`UPDATE api_keys SET crew_id = (SELECT id FROM crews WHERE tenant_id = ? AND external_id = 'east') WHERE label = 'stray'`, rival.ID).Error; err != nil {
			t.Fatal(err)
		}
		if p, err := svc.Authenticate(ctx, stray); err != tenant.ErrUnauthorized {
			t.Errorf("a key bound to another tenant's crew: %+v %v, want unauthorized", p, err)
		}
		ks, err = svc.Keys(ctx, green.ID)
		if err != nil || len(ks) != 4 || ks[3].Label != "stray" || ks[3].Crew != "" {
			t.Fatalf("keys %+v %v, want the stray key without another tenant's crew", ks, err)
		}
		// The schema keeps the binding to crew keys.
		if err := s.DB.Exec(`UPDATE api_keys SET crew_id = ? WHERE tenant_id = ? AND role = 'admin'`, north.ID, green.ID).Error; err == nil {
			t.Fatal("an admin key was bound to a crew")
		}
	})
}

func ptr[T any](v T) *T { return &v }
