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

// stop returns the stop of a crew day for a customer.
func stopOf(t *testing.T, day response, customer string) map[string]any {
	t.Helper()
	for _, s := range day.Body["stops"].([]any) {
		m := s.(map[string]any)
		if m["customer"].(map[string]any)["external_id"] == customer {
			return m
		}
	}
	t.Fatalf("no stop for %s: %s", customer, day.Raw)
	return nil
}

func (h *harness) stopVisit(customer, day string, pos int) {
	h.t.Helper()
	h.must(-1, "PUT", "/api/v1/visits/v-"+customer+"-"+day, map[string]any{"customer_id": customer, "crew_id": "north",
		"service_date": day, "route_position": pos, "price_cents": 4500})
}

// Tuesday's route: Angie was pitched ten days ago, Ben rated his last visit
// 3, Cleo complained, Dan was never rated. Only Dan is pitched — until
// Cleo's complaint is resolved and Ben rates the next visit 5.
func TestCrewDayPitchesOnlyHappyCustomers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.crewWithSam()
		h.household("angie", "ben", "cleo", "dan")
		crewKey := h.keys[tenant.RoleCrew]
		for i, c := range []string{"dan", "cleo", "ben", "angie"} {
			h.stopVisit(c, "2026-04-25", i+1)
			h.stopVisit(c, "2026-05-05", 4-i)
		}
		h.clock.Set(time.Date(2026, 4, 25, 20, 0, 0, 0, time.UTC))
		if r := h.do("POST", "/api/v1/pitches", crewKey, map[string]any{"visit_id": "v-angie-2026-04-25", "crew_member_id": "sam", "outcome": "pitched"}); r.Status != 201 {
			t.Fatalf("pitch: %d %s", r.Status, r.Raw)
		}
		for c, body := range map[string]map[string]any{
			"angie": {"score": 5}, "ben": {"score": 3, "comment": "missed a corner"},
			"cleo": {"score": 5, "complaint": true, "comment": "gate left open"},
		} {
			if r := h.do("POST", "/api/v1/visits/v-"+c+"-2026-04-25/rating", crewKey, body); r.Status != 201 {
				t.Fatalf("rate %s: %d %s", c, r.Status, r.Raw)
			}
		}
		for _, bad := range []any{map[string]any{"score": 6}, map[string]any{"score": 0}, map[string]any{"comment": "no score"}} {
			if r := h.do("POST", "/api/v1/visits/v-dan-2026-04-25/rating", crewKey, bad); r.Status != 422 || r.field("score") == "" {
				t.Fatalf("bad score %v: %d %s", bad, r.Status, r.Raw)
			}
		}
		h.clock.Set(time.Date(2026, 5, 5, 15, 0, 0, 0, time.UTC)) // 08:00 in Los Angeles
		day := h.do("GET", "/api/v1/crews/north/today", crewKey, nil)
		if day.Status != 200 || day.Body["date"] != "2026-05-05" || day.Body["member"].(map[string]any)["external_id"] != "sam" {
			t.Fatalf("today: %d %s", day.Status, day.Raw)
		}
		var order []string
		for _, s := range day.Body["stops"].([]any) {
			order = append(order, s.(map[string]any)["customer"].(map[string]any)["external_id"].(string))
		}
		if strings.Join(order, ",") != "angie,ben,cleo,dan" {
			t.Fatalf("route order %v", order)
		}
		want := map[string]struct{ action, reason string }{
			"angie": {"skip", "pitched on 2026-04-25 (10 days ago); the program waits 90 days"},
			"ben":   {"skip", "last rating was 3 of 5"},
			"cleo":  {"skip", "open complaint"},
			"dan":   {"pitch", "no rating yet"},
		}
		for c, w := range want {
			st := stopOf(t, day, c)
			if st["action"] != w.action || st["pitch"] != (w.action == "pitch") || !strings.Contains(st["reason"].(string), w.reason) {
				t.Errorf("%s: %v %v", c, st["action"], st["reason"])
			}
		}
		dan := stopOf(t, day, "dan")
		cust := dan["customer"].(map[string]any)
		code := h.must(200, "GET", "/api/v1/customers/dan", nil).Body["referral_code"].(string)
		if cust["referral_code"] != code || !strings.HasSuffix(cust["referral_url"].(string), "/r/"+code) {
			t.Errorf("Dan's code and link: %v", cust)
		}
		if dan["script"] != "Glad you're happy with today's work, Dan. Tell your friends about us: they get 10% off their first visit, and you get 10% off your next visit." {
			t.Errorf("Dan's script: %q", dan["script"])
		}
		if s := stopOf(t, day, "angie")["script"].(string); !strings.HasSuffix(s, "Your neighbours on SE Maple St get 10% off too if we do your yards the same day.") {
			t.Errorf("Angie's script names no neighbours: %q", s)
		}
		if r := stopOf(t, day, "ben")["rating"].(map[string]any); r["last_score"] != 3.0 || r["open_complaint"] != false {
			t.Errorf("Ben's rating status: %v", r)
		}
		// Angie and Ben linked: her nearest unlinked neighbour is Cleo, round the corner.
		h.link("angie", "ben")
		// A dispatcher resolves Cleo's complaint; Ben rates the visit again, 5
		// (kept beside his 3, the latest now).
		note := map[string]any{"note": "gate latch replaced"}
		if r := h.do("POST", "/api/v1/visits/v-cleo-2026-04-25/rating/resolve", crewKey, note); r.Status != 403 {
			t.Fatalf("a crew key resolved a complaint: %d", r.Status)
		}
		if r := h.do("POST", "/api/v1/visits/v-cleo-2026-04-25/rating/resolve", h.keys[tenant.RoleDispatcher], note); r.Status != 200 ||
			r.Body["open_complaint"] != false || r.Body["latest"].(map[string]any)["resolved_at"] == nil {
			t.Fatalf("resolve: %d %s", r.Status, r.Raw)
		}
		if r := h.do("POST", "/api/v1/visits/v-ben-2026-04-25/rating", h.keys[tenant.RoleIntegration], map[string]any{"score": 5}); r.Status != 201 ||
			r.Body["latest"].(map[string]any)["score"] != 5.0 || len(r.Body["history"].([]any)) != 2 {
			t.Fatalf("re-rate: %d %s", r.Status, r.Raw)
		}
		if n := storetest.Count(t, s.DB, "ratings"); n != 4 {
			t.Fatalf("%d ratings", n)
		}
		day = h.do("GET", "/api/v1/crews/north/today?date=2026-05-05", crewKey, nil)
		for _, c := range []string{"ben", "cleo"} {
			if st := stopOf(t, day, c); st["action"] != "pitch" {
				t.Errorf("%s after: %v", c, st["reason"])
			}
		}
		if s := stopOf(t, day, "angie")["script"].(string); !strings.HasSuffix(s, "Your neighbours on SE Birch Ave get 10% off too if we do your yards the same day.") {
			t.Errorf("Angie is offered Ben, whom she is linked to, instead of Cleo: %q", s)
		}
		if r := h.do("GET", "/api/v1/crews/north/today?member_id=nobody", crewKey, nil); r.Status != 422 || r.field("member_id") == "" {
			t.Errorf("unknown member: %d %s", r.Status, r.Raw)
		}
		if r := h.do("GET", "/api/v1/crews/north/today?date=tuesday", crewKey, nil); r.Status != 422 || r.field("date") == "" {
			t.Errorf("bad date: %d %s", r.Status, r.Raw)
		}
	})
}

