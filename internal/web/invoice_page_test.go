package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/routeloop/routeloop/internal/apptest"
	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/neighbor"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/referral"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// doc is a page parsed as a browser would.
type doc struct {
	t    *testing.T
	root *html.Node
}

func parsePage(t *testing.T, rec *httptest.ResponseRecorder) doc {
	t.Helper()
	root, err := html.Parse(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatal(err)
	}
	return doc{t: t, root: root}
}

// all is every element under n with the tag ("" any) and class ("" any).
func all(n *html.Node, tag, class string) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && (tag == "" || n.Data == tag) && (class == "" || hasClass(n, class)) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

// textOf is what a reader sees of n: its text, spaces collapsed, without
// what is hidden from assistive technology (aria-hidden).
func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		switch {
		case n.Type == html.TextNode:
			b.WriteString(n.Data)
		case n.Type == html.ElementNode && (attr(n, "aria-hidden") == "true" || n.Data == "style" || n.Data == "script"):
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

func (d doc) text() string { return textOf(d.root) }

// attrs is every attribute value on the page, and the title.
func (d doc) attrs() []string {
	var out []string
	for _, n := range all(d.root, "", "") {
		for _, a := range n.Attr {
			out = append(out, a.Key+"="+a.Val)
		}
	}
	return out
}

func (d doc) one(tag, class string) *html.Node {
	d.t.Helper()
	ns := all(d.root, tag, class)
	if len(ns) != 1 {
		d.t.Fatalf("%d <%s class=%q> on the page, want one:\n%s", len(ns), tag, class, d.text())
	}
	return ns[0]
}

func (d doc) none(tag, class string) {
	d.t.Helper()
	if ns := all(d.root, tag, class); len(ns) != 0 {
		d.t.Fatalf("<%s class=%q> on the page: %s", tag, class, textOf(ns[0]))
	}
}

// invoicePages is Greenway Lawn on Friday 1 May 2026: Angie Baker (a phone)
// referred her neighbour Ben Ortiz (an e-mail only), 160 m down SE Maple
// St; both were serviced today, Ben's first visit converted the referral,
// and each has a draft invoice for today's visit with the same-day
// discount and their referral reward ($25 welcome credit, $10 thank-you).
type invoicePages struct {
	*site
	tenant string
	tokens map[string]string // invoice → page token
}

func newInvoicePages(t *testing.T, s *store.Store) *invoicePages {
	t.Helper()
	x := &invoicePages{site: newSite(t, s), tokens: map[string]string{}}
	ctx := context.Background()
	ten := apptest.Tenant(t, x.a.Tenants, tenant.NewTenant{Name: "Greenway Lawn", Timezone: "America/Los_Angeles", Currency: "USD"})
	x.tenant = ten.ID
	offers := []program.Offer{{Name: "standard", Referee: program.Reward{Kind: program.RewardFixedCredit, AmountCents: 2500},
		Referrer: program.Reward{Kind: program.RewardFixedCredit, AmountCents: 1000}}}
	if _, err := x.a.Neighbors.UpdateProgram(ctx, ten.ID, program.Input{Offers: &offers}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		id  string
		in  mirror.CustomerInput
		lon float64
	}{
		{"cust-7781", mirror.CustomerInput{Name: "Angie Baker", Phone: "+1 503 555 0142", Address: "14 SE Maple St, Portland"}, -122.6501},
		{"cust-7790", mirror.CustomerInput{Name: "Ben Ortiz", Email: "ben@example.com", Address: "30 SE Maple St, Portland"}, -122.64805},
	} {
		lat, lon := 45.4655, c.lon
		c.in.Lat, c.in.Lon, c.in.ConsentSameDay = &lat, &lon, true
		if _, _, err := x.a.Mirror.PutCustomer(ctx, ten.ID, c.id, c.in); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := x.a.Neighbors.CreateLink(ctx, ten.ID, neighbor.LinkInput{CustomerA: "cust-7781", CustomerB: "cust-7790"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := x.a.Referrals.Create(ctx, ten.ID, "test", referral.Input{ReferrerID: "cust-7781", Channel: referral.ChannelCode,
		Referee: referral.RefereeInput{Name: "Ben Ortiz", ExternalID: "cust-7790", Email: "ben@example.com"}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"cust-7781", "cust-7790"} {
		if _, _, err := x.a.Mirror.PutVisit(ctx, ten.ID, ten.Location(), "visit-"+c, mirror.VisitInput{CustomerID: c,
			ServiceDate: "2026-05-01", Status: "completed", PriceCents: 4500}); err != nil {
			t.Fatal(err)
		}
	}
	x.putInvoice("inv-2026-0501-A", "cust-7781", "draft", nil)
	x.putInvoice("inv-2026-0501-B", "cust-7790", "draft", nil)
	return x
}

func (x *invoicePages) putInvoice(number, customer, status string, payURL *string) invoice.Invoice {
	x.t.Helper()
	v := "visit-" + customer
	inv, _, err := x.a.Invoices.Put(context.Background(), x.tenant, "USD", number, invoice.Input{CustomerID: customer, Status: status,
		PayURL: payURL, Lines: []invoice.LineInput{{VisitID: &v, Description: "Weekly mow and edging", AmountCents: 4500}}})
	if err != nil {
		x.t.Fatal(err)
	}
	if inv.PublicToken == "" {
		x.t.Fatalf("invoice %s has no page token", number)
	}
	x.tokens[number] = inv.PublicToken
	return inv
}

func (x *invoicePages) page(number string) (*httptest.ResponseRecorder, doc) {
	x.t.Helper()
	rec := x.get("/i/" + x.tokens[number])
	if rec.Code != 200 {
		x.t.Fatalf("%s: %d\n%s", number, rec.Code, rec.Body.String())
	}
	return rec, parsePage(x.t, rec)
}

// noInternalIDs fails when the page shows any id but the invoice number
// the customer knows: the customers', visits', referral's and ledger's, or
// another customer's invoice number.
func noInternalIDs(t *testing.T, d doc, others ...string) {
	t.Helper()
	text := d.text()
	for _, id := range append([]string{"cust-7781", "cust-7790", "visit-cust", "referral #", "#1", "sync:", "reward:", "welcome offer:"}, others...) {
		if strings.Contains(text, id) {
			t.Errorf("the page shows %q:\n%s", id, text)
		}
		for _, a := range d.attrs() {
			if strings.Contains(a, id) {
				t.Errorf("an attribute carries %q: %s", id, a)
			}
		}
	}
}

var starRule = regexp.MustCompile(`(?s)label\.star\s*\{([^}]*)\}`)

// Ben's invoice in his own words: the same-day discount names the street
// of his neighbour and how far away, never her house or name; his welcome
// credit names who referred him, apart from it; no internal id shows.
func TestTheInvoicePageExplainsEachSavingInTheCustomersWords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newInvoicePages(t, s)
		_, ben := x.page("inv-2026-0501-B")
		whys := all(ben.root, "div", "why")
		if len(whys) != 2 {
			t.Fatalf("%d explained lines, want the same-day discount and the welcome credit:\n%s", len(whys), ben.text())
		}
		if got, want := textOf(whys[0]), "You saved $4.50 because we serviced your property the same day as your neighbour on SE Maple St (160 m away), on Friday, May 1, 2026."; got != want {
			t.Errorf("same-day line:\n got %q\nwant %q", got, want)
		}
		if got, want := textOf(whys[1]), "$25.00 welcome credit because Angie Baker referred you."; got != want {
			t.Errorf("welcome line:\n got %q\nwant %q", got, want)
		}
		saved := textOf(ben.one("div", "saved"))
		for _, want := range []string{"You saved $29.50 on this invoice.", "$4.50 for same-day service with your neighbour", "$25.00 in referral rewards"} {
			if !strings.Contains(saved, want) {
				t.Errorf("the savings box lacks %q: %s", want, saved)
			}
		}
		if text := ben.text(); strings.Contains(text, "14 SE Maple") || strings.Contains(text, "14 ") {
			t.Errorf("the neighbour's house number shows:\n%s", text)
		}
		if strings.Contains(textOf(whys[0]), "Angie") {
			t.Errorf("the same-day line names the neighbour: %s", textOf(whys[0]))
		}
		noInternalIDs(t, ben, "inv-2026-0501-A")
		if link := attr(all(ben.root, "a", "")[0], "href"); !strings.Contains(link, "ch=invoice") {
			t.Errorf("the referral link %q lacks ch=invoice", link)
		}
		// The printed link may wrap after a "/" only: the code and its
		// channel stay on one unbreakable line.
		if tails := all(ben.root, "span", "tail"); len(tails) != 1 || !strings.HasSuffix(textOf(tails[0]), "?ch=invoice") || strings.Contains(textOf(tails[0]), "/") {
			t.Errorf("the printed referral link is not kept whole after its last /: %d tails", len(tails))
		}

		// Angie's thank-you names no friend; her page names Ben nowhere.
		_, angie := x.page("inv-2026-0501-A")
		whys = all(angie.root, "div", "why")
		if len(whys) != 2 || textOf(whys[1]) != "$10.00 thank-you for referring a friend." {
			t.Fatalf("Angie's lines: %d, %v", len(whys), angie.text())
		}
		if strings.Contains(angie.text(), "Ben") || strings.Contains(angie.text(), "30 SE") {
			t.Errorf("Angie's page names her neighbour:\n%s", angie.text())
		}
		noInternalIDs(t, angie, "inv-2026-0501-B")
	})
}

// The scheduler's pay_url is the page's Pay button while there is
// something to pay; a paid invoice says so instead.
func TestTheInvoicePagePayButton(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newInvoicePages(t, s)
		_, d := x.page("inv-2026-0501-B")
		d.none("a", "pay") // no pay_url yet

		pay := "https://pay.example.com/greenway/inv-2026-0501-B?t=Zp4W&lang=en"
		x.putInvoice("inv-2026-0501-B", "cust-7790", "issued", &pay)
		rec, d := x.page("inv-2026-0501-B")
		button := d.one("a", "pay")
		if attr(button, "href") != pay || textOf(button) != "Pay $15.50" {
			t.Fatalf("Pay button %q → %q:\n%s", textOf(button), attr(button, "href"), rec.Body.String())
		}
		d.none("p", "paid")

		x.putInvoice("inv-2026-0501-B", "cust-7790", "paid", nil)
		_, d = x.page("inv-2026-0501-B")
		d.none("a", "pay")
		if got := textOf(d.one("p", "paid")); got != "Paid — thank you" {
			t.Fatalf("paid: %q", got)
		}
	})
}

