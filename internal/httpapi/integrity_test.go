package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/ledger"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"

	"gorm.io/gorm"
)

// refer records a referral by the dispatcher and answers it.
func (h *harness) refer(status int, referrer string, friend map[string]any) response {
	h.t.Helper()
	r := h.do("POST", "/api/v1/referrals", h.keys[tenant.RoleDispatcher], map[string]any{"channel": "code", "referrer_id": referrer, "referee": friend})
	if r.Status != status {
		h.t.Fatalf("refer %v by %s: %d %s, want %d", friend, referrer, r.Status, r.Raw, status)
	}
	return r
}

// referral reads one referral.
func (h *harness) referral(id any) map[string]any {
	h.t.Helper()
	return h.must(200, "GET", fmt.Sprintf("/api/v1/referrals/%.0f", id), nil).Body
}

// completeFirstVisit mirrors a completed visit of customer on day.
func (h *harness) completeFirstVisit(customer, day string) {
	h.t.Helper()
	h.must(-1, "PUT", "/api/v1/visits/v-"+customer+"-"+day, map[string]any{"customer_id": customer, "service_date": day,
		"status": "completed", "price_cents": 4500})
}

// rewardsOf counts a customer's rewards by role.
func (h *harness) rewardsOf(customer string) (n int, value float64) {
	h.t.Helper()
	for _, w := range h.must(200, "GET", "/api/v1/rewards?customer_id="+customer, nil).Body["rewards"].([]any) {
		m := w.(map[string]any)
		if m["status"] == "granted" {
			n++
			value += m["value_cents"].(float64)
		}
	}
	return n, value
}

// Defect 1: a friend referred by Dave and then by Erin pays one referrer,
// and the friend gets one welcome reward; Erin naming the same friend
// again by phone is her referral again, not a new one.
func TestOneFriendEarnsOneReferral(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.must(201, "PUT", "/api/v1/customers/dave", map[string]any{"name": "Dave Kim", "lat": 45.40, "lon": -122.60})
		h.must(201, "PUT", "/api/v1/customers/erin", map[string]any{"name": "Erin Fox", "lat": 45.42, "lon": -122.62})
		first := h.refer(201, "dave", map[string]any{"name": "Fay Lu", "email": "fay.lu@example.com"})
		second := h.refer(201, "erin", map[string]any{"name": "Fay", "email": "Fay.Lu@Example.com"})
		if second.Body["status"] != "duplicate" || !strings.Contains(second.Body["note"].(string), fmt.Sprintf("referral #%.0f", first.Body["id"])) ||
			!strings.Contains(second.Body["note"].(string), "dave") {
			t.Fatalf("Erin's referral of a friend Dave already referred: %s", second.Raw)
		}
		// Erin again, by phone alone: not known to be Fay yet, so recorded...
		third := h.refer(201, "erin", map[string]any{"name": "Fay L", "phone": "503 555 0188"})
		// ...and Erin by the e-mail again is her first referral (200).
		if again := h.refer(200, "erin", map[string]any{"name": "Fay", "email": "fay.lu@example.com"}); again.Body["id"] != second.Body["id"] {
			t.Fatalf("Erin naming Fay again: %s", again.Raw)
		}
		// Fay becomes a customer with both contacts and completes a visit.
		h.must(201, "PUT", "/api/v1/customers/fay", map[string]any{"name": "Fay Lu", "email": "fay.lu@example.com", "phone": "(503) 555-0188",
			"lat": 45.45, "lon": -122.65})
		h.completeFirstVisit("fay", "2026-05-04")
		if st := h.referral(first.Body["id"])["status"]; st != "converted" {
			t.Fatalf("Dave's referral is %v", st)
		}
		if r := h.referral(third.Body["id"]); r["status"] != "duplicate" || !strings.Contains(r["note"].(string), "dave") {
			t.Fatalf("Erin's phone referral after Fay converted: %v", r)
		}
		if n, _ := h.rewardsOf("dave"); n != 1 {
			t.Fatalf("Dave has %d rewards", n)
		}
		if n, _ := h.rewardsOf("erin"); n != 0 {
			t.Fatalf("Erin has %d rewards for a friend Dave referred first", n)
		}
		if n, _ := h.rewardsOf("fay"); n != 1 {
			t.Fatalf("Fay has %d welcome rewards", n)
		}
	})
}

