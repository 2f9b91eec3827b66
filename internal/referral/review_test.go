package referral_test

import (
	"context"
	"strings"
	"testing"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/referral"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
)

// A referral is rejected only with a reason (of at most 500 characters);
// a refused reject changes nothing.
func TestARejectNeedsAReason(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEngine(t, s, program.Input{})
		ctx := context.Background()
		e.customer("angie", "angie@example.com")
		r := e.refer("angie", "ben")
		for _, c := range []struct {
			name, reason string
		}{
			{"no reason", ""},
			{"a reason of spaces", "   \t"},
			{"a reason of 501 characters", strings.Repeat("a", 501)},
		} {
			_, err := e.a.Referrals.Reject(ctx, e.tenant, r.ID, "test", referral.Decision{Reason: c.reason})
			if ae, ok := apperror.As(err); !ok || ae.Code != apperror.CodeValidation || ae.Fields["reason"] == "" {
				t.Fatalf("%s: %v, want the reason refused", c.name, err)
			}
			if got, err := e.a.Referrals.Get(ctx, e.tenant, r.ID); err != nil || got.Status != referral.StatusPending {
				t.Fatalf("%s: the referral is %s (%v)", c.name, got.Status, err)
			}
		}
		got, err := e.a.Referrals.Reject(ctx, e.tenant, r.ID, "test", referral.Decision{Reason: strings.Repeat("a", 500)})
		if err != nil || got.Status != referral.StatusRejected {
			t.Fatalf("a reason of 500 characters: %s (%v)", got.Status, err)
		}
	})
}
