package invoice_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/app"
	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/apptest"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/neighbor"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
)

func TestPayURLMustBeAnAbsoluteWebAddress(t *testing.T) {
	cases := []struct {
		url, want string // want: part of the refusal, "" to accept
	}{
		{"", ""},
		{"https://pay.example.com/inv-2026-0412?t=q3N8", ""},
		{"http://pay.example.com:8080/i/7", ""},
		{"HTTPS://Pay.Example.com/inv-7", ""},
		{"https://pay.example.com/" + strings.Repeat("a", invoice.MaxPayURL-len("https://pay.example.com/")), ""},
		{"https://pay.example.com/" + strings.Repeat("a", invoice.MaxPayURL), "at most 2000 characters"},
		{"javascript:alert(document.cookie)", "javascript: addresses are refused"},
		{"JavaScript:alert(1)", "javascript: addresses are refused"},
		{"data:text/html,<script>alert(1)</script>", "data: addresses are refused"},
		{"ftp://pay.example.com/inv-7", "ftp: addresses are refused"},
		{"/pay/inv-7", "relative address"},
		{"//pay.example.com/inv-7", "relative address"},
		{"pay.example.com/inv-7", "relative address"},
		{"https:pay.example.com", "must name a host"},
		{"https:///inv-7", "must name a host"},
		{"https://angie:secret@pay.example.com/inv-7", "user name or password"},
		{"https://pay.example.com/inv 7", "spaces"},
		{"https://pay.example.com/\ninv-7", "one line"},
		{"https://pay.example.com/%zz", "absolute http"},
	}
	for _, c := range cases {
		err := invoice.CheckPayURL(c.url)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%.60q refused: %v", c.url, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%.60q: %v, want a refusal saying %q", c.url, err, c.want)
		}
	}
}

// payWorld is Greenway with Angie and her linked neighbour Ben, both
// serviced on Tuesday 5 May 2026 (linked the day before), and Angie's invoice for it.
type payWorld struct {
	t      *testing.T
	a      *app.App
	s      *store.Store
	tenant string
	loc    *time.Location
}