// Defect 2: the landing-page flow records the friend by name and e-mail;
// the scheduler mirrors them later. The checks run again then, and before
// conversion: a self-referral next door, a friend who had been a customer
// since September, and a friend outside the service area are flagged, not
// paid, and the self-referral is not linked as a neighbour.
func TestFraudChecksRunWhenTheFriendsRecordArrives(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		area := `{"type":"Polygon","coordinates":[[[-122.70,45.44],[-122.60,45.44],[-122.60,45.50],[-122.70,45.50],[-122.70,45.44]]]}`
		h.must(200, "PUT", "/api/v1/program", map[string]any{"service_areas": area})
		h.household("angie")
		self := h.refer(201, "angie", map[string]any{"name": "A. Baker Jr", "email": "junior@example.com"})
		old := h.refer(201, "angie", map[string]any{"name": "Otto Old", "email": "otto@example.com"})
		far := h.refer(201, "angie", map[string]any{"name": "Fran Far", "email": "fran@example.com"})
		for _, r := range []response{self, old, far} {
			if r.Body["status"] != "pending" {
				t.Fatalf("before the records arrive: %s", r.Raw)
			}
		}
		// The self-referral: 3 m from Angie.
		h.must(201, "PUT", "/api/v1/customers/junior", map[string]any{"name": "A. Baker Jr", "email": "junior@example.com",
			"lat": 45.46552, "lon": -122.65012, "consent_same_day": true})
		// Otto: his visits since September arrive after his record.
		h.must(201, "PUT", "/api/v1/customers/otto", map[string]any{"name": "Otto Old", "email": "otto@example.com", "lat": 45.47, "lon": -122.66})
		h.completeFirstVisit("otto", "2025-09-15")
		// Fran lives outside every service area.
		h.must(201, "PUT", "/api/v1/customers/fran", map[string]any{"name": "Fran Far", "email": "fran@example.com", "lat": 45.60, "lon": -122.90})
		for name, c := range map[string]struct {
			id   any
			flag string
		}{"junior": {self.Body["id"], "self_referral"}, "otto": {old.Body["id"], "already_customer"}, "fran": {far.Body["id"], "outside_service_area"}} {
			h.completeFirstVisit(name, "2026-05-05")
			r := h.must(200, "GET", fmt.Sprintf("/api/v1/referrals/%.0f", c.id), nil)
			if r.Body["status"] != "pending_review" || flagReason(r.Body, c.flag) == "" {
				t.Errorf("%s: %s", name, r.Raw)
			}
			if n, _ := h.rewardsOf(name); n != 0 {
				t.Errorf("%s was rewarded", name)
			}
		}
		if n, _ := h.rewardsOf("angie"); n != 0 {
			t.Fatalf("Angie was rewarded for flagged referrals")
		}
		if n := len(h.must(200, "GET", "/api/v1/neighbor-links?customer_id=angie", nil).Body["neighbor_links"].([]any)); n != 0 {
			t.Fatalf("the self-referral was linked as a neighbour (%d links)", n)
		}
		log := h.must(200, "GET", fmt.Sprintf("/api/v1/referrals/%.0f/decisions", self.Body["id"]), nil).Body["decisions"].([]any)
		if last := log[len(log)-1].(map[string]any); last["action"] != "flagged" || !strings.Contains(last["reason"].(string), "same household") {
			t.Fatalf("decision log: %v", log)
		}
		// A friend mirrored before the referral with only a scheduled visit
		// had already booked: an existing customer.
		h.must(201, "PUT", "/api/v1/customers/gus", map[string]any{"name": "Gus", "email": "gus@example.com", "lat": 45.47, "lon": -122.64})
		h.must(201, "PUT", "/api/v1/visits/v-gus-1", map[string]any{"customer_id": "gus", "service_date": "2026-05-20", "price_cents": 4500})
		h.clock.Advance(time.Minute)
		gus := h.refer(201, "angie", map[string]any{"name": "Gus", "email": "gus@example.com"})
		if gus.Body["status"] != "pending_review" || flagReason(gus.Body, "already_customer") == "" {
			t.Fatalf("a friend who had already booked: %s", gus.Raw)
		}
	})
}

