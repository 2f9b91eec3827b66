package geo

import (
	"math"
	"slices"
	"testing"
)

func TestCell(t *testing.T) {
	// x, y and quadkey from orb's maptile.At(p, 16) (checked against maptile
	// on 2M random points when this was written; maptile itself cannot be
	// imported without adding mongo-driver to go.mod).
	tests := []struct {
		name string
		p    Point
		x, y uint32
		id   int64
	}{
		{"Portland", Point{45.5152, -122.6784}, 10435, 23441, 650826247},
		{"null island", Point{0, 0}, 32768, 32768, 3221225472},
		{"Sydney", Point{-33.8688, 151.2093}, 60294, 39327, 3603415742},
		{"London", Point{51.5074, -0.1278}, 32744, 21792, 930569280},
		{"near the north pole: top row", Point{89.9, 10}, 34588, 0, 1075118416},
		{"near the south pole: bottom row", Point{-89.9, 10}, 34588, 65535, 3938429946},
		{"top-right tile", Point{85.0511, 179.9999}, 65535, 0, 1431655765},
		{"lon -180: first column", Point{0, -180}, 0, 32768, 2147483648},
		{"lon 180: last column, not the first", Point{0, 180}, 65535, 32768, 3221225472 | 1431655765},
		{"north pole", Point{90, 10}, 34588, 0, 1075118416},
		{"south pole", Point{-90, 10}, 34588, 65535, 3938429946},
		{"just above the mercator limit", Point{MaxMercatorLat + 1e-9, 0}, 32768, 0, quadkey(32768, 0)},
		{"just below the mercator limit", Point{-MaxMercatorLat - 1e-9, 0}, 32768, 65535, quadkey(32768, 65535)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := Cell(tt.p)
			x, y := CellXY(id)
			if id != tt.id || x != tt.x || y != tt.y {
				t.Errorf("Cell(%v) = %d (x %d, y %d), want %d (x %d, y %d)", tt.p, id, x, y, tt.id, tt.x, tt.y)
			}
		})
	}
	if Cell(Point{0, 180}) == Cell(Point{0, -180}) {
		t.Errorf("lon 180 and -180 share a cell; CellsCovering relies on them not to")
	}
	for _, v := range []uint32{0, 1, 2, 12345, 65535} {
		if x, y := CellXY(quadkey(v, 65535-v)); x != v || y != 65535-v {
			t.Errorf("CellXY(quadkey(%d, %d)) = %d, %d", v, 65535-v, x, y)
		}
	}
}

