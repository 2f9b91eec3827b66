package insight_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/apptest"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/insight"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/referral"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
)

// Referrals made from links handed out by text, e-mail, social media, the
// invoice page and the crew's QR code each get their own row of the
// channel split, beside link, code and card.
func TestTheChannelSplitListsEveryLinkChannel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clk := clock.NewFixed(utc("2026-05-20T19:00:00Z"))
		a, ten := apptest.New(t, s, clk, "Greenway")
		if _, _, err := a.Mirror.PutCustomer(ctx, ten.ID, "angie", mirror.CustomerInput{Name: "Angie"}); err != nil {
			t.Fatal(err)
		}
		want := map[string]int{"sms": 2, "email": 1, "social": 1, "invoice": 1, "crew": 1, "card": 1, "link": 1, "code": 1}
		n := 0
		for ch, count := range want {
			for i := 0; i < count; i++ {
				n++
				if _, _, err := a.Referrals.Create(ctx, ten.ID, "test", referral.Input{Channel: ch, ReferrerID: "angie",
					Referee: referral.RefereeInput{Name: "Friend", Email: fmt.Sprintf("f%d@example.com", n)}}); err != nil {
					t.Fatal(err)
				}
				clk.Advance(time.Minute)
			}
		}
		to := localdate.In(clk.Now(), ten.Location())
		from := to.AddDays(-1)
		k, err := a.Insights.KPIs(ctx, ten.ID, insight.KPIQuery{Range: insight.Range{From: &from, To: &to}, GroupBy: insight.GroupByChannel})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, g := range k.Groups {
			got[g.Group] = g.Referrals
		}
		for ch, count := range want {
			if got[ch] != count {
				t.Errorf("channel %s: %d referrals in the split, want %d (split %v)", ch, got[ch], count, got)
			}
		}
		if k.Total.Referrals != n {
			t.Errorf("total %d, want %d", k.Total.Referrals, n)
		}
	})
}
