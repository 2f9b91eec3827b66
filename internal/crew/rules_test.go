package crew_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/app"
	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/apptest"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/crew"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/referral"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
)

// world is Greenway (Los Angeles) on Tuesday 5 May 2026, 09:00: the North
// crew (Sam Ortiz, Ana Lee) and the South crew (Kim Park).
type world struct {
	t      *testing.T
	a      *app.App
	s      *store.Store
	clock  *clock.Fixed
	tenant string
	loc    *time.Location
	n      int
}

var tuesday = time.Date(2026, 5, 5, 16, 0, 0, 0, time.UTC)

func newWorld(t *testing.T, s *store.Store) *world {
	t.Helper()
	c := clock.NewFixed(tuesday)
	a, ten := apptest.New(t, s, c, "Greenway")
	loc, _ := time.LoadLocation("America/Los_Angeles")
	w := &world{t: t, a: a, s: s, clock: c, tenant: ten.ID, loc: loc}
	w.crew("north", mirror.MemberInput{ExternalID: "sam", Name: "Sam Ortiz"}, mirror.MemberInput{ExternalID: "ana", Name: "Ana Lee"})
	w.crew("south", mirror.MemberInput{ExternalID: "kim", Name: "Kim Park"})
	return w
}

func (w *world) crew(id string, members ...mirror.MemberInput) {
	w.t.Helper()
	lat, lon := 45.5, -122.66
	if _, _, err := w.a.Mirror.PutCrew(context.Background(), w.tenant, id, mirror.CrewInput{Name: id, DepotLat: &lat, DepotLon: &lon, Members: members}); err != nil {
		w.t.Fatal(err)
	}
}

// household adds a customer with a phone, a visit of the North crew on 25
// April (v-<id>-0425) and one today (v-<id>-0505).
func (w *world) household(id, name string) {
	w.t.Helper()
	w.n++
	lat, lon := 45.40+float64(w.n)*0.01, -122.60
	phone := fmt.Sprintf("+1 503 555 %04d", 100+w.n)
	if _, _, err := w.a.Mirror.PutCustomer(context.Background(), w.tenant, id, mirror.CustomerInput{Name: name, Phone: phone,
		Address: fmt.Sprintf("%d SE Oak St, Portland", 10+w.n), Lat: &lat, Lon: &lon, ConsentSameDay: true}); err != nil {
		w.t.Fatal(err)
	}
	w.visit("v-"+id+"-0425", id, "north", "2026-04-25", mirror.VisitCompleted)
	w.visit("v-"+id+"-0505", id, "north", "2026-05-05", mirror.VisitScheduled)
}

func (w *world) visit(id, customer, crewID, day, status string) {
	w.t.Helper()
	if _, _, err := w.a.Mirror.PutVisit(context.Background(), w.tenant, w.loc, id, mirror.VisitInput{CustomerID: customer, CrewID: &crewID,
		ServiceDate: day, Status: status, PriceCents: 4500}); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) pitch(visit, member, outcome string, friend *referral.RefereeInput) (crew.Pitch, bool, error) {
	return w.a.Crew.LogPitch(context.Background(), w.tenant, "test", crew.PitchInput{VisitID: visit, CrewMemberID: member, Outcome: outcome, Referee: friend})
}

func (w *world) mustPitch(visit, member, outcome string, friend *referral.RefereeInput) crew.Pitch {
	w.t.Helper()
	p, created, err := w.pitch(visit, member, outcome, friend)
	if err != nil || !created {
		w.t.Fatalf("pitch at %s by %s: created %v, %v", visit, member, created, err)
	}
	return p
}

// rate rates a visit in the evening of 25 April, then comes back to today.
func (w *world) rate(visit string, score int, comment string, complaint bool) {
	w.t.Helper()
	w.clock.Set(time.Date(2026, 4, 25, 20, 0, 0, 0, time.UTC))
	defer w.clock.Set(tuesday)
	if _, _, err := w.a.Crew.Rate(context.Background(), w.tenant, visit, crew.RatingInput{Score: &score, Comment: comment, Complaint: complaint}); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) resolve(visit, note string) (crew.VisitRatings, error) {
	return w.a.Crew.ResolveComplaint(context.Background(), w.tenant, visit, "dispatcher key #2", crew.ResolveInput{Note: note})
}

