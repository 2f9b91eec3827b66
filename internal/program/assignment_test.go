package program

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
)

const assignTenant = "5d1c0a9e-7b7e-4c1e-9a59-0f3a7c2b8e11"

var assignNow = time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)

func offers(weights ...any) []Offer {
	var out []Offer
	for i := 0; i < len(weights); i += 2 {
		out = append(out, Offer{Name: weights[i].(string), Weight: weights[i+1].(int),
			Referee: Reward{Kind: RewardPercentNextInvoice, Bps: 1000}, Referrer: Reward{Kind: RewardFixedCredit, AmountCents: int64(1000 * (i/2 + 1))}})
	}
	return out
}

func withTenant(t *testing.T, s *store.Store, customers int) []int64 {
	t.Helper()
	if err := s.DB.Exec(`INSERT INTO tenants (id, name, timezone, currency, created_at, updated_at) VALUES (?, 'Green Acres', 'America/Los_Angeles', 'USD', ?, ?)`,
		assignTenant, assignNow, assignNow).Error; err != nil {
		t.Fatal(err)
	}
	storetest.BulkCustomers(t, s, assignTenant, customers, rand.New(rand.NewPCG(1, 2)))
	var ids []int64
	s.DB.Raw(`SELECT id FROM customers WHERE tenant_id = ? ORDER BY id`, assignTenant).Scan(&ids)
	return ids
}

// assignAll gives every customer their offer under p, as a referral would.
func assignAll(t *testing.T, s *store.Store, p Program, ids []int64) map[int64]string {
	t.Helper()
	out := map[int64]string{}
	err := s.Tx(context.Background(), func(tx *gorm.DB) error {
		for _, id := range ids {
			o, err := OfferOf(tx, p, id, "", assignNow)
			if err != nil {
				return err
			}
			out[id] = o.Name
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func moved(before, after map[int64]string) int {
	n := 0
	for id, v := range before {
		if after[id] != v {
			n++
		}
	}
	return n
}

// 200 referrers on offers A and B. The owner adds C, re-weights A, then
// removes B: nobody on a variant still offered changes arm, and the hash
// alone (without the stored assignment) would have moved many of them.
func TestOfferAssignmentsStayWhenOffersChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ids := withTenant(t, s, 200)
		p := Defaults(assignTenant)
		p.Offers = offers("A", 1, "B", 1)
		first := assignAll(t, s, p, ids)
		count := map[string]int{}
		for _, v := range first {
			count[v]++
		}
		if count["A"] < 70 || count["B"] < 70 {
			t.Fatalf("two equal buckets split 200 referrers %v", count)
		}

		p.Offers = offers("A", 1, "B", 1, "C", 1)
		hashOnly := 0
		for _, id := range ids {
			if p.PickOffer(id).Name != first[id] {
				hashOnly++
			}
		}
		if hashOnly < 30 {
			t.Fatalf("the hash alone moves only %d of 200 when C is added; the test would prove nothing", hashOnly)
		}
		if n := moved(first, assignAll(t, s, p, ids)); n != 0 {
			t.Fatalf("adding C re-assigned %d of 200 referrers", n)
		}

		p.Offers = offers("A", 8, "B", 1, "C", 1)
		if n := moved(first, assignAll(t, s, p, ids)); n != 0 {
			t.Fatalf("re-weighting A re-assigned %d of 200 referrers", n)
		}

		p.Offers = offers("A", 8, "C", 1)
		after := assignAll(t, s, p, ids)
		for id, v := range first {
			switch {
			case v != "B" && after[id] != v:
				t.Fatalf("removing B moved referrer %d from %s to %s", id, v, after[id])
			case v == "B" && after[id] == "B":
				t.Fatalf("referrer %d is still assigned the removed B", id)
			}
		}
		var prev []string
		s.DB.Raw(`SELECT DISTINCT previous_variant FROM offer_assignments WHERE tenant_id = ? AND previous_variant <> ''`, assignTenant).Scan(&prev)
		if len(prev) != 1 || prev[0] != "B" {
			t.Fatalf("the re-assigned referrers should remember B: %v", prev)
		}
		var rows int64
		s.DB.Raw(`SELECT COUNT(*) FROM offer_assignments WHERE tenant_id = ?`, assignTenant).Scan(&rows)
		if rows != 200 {
			t.Fatalf("%d assignments for 200 referrers", rows)
		}
	})
}

// New referrers fill the buckets in proportion to the weights, and only
// among the variants offered now.
func TestNewReferrersFollowTheWeights(t *testing.T) {
	p := Defaults(assignTenant)
	p.Offers = offers("A", 1, "C", 3)
	count := map[string]int{}
	for id := int64(1); id <= 4000; id++ {
		count[p.PickOffer(id).Name]++
	}
	// Expected 1000 and 3000; ±150 is over 5 standard deviations (√750 ≈ 27).
	if count["A"] < 850 || count["A"] > 1150 || count["C"]+count["A"] != 4000 {
		t.Fatalf("weights 1:3 gave %v", count)
	}
	if p.PickOffer(7).Name != p.PickOffer(7).Name {
		t.Fatal("the pick is not deterministic")
	}
}

// Two first uses of one referrer at once store one assignment and both
// answer it, even when they would prefer different variants.
func TestFirstAssignmentsAtOnceStoreOne(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ids := withTenant(t, s, 20)
		p := Defaults(assignTenant)
		p.Offers = offers("A", 1, "B", 1)
		for _, id := range ids {
			var wg sync.WaitGroup
			got := make([]string, 2)
			errs := make([]error, 2)
			start := make(chan struct{})
			for i, prefer := range []string{"A", "B"} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					errs[i] = s.Tx(context.Background(), func(tx *gorm.DB) error {
						o, err := OfferOf(tx, p, id, prefer, assignNow)
						got[i] = o.Name
						return err
					})
				}()
			}
			close(start)
			wg.Wait()
			if errs[0] != nil || errs[1] != nil {
				t.Fatalf("customer %d: %v %v", id, errs[0], errs[1])
			}
			if got[0] != got[1] {
				t.Fatalf("customer %d: one answer says %s, the other %s", id, got[0], got[1])
			}
			var stored []string
			s.DB.Raw(`SELECT variant FROM offer_assignments WHERE tenant_id = ? AND customer_id = ?`, assignTenant, id).Scan(&stored)
			if fmt.Sprint(stored) != fmt.Sprintf("[%s]", got[0]) {
				t.Fatalf("customer %d: stored %v, answered %s", id, stored, got[0])
			}
		}
	})
}

func TestOfferWeightIsValidated(t *testing.T) {
	p := Defaults(assignTenant)
	p.Offers = offers("A", -1, "B", 1001)
	err := p.Validate()
	if err == nil || !strings.Contains(err.Error(), "offers[0].weight") || !strings.Contains(err.Error(), "offers[1].weight") {
		t.Fatalf("weights -1 and 1001: %v", err)
	}
}
