package geo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// ErrInvalidArea is wrapped by every error ParseArea returns.
var ErrInvalidArea = errors.New("invalid service area")

// Area is a service area: one or more polygons, each an outer ring with
// optional holes. The zero Area contains nothing.
//
// Contains uses planar geometry on lon/lat, which is fine for city- or
// region-sized areas; an area must not cross the antimeridian.
type Area struct {
	mp     orb.MultiPolygon
	bounds []orb.Bound // bounds[i] is the bound of mp[i]'s outer ring
}

// ParseArea reads a service area from GeoJSON (RFC 7946): a Polygon or
// MultiPolygon geometry, a Feature whose geometry is one, or a
// FeatureCollection of such Features (their polygons are merged into one
// area). Anything else is refused: other geometry types (Point, LineString,
// GeometryCollection, ...), a null geometry, an empty collection, positions
// with fewer than 2 numbers or coordinates out of range (lon -180..180, lat
// -90..90), and rings with fewer than 4 positions or whose last position is
// not the first. Winding order is not checked; extra members (properties,
// bbox, id, altitudes) are ignored. Errors wrap ErrInvalidArea and say where
// the problem is.
func ParseArea(geojson []byte) (Area, error) {
	var polys orb.MultiPolygon
	if err := parseAreaObject(geojson, "", &polys, true); err != nil {
		return Area{}, fmt.Errorf("%w: %v", ErrInvalidArea, err)
	}
	if len(polys) == 0 {
		return Area{}, fmt.Errorf("%w: no polygons", ErrInvalidArea)
	}
	return newArea(polys), nil
}

func newArea(mp orb.MultiPolygon) Area {
	a := Area{mp: mp, bounds: make([]orb.Bound, len(mp))}
	for i, p := range mp {
		a.bounds[i] = p[0].Bound()
	}
	return a
}

type geoJSONObject struct {
	Type        *string           `json:"type"`
	Coordinates json.RawMessage   `json:"coordinates"`
	Geometry    json.RawMessage   `json:"geometry"`
	Features    []json.RawMessage `json:"features"`
}

// parseAreaObject appends the polygons of one GeoJSON object to out. where
// prefixes error messages; top tells whether a FeatureCollection is allowed.
func parseAreaObject(data []byte, where string, out *orb.MultiPolygon, top bool) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || bytes.Equal(data, []byte("null")) {
		return fmt.Errorf("%sexpected a GeoJSON object, got nothing or null", where)
	}
	var o geoJSONObject
	if err := json.Unmarshal(data, &o); err != nil {
		return fmt.Errorf("%snot a GeoJSON object: %v", where, err)
	}
	if o.Type == nil {
		return fmt.Errorf(`%smissing "type"`, where)
	}
	switch t := *o.Type; t {
	case "Polygon":
		var rings [][][]float64
		if err := decodeCoordinates(o.Coordinates, &rings); err != nil {
			return fmt.Errorf("%sPolygon: %v", where, err)
		}
		p, err := parsePolygon(rings)
		if err != nil {
			return fmt.Errorf("%sPolygon: %v", where, err)
		}
		*out = append(*out, p)
	case "MultiPolygon":
		var polys [][][][]float64
		if err := decodeCoordinates(o.Coordinates, &polys); err != nil {
			return fmt.Errorf("%sMultiPolygon: %v", where, err)
		}
		if len(polys) == 0 {
			return fmt.Errorf("%sMultiPolygon: no polygons", where)
		}
		for i, rings := range polys {
			p, err := parsePolygon(rings)
			if err != nil {
				return fmt.Errorf("%sMultiPolygon: polygon %d: %v", where, i, err)
			}
			*out = append(*out, p)
		}
	case "Feature":
		g := bytes.TrimSpace(o.Geometry)
		if len(g) == 0 || bytes.Equal(g, []byte("null")) {
			return fmt.Errorf("%sFeature has no geometry", where)
		}
		var inner geoJSONObject
		if err := json.Unmarshal(g, &inner); err != nil {
			return fmt.Errorf("%sFeature geometry: %v", where, err)
		}
		if inner.Type != nil && *inner.Type != "Polygon" && *inner.Type != "MultiPolygon" {
			return fmt.Errorf("%sFeature geometry: type %q is not a Polygon or MultiPolygon", where, *inner.Type)
		}
		return parseAreaObject(g, where+"Feature geometry: ", out, false)
	case "FeatureCollection":
		if !top {
			return fmt.Errorf("%sa FeatureCollection cannot be nested", where)
		}
		if len(o.Features) == 0 {
			return fmt.Errorf("%sFeatureCollection has no features", where)
		}
		for i, f := range o.Features {
			var fo geoJSONObject
			if err := json.Unmarshal(f, &fo); err != nil {
				return fmt.Errorf("%sfeature %d: not a GeoJSON object: %v", where, i, err)
			}
			if fo.Type == nil || *fo.Type != "Feature" {
				return fmt.Errorf("%sfeature %d: not a Feature", where, i)
			}
			if err := parseAreaObject(f, fmt.Sprintf("%sfeature %d: ", where, i), out, false); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("%stype %q is not a Polygon, MultiPolygon, Feature or FeatureCollection", where, t)
	}
	return nil
}