// points is a member's balance in the ledger.
func (w *world) points(member string) int64 {
	w.t.Helper()
	var n int64
	if err := w.s.DB.Raw(`SELECT COALESCE(SUM(p.points), 0) FROM crew_points p JOIN crew_members m ON m.id = p.crew_member_id
		WHERE p.tenant_id = ? AND m.external_id = ?`, w.tenant, member).Scan(&n).Error; err != nil {
		w.t.Fatal(err)
	}
	return n
}

func (w *world) standing(member string) crew.Standing {
	w.t.Helper()
	lb, err := w.a.Crew.Leaderboard(context.Background(), w.tenant, crew.PeriodMonth, "")
	if err != nil {
		w.t.Fatal(err)
	}
	for _, st := range lb.Members {
		if st.CrewMemberID == member {
			return st
		}
	}
	w.t.Fatalf("%s is not on the leaderboard", member)
	return crew.Standing{}
}

func (w *world) stop(customer string) crew.Stop {
	w.t.Helper()
	day, err := w.a.Crew.Today(context.Background(), w.tenant, "north", "", "", w.a.Mirror.Customer)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, st := range day.Stops {
		if st.Customer.ExternalID == customer {
			return st
		}
	}
	w.t.Fatalf("no stop for %s today", customer)
	return crew.Stop{}
}

// fields are the fields a validation error names.
func fields(t *testing.T, err error) apperror.Fields {
	t.Helper()
	ae, ok := apperror.As(err)
	if !ok || ae.Code != apperror.CodeValidation {
		t.Fatalf("want a validation error, got %v", err)
	}
	return ae.Fields
}

// Each reason the rule gives to skip a stop: the pitch logged there is kept
// and earns 0 points, its ledger entry saying why; where the rule says
// pitch, it earns points_per_pitch.
func TestAPitchWhereTheRuleSaysSkipEarnsNothingAndSaysWhy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s)
		cases := []struct {
			name   string
			before func(w *world, c string)
			points int
			skip   string // "" when the rule says pitch
		}{
			{"never rated", nil, 1, ""},
			{"rated 5", func(w *world, c string) { w.rate("v-"+c+"-0425", 5, "", false) }, 1, ""},
			{"rated 4", func(w *world, c string) { w.rate("v-"+c+"-0425", 4, "", false) }, 1, ""},
			{"rated 3", func(w *world, c string) { w.rate("v-"+c+"-0425", 3, "ok I guess", false) }, 0, "last rating was 3 of 5"},
			{"rated 2", func(w *world, c string) { w.rate("v-"+c+"-0425", 2, "missed the back yard", false) }, 0, "last rating was 2 of 5"},
			{"rated 1", func(w *world, c string) { w.rate("v-"+c+"-0425", 1, "", false) }, 0, "last rating was 1 of 5"},
			{"open complaint", func(w *world, c string) { w.rate("v-"+c+"-0425", 1, "they broke my fence", true) }, 0,
				`open complaint: "they broke my fence" (rated 1 of 5 on 2026-04-25, visit v-c`},
			{"a 5 after the complaint", func(w *world, c string) {
				w.rate("v-"+c+"-0425", 1, "they broke my fence", true)
				w.rate("v-"+c+"-0425", 5, "fence fixed, thanks", false)
			}, 0, `open complaint: "they broke my fence"`},
			{"complaint resolved", func(w *world, c string) {
				w.rate("v-"+c+"-0425", 4, "gate left open", true)
				if _, err := w.resolve("v-"+c+"-0425", "called them, gate latch replaced"); err != nil {
					t.Fatal(err)
				}
			}, 1, ""},
			{"pitched 10 days ago", func(w *world, c string) {
				w.clock.Set(time.Date(2026, 4, 25, 20, 0, 0, 0, time.UTC))
				defer w.clock.Set(tuesday)
				w.mustPitch("v-"+c+"-0425", "ana", crew.OutcomePitched, nil)
			}, 0, "pitched on 2026-04-25 (10 days ago); the program waits 90 days"},
			{"another member pitched at this visit", func(w *world, c string) {
				w.mustPitch("v-"+c+"-0505", "ana", crew.OutcomePitched, nil)
			}, 0, "Ana Lee already pitched at visit v-c"},
		}
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				id := fmt.Sprintf("c%d", i)
				w.household(id, "Casey "+c.name)
				if c.before != nil {
					c.before(w, id)
				}
				before := storetest.Count(t, s.DB, "pitches")
				p := w.mustPitch("v-"+id+"-0505", "sam", crew.OutcomePitched, nil)
				if storetest.Count(t, s.DB, "pitches") != before+1 {
					t.Fatal("the pitch was not recorded")
				}
				if len(p.Points) != 1 || p.Points[0].Kind != crew.PointsPitch || p.Points[0].Points != c.points {
					t.Fatalf("points %+v, want one pitch entry of %d", p.Points, c.points)
				}
				if c.skip == "" {
					if p.SkipReason != nil || strings.Contains(p.Points[0].Reason, "no points") {
						t.Fatalf("the rule said pitch, yet: %v / %q", p.SkipReason, p.Points[0].Reason)
					}
					return
				}
				if p.SkipReason == nil || !strings.Contains(*p.SkipReason, c.skip) {
					t.Fatalf("skip reason %v, want one saying %q", p.SkipReason, c.skip)
				}
				if r := p.Points[0].Reason; !strings.Contains(r, "pitched the referral program to Casey") || !strings.Contains(r, "no points: "+c.skip) {
					t.Fatalf("ledger reason %q", r)
				}
			})
		}
	})
}

