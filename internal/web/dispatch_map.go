package web

import (
	"math"
	"strconv"
	"strings"

	"github.com/routeloop/routeloop/internal/dispatch"
)

// The route map's box, in SVG user units.
const (
	mapWidth   = 520
	mapHeight  = 340
	mapPadding = 30
	// mapMinSpanDeg keeps a day of one or two close points from being
	// blown up to the whole box (about 600 m).
	mapMinSpanDeg = 0.006
)

type mapPoint struct{ X, Y string }

type mapStop struct {
	X, Y, LabelY string
	Number       int
	Name         string
	Linked       bool
}

type mapLink struct{ X1, Y1, X2, Y2, Names string }

// routeMap is a crew's day drawn for the template: the depot, the drive as
// one polyline (depot, stops in order, depot), the stops numbered, and the
// linked neighbour pairs as thick lines.
type routeMap struct {
	Width, Height int
	Depot         mapPoint
	Line          string
	Stops         []mapStop
	Links         []mapLink
	Label         string
}

func coord(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', 1, 64) }

// drawRoute projects the day onto the box: equirectangular, longitude
// scaled by the cosine of the day's mean latitude, fitted to the day's
// points (depot and located stops) with equal scale on both axes.
func drawRoute(r dispatch.DayRoute) *routeMap {
	type ll struct{ lat, lon float64 }
	pts := []ll{{r.DepotLat, r.DepotLon}}
	var idx []int // index in r.Stops of each located stop
	for i, s := range r.Stops {
		if s.Lat != nil && s.Lon != nil {
			pts = append(pts, ll{*s.Lat, *s.Lon})
			idx = append(idx, i)
		}
	}
	var latSum float64
	for _, p := range pts {
		latSum += p.lat
	}
	k := math.Cos(latSum / float64(len(pts)) * math.Pi / 180)
	if k < 0.01 {
		k = 0.01
	}
	xs, ys := make([]float64, len(pts)), make([]float64, len(pts))
	minX, maxX, minY, maxY := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for i, p := range pts {
		xs[i], ys[i] = p.lon*k, p.lat
		minX, maxX = math.Min(minX, xs[i]), math.Max(maxX, xs[i])
		minY, maxY = math.Min(minY, ys[i]), math.Max(maxY, ys[i])
	}
	grow := func(lo, hi float64) (float64, float64) {
		if hi-lo < mapMinSpanDeg {
			mid := (lo + hi) / 2
			return mid - mapMinSpanDeg/2, mid + mapMinSpanDeg/2
		}
		return lo, hi
	}
	minX, maxX = grow(minX, maxX)
	minY, maxY = grow(minY, maxY)
	innerW, innerH := float64(mapWidth-2*mapPadding), float64(mapHeight-2*mapPadding)
	scale := math.Min(innerW/(maxX-minX), innerH/(maxY-minY))
	offX := mapPadding + (innerW-(maxX-minX)*scale)/2
	offY := mapPadding + (innerH-(maxY-minY)*scale)/2
	px := func(i int) (float64, float64) {
		return offX + (xs[i]-minX)*scale, offY + (maxY-ys[i])*scale // north up
	}

	m := &routeMap{Width: mapWidth, Height: mapHeight}
	dx, dy := px(0)
	m.Depot = mapPoint{coord(dx), coord(dy)}
	line := []string{coord(dx) + "," + coord(dy)}
	where := map[string]int{} // customer → point index
	for j, si := range idx {
		x, y := px(j + 1)
		s := r.Stops[si]
		where[s.CustomerID] = j + 1
		line = append(line, coord(x)+","+coord(y))
		labelY := y - 13
		if labelY < 10 {
			labelY = y + 22
		}
		m.Stops = append(m.Stops, mapStop{X: coord(x), Y: coord(y), LabelY: coord(labelY), Number: si + 1, Name: s.Name,
			Linked: len(s.LinkedNeighbors) > 0})
	}
	if len(idx) > 0 {
		line = append(line, coord(dx)+","+coord(dy))
	}
	m.Line = strings.Join(line, " ")
	for _, si := range idx {
		s := r.Stops[si]
		a := where[s.CustomerID]
		for _, n := range s.LinkedNeighbors {
			b, ok := where[n]
			if !ok || b <= a {
				continue // each pair once
			}
			x1, y1 := px(a)
			x2, y2 := px(b)
			m.Links = append(m.Links, mapLink{X1: coord(x1), Y1: coord(y1), X2: coord(x2), Y2: coord(y2),
				Names: s.Name + " and " + r.Stops[idx[b-1]].Name})
		}
	}
	m.Label = r.CrewName + "'s route on " + r.Date.String() + ": " + strconv.Itoa(len(r.Stops)) + " stops, " + kmText(r.TotalKm)
	return m
}
