package neighbor_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/apptest"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/neighbor"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
)

// TestRandomNeighbourhoodsKeepTheRules builds random streets of customers,
// links, visits and invoices, then shuffles visits between days, cancels
// some, ends links and withdraws consent. After every round: each invoice's
// lines add up to its total, which is never negative; each draft line has a
// sync discount exactly when an independent brute-force check says its visit
// is synced (an active link, a neighbour's visit that same day, neither
// cancelled); and reconciling every day again changes nothing.
func TestRandomNeighbourhoodsKeepTheRules(t *testing.T) {
	seeds := []uint64{1, 2, 3}
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		for _, seed := range seeds {
			t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) { runNeighbourhood(t, s, seed) })
		}
	})
}

func runNeighbourhood(t *testing.T, s *store.Store, seed uint64) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 42))
	a, ten := apptest.New(t, s, clock.NewFixed(time.Date(2026, 5, 1, 15, 0, 0, 0, time.UTC)), fmt.Sprintf("Street %d", seed))
	tid, loc := ten.ID, ten.Location()
	crews := []string{"north", "south"}
	for _, c := range crews {
		lat, lon := 45.5, -122.6
		if _, _, err := a.Mirror.PutCrew(ctx, tid, c, mirror.CrewInput{Name: c, DepotLat: &lat, DepotLon: &lon}); err != nil {
			t.Fatal(err)
		}
	}
	const n = 10
	consent := map[string]bool{}
	for i := 0; i < n; i++ {
		lat, lon := 45.4600+rng.Float64()*0.006, -122.6500+rng.Float64()*0.006 // a ~500 m square
		id := fmt.Sprintf("c%d", i)
		consent[id] = rng.IntN(4) != 0
		if _, _, err := a.Mirror.PutCustomer(ctx, tid, id, mirror.CustomerInput{Name: id, Address: fmt.Sprintf("%d Oak St", i),
			Lat: &lat, Lon: &lon, ConsentSameDay: consent[id]}); err != nil {
			t.Fatal(err)
		}
	}
	for k := 0; k < 14; k++ {
		x, y := rng.IntN(n), rng.IntN(n)
		in := neighbor.LinkInput{CustomerA: fmt.Sprintf("c%d", x), CustomerB: fmt.Sprintf("c%d", y)}
		if rng.IntN(2) == 0 {
			mid := "2026-05-06" // starts in the middle of the week
			in.StartsOn = &mid
		}
		_, _, _ = a.Neighbors.CreateLink(ctx, tid, in) // refused when too far or without consent
	}
	days := []string{"2026-05-04", "2026-05-05", "2026-05-06", "2026-05-07"}
	statuses := []string{"scheduled", "scheduled", "completed", "cancelled"}
	putVisit := func(cust string, week int) {
		crew := crews[rng.IntN(2)]
		id := fmt.Sprintf("v-%s-%d", cust, week)
		if _, _, err := a.Mirror.PutVisit(ctx, tid, loc, id, mirror.VisitInput{CustomerID: cust, CrewID: &crew,
			ServiceDate: days[rng.IntN(len(days))], Status: statuses[rng.IntN(len(statuses))], PriceCents: 4500}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < n; i++ {
		for w := 0; w < 2; w++ {
			cust := fmt.Sprintf("c%d", i)
			putVisit(cust, w)
			vid := fmt.Sprintf("v-%s-%d", cust, w)
			status := "draft"
			if rng.IntN(4) == 0 {
				status = "issued"
			}
			amount := int64(3000 + rng.IntN(6000))
			if _, _, err := a.Invoices.Put(ctx, tid, "USD", "i-"+vid, invoice.Input{CustomerID: cust, Status: status,
				Lines: []invoice.LineInput{{VisitID: &vid, Description: "Mow", AmountCents: amount}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	check(t, s, tid)
	for round := 0; round < 3; round++ {
		for k := 0; k < 6; k++ {
			putVisit(fmt.Sprintf("c%d", rng.IntN(n)), rng.IntN(2))
		}
		var open []int64
		s.DB.Raw(`SELECT id FROM neighbor_links WHERE tenant_id = ? AND ends_on IS NULL`, tid).Scan(&open)
		if len(open) > 0 { // a dispatcher ends a link
			if _, err := a.Neighbors.EndLink(ctx, tid, open[rng.IntN(len(open))], neighbor.EndInput{}); err != nil {
				t.Fatal(err)
			}
		}
		if rng.IntN(2) == 0 { // someone withdraws consent
			id := fmt.Sprintf("c%d", rng.IntN(n))
			c, _ := a.Mirror.Customer(ctx, tid, id)
			if _, _, err := a.Mirror.PutCustomer(ctx, tid, id, mirror.CustomerInput{Name: c.Name, Address: c.Address, Lat: c.Lat, Lon: c.Lon}); err != nil {
				t.Fatal(err)
			}
		}
		check(t, s, tid)
	}
	before := snapshot(t, s, tid)
	for _, d := range days {
		day, _ := localdate.Parse(d)
		if _, err := a.Ledger.ReconcileDay(ctx, tid, day); err != nil {
			t.Fatal(err)
		}
	}
	if after := snapshot(t, s, tid); after != before {
		t.Fatalf("reconciling again changed lines:\n%s\n---\n%s", before, after)
	}
}

type visitRow struct {
	ID          int64
	CustomerID  int64
	ServiceDate localdate.Date
	Status      string
}

type linkRow struct {
	CustomerAID, CustomerBID int64
	StartsOn                 localdate.Date
	EndsOn                   *localdate.Date
}

func check(t *testing.T, s *store.Store, tid string) {
	t.Helper()
	var visits []visitRow
	s.DB.Raw(`SELECT id, customer_id, service_date, status FROM visits WHERE tenant_id = ?`, tid).Scan(&visits)
	var links []linkRow
	s.DB.Raw(`SELECT customer_a_id, customer_b_id, starts_on, ends_on FROM neighbor_links WHERE tenant_id = ?`, tid).Scan(&links)
	synced := func(v visitRow) bool { // brute force, independent of MatchSynced
		if v.Status == "cancelled" {
			return false
		}
		for _, l := range links {
			if (l.CustomerAID != v.CustomerID && l.CustomerBID != v.CustomerID) || v.ServiceDate.Before(l.StartsOn) ||
				(l.EndsOn != nil && !v.ServiceDate.Before(*l.EndsOn)) {
				continue
			}
			other := l.CustomerAID + l.CustomerBID - v.CustomerID
			for _, w := range visits {
				if w.CustomerID == other && w.ServiceDate == v.ServiceDate && w.Status != "cancelled" {
					return true
				}
			}
		}
		return false
	}
	var invs []struct {
		ID                                       int64
		Status                                   string
		SubtotalCents, DiscountCents, TotalCents int64
	}
	s.DB.Raw(`SELECT id, status, subtotal_cents, discount_cents, total_cents FROM invoices WHERE tenant_id = ?`, tid).Scan(&invs)
	var lines []struct {
		InvoiceID   int64
		Kind        string
		VisitID     *int64
		AmountCents int64
	}
	s.DB.Raw(`SELECT invoice_id, kind, visit_id, amount_cents FROM invoice_lines WHERE tenant_id = ?`, tid).Scan(&lines)
	byID := map[int64]visitRow{}
	for _, v := range visits {
		byID[v.ID] = v
	}
	for _, inv := range invs {
		var sum int64
		discounted := map[int64]int{}
		var billed []int64
		for _, l := range lines {
			if l.InvoiceID != inv.ID {
				continue
			}
			sum += l.AmountCents
			if l.Kind == "sync_discount" {
				discounted[*l.VisitID]++
			}
			if l.Kind == "service" {
				billed = append(billed, *l.VisitID)
			}
		}
		if sum != inv.TotalCents || inv.TotalCents < 0 || inv.SubtotalCents-inv.DiscountCents != inv.TotalCents {
			t.Fatalf("invoice %d: lines sum %d, totals %d − %d = %d", inv.ID, sum, inv.SubtotalCents, inv.DiscountCents, inv.TotalCents)
		}
		if inv.Status != "draft" {
			continue
		}
		for _, v := range billed {
			want := 0
			if synced(byID[v]) {
				want = 1
			}
			if discounted[v] != want {
				t.Fatalf("draft %d, visit %+v: %d sync discounts, brute force says %d", inv.ID, byID[v], discounted[v], want)
			}
		}
	}
}

func snapshot(t *testing.T, s *store.Store, tid string) string {
	var rows []struct {
		InvoiceID   int64
		Kind        string
		AmountCents int64
		Reason      string
	}
	s.DB.Raw(`SELECT invoice_id, kind, amount_cents, reason FROM invoice_lines WHERE tenant_id = ? ORDER BY invoice_id, position`, tid).Scan(&rows)
	var adj int64
	s.DB.Raw(`SELECT COUNT(*) FROM sync_adjustments WHERE tenant_id = ?`, tid).Scan(&adj)
	return fmt.Sprintf("%v adjustments=%d", rows, adj)
}
