package httpapi_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// Stories of issue 14: the pitch gate was advisory (7), and a later rating
// erased a complaint (8).

// tuesdayRoute is Greenway's North crew (Sam and Ana) and South crew (Kim)
// on Tuesday 5 May 2026, 10:00 in Los Angeles: Angie, Ben, Cleo and Dan on
// North's route, each with a visit on 25 April too.
func tuesdayRoute(h *harness) {
	h.t.Helper()
	h.must(201, "PUT", "/api/v1/crews/north", map[string]any{"name": "North", "depot_lat": 45.5, "depot_lon": -122.66,
		"members": []any{map[string]any{"external_id": "sam", "name": "Sam Ortiz"}, map[string]any{"external_id": "ana", "name": "Ana Lee"}}})
	h.must(201, "PUT", "/api/v1/crews/south", map[string]any{"name": "South", "depot_lat": 45.45, "depot_lon": -122.6,
		"members": []any{map[string]any{"external_id": "kim", "name": "Kim Park"}}})
	h.household("angie", "ben", "cleo", "dan")
	for i, c := range []string{"angie", "ben", "cleo", "dan"} {
		h.stopVisit(c, "2026-04-25", i+1)
		h.stopVisit(c, "2026-05-05", i+1)
	}
	h.clock.Set(time.Date(2026, 5, 5, 17, 0, 0, 0, time.UTC))
}

func (h *harness) pitchAs(key, visit, member, outcome string, friend map[string]any) response {
	h.t.Helper()
	body := map[string]any{"visit_id": visit, "crew_member_id": member, "outcome": outcome}
	if friend != nil {
		body["referee"] = friend
	}
	return h.do("POST", "/api/v1/pitches", key, body)
}

// pitchPoints is the points of each ledger entry of a pitch answer.
func pitchPoints(r response) []float64 {
	var out []float64
	for _, e := range r.Body["points"].([]any) {
		out = append(out, e.(map[string]any)["points"].(float64))
	}
	return out
}

// list is the array at a member of an answer (nil when missing).
func list(m map[string]any, name string) []any {
	l, _ := m[name].([]any)
	return l
}

// object is the object at a member of an answer (empty when missing).
func object(m map[string]any, name string) map[string]any {
	o, _ := m[name].(map[string]any)
	if o == nil {
		o = map[string]any{}
	}
	return o
}

func (h *harness) standing(member string) map[string]any {
	h.t.Helper()
	for _, m := range h.must(200, "GET", "/api/v1/crew/leaderboard?period=month", nil).Body["members"].([]any) {
		if st := m.(map[string]any); st["crew_member_id"] == member {
			return st
		}
	}
	h.t.Fatalf("%s is not on the leaderboard", member)
	return nil
}

// Defect 7: Sam pitches his whole route. Angie was pitched ten days ago,
// Ben rated 2, Cleo complained; only Dan is a stop to pitch. Every pitch is
// recorded, only Dan's earns a point, and Ana pitching Dan after Sam earns
// nothing: one pitch per visit.
func TestIssue14PitchesWhereTheRuleSaysSkipEarnNoPoints(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		tuesdayRoute(h)
		crewKey := h.keys[tenant.RoleCrew]
		h.clock.Set(time.Date(2026, 4, 25, 20, 0, 0, 0, time.UTC))
		if r := h.pitchAs(crewKey, "v-angie-2026-04-25", "sam", "pitched", nil); r.Status != 201 || pitchPoints(r)[0] != 1 {
			t.Fatalf("Angie in April: %d %s", r.Status, r.Raw)
		}
		h.must(201, "POST", "/api/v1/visits/v-ben-2026-04-25/rating", map[string]any{"score": 2, "comment": "missed the back yard"})
		h.must(201, "POST", "/api/v1/visits/v-cleo-2026-04-25/rating", map[string]any{"score": 1, "complaint": true, "comment": "they broke my fence"})
		h.clock.Set(time.Date(2026, 5, 5, 17, 0, 0, 0, time.UTC))
		for c, why := range map[string]string{
			"angie": "pitched on 2026-04-25 (10 days ago)",
			"ben":   "last rating was 2 of 5",
			"cleo":  `open complaint: "they broke my fence"`,
			"dan":   "",
		} {
			r := h.pitchAs(crewKey, "v-"+c+"-2026-05-05", "sam", "pitched", nil)
			if r.Status != 201 {
				t.Fatalf("%s: %d %s", c, r.Status, r.Raw)
			}
			entry := r.Body["points"].([]any)[0].(map[string]any)
			if why == "" {
				if entry["points"] != 1.0 || r.Body["skip_reason"] != nil {
					t.Errorf("Dan, a stop to pitch: %s", r.Raw)
				}
				continue
			}
			skip, _ := r.Body["skip_reason"].(string)
			if entry["points"] != 0.0 || !strings.Contains(skip, why) || !strings.Contains(entry["reason"].(string), "no points: "+why) {
				t.Errorf("%s, a stop to skip: %s", c, r.Raw)
			}
		}
		r := h.pitchAs(crewKey, "v-dan-2026-05-05", "ana", "pitched", nil)
		if skip, _ := r.Body["skip_reason"].(string); r.Status != 201 || pitchPoints(r)[0] != 0 || !strings.Contains(skip, "Sam Ortiz already pitched at visit v-dan-2026-05-05") {
			t.Fatalf("Ana after Sam at Dan's: %d %s", r.Status, r.Raw)
		}
		if n := storetest.Count(t, s.DB, "pitches"); n != 6 {
			t.Fatalf("%d pitches recorded, want all 6", n)
		}
		// May: four pitches, one point (April's pitch at Angie's is April's).
		if sam := h.standing("sam"); sam["points"] != 1.0 || sam["pitches"] != 4.0 {
			t.Fatalf("Sam's month: %v", sam)
		}
		if ana := h.standing("ana"); ana["points"] != 0.0 || ana["pitches"] != 1.0 {
			t.Fatalf("Ana's month: %v", ana)
		}
	})
}