// Defect 3: conversions completed at once never grant more than the
// month's budget.
func TestTheBudgetIsACeilingUnderConcurrentConversions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		// Fixed credits of 500 a side: room for two conversions (2,000).
		h.must(200, "PUT", "/api/v1/program", map[string]any{"monthly_budget_cents": 2000, "offers": []any{map[string]any{"name": "standard",
			"referrer": map[string]any{"kind": "fixed_credit", "amount_cents": 500}, "referee": map[string]any{"kind": "fixed_credit", "amount_cents": 500}}}})
		const n = 50
		for i := range n {
			ref, friend := fmt.Sprintf("ref%d", i), fmt.Sprintf("friend%d", i)
			h.must(201, "PUT", "/api/v1/customers/"+ref, map[string]any{"name": "Referrer " + ref, "lat": 45.0 + float64(i)*0.01, "lon": -122.0})
			h.refer(201, ref, map[string]any{"name": "Friend " + friend, "email": friend + "@example.com"})
			h.must(201, "PUT", "/api/v1/customers/"+friend, map[string]any{"name": "Friend " + friend, "email": friend + "@example.com",
				"lat": 45.0 + float64(i)*0.01, "lon": -121.9})
		}
		var wg sync.WaitGroup
		errs := make(chan string, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				friend := fmt.Sprintf("friend%d", i)
				r := h.do("PUT", "/api/v1/visits/v-"+friend, h.keys[tenant.RoleIntegration], map[string]any{"customer_id": friend,
					"service_date": "2026-05-04", "status": "completed", "price_cents": 4500})
				if r.Status != 201 {
					errs <- fmt.Sprintf("%s: %d %s", friend, r.Status, r.Raw)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
		var granted, held int64
		s.DB.Raw(`SELECT COALESCE(SUM(value_cents), 0) FROM rewards WHERE status = 'granted'`).Scan(&granted)
		s.DB.Raw(`SELECT COUNT(*) FROM rewards WHERE status = 'pending_budget'`).Scan(&held)
		if granted != 2000 || held != 2*n-4 {
			t.Fatalf("granted %d (budget 2,000), %d waiting (want %d)", granted, held, 2*n-4)
		}
	})
}

// Defect 4: a referral whose friend qualifies after the attribution window
// expires and pays nobody.
func TestTheAttributionWindowHoldsAtConversion(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.household("angie")
		r := h.refer(201, "angie", map[string]any{"name": "Late Larry", "email": "larry@example.com"})
		h.must(201, "PUT", "/api/v1/customers/larry", map[string]any{"name": "Late Larry", "email": "larry@example.com", "lat": 45.47, "lon": -122.64})
		// The window is 60 days: the 60th day still counts, the 61st not.
		h.clock.Advance(400 * 24 * time.Hour)
		h.completeFirstVisit("larry", "2027-06-05")
		got := h.referral(r.Body["id"])
		if got["status"] != "expired" || !strings.Contains(got["note"].(string), "more than 60 days") {
			t.Fatalf("400 days later: %v", got)
		}
		if n, _ := h.rewardsOf("angie"); n != 0 {
			t.Fatal("an expired referral paid the referrer")
		}
		if n, _ := h.rewardsOf("larry"); n != 0 {
			t.Fatal("an expired referral paid the friend")
		}
		// On the window's last day it converts.
		h.must(201, "PUT", "/api/v1/customers/cleo", households["cleo"])
		h2 := h.refer(201, "cleo", map[string]any{"name": "Quick Quinn", "email": "quinn@example.com"})
		h.must(201, "PUT", "/api/v1/customers/quinn", map[string]any{"name": "Quick Quinn", "email": "quinn@example.com", "lat": 45.48, "lon": -122.64})
		day := time.Date(2027, 6, 5, 12, 0, 0, 0, time.UTC).AddDate(0, 0, 60).Format("2006-01-02")
		h.completeFirstVisit("quinn", day)
		if st := h.referral(h2.Body["id"])["status"]; st != "converted" {
			t.Fatalf("on the window's last day (%s): %v", day, st)
		}
	})
}