// Scripts: the default ships; admins write variants (unknown placeholders
// refused by name); a crew key reads them and logs pitches but may not write.
func TestScriptVariantsAndWhoMayWriteThem(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.crewWithSam()
		h.household("dan")
		h.stopVisit("dan", "2026-05-05", 1)
		crewKey := h.keys[tenant.RoleCrew]
		list := h.do("GET", "/api/v1/scripts", crewKey, nil)
		scripts := list.Body["scripts"].([]any)
		if list.Status != 200 || len(scripts) != 1 || scripts[0].(map[string]any)["builtin"] != true {
			t.Fatalf("default script: %d %s", list.Status, list.Raw)
		}
		body := map[string]any{"name": "short", "body": "Thanks {customer_first_name}! Friends get {friend_offer}."}
		if r := h.do("POST", "/api/v1/scripts", crewKey, body); r.Status != 403 {
			t.Fatalf("crew wrote a script: %d %s", r.Status, r.Raw)
		}
		if r := h.do("PUT", "/api/v1/scripts/short", h.keys[tenant.RoleDispatcher], body); r.Status != 403 {
			t.Fatalf("dispatcher wrote a script: %d %s", r.Status, r.Raw)
		}
		for _, bad := range []string{"Hi {customer_name}, {discount}!", "{{.Exec}}", "Hi {customer_first_name"} {
			r := h.do("POST", "/api/v1/scripts", h.keys[tenant.RoleAdmin], map[string]any{"name": "bad", "body": bad})
			if r.Status != 422 || r.field("body") == "" {
				t.Fatalf("%q: %d %s", bad, r.Status, r.Raw)
			}
			if strings.Contains(bad, "discount") && !strings.Contains(r.field("body"), "{customer_name}, {discount}") {
				t.Fatalf("unknown placeholders not named: %s", r.Raw)
			}
		}
		if r := h.do("PUT", "/api/v1/scripts/has%20space", h.keys[tenant.RoleAdmin], map[string]any{"body": "Hi"}); r.Status != 422 || r.field("name") == "" {
			t.Fatalf("bad name: %d %s", r.Status, r.Raw)
		}
		h.must(201, "POST", "/api/v1/scripts", body)
		h.must(409, "POST", "/api/v1/scripts", body)
		h.must(200, "PUT", "/api/v1/scripts/short", map[string]any{"body": "Thanks {customer_first_name}! Your friends get {friend_offer}."})
		h.must(201, "PUT", "/api/v1/scripts/retired", map[string]any{"body": "Old words", "active": false})
		if n := len(h.must(200, "GET", "/api/v1/scripts", nil).Body["scripts"].([]any)); n != 2 {
			t.Fatalf("%d scripts", n)
		}
		day := h.do("GET", "/api/v1/crews/north/today?date=2026-05-05&member_id=sam", crewKey, nil)
		if day.Body["script_variant"] != "short" || stopOf(t, day, "dan")["script"] != "Thanks Dan! Your friends get 10% off their first visit." {
			t.Fatalf("the only active variant: %s", day.Raw)
		}
		h.clock.Set(time.Date(2026, 5, 5, 17, 0, 0, 0, time.UTC)) // the day of Dan's visit
		r := h.do("POST", "/api/v1/pitches", crewKey, map[string]any{"visit_id": "v-dan-2026-05-05", "crew_member_id": "sam", "outcome": "declined"})
		if r.Status != 201 || r.Body["script_variant"] != "short" || r.Body["outcome"] != "declined" {
			t.Fatalf("crew pitch: %d %s", r.Status, r.Raw)
		}
	})
}