// Defect 7: only the visit's crew pitches, and only on the day or after: a
// South member at North's stop and a pitch at next week's visit are 422
// naming the field, and nothing is recorded.
func TestIssue14OnlyTheVisitsCrewPitchesAndNotAhead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		tuesdayRoute(h)
		h.stopVisit("dan", "2026-05-12", 1)
		crewKey := h.keys[tenant.RoleCrew]
		if r := h.pitchAs(crewKey, "v-dan-2026-05-05", "kim", "pitched", nil); r.Status != 422 || !strings.Contains(r.field("crew_member_id"), "not a member of the crew of visit v-dan-2026-05-05") {
			t.Fatalf("Kim at North's stop: %d %s", r.Status, r.Raw)
		}
		if r := h.pitchAs(crewKey, "v-dan-2026-05-12", "sam", "pitched", nil); r.Status != 422 || !strings.Contains(r.field("visit_id"), "after today") {
			t.Fatalf("next week's visit: %d %s", r.Status, r.Raw)
		}
		if n := storetest.Count(t, s.DB, "pitches") + storetest.Count(t, s.DB, "crew_points"); n != 0 {
			t.Fatalf("%d rows recorded by refused pitches", n)
		}
	})
}

// Defect 7: Angie "refers" her own phone at Sam's pitch; a dispatcher
// rejects it. The referral's points are taken back by a negative entry, the
// leaderboard stops counting it and the team's referrals milestone too.
func TestIssue14ARejectedSelfReferralLosesItsPoints(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		tuesdayRoute(h)
		angie := map[string]any{"phone": "+1 503 555 0142"}
		for k, v := range households["angie"] {
			angie[k] = v
		}
		h.must(200, "PUT", "/api/v1/customers/angie", angie)
		h.must(201, "POST", "/api/v1/crew/milestones", map[string]any{"name": "May friends", "metric": "referrals", "target": 5, "period": "month"})
		crewKey := h.keys[tenant.RoleCrew]
		self := map[string]any{"name": "Angie's cousin", "phone": "(503) 555-0142"}
		r := h.pitchAs(crewKey, "v-angie-2026-05-05", "sam", "referral_given", self)
		if r.Status != 201 || fmt.Sprint(pitchPoints(r)) != "[1 5]" {
			t.Fatalf("referral given: %d %s", r.Status, r.Raw)
		}
		refPath := fmt.Sprintf("/api/v1/referrals/%.0f", r.Body["referral_id"].(float64))
		if st := h.must(200, "GET", refPath, nil).Body["status"]; st != "pending_review" {
			t.Fatalf("a self-referral is %v", st)
		}
		if r := h.do("POST", refPath+"/reject", h.keys[tenant.RoleDispatcher], map[string]any{"reason": "same phone as Angie"}); r.Status != 200 {
			t.Fatalf("reject: %d %s", r.Status, r.Raw)
		}
		again := h.pitchAs(crewKey, "v-angie-2026-05-05", "sam", "referral_given", self)
		if again.Status != 200 || fmt.Sprint(pitchPoints(again)) != "[1 5 -5]" ||
			!strings.Contains(again.Body["points"].([]any)[2].(map[string]any)["reason"].(string), "rejected: same phone as Angie") {
			t.Fatalf("the pitch after the rejection: %d %s", again.Status, again.Raw)
		}
		if sam := h.standing("sam"); sam["points"] != 1.0 || sam["referrals"] != 0.0 || sam["pitches"] != 1.0 {
			t.Fatalf("Sam's month: %v", sam)
		}
		m := h.must(200, "GET", "/api/v1/crew/milestones", nil).Body["milestones"].([]any)[0].(map[string]any)
		if m["progress"] != 0.0 {
			t.Fatalf("the referrals milestone counts a rejected referral: %v", m)
		}
	})
}

