package httpapi_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

func (h *harness) crewWithSam() {
	h.t.Helper()
	h.must(201, "PUT", "/api/v1/crews/north", map[string]any{"name": "North", "depot_lat": 45.5, "depot_lon": -122.66,
		"members": []any{map[string]any{"external_id": "sam", "name": "Sam Ortiz"}}})
}

// lines returns the lines of an invoice of the given kind.
func (h *harness) lines(invoice, kind string) []map[string]any {
	h.t.Helper()
	var out []map[string]any
	for _, l := range h.must(200, "GET", "/api/v1/invoices/"+invoice, nil).Body["lines"].([]any) {
		if m := l.(map[string]any); m["kind"] == kind {
			out = append(out, m)
		}
	}
	return out
}

// The seed's crew story: Sam, mowing Angie's lawn, logs her friend Ben by
// name and phone; Ben calls in and is booked; his first visit is completed;
// both get 10% off their next invoice, with reasons, and Sam is credited.
func TestCrewStoryFromPitchToRewards(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.crewWithSam()
		h.household("angie")
		crewKey := h.keys[tenant.RoleCrew]
		r := h.do("POST", "/api/v1/referrals", crewKey, map[string]any{"channel": "crew_pitch", "referrer_id": "angie",
			"crew_member_id": "sam", "referee": map[string]any{"name": "Ben Ortiz", "phone": "(503) 555-0199"}})
		if r.Status != 201 || r.Body["status"] != "pending" || r.Body["crew_member_id"] != "sam" || r.Body["referrer_id"] != "angie" {
			t.Fatalf("crew referral: %d %s", r.Status, r.Raw)
		}
		id := r.Body["id"].(float64)
		again := h.do("POST", "/api/v1/referrals", crewKey, map[string]any{"channel": "crew_pitch", "referrer_id": "angie",
			"crew_member_id": "sam", "referee": map[string]any{"name": "Ben", "phone": "+1 503 555 0199"}})
		if again.Status != 200 || again.Body["id"] != id {
			t.Fatalf("the same friend again: %d %s", again.Status, again.Raw)
		}
		// Ben calls; the scheduler creates him (his phone written another way) and books him.
		ben := households["ben"]
		ben["phone"] = "503.555.0199"
		defer delete(ben, "phone")
		h.must(201, "PUT", "/api/v1/customers/ben", ben)
		got := h.must(200, "GET", fmt.Sprintf("/api/v1/referrals/%.0f", id), nil)
		if got.Body["referee"].(map[string]any)["customer_id"] != "ben" {
			t.Fatalf("referee not matched to the new customer: %s", got.Raw)
		}
		h.visitAndInvoice("ben", "2026-05-05", "draft")
		h.visitAndInvoice("angie", "2026-05-12", "draft")
		if n := len(h.lines("i-ben-2026-05-05", "referral_reward")); n != 0 {
			t.Fatal("rewarded before converting")
		}
		// Ben's first visit is done.
		h.must(200, "PUT", "/api/v1/visits/v-ben-2026-05-05", map[string]any{"customer_id": "ben", "crew_id": "north",
			"service_date": "2026-05-05", "status": "completed", "price_cents": 4500})
		conv := h.must(200, "GET", fmt.Sprintf("/api/v1/referrals/%.0f", id), nil)
		if conv.Body["status"] != "converted" || conv.Body["converted_at"] == nil || !strings.Contains(conv.Body["note"].(string), "neighbours linked") {
			t.Fatalf("after Ben's first visit: %s", conv.Raw)
		}
		welcome := h.lines("i-ben-2026-05-05", "referral_reward")
		if len(welcome) != 1 || welcome[0]["amount_cents"] != -450.0 || !strings.Contains(welcome[0]["reason"].(string), "referred by Angie Baker") {
			t.Fatalf("Ben's welcome offer: %v", welcome)
		}
		thanks := h.lines("i-angie-2026-05-12", "referral_reward")
		if len(thanks) != 1 || thanks[0]["amount_cents"] != -450.0 || !strings.Contains(thanks[0]["reason"].(string), "Ben Ortiz, whom you referred, became a customer") {
			t.Fatalf("Angie's reward: %v", thanks)
		}
		// Spent once: Angie's next invoice pays full price.
		h.visitAndInvoice("angie", "2026-05-19", "draft")
		if n := len(h.lines("i-angie-2026-05-19", "referral_reward")); n != 0 {
			t.Fatalf("the reward was spent twice")
		}
		rw := h.must(200, "GET", "/api/v1/rewards?customer_id=angie", nil).Body["rewards"].([]any)
		if len(rw) != 1 || rw[0].(map[string]any)["status"] != "granted" || rw[0].(map[string]any)["applied_cents"] != 450.0 {
			t.Fatalf("Angie's ledger: %v", rw)
		}
		st := h.do("GET", "/api/v1/customers/angie/referral-status", crewKey, nil)
		if st.Body["summary"] != "1 of 32 friends" {
			t.Fatalf("status: %s", st.Raw)
		}
		// The neighbours were linked: their same-day visits are discounted too.
		if n := len(h.must(200, "GET", "/api/v1/neighbor-links?customer_id=angie", nil).Body["neighbor_links"].([]any)); n != 1 {
			t.Fatalf("%d links", n)
		}
		log := h.must(200, "GET", fmt.Sprintf("/api/v1/referrals/%.0f/decisions", id), nil).Body["decisions"].([]any)
		if len(log) != 2 || log[0].(map[string]any)["action"] != "created" || log[1].(map[string]any)["action"] != "converted" {
			t.Fatalf("decisions: %v", log)
		}
	})
}

