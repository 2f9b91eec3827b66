package demo

import (
	"context"
	"fmt"
	"sort"

	"github.com/routeloop/routeloop/geo"
	"github.com/routeloop/routeloop/internal/neighbor"
)

// maxDemoLinks bounds the neighbour links the demo makes by hand.
const maxDemoLinks = 16

// neighbours links pairs of consenting customers a few houses apart who are
// served by the same crew on the same weekday, from the first day of the
// demo's history — before its visits and invoices are written, so the
// invoices of their synced visits carry the same-day discount. (Friends who
// live near their referrer are linked by the program when they convert.)
func (w *writer) neighbours(ctx context.Context, ds dataset) error {
	type pair struct {
		a, b *customerSpec
		d    float64
	}
	var pairs []pair
	for i := range ds.base {
		a := &ds.customers[i]
		if !a.input.ConsentSameDay {
			continue
		}
		for j := i + 1; j < ds.base; j++ {
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
	start := ds.anchor.String()
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