// Points are ledger entries, once each: twenty identical pitches at once
// make one pitch and one entry; a friend given on site goes through the
// referral engine with Sam attributed, and its conversion pays Sam once.
func TestPitchPointsAreIdempotentAndExplained(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.crewWithSam()
		h.household("angie", "dan")
		h.stopVisit("dan", "2026-05-05", 1)
		h.stopVisit("angie", "2026-05-05", 2)
		h.clock.Set(time.Date(2026, 5, 5, 17, 0, 0, 0, time.UTC)) // the day of the visits
		crewKey := h.keys[tenant.RoleCrew]
		pitch := map[string]any{"visit_id": "v-dan-2026-05-05", "crew_member_id": "sam", "outcome": "pitched"}
		var wg sync.WaitGroup
		statuses := make(chan int, 20)
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses <- h.do("POST", "/api/v1/pitches", crewKey, pitch).Status
			}()
		}
		wg.Wait()
		close(statuses)
		got := map[int]int{}
		for st := range statuses {
			got[st]++
		}
		if got[201] != 1 || got[200] != 19 {
			t.Fatalf("statuses %v", got)
		}
		if n := storetest.Count(t, s.DB, "pitches"); n != 1 {
			t.Fatalf("%d pitches", n)
		}
		if n := storetest.Count(t, s.DB, "crew_points"); n != 1 {
			t.Fatalf("%d point entries", n)
		}
		again := h.do("POST", "/api/v1/pitches", crewKey, pitch)
		pts := again.Body["points"].([]any)
		if again.Status != 200 || len(pts) != 1 || pts[0].(map[string]any)["points"] != 1.0 ||
			!strings.Contains(pts[0].(map[string]any)["reason"].(string), "pitched the referral program to Dan Wu at visit v-dan-2026-05-05 on 2026-05-05") {
			t.Fatalf("replay: %d %s", again.Status, again.Raw)
		}
		pitch["outcome"] = "declined"
		if r := h.do("POST", "/api/v1/pitches", crewKey, pitch); r.Status != 409 {
			t.Fatalf("another outcome for the same pitch: %d %s", r.Status, r.Raw)
		}
		if r := h.do("POST", "/api/v1/pitches", crewKey, map[string]any{"visit_id": "v-angie-2026-05-05", "crew_member_id": "sam", "outcome": "referral_given"}); r.Status != 422 || r.field("referee") == "" {
			t.Fatalf("referral without a friend: %d %s", r.Status, r.Raw)
		}
		if r := h.do("POST", "/api/v1/pitches", crewKey, map[string]any{"visit_id": "nope", "crew_member_id": "kim", "outcome": "maybe"}); r.Status != 422 || r.field("outcome") == "" {
			t.Fatalf("bad pitch: %d %s", r.Status, r.Raw)
		}
		given := map[string]any{"visit_id": "v-angie-2026-05-05", "crew_member_id": "sam", "outcome": "referral_given",
			"referee": map[string]any{"name": "Ben Ortiz", "phone": "(503) 555-0199"}}
		r := h.do("POST", "/api/v1/pitches", crewKey, given)
		if r.Status != 201 || r.Body["referral_id"] == nil || len(r.Body["points"].([]any)) != 2 {
			t.Fatalf("referral given: %d %s", r.Status, r.Raw)
		}
		refPath := fmt.Sprintf("/api/v1/referrals/%.0f", r.Body["referral_id"].(float64))
		ref := h.must(200, "GET", refPath, nil)
		if ref.Body["channel"] != "crew_pitch" || ref.Body["crew_member_id"] != "sam" || ref.Body["referrer_id"] != "angie" {
			t.Fatalf("referral: %s", ref.Raw)
		}
		if r := h.do("POST", "/api/v1/pitches", crewKey, given); r.Status != 200 || storetest.Count(t, s.DB, "referrals") != 1 {
			t.Fatalf("replayed referral pitch: %d %s", r.Status, r.Raw)
		}
		// Ben becomes a customer and his first visit is done: Sam earns the conversion, once.
		ben := households["ben"]
		ben["phone"] = "503.555.0199"
		defer delete(ben, "phone")
		h.must(201, "PUT", "/api/v1/customers/ben", ben)
		done := map[string]any{"customer_id": "ben", "crew_id": "north", "service_date": "2026-05-12", "status": "completed", "price_cents": 4500}
		h.must(201, "PUT", "/api/v1/visits/v-ben-1", done)
		h.must(200, "PUT", "/api/v1/visits/v-ben-1", done)
		if st := h.must(200, "GET", refPath, nil).Body["status"]; st != "converted" {
			t.Fatalf("referral %v", st)
		}
		var conv []struct {
			Points int
			Reason string
		}
		s.DB.Raw(`SELECT points, reason FROM crew_points WHERE kind = 'conversion'`).Scan(&conv)
		if len(conv) != 1 || conv[0].Points != 20 || !strings.Contains(conv[0].Reason, "Ben Ortiz, whom Angie Baker referred after your pitch, became a customer") {
			t.Fatalf("conversion points: %+v", conv)
		}
		board := h.must(200, "GET", "/api/v1/crew/leaderboard?period=year", nil)
		sam := board.Body["members"].([]any)[0].(map[string]any)
		if sam["points"] != 27.0 || sam["conversions"] != 1.0 || sam["referrals"] != 1.0 || sam["pitches"] != 2.0 || sam["year_bonus_cents"] != 270.0 {
			t.Fatalf("Sam's year: %s", board.Raw)
		}
	})
}

