package neighbor

import (
	"fmt"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/ledger"
	"github.com/routeloop/routeloop/internal/scheduling"
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
	for _, chunk := range chunks(visitIDs) {
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
	links, err := linksOf(tx, tenantID, keys(customers))
	if err != nil || len(links) == 0 {
		return set, err
	}
	spans := make([]ledger.Link, len(links))
	others := map[int64]bool{}
	for i, l := range links {
		spans[i] = l.span()
		others[l.CustomerAID], others[l.CustomerBID] = true, true
	}
	dayList := keys(days)
	var theirs []ledger.VisitRef
	for _, chunk := range chunks(keys(others)) {
		var vs []ledger.VisitRef
		err := tx.Raw(`SELECT `+visitCols+` FROM visits
			WHERE tenant_id = ? AND customer_id IN ? AND service_date IN ? AND status <> 'cancelled'`,
			tenantID, chunk, dayList).Scan(&vs).Error
		if err != nil {
			return set, fmt.Errorf("read neighbours' visits: %w", err)
		}
		theirs = append(theirs, vs...)
	}
	set.matches = ledger.MatchSynced(visits, spans, theirs, sameCrew)
	nb := map[int64]bool{}
	for _, m := range set.matches {
		nb[m.NeighborID] = true
	}
	set.neighbors, err = customersByID(tx, tenantID, keys(nb))
	return set, err
}

// linksOf returns every link (open or ended) of the given customers.
func linksOf(tx *gorm.DB, tenantID string, customerIDs []int64) ([]Link, error) {
	seen := map[int64]bool{}
	var out []Link
	for _, chunk := range chunks(customerIDs) {
		var ls []Link
		err := tx.Where("tenant_id = ? AND (customer_a_id IN ? OR customer_b_id IN ?)", tenantID, chunk, chunk).Find(&ls).Error
		if err != nil {
			return nil, fmt.Errorf("read links: %w", err)
		}
		for _, l := range ls {
			if !seen[l.ID] {
				seen[l.ID] = true
				out = append(out, l)
			}
		}
	}
	return out, nil
}

// reason explains a match in the words of rule 7.
func (set syncSet) reason(m ledger.Match) string {
	return fmt.Sprintf("serviced the same day as %s, %d m away, on %s", set.neighbors[m.NeighborID].street(), m.DistanceM, m.ServiceDate)
}

// VisitChanged works out again, inside the visit write's transaction, the
// money of everyone the write may change: the visit's customer (and the one
// it was moved from) and their linked neighbours. A visit of a customer
// without links that stayed with its customer changes nobody's money.
func (s *Service) VisitChanged(tx *gorm.DB, ch scheduling.VisitChange) error {
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
	return s.ledger.Refresh(tx, ch.TenantID, ids...)
}
