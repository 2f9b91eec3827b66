package web_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/routeloop/routeloop/internal/httpapi"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/templates"
)

func (x *site) do(method, path string, header map[string]string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	x.a.HTTP.ServeHTTP(rec, req)
	return rec
}

// assertPageHeaders checks an HTML answer's security headers.
func assertPageHeaders(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	h := rec.Header()
	// A page's CSV download (/admin/kpis.csv) is a file, with the same headers.
	csvFile := strings.HasSuffix(what, ".csv") && strings.HasPrefix(h.Get("Content-Type"), "text/csv")
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") && !csvFile {
		t.Errorf("%s: %d answered %q, not a page:\n%.300s", what, rec.Code, ct, rec.Body.String())
	}
	csp := h.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self';") {
		t.Errorf("%s: Content-Security-Policy %q", what, csp)
	}
	for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY"} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %s %q, want %q", what, k, got, want)
		}
	}
	private := strings.HasPrefix(what, "GET /i/") || strings.HasPrefix(what, "POST /i/") || strings.HasPrefix(what, "GET /r/") || strings.HasPrefix(what, "POST /r/") ||
		strings.HasPrefix(what, "GET /optout/") || strings.HasPrefix(what, "POST /optout/")
	if got := h.Get("X-Robots-Tag"); private != strings.Contains(got, "noindex") {
		t.Errorf("%s: X-Robots-Tag %q", what, got)
	}
}

// Every page route, signed in and signed out, answers HTML with the
// security headers, and so do its errors; the API's errors stay JSON.
func TestEveryPageCarriesTheSecurityHeaders(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newStaffSite(t, s)
		code := x.customer(x.green.ID, "cust-1", "Angie Baker")
		admin := x.session("admin@greenway.example")
		param := regexp.MustCompile(`:[a-z_]+`)
		pages := 0
		for _, r := range x.a.HTTP.Routes() {
			if httpapi.IsAPIPath(r.Path) || strings.HasPrefix(r.Path, "/favicon") || strings.HasPrefix(r.Path, "/static/") ||
				r.Method == "echo_route_not_found" || strings.Contains(r.Path, "*") {
				continue
			}
			path := param.ReplaceAllStringFunc(r.Path, func(p string) string {
				if p == ":code" {
					return code
				}
				return "1"
			})
			for _, who := range [][]*http.Cookie{nil, {admin}} {
				rec := x.do(r.Method, path, nil, who...)
				if rec.Code == http.StatusSeeOther || rec.Code == http.StatusFound {
					continue // signed out: to /login, checked below
				}
				assertPageHeaders(t, r.Method+" "+path, rec)
				pages++
			}
		}
		if pages < 15 {
			t.Fatalf("only %d page answers checked", pages)
		}
		assertPageHeaders(t, "GET /login", x.get("/login"))
		assertPageHeaders(t, "GET /r/"+code, x.get("/r/"+code))
		assertPageHeaders(t, "GET /i/unknown-token", x.get("/i/unknown-token"))

		// Errors of pages are pages; errors of the API are JSON.
		for _, tc := range []struct {
			method, path string
			status       int
		}{{"GET", "/nowhere", 404}, {"GET", "/admin/nowhere", 404}, {"PUT", "/login", 405}, {"GET", "/r/", 404}} {
			rec := x.do(tc.method, tc.path, nil, admin)
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), "<h1>") {
				t.Errorf("%s %s: %d\n%.300s", tc.method, tc.path, rec.Code, rec.Body.String())
			}
			assertPageHeaders(t, tc.method+" "+tc.path, rec)
		}
		for _, path := range []string{"/api/v1/nowhere", "/api/v1/customers", "/hooks/v1/nope"} {
			rec := x.get(path)
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") || !strings.Contains(rec.Body.String(), `"error"`) {
				t.Errorf("API %s: %d %q %s", path, rec.Code, ct, rec.Body.String())
			}
			if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("API %s without nosniff", path)
			}
		}
	})
}

// No page has inline script or an on* handler attribute: the policy
// would block them.
func TestTemplatesHaveNoInlineScript(t *testing.T) {
	inline := regexp.MustCompile(`(?i)<script[^>]*>|\son[a-z]+\s*=|javascript:`)
	files, _ := fs.Glob(templates.FS, "*.html")
	for _, f := range files {
		b, _ := fs.ReadFile(templates.FS, f)
		for _, m := range inline.FindAllString(string(b), -1) {
			if strings.Contains(m, ` src="/static/`) {
				continue
			}
			t.Errorf("%s: inline script %q", f, m)
		}
	}
}

func gunzip(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	if rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("not compressed: %v", rec.Header())
	}
	r, err := gzip.NewReader(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Pages and JSON are compressed for a client that accepts gzip, and only
// for one that does.
func TestAnswersAreCompressedWhenTheClientAcceptsGzip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newStaffSite(t, s)
		gz := map[string]string{"Accept-Encoding": "gzip, deflate, br"}
		if body := gunzip(t, x.do("GET", "/login", gz)); !strings.Contains(body, `action="/login"`) {
			t.Fatalf("login page:\n%s", body)
		}
		admin := x.session("admin@greenway.example")
		if rec := x.do("GET", "/admin", gz, admin); rec.Code != 200 || !strings.Contains(gunzip(t, rec), "<h1") {
			t.Fatalf("admin page %d", rec.Code)
		}
		if body := gunzip(t, x.do("GET", "/api/v1/openapi.json", gz)); !strings.HasPrefix(strings.TrimSpace(body), "{") {
			t.Fatalf("openapi: %.200s", body)
		}
		if body := gunzip(t, x.do("GET", "/nowhere", gz)); !strings.Contains(body, "Page not found") {
			t.Fatalf("error page: %.300s", body)
		}
		if rec := x.get("/login"); rec.Header().Get("Content-Encoding") != "" || !strings.Contains(rec.Body.String(), `action="/login"`) {
			t.Fatal("compressed for a client that did not ask")
		}
	})
}

func TestTheFaviconIsServedWithALongCache(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newSite(t, s)
		for path, ct := range map[string]string{"/favicon.ico": "image/x-icon", "/favicon.svg": "image/svg+xml"} {
			rec := x.get(path)
			if rec.Code != 200 || rec.Header().Get("Content-Type") != ct || !strings.Contains(rec.Header().Get("Cache-Control"), "max-age=31536000") || rec.Body.Len() == 0 {
				t.Fatalf("%s: %d %v", path, rec.Code, rec.Header())
			}
		}
		if b := x.get("/favicon.ico").Body.Bytes(); !bytes.HasPrefix(b, []byte{0, 0, 1, 0}) {
			t.Fatalf("favicon.ico is not an icon: % x", b[:8])
		}
		if rec := x.get("/static/print.js"); rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/javascript") {
			t.Fatalf("print.js: %d", rec.Code)
		}
		if !strings.Contains(x.get("/login").Body.String(), `rel="icon" href="/favicon.svg"`) {
			t.Fatal("pages do not name the icon")
		}
	})
}
