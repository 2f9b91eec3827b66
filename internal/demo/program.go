package demo

import (
	"context"
	"fmt"
	"sort"

	"github.com/routeloop/routeloop/geo"
	"github.com/routeloop/routeloop/internal/neighbor"
	"github.com/routeloop/routeloop/internal/referral"
)

// maxDemoLinks bounds the neighbour links the demo makes by hand.
const maxDemoLinks = 16

// neighbours links pairs of consenting customers a few houses apart who are
// served by the same crew on the same weekday, from the first day of the
// demo's history — before its invoices are written, so the invoices of
// their synced visits carry the same-day discount.
func (w *writer) neighbours(ctx context.Context, ds dataset) error {
	type pair struct {
		a, b *customerSpec
		d    float64
	}
	var pairs []pair
	for i := range ds.customers {
		a := &ds.customers[i]
		if !a.input.ConsentSameDay {
			continue
		}
		for j := i + 1; j < len(ds.customers); j++ {
			b := &ds.customers[j]
			if !b.input.ConsentSameDay || a.crew != b.crew || a.weekday != b.weekday || a.biweekly != b.biweekly || a.parity != b.parity {
				continue
			}
			if d := geo.DistanceM(a.point, b.point); d <= 300 {
				pairs = append(pairs, pair{a, b, d})
			}
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].a.id != pairs[j].a.id {
			return pairs[i].a.id < pairs[j].a.id
		}
		return pairs[i].b.id < pairs[j].b.id
	})
	used := map[string]bool{}
	start := ds.from.String()
	made := 0
	for _, p := range pairs {
		if made == maxDemoLinks || used[p.a.id] || used[p.b.id] {
			continue
		}
		_, _, err := w.a.Neighbors.CreateLink(ctx, w.t.ID, neighbor.LinkInput{CustomerA: p.a.id, CustomerB: p.b.id, StartsOn: &start, FromRecords: true})
		if err != nil {
			return fmt.Errorf("link %s and %s: %w", p.a.id, p.b.id, err)
		}
		used[p.a.id], used[p.b.id] = true, true
		made++
	}
	w.res.Links = made
	return nil
}

// referrals records a handful of referrals through every channel — friends
// for the office to call — and one that the engine flags for review.
func (w *writer) referrals(ctx context.Context, ds dataset) error {
	var referrers []*customerSpec
	for i := range ds.customers {
		if c := &ds.customers[i]; c.input.ConsentSameDay && c.cluster > 0 && len(referrers) < 9 {
			referrers = append(referrers, c)
		}
	}
	if len(referrers) < 9 {
		return nil
	}
	leads := []struct {
		channel, name, phone, email string
	}{
		{referral.ChannelCrewPitch, "Priya Natarajan", "(503) 555-0171", ""},
		{referral.ChannelCard, "Tom Eriksen", "", "tom.eriksen@example.net"},
		{referral.ChannelLink, "Grace Okoye", "(971) 555-0133", "grace.okoye@example.org"},
		{referral.ChannelCode, "Luis Moreno", "(503) 555-0190", ""},
		{referral.ChannelNameOnly, "Hannah Brooks", "(503) 555-0148", ""},
	}
	for i, l := range leads {
		r := referrers[i]
		in := referral.Input{Channel: l.channel, ReferrerID: r.id,
			Referee: referral.RefereeInput{Name: l.name, Phone: l.phone, Email: l.email}}
		if l.channel == referral.ChannelCrewPitch {
			in.CrewMemberID = r.crew + "-member-1"
		}
		if l.channel == referral.ChannelNameOnly {
			in.ReferrerID, in.ReferrerName, in.ReferrerStreet = "", r.input.Name, r.input.Address
		}
		if _, _, err := w.a.Referrals.Create(ctx, w.t.ID, "demo", in); err != nil {
			return fmt.Errorf("demo referral %d: %w", i, err)
		}
	}
	// One the engine flags: the "friend" has the referrer's own phone.
	r := referrers[8]
	if _, _, err := w.a.Referrals.Create(ctx, w.t.ID, "demo", referral.Input{Channel: referral.ChannelCode, ReferrerID: r.id,
		Referee: referral.RefereeInput{Name: "Same Household", Phone: r.input.Phone}}); err != nil {
		return fmt.Errorf("demo flagged referral: %w", err)
	}
	w.res.Referrals = len(leads) + 1
	return nil
}