// referAndConvert has referrer refer a new friend n who completes a visit.
func (h *harness) referAndConvert(referrer string, n int, day string) {
	h.t.Helper()
	friend := fmt.Sprintf("friend%d", n)
	h.must(201, "POST", "/api/v1/referrals", map[string]any{"channel": "code", "referrer_id": referrer,
		"referee": map[string]any{"name": friend, "email": friend + "@example.com"}})
	h.must(201, "PUT", "/api/v1/customers/"+friend, map[string]any{"name": friend, "email": friend + "@example.com",
		"lat": 45.40 + float64(n)*0.001, "lon": -122.60})
	h.must(201, "PUT", "/api/v1/visits/v-"+friend, map[string]any{"customer_id": friend, "service_date": day, "status": "completed", "price_cents": 4500})
}

func TestTheThirtyThirdConversionEarnsNothingAndSaysWhy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.household("angie")
		h.must(200, "PUT", "/api/v1/program", map[string]any{"burst_max": 1000}) // not a burst test
		for i := 1; i <= 33; i++ {
			h.referAndConvert("angie", i, "2026-05-05")
		}
		rw := h.must(200, "GET", "/api/v1/rewards?customer_id=angie", nil).Body["rewards"].([]any)
		if len(rw) != 33 {
			t.Fatalf("%d ledger entries", len(rw))
		}
		last := rw[0].(map[string]any) // newest first
		if last["status"] != "capped" || !strings.Contains(last["reason"].(string), "cap of 32 rewarded referrals") {
			t.Fatalf("33rd: %v", last)
		}
		for _, e := range rw[1:] {
			if e.(map[string]any)["status"] != "granted" {
				t.Fatalf("an earlier reward: %v", e)
			}
		}
		if st := h.must(200, "GET", "/api/v1/customers/angie/referral-status", nil); st.Body["summary"] != "32 of 32 friends" {
			t.Fatalf("status %s", st.Raw)
		}
		// The friend still gets the welcome offer.
		if f := h.must(200, "GET", "/api/v1/rewards?customer_id=friend33", nil).Body["rewards"].([]any); len(f) != 1 || f[0].(map[string]any)["status"] != "granted" {
			t.Fatalf("friend 33: %v", f)
		}
	})
}

