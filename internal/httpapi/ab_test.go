package httpapi_test

import (
	"encoding/csv"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

func credit(name string, cents int) map[string]any {
	return map[string]any{"name": name, "referrer": map[string]any{"kind": "fixed_credit", "amount_cents": cents},
		"referee": map[string]any{"kind": "fixed_credit", "amount_cents": cents}}
}

// Angie was offered B ($25 for her and her friend). The owner then drops B
// for A ($10): Ben, whom she referred under B, converts afterwards and both
// get B's $25 as promised; Angie's next friend is referred under A.
func TestARemovedOffersReferralsKeepTheirPromise(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.household("angie", "cleo")
		h.must(200, "PUT", "/api/v1/program", map[string]any{"offers": []any{credit("A", 1000), credit("B", 2500)}})
		r := h.must(201, "POST", "/api/v1/referrals", map[string]any{"channel": "code", "referrer_id": "angie", "variant": "B",
			"referee": map[string]any{"name": "Ben Ortiz", "email": "ben@example.com"}})
		if r.Body["variant"] != "B" {
			t.Fatalf("variant %v", r.Body["variant"])
		}
		if st := h.must(200, "GET", "/api/v1/customers/angie/referral-status", nil); st.Body["offer"] != "B" {
			t.Fatalf("Angie's offer after her first referral under B: %s", st.Raw)
		}
		// Re-weighting and adding a variant moves nobody.
		h.must(200, "PUT", "/api/v1/program", map[string]any{"offers": []any{credit("A", 1000), credit("B", 2500), credit("C", 500)}})
		if st := h.must(200, "GET", "/api/v1/customers/angie/referral-status", nil); st.Body["offer"] != "B" {
			t.Fatalf("adding C moved Angie: %s", st.Raw)
		}

		h.must(200, "PUT", "/api/v1/program", map[string]any{"offers": []any{credit("A", 1000)}})
		h.must(201, "PUT", "/api/v1/customers/ben", map[string]any{"name": "Ben Ortiz", "email": "ben@example.com",
			"lat": 45.46550, "lon": -122.64805})
		h.completeFirstVisit("ben", "2026-05-05")
		if got := h.referral(r.Body["id"])["status"]; got != "converted" {
			t.Fatalf("Ben's referral is %v", got)
		}
		if n, v := h.rewardsOf("angie"); n != 1 || v != 2500 {
			t.Fatalf("Angie got %d rewards worth %.0f, promised B's 2500", n, v)
		}
		if n, v := h.rewardsOf("ben"); n != 1 || v != 2500 {
			t.Fatalf("Ben got %d rewards worth %.0f, promised B's 2500", n, v)
		}
		next := h.refer(201, "angie", map[string]any{"name": "Dora Lee", "email": "dora@example.com"})
		if next.Body["variant"] != "A" {
			t.Fatalf("Angie's next friend, after B was removed: variant %v", next.Body["variant"])
		}
		// Cleo, a new referrer, is assigned among the offers now: only A.
		if c := h.refer(201, "cleo", map[string]any{"name": "Eve Moss", "email": "eve@example.com"}); c.Body["variant"] != "A" {
			t.Fatalf("a new referrer got %v", c.Body["variant"])
		}
	})
}