func decodeCoordinates(raw json.RawMessage, v any) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return errors.New(`missing "coordinates"`)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("bad coordinates: %v", err)
	}
	return nil
}

func parsePolygon(rings [][][]float64) (orb.Polygon, error) {
	if len(rings) == 0 {
		return nil, errors.New("no rings")
	}
	p := make(orb.Polygon, len(rings))
	for i, r := range rings {
		ring, err := parseRing(r)
		if err != nil {
			if i == 0 {
				return nil, fmt.Errorf("outer ring: %v", err)
			}
			return nil, fmt.Errorf("hole %d: %v", i, err)
		}
		p[i] = ring
	}
	return p, nil
}

func parseRing(pos [][]float64) (orb.Ring, error) {
	if len(pos) < 4 {
		return nil, fmt.Errorf("has %d positions, a ring needs at least 4", len(pos))
	}
	r := make(orb.Ring, len(pos))
	for i, c := range pos {
		if len(c) < 2 {
			return nil, fmt.Errorf("position %d: needs [lon, lat], got %d numbers", i, len(c))
		}
		lon, lat := c[0], c[1]
		if math.IsNaN(lon) || lon < -180 || lon > 180 {
			return nil, fmt.Errorf("position %d: longitude %v out of range -180..180", i, lon)
		}
		if math.IsNaN(lat) || lat < -90 || lat > 90 {
			return nil, fmt.Errorf("position %d: latitude %v out of range -90..90", i, lat)
		}
		r[i] = orb.Point{lon, lat}
	}
	if r[0] != r[len(r)-1] {
		return nil, fmt.Errorf("not closed: first position %v differs from last %v", pos[0][:2], pos[len(pos)-1][:2])
	}
	return r, nil
}

// Contains reports whether p is in the area: inside some polygon's outer ring
// and not inside one of its holes. A point on an outer ring's edge counts as
// in, a point on a hole's edge as out.
func (a Area) Contains(p Point) bool {
	q := orb.Point{p.Lon, p.Lat}
	for i, poly := range a.mp {
		if a.bounds[i].Contains(q) && planar.PolygonContains(poly, q) {
			return true
		}
	}
	return false
}

// Bound returns the lat/lon box around the area (the zero Bound for the zero
// Area), e.g. to pre-filter customers in a database query.
func (a Area) Bound() Bound {
	if len(a.mp) == 0 {
		return Bound{}
	}
	b := a.bounds[0]
	for _, x := range a.bounds[1:] {
		b = b.Union(x)
	}
	return Bound{MinLat: b.Min[1], MaxLat: b.Max[1], MinLon: b.Min[0], MaxLon: b.Max[0]}
}

// IsZero reports whether a is the zero Area (holds no polygon).
func (a Area) IsZero() bool { return len(a.mp) == 0 }

// GeoJSON returns the area as a GeoJSON geometry that ParseArea reads back
// to an equal area: a Polygon when it has one polygon, else a MultiPolygon
// (the zero Area gives a MultiPolygon with no coordinates, which ParseArea
// refuses).
func (a Area) GeoJSON() []byte {
	var v struct {
		Type        string `json:"type"`
		Coordinates any    `json:"coordinates"`
	}
	switch len(a.mp) {
	case 0:
		v.Type, v.Coordinates = "MultiPolygon", []orb.Polygon{}
	case 1:
		v.Type, v.Coordinates = "Polygon", a.mp[0]
	default:
		v.Type, v.Coordinates = "MultiPolygon", a.mp
	}
	b, err := json.Marshal(v)
	if err != nil {
		// Only finite, in-range coordinates get into an Area.
		panic("geo: marshal area: " + err.Error())
	}
	return b
}