// Five star targets, each at least 44 × 44 px and named "1 star" … "5
// stars", radio inputs in labels so they work without JavaScript.
func TestTheInvoicePageStarsAreLargeNamedRadios(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newInvoicePages(t, s)
		_, d := x.page("inv-2026-0501-A")
		var css strings.Builder
		for _, st := range all(d.root, "style", "") {
			if st.FirstChild != nil {
				css.WriteString(st.FirstChild.Data)
			}
		}
		rules := starRule.FindAllStringSubmatch(css.String(), -1)
		sized := false
		for _, r := range rules {
			if strings.Contains(r[1], "min-width: 44px") && strings.Contains(r[1], "min-height: 44px") {
				sized = true
			}
		}
		if !sized {
			t.Fatalf("no label.star rule sets min-width and min-height 44px: %q", rules)
		}
		stars := all(d.one("fieldset", "stars"), "label", "star")
		want := []string{"1 star", "2 stars", "3 stars", "4 stars", "5 stars"}
		if len(stars) != len(want) {
			t.Fatalf("%d star targets", len(stars))
		}
		for i, l := range stars {
			radios := all(l, "input", "")
			if len(radios) != 1 || attr(radios[0], "type") != "radio" || attr(radios[0], "name") != "score" || attr(radios[0], "value") != want[i][:1] {
				t.Errorf("star %d holds %d inputs (%v)", i+1, len(radios), radios)
			}
			if textOf(l) != want[i] {
				t.Errorf("star %d is named %q, want %q", i+1, textOf(l), want[i])
			}
		}
		form := d.one("form", "")
		if attr(form, "method") != "post" || !strings.HasPrefix(attr(form, "action"), "/i/"+x.tokens["inv-2026-0501-A"]+"/rating") {
			t.Fatalf("the rating form posts to %q", attr(form, "action"))
		}
	})
}