// Defect 5: a referral whose friend is the referrer's own record cannot be
// approved (422, nothing changes), attributing it runs the checks, and the
// referrer's next completed visit answers 201, not 500.
func TestASelfReferralCannotBeApprovedOrAttributed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.household("angie")
		// The friend names "Angie" without a street the engine can use: in review, unattributed.
		r := h.do("POST", "/api/v1/referrals", h.keys[tenant.RoleDispatcher], map[string]any{"channel": "name_only", "referrer_name": "Angie Baker",
			"referrer_phone": "503 555 0000", "referee": map[string]any{"name": "Angie Baker", "customer_id": "angie"}})
		if r.Status != 201 || r.Body["status"] != "pending_review" {
			t.Fatalf("name-only referral: %d %s", r.Status, r.Raw)
		}
		id := r.Body["id"]
		att := h.must(200, "POST", fmt.Sprintf("/api/v1/referrals/%.0f/attribute", id), map[string]any{"referrer_id": "angie", "reason": "she called"})
		if att.Body["status"] != "pending_review" || !strings.HasPrefix(flagReason(att.Body, "self_referral"), "self-referral: ") {
			t.Fatalf("attributed to the friend herself: %s", att.Raw)
		}
		before := h.referral(id)
		ap := h.do("POST", fmt.Sprintf("/api/v1/referrals/%.0f/approve", id), h.keys[tenant.RoleAdmin], map[string]any{"reason": "looks fine"})
		if ap.Status != 422 || ap.errorCode() != "unprocessable" ||
			ap.message() != fmt.Sprintf("referral %.0f names the referrer as their own friend: reject it instead", id) {
			t.Fatalf("approving a self-referral: %d %s", ap.Status, ap.Raw)
		}
		if after := h.referral(id); after["status"] != before["status"] || after["updated_at"] != before["updated_at"] {
			t.Fatalf("a refused approval changed the referral: %v -> %v", before, after)
		}
		v := h.do("PUT", "/api/v1/visits/v-angie-1", h.keys[tenant.RoleIntegration], map[string]any{"customer_id": "angie", "service_date": "2026-05-04",
			"status": "completed", "price_cents": 4500})
		if v.Status != 201 {
			t.Fatalf("Angie's completed visit: %d %s", v.Status, v.Raw)
		}
		if n, _ := h.rewardsOf("angie"); n != 0 {
			t.Fatal("a self-referral paid")
		}
	})
}

// Defect 6: a conversion that did not happen with its write (an outage, a
// crash of an older version) is made by the sweep that runs with
// reconciliation.
func TestTheSweepConvertsWhatAWriteMissed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.household("angie", "ben")
		r := h.refer(201, "angie", map[string]any{"name": "Ben Ortiz", "customer_id": "ben"})
		// Ben's first visit was stored without its consequences.
		if err := s.DB.Exec(`INSERT INTO visits (tenant_id, external_id, customer_id, service_date, status, price_cents, source, created_at, updated_at)
			SELECT tenant_id, 'v-ben-lost', id, '2026-05-04', 'completed', 4500, 'scheduler', ?, ? FROM customers WHERE external_id = 'ben'`,
			h.clock.Now(), h.clock.Now()).Error; err != nil {
			t.Fatal(err)
		}
		if st := h.referral(r.Body["id"])["status"]; st != "pending" {
			t.Fatalf("before the sweep: %v", st)
		}
		n, err := h.app.Referrals.Sweep(context.Background(), h.greenway)
		if err != nil || n != 1 {
			t.Fatalf("sweep settled %d: %v", n, err)
		}
		if st := h.referral(r.Body["id"])["status"]; st != "converted" {
			t.Fatalf("after the sweep: %v", st)
		}
		if n, _ := h.rewardsOf("ben"); n != 1 {
			t.Fatalf("Ben has %d rewards", n)
		}
		// Again: nothing left to settle, nothing given twice.
		if n, err := h.app.Referrals.Sweep(context.Background(), h.greenway); err != nil || n != 0 {
			t.Fatalf("second sweep settled %d: %v", n, err)
		}
		if n, _ := h.rewardsOf("ben"); n != 1 {
			t.Fatalf("Ben has %d rewards after a second sweep", n)
		}
	})
}

