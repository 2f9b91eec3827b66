package neighbor

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/geo"
	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/program"
)

// Nearby is a customer living near another.
type Nearby struct {
	ExternalID     string `json:"external_id"`
	Name           string `json:"name"`
	Address        string `json:"address"`
	DistanceM      int    `json:"distance_m"`
	ConsentSameDay bool   `json:"consent_same_day"`
	Linked         bool   `json:"linked"`
}

// Nearby search limits.
const (
	MaxNearbyRadiusM = 50_000
	MaxNearbyLimit   = 500
	maxCells         = 64
)

// Nearby lists the tenant's customers within radiusM of the given customer
// (0: the program radius), nearest first, ties by external id. It answers
// from the tenant's copy in memory when there is one (nearbycache.go) and
// from the database otherwise; both give the same answer.
func (s *Service) Nearby(ctx context.Context, tenantID, customerExt string, radiusM, limit int) ([]Nearby, error) {
	db := s.store.DB.WithContext(ctx)
	if radiusM == 0 {
		prog, err := program.Get(db, tenantID)
		if err != nil {
			return nil, err
		}
		radiusM = prog.NeighborRadiusM
	}
	if out, ok, err := s.nearbyFromCopy(db, tenantID, customerExt, radiusM, limit); ok || err != nil {
		return out, err
	}
	return s.nearbyFromDatabase(db, tenantID, customerExt, radiusM, limit)
}

// nearbyFromDatabase narrows by cell (or, for a large radius, by a lat/lon
// box) in the database; the exact distance decides.
func (s *Service) nearbyFromDatabase(db *gorm.DB, tenantID, customerExt string, radiusM, limit int) ([]Nearby, error) {
	c, err := customerByExternalID(db, tenantID, customerExt)
	if err != nil {
		return nil, err
	}
	p, ok := c.point()
	if !ok {
		return nil, apperror.Unprocessable("customer %s has no location (lat, lon)", customerExt)
	}
	cands, err := candidates(db, tenantID, p, float64(radiusM))
	if err != nil {
		return nil, err
	}
	_, linked, err := linksAndVersion(db, tenantID, c.ID)
	if err != nil {
		return nil, err
	}
	out := []Nearby{}
	for _, x := range cands {
		q, _ := x.point()
		d := geo.DistanceM(p, q)
		if x.ID == c.ID || d > float64(radiusM) {
			continue
		}
		out = append(out, Nearby{ExternalID: x.ExternalID, Name: x.Name, Address: x.Address,
			DistanceM: int(d + 0.5), ConsentSameDay: x.ConsentSameDay, Linked: linked[x.ID]})
	}
	return nearestFirst(out, limit), nil
}

// nearbyFromCopy answers from the tenant's copy in memory, moved forward
// first when the database's change counter is past it. ok is false when
// there is no copy to answer from, or the copy does not hold the customer
// (unknown, without a location, or just added on another replica): the
// database then answers, with the same result or error.
func (s *Service) nearbyFromCopy(db *gorm.DB, tenantID, customerExt string, radiusM, limit int) ([]Nearby, bool, error) {
	e, cp := s.nearby.get(tenantID)
	if cp == nil {
		return nil, false, nil
	}
	me, ok := cp.lookup(customerExt)
	if !ok {
		return nil, false, nil
	}
	version, linked, err := linksAndVersion(db, tenantID, me.ID)
	if err != nil {
		return nil, true, err
	}
	if version > cp.at.version {
		if cp, err = s.nearby.advance(db, tenantID, e, version); err != nil {
			return nil, true, err
		}
		again, ok := cp.lookup(customerExt)
		if !ok || again.ID != me.ID {
			return nil, false, nil
		}
		me = again
	}
	p := geo.Point{Lat: me.Lat, Lon: me.Lon}
	out := []Nearby{}
	cp.within(p, float64(radiusM), func(x cachedCustomer, d float64) {
		if x.ID == me.ID {
			return
		}
		out = append(out, Nearby{ExternalID: x.ExternalID, Name: x.Name, Address: x.Address,
			DistanceM: int(d + 0.5), ConsentSameDay: x.ConsentSameDay, Linked: linked[x.ID]})
	})
	return nearestFirst(out, limit), true, nil
}

// nearestFirst sorts by rounded distance, ties by external id, and keeps
// limit.
func nearestFirst(out []Nearby, limit int) []Nearby {
	sort.Slice(out, func(i, j int) bool {
		if out[i].DistanceM != out[j].DistanceM {
			return out[i].DistanceM < out[j].DistanceM
		}
		return out[i].ExternalID < out[j].ExternalID
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// linksAndVersion reads, in one statement, the tenant's customer change
// counter (migration 0023) and the customers linked to customerID now.
func linksAndVersion(db *gorm.DB, tenantID string, customerID int64) (int64, map[int64]bool, error) {
	rows, err := db.Raw(`SELECT v.version, l.other
		FROM (SELECT COALESCE((SELECT version FROM customer_versions WHERE tenant_id = ?), 0) AS version) v
		LEFT JOIN (SELECT CASE WHEN customer_a_id = ? THEN customer_b_id ELSE customer_a_id END AS other
			FROM neighbor_links WHERE tenant_id = ? AND (customer_a_id = ? OR customer_b_id = ?) AND ends_on IS NULL) l ON 1 = 1`,
		tenantID, customerID, tenantID, customerID, customerID).Rows()
	if err != nil {
		return 0, nil, fmt.Errorf("read links: %w", err)
	}
	defer rows.Close()
	var version int64
	linked := map[int64]bool{}
	for rows.Next() {
		var other *int64
		if err := rows.Scan(&version, &other); err != nil {
			return 0, nil, fmt.Errorf("read links: %w", err)
		}
		if other != nil {
			linked[*other] = true
		}
	}
	if err := rows.Err(); err != nil {
		return 0, nil, fmt.Errorf("read links: %w", err)
	}
	return version, linked, nil
}

// candidates reads the customers whose cell (or box) may hold points within
// radiusM of p.
func candidates(db *gorm.DB, tenantID string, p geo.Point, radiusM float64) ([]customerRow, error) {
	// The box keeps the corners of the cells out of the answer; cells (when
	// few enough) let the index find the rows.
	var boxes []string
	var boxArgs []any
	for _, b := range geo.BoundsAround(p, radiusM) {
		boxes = append(boxes, "(lat BETWEEN ? AND ? AND lon BETWEEN ? AND ?)")
		boxArgs = append(boxArgs, b.MinLat, b.MaxLat, b.MinLon, b.MaxLon)
	}
	where := "tenant_id = ? AND lat IS NOT NULL AND (" + strings.Join(boxes, " OR ") + ")"
	args := append([]any{tenantID}, boxArgs...)
	if cells, ok := geo.CellsCovering(p, radiusM, maxCells); ok {
		where += " AND geo_cell IN ?"
		args = append(args, cells)
	}
	var rows []customerRow
	if err := db.Raw(`SELECT `+customerCols+` FROM customers WHERE `+where, args...).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("read nearby customers: %w", err)
	}
	return rows, nil
}
