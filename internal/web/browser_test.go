package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/routeloop/routeloop/geo"
	"github.com/routeloop/routeloop/internal/app"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/config"
	"github.com/routeloop/routeloop/internal/geocode/geocodetest"
	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/neighbor"
	"github.com/routeloop/routeloop/internal/outbox"
	"github.com/routeloop/routeloop/internal/refcode"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
	"github.com/routeloop/routeloop/internal/user"
	"github.com/routeloop/routeloop/internal/webhook"
)

// chromiumPath is the browser TestInABrowser drives.
func chromiumPath() string {
	if p := os.Getenv("ROUTELOOP_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// browserWorld is one company as the browser test finds it: a dispatcher,
// an owner and a crew member; today's route of eight stops; Monday's route
// with Angie and Dana, linked neighbours; a scheduler with an API key and a
// webhook receiver; a geocoder that knows the friend's street; and Fern's
// invoice with the same-day discount and a payment page.
type browserWorld struct {
	x         *site
	srv       *httptest.Server
	tenantID  string
	apiKey    string
	angieCode string
	hooks     *hookReceiver
}

// hookReceiver is the scheduler's webhook endpoint: it checks every
// signature and keeps the event types in the order they came.
type hookReceiver struct {
	t      *testing.T
	srv    *httptest.Server
	now    func() time.Time
	mu     sync.Mutex
	secret string
	types  []string
	bodies []string
}

func newHookReceiver(t *testing.T, now func() time.Time) *hookReceiver {
	h := &hookReceiver{t: t, now: now}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if err := webhook.Verify([]string{h.secret}, r.Header.Get(webhook.HeaderID), r.Header.Get(webhook.HeaderTimestamp),
			r.Header.Get(webhook.HeaderSignature), body, h.now()); err != nil {
			t.Errorf("a delivery does not verify: %v", err)
		}
		var msg struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(body, &msg)
		h.types = append(h.types, msg.Type)
		h.bodies = append(h.bodies, string(body))
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookReceiver) got() ([]string, []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.types...), append([]string(nil), h.bodies...)
}

// The friend's street as the geocoder knows it, a few doors from Angie.
const (
	friendAddress = "40 SE Maple St, Portland"
	payPage       = "https://pay.example.com/greenway/inv-1"
)

func newBrowserWorld(t *testing.T, s *store.Store) *browserWorld {
	t.Helper()
	ctx := context.Background()
	places := geocodetest.New(t, map[string]geo.Point{friendAddress: {Lat: 45.4656, Lon: -122.6490}})
	srv := httptest.NewUnstartedServer(nil)
	t.Cleanup(srv.Close)
	cfg := config.Defaults()
	cfg.BaseURL = "http://" + srv.Listener.Addr().String()
	cfg.GeocoderURL, cfg.GeocoderRate = places.URL, 0
	cfg.WebhooksAllowPrivate = true
	c := clock.NewFixed(time.Date(2026, 5, 1, 16, 0, 0, 0, time.UTC))
	x := &site{t: t, a: app.Wire(cfg, s, c, slog.New(slog.DiscardHandler)), s: s, clock: c}
	srv.Config.Handler = x.a.HTTP
	srv.Start()
	w := &browserWorld{x: x, srv: srv, hooks: newHookReceiver(t, c.Now)}

	ten, _, err := x.a.Tenants.Create(ctx, tenant.NewTenant{Name: "Greenway Lawn", Timezone: "America/Los_Angeles", Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	w.tenantID = ten.ID
	loc := ten.Location()
	if w.apiKey, _, err = x.a.Tenants.IssueKey(ctx, ten.ID, tenant.RoleIntegration, "scheduler"); err != nil {
		t.Fatal(err)
	}
	ep, err := x.a.Endpoints.Create(ctx, ten.ID, outbox.EndpointInput{URL: w.hooks.srv.URL, EventTypes: []string{"visit.booked", "route.changed"}})
	if err != nil {
		t.Fatal(err)
	}
	w.hooks.secret = ep.Secret
	depotLat, depotLon := 45.5, -122.6
	if _, _, err := x.a.Mirror.PutCrew(ctx, ten.ID, "crew-a", mirror.CrewInput{Name: "Crew A", DepotLat: &depotLat, DepotLon: &depotLon,
		Members: []mirror.MemberInput{{ExternalID: "m1", Name: "Marisol Vega"}}}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []user.NewUser{
		{Email: "dispatcher@greenway.example", Role: "dispatcher"},
		{Email: "marisol@greenway.example", Role: "crew", CrewMember: "m1"},
		{Email: "owner@greenway.example", Role: "admin"},
	} {
		n.Password = password
		if _, _, err := x.a.Users.Create(ctx, ten.ID, n); err != nil {
			t.Fatal(err)
		}
	}
	put := func(id, name, address string, lat, lon float64) string {
		t.Helper()
		c, _, err := x.a.Mirror.PutCustomer(ctx, ten.ID, id, mirror.CustomerInput{Name: name, Address: address,
			Lat: &lat, Lon: &lon, ConsentSameDay: true})
		if err != nil {
			t.Fatal(err)
		}
		return c.ReferralCode
	}
	crewA := "crew-a"
	visit := func(id, customer, day, status string, crew *string, pos int) {
		t.Helper()
		var p *int
		if pos > 0 {
			p = &pos
		}
		if _, _, err := x.a.Mirror.PutVisit(ctx, ten.ID, loc, id, mirror.VisitInput{CustomerID: customer, CrewID: crew,
			ServiceDate: day, RoutePosition: p, Status: status, PriceCents: 4500}); err != nil {
			t.Fatal(err)
		}
	}
	// Monday's route (2026-05-04): Angie, Dana (her linked neighbour), then
	// Carl across the neighbourhood.
	w.angieCode = put("angie", "Angie Baker", "14 SE Maple St, Portland", 45.4655, -122.6501)
	put("dana", "Dana Kim", "20 SE Maple St, Portland", 45.4656, -122.6495)
	put("carl", "Carl Moreno", "200 SE Oak St, Portland", 45.4760, -122.6380)
	visit("v-angie", "angie", "2026-05-04", "scheduled", &crewA, 1)
	visit("v-dana", "dana", "2026-05-04", "scheduled", &crewA, 2)
	visit("v-carl", "carl", "2026-05-04", "scheduled", &crewA, 3)
	if _, _, err := x.a.Neighbors.CreateLink(ctx, ten.ID, neighbor.LinkInput{CustomerA: "angie", CustomerB: "dana"}); err != nil {
		t.Fatal(err)
	}
	// Today's route (the test clock's day, 2026-05-01): eight stops.
	for i, who := range []struct{ id, name string }{{"angie", ""}, {"carl", ""}, {"hal", "Hal Jensen"}, {"ida", "Ida Brooks"},
		{"jon", "Jon Park"}, {"kay", "Kay Wu"}, {"lou", "Lou Reyes"}, {"mia", "Mia Stone"}} {
		if who.name != "" {
			put(who.id, who.name, fmt.Sprintf("%d SE Pine St, Portland", 100+10*i), 45.47+0.001*float64(i), -122.64)
		}
		visit("v-"+who.id+"-today", who.id, "2026-05-01", "scheduled", &crewA, i+1)
	}
	// Fern and Gus, linked neighbours, were both serviced today.
	put("fern", "Fern Lopez", "50 SE Elm St, Portland", 45.4620, -122.6550)
	put("gus", "Gus Novak", "56 SE Elm St, Portland", 45.4620, -122.6545)
	visit("v-fern", "fern", "2026-05-01", "completed", nil, 0)
	visit("v-gus", "gus", "2026-05-01", "completed", nil, 0)
	if _, _, err := x.a.Neighbors.CreateLink(ctx, ten.ID, neighbor.LinkInput{CustomerA: "fern", CustomerB: "gus"}); err != nil {
		t.Fatal(err)
	}
	vid, pay := "v-fern", payPage
	if _, _, err := x.a.Invoices.Put(ctx, ten.ID, "USD", "inv-1", invoice.Input{CustomerID: "fern", PayURL: &pay,
		Lines: []invoice.LineInput{{VisitID: &vid, Description: "Weekly mow and edging", AmountCents: 4500}}}); err != nil {
		t.Fatal(err)
	}
	return w
}

// api calls the API as the scheduler and decodes the answer into out.
func (w *browserWorld) api(method, path string, body any, out any) {
	w.x.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, w.srv.URL+path, rd)
	req.Header.Set("Authorization", "Bearer "+w.apiKey)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.x.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		w.x.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			w.x.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

// screenshotDirs are where TestInABrowser writes its screenshots:
// testout/screenshots at the repository's root, and ROUTELOOP_SCREENSHOTS
// when it is set (a relative path is taken from the repository's root).
func screenshotDirs(t *testing.T) []string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dirs := []string{filepath.Join(root, "testout", "screenshots")}
	if d := os.Getenv("ROUTELOOP_SCREENSHOTS"); d != "" {
		if !filepath.IsAbs(d) {
			d = filepath.Join(root, d)
		}
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dirs
}

// TestInABrowser walks through the pages in headless Chromium as each
// person would: a customer opens the invoice link the scheduler got from
// the API and rates the visit; a friend signs up through a printed card;
// the dispatcher sees that friend's best days before the scheduler knows
// them (the geocoder placed them), then books them, and the scheduler hears
// visit.booked and route.changed; a crew member pitches at stop 7 and lands
// back at stop 7; the owner's page fits a phone and a laptop. It saves a
// screenshot of each page at desktop and phone widths.
func TestInABrowser(t *testing.T) {
	exe := chromiumPath()
	if _, err := os.Stat(exe); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no Chromium at %s (%v): .ci/run installs it (apt-get install -y chromium); or set ROUTELOOP_CHROMIUM", exe, err)
		}
		t.Skipf("no Chromium at %s: install it (sudo apt-get install -y chromium) or set ROUTELOOP_CHROMIUM to a Chrome or Chromium binary", exe)
	}
	s := storetest.Open(t, store.SQLite)
	w := newBrowserWorld(t, s)
	dirs := screenshotDirs(t)

	timeout, cancelTimeout := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancelTimeout()
	alloc, cancelAlloc := chromedp.NewExecAllocator(timeout,
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "chromium")),
	)
	defer cancelAlloc()
	ctx, cancelTab := chromedp.NewContext(alloc, chromedp.WithErrorf(t.Logf))
	defer cancelTab()

	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval := func(js string) bool {
		t.Helper()
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return ok
	}
	desktop := chromedp.EmulateViewport(1366, 900)
	phone := chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch)
	// see checks the page's visible text.
	see := func(wants ...string) {
		t.Helper()
		text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		if err != nil {
			t.Fatalf("reading the page: %v", err)
		}
		for _, want := range wants {
			if !strings.Contains(text, want) {
				loc, _ := chromedp.Run(ctx, chromedp.Location())
				t.Fatalf("%s does not show %q:\n%s", loc, want, text)
			}
		}
	}
	// fits checks, with the DOM, that nothing on the page reaches past the
	// viewport's edges (no horizontal scrolling) at the current width.
	fits := func(where string) {
		t.Helper()
		wide, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('body *')].filter(e => {
			const r = e.getBoundingClientRect();
			return r.width > 0 && r.height > 0 && (r.right > document.documentElement.clientWidth + 1 || r.left < -1);
		}).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : '')
		          + ' ' + Math.round(e.getBoundingClientRect().left) + '..' + Math.round(e.getBoundingClientRect().right)).slice(0, 10)`))
		if err != nil {
			t.Fatal(err)
		}
		if len(wide) > 0 || !eval(`document.documentElement.scrollWidth <= document.documentElement.clientWidth`) {
			width, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.clientWidth`))
			t.Fatalf("%s at %d px: elements wider than the viewport: %v", where, width, wide)
		}
	}
	shot := func(name string) {
		t.Helper()
		for _, size := range []struct {
			suffix   string
			viewport chromedp.Action[chromedp.Void]
		}{{"desktop", desktop}, {"phone", phone}} {
			do("resize for "+name, size.viewport)
			png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatalf("screenshot of %s: %v", name, err)
			}
			for _, d := range dirs {
				if err := os.WriteFile(filepath.Join(d, name+"-"+size.suffix+".png"), png, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		do("back to desktop", desktop)
	}
	signIn := func(email string) {
		t.Helper()
		do("sign in as "+email,
			desktop,
			chromedp.Navigate(w.srv.URL+"/"),
			chromedp.WaitVisible(chromedp.CSS(`input[name="email"]`)),
			chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), email),
			chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password),
		)
		see("Sign in")
		shot("01-login")
		do("submit the sign-in form",
			chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS(`nav.staffbar`)),
		)
		see(email)
	}
	signOut := func() {
		t.Helper()
		do("sign out",
			chromedp.Click(chromedp.CSS(`nav.staffbar form button`)),
			chromedp.WaitVisible(chromedp.CSS(`form[action="/login"]`)),
		)
	}

	// Fern opens the invoice link the scheduler put in her e-mail, reads
	// why it is cheaper, sees where to pay and rates the visit.
	var inv struct {
		InvoiceURL string `json:"invoice_url"`
		PayURL     string `json:"pay_url"`
	}
	w.api("GET", "/api/v1/invoices/inv-1", nil, &inv)
	if !strings.HasPrefix(inv.InvoiceURL, w.srv.URL+"/i/") || inv.PayURL != payPage {
		t.Fatalf("invoice_url %q, pay_url %q", inv.InvoiceURL, inv.PayURL)
	}
	do("open the invoice",
		chromedp.Navigate(inv.InvoiceURL),
		chromedp.WaitVisible(chromedp.CSS(`input[name="score"]`)),
	)
	see("Greenway Lawn", "because we serviced your property the same day as your neighbour on SE Elm St", "Pay $40.50")
	if !eval(`[...document.querySelectorAll('a')].some(a => a.href === '` + payPage + `' && a.textContent.includes('Pay'))`) {
		t.Fatal("the Pay button does not lead to the scheduler's payment page")
	}
	if !eval(`[...document.querySelectorAll('footer a')].some(a => a.pathname.startsWith('/optout/'))`) {
		t.Fatal("the invoice page has no marketing opt-out link")
	}
	if !eval(`[...document.querySelectorAll('label.star')].every(l => { const r = l.getBoundingClientRect(); return r.width >= 44 && r.height >= 44 })`) {
		t.Fatal("a rating star is smaller than 44 px")
	}
	shot("08-invoice")
	do("rate the visit 5 stars",
		chromedp.Click(chromedp.CSS(`input[name="score"][value="5"]`)),
		chromedp.Click(chromedp.CSS(`form[action*="/rating"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`p[role="status"]`)),
	)
	see("Thank you for rating this visit 5 out of 5.")

	// Ivan found Angie's printed card: its link carries ?ch=card. He signs
	// up with his street and agrees to same-day service.
	do("open the card's link",
		chromedp.Navigate(refcode.WithChannel(refcode.URL(w.srv.URL, w.angieCode), refcode.ChannelCard)),
		chromedp.WaitVisible(chromedp.CSS(`input[name="name"]`)),
	)
	see("Angie invited you", "Greenway Lawn", "10% off every visit")
	shot("06-landing")
	do("claim the offer",
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "Ivan Petrov"),
		chromedp.SendKeys(chromedp.CSS(`input[name="phone"]`), "(503) 555-0199"),
		chromedp.SendKeys(chromedp.CSS(`input[name="address"]`), friendAddress),
		chromedp.Click(chromedp.CSS(`input[name="consent_same_day"]`)),
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`h2`)),
	)
	see("Thank you!")
	shot("07-landing-thanks")
	var refs []struct {
		Channel        string `json:"channel"`
		LocationSource string `json:"location_source"`
		WithinRadius   bool   `json:"within_radius"`
		Referee        struct {
			Name           string `json:"name"`
			ConsentSameDay bool   `json:"consent_same_day"`
		} `json:"referee"`
	}
	var page struct {
		Referrals json.RawMessage `json:"referrals"`
	}
	w.api("GET", "/api/v1/referrals", nil, &page)
	if err := json.Unmarshal(page.Referrals, &refs); err != nil || len(refs) != 1 {
		t.Fatalf("referrals after the sign-up: %s (%v)", page.Referrals, err)
	}
	if r := refs[0]; r.Referee.Name != "Ivan Petrov" || r.Channel != "card" || !r.Referee.ConsentSameDay ||
		r.LocationSource != "geocoded" || !r.WithinRadius {
		t.Fatalf("Ivan's referral: %+v, want channel card, same-day consent, geocoded within the radius", r)
	}

	// The dispatcher sees Ivan's best days before the scheduler has made
	// him a customer; once it has, books him on Monday next to Angie.
	signIn("dispatcher@greenway.example")
	do("open the board",
		chromedp.Navigate(w.srv.URL+"/dispatch?date=2026-05-04"),
		chromedp.WaitVisible(chromedp.CSS(`svg`)),
	)
	see("Referrals needing a visit", "Ivan Petrov", "Not a customer yet", "2026-05-04 · Crew A", "Angie Baker")
	if !eval(`document.querySelectorAll('svg circle.stop, svg .marker').length >= 3`) {
		t.Fatal("the route map has no stop markers")
	}
	shot("02-dispatch")
	do("the board on a phone", phone)
	fits("/dispatch")
	do("back to desktop", desktop)
	w.api("PUT", "/api/v1/customers/ivan", map[string]any{"name": "Ivan Petrov", "phone": "(503) 555-0199",
		"address": friendAddress, "lat": 45.4656, "lon": -122.6490}, nil)
	do("open the board again",
		chromedp.Navigate(w.srv.URL+"/dispatch?date=2026-05-04"),
		chromedp.WaitVisible(chromedp.CSS(`button[aria-label="Book Ivan Petrov with Crew A on 2026-05-04"]`)),
	)
	do("book Ivan",
		chromedp.Click(chromedp.CSS(`button[aria-label="Book Ivan Petrov with Crew A on 2026-05-04"]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.flash`)),
	)
	see("Booked Ivan Petrov with Crew A on 2026-05-04")
	shot("03-dispatch-booked")
	signOut()
	for {
		n, err := w.x.a.Deliverer.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	types, bodies := w.hooks.got()
	if !slices.Contains(types, "visit.booked") || !slices.Contains(types, "route.changed") {
		t.Fatalf("the scheduler heard %v, want visit.booked and route.changed:\n%s", types, strings.Join(bodies, "\n"))
	}
	var customer struct {
		ConsentSameDay bool `json:"consent_same_day"`
	}
	w.api("GET", "/api/v1/customers/ivan", nil, &customer)
	if !customer.ConsentSameDay {
		t.Fatal("Ivan's same-day consent from the landing form did not reach his customer record")
	}

	// Marisol, on the crew, pitches at stop 7 and comes back to stop 7;
	// then logs a friend Angie named at stop 1: a name and a phone.
	signIn("marisol@greenway.example")
	do("open today's route",
		chromedp.Navigate(w.srv.URL+"/crew/today"),
		chromedp.WaitVisible(chromedp.CSS(`#stop-7`)),
	)
	see("Marisol Vega", "2026-05-01", "Angie Baker", "Lou Reyes")
	shot("04-crew-today")
	do("pitch at stop 7",
		chromedp.Click(chromedp.CSS(`#stop-7 button[value="pitched"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#stop-7 .notice`)),
	)
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.HasSuffix(loc, "#stop-7") {
		t.Fatalf("after the pitch the page is at %q (%v), want #stop-7", loc, err)
	}
	note, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#stop-7 .notice`)))
	if !strings.Contains(note, "Pitch logged") {
		t.Fatalf("stop 7 says %q", note)
	}
	do("the route on a phone", phone)
	fits("/crew/today")
	do("back to desktop", desktop)
	do("log a referral at stop 1",
		chromedp.SendKeys(chromedp.CSS(`#stop-1 form[action="/crew/today/referral"] input[name="name"]`), "Hana Lee"),
		chromedp.SendKeys(chromedp.CSS(`#stop-1 form[action="/crew/today/referral"] input[name="phone"]`), "503 555 0140"),
		chromedp.Click(chromedp.CSS(`#stop-1 form[action="/crew/today/referral"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#stop-1 .notice`)),
	)
	see("Referral saved")
	shot("05-crew-referral-saved")
	signOut()

	// The owner's page: nothing wider than the screen on a laptop or a phone.
	signIn("owner@greenway.example")
	do("open the owner's page",
		chromedp.Navigate(w.srv.URL+"/admin"),
		chromedp.WaitVisible(chromedp.CSS(`form`)),
	)
	fits("/admin")
	do("the owner's page on a phone", phone)
	fits("/admin")
	do("back to desktop", desktop)
	shot("09-admin")
	signOut()
	var referrals int64
	s.DB.Raw(`SELECT COUNT(*) FROM referrals`).Scan(&referrals)
	if referrals != 2 {
		t.Fatalf("%d referrals stored, want Ivan's and Hana's", referrals)
	}
}
