package ledger

import (
	"testing"

	"github.com/routeloop/routeloop/internal/localdate"
)

func day(s string) localdate.Date {
	d, err := localdate.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

// Angie (1) and Ben (2) live 120 m apart and are linked from 1 May; Cleo (3)
// is linked to Angie too, 300 m away; Dan (4) lives nearby but is not linked.
var (
	angie, ben, cleo, dan int64 = 1, 2, 3, 4
	north, south                = ptr[int64](10), ptr[int64](20)
	links                       = []Link{
		{ID: 1, CustomerAID: angie, CustomerBID: ben, DistanceM: 120, StartsOn: day("2026-05-01")},
		{ID: 2, CustomerAID: angie, CustomerBID: cleo, DistanceM: 300, StartsOn: day("2026-05-01"), EndsOn: ptr(day("2026-06-01"))},
	}
)

func TestMatchSynced(t *testing.T) {
	tue, wed := day("2026-05-05"), day("2026-05-06")
	cases := []struct {
		name      string
		visits    []VisitRef
		sameCrew  bool
		want      map[int64]int64 // visit → neighbour visit
		wantLink  map[int64]int64 // visit → link
		wantEmpty bool
	}{
		{name: "Angie and Ben, same Tuesday", visits: []VisitRef{
			{ID: 100, CustomerID: angie, CrewID: north, ServiceDate: tue, Status: "scheduled"},
			{ID: 200, CustomerID: ben, CrewID: north, ServiceDate: tue, Status: "completed"},
		}, want: map[int64]int64{100: 200, 200: 100}},
		{name: "Ben moved to Wednesday", visits: []VisitRef{
			{ID: 100, CustomerID: angie, CrewID: north, ServiceDate: tue, Status: "scheduled"},
			{ID: 200, CustomerID: ben, CrewID: north, ServiceDate: wed, Status: "scheduled"},
		}, wantEmpty: true},
		{name: "Ben's visit cancelled", visits: []VisitRef{
			{ID: 100, CustomerID: angie, ServiceDate: tue, Status: "scheduled"},
			{ID: 200, CustomerID: ben, ServiceDate: tue, Status: "cancelled"},
		}, wantEmpty: true},
		{name: "Angie's own visit cancelled", visits: []VisitRef{
			{ID: 100, CustomerID: angie, ServiceDate: tue, Status: "cancelled"},
			{ID: 200, CustomerID: ben, ServiceDate: tue, Status: "scheduled"},
		}, want: map[int64]int64{}},
		{name: "three neighbours on one day: one match each, the nearest", visits: []VisitRef{
			{ID: 100, CustomerID: angie, ServiceDate: tue, Status: "scheduled"},
			{ID: 200, CustomerID: ben, ServiceDate: tue, Status: "scheduled"},
			{ID: 300, CustomerID: cleo, ServiceDate: tue, Status: "scheduled"},
		}, want: map[int64]int64{100: 200, 200: 100, 300: 100}, wantLink: map[int64]int64{100: 1, 300: 2}},
		{name: "not linked, not synced", visits: []VisitRef{
			{ID: 100, CustomerID: dan, ServiceDate: tue, Status: "scheduled"},
			{ID: 200, CustomerID: ben, ServiceDate: tue, Status: "scheduled"},
		}, wantEmpty: true},
		{name: "before the link started", visits: []VisitRef{
			{ID: 100, CustomerID: angie, ServiceDate: day("2026-04-28"), Status: "completed"},
			{ID: 200, CustomerID: ben, ServiceDate: day("2026-04-28"), Status: "completed"},
		}, wantEmpty: true},
		{name: "on the day the link ended", visits: []VisitRef{
			{ID: 100, CustomerID: angie, ServiceDate: day("2026-06-01"), Status: "completed"},
			{ID: 300, CustomerID: cleo, ServiceDate: day("2026-06-01"), Status: "completed"},
		}, wantEmpty: true},
		{name: "same crew required, different crews", sameCrew: true, visits: []VisitRef{
			{ID: 100, CustomerID: angie, CrewID: north, ServiceDate: tue, Status: "scheduled"},
			{ID: 200, CustomerID: ben, CrewID: south, ServiceDate: tue, Status: "scheduled"},
		}, wantEmpty: true},
		{name: "same crew required, same crew", sameCrew: true, visits: []VisitRef{
			{ID: 100, CustomerID: angie, CrewID: north, ServiceDate: tue, Status: "scheduled"},
			{ID: 200, CustomerID: ben, CrewID: north, ServiceDate: tue, Status: "scheduled"},
		}, want: map[int64]int64{100: 200, 200: 100}},
		{name: "same crew required, unassigned", sameCrew: true, visits: []VisitRef{
			{ID: 100, CustomerID: angie, ServiceDate: tue, Status: "scheduled"},
			{ID: 200, CustomerID: ben, ServiceDate: tue, Status: "scheduled"},
		}, wantEmpty: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := MatchSynced(c.visits, links, c.visits, c.sameCrew)
			if c.wantEmpty {
				if len(got) != 0 {
					t.Fatalf("want no match, got %+v", got)
				}
				return
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %d matches, want %d: %+v", len(got), len(c.want), got)
			}
			for v, w := range c.want {
				m, ok := got[v]
				if !ok || m.NeighborVisitID != w {
					t.Errorf("visit %d: %+v, want neighbour visit %d", v, m, w)
				}
			}
			for v, l := range c.wantLink {
				if got[v].LinkID != l {
					t.Errorf("visit %d explained by link %d, want %d", v, got[v].LinkID, l)
				}
			}
		})
	}
}