func TestRewardsPastTheBudgetWaitForNextMonth(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.household("angie")
		// Each reward is worth 10% of a $45 visit: $4.50. Room for two a month.
		h.must(201, "PUT", "/api/v1/visits/v-angie-1", map[string]any{"customer_id": "angie", "service_date": "2026-04-28", "status": "completed", "price_cents": 4500})
		h.must(200, "PUT", "/api/v1/program", map[string]any{"monthly_budget_cents": 900})
		h.referAndConvert("angie", 1, "2026-05-05")
		h.referAndConvert("angie", 2, "2026-05-05")
		held := 0
		for _, who := range []string{"angie", "friend2"} {
			for _, e := range h.must(200, "GET", "/api/v1/rewards?customer_id="+who, nil).Body["rewards"].([]any) {
				if m := e.(map[string]any); m["status"] == "pending_budget" {
					held++
					if !strings.Contains(m["reason"].(string), "budget") {
						t.Fatalf("held without saying why: %v", m)
					}
				}
			}
		}
		if held != 2 {
			t.Fatalf("%d rewards held, want the second pair", held)
		}
		// A draft now shows only what was granted.
		h.must(201, "PUT", "/api/v1/visits/v-friend2-b", map[string]any{"customer_id": "friend2", "service_date": "2026-05-12", "price_cents": 4500})
		h.must(201, "PUT", "/api/v1/invoices/i-friend2-b", map[string]any{"customer_id": "friend2",
			"lines": []any{map[string]any{"visit_id": "v-friend2-b", "description": "Mow", "amount_cents": 4500}}})
		if n := len(h.lines("i-friend2-b", "referral_reward")); n != 0 {
			t.Fatalf("a held reward was paid out")
		}
		// June: the budget has room again; the hourly job releases them in order.
		h.clock.Set(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
		h.app.Jobs.Tick(t.Context())
		if n := len(h.lines("i-friend2-b", "referral_reward")); n != 1 {
			t.Fatalf("released reward not on the draft: %s", h.must(200, "GET", "/api/v1/rewards?customer_id=friend2", nil).Raw)
		}
		for _, who := range []string{"angie", "friend2"} {
			for _, e := range h.must(200, "GET", "/api/v1/rewards?customer_id="+who, nil).Body["rewards"].([]any) {
				if m := e.(map[string]any); m["status"] != "granted" {
					t.Fatalf("%s still held in June: %v", who, m)
				}
			}
		}
	})
}

func TestFraudIsFlaggedNotDropped(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		angie := households["angie"]
		angie["email"], angie["phone"] = "angie.baker@gmail.com", "(503) 555-0142"
		defer func() { delete(angie, "email"); delete(angie, "phone") }()
		h.household("angie", "dan")
		h.must(201, "PUT", "/api/v1/visits/v-dan-old", map[string]any{"customer_id": "dan", "service_date": "2026-04-01", "status": "completed", "price_cents": 4500})
		area := `{"type":"Polygon","coordinates":[[[-122.70,45.44],[-122.60,45.44],[-122.60,45.50],[-122.70,45.50],[-122.70,45.44]]]}`
		h.must(200, "PUT", "/api/v1/program", map[string]any{"service_areas": area, "burst_max": 3, "burst_hours": 24})
		cases := []struct {
			name    string
			referee map[string]any
			flag    string
		}{
			{"gmail alias", map[string]any{"name": "A. Baker", "email": "AngieBaker+friends@gmail.com"}, "self_referral"},
			{"phone written another way", map[string]any{"name": "Angie B", "phone": "+1 503-555-0142"}, "self_referral"},
			{"same address", map[string]any{"name": "Tenant", "phone": "503 555 0101", "address": "14 Southeast Maple Street"}, "self_referral"},
			{"same household", map[string]any{"name": "Spouse", "phone": "503 555 0102", "lat": 45.46555, "lon": -122.65012}, "self_referral"},
			{"already a customer", map[string]any{"name": "Dan Wu", "customer_id": "dan"}, "already_customer"},
		}
		var first any
		for i, c := range cases {
			r := h.do("POST", "/api/v1/referrals", h.keys[tenant.RoleDispatcher], map[string]any{"channel": "code", "referrer_id": "angie", "referee": c.referee})
			// The phone is Angie's own record again, which the gmail alias
			// already named: one friend, one referral (the first, 200).
			want := 201
			if i == 1 {
				want = 200
			}
			if r.Status != want || r.Body["status"] != "pending_review" || flagReason(r.Body, c.flag) == "" {
				t.Errorf("%s: %d %s", c.name, r.Status, r.Raw)
			}
			if i == 0 {
				first = r.Body["id"]
			} else if i == 1 && r.Body["id"] != first {
				t.Errorf("%s: referral %v, want the first one %v", c.name, r.Body["id"], first)
			}
		}
		// Four referrals in a day from one code: the next is a burst.
		r := h.do("POST", "/api/v1/referrals", h.keys[tenant.RoleDispatcher], map[string]any{"channel": "link", "referrer_id": "angie",
			"referee": map[string]any{"name": "Far Away", "phone": "503 555 0177", "lat": 45.60, "lon": -122.90}})
		if flagReason(r.Body, "burst") == "" || flagReason(r.Body, "outside_service_area") != "the friend lives outside every service area" {
			t.Errorf("burst/outside: %s", r.Raw)
		}
		// Review: a flagged referral is rejected with a reason and earns nothing.
		id := r.Body["id"].(float64)
		if x := h.do("POST", fmt.Sprintf("/api/v1/referrals/%.0f/reject", id), h.keys[tenant.RoleDispatcher], map[string]any{}); x.Status != 422 {
			t.Fatalf("reject without a reason: %d", x.Status)
		}
		rej := h.must(200, "POST", fmt.Sprintf("/api/v1/referrals/%.0f/reject", id), map[string]any{"reason": "not our area"})
		if rej.Body["status"] != "rejected" {
			t.Fatalf("rejected: %s", rej.Raw)
		}
		if x := h.do("POST", fmt.Sprintf("/api/v1/referrals/%.0f/approve", id), h.keys[tenant.RoleAdmin], map[string]any{}); x.Status != 409 {
			t.Fatalf("approving a rejected referral: %d", x.Status)
		}
		log := h.must(200, "GET", fmt.Sprintf("/api/v1/referrals/%.0f/decisions", id), nil).Body["decisions"].([]any)
		if last := log[len(log)-1].(map[string]any); last["action"] != "rejected" || last["reason"] != "not our area" || !strings.Contains(last["actor"].(string), "admin") {
			t.Fatalf("decision log: %v", log)
		}
		if n := storetest.Count(t, s.DB.Where("status = ?", "pending_review"), "referrals"); n != 4 {
			t.Fatalf("%d waiting for review, want 4", n)
		}
	})
}

func TestNameOnlyReferralsAndBadInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.household("angie", "ben")
		h.must(201, "PUT", "/api/v1/customers/angie2", map[string]any{"name": "Angie Baker", "address": "900 N Lombard St"})
		disp := h.keys[tenant.RoleDispatcher]
		// Named with her street: one confident match.
		r := h.do("POST", "/api/v1/referrals", disp, map[string]any{"channel": "name_only", "referrer_name": "angie baker",
			"referrer_street": "14 SE Maple Street", "referee": map[string]any{"name": "Cleo", "phone": "503 555 0111"}})
		if r.Status != 201 || r.Body["referrer_id"] != "angie" || r.Body["status"] != "pending" {
			t.Fatalf("confident name match: %d %s", r.Status, r.Raw)
		}
		// Named with a street that fits neither: both Angies go to review.
		r = h.do("POST", "/api/v1/referrals", disp, map[string]any{"channel": "name_only", "referrer_name": "Angie Baker",
			"referrer_street": "1 Nowhere Rd", "referee": map[string]any{"name": "Dot", "phone": "503 555 0112"}})
		if r.Status != 201 || r.Body["status"] != "pending_review" || r.Body["referrer_id"] != nil || len(r.Body["candidates"].([]any)) != 2 {
			t.Fatalf("ambiguous: %d %s", r.Status, r.Raw)
		}
		id := r.Body["id"].(float64)
		retry := h.do("POST", "/api/v1/referrals", disp, map[string]any{"channel": "name_only", "referrer_name": "Angie Baker",
			"referrer_street": "1 Nowhere Rd", "referee": map[string]any{"name": "Dot", "phone": "(503) 555-0112"}})
		if retry.Status != 200 || retry.Body["id"] != id {
			t.Fatalf("the same unattributed friend again: %d %s", retry.Status, retry.Raw)
		}
		h.must(200, "POST", fmt.Sprintf("/api/v1/referrals/%.0f/attribute", id), map[string]any{"referrer_id": "angie2", "reason": "Dot confirmed by phone"})
		ok := h.must(200, "POST", fmt.Sprintf("/api/v1/referrals/%.0f/approve", id), map[string]any{})
		if ok.Body["status"] != "pending" || ok.Body["referrer_id"] != "angie2" {
			t.Fatalf("after review: %s", ok.Raw)
		}
		before := storetest.Count(t, s.DB, "referrals")
		for name, c := range map[string]struct {
			body   map[string]any
			status int
			field  string
		}{
			"unknown code":    {map[string]any{"channel": "code", "referrer_code": "ZZZZ-ZZZZ", "referee": map[string]any{"name": "X", "phone": "503 555 0100"}}, 404, ""},
			"no channel":      {map[string]any{"referrer_id": "angie", "referee": map[string]any{"name": "X", "phone": "503 555 0100"}}, 422, "channel"},
			"two referrers":   {map[string]any{"channel": "code", "referrer_id": "angie", "referrer_code": "AAAA-AAAA", "referee": map[string]any{"name": "X", "phone": "1"}}, 422, "referrer_code"},
			"no way to reach": {map[string]any{"channel": "code", "referrer_id": "angie", "referee": map[string]any{"name": "X"}}, 422, "referee.phone"},
			"no crew member":  {map[string]any{"channel": "crew_pitch", "referrer_id": "angie", "referee": map[string]any{"name": "X", "phone": "503 555 0100"}}, 422, "crew_member_id"},
			"bad variant":     {map[string]any{"channel": "card", "referrer_id": "angie", "variant": "Z", "referee": map[string]any{"name": "X", "phone": "503 555 0100"}}, 422, "variant"},
			"bad lat":         {map[string]any{"channel": "card", "referrer_id": "angie", "referee": map[string]any{"name": "X", "phone": "503 555 0100", "lat": 95, "lon": 0}}, 422, "referee.lat"},
			"unknown field":   {map[string]any{"channel": "card", "referrer_id": "angie", "friend": "x"}, 422, "friend"},
		} {
			r := h.do("POST", "/api/v1/referrals", disp, c.body)
			if r.Status != c.status || (c.field != "" && r.field(c.field) == "") {
				t.Errorf("%s: %d %s", name, r.Status, r.Raw)
			}
		}
		if after := storetest.Count(t, s.DB, "referrals"); after != before {
			t.Fatalf("refused referrals were stored: %d → %d", before, after)
		}
		// A card is not required: a code read over the phone works the same.
		code := h.must(200, "GET", "/api/v1/customers/ben", nil).Body["referral_code"].(string)
		r = h.do("POST", "/api/v1/referrals", disp, map[string]any{"channel": "code", "referrer_code": strings.ToLower(strings.ReplaceAll(code, "-", " ")),
			"referee": map[string]any{"name": "Eve", "email": "eve@example.com"}})
		if r.Status != 201 || r.Body["referrer_id"] != "ben" {
			t.Fatalf("code by phone: %d %s", r.Status, r.Raw)
		}
	})
}

