package geo

import (
	"math"
	"slices"
)

// CellZoom is the web-mercator zoom of database cells. A zoom-16 tile is
// about 611 m wide at the equator (about 430 m at 45°), so a 500 m query
// usually needs 9 to 16 cells.
const CellZoom = 16

// cellsPerSide is the number of tiles along each axis at CellZoom.
const cellsPerSide = 1 << CellZoom

// MaxMercatorLat is the latitude where web mercator stops, about 85.0511°.
// Cell puts points nearer the poles in the top or bottom row of tiles.
const MaxMercatorLat = 85.05112877980659 // atan(sinh(π)) in degrees

// Cell returns the id of the web-mercator tile at zoom CellZoom that
// contains p. The id is the tile's quadkey as an integer: bit 2i holds bit i
// of the tile's x, bit 2i+1 bit i of its y (x grows east from -180, y grows
// south from the top edge), exactly orb's maptile.Tile.Quadkey, so
// maptile.FromQuadkey(uint64(id), CellZoom) recovers the tile. Ids are in
// [0, 2^32); sorted ids follow a Z-order curve.
//
// The tile is the one maptile.At(p, CellZoom) would return, with two edges
// defined:
//   - |lat| beyond MaxMercatorLat (up to the poles) falls in the top (y = 0)
//     or bottom (y = 2^16-1) row of tiles: the row is stretched to the pole;
//   - lon = 180 falls in the last column (x = 2^16-1), next to lon 179.99,
//     not in the column of lon -180.
//
// p should pass CheckLat and CheckLon; otherwise the latitude is clamped,
// the longitude wrapped, and NaN read as 0.
func Cell(p Point) int64 {
	return quadkey(cellX(p.Lon), cellY(p.Lat))
}

// cellX is the tile column of a longitude; it is non-decreasing on
// [-180, 180].
func cellX(lon float64) uint32 {
	if math.IsNaN(lon) {
		lon = 0
	} else if !math.IsInf(lon, 0) {
		lon = wrapLon(lon)
	}
	// Same expression as maptile.Fraction.
	f := (lon/360.0 + 0.5) * cellsPerSide
	switch {
	case !(f > 0):
		return 0
	case f >= cellsPerSide-1:
		return cellsPerSide - 1
	}
	return uint32(f)
}

// cellY is the tile row of a latitude; it is non-increasing in lat.
func cellY(lat float64) uint32 {
	if math.IsNaN(lat) {
		lat = 0
	}
	if lat >= MaxMercatorLat {
		return 0
	}
	if lat <= -MaxMercatorLat {
		return cellsPerSide - 1
	}
	// Same expression as maptile.Fraction.
	siny := math.Sin(lat * math.Pi / 180.0)
	f := (0.5 + 0.5*math.Log((1.0+siny)/(1.0-siny))/(-2*math.Pi)) * cellsPerSide
	switch {
	case !(f > 0):
		return 0
	case f >= cellsPerSide-1:
		return cellsPerSide - 1
	}
	return uint32(f)
}

// quadkey interleaves x (even bits) and y (odd bits), like maptile.
func quadkey(x, y uint32) int64 {
	return int64(spread(x) | spread(y)<<1)
}

// spread moves bit i of v to bit 2i.
func spread(v uint32) uint64 {
	x := uint64(v)
	x = (x | x<<16) & 0x0000FFFF0000FFFF
	x = (x | x<<8) & 0x00FF00FF00FF00FF
	x = (x | x<<4) & 0x0F0F0F0F0F0F0F0F
	x = (x | x<<2) & 0x3333333333333333
	x = (x | x<<1) & 0x5555555555555555
	return x
}

// CellsCovering returns, sorted, the ids of every cell that intersects the
// boxes of BoundsAround(p, radiusM), so that Cell(q) is among them for every
// q with DistanceM(p, q) <= radiusM; the antimeridian is handled by the split
// boxes. A box reaching beyond MaxMercatorLat includes the top or bottom row
// of tiles (where Cell puts polar points); a box reaching a pole spans all
// 65,536 columns and so normally exceeds maxCells.
//
// It returns (nil, false) when more than maxCells cells would be needed, or
// when p fails CheckLat/CheckLon; the caller then falls back to a lat/lon box
// query on BoundsAround.
func CellsCovering(p Point, radiusM float64, maxCells int) ([]int64, bool) {
	if CheckLat(p.Lat) != nil || CheckLon(p.Lon) != nil || maxCells <= 0 {
		return nil, false
	}
	boxes := BoundsAround(p, radiusM)
	// All boxes share the latitude range.
	y0, y1 := cellY(boxes[0].MaxLat), cellY(boxes[0].MinLat)
	type span struct{ lo, hi uint32 }
	xs := make([]span, 0, len(boxes))
	for _, b := range boxes {
		xs = append(xs, span{cellX(b.MinLon), cellX(b.MaxLon)})
	}
	slices.SortFunc(xs, func(a, b span) int { return int(a.lo) - int(b.lo) })
	merged := xs[:1]
	for _, s := range xs[1:] {
		last := &merged[len(merged)-1]
		if s.lo <= last.hi+1 {
			last.hi = max(last.hi, s.hi)
		} else {
			merged = append(merged, s)
		}
	}
	var n int64
	for _, s := range merged {
		n += int64(s.hi-s.lo+1) * int64(y1-y0+1)
	}
	if n > int64(maxCells) {
		return nil, false
	}
	cells := make([]int64, 0, n)
	for _, s := range merged {
		for x := s.lo; x <= s.hi; x++ {
			for y := y0; y <= y1; y++ {
				cells = append(cells, quadkey(x, y))
			}
		}
	}
	slices.Sort(cells)
	return cells, true
}
