package ledger

import (
	"sort"
	"strconv"

	"github.com/routeloop/routeloop/internal/localdate"
)

// VisitRef is what sync matching needs of a visit.
type VisitRef struct {
	ID          int64
	CustomerID  int64
	CrewID      *int64
	ServiceDate localdate.Date
	Status      string
}

func (v VisitRef) cancelled() bool { return v.Status == "cancelled" }

// Match says why a visit is synced: the linked neighbour serviced the same
// tenant-local day, and how far away they live.
type Match struct {
	VisitID         int64
	LinkID          int64
	NeighborID      int64 // the neighbour customer
	NeighborVisitID int64
	DistanceM       int
	ServiceDate     localdate.Date
}

// Reason explains a match in the words of rule 7, naming the neighbour by
// street (Street): the stored reason of a sync discount, which the invoice
// page reads back.
func (m Match) Reason(street string) string {
	return "serviced the same day as " + street + ", " + strconv.Itoa(m.DistanceM) + " m away, on " + m.ServiceDate.String()
}

// Link is what matching needs of a neighbour link: active from StartsOn
// until the day before EndsOn (open-ended when EndsOn is nil).
type Link struct {
	ID          int64
	CustomerAID int64
	CustomerBID int64
	DistanceM   int
	StartsOn    localdate.Date
	EndsOn      *localdate.Date
}

// ActiveOn reports whether the link holds on day d.
func (l Link) ActiveOn(d localdate.Date) bool {
	if d.Before(l.StartsOn) {
		return false
	}
	return l.EndsOn == nil || d.Before(*l.EndsOn)
}

// Other returns the customer at the other end from id.
func (l Link) Other(id int64) int64 {
	if l.CustomerAID == id {
		return l.CustomerBID
	}
	return l.CustomerAID
}

type customerDay struct {
	customerID int64
	day        localdate.Date
}

// MatchSynced decides, for each visit, whether it is synced: a linked
// neighbour (link active that day) has a visit on the same service date,
// neither cancelled, done by the same crew when sameCrew is set. When several
// neighbours qualify, the nearest one explains it (ties: lower link id) —
// there is still only one match per visit (rule 4). neighborVisits may
// include the visits themselves.
func MatchSynced(visits []VisitRef, links []Link, neighborVisits []VisitRef, sameCrew bool) map[int64]Match {
	byCustomer := map[int64][]Link{}
	for _, l := range links {
		byCustomer[l.CustomerAID] = append(byCustomer[l.CustomerAID], l)
		byCustomer[l.CustomerBID] = append(byCustomer[l.CustomerBID], l)
	}
	onDay := map[customerDay][]VisitRef{}
	for _, w := range neighborVisits {
		if !w.cancelled() {
			k := customerDay{w.CustomerID, w.ServiceDate}
			onDay[k] = append(onDay[k], w)
		}
	}
	for _, ws := range onDay {
		sort.Slice(ws, func(i, j int) bool { return ws[i].ID < ws[j].ID })
	}
	out := map[int64]Match{}
	for _, v := range visits {
		if v.cancelled() {
			continue
		}
		var best *Match
		for _, l := range byCustomer[v.CustomerID] {
			if !l.ActiveOn(v.ServiceDate) {
				continue
			}
			other := l.Other(v.CustomerID)
			for _, w := range onDay[customerDay{other, v.ServiceDate}] {
				if sameCrew && (v.CrewID == nil || w.CrewID == nil || *v.CrewID != *w.CrewID) {
					continue
				}
				m := Match{VisitID: v.ID, LinkID: l.ID, NeighborID: other, NeighborVisitID: w.ID,
					DistanceM: l.DistanceM, ServiceDate: v.ServiceDate}
				if best == nil || m.DistanceM < best.DistanceM || (m.DistanceM == best.DistanceM && m.LinkID < best.LinkID) {
					best = &m
				}
				break // one visit of this neighbour that day is enough
			}
		}
		if best != nil {
			out[v.ID] = *best
		}
	}
	return out
}