// Events carry what a messaging tool needs.
func TestReferralAndRewardEventsNameThePeople(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.household("angie", "ben")
		h.refer(201, "angie", map[string]any{"name": "Ben Ortiz", "email": "ben@example.com", "customer_id": "ben"})
		h.completeFirstVisit("ben", "2026-05-04")
		var events []struct {
			Kind    string
			Payload string
		}
		if err := s.DB.Raw(`SELECT kind, payload FROM outbox_events WHERE tenant_id = ? ORDER BY id`, h.greenway).Scan(&events).Error; err != nil {
			t.Fatal(err)
		}
		seen := map[string]string{}
		for _, e := range events {
			seen[e.Kind] += e.Payload
		}
		for kind, wants := range map[string][]string{
			"referral.created":   {`"referrer_id":"angie"`, `"friend_customer_id":"ben"`, `"email":"ben@example.com"`, `"channel":"code"`},
			"referral.converted": {`"referrer_id":"angie"`, `"friend_customer_id":"ben"`},
			"reward.granted":     {`"customer_id":"angie"`, `"customer_id":"ben"`, `"role":"referrer"`, `"role":"referee"`, `"value_cents":`, `"status":"granted"`},
		} {
			for _, w := range wants {
				if !strings.Contains(seen[kind], w) {
					t.Errorf("%s lacks %s: %s", kind, w, seen[kind])
				}
			}
		}
	})
}

// rewardStatuses lists a customer's rewards' statuses, newest first.
func (h *harness) rewardStatuses(customer string) []string {
	h.t.Helper()
	var out []string
	for _, w := range h.must(200, "GET", "/api/v1/rewards?customer_id="+customer, nil).Body["rewards"].([]any) {
		out = append(out, w.(map[string]any)["status"].(string))
	}
	return out
}

// releaseHolds runs what the hourly job runs for holds.
func (h *harness) releaseHolds() int {
	h.t.Helper()
	var n int
	err := h.store.Tx(context.Background(), func(tx *gorm.DB) error {
		var err error
		n, err = h.app.Referrals.ReleaseHolds(tx, h.greenway)
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

// With a hold, a conversion's rewards wait: nothing on the drafts until the
// hold has passed, then granted (the budget and caps applied then); a
// qualifying visit cancelled during the hold voids them, and the friend's
// next completed visit converts the referral again.
func TestRewardsWaitOutTheHoldAndAreVoidedWhenTheVisitIsUndone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		if r := h.do("PUT", "/api/v1/program", h.keys[tenant.RoleAdmin], map[string]any{"reward_hold_days": 366}); r.Status != 422 || r.field("reward_hold_days") == "" {
			t.Fatalf("a hold of 366 days: %d %s", r.Status, r.Raw)
		}
		h.must(200, "PUT", "/api/v1/program", map[string]any{"reward_hold_days": 14})
		h.crewWithSam()
		h.household("angie", "ben", "cleo", "dan")
		ref := h.refer(201, "angie", map[string]any{"name": "Ben Ortiz", "customer_id": "ben"})
		h.visitAndInvoice("ben", "2026-05-04", "draft")
		h.completeFirstVisit("ben", "2026-05-04")
		if st := h.referral(ref.Body["id"])["status"]; st != "converted" {
			t.Fatalf("referral: %v", st)
		}
		if got := h.rewardStatuses("ben"); len(got) != 1 || got[0] != "held" {
			t.Fatalf("Ben's rewards during the hold: %v", got)
		}
		if n := len(h.lines("i-ben-2026-05-04", "referral_reward")); n != 0 {
			t.Fatal("a held reward reached the draft")
		}
		// The hold ends on 2026-05-15 (tenant-local): the day before, nothing.
		h.clock.Set(time.Date(2026, 5, 15, 6, 0, 0, 0, time.UTC)) // 2026-05-14 23:00 in Portland
		if n := h.releaseHolds(); n != 0 {
			t.Fatalf("released %d a day early", n)
		}
		h.clock.Set(time.Date(2026, 5, 15, 8, 0, 0, 0, time.UTC))
		if n := h.releaseHolds(); n != 2 {
			t.Fatalf("released %d when the hold passed, want both sides", n)
		}
		if got := h.rewardStatuses("ben"); len(got) != 1 || got[0] != "granted" {
			t.Fatalf("Ben's rewards after the hold: %v", got)
		}
		if n := len(h.lines("i-ben-2026-05-04", "referral_reward")); n != 1 {
			t.Fatal("the granted reward did not reach Ben's draft")
		}
		// Cleo's friend Dan: his visit is cancelled during the hold.
		ref2 := h.refer(201, "cleo", map[string]any{"name": "Dan Wu", "customer_id": "dan"})
		h.completeFirstVisit("dan", "2026-05-16")
		if got := h.rewardStatuses("dan"); len(got) != 1 || got[0] != "held" {
			t.Fatalf("Dan's rewards: %v", got)
		}
		h.must(200, "PUT", "/api/v1/visits/v-dan-2026-05-16", map[string]any{"customer_id": "dan", "service_date": "2026-05-16",
			"status": "cancelled", "price_cents": 4500})
		if got := h.rewardStatuses("dan"); len(got) != 1 || got[0] != "voided" {
			t.Fatalf("Dan's rewards after the cancellation: %v", got)
		}
		if r := h.referral(ref2.Body["id"]); r["status"] != "pending" || !strings.Contains(r["note"].(string), "voided during the hold") {
			t.Fatalf("the referral after the cancellation: %v", r)
		}
		h.clock.Set(time.Date(2026, 6, 10, 8, 0, 0, 0, time.UTC))
		h.releaseHolds()
		if n, _ := h.rewardsOf("cleo"); n != 0 {
			t.Fatal("a voided reward was granted")
		}
		// Dan's next visit is done: the referral converts again, held again.
		h.completeFirstVisit("dan", "2026-06-12")
		if st := h.referral(ref2.Body["id"])["status"]; st != "converted" {
			t.Fatalf("after Dan's next visit: %v", st)
		}
		if got := h.rewardStatuses("dan"); len(got) != 2 || got[0] != "held" || got[1] != "voided" { // newest first
			t.Fatalf("Dan's rewards after converting again: %v", got)
		}
		var events []string
		s.DB.Raw(`SELECT kind FROM outbox_events WHERE tenant_id = ? AND kind LIKE 'reward.%' ORDER BY id`, h.greenway).Scan(&events)
		joined := strings.Join(events, " ")
		for _, want := range []string{"reward.held", "reward.granted", "reward.voided"} {
			if !strings.Contains(joined, want) {
				t.Errorf("no %s event: %v", want, events)
			}
		}
	})
}

