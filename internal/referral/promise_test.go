package referral_test

import (
	"context"
	"testing"

	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/referral"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
)

func fixedOffer(name string, cents int64) program.Offer {
	return program.Offer{Name: name, Referee: program.Reward{Kind: program.RewardFixedCredit, AmountCents: cents},
		Referrer: program.Reward{Kind: program.RewardFixedCredit, AmountCents: cents}}
}

// A friend names a referrer the engine cannot find; the dispatcher later
// attributes the referral. A variant stated with the referral stays, with
// the rewards it promised when it was made (B at $25, though the owner
// has cut B to $5 since); a referral that stated none takes the referrer's
// own variant.
func TestAnAttributedReferralKeepsItsStatedOffer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		e := newEngine(t, s, program.Input{Offers: &[]program.Offer{fixedOffer("A", 1000), fixedOffer("B", 2500)}})
		e.customer("angie", "angie@example.com")
		unknown := func(friend, variant string) referral.Referral {
			r, _, err := e.a.Referrals.Create(ctx, e.tenant, "test", referral.Input{Channel: referral.ChannelNameOnly,
				ReferrerName: "Somebody Unknown", ReferrerStreet: "1 Nowhere Ln", Variant: variant,
				Referee: referral.RefereeInput{Name: "Friend " + friend, Email: friend + "@example.com"}})
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != referral.StatusPendingReview || r.Variant != variant {
				t.Fatalf("%s's referral: %s under %q", friend, r.Status, r.Variant)
			}
			return r
		}
		stated, plain := unknown("ben", "B"), unknown("cleo", "")
		if _, err := e.a.Neighbors.UpdateProgram(ctx, e.tenant, program.Input{Offers: &[]program.Offer{fixedOffer("A", 1000), fixedOffer("B", 500)}}); err != nil {
			t.Fatal(err)
		}
		for _, r := range []referral.Referral{stated, plain} {
			got, err := e.a.Referrals.Attribute(ctx, e.tenant, r.ID, "dispatcher", referral.Decision{ReferrerID: "angie", Reason: "she called"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.a.Referrals.Approve(ctx, e.tenant, r.ID, "dispatcher", referral.Decision{Reason: "checked"}); err != nil {
				t.Fatal(err)
			}
			want := r.Variant
			if want == "" {
				st, err := e.a.Referrals.ReferralStatus(ctx, e.tenant, "angie")
				if err != nil {
					t.Fatal(err)
				}
				want = st.Offer
			}
			if got.Variant != want {
				t.Fatalf("referral #%d attributed under %q, want %q", r.ID, got.Variant, want)
			}
		}
		e.convert("ben")
		e.convert("cleo")
		if ws := e.rewards("ben"); len(ws) != 1 || ws[0].ValueCents != 2500 {
			t.Fatalf("ben's welcome under the B he was promised ($25): %+v", ws)
		}
		values := map[string]int64{"A": 1000, "B": 500}
		got, err := e.a.Referrals.Get(ctx, e.tenant, plain.ID)
		if err != nil {
			t.Fatal(err)
		}
		if ws := e.rewards("cleo"); len(ws) != 1 || ws[0].ValueCents != values[got.Variant] {
			t.Fatalf("cleo's welcome under angie's %s: %+v", got.Variant, ws)
		}
	})
}