// Two scripts, two crew members, sixteen stops on one day: each stop names
// its script, the pitch logged there records the same one, both members
// read both scripts, and the script test counts each arm per member.
func TestScriptsAreChosenPerVisitSoEveryMemberReadsEach(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.must(201, "PUT", "/api/v1/crews/north", map[string]any{"name": "North", "depot_lat": 45.5, "depot_lon": -122.66,
			"members": []any{map[string]any{"external_id": "sam", "name": "Sam Ortiz"}, map[string]any{"external_id": "kim", "name": "Kim Lee"}}})
		h.must(201, "PUT", "/api/v1/scripts/alpha", map[string]any{"body": "Thanks {customer_first_name}! Friends get {friend_offer}."})
		h.must(201, "PUT", "/api/v1/scripts/beta", map[string]any{"body": "Tell a neighbour, {customer_first_name}: they get {friend_offer}."})
		const day = "2026-05-05"
		var customers []string
		for i := 1; i <= 16; i++ {
			c := fmt.Sprintf("c%02d", i)
			customers = append(customers, c)
			h.must(201, "PUT", "/api/v1/customers/"+c, map[string]any{"name": "Customer " + c, "lat": 45.46 + float64(i)/1000, "lon": -122.65})
			h.stopVisit(c, day, i)
		}
		h.clock.Set(time.Date(2026, 5, 5, 17, 0, 0, 0, time.UTC))
		stops := map[string]string{}
		for _, st := range h.must(200, "GET", "/api/v1/crews/north/today?date="+day+"&member_id=sam", nil).Body["stops"].([]any) {
			m := st.(map[string]any)
			stops[m["visit_id"].(string)] = m["script_variant"].(string)
		}
		perScript := map[string]int{}
		for _, v := range stops {
			perScript[v]++
		}
		if len(stops) != 16 || perScript["alpha"] == 0 || perScript["beta"] == 0 {
			t.Fatalf("16 stops should read both scripts: %v", stops)
		}
		read := map[string]map[string]bool{"sam": {}, "kim": {}}
		for k, member := range []string{"sam", "kim"} {
			for i, c := range customers {
				visit := "v-" + c + "-" + day
				r := h.pitchAs(h.keys[tenant.RoleCrew], visit, member, "referral_given",
					map[string]any{"name": fmt.Sprintf("Friend %s %d", member, i), "phone": fmt.Sprintf("503 555 %04d", 100*(k+1)+i)})
				if r.Status != 201 {
					t.Fatalf("%s at %s: %d %s", member, visit, r.Status, r.Raw)
				}
				if r.Body["script_variant"] != stops[visit] {
					t.Fatalf("%s at %s logged %v, the stop read %s", member, visit, r.Body["script_variant"], stops[visit])
				}
				read[member][stops[visit]] = true
			}
		}
		if len(read["sam"]) != 2 || len(read["kim"]) != 2 {
			t.Fatalf("each member should read both scripts: %v", read)
		}
		ab := h.must(200, "GET", "/api/v1/insights/ab?kind=script&from=2026-05-01&to=2026-05-31", nil)
		arms := ab.Body["variants"].([]any)
		if len(arms) != 2 || ab.Body["min_referrals_per_arm"] != 30.0 {
			t.Fatalf("script test: %s", ab.Raw)
		}
		for _, a := range arms {
			arm := a.(map[string]any)
			members := map[string]float64{}
			for _, m := range arm["members"].([]any) {
				mc := m.(map[string]any)
				members[mc["crew_member_id"].(string)] = mc["referrals"].(float64)
			}
			n := float64(perScript[arm["name"].(string)])
			if members["sam"] != n || members["kim"] != n || arm["referrals"] != 2*n {
				t.Fatalf("arm %v: members %v, want %v each: %s", arm["name"], members, n, ab.Raw)
			}
			if arm["conversion_rate_ci95_low"] != 0.0 || arm["conversion_rate_ci95_high"].(float64) <= 0 {
				t.Fatalf("nobody converted yet: the interval starts at 0 and is not empty: %v", arm)
			}
		}
		cmp := ab.Body["comparisons"].([]any)[0].(map[string]any)
		if cmp["shared_member_share"] != 1.0 || strings.Contains(cmp["verdict"].(string), "people") {
			t.Fatalf("both members read both scripts: %v", cmp)
		}
		rec := h.csvGet("/api/v1/insights/ab?kind=script&from=2026-05-01&to=2026-05-31&format=csv", h.keys[tenant.RoleDispatcher], "")
		rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(rec.Body.String(), "\uFEFF"))).ReadAll()
		if err != nil || len(rows) != 3 || rows[0][len(rows[0])-1] != "crew_members" ||
			!strings.Contains(rows[1][len(rows[1])-1], "Sam Ortiz 0 of") || !strings.Contains(rows[1][len(rows[1])-1], "Kim Lee 0 of") {
			t.Fatalf("script CSV with the members of each arm: %v %q", err, rows)
		}
	})
}

// Eight referrers, each referring two friends at the same moment with four
// offers on the program: both of a referrer's referrals carry one variant
// and one assignment is stored for each.
func TestTwoFirstReferralsAtOnceShareOneVariant(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.must(200, "PUT", "/api/v1/program", map[string]any{"offers": []any{credit("A", 1000), credit("B", 1500), credit("C", 2000), credit("D", 2500)}})
		for i := 0; i < 8; i++ {
			h.must(201, "PUT", fmt.Sprintf("/api/v1/customers/r%d", i), map[string]any{"name": fmt.Sprintf("Referrer %d", i)})
		}
		for i := 0; i < 8; i++ {
			var wg sync.WaitGroup
			variants := make([]any, 2)
			start := make(chan struct{})
			for k := 0; k < 2; k++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					r := h.do("POST", "/api/v1/referrals", h.keys[tenant.RoleDispatcher], map[string]any{"channel": "code",
						"referrer_id": fmt.Sprintf("r%d", i), "referee": map[string]any{"name": "Friend", "email": fmt.Sprintf("f%d-%d@example.com", i, k)}})
					if r.Status == 201 {
						variants[k] = r.Body["variant"]
					}
				}()
			}
			close(start)
			wg.Wait()
			if variants[0] == nil || variants[0] != variants[1] {
				t.Fatalf("referrer r%d: variants %v", i, variants)
			}
		}
		if n := storetest.Count(t, s.DB, "offer_assignments"); n != 8 {
			t.Fatalf("%d assignments for 8 referrers", n)
		}
	})
}
