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
// (0: the program radius), nearest first. The database narrows by cell (or,
// for a large radius, by a lat/lon box); the exact distance decides.
func (s *Service) Nearby(ctx context.Context, tenantID, customerExt string, radiusM, limit int) ([]Nearby, error) {
	db := s.store.DB.WithContext(ctx)
	if radiusM == 0 {
		prog, err := program.Get(db, tenantID)
		if err != nil {
			return nil, err
		}
		radiusM = prog.NeighborRadiusM
	}
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
	var links []int64
	if err := db.Raw(`SELECT CASE WHEN customer_a_id = ? THEN customer_b_id ELSE customer_a_id END FROM neighbor_links
		WHERE tenant_id = ? AND (customer_a_id = ? OR customer_b_id = ?) AND ends_on IS NULL`,
		c.ID, tenantID, c.ID, c.ID).Scan(&links).Error; err != nil {
		return nil, fmt.Errorf("read links: %w", err)
	}
	linked := map[int64]bool{}
	for _, id := range links {
		linked[id] = true
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
	sort.Slice(out, func(i, j int) bool {
		if out[i].DistanceM != out[j].DistanceM {
			return out[i].DistanceM < out[j].DistanceM
		}
		return out[i].ExternalID < out[j].ExternalID
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
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
