package geo

import (
	"math"
	"slices"
)

// Item is something with an ID at a point, to be put in an Index.
type Item struct {
	ID    int64
	Point Point
}

// Hit is an item found by an Index query, with its DistanceM from the query
// point.
type Hit struct {
	ID        int64
	DistanceM float64
}

// bandDeg is the height of an Index latitude band: about 111 m, so a 500 m
// query visits ~10 bands.
const bandDeg = 0.001

// numBands is the number of latitude bands between -90 and 90.
const numBands = int32(180 / bandDeg)

// Index answers "which items are near this point" in memory.
//
// Layout: items are bucketed into latitude bands bandDeg high and, inside a
// band, sorted by longitude, stored column-wise (lat, lon, id: 24 bytes an
// item). A query takes the boxes of BoundsAround, and for every non-empty band
// the box overlaps it binary-searches the box's longitude range and checks
// only the items in that run, so the work is a handful of binary searches
// plus the items in (roughly) the bounding box, whatever the longitude span
// (the all-longitude boxes near the poles cost one binary search per band).
// The exact great-circle distance DistanceM decides membership; the layout
// only narrows.
//
// An Index is immutable after NewIndex and safe for concurrent use.
type Index struct {
	bandID    []int32 // sorted ids of non-empty bands
	bandStart []int32 // items of bandID[i] are [bandStart[i], bandStart[i+1])
	lat       []float64
	lon       []float64
	id        []int64
}

// bandOf returns the band of a latitude in [-90, 90]. It is monotone in lat.
func bandOf(lat float64) int32 {
	b := int32(math.Floor((lat + 90) / bandDeg))
	if b < 0 {
		return 0
	}
	if b >= numBands {
		return numBands - 1
	}
	return b
}

// NewIndex builds an index of items. Items whose point fails CheckLat or
// CheckLon (NaN, out of range) are left out: they are never found and not
// counted by Len. Several items may share an ID or a point. The items slice
// is not retained.
func NewIndex(items []Item) *Index {
	if len(items) > math.MaxInt32 {
		panic("geo: NewIndex: too many items")
	}
	// Counting sort by band (dense counts over the occupied band range),
	// then sort each band by longitude.
	bands := make([]int32, len(items))
	valid := 0
	lowBand, highBand := numBands, int32(-1)
	for i, it := range items {
		if CheckLat(it.Point.Lat) != nil || CheckLon(it.Point.Lon) != nil {
			bands[i] = -1
			continue
		}
		b := bandOf(it.Point.Lat)
		bands[i] = b
		lowBand, highBand = min(lowBand, b), max(highBand, b)
		valid++
	}
	ix := &Index{
		lat: make([]float64, valid),
		lon: make([]float64, valid),
		id:  make([]int64, valid),
	}
	if valid == 0 {
		return ix
	}
	// next[b-lowBand] counts band b's items, then becomes its write position.
	next := make([]int32, highBand-lowBand+1)
	for _, b := range bands {
		if b >= 0 {
			next[b-lowBand]++
		}
	}
	var off int32
	for j, n := range next {
		if n == 0 {
			continue
		}
		ix.bandID = append(ix.bandID, lowBand+int32(j))
		ix.bandStart = append(ix.bandStart, off)
		next[j] = off
		off += n
	}
	ix.bandStart = append(ix.bandStart, off)

	// Place (lon, item index) pairs by band, then sort each band's run by
	// longitude in place (contiguous, so the sort stays in cache).
	type key struct {
		lon float64
		i   int32
	}
	order := make([]key, valid)
	for i, b := range bands {
		if b < 0 {
			continue
		}
		order[next[b-lowBand]] = key{items[i].Point.Lon, int32(i)}
		next[b-lowBand]++
	}
	for k := range ix.bandID {
		slices.SortFunc(order[ix.bandStart[k]:ix.bandStart[k+1]], func(a, b key) int {
			switch {
			case a.lon < b.lon:
				return -1
			case a.lon > b.lon:
				return 1
			}
			return 0
		})
	}
	for j, o := range order {
		it := items[o.i]
		ix.lat[j], ix.lon[j], ix.id[j] = it.Point.Lat, it.Point.Lon, it.ID
	}

	// Rough items per m² over the bounding box (at least 100 m x 100 m).
	return ix
}

// scan calls fn(i, d) for every indexed item i with d = DistanceM(p, item)
// <= radiusM.
func (ix *Index) scan(p Point, radiusM float64, fn func(i int, d float64)) {
	if len(ix.id) == 0 || math.IsNaN(radiusM) || radiusM < 0 {
		return
	}
	for _, b := range BoundsAround(p, radiusM) {
		lo, hi := bandOf(b.MinLat), bandOf(b.MaxLat)
		k, _ := slices.BinarySearch(ix.bandID, lo)
		for ; k < len(ix.bandID) && ix.bandID[k] <= hi; k++ {
			start, end := int(ix.bandStart[k]), int(ix.bandStart[k+1])
			// first item of the band with lon >= b.MinLon
			i, j := start, end
			for i < j {
				h := int(uint(i+j) >> 1)
				if ix.lon[h] < b.MinLon {
					i = h + 1
				} else {
					j = h
				}
			}
			for ; i < end && ix.lon[i] <= b.MaxLon; i++ {
				la := ix.lat[i]
				if la < b.MinLat || la > b.MaxLat {
					continue
				}
				if d := DistanceM(p, Point{Lat: la, Lon: ix.lon[i]}); d <= radiusM {
					fn(i, d)
				}
			}
		}
	}
}

// Each calls fn once for every item with DistanceM(p, item) <= radiusM,
// in no particular order: the caller orders the hits its own way. A
// negative or NaN radius finds nothing; radius 0 finds the items exactly
// at p.
func (ix *Index) Each(p Point, radiusM float64, fn func(Hit)) {
	ix.scan(p, radiusM, func(i int, d float64) {
		fn(Hit{ID: ix.id[i], DistanceM: d})
	})
}
