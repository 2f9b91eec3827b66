package neighbor

import (
	"fmt"
	"maps"
	"slices"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/ledger"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/store"
)

// syncSet is what matching found for a set of visits.
type syncSet struct {
	visits    map[int64]ledger.VisitRef
	matches   map[int64]ledger.Match
	neighbors map[int64]customerRow
}

const visitCols = "id, customer_id, crew_id, service_date, status"

// matchVisits works out which of the given visits are synced, reading just
// what it needs: the visits, their customers' links, and the neighbours'
// visits on those days.
func matchVisits(tx *gorm.DB, tenantID string, visitIDs []int64, sameCrew bool) (syncSet, error) {
	set := syncSet{visits: map[int64]ledger.VisitRef{}, matches: map[int64]ledger.Match{}, neighbors: map[int64]customerRow{}}
	var visits []ledger.VisitRef
	for chunk := range slices.Chunk(visitIDs, store.MaxInList) {
		var vs []ledger.VisitRef
		if err := tx.Raw(`SELECT `+visitCols+` FROM visits WHERE tenant_id = ? AND id IN ?`, tenantID, chunk).Scan(&vs).Error; err != nil {
			return set, fmt.Errorf("read visits: %w", err)
		}
		visits = append(visits, vs...)
	}
	customers := map[int64]bool{}
	days := map[any]bool{}
	for _, v := range visits {
		set.visits[v.ID] = v
		customers[v.CustomerID] = true
		days[v.ServiceDate] = true
	}
	links, err := ledger.LinksOf(tx, tenantID, slices.Collect(maps.Keys(customers)))
	if err != nil || len(links) == 0 {
		return set, err
	}
	others := map[int64]bool{}
	for _, l := range links {
		others[l.CustomerAID], others[l.CustomerBID] = true, true
	}
	dayList := slices.Collect(maps.Keys(days))
	var theirs []ledger.VisitRef
	for chunk := range slices.Chunk(slices.Collect(maps.Keys(others)), store.MaxInList) {
		var vs []ledger.VisitRef
		err := tx.Raw(`SELECT `+visitCols+` FROM visits
			WHERE tenant_id = ? AND customer_id IN ? AND service_date IN ? AND status <> 'cancelled'`,
			tenantID, chunk, dayList).Scan(&vs).Error
		if err != nil {
			return set, fmt.Errorf("read neighbours' visits: %w", err)
		}
		theirs = append(theirs, vs...)
	}
	set.matches = ledger.MatchSynced(visits, links, theirs, sameCrew)
	nb := map[int64]bool{}
	for _, m := range set.matches {
		nb[m.NeighborID] = true
	}
	set.neighbors, err = customersByID(tx, tenantID, slices.Collect(maps.Keys(nb)))
	return set, err
}

// VisitChanged works out again, inside the visit write's transaction, the
// money of everyone the write may change: the visit's customer (and the one
// it was moved from) and their linked neighbours. A visit of a customer
// without links that stayed with its customer changes nobody's money.
func (s *Service) VisitChanged(tx *gorm.DB, ch mirror.VisitChange) error {
	if ch.Linked != nil && !*ch.Linked {
		return nil
	}
	customers := []int64{ch.Visit.CustomerID}
	if b := ch.Before; b != nil && b.CustomerID != ch.Visit.CustomerID {
		customers = append(customers, b.CustomerID)
	}
	ids, err := ledger.Neighbours(tx, ch.TenantID, customers...)
	if err != nil {
		return err
	}
	if len(ids) == 1 {
		return nil
	}
	return s.ledger.RefreshHeld(tx, ch.TenantID, ch.Locked, ids...)
}