// Defect 7: the leaderboard's pitches are pitches. With no points per pitch
// Sam's two pitches are still two.
func TestIssue14TheLeaderboardCountsPitchesNotPointEntries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		tuesdayRoute(h)
		h.must(200, "PUT", "/api/v1/program", map[string]any{"points_per_pitch": 0})
		crewKey := h.keys[tenant.RoleCrew]
		for _, c := range []string{"angie", "dan"} {
			if r := h.pitchAs(crewKey, "v-"+c+"-2026-05-05", "sam", "pitched", nil); r.Status != 201 {
				t.Fatalf("%s: %d %s", c, r.Status, r.Raw)
			}
		}
		if sam := h.standing("sam"); sam["pitches"] != 2.0 || sam["points"] != 0.0 {
			t.Fatalf("Sam's month: %v", sam)
		}
	})
}

// Bad input: a pitch or a rating is checked in full before a repeat is
// answered as the stored one.
func TestIssue14ARepeatWithAnInvalidBodyIsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		tuesdayRoute(h)
		crewKey := h.keys[tenant.RoleCrew]
		friend := map[string]any{"name": "Dana Friend", "phone": "(503) 555-0190"}
		if r := h.pitchAs(crewKey, "v-ben-2026-05-05", "sam", "referral_given", friend); r.Status != 201 {
			t.Fatalf("referral given: %d %s", r.Status, r.Raw)
		}
		for field, bad := range map[string]map[string]any{
			"referee.name":  {"name": " ", "phone": "(503) 555-0190"},
			"referee.email": {"name": "Dana Friend", "email": "dana at example"},
			"referee.phone": {"name": "Dana Friend"},
		} {
			if r := h.pitchAs(crewKey, "v-ben-2026-05-05", "sam", "referral_given", bad); r.Status != 422 || r.field(field) == "" {
				t.Errorf("the same pitch with %v: %d %s", bad, r.Status, r.Raw)
			}
		}
		if r := h.pitchAs(crewKey, "v-ben-2026-05-05", "sam", "referral_given", friend); r.Status != 200 {
			t.Fatalf("the same pitch, valid: %d %s", r.Status, r.Raw)
		}
		rating := map[string]any{"score": 5, "comment": "lovely edges"}
		h.must(201, "POST", "/api/v1/visits/v-ben-2026-05-05/rating", rating)
		if r := h.must(200, "POST", "/api/v1/visits/v-ben-2026-05-05/rating", rating); len(list(r.Body, "history")) != 1 {
			t.Fatalf("a repeated rating added one: %s", r.Raw)
		}
		for _, bad := range []struct {
			body   any
			fields []string
		}{
			{map[string]any{"score": 9, "comment": strings.Repeat("x", 2001)}, []string{"score", "comment"}},
			{map[string]any{"score": 5, "comment": "lovely edges", "stars": 5}, []string{"stars"}},
			{map[string]any{"score": 4.5}, []string{"score"}},
			{map[string]any{"score": 5, "comment": "lovely edges", "complaint": "no"}, []string{"complaint"}},
		} {
			r := h.do("POST", "/api/v1/visits/v-ben-2026-05-05/rating", crewKey, bad.body)
			for _, f := range bad.fields {
				if r.Status != 422 || r.field(f) == "" {
					t.Errorf("%v: %d %s, want 422 naming %s", bad.body, r.Status, r.Raw, f)
				}
			}
		}
		if n := storetest.Count(t, s.DB, "ratings"); n != 1 {
			t.Fatalf("%d ratings", n)
		}
	})
}

