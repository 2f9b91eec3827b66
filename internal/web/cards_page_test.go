package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
)

// Cards printed for a route say whose they are, in full, and at which stop,
// while the invitation speaks to the friend by the first name.
func TestCardsOfARouteNameTheirCustomerAndStop(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newStaffSite(t, s)
		codes := x.route()
		rec := x.get("/cards?crew=crew-a&date=2026-05-01", x.session("dispatcher@greenway.example"))
		if rec.Code != 200 {
			t.Fatalf("cards: %d", rec.Code)
		}
		cards := parseDOM(t, rec.Body.String()).all("article.card")
		if len(cards) != 2 {
			t.Fatalf("%d cards", len(cards))
		}
		for i, want := range []struct{ label, hi, code string }{
			{"Stop 1 · <script>alert(1)</script> Ng", "<script>alert(1)</script> invites you", codes["angie"]},
			{"Stop 2 · Ben Okafor", "Ben invites you", codes["ben"]},
		} {
			if got := cards[i].one(".co .for").text(); got != want.label {
				t.Errorf("card %d is marked %q, want %q", i+1, got, want.label)
			}
			if got := cards[i].one("p.hi").text(); got != want.hi {
				t.Errorf("card %d says %q, want %q", i+1, got, want.hi)
			}
			if got := cards[i].one("span.code").text(); got != want.code {
				t.Errorf("card %d has code %q", i+1, got)
			}
		}
		if strings.Contains(rec.Body.String(), "<script>alert") {
			t.Fatalf("a name is not escaped")
		}
	})
}

// The printed link may wrap only after a "/": its last part, the code with
// ?ch=card, is one unbreakable run, and nothing lets the browser break
// inside it.
func TestCardLinkIsNotBrokenMidCode(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newStaffSite(t, s)
		codes := x.route()
		rec := x.get("/cards?customers=ben", x.session("dispatcher@greenway.example"))
		body := rec.Body.String()
		link := parseDOM(t, body).one("article.card p.link")
		if got, want := link.one("span.tail").text(), codes["ben"]+"?ch=card"; got != want {
			t.Errorf("the unbroken part is %q, want %q", got, want)
		}
		if got := link.text(); !strings.HasPrefix(got, "http") || !strings.HasSuffix(got, "/r/"+codes["ben"]+"?ch=card") || strings.Contains(got, " ") {
			t.Errorf("the printed link reads %q", got)
		}
		nowrap := regexp.MustCompile(`\.card \.link \.tail\s*\{[^}]*white-space:\s*nowrap`)
		if !nowrap.MatchString(body) {
			t.Errorf("no nowrap rule for the code part of the link")
		}
		if anywhere := regexp.MustCompile(`\.card \.link\s*\{[^}]*(word-break:\s*break-all|overflow-wrap:\s*anywhere)`); !anywhere.MatchString(body) ||
			strings.Contains(body, "break-all") {
			t.Errorf("the link should wrap after a / (overflow-wrap: anywhere outside the code), never break-all")
		}
		// The QR code carries the same link.
		if img := parseDOM(t, body).one("article.card img"); !strings.HasSuffix(img.attr("alt"), codes["ben"]+"?ch=card") {
			t.Errorf("QR alt %q", img.attr("alt"))
		}
	})
}

// A dispatcher finds customers by name (any part of it, any case, this
// company's only), ticks them, and gets their cards; the ticks stay.
func TestCardsForCustomersFoundByName(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newStaffSite(t, s)
		codes := x.route()
		x.customer(x.green.ID, "ben-2", "Benedikt Okafor-Lang")
		x.customer(x.green.ID, "pct", "Fifty_Percent Lawns")
		x.customer(x.green.ID, "tiny", "Tiny Plants") // "y p": what "y_p" would match as a pattern
		x.customer(x.rival.ID, "ben-rival", "Ben Okafor")
		ck := x.session("dispatcher@greenway.example")

		page := x.get("/cards", ck)
		search := parseDOM(t, page.Body.String()).one("form[role=search]")
		if search.attr("method") != "get" || !search.has("input[name=q]") {
			t.Fatalf("no GET name search on the cards page")
		}

		found := func(q string) []string {
			t.Helper()
			rec := x.get("/cards?q="+url.QueryEscape(q), ck)
			if rec.Code != 200 {
				t.Fatalf("search %q: %d", q, rec.Code)
			}
			var names []string
			for _, l := range parseDOM(t, rec.Body.String()).all("ul.found label") {
				names = append(names, l.one("input[type=checkbox]").attr("value")+"="+l.text())
			}
			return names
		}
		for q, want := range map[string]string{
			"okafor":    "ben=Ben Okafor · 1 Maple St, Portland|ben-2=Benedikt Okafor-Lang",
			"BEN  oka":  "ben=Ben Okafor · 1 Maple St, Portland|ben-2=Benedikt Okafor-Lang",
			"lang ben":  "ben-2=Benedikt Okafor-Lang",
			"%":         "",
			"y_p":       "pct=Fifty_Percent Lawns",
			"cleo":      "cleo=Cleo Other-Crew · 1 Maple St, Portland",
			"no one by": "",
		} {
			if got := strings.Join(found(q), "|"); got != want {
				t.Errorf("search %q found %q, want %q", q, got, want)
			}
		}
		if body := x.get("/cards?q=zzz", ck).Body.String(); !strings.Contains(body, "No customer's name has “zzz”") {
			t.Errorf("an empty search says nothing")
		}

		// Ticked and sent: Ben's card (no stop: not printed for a route),
		// Ben still ticked, and a new search keeps him.
		rec := x.get("/cards?q=okafor&customers=ben", ck)
		doc := parseDOM(t, rec.Body.String())
		cards := doc.all("article.card")
		if rec.Code != http.StatusOK || len(cards) != 1 || cards[0].one("span.code").text() != codes["ben"] || cards[0].one(".for").text() != "Ben Okafor" {
			t.Fatalf("cards for the ticked: %d, %d cards", rec.Code, len(cards))
		}
		if !doc.one("ul.found input[value=ben]").hasAttr("checked") || doc.one("ul.found input[value=ben-2]").hasAttr("checked") {
			t.Errorf("the ticks are not kept")
		}
		if doc.one("form[role=search]").one("input[name=customers]").attr("value") != "ben" {
			t.Errorf("a new search drops the ticked customer")
		}
		// Two ticks, and the old comma list, both work.
		for _, q := range []string{"customers=ben&customers=ben-2", "customers=ben,ben-2"} {
			if n := len(parseDOM(t, x.get("/cards?"+q, ck).Body.String()).all("article.card")); n != 2 {
				t.Errorf("%s: %d cards", q, n)
			}
		}
	})
}