// Two members of the crew pitching the same customer at the same moment:
// both pitches are kept, one earns the point.
func TestTwoMembersPitchingAtOnceEarnOnePoint(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s)
		w.household("angie", "Angie Baker")
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		for _, m := range []string{"sam", "ana"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, err := w.pitch("v-angie-0505", m, crew.OutcomePitched, nil)
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if n := storetest.Count(t, s.DB, "pitches"); n != 2 {
			t.Fatalf("%d pitches, want both", n)
		}
		if got := w.points("sam") + w.points("ana"); got != 1 {
			t.Fatalf("%d points between them, want 1", got)
		}
	})
}

// One pitch per visit and member, by a member of the visit's crew, at a
// visit that has happened; every field is checked before a repeat is
// answered with the pitch stored.
func TestAPitchIsOncePerVisitAndMemberByItsCrewAndNotAhead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s)
		ctx := context.Background()
		w.household("angie", "Angie Baker")
		w.household("ben", "Ben Okafor")
		w.visit("v-angie-0512", "angie", "north", "2026-05-12", mirror.VisitScheduled)
		first := w.mustPitch("v-angie-0505", "sam", crew.OutcomePitched, nil)
		again, created, err := w.pitch("v-angie-0505", "sam", crew.OutcomePitched, nil)
		if err != nil || created || again.ID != first.ID || len(again.Points) != 1 {
			t.Fatalf("the same pitch again: created %v, %+v, %v", created, again, err)
		}
		if _, _, err := w.pitch("v-angie-0505", "sam", crew.OutcomeDeclined, nil); !apperror.HasCode(err, apperror.CodeConflict) {
			t.Fatalf("another outcome for the same pitch: %v", err)
		}
		refused := []struct {
			name, visit, member, field, says string
		}{
			{"a member of another crew", "v-angie-0505", "kim", "crew_member_id", "not a member of the crew of visit v-angie-0505"},
			{"a visit next week", "v-angie-0512", "sam", "visit_id", "is on 2026-05-12, after today (2026-05-05)"},
			{"an unknown visit", "v-nobody", "sam", "visit_id", "no visit with id v-nobody"},
			{"an unknown member", "v-angie-0505", "zed", "crew_member_id", "no crew member with id zed"},
		}
		for _, c := range refused {
			_, _, err := w.pitch(c.visit, c.member, crew.OutcomePitched, nil)
			if f := fields(t, err); !strings.Contains(f[c.field], c.says) {
				t.Errorf("%s: fields %v, want %s saying %q", c.name, f, c.field, c.says)
			}
		}
		// Ana leaves the North crew: she no longer pitches at its stops.
		w.crew("north", mirror.MemberInput{ExternalID: "sam", Name: "Sam Ortiz"})
		if _, _, err := w.pitch("v-ben-0505", "ana", crew.OutcomePitched, nil); fields(t, err)["crew_member_id"] == "" {
			t.Errorf("a member who left the crew pitched: %v", err)
		}
		if n := storetest.Count(t, s.DB, "pitches"); n != 1 {
			t.Fatalf("%d pitches after the refused ones", n)
		}
		// Every invalid field at once.
		_, _, err = w.a.Crew.LogPitch(ctx, w.tenant, "test", crew.PitchInput{VisitID: "has space", CrewMemberID: "", Outcome: "maybe"})
		if f := fields(t, err); f["visit_id"] == "" || f["crew_member_id"] == "" || f["outcome"] == "" {
			t.Errorf("fields %v", f)
		}
		// A friend given at Ben's, then the same pitch again with a friend the
		// engine would refuse: 422 naming the field, not the stored pitch.
		friend := referral.RefereeInput{Name: "Dana Friend", Phone: "(503) 555-0190"}
		w.mustPitch("v-ben-0505", "sam", crew.OutcomeReferralGiven, &friend)
		for _, bad := range []struct {
			friend referral.RefereeInput
			field  string
		}{
			{referral.RefereeInput{Name: "", Phone: "(503) 555-0190"}, "referee.name"},
			{referral.RefereeInput{Name: "Dana Friend", Email: "not an address"}, "referee.email"},
			{referral.RefereeInput{Name: "Dana Friend"}, "referee.phone"},
		} {
			_, _, err := w.pitch("v-ben-0505", "sam", crew.OutcomeReferralGiven, &bad.friend)
			if fields(t, err)[bad.field] == "" {
				t.Errorf("%+v: %v, want %s named", bad.friend, err, bad.field)
			}
		}
		if n := storetest.Count(t, s.DB, "referrals"); n != 1 {
			t.Fatalf("%d referrals: checking a friend recorded one", n)
		}
		if _, created, err := w.pitch("v-ben-0505", "sam", crew.OutcomeReferralGiven, &friend); err != nil || created {
			t.Fatalf("the valid repeat: %v %v", created, err)
		}
	})
}

