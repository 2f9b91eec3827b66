package user_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/apptest"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
	"github.com/routeloop/routeloop/internal/user"
)

const pw = "correct horse battery"

type fixture struct {
	s       *store.Store
	clock   *clock.Fixed
	users   *user.Service
	tenants *tenant.Service
	green   tenant.Tenant
	rival   tenant.Tenant
}

func setup(t *testing.T, s *store.Store) *fixture {
	t.Helper()
	c := clock.NewFixed(time.Date(2026, 5, 1, 16, 0, 0, 0, time.UTC))
	f := &fixture{s: s, clock: c, users: user.NewService(s, c), tenants: tenant.NewService(s, c)}
	f.green = apptest.Tenant(t, f.tenants, tenant.NewTenant{Name: "Greenway", Timezone: "America/Los_Angeles", Currency: "USD"})
	f.rival = apptest.Tenant(t, f.tenants, tenant.NewTenant{Name: "Rival", Timezone: "Europe/Berlin", Currency: "EUR"})
	return f
}

func TestCreateAndList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		ctx := context.Background()
		m := mirror.NewService(s, f.clock, "http://localhost")
		lat, lon := 45.5, -122.6
		if _, _, err := m.PutCrew(ctx, f.green.ID, "crew-a", mirror.CrewInput{Name: "A", DepotLat: &lat, DepotLon: &lon,
			Members: []mirror.MemberInput{{ExternalID: "m1", Name: "Marisol Vega"}}}); err != nil {
			t.Fatal(err)
		}

		u, plain, err := f.users.Create(ctx, f.green.ID, user.NewUser{Email: "  Dispatcher@Greenway.Example ", Role: "dispatcher", Password: pw})
		if err != nil || u.Email != "dispatcher@greenway.example" || plain != pw || strings.Contains(u.PasswordHash, pw) ||
			!strings.HasPrefix(u.PasswordHash, "$2") {
			t.Fatalf("create: %+v %q %v", u, plain, err)
		}
		// A generated password is long, and works.
		crew, gen, err := f.users.Create(ctx, f.green.ID, user.NewUser{Email: "marisol@greenway.example", Role: "crew", CrewMember: "m1"})
		if err != nil || len(gen) < 20 || crew.CrewMemberID == nil {
			t.Fatalf("generated: %+v %q %v", crew, gen, err)
		}
		if _, err := f.users.Login(ctx, "marisol@greenway.example", gen, "", "10.0.0.1"); err != nil {
			t.Fatalf("generated password: %v", err)
		}
		// The same e-mail in another tenant is another user.
		if _, _, err := f.users.Create(ctx, f.rival.ID, user.NewUser{Email: "dispatcher@greenway.example", Role: "admin", Password: pw}); err != nil {
			t.Fatal(err)
		}

		refused := map[string]user.NewUser{
			"email":       {Email: "not-an-email", Role: "admin", Password: pw},
			"role":        {Email: "x@example.com", Role: "integration", Password: pw},
			"password":    {Email: "x@example.com", Role: "admin", Password: "short"},
			"crew_member": {Email: "x@example.com", Role: "dispatcher", Password: pw, CrewMember: "m1"},
		}
		for field, n := range refused {
			if _, _, err := f.users.Create(ctx, f.green.ID, n); !apperror.HasCode(err, apperror.CodeValidation) || !strings.Contains(err.Error(), field) {
				t.Errorf("%s: %v", field, err)
			}
		}
		if _, _, err := f.users.Create(ctx, f.green.ID, user.NewUser{Email: "x@example.com", Role: "crew", Password: pw, CrewMember: "nobody"}); !apperror.HasCode(err, apperror.CodeValidation) {
			t.Errorf("unknown crew member: %v", err)
		}
		if _, _, err := f.users.Create(ctx, f.rival.ID, user.NewUser{Email: "x@example.com", Role: "crew", Password: pw, CrewMember: "m1"}); !apperror.HasCode(err, apperror.CodeValidation) {
			t.Errorf("another tenant's crew member: %v", err)
		}
		if _, _, err := f.users.Create(ctx, f.green.ID, user.NewUser{Email: "DISPATCHER@greenway.example", Role: "crew", Password: pw}); !apperror.HasCode(err, apperror.CodeConflict) {
			t.Errorf("duplicate e-mail: %v", err)
		}
		if _, _, err := f.users.Create(ctx, "00000000-0000-0000-0000-000000000000", user.NewUser{Email: "y@example.com", Role: "crew", Password: pw}); !apperror.HasCode(err, apperror.CodeNotFound) {
			t.Errorf("unknown tenant: %v", err)
		}

		list, err := f.users.List(ctx, f.green.ID)
		if err != nil || len(list) != 2 || list[0].Email != "dispatcher@greenway.example" || list[1].CrewMember != "m1" || list[1].Role != "crew" {
			t.Fatalf("list: %+v %v", list, err)
		}
	})
}