// A repeated referral is validated before it is recognised as the one
// already recorded: an invalid field is a 422 naming it, never a 200.
func TestARepeatedReferralWithABadFieldIsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.crewWithSam()
		h.household("angie")
		body := map[string]any{"channel": "code", "referrer_id": "angie", "referee": map[string]any{"name": "Ben", "email": "ben@example.com"}}
		first := h.refer(201, "angie", body["referee"].(map[string]any))
		for field, change := range map[string]func(map[string]any){
			"variant":        func(b map[string]any) { b["variant"] = "no-such-offer" },
			"crew_member_id": func(b map[string]any) { b["channel"], b["crew_member_id"] = "crew_pitch", "nobody" },
			"referee.email":  func(b map[string]any) { b["referee"] = map[string]any{"name": "Ben", "email": "ben@"} },
			"channel":        func(b map[string]any) { b["channel"] = "fax" },
		} {
			b := map[string]any{}
			for k, v := range body {
				b[k] = v
			}
			change(b)
			r := h.do("POST", "/api/v1/referrals", h.keys[tenant.RoleDispatcher], b)
			if r.Status != 422 || r.field(field) == "" {
				t.Errorf("the same referral with a bad %s: %d %s", field, r.Status, r.Raw)
			}
		}
		if got := h.referral(first.Body["id"]); got["status"] != "pending" || got["variant"] != first.Body["variant"] {
			t.Fatalf("a refused repeat changed the referral: %v", got)
		}
		for path, b := range map[string]map[string]any{
			"approve":   {"reason": strings.Repeat("x", 501)},
			"reject":    {"reason": " "},
			"attribute": {"referrer_id": ""},
		} {
			r := h.do("POST", fmt.Sprintf("/api/v1/referrals/%.0f/%s", first.Body["id"], path), h.keys[tenant.RoleAdmin], b)
			if r.Status != 422 {
				t.Errorf("%s with %v: %d %s", path, b, r.Status, r.Raw)
			}
		}
	})
}