// A friend given on site earns points_per_referral; when the referral is
// rejected (Angie "referred" her own phone) or closed as a duplicate, a
// negative entry takes them back, once, with the reason.
func TestReferralPointsAreTakenBackWhenTheReferralNoLongerCounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s)
		ctx := context.Background()
		w.household("angie", "Angie Baker")
		w.household("ben", "Ben Okafor")
		self := referral.RefereeInput{Name: "Angie's sister", Phone: "+1 503 555 0101"} // Angie's own phone
		p := w.mustPitch("v-angie-0505", "sam", crew.OutcomeReferralGiven, &self)
		if p.ReferralID == nil || len(p.Points) != 2 || w.points("sam") != 6 {
			t.Fatalf("referral given: %+v, %d points", p, w.points("sam"))
		}
		ref, err := w.a.Referrals.Get(ctx, w.tenant, *p.ReferralID)
		if err != nil || ref.Status != referral.StatusPendingReview {
			t.Fatalf("a self-referral waits for review: %+v %v", ref, err)
		}
		if _, err := w.a.Referrals.Reject(ctx, w.tenant, ref.ID, "dispatcher key #2", referral.Decision{Reason: "same phone as Angie"}); err != nil {
			t.Fatal(err)
		}
		if got := w.points("sam"); got != 1 {
			t.Fatalf("Sam has %d points after the rejection, want the pitch's 1", got)
		}
		// The same closing delivered again takes nothing more.
		if err := s.DB.Transaction(func(tx *gorm.DB) error {
			return w.a.Crew.ReferralClosed(tx, w.tenant, ref.ID, referral.StatusRejected, "rejected: same phone as Angie")
		}); err != nil {
			t.Fatal(err)
		}
		replay, _, err := w.pitch("v-angie-0505", "sam", crew.OutcomeReferralGiven, &self)
		if err != nil || len(replay.Points) != 3 || w.points("sam") != 1 {
			t.Fatalf("after a second closing: %+v %v, %d points", replay.Points, err, w.points("sam"))
		}
		back := replay.Points[2]
		if back.Kind != crew.PointsReferralGiven || back.Points != -5 ||
			!strings.Contains(back.Reason, fmt.Sprintf("referral #%d no longer counts (rejected: same phone as Angie)", ref.ID)) {
			t.Fatalf("the reversal: %+v", back)
		}
		if st := w.standing("sam"); st.Points != 1 || st.Pitches != 1 || st.Referrals != 0 {
			t.Fatalf("Sam's standing: %+v", st)
		}
		// A duplicate (the engine's other closing) is taken back the same way.
		dup := w.mustPitch("v-ben-0505", "ana", crew.OutcomeReferralGiven, &referral.RefereeInput{Name: "Cleo Diaz", Phone: "(503) 555-0177"})
		if err := s.DB.Transaction(func(tx *gorm.DB) error {
			return w.a.Crew.ReferralClosed(tx, w.tenant, *dup.ReferralID, referral.StatusDuplicate, "Cleo Diaz was referred by Angie Baker first")
		}); err != nil {
			t.Fatal(err)
		}
		if got := w.points("ana"); got != 1 {
			t.Fatalf("Ana has %d points after the duplicate, want 1", got)
		}
	})
}

