package web_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/neighbor"
	"github.com/routeloop/routeloop/internal/referral"
	"github.com/routeloop/routeloop/internal/scheduling"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
	"github.com/routeloop/routeloop/internal/user"
)

// chromiumPath is the browser TestInABrowser drives.
func chromiumPath() string {
	if p := os.Getenv("ROUTELOOP_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// browserFixture is one company with a dispatcher, a crew member, a route
// with a referral waiting for a visit, and an invoice with the same-day
// discount. It returns Angie's referral code and the invoice's token.
func browserFixture(t *testing.T, x *site) (code, invoiceToken string) {
	t.Helper()
	ctx := context.Background()
	ten, _, err := x.a.Tenants.Create(ctx, tenant.NewTenant{Name: "Greenway Lawn", Timezone: "America/Los_Angeles", Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	loc := ten.Location()
	depotLat, depotLon := 45.5, -122.6
	if _, _, err := x.a.Mirror.PutCrew(ctx, ten.ID, "crew-a", scheduling.CrewInput{Name: "Crew A", DepotLat: &depotLat, DepotLon: &depotLon,
		Members: []scheduling.MemberInput{{ExternalID: "m1", Name: "Marisol Vega"}}}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []user.NewUser{
		{Email: "dispatcher@greenway.example", Role: "dispatcher"},
		{Email: "marisol@greenway.example", Role: "crew", CrewMember: "m1"},
	} {
		n.Password = password
		if _, _, err := x.a.Users.Create(ctx, ten.ID, n); err != nil {
			t.Fatal(err)
		}
	}
	put := func(id, name, address string, lat, lon float64) string {
		t.Helper()
		c, _, err := x.a.Mirror.PutCustomer(ctx, ten.ID, id, scheduling.CustomerInput{Name: name, Address: address,
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
		if _, _, err := x.a.Mirror.PutVisit(ctx, ten.ID, loc, id, scheduling.VisitInput{CustomerID: customer, CrewID: crew,
			ServiceDate: day, RoutePosition: p, Status: status, PriceCents: 4500}); err != nil {
			t.Fatal(err)
		}
	}
	// Monday's route (2026-05-04): Angie, Carl and Dana, Angie's linked neighbour.
	code = put("angie", "Angie Baker", "14 SE Maple St, Portland", 45.4655, -122.6501)
	put("carl", "Carl Moreno", "200 SE Oak St, Portland", 45.4700, -122.6400)
	put("dana", "Dana Kim", "20 SE Maple St, Portland", 45.4656, -122.6495)
	visit("v-angie", "angie", "2026-05-04", "scheduled", &crewA, 1)
	visit("v-carl", "carl", "2026-05-04", "scheduled", &crewA, 2)
	visit("v-dana", "dana", "2026-05-04", "scheduled", &crewA, 3)
	if _, _, err := x.a.Neighbors.CreateLink(ctx, ten.ID, neighbor.LinkInput{CustomerA: "angie", CustomerB: "dana"}); err != nil {
		t.Fatal(err)
	}
	// Ben, Angie's friend, is a customer with no visit yet.
	put("ben", "Ben Ortiz", "30 SE Maple St, Portland", 45.4655, -122.64805)
	if _, _, err := x.a.Referrals.Create(ctx, ten.ID, "test", referral.Input{ReferrerID: "angie", Channel: referral.ChannelCode,
		Referee: referral.RefereeInput{Name: "Ben Ortiz", ExternalID: "ben", Phone: "5035550101"}}); err != nil {
		t.Fatal(err)
	}
	// Today's route (the test clock's day, 2026-05-01) for the crew page.
	visit("v-angie-today", "angie", "2026-05-01", "scheduled", &crewA, 1)
	visit("v-carl-today", "carl", "2026-05-01", "scheduled", &crewA, 2)

	// Fern and Gus, linked neighbours, were both serviced today.
	put("fern", "Fern Lopez", "50 SE Elm St, Portland", 45.4620, -122.6550)
	put("gus", "Gus Novak", "56 SE Elm St, Portland", 45.4620, -122.6545)
	visit("v-fern", "fern", "2026-05-01", "completed", nil, 0)
	visit("v-gus", "gus", "2026-05-01", "completed", nil, 0)
	if _, _, err := x.a.Neighbors.CreateLink(ctx, ten.ID, neighbor.LinkInput{CustomerA: "fern", CustomerB: "gus"}); err != nil {
		t.Fatal(err)
	}
	vid := "v-fern"
	inv, _, err := x.a.Invoices.Put(ctx, ten.ID, "USD", "inv-1", invoice.Input{CustomerID: "fern",
		Lines: []invoice.LineInput{{VisitID: &vid, Description: "Weekly mow and edging", AmountCents: 4500}}})
	if err != nil {
		t.Fatal(err)
	}
	invoiceToken = inv.PublicToken
	if invoiceToken == "" {
		x.s.DB.Raw(`SELECT public_token FROM invoices WHERE external_id = 'inv-1'`).Scan(&invoiceToken)
	}
	return code, invoiceToken
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

// TestInABrowser walks through the pages in headless Chromium as a
// dispatcher, a crew member, a referred friend and a customer would, and
// saves a screenshot of each page at desktop and phone widths.
func TestInABrowser(t *testing.T) {
	exe := chromiumPath()
	if _, err := os.Stat(exe); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no Chromium at %s (%v): .ci/run installs it (apt-get install -y chromium); or set ROUTELOOP_CHROMIUM", exe, err)
		}
		t.Skipf("no Chromium at %s: install it (sudo apt-get install -y chromium) or set ROUTELOOP_CHROMIUM to a Chrome or Chromium binary", exe)
	}
	s := storetest.Open(t, store.SQLite)
	x := newSite(t, s)
	code, invoiceToken := browserFixture(t, x)
	dirs := screenshotDirs(t)

	srv := httptest.NewServer(x.a.HTTP)
	defer srv.Close()

	timeout, cancelTimeout := context.WithTimeout(context.Background(), 60*time.Second)
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
	desktop := chromedp.EmulateViewport(1280, 900)
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
	shot := func(name string) {
		t.Helper()
		for _, size := range []struct {
			suffix   string
			viewport chromedp.Action[chromedp.Void]
		}{
			{"desktop", desktop},
			{"phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch)},
		} {
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
			chromedp.Navigate(srv.URL+"/login"),
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
	circles := func() int {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('svg circle.stop').length`))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	// The dispatcher books Ben on Monday, next to Angie, and sees him on the route.
	signIn("dispatcher@greenway.example")
	do("open the board",
		chromedp.Navigate(srv.URL+"/dispatch?date=2026-05-04"),
		chromedp.WaitVisible(chromedp.CSS(`svg`)),
	)
	see("Referrals needing a visit", "Ben Ortiz", "Angie Baker")
	if n := circles(); n != 3 {
		t.Fatalf("%d stops on the route before booking, want 3", n)
	}
	shot("02-dispatch")
	do("book Ben",
		chromedp.Click(chromedp.CSS(`button[aria-label^="Book Ben Ortiz"]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.flash`)),
	)
	see("Booked Ben Ortiz with Crew A on 2026-05-04")
	if n := circles(); n != 4 {
		t.Fatalf("%d stops on the route after booking, want 4", n)
	}
	svgText, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(`svg`)))
	if err != nil || !strings.Contains(svgText, "Ben Ortiz") {
		t.Fatalf("the route does not show Ben (%v): %q", err, svgText)
	}
	shot("03-dispatch-booked")
	do("sign out",
		chromedp.Click(chromedp.CSS(`nav.staffbar button`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/login"]`)),
	)

	// Marisol, on the crew, logs a friend Carl named: a name and a phone.
	signIn("marisol@greenway.example")
	do("open today's route",
		chromedp.Navigate(srv.URL+"/crew/today"),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/crew/today/referral"]`)),
	)
	see("Marisol Vega", "2026-05-01", "Angie Baker", "Carl Moreno")
	shot("04-crew-today")
	do("log a referral",
		chromedp.SendKeys(chromedp.CSS(`form[action="/crew/today/referral"] input[name="name"]`), "Hana Lee"),
		chromedp.SendKeys(chromedp.CSS(`form[action="/crew/today/referral"] input[name="phone"]`), "503 555 0140"),
		chromedp.Click(chromedp.CSS(`form[action="/crew/today/referral"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
	)
	see("Referral saved")
	shot("05-crew-referral-saved")
	do("sign out",
		chromedp.Click(chromedp.CSS(`nav.staffbar button`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/login"]`)),
	)

	// Angie's friend opens her link and claims the offer.
	do("open the landing page",
		chromedp.Navigate(srv.URL+"/r/"+code),
		chromedp.WaitVisible(chromedp.CSS(`input[name="name"]`)),
	)
	see("Angie invited you", "Greenway Lawn")
	shot("06-landing")
	do("claim the offer",
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "Ivan Petrov"),
		chromedp.SendKeys(chromedp.CSS(`input[name="phone"]`), "(503) 555-0199"),
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`h2`)),
	)
	see("Thank you!")
	shot("07-landing-thanks")
	var referrals int64
	s.DB.Raw(`SELECT COUNT(*) FROM referrals`).Scan(&referrals)
	if referrals != 3 {
		t.Fatalf("%d referrals stored, want Ben's, Hana's and Ivan's", referrals)
	}

	// Fern opens her invoice and reads why it is cheaper.
	do("open the invoice",
		chromedp.Navigate(srv.URL+"/i/"+invoiceToken),
		chromedp.WaitVisible(chromedp.CSS(`.offer`)),
	)
	see("Greenway Lawn", "we serviced your property the same day as your neighbour on SE Elm St", "$45.00", "$40.50")
	shot("08-invoice")
}
