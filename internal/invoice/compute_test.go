package invoice

import (
	"testing"
)

func TestPercentOfRoundsHalfAwayFromZero(t *testing.T) {
	cases := []struct {
		amount int64
		bps    int
		want   int64
	}{
		{4500, 1000, 450}, {4505, 1000, 451}, {4504, 1000, 450}, {5, 1000, 1}, {4, 1000, 0},
		{-4505, 1000, -451}, {-5, 1000, -1}, {0, 1000, 0}, {4500, 0, 0}, {4500, 10000, 4500},
		{1, 5000, 1}, {100_000_000_000, 10000, 100_000_000_000}, {333, 3333, 111},
	}
	for _, c := range cases {
		if got := PercentOf(c.amount, c.bps); got != c.want {
			t.Errorf("PercentOf(%d, %d) = %d, want %d", c.amount, c.bps, got, c.want)
		}
	}
}

func key(s string) *string { return &s }
func id(n int64) *int64    { return &n }

func TestCapLinesKeepsEachLineWithinTheCap(t *testing.T) {
	service := []Line{
		{Kind: KindService, VisitID: id(1), AmountCents: 4500},
		{Kind: KindService, VisitID: id(2), AmountCents: 3000},
	}
	proposed := []Line{
		{Kind: KindSyncDiscount, VisitID: id(1), AmountCents: -450, Reason: "same day", SourceKey: key("visit:1")},
		{Kind: KindReferralReward, VisitID: id(1), AmountCents: -900, Reason: "friend", SourceKey: key("ref:1")},
		{Kind: KindSyncDiscount, VisitID: id(9), AmountCents: -100, SourceKey: key("visit:9")}, // not on this invoice
		{Kind: KindSyncDiscount, VisitID: id(2), AmountCents: -300, SourceKey: key("visit:2")},
	}
	got := capLines(service, proposed, 1500) // at most 15% per line
	if len(got) != 3 {
		t.Fatalf("got %d lines: %+v", len(got), got)
	}
	if got[0].AmountCents != -450 || got[1].AmountCents != -225 || got[2].AmountCents != -300 {
		t.Fatalf("amounts %d %d %d", got[0].AmountCents, got[1].AmountCents, got[2].AmountCents)
	}
	if got[1].Reason != "friend (capped: discounts on one line stop at 15%)" {
		t.Fatalf("capped reason %q", got[1].Reason)
	}
	// Nothing left under the cap: the later line is dropped, not zero.
	got = capLines(service[:1], []Line{
		{Kind: KindSyncDiscount, VisitID: id(1), AmountCents: -450, SourceKey: key("a")},
		{Kind: KindReferralReward, VisitID: id(1), AmountCents: -450, SourceKey: key("b")},
	}, 1000)
	if len(got) != 1 {
		t.Fatalf("want the second discount dropped: %+v", got)
	}
}

func TestCapLinesNeverTakesTheTotalBelowZero(t *testing.T) {
	service := []Line{{Kind: KindService, VisitID: id(1), AmountCents: 1000}}
	got := capLines(service, []Line{
		{Kind: KindSyncDiscount, VisitID: id(1), AmountCents: -100, SourceKey: key("a")},
		{Kind: KindCredit, AmountCents: -700, SourceKey: key("b")},
		{Kind: KindCredit, AmountCents: -700, SourceKey: key("c")},
	}, 2000)
	_, disc, total := Totals(append(append([]Line{}, service...), got...))
	if total != 0 || disc != 1000 {
		t.Fatalf("total %d discount %d: %+v", total, disc, got)
	}
}

// FuzzCapLines: whatever is proposed, each visit line's percent discounts
// stay within the cap, totals add up and never go below zero.
func FuzzCapLines(f *testing.F) {
	f.Add(int64(4500), int64(3000), int64(-450), int64(-900), int64(-5000), 2000)
	f.Add(int64(1), int64(0), int64(-1), int64(-1), int64(-1), 0)
	f.Fuzz(func(t *testing.T, a, b, d1, d2, credit int64, maxBps int) {
		if a < 0 || b < 0 || a > 1e11 || b > 1e11 || maxBps < 0 || maxBps > 10000 || d1 > 0 || d2 > 0 || credit > 0 ||
			d1 < -1e11 || d2 < -1e11 || credit < -1e11 {
			t.Skip()
		}
		service := []Line{{Kind: KindService, VisitID: id(1), AmountCents: a}, {Kind: KindService, VisitID: id(2), AmountCents: b}}
		got := capLines(service, []Line{
			{Kind: KindSyncDiscount, VisitID: id(1), AmountCents: d1, SourceKey: key("s1")},
			{Kind: KindReferralReward, VisitID: id(1), AmountCents: d2, SourceKey: key("r1")},
			{Kind: KindSyncDiscount, VisitID: id(2), AmountCents: d2, SourceKey: key("s2")},
			{Kind: KindCredit, AmountCents: credit, SourceKey: key("c")},
		}, maxBps)
		per := map[int64]int64{}
		for _, l := range got {
			if l.AmountCents >= 0 {
				t.Fatalf("a give-back line is not negative: %+v", l)
			}
			if isPercent(l) {
				per[*l.VisitID] -= l.AmountCents
			}
		}
		if per[1] > PercentOf(a, maxBps) || per[2] > PercentOf(b, maxBps) {
			t.Fatalf("cap broken: %v with a=%d b=%d max=%d", per, a, b, maxBps)
		}
		sub, disc, total := Totals(append(append([]Line{}, service...), got...))
		if total < 0 || sub-disc != total {
			t.Fatalf("totals %d − %d = %d", sub, disc, total)
		}
		var sum int64
		for _, l := range append(append([]Line{}, service...), got...) {
			sum += l.AmountCents
		}
		if sum != total {
			t.Fatalf("lines sum to %d, total is %d", sum, total)
		}
	})
}