// The "referrals" milestone counts referrals that still count: a rejected
// one drops out of the progress.
func TestMilestonesCountOnlyReferralsThatStillCount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s)
		ctx := context.Background()
		for _, c := range []string{"angie", "ben", "cleo"} {
			w.household(c, strings.ToUpper(c[:1])+c[1:]+" Test")
		}
		if _, err := w.a.Crew.CreateMilestone(ctx, w.tenant, crew.MilestoneInput{Name: "Spring friends", Metric: crew.MetricReferrals,
			Target: 3, Period: crew.PeriodMonth, Reward: "pizza"}); err != nil {
			t.Fatal(err)
		}
		progress := func() crew.Progress {
			t.Helper()
			ms, err := w.a.Crew.Milestones(ctx, w.tenant, "")
			if err != nil || len(ms) != 1 {
				t.Fatalf("milestones %v %v", ms, err)
			}
			return ms[0]
		}
		w.mustPitch("v-angie-0505", "sam", crew.OutcomeReferralGiven, &referral.RefereeInput{Name: "Dana Friend", Phone: "(503) 555-0190"})
		self := w.mustPitch("v-ben-0505", "sam", crew.OutcomeReferralGiven, &referral.RefereeInput{Name: "Ben again", Phone: "+1 503 555 0102"})
		if p := progress(); p.Progress != 2 {
			t.Fatalf("progress %d, want 2", p.Progress)
		}
		if _, err := w.a.Referrals.Reject(ctx, w.tenant, *self.ReferralID, "dispatcher key #2", referral.Decision{Reason: "Ben's own phone"}); err != nil {
			t.Fatal(err)
		}
		if p := progress(); p.Progress != 1 {
			t.Fatalf("progress %d after the rejection, want 1", p.Progress)
		}
		w.mustPitch("v-cleo-0505", "ana", crew.OutcomeReferralGiven, &referral.RefereeInput{Name: "Eli Friend", Phone: "(503) 555-0191"})
		if p := progress(); p.Progress != 2 || p.Reached {
			t.Fatalf("two referrals that count reached a target of 3: %+v", p)
		}
		if st := w.standing("sam"); st.Referrals != 1 || st.Pitches != 2 {
			t.Fatalf("Sam's standing: %+v", st)
		}
	})
}

// The leaderboard counts pitches, not ledger entries: with no points per
// pitch (and at a stop to skip) a pitch is still a pitch.
func TestTheLeaderboardCountsPitches(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s)
		w.household("angie", "Angie Baker")
		w.household("ben", "Ben Okafor")
		prog, err := program.Get(s.DB, w.tenant)
		if err != nil {
			t.Fatal(err)
		}
		prog.PointsPerPitch = 0
		if _, err := program.Save(s.DB, prog, tuesday); err != nil {
			t.Fatal(err)
		}
		w.rate("v-ben-0425", 2, "", false)
		w.mustPitch("v-angie-0505", "sam", crew.OutcomePitched, nil)
		w.mustPitch("v-ben-0505", "sam", crew.OutcomeDeclined, nil)
		if st := w.standing("sam"); st.Pitches != 2 || st.Points != 0 {
			t.Fatalf("Sam's standing: %+v", st)
		}
	})
}