// rateForm is the page's form cookie and token.
func rateForm(t *testing.T, rec *httptest.ResponseRecorder) ([]*http.Cookie, string) {
	t.Helper()
	cookies := rec.Result().Cookies()
	d := parsePage(t, rec)
	for _, in := range all(d.root, "input", "") {
		if attr(in, "name") == "csrf_token" {
			return cookies, attr(in, "value")
		}
	}
	t.Fatal("no form token on the page")
	return nil, ""
}

// After a complaint the page thanks the customer and says how the company
// will get back to them — by phone when it has their number, else by
// e-mail — on the answer and on every later visit, instead of the form.
func TestTheInvoicePageAcknowledgesAComplaint(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newInvoicePages(t, s)
		token := x.tokens["inv-2026-0501-A"]
		rec, d := x.page("inv-2026-0501-A")
		if got := textOf(d.one("label", "check")); got != "Something was wrong — please call me" {
			t.Errorf("complaint box: %q", got)
		}
		cookies, csrf := rateForm(t, rec)
		if bad := x.post("/i/"+token+"/rating", url.Values{"score": {"9"}, "csrf_token": {csrf}}, cookies...); bad.Code != 422 ||
			!strings.Contains(bad.Body.String(), "Please choose from 1 to 5 stars.") {
			t.Fatalf("bad score: %d", bad.Code)
		}
		if forged := x.post("/i/"+token+"/rating", url.Values{"score": {"1"}}, cookies...); forged.Code != 403 ||
			!strings.Contains(forged.Body.String(), "This form had expired") {
			t.Fatalf("a rating without the form's token: %d", forged.Code)
		}
		// A low score with words about what went wrong is a complaint.
		sent := x.post("/i/"+token+"/rating", url.Values{"score": {"2"}, "comment": {"The back gate was left open"}, "csrf_token": {csrf}}, cookies...)
		ack := "Thank you for telling us. We're sorry — someone from Greenway Lawn will call you."
		for what, rec := range map[string]*httptest.ResponseRecorder{"answer": sent, "reload": x.get("/i/" + token)} {
			if rec.Code != 200 {
				t.Fatalf("%s: %d", what, rec.Code)
			}
			d := parsePage(t, rec)
			if got := textOf(d.one("p", "ack")); got != ack {
				t.Errorf("%s: acknowledgement %q", what, got)
			}
			d.none("form", "")
			d.none("fieldset", "stars")
		}
		var complaint bool
		s.DB.Raw(`SELECT complaint FROM ratings`).Scan(&complaint)
		if !complaint {
			t.Fatal("the complaint was not stored as one")
		}

		// Ben left only his e-mail: the box and the answer say so.
		token = x.tokens["inv-2026-0501-B"]
		rec, d = x.page("inv-2026-0501-B")
		if got := textOf(d.one("label", "check")); got != "Something was wrong — please e-mail me" {
			t.Errorf("Ben's complaint box: %q", got)
		}
		cookies, csrf = rateForm(t, rec)
		sent = x.post("/i/"+token+"/rating", url.Values{"score": {"4"}, "complaint": {"1"}, "csrf_token": {csrf}}, cookies...)
		if got := textOf(parsePage(t, sent).one("p", "ack")); got != "Thank you for telling us. We're sorry — someone from Greenway Lawn will e-mail you." {
			t.Fatalf("Ben's acknowledgement %q", got)
		}
	})
}