// Points and milestones count in the tenant's calendar: a pitch at 23:30 on
// 31 March in Los Angeles is Q1 although it is April in UTC. The golf-day
// milestone is reached once in Q2 and starts again in Q3.
func TestLeaderboardAndMilestonesAcrossAQuarter(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.must(201, "PUT", "/api/v1/crews/north", map[string]any{"name": "North", "depot_lat": 45.5, "depot_lon": -122.66,
			"members": []any{map[string]any{"external_id": "sam", "name": "Sam Ortiz"}, map[string]any{"external_id": "ana", "name": "Ana Lee"},
				map[string]any{"external_id": "zed", "name": "Zed Young"}}})
		h.household("angie", "ben", "cleo", "dan")
		for _, c := range []string{"angie", "ben", "cleo", "dan"} {
			h.stopVisit(c, "2026-03-31", 1)
		}
		crewKey := h.keys[tenant.RoleCrew]
		golf := map[string]any{"name": "Q golf day", "metric": "pitches", "target": 2, "period": "quarter", "reward": "team golf day"}
		if r := h.do("POST", "/api/v1/crew/milestones", crewKey, golf); r.Status != 403 {
			t.Fatalf("crew created a milestone: %d", r.Status)
		}
		if r := h.do("POST", "/api/v1/crew/milestones", h.keys[tenant.RoleAdmin], map[string]any{"name": "x", "metric": "smiles", "target": 0, "period": "week"}); r.Status != 422 ||
			r.field("metric") == "" || r.field("target") == "" || r.field("period") == "" {
			t.Fatalf("bad milestone: %d %s", r.Status, r.Raw)
		}
		h.clock.Set(time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC))
		h.must(201, "POST", "/api/v1/crew/milestones", golf)
		h.must(409, "POST", "/api/v1/crew/milestones", golf)
		pitch := func(visit, member string) {
			t.Helper()
			if r := h.do("POST", "/api/v1/pitches", crewKey, map[string]any{"visit_id": "v-" + visit + "-2026-03-31", "crew_member_id": member, "outcome": "pitched"}); r.Status != 201 {
				t.Fatalf("pitch: %d %s", r.Status, r.Raw)
			}
		}
		h.clock.Set(time.Date(2026, 4, 1, 6, 30, 0, 0, time.UTC)) // 23:30 on 31 March in Los Angeles
		pitch("angie", "sam")
		h.clock.Set(time.Date(2026, 4, 1, 7, 30, 0, 0, time.UTC)) // 00:30 on 1 April
		pitch("ben", "ana")
		progress := func(date string) map[string]any {
			t.Helper()
			ms := h.do("GET", "/api/v1/crew/milestones?date="+date, crewKey, nil)
			if ms.Status != 200 || len(ms.Body["milestones"].([]any)) != 1 {
				t.Fatalf("milestones: %d %s", ms.Status, ms.Raw)
			}
			return ms.Body["milestones"].([]any)[0].(map[string]any)
		}
		if m := progress("2026-03-31"); m["progress"] != 1.0 || m["reached"] != false || m["current"].(map[string]any)["period_key"] != "2026-Q1" {
			t.Fatalf("Q1: %v", m)
		}
		if m := progress(""); m["progress"] != 1.0 || m["reached"] != false || m["current"].(map[string]any)["period_key"] != "2026-Q2" {
			t.Fatalf("Q2 before: %v", m)
		}
		events := func() int64 {
			var n int64
			s.DB.Raw(`SELECT COUNT(*) FROM outbox_events WHERE kind = 'crew.milestone_reached'`).Scan(&n)
			return n
		}
		if events() != 0 {
			t.Fatal("announced early")
		}
		pitch("cleo", "sam")
		pitch("dan", "zed")
		if m := progress(""); m["progress"] != 3.0 || m["reached"] != true || m["reached_at"] == nil || m["reward"] != "team golf day" {
			t.Fatalf("Q2 after: %v", m)
		}
		if events() != 1 {
			t.Fatalf("%d milestone events, want 1", events())
		}
		q2 := h.do("GET", "/api/v1/crew/leaderboard?period=quarter&date=2026-04-15", crewKey, nil)
		var names []string
		for _, m := range q2.Body["members"].([]any) {
			x := m.(map[string]any)
			names = append(names, fmt.Sprintf("%.0f %s %.0f", x["rank"], x["crew_member_id"], x["points"]))
		}
		if q2.Status != 200 || q2.Body["period_key"] != "2026-Q2" || strings.Join(names, ", ") != "1 ana 1, 1 sam 1, 1 zed 1" {
			t.Fatalf("Q2 board: %v %s", names, q2.Raw)
		}
		q1 := h.must(200, "GET", "/api/v1/crew/leaderboard?period=quarter&date=2026-03-31", nil)
		top := q1.Body["members"].([]any)
		if first := top[0].(map[string]any); first["crew_member_id"] != "sam" || first["points"] != 1.0 || top[1].(map[string]any)["points"] != 0.0 {
			t.Fatalf("Q1 board: %s", q1.Raw)
		}
		year := h.must(200, "GET", "/api/v1/crew/leaderboard?period=year", nil)
		if first := year.Body["members"].([]any)[0].(map[string]any); first["crew_member_id"] != "sam" || first["year_points"] != 2.0 || first["year_bonus_cents"] != 20.0 {
			t.Fatalf("year board: %s", year.Raw)
		}
		if r := h.do("GET", "/api/v1/crew/leaderboard?period=week", crewKey, nil); r.Status != 422 || r.field("period") == "" {
			t.Fatalf("bad period: %d %s", r.Status, r.Raw)
		}
		// Q3: the count starts again.
		h.clock.Set(time.Date(2026, 7, 1, 16, 0, 0, 0, time.UTC))
		if m := progress(""); m["progress"] != 0.0 || m["reached"] != false || m["current"].(map[string]any)["period_key"] != "2026-Q3" {
			t.Fatalf("Q3: %v", m)
		}
	})
}