// A friend given at a stop the rule said to skip earns no points, nor does
// the friend's conversion.
func TestAReferralFromAStopToSkipEarnsNothingWhenItConverts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s)
		ctx := context.Background()
		w.household("cleo", "Cleo Diaz")
		w.rate("v-cleo-0425", 2, "mower left marks", false)
		p := w.mustPitch("v-cleo-0505", "sam", crew.OutcomeReferralGiven, &referral.RefereeInput{Name: "Gus Hill", Phone: "(503) 555-0199"})
		if len(p.Points) != 2 || p.Points[0].Points != 0 || p.Points[1].Points != 0 || !strings.Contains(p.Points[1].Reason, "no points: last rating was 2 of 5") {
			t.Fatalf("points at a stop to skip: %+v", p.Points)
		}
		lat, lon := 45.7, -122.5
		if _, _, err := w.a.Mirror.PutCustomer(ctx, w.tenant, "gus", mirror.CustomerInput{Name: "Gus Hill", Phone: "503.555.0199",
			Address: "9 NE Elm St, Portland", Lat: &lat, Lon: &lon}); err != nil {
			t.Fatal(err)
		}
		w.visit("v-gus-1", "gus", "north", "2026-05-05", mirror.VisitCompleted)
		ref, err := w.a.Referrals.Get(ctx, w.tenant, *p.ReferralID)
		if err != nil || ref.Status != referral.StatusConverted {
			t.Fatalf("the referral: %+v %v", ref, err)
		}
		var conv []crew.PointsEntry
		s.DB.Where("kind = ?", crew.PointsConversion).Find(&conv)
		if len(conv) != 1 || conv[0].Points != 0 || !strings.Contains(conv[0].Reason, "no points: the pitch that brought it was at a stop to skip") {
			t.Fatalf("conversion entries %+v", conv)
		}
		if st := w.standing("sam"); st.Points != 0 || st.Conversions != 1 {
			t.Fatalf("Sam's standing: %+v", st)
		}
	})
}