// A crash between the friend's completed visit and its consequences (the
// rewards on the drafts) loses both or neither: the write is undone whole,
// and the scheduler's retry converts the referral.
func TestACrashBeforeTheConversionsConsequencesLosesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.household("angie", "ben")
		ref := h.refer(201, "angie", map[string]any{"name": "Ben Ortiz", "customer_id": "ben"})
		crashed := false
		crash := func(string) error {
			if !crashed {
				crashed = true
				return errors.New("the process died here")
			}
			return nil
		}
		ledger.FaultHook.Store(&crash)
		defer ledger.FaultHook.Store(nil)
		body := map[string]any{"customer_id": "ben", "service_date": "2026-05-04", "status": "completed", "price_cents": 4500}
		if r := h.do("PUT", "/api/v1/visits/v-ben-1", h.keys[tenant.RoleIntegration], body); r.Status < 500 || !crashed {
			t.Fatalf("the crashed write answered %d %s", r.Status, r.Raw)
		}
		if r := h.do("GET", "/api/v1/visits/v-ben-1", h.keys[tenant.RoleAdmin], nil); r.Status != 404 {
			t.Fatalf("the visit of a crashed write is stored: %d %s", r.Status, r.Raw)
		}
		if st := h.referral(ref.Body["id"])["status"]; st != "pending" {
			t.Fatalf("after the crash the referral is %v", st)
		}
		h.must(201, "PUT", "/api/v1/visits/v-ben-1", body) // the scheduler retries
		if st := h.referral(ref.Body["id"])["status"]; st != "converted" {
			t.Fatalf("after the retry the referral is %v", st)
		}
		if n, _ := h.rewardsOf("angie"); n != 1 {
			t.Fatalf("Angie has %d rewards", n)
		}
	})
}

// A hold is voided when the invoice billing the qualifying visit is voided
// during it — unless the visit is billed again (a void and reissue).
func TestAVoidedInvoiceDuringTheHoldVoidsTheRewards(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.must(200, "PUT", "/api/v1/program", map[string]any{"reward_hold_days": 14})
		h.crewWithSam()
		h.household("angie", "ben", "cleo", "dan")
		bill := func(inv, visit, status string) {
			h.must(-1, "PUT", "/api/v1/invoices/"+inv, map[string]any{"customer_id": strings.Split(visit, "-")[1], "status": status,
				"lines": []any{map[string]any{"visit_id": visit, "description": "Weekly mow", "amount_cents": 4500}}})
		}
		// Ben's visit: its invoice is voided and reissued: the hold stands.
		refBen := h.refer(201, "angie", map[string]any{"name": "Ben Ortiz", "customer_id": "ben"})
		h.completeFirstVisit("ben", "2026-05-04")
		bill("i-ben-1", "v-ben-2026-05-04", "issued")
		bill("i-ben-2", "v-ben-2026-05-04", "draft")
		bill("i-ben-1", "v-ben-2026-05-04", "void")
		if got := h.rewardStatuses("ben"); len(got) != 1 || got[0] != "held" {
			t.Fatalf("Ben's rewards after a void and reissue: %v", got)
		}
		// Dan's visit: its only invoice is voided: the hold is voided.
		refDan := h.refer(201, "cleo", map[string]any{"name": "Dan Wu", "customer_id": "dan"})
		h.completeFirstVisit("dan", "2026-05-04")
		bill("i-dan-1", "v-dan-2026-05-04", "issued")
		bill("i-dan-1", "v-dan-2026-05-04", "void")
		if got := h.rewardStatuses("dan"); len(got) != 1 || got[0] != "voided" {
			t.Fatalf("Dan's rewards after the void: %v", got)
		}
		if st := h.referral(refDan.Body["id"])["status"]; st != "pending" {
			t.Fatalf("Dan's referral after the void: %v", st)
		}
		h.clock.Set(time.Date(2026, 5, 16, 8, 0, 0, 0, time.UTC))
		h.releaseHolds()
		if got := h.rewardStatuses("ben"); len(got) != 1 || got[0] != "granted" {
			t.Fatalf("Ben's rewards after the hold: %v", got)
		}
		if st := h.referral(refBen.Body["id"])["status"]; st != "converted" {
			t.Fatalf("Ben's referral: %v", st)
		}
	})
}
