package web_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/app"
	"github.com/routeloop/routeloop/internal/config"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
)

// behindProxy is the staff site with trusted_proxies set.
func behindProxy(t *testing.T, s *store.Store, proxies ...string) *staffSite {
	x := newStaffSite(t, s)
	cfg := config.Defaults()
	cfg.TrustedProxies = proxies
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	x.a = app.Wire(cfg, s, x.clock, slog.New(slog.DiscardHandler))
	return x
}

// signInFrom posts the sign-in form as a connection from peer carrying the
// given forwarding headers.
func (x *staffSite) signInFrom(peer, email, pw string, headers map[string]string) *httptest.ResponseRecorder {
	ck, tok := x.loginForm()
	req := httptest.NewRequest("POST", "/login", strings.NewReader(url.Values{"email": {email},
		"password": {pw}, "csrf_token": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	req.RemoteAddr = peer
	req.AddCookie(ck)
	rec := httptest.NewRecorder()
	x.a.HTTP.ServeHTTP(rec, req)
	return rec
}

// A client on the private network (where echo would believe forwarding
// headers by default) claims a new address on every try: still throttled.
func TestForgedForwardedForFromAnUntrustedPeerDoesNotDodgeTheThrottle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newStaffSite(t, s)
		codes := []int{}
		for i := range 8 {
			rec := x.signInFrom("10.0.0.5:41000", "admin@greenway.example", "guess "+string(rune('a'+i)),
				map[string]string{"X-Forwarded-For": "203.0.113." + string(rune('1'+i))})
			codes = append(codes, rec.Code)
		}
		want := []int{401, 401, 401, 401, 401, 429, 429, 429}
		for i := range want {
			if codes[i] != want[i] {
				t.Fatalf("forged X-Forwarded-For from an untrusted peer: %v, want %v", codes, want)
			}
		}
	})
}

// Behind a trusted proxy the client is the address it forwards: one client
// is held back, another behind the same proxy is not, and a client that
// puts its own X-Forwarded-For in front of the proxy's gains nothing.
func TestForwardedForFromATrustedProxyNamesTheClient(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := behindProxy(t, s, "10.0.0.0/8")
		proxy := "10.0.0.5:41000"
		for i := range 5 {
			// The proxy appends the real client to what the client sent.
			xff := "198.51.100." + string(rune('1'+i)) + ", 198.51.100.7"
			if rec := x.signInFrom(proxy, "admin@greenway.example", "guess", map[string]string{"X-Forwarded-For": xff}); rec.Code != http.StatusUnauthorized {
				t.Fatalf("failure %d: %d", i+1, rec.Code)
			}
		}
		if rec := x.signInFrom(proxy, "admin@greenway.example", password, map[string]string{"X-Forwarded-For": "198.51.100.7"}); rec.Code != http.StatusTooManyRequests {
			t.Fatalf("the client behind the proxy, sixth try: %d", rec.Code)
		}
		rec := x.signInFrom(proxy, "admin@greenway.example", password, map[string]string{"X-Forwarded-For": "198.51.100.8", "X-Forwarded-Proto": "https"})
		if sc := cookieNamed(rec, "rl_session"); rec.Code != http.StatusSeeOther || sc == nil || !sc.Secure {
			t.Fatalf("another client of the proxy, over https: %d %+v", rec.Code, sc)
		}
		// A peer outside trusted_proxies is itself the client.
		if rec := x.signInFrom("192.168.1.9:5000", "admin@greenway.example", password, map[string]string{"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"}); rec.Code != http.StatusSeeOther || cookieNamed(rec, "rl_session").Secure {
			t.Fatalf("an untrusted peer naming the throttled client: %d", rec.Code)
		}
		x.clock.Advance(15 * time.Minute)
		if rec := x.signInFrom(proxy, "admin@greenway.example", password, map[string]string{"X-Forwarded-For": "198.51.100.7"}); rec.Code != http.StatusSeeOther {
			t.Fatalf("after the window: %d", rec.Code)
		}
	})
}
