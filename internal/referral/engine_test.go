package referral_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/app"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/config"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/referral"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/tenant"
)

// engine is the wired referral engine for one tenant.
type engine struct {
	t      *testing.T
	a      *app.App
	tenant string
	clock  *clock.Fixed
	loc    *time.Location
	n      int
}

func newEngine(t *testing.T, s *store.Store, in program.Input) *engine {
	t.Helper()
	ctx := context.Background()
	c := clock.NewFixed(time.Date(2026, 5, 1, 16, 0, 0, 0, time.UTC))
	a := app.Wire(config.Defaults(), s, c, slog.New(slog.DiscardHandler))
	ten, _, err := a.Tenants.Create(ctx, tenant.NewTenant{Name: "Rules", Timezone: "America/Los_Angeles", Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Neighbors.UpdateProgram(ctx, ten.ID, in); err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("America/Los_Angeles")
	return &engine{t: t, a: a, tenant: ten.ID, clock: c, loc: loc}
}

// customer mirrors a customer far from everyone else.
func (e *engine) customer(id, email string) {
	e.t.Helper()
	e.n++
	lat, lon := 40.0+float64(e.n)*0.05, -100.0
	if _, _, err := e.a.Mirror.PutCustomer(context.Background(), e.tenant, id, mirror.CustomerInput{Name: "Customer " + id, Email: email,
		Lat: &lat, Lon: &lon}); err != nil {
		e.t.Fatal(err)
	}
}

// refer records that referrer referred a new friend by e-mail.
func (e *engine) refer(referrer, friend string) referral.Referral {
	e.t.Helper()
	r, _, err := e.a.Referrals.Create(context.Background(), e.tenant, "test", referral.Input{Channel: referral.ChannelCode, ReferrerID: referrer,
		Referee: referral.RefereeInput{Name: "Friend " + friend, Email: friend + "@example.com"}})
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// convert makes the friend a customer who completes a first visit.
func (e *engine) convert(friend string) {
	e.t.Helper()
	e.customer(friend, friend+"@example.com")
	if _, _, err := e.a.Mirror.PutVisit(context.Background(), e.tenant, e.loc, "v-"+friend, mirror.VisitInput{CustomerID: friend,
		ServiceDate: localdate.In(e.clock.Now(), e.loc).String(), Status: mirror.VisitCompleted, PriceCents: 4500}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *engine) rewards(customer string) []referral.Reward {
	e.t.Helper()
	ws, err := e.a.Referrals.Rewards(context.Background(), e.tenant, customer)
	if err != nil {
		e.t.Fatal(err)
	}
	return ws
}

func ptr[T any](v T) *T { return &v }

// burst_max referrals within burst_hours are fine; the next is a burst.
func TestABurstIsOneMoreThanBurstMax(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEngine(t, s, program.Input{BurstMax: ptr(3), BurstHours: ptr(24)})
		e.customer("angie", "angie@example.com")
		for i := range 3 {
			if r := e.refer("angie", fmt.Sprintf("f%d", i)); r.Status != referral.StatusPending {
				t.Fatalf("referral %d of 3: %s %v", i+1, r.Status, r.Flags)
			}
			e.clock.Advance(time.Hour)
		}
		r := e.refer("angie", "f3")
		if r.Status != referral.StatusPendingReview || len(r.Flags) != 1 || r.Flags[0].Code != referral.FlagBurst {
			t.Fatalf("the fourth in a day: %s %v", r.Status, r.Flags)
		}
		// A day after the last of them (the flagged one counts too), the
		// window has moved on.
		e.clock.Advance(24*time.Hour + time.Minute)
		if r := e.refer("angie", "f4"); r.Status != referral.StatusPending {
			t.Fatalf("a day later: %s %v", r.Status, r.Flags)
		}
	})
}

// The yearly cap rewards yearly_cap referrals of a referrer; the next is
// recorded as capped, with why, and a new year starts again.
func TestTheYearlyCap(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEngine(t, s, program.Input{YearlyCap: ptr(2)})
		e.customer("angie", "angie@example.com")
		for i := range 3 {
			friend := fmt.Sprintf("f%d", i)
			e.refer("angie", friend)
			e.convert(friend)
		}
		ws := e.rewards("angie")
		statuses := map[string]int{}
		for _, w := range ws {
			statuses[w.Status]++
		}
		if statuses[referral.RewardGranted] != 2 || statuses[referral.RewardCapped] != 1 {
			t.Fatalf("three conversions under a yearly cap of 2: %v", statuses)
		}
		for _, w := range ws {
			if w.Status == referral.RewardCapped && w.Reason == "" {
				t.Fatal("a capped reward without a reason")
			}
		}
		// The friend's welcome reward is not capped by the referrer's cap.
		if ws := e.rewards("f2"); len(ws) != 1 || ws[0].Status != referral.RewardGranted {
			t.Fatalf("the third friend's welcome: %+v", ws)
		}
		e.clock.Set(time.Date(2027, 1, 2, 18, 0, 0, 0, time.UTC))
		e.refer("angie", "f3")
		e.convert("f3")
		n := 0
		for _, w := range e.rewards("angie") {
			if w.Status == referral.RewardGranted {
				n++
			}
		}
		if n != 3 {
			t.Fatalf("a new year: %d granted, want 3", n)
		}
	})
}

// A reward that exactly fits what is left of the month's budget is
// granted; one cent more waits.
func TestTheBudgetFitsToTheCent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		offers := []program.Offer{{Name: "standard",
			Referrer: program.Reward{Kind: program.RewardFixedCredit, AmountCents: 700},
			Referee:  program.Reward{Kind: program.RewardFixedCredit, AmountCents: 300}}}
		e := newEngine(t, s, program.Input{MonthlyBudgetCents: ptr(int64(1700)), Offers: &offers})
		e.customer("angie", "angie@example.com")
		e.customer("ben", "ben@example.com")
		e.refer("angie", "f1")
		e.convert("f1") // 1,000 of 1,700
		e.refer("ben", "f2")
		e.convert("f2") // 700 fits exactly; then 300 does not
		got := map[string]string{}
		for _, c := range []string{"angie", "f1", "ben", "f2"} {
			for _, w := range e.rewards(c) {
				got[c] = w.Status
			}
		}
		want := map[string]string{"angie": referral.RewardGranted, "f1": referral.RewardGranted, "ben": referral.RewardGranted, "f2": referral.RewardPendingBudget}
		for c, st := range want {
			if got[c] != st {
				t.Errorf("%s: %s, want %s (all: %v)", c, got[c], st, got)
			}
		}
	})
}