func TestCellsCovering(t *testing.T) {
	portland := Point{45.5152, -122.6784}
	const big = 1 << 20
	tests := []struct {
		name     string
		p        Point
		radius   float64
		maxCells int
		ok       bool
		check    func(t *testing.T, cells []int64)
	}{
		{"radius 0 is the point's cell", portland, 0, 1, true, func(t *testing.T, cells []int64) {
			if len(cells) != 1 || cells[0] != Cell(portland) {
				t.Errorf("cells %v, want [%d]", cells, Cell(portland))
			}
		}},
		{"500 m in a city", portland, 500, 100, true, func(t *testing.T, cells []int64) {
			if len(cells) < 4 || len(cells) > 16 {
				t.Errorf("%d cells for 500 m, want 4..16", len(cells))
			}
		}},
		{"too many cells", portland, 500, 3, false, nil},
		{"maxCells 0", portland, 0, 0, false, nil},
		{"invalid point", Point{math.NaN(), 0}, 500, big, false, nil},
		{"antimeridian: both edge columns", Point{0, 179.999}, 500, 100, true, func(t *testing.T, cells []int64) {
			var xs []uint32
			for _, c := range cells {
				x, _ := CellXY(c)
				xs = append(xs, x)
			}
			if !slices.Contains(xs, 0) || !slices.Contains(xs, 65535) {
				t.Errorf("columns %v, want both 0 and 65535", xs)
			}
		}},
		{"at 89° all cells are in the top row", Point{89, 0}, 500, 1000, true, func(t *testing.T, cells []int64) {
			for _, c := range cells {
				if _, y := CellXY(c); y != 0 {
					t.Errorf("cell %d has row %d, want 0", c, y)
				}
			}
			// the box is ~0.52° of longitude wide: ~94 columns
			if len(cells) < 80 || len(cells) > 110 {
				t.Errorf("%d cells, want about 94", len(cells))
			}
		}},
		{"reaching the pole needs every column", Point{89.999, 0}, 500, 65535, false, nil},
		{"reaching the pole, allowed", Point{-89.999, 0}, 500, 65536, true, func(t *testing.T, cells []int64) {
			if len(cells) != 65536 {
				t.Errorf("%d cells, want the whole bottom row (65536)", len(cells))
			}
		}},
		{"straddling the mercator limit includes the top row", Point{85.05, 3}, 500, 1000, true, func(t *testing.T, cells []int64) {
			if _, y := CellXY(cells[0]); y != 0 {
				t.Errorf("no top-row cell in %v", cells)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cells, ok := CellsCovering(tt.p, tt.radius, tt.maxCells)
			if ok != tt.ok {
				t.Fatalf("CellsCovering(%v, %v, %d) ok = %v, want %v (%d cells)", tt.p, tt.radius, tt.maxCells, ok, tt.ok, len(cells))
			}
			if !ok {
				if cells != nil {
					t.Errorf("cells %v with ok=false", cells)
				}
				return
			}
			if !slices.IsSorted(cells) || len(slices.Compact(slices.Clone(cells))) != len(cells) {
				t.Errorf("cells not sorted and unique")
			}
			if len(cells) > tt.maxCells {
				t.Errorf("%d cells > maxCells %d", len(cells), tt.maxCells)
			}
			if _, found := slices.BinarySearch(cells, Cell(tt.p)); !found {
				t.Errorf("the point's own cell is missing")
			}
			if tt.check != nil {
				tt.check(t, cells)
			}
		})
	}
}

// For every q within radius of p, Cell(q) is in CellsCovering(p, radius).
func TestCellsCoveringContainsEveryNearbyCell(t *testing.T) {
	r := newRand(t, 5)
	checked := 0
	for n := 0; n < 1500; n++ {
		var p Point
		switch {
		case n < len(specialCentres)*20:
			p = specialCentres[n%len(specialCentres)]
		case n%3 == 0: // high latitudes, around the mercator limit
			p = Point{(80 + r.Float64()*10) * float64(1-2*r.IntN(2)), r.Float64()*360 - 180}
		case n%3 == 1: // near the antimeridian
			p = Point{r.Float64()*170 - 85, (180 - r.Float64()*0.05) * float64(1-2*r.IntN(2))}
		default:
			p = randomWorld(r)
		}
		radius := math.Exp(r.Float64() * math.Log(5000)) // 1 m .. 5 km
		if n%10 == 0 {
			radius = 0
		}
		cells, ok := CellsCovering(p, radius, 1<<18)
		if !ok {
			t.Fatalf("CellsCovering(%v, %v) needs more than 2^18 cells", p, radius)
		}
		for m := 0; m < 30; m++ {
			q := p
			if radius > 0 {
				q = randomNear(r, p, radius)
			}
			if DistanceM(p, q) > radius {
				continue
			}
			checked++
			if _, found := slices.BinarySearch(cells, Cell(q)); !found {
				x, y := CellXY(Cell(q))
				t.Fatalf("p %v radius %v: q %v (%.3f m) is in cell %d (x %d, y %d), not among the %d covering cells",
					p, radius, q, DistanceM(p, q), Cell(q), x, y, len(cells))
			}
		}
	}
	if checked < 10000 {
		t.Fatalf("only %d points checked", checked)
	}
}

// compact is the inverse of spread.
func compact(x uint64) uint32 {
	x &= 0x5555555555555555
	x = (x | x>>1) & 0x3333333333333333
	x = (x | x>>2) & 0x0F0F0F0F0F0F0F0F
	x = (x | x>>4) & 0x00FF00FF00FF00FF
	x = (x | x>>8) & 0x0000FFFF0000FFFF
	x = (x | x>>16) & 0x00000000FFFFFFFF
	return uint32(x)
}

// CellXY (for the tests) returns the tile column and row (x, y at CellZoom) of a cell id.
func CellXY(cell int64) (x, y uint32) {
	return compact(uint64(cell)), compact(uint64(cell) >> 1)
}