func newPayWorld(t *testing.T, s *store.Store) *payWorld {
	t.Helper()
	ctx := context.Background()
	a, ten := apptest.New(t, s, clock.NewFixed(time.Date(2026, 5, 4, 16, 0, 0, 0, time.UTC)), "Greenway")
	w := &payWorld{t: t, a: a, s: s, tenant: ten.ID, loc: ten.Location()}
	for _, c := range []struct {
		id, address string
		lon         float64
	}{{"angie", "14 SE Maple St, Portland", -122.6501}, {"ben", "30 SE Maple St, Portland", -122.64805}} {
		lat, lon := 45.4655, c.lon
		if _, _, err := a.Mirror.PutCustomer(ctx, ten.ID, c.id, mirror.CustomerInput{Name: c.id, Address: c.address,
			Lat: &lat, Lon: &lon, ConsentSameDay: true}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := a.Mirror.PutVisit(ctx, ten.ID, ten.Location(), "v-"+c.id, mirror.VisitInput{CustomerID: c.id,
			ServiceDate: "2026-05-05", Status: "completed", PriceCents: 4500}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := a.Neighbors.CreateLink(ctx, ten.ID, neighbor.LinkInput{CustomerA: "angie", CustomerB: "ben"}); err != nil {
		t.Fatal(err)
	}
	return w
}

// body is Angie's invoice as the scheduler sends it.
func (w *payWorld) body(status string, payURL *string) invoice.Input {
	v := "v-angie"
	return invoice.Input{CustomerID: "angie", Status: status, PayURL: payURL,
		Lines: []invoice.LineInput{{VisitID: &v, Description: "Weekly mow", AmountCents: 4500}}}
}

func (w *payWorld) put(in invoice.Input) (invoice.Invoice, error) {
	w.t.Helper()
	inv, _, err := w.a.Invoices.Put(context.Background(), w.tenant, "USD", "inv-1", in)
	return inv, err
}

// stored is everything about the invoice that is money or state: its row
// and every line as stored, ids included, and the events sent so far.
func (w *payWorld) stored() string {
	w.t.Helper()
	var row []map[string]any
	w.s.DB.Raw(`SELECT status, issued_at, subtotal_cents, discount_cents, total_cents, customer_id, public_token,
		terms_sync_bps, terms_max_bps FROM invoices WHERE external_id = 'inv-1'`).Scan(&row)
	var lines []map[string]any
	w.s.DB.Raw(`SELECT id, position, kind, visit_id, description, amount_cents, reason, source_key, item_key
		FROM invoice_lines ORDER BY id`).Scan(&lines)
	var items []map[string]any
	w.s.DB.Raw(`SELECT item_key, owed_cents, given_cents, pending_cents, status FROM ledger_items ORDER BY item_key`).Scan(&items)
	var events []map[string]any
	w.s.DB.Raw(`SELECT id, kind FROM outbox_events ORDER BY id`).Scan(&events)
	return fmt.Sprint(row, "\n", lines, "\n", items, "\n", events)
}

func (w *payWorld) payURL() string {
	w.t.Helper()
	var u string
	if err := w.s.DB.Raw(`SELECT pay_url FROM invoices WHERE external_id = 'inv-1'`).Scan(&u).Error; err != nil {
		w.t.Fatal(err)
	}
	return u
}

func ptr(s string) *string { return &s }

// Angie's invoice is issued with its same-day discount; then the scheduler
// sends its payment page, changes it, and removes it. None of that is money:
// the issued invoice keeps its lines, totals, terms and issue time, and no
// event about its discounts is sent again.
func TestPayURLChangesOnAnIssuedInvoiceWithoutTouchingTheBill(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newPayWorld(t, s)
		if _, err := w.put(w.body("draft", nil)); err != nil {
			t.Fatal(err)
		}
		issued, err := w.put(w.body("issued", nil))
		if err != nil {
			t.Fatal(err)
		}
		if issued.DiscountCents != 450 || issued.PayURL != "" {
			t.Fatalf("issued with discount %d and pay_url %q", issued.DiscountCents, issued.PayURL)
		}
		before := w.stored()

		pay := "https://pay.example.com/inv-1?t=q3N8"
		got, err := w.put(w.body("issued", &pay))
		if err != nil {
			t.Fatalf("a pay_url on the issued invoice: %v", err)
		}
		if got.PayURL != pay || w.payURL() != pay {
			t.Fatalf("pay_url answered %q, stored %q", got.PayURL, w.payURL())
		}
		if after := w.stored(); after != before {
			t.Fatalf("the pay_url changed the bill:\nbefore %s\nafter  %s", before, after)
		}
		if g, _ := w.a.Invoices.Get(context.Background(), w.tenant, "inv-1"); g.PayURL != pay {
			t.Fatalf("Get pay_url %q", g.PayURL)
		}

		// Absent keeps it; moving on to paid keeps it too.
		if got, err := w.put(w.body("issued", nil)); err != nil || got.PayURL != pay {
			t.Fatalf("pay_url absent: %q, %v", got.PayURL, err)
		}
		// Changed lines are still refused, and the pay_url sent with them
		// is not stored either.
		changed := w.body("issued", ptr("https://pay.example.com/other"))
		changed.Lines[0].AmountCents = 9900
		if _, err := w.put(changed); !apperror.HasCode(err, apperror.CodeConflict) {
			t.Fatalf("changed lines with a pay_url: %v, want a conflict", err)
		}
		if w.payURL() != pay {
			t.Fatalf("a refused write stored pay_url %q", w.payURL())
		}
		// A bad pay_url is a field error, and nothing changes.
		for _, bad := range []string{"javascript:alert(1)", "data:text/html,hi", "/pay", strings.Repeat("x", 2001)} {
			_, err := w.put(w.body("issued", &bad))
			ae, ok := apperror.As(err)
			if !ok || ae.Code != apperror.CodeValidation || ae.Fields["pay_url"] == "" {
				t.Fatalf("pay_url %.30q: %v, want a pay_url field error", bad, err)
			}
		}
		if w.payURL() != pay || w.stored() != before {
			t.Fatal("a refused pay_url changed what is stored")
		}
		// "" removes it.
		if got, err := w.put(w.body("issued", ptr("  "))); err != nil || got.PayURL != "" || w.payURL() != "" {
			t.Fatalf("pay_url \"  \": answered %q, stored %q, %v", got.PayURL, w.payURL(), err)
		}
		if after := w.stored(); after != before {
			t.Fatalf("removing the pay_url changed the bill:\nbefore %s\nafter  %s", before, after)
		}
	})
}

// A draft takes its pay_url when created, keeps it while its lines change,
// and the invoice.discounted and invoice.link_rotated events carry it.
func TestPayURLOnADraftAndInTheEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newPayWorld(t, s)
		pay := "https://pay.example.com/inv-1"
		if got, err := w.put(w.body("draft", &pay)); err != nil || got.PayURL != pay {
			t.Fatalf("draft with pay_url: %q, %v", got.PayURL, err)
		}
		more := w.body("draft", nil)
		more.Lines = append(more.Lines, invoice.LineInput{Description: "Green waste haul-away", AmountCents: 1500})
		if got, err := w.put(more); err != nil || got.PayURL != pay || got.SubtotalCents != 6000 {
			t.Fatalf("draft's lines changed: pay_url %q, subtotal %d, %v", got.PayURL, got.SubtotalCents, err)
		}
		if _, err := w.a.Invoices.RotateLink(context.Background(), w.tenant, "inv-1"); err != nil {
			t.Fatal(err)
		}
		for _, kind := range []string{"invoice.discounted", "invoice.link_rotated"} {
			var payloads []string
			s.DB.Raw(`SELECT payload FROM outbox_events WHERE kind = ? ORDER BY id`, kind).Scan(&payloads)
			if len(payloads) == 0 || !strings.Contains(payloads[0], `"pay_url":"https://pay.example.com/inv-1"`) {
				t.Errorf("%s: %v, want pay_url in each", kind, payloads)
			}
		}
	})
}