func TestTwentyConcurrentConversionsGrantOnePairOfRewards(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.household("angie")
		h.must(201, "POST", "/api/v1/referrals", map[string]any{"channel": "card", "referrer_id": "angie",
			"referee": map[string]any{"name": "Ben", "email": "ben@example.com"}})
		h.must(201, "PUT", "/api/v1/customers/ben", map[string]any{"name": "Ben", "email": "ben@example.com"})
		var wg sync.WaitGroup
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				r := h.do("PUT", fmt.Sprintf("/api/v1/visits/v-ben-%d", i), h.keys[tenant.RoleAdmin], map[string]any{"customer_id": "ben",
					"service_date": "2026-05-05", "status": "completed", "price_cents": 4500})
				if r.Status != 201 {
					t.Errorf("visit %d: %d %s", i, r.Status, r.Raw)
				}
			}(i)
		}
		wg.Wait()
		if n := storetest.Count(t, s.DB, "rewards"); n != 2 {
			t.Fatalf("%d rewards, want one pair", n)
		}
		if n := storetest.Count(t, s.DB.Where("action = ?", "converted"), "referral_decisions"); n != 1 {
			t.Fatalf("converted %d times", n)
		}
	})
}

func TestOffersCreditsAndPaidInvoiceConversion(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.crewWithSam()
		h.household("angie")
		// One variant only, so the test knows which: a $60 credit for the
		// referrer and a free gutter clean for the friend; convert on payment.
		h.must(200, "PUT", "/api/v1/program", map[string]any{"convert_on": "first_paid_invoice", "offers": []any{
			map[string]any{"name": "B", "referrer": map[string]any{"kind": "fixed_credit", "amount_cents": 6000},
				"referee": map[string]any{"kind": "free_addon", "addon_name": "Gutter clean", "amount_cents": 3500}}}})
		r := h.must(201, "POST", "/api/v1/referrals", map[string]any{"channel": "card", "referrer_id": "angie",
			"referee": map[string]any{"name": "Ben", "email": "ben@example.com"}})
		if r.Body["variant"] != "B" {
			t.Fatalf("variant %v", r.Body["variant"])
		}
		h.must(201, "PUT", "/api/v1/customers/ben", map[string]any{"name": "Ben", "email": "ben@example.com"})
		h.visitAndInvoice("angie", "2026-05-05", "draft")
		h.visitAndInvoice("ben", "2026-05-05", "draft")
		h.must(200, "PUT", "/api/v1/visits/v-ben-2026-05-05", map[string]any{"customer_id": "ben", "service_date": "2026-05-05", "status": "completed", "price_cents": 4500})
		if st := h.must(200, "GET", fmt.Sprintf("/api/v1/referrals/%.0f", r.Body["id"].(float64)), nil).Body["status"]; st != "pending" {
			t.Fatalf("converted on the visit although the program converts on payment: %v", st)
		}
		h.must(200, "PUT", "/api/v1/invoices/i-ben-2026-05-05", map[string]any{"customer_id": "ben", "status": "paid",
			"lines": []any{map[string]any{"visit_id": "v-ben-2026-05-05", "description": "Weekly mow", "amount_cents": 4500}}})
		if st := h.must(200, "GET", fmt.Sprintf("/api/v1/referrals/%.0f", r.Body["id"].(float64)), nil).Body["status"]; st != "converted" {
			t.Fatalf("not converted on payment: %v", st)
		}
		// $60 against a $45 invoice: $36 fits (the total keeps room for the
		// 20% line discounts), $24 carries over to the next invoice.
		credit := h.lines("i-angie-2026-05-05", "credit")
		if len(credit) != 1 || credit[0]["amount_cents"] != -3600.0 {
			t.Fatalf("first credit: %v", credit)
		}
		h.visitAndInvoice("angie", "2026-05-12", "draft")
		if c := h.lines("i-angie-2026-05-12", "credit"); len(c) != 1 || c[0]["amount_cents"] != -2400.0 {
			t.Fatalf("carried over: %v", c)
		}
		// Voiding the first draft gives its share back to the next one.
		h.must(200, "PUT", "/api/v1/invoices/i-angie-2026-05-05", map[string]any{"customer_id": "angie", "status": "void",
			"lines": []any{map[string]any{"visit_id": "v-angie-2026-05-05", "description": "Weekly mow", "amount_cents": 4500}}})
		if c := h.lines("i-angie-2026-05-12", "credit"); len(c) != 1 || c[0]["amount_cents"] != -3600.0 {
			t.Fatalf("after the void: %v", c)
		}
		// Ben's free add-on: the next draft shows it.
		h.visitAndInvoice("ben", "2026-05-12", "draft")
		addon := h.lines("i-ben-2026-05-12", "addon")
		if len(addon) != 1 || !strings.Contains(addon[0]["description"].(string), "Free Gutter clean") {
			t.Fatalf("add-on: %v", addon)
		}
	})
}

// A crew-attributed referral recorded straight through the API counts
// toward the team's milestone at once.
func TestACrewReferralThroughTheAPIReachesAMilestone(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	h := newHarness(t, s)
	h.crewWithSam()
	h.household("angie")
	h.must(201, "POST", "/api/v1/crew/milestones", map[string]any{"name": "First friend", "metric": "referrals", "target": 1, "period": "quarter", "reward": "pizza"})
	h.must(201, "POST", "/api/v1/referrals", map[string]any{"channel": "crew_pitch", "referrer_id": "angie", "crew_member_id": "sam",
		"referee": map[string]any{"name": "Ben", "phone": "503 555 0199"}})
	var n int64
	s.DB.Raw(`SELECT COUNT(*) FROM outbox_events WHERE kind = 'crew.milestone_reached'`).Scan(&n)
	if n != 1 {
		t.Fatalf("%d milestone events", n)
	}
	ms := h.must(200, "GET", "/api/v1/crew/milestones", nil).Body["milestones"].([]any)
	if len(ms) != 1 || ms[0].(map[string]any)["reached"] != true {
		t.Fatalf("milestones: %v", ms)
	}
}
