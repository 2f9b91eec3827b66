package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/routeloop/routeloop/internal/apptest"
	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// The link routeloop hands the scheduler opens the customer's page; once
// rotated, the old link shows the invoice's own "no longer valid" page.
func TestInvoiceLinkOpensThePageAndRotationRetiresIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newSite(t, s)
		ctx := context.Background()
		ten := apptest.Tenant(t, x.a.Tenants, tenant.NewTenant{Name: "Greenway Lawn", Timezone: "America/Los_Angeles", Currency: "USD"})
		if _, _, err := x.a.Mirror.PutCustomer(ctx, ten.ID, "angie", mirror.CustomerInput{Name: "Angie"}); err != nil {
			t.Fatal(err)
		}
		inv, _, err := x.a.Invoices.Put(ctx, ten.ID, "USD", "inv-1", invoice.Input{CustomerID: "angie",
			Lines: []invoice.LineInput{{Description: "Weekly mow", AmountCents: 4500}}})
		if err != nil {
			t.Fatal(err)
		}
		base := x.a.Config.PublicURL() + "/i/"
		if !strings.HasPrefix(inv.InvoiceURL, base) || len(inv.InvoiceURL)-len(base) < 22 {
			t.Fatalf("invoice_url %q is not an unguessable link under %s", inv.InvoiceURL, base)
		}
		oldPath := strings.TrimPrefix(inv.InvoiceURL, x.a.Config.PublicURL())
		if page := x.get(oldPath); page.Code != 200 || !strings.Contains(page.Body.String(), "Weekly mow") {
			t.Fatalf("the invoice_url's page: %d", page.Code)
		}
		rotated, err := x.a.Invoices.RotateLink(ctx, ten.ID, "inv-1")
		if err != nil {
			t.Fatal(err)
		}
		if rotated.InvoiceURL == inv.InvoiceURL || !strings.HasPrefix(rotated.InvoiceURL, base) {
			t.Fatalf("rotated link %q (was %q)", rotated.InvoiceURL, inv.InvoiceURL)
		}
		for _, path := range []string{oldPath, "/i/not-a-real-token-at-all"} {
			gone := x.get(path)
			body := gone.Body.String()
			if gone.Code != 404 || !strings.Contains(body, "This invoice link is no longer valid") || strings.Contains(body, "invitation") {
				t.Fatalf("%s: %d, not the invoice's own 404 page:\n%s", path, gone.Code, body)
			}
			h := gone.Header()
			if !strings.Contains(h.Get("X-Robots-Tag"), "noindex") || h.Get("Content-Security-Policy") == "" || h.Get("X-Frame-Options") != "DENY" {
				t.Fatalf("%s: the 404 page lacks the private page headers: %v", path, h)
			}
		}
		if page := x.get(strings.TrimPrefix(rotated.InvoiceURL, x.a.Config.PublicURL())); page.Code != 200 || !strings.Contains(page.Body.String(), "Weekly mow") {
			t.Fatalf("the new link's page: %d", page.Code)
		}
	})
}