// Every rating is kept; a complaint stays open through a later 5 until a
// dispatcher resolves it with a note, and the crew reads it meanwhile.
func TestRatingsKeepTheirHistoryAndAComplaintStaysOpenUntilResolved(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s)
		ctx := context.Background()
		w.household("cleo", "Cleo Diaz")
		w.household("dan", "Dan Wu")
		rate := func(score int, comment string, complaint bool) (crew.VisitRatings, store.Upserted) {
			t.Helper()
			r, up, err := w.a.Crew.Rate(ctx, w.tenant, "v-cleo-0425", crew.RatingInput{Score: &score, Comment: comment, Complaint: complaint})
			if err != nil {
				t.Fatal(err)
			}
			return r, up
		}
		if r, up := rate(1, "they broke my fence", true); up != store.Created || len(r.History) != 1 || !r.OpenComplaint {
			t.Fatalf("the complaint: %s %+v", up, r)
		}
		if r, up := rate(1, "  they broke my fence ", true); up != store.Updated || len(r.History) != 1 {
			t.Fatalf("the same complaint sent again: %s %+v", up, r)
		}
		r, up := rate(5, "", false)
		if up != store.Created || len(r.History) != 2 || r.Latest.Score != 5 || !r.OpenComplaint || r.History[1].Comment != "they broke my fence" {
			t.Fatalf("a 5 after the complaint: %s %+v", up, r)
		}
		st := w.stop("cleo")
		if st.Pitch || !strings.Contains(st.Reason, `"they broke my fence"`) || len(st.Rating.OpenComplaints) != 1 ||
			st.Rating.OpenComplaints[0].Comment != "they broke my fence" || st.Rating.OpenComplaints[0].VisitID != "v-cleo-0425" {
			t.Fatalf("Cleo's stop: %+v", st)
		}
		for _, note := range []string{"", "   "} {
			if _, err := w.resolve("v-cleo-0425", note); fields(t, err)["note"] == "" {
				t.Fatalf("resolved without a note: %v", err)
			}
		}
		if r, _ := w.a.Crew.VisitRatings(ctx, w.tenant, "v-cleo-0425"); !r.OpenComplaint {
			t.Fatal("a refused resolve closed the complaint")
		}
		res, err := w.resolve("v-cleo-0425", "fence post replaced on 28 April")
		if err != nil || res.OpenComplaint || len(res.History) != 2 {
			t.Fatalf("resolve: %+v %v", res, err)
		}
		if c := res.History[1]; c.ResolvedAt == nil || c.ResolutionNote != "fence post replaced on 28 April" || c.ResolvedBy != "dispatcher key #2" {
			t.Fatalf("the resolved complaint: %+v", c)
		}
		if again, err := w.resolve("v-cleo-0425", "again"); err != nil || again.History[1].ResolutionNote != "fence post replaced on 28 April" {
			t.Fatalf("resolving again: %+v %v", again, err)
		}
		if st := w.stop("cleo"); !st.Pitch || len(st.Rating.OpenComplaints) != 0 {
			t.Fatalf("Cleo after the resolution: %+v", st)
		}
		// The same complaint once resolved, sent again, is a new complaint.
		if r, up := rate(1, "they broke my fence", true); up != store.Created || len(r.History) != 3 || !r.OpenComplaint {
			t.Fatalf("the complaint again: %s %+v", up, r)
		}
		// Bad input, and what cannot be resolved.
		six, long := 6, strings.Repeat("x", crew.MaxCommentLen+1)
		_, _, err = w.a.Crew.Rate(ctx, w.tenant, "v-dan-0425", crew.RatingInput{Score: &six, Comment: long})
		if f := fields(t, err); f["score"] == "" || f["comment"] == "" {
			t.Fatalf("fields %v", f)
		}
		if _, err := w.resolve("v-dan-0425", "nothing to resolve"); !apperror.HasCode(err, apperror.CodeNotFound) {
			t.Fatalf("a visit without ratings: %v", err)
		}
		w.rate("v-dan-0425", 5, "", false)
		if _, err := w.resolve("v-dan-0425", "nothing to resolve"); !apperror.HasCode(err, apperror.CodeUnprocessable) {
			t.Fatalf("a visit without a complaint: %v", err)
		}
		if _, err := w.resolve("v-nobody", "note"); !apperror.HasCode(err, apperror.CodeNotFound) {
			t.Fatalf("an unknown visit: %v", err)
		}
		if n := storetest.Count(t, s.DB, "ratings"); n != 4 {
			t.Fatalf("%d ratings stored, want 4", n)
		}
	})
}

// A friend already referred by another customer: the engine records the
// second referral as a duplicate at once, and the pitch that gave it earns
// nothing for it.
func TestAFriendGivenTwiceEarnsTheSecondPitchNothingForTheFriend(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s)
		w.household("angie", "Angie Baker")
		w.household("ben", "Ben Okafor")
		dana := referral.RefereeInput{Name: "Dana Friend", Phone: "(503) 555-0190"}
		w.mustPitch("v-angie-0505", "sam", crew.OutcomeReferralGiven, &dana)
		p := w.mustPitch("v-ben-0505", "ana", crew.OutcomeReferralGiven, &dana)
		ref, err := w.a.Referrals.Get(context.Background(), w.tenant, *p.ReferralID)
		if err != nil || ref.Status != referral.StatusDuplicate {
			t.Fatalf("the second referral of Dana: %+v %v", ref, err)
		}
		if len(p.Points) != 2 || p.Points[0].Points != 1 || p.Points[1].Points != 0 ||
			!strings.Contains(p.Points[1].Reason, fmt.Sprintf("no points: referral #%d is duplicate", ref.ID)) {
			t.Fatalf("Ana's points: %+v", p.Points)
		}
		if got := w.points("ana"); got != 1 {
			t.Fatalf("Ana has %d points, want the pitch's 1", got)
		}
		if st := w.standing("ana"); st.Referrals != 0 || st.Pitches != 1 {
			t.Fatalf("Ana's standing: %+v", st)
		}
	})
}