// A rating that is no complaint is thanked, stays ticked on reload, and can
// be changed; hostile text in the scheduler's lines is escaped.
func TestTheInvoicePageThanksARating(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newInvoicePages(t, s)
		v := "visit-cust-7781"
		inv, _, err := x.a.Invoices.Put(context.Background(), x.tenant, "USD", "inv-2026-0501-A", invoice.Input{CustomerID: "cust-7781",
			Lines: []invoice.LineInput{{VisitID: &v, Description: "Weekly mow <script>alert(1)</script>", AmountCents: 4500}}})
		if err != nil {
			t.Fatal(err)
		}
		token := inv.PublicToken
		rec, d := x.page("inv-2026-0501-A")
		if strings.Contains(rec.Body.String(), "<script>alert") || !strings.Contains(d.text(), "Weekly mow <script>alert(1)</script>") {
			t.Fatal("the line's description is not escaped text")
		}
		cookies, csrf := rateForm(t, rec)
		ok := x.post("/i/"+token+"/rating", url.Values{"score": {"5"}, "comment": {"Lovely edges"}, "csrf_token": {csrf}}, cookies...)
		for what, rec := range map[string]*httptest.ResponseRecorder{"answer": ok, "reload": x.get("/i/" + token)} {
			d := parsePage(t, rec)
			if rec.Code != 200 || !strings.Contains(d.text(), "Thank you for rating this visit 5 out of 5.") {
				t.Fatalf("%s: %d %s", what, rec.Code, d.text())
			}
			d.none("p", "ack")
			checked := 0
			for _, in := range all(d.one("fieldset", "stars"), "input", "") {
				if _, on := attrOK(in, "checked"); on {
					checked++
					if attr(in, "value") != "5" {
						t.Errorf("%s: star %s ticked", what, attr(in, "value"))
					}
				}
			}
			if checked != 1 {
				t.Errorf("%s: %d stars ticked", what, checked)
			}
		}
		var score int
		var complaint bool
		s.DB.Raw(`SELECT score, complaint FROM ratings`).Row().Scan(&score, &complaint)
		if score != 5 || complaint {
			t.Fatalf("stored score %d, complaint %v", score, complaint)
		}
	})
}