// Defect 8: Cleo complains "they broke my fence". A crew key, the
// scheduler and a dispatcher then each post a 5: every rating is kept, the
// complaint stays open, the crew reads it on Cleo's skipped stop and a pitch
// there earns nothing — until a dispatcher resolves it with a note.
func TestIssue14ALaterFiveDoesNotEraseAComplaint(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		tuesdayRoute(h)
		const visit = "/api/v1/visits/v-cleo-2026-04-25/rating"
		if r := h.do("POST", visit, h.keys[tenant.RoleIntegration], map[string]any{"score": 1, "complaint": true, "comment": "they broke my fence"}); r.Status != 201 {
			t.Fatalf("the complaint: %d %s", r.Status, r.Raw)
		}
		for _, role := range []string{tenant.RoleCrew, tenant.RoleIntegration, tenant.RoleDispatcher} {
			if r := h.do("POST", visit, h.keys[role], map[string]any{"score": 5, "comment": "all good, " + role}); r.Status != 201 || r.Body["open_complaint"] != true {
				t.Errorf("a 5 from %s: %d %s", role, r.Status, r.Raw)
			}
		}
		got := h.do("GET", visit, h.keys[tenant.RoleCrew], nil)
		history := list(got.Body, "history")
		if got.Status != 200 || got.Body["open_complaint"] != true || len(history) != 4 ||
			object(got.Body, "latest")["score"] != 5.0 || history[3].(map[string]any)["comment"] != "they broke my fence" {
			t.Fatalf("the visit's ratings: %d %s", got.Status, got.Raw)
		}
		day := h.do("GET", "/api/v1/crews/north/today", h.keys[tenant.RoleCrew], nil)
		cleo := stopOf(t, day, "cleo")
		open := list(object(cleo, "rating"), "open_complaints")
		if cleo["action"] != "skip" || !strings.Contains(cleo["reason"].(string), `"they broke my fence"`) || len(open) != 1 ||
			open[0].(map[string]any)["comment"] != "they broke my fence" {
			t.Fatalf("Cleo's stop: %v", cleo)
		}
		if r := h.pitchAs(h.keys[tenant.RoleCrew], "v-cleo-2026-05-05", "sam", "pitched", nil); r.Status != 201 || pitchPoints(r)[0] != 0 {
			t.Fatalf("a pitch at Cleo's: %d %s", r.Status, r.Raw)
		}
		if r := h.do("POST", visit+"/resolve", h.keys[tenant.RoleDispatcher], map[string]any{}); r.Status != 422 || r.field("note") == "" {
			t.Fatalf("resolve without a note: %d %s", r.Status, r.Raw)
		}
		if r := h.do("POST", visit+"/resolve", h.keys[tenant.RoleCrew], map[string]any{"note": "fixed it myself"}); r.Status != 403 {
			t.Fatalf("a crew key resolved: %d %s", r.Status, r.Raw)
		}
		if r := h.do("GET", visit, h.keys[tenant.RoleDispatcher], nil); r.Body["open_complaint"] != true {
			t.Fatalf("refused resolves closed it: %s", r.Raw)
		}
		r := h.do("POST", visit+"/resolve", h.keys[tenant.RoleDispatcher], map[string]any{"note": "fence post replaced on 6 May"})
		if h := list(r.Body, "history"); r.Status != 200 || len(h) != 4 {
			t.Fatalf("resolve: %d %s", r.Status, r.Raw)
		}
		complaint := list(r.Body, "history")[3].(map[string]any)
		by, _ := complaint["resolved_by"].(string)
		if r.Body["open_complaint"] != false || complaint["resolution_note"] != "fence post replaced on 6 May" ||
			complaint["resolved_at"] == nil || !strings.HasPrefix(by, "dispatcher key #") {
			t.Fatalf("resolve: %d %s", r.Status, r.Raw)
		}
		day = h.do("GET", "/api/v1/crews/north/today", h.keys[tenant.RoleCrew], nil)
		if cleo := stopOf(t, day, "cleo"); !strings.Contains(cleo["reason"].(string), "pitched on 2026-05-05") || strings.Contains(cleo["reason"].(string), "complaint") {
			t.Fatalf("Cleo after the resolution (pitched today, so still a skip, but not for the complaint): %v", cleo)
		}
		if n := storetest.Count(t, s.DB, "ratings"); n != 4 {
			t.Fatalf("%d ratings", n)
		}
	})
}