func TestLogin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		ctx := context.Background()
		u, _, err := f.users.Create(ctx, f.green.ID, user.NewUser{Email: "dana@example.com", Role: "dispatcher", Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.users.Login(ctx, "Dana@Example.com ", pw, "", "10.0.0.1")
		if err != nil || got.ID != u.ID || got.TenantID != f.green.ID {
			t.Fatalf("login: %+v %v", got, err)
		}
		for _, c := range []struct{ email, password, tenant string }{
			{"dana@example.com", pw + "!", ""},
			{"nobody@example.com", pw, ""},
			{"dana@example.com", pw, f.rival.ID},
			{"dana@example.com", pw, "not-a-uuid"},
			{"", "", ""},
		} {
			if _, err := f.users.Login(ctx, c.email, c.password, c.tenant, "10.0.0.2"); !errors.Is(err, user.ErrBadCredentials) {
				t.Errorf("%+v: %v", c, err)
			}
		}

		// The same e-mail and password in two tenants: choose; with the tenant given, in.
		if _, _, err := f.users.Create(ctx, f.rival.ID, user.NewUser{Email: "dana@example.com", Role: "admin", Password: pw}); err != nil {
			t.Fatal(err)
		}
		var choose *user.ChooseCompany
		if _, err := f.users.Login(ctx, "dana@example.com", pw, "", "10.0.0.1"); !errors.As(err, &choose) || len(choose.Companies) != 2 ||
			choose.Companies[0].Name != "Greenway" || choose.Companies[1].ID != f.rival.ID {
			t.Fatalf("two tenants: %v %+v", err, choose)
		}
		if got, err := f.users.Login(ctx, "dana@example.com", pw, f.rival.ID, "10.0.0.1"); err != nil || got.Role != "admin" {
			t.Fatalf("rival login: %+v %v", got, err)
		}

		// Disabled: the right password no longer opens it, and its sessions end.
		token, _, err := f.users.StartSession(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.users.Disable(ctx, f.green.ID, "DANA@example.com"); err != nil {
			t.Fatal(err)
		}
		if err := f.users.Disable(ctx, f.green.ID, "dana@example.com"); err != nil {
			t.Fatalf("disabling twice: %v", err)
		}
		if _, err := f.users.Login(ctx, "dana@example.com", pw, f.green.ID, "10.0.0.3"); !errors.Is(err, user.ErrDisabled) {
			t.Fatalf("disabled user: %v", err)
		}
		// With only the rival login left working, no choice is needed.
		if got, err := f.users.Login(ctx, "dana@example.com", pw, "", "10.0.0.3"); err != nil || got.TenantID != f.rival.ID {
			t.Fatalf("after disabling one: %+v %v", got, err)
		}
		if _, err := f.users.Session(ctx, token); !errors.Is(err, user.ErrNoSession) {
			t.Fatalf("session of a disabled user: %v", err)
		}
		if err := f.users.Disable(ctx, f.green.ID, "ghost@example.com"); !apperror.HasCode(err, apperror.CodeNotFound) {
			t.Fatalf("disable unknown: %v", err)
		}
		list, _ := f.users.List(ctx, f.green.ID)
		if len(list) != 1 || list[0].DisabledAt == nil {
			t.Fatalf("list: %+v", list)
		}
	})
}

func TestLoginThrottle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		ctx := context.Background()
		if _, _, err := f.users.Create(ctx, f.green.ID, user.NewUser{Email: "dana@example.com", Role: "admin", Password: pw}); err != nil {
			t.Fatal(err)
		}
		for i := range user.LoginFailures {
			if _, err := f.users.Login(ctx, "dana@example.com", "wrong password", "", "10.0.0.1"); !errors.Is(err, user.ErrBadCredentials) {
				t.Fatalf("failure %d: %v", i+1, err)
			}
			f.clock.Advance(time.Minute)
		}
		var th *user.Throttled
		if _, err := f.users.Login(ctx, "DANA@example.com", pw, "", "10.0.0.1"); !errors.As(err, &th) || th.RetryAfter != 10*time.Minute {
			t.Fatalf("sixth try, right password: %v", err)
		}
		// Another address is not held back by these failures.
		if _, err := f.users.Login(ctx, "dana@example.com", pw, "", "10.0.0.9"); err != nil {
			t.Fatalf("another address: %v", err)
		}
		// Once the first failure is 15 minutes old, one more try is allowed.
		f.clock.Advance(10 * time.Minute)
		if _, err := f.users.Login(ctx, "dana@example.com", pw, "", "10.0.0.1"); err != nil {
			t.Fatalf("after the window: %v", err)
		}
	})
}

func TestSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		ctx := context.Background()
		m := mirror.NewService(s, f.clock, "http://localhost")
		lat, lon := 45.5, -122.6
		if _, _, err := m.PutCrew(ctx, f.green.ID, "crew-a", mirror.CrewInput{Name: "A", DepotLat: &lat, DepotLon: &lon,
			Members: []mirror.MemberInput{{ExternalID: "m1", Name: "Marisol Vega"}}}); err != nil {
			t.Fatal(err)
		}
		u, _, err := f.users.Create(ctx, f.green.ID, user.NewUser{Email: "marisol@example.com", Role: "crew", Password: pw, CrewMember: "m1"})
		if err != nil {
			t.Fatal(err)
		}
		token, expires, err := f.users.StartSession(ctx, u)
		if err != nil || len(token) < 40 || !expires.Equal(f.clock.Now().Add(12*time.Hour)) {
			t.Fatalf("start: %q %v %v", token, expires, err)
		}
		var stored int64
		s.DB.Raw(`SELECT COUNT(*) FROM sessions WHERE token_hash = ?`, token).Scan(&stored)
		if stored != 0 {
			t.Fatal("the token itself is stored")
		}
		p, err := f.users.Session(ctx, token)
		if err != nil || p.UserID != u.ID || p.TenantID != f.green.ID || p.TenantName != "Greenway" || p.Role != "crew" ||
			p.CrewMemberID == nil || p.CrewMemberName != "Marisol Vega" || len(p.CSRFToken) < 40 || p.Location.String() != "America/Los_Angeles" {
			t.Fatalf("session: %+v %v", p, err)
		}
		other, _, _ := f.users.StartSession(ctx, u)
		if p2, _ := f.users.Session(ctx, other); p2.CSRFToken == p.CSRFToken {
			t.Fatal("two sessions share a CSRF token")
		}
		for _, bad := range []string{"", "nope", strings.Repeat("x", 500)} {
			if _, err := f.users.Session(ctx, bad); !errors.Is(err, user.ErrNoSession) {
				t.Fatalf("token %q: %v", bad, err)
			}
		}
		// Signing out ends this session only.
		if err := f.users.EndSession(ctx, token); err != nil {
			t.Fatal(err)
		}
		if _, err := f.users.Session(ctx, token); !errors.Is(err, user.ErrNoSession) {
			t.Fatalf("after sign-out: %v", err)
		}
		if _, err := f.users.Session(ctx, other); err != nil {
			t.Fatalf("other session: %v", err)
		}
		// 12 hours on, it has expired.
		f.clock.Advance(12*time.Hour - time.Second)
		if _, err := f.users.Session(ctx, other); err != nil {
			t.Fatalf("just before expiry: %v", err)
		}
		f.clock.Advance(time.Second)
		if _, err := f.users.Session(ctx, other); !errors.Is(err, user.ErrNoSession) {
			t.Fatalf("after 12 h: %v", err)
		}
		// Long-expired sessions are cleared when the user signs in again.
		f.clock.Advance(48 * time.Hour)
		if _, _, err := f.users.StartSession(ctx, u); err != nil {
			t.Fatal(err)
		}
		if n := storetest.Count(t, s.DB, "sessions"); n != 1 {
			t.Fatalf("%d sessions kept", n)
		}
	})
}

func TestEnsure(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		ctx := context.Background()
		n := user.NewUser{Email: "demo@example.com", Role: "dispatcher", Password: pw}
		if created, err := f.users.Ensure(ctx, f.green.ID, n); err != nil || !created {
			t.Fatalf("first: %v %v", created, err)
		}
		if created, err := f.users.Ensure(ctx, f.green.ID, n); err != nil || created {
			t.Fatalf("second: %v %v", created, err)
		}
		other := n
		other.Password = "another password"
		if _, err := f.users.Ensure(ctx, f.green.ID, other); !apperror.HasCode(err, apperror.CodeConflict) {
			t.Fatalf("other password: %v", err)
		}
		if n := storetest.Count(t, s.DB, "users"); n != 1 {
			t.Fatalf("%d users", n)
		}
	})
}
