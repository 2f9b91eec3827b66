package web

import (
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/routeloop/routeloop/geo"
	"github.com/routeloop/routeloop/internal/dispatch"
)

// The route map's box, in SVG user units: about a pixel each on a phone,
// so a marker stays a finger's width wherever the map is drawn.
const (
	mapWidth   = 360
	mapHeight  = 240
	mapPadding = 24
	// mapMinSpanDeg keeps a day of one or two close points from being
	// blown up to the whole box (about 600 m).
	mapMinSpanDeg = 0.006
	// markerRadius is a stop's circle; markers closer than clusterGap
	// (under 7% of the map's width: their circles touch) crowd each other
	// and get a zoomed inset.
	markerRadius = 10
	clusterGap   = 2*markerRadius + 4
	maxInsets    = 2
	// The inset's box, and the smallest span it zooms to (about 45 m), so
	// two visits at one address do not fill it.
	insetWidth      = 360
	insetHeight     = 200
	insetPadding    = 24
	insetMinSpanDeg = 0.0004
)

// projection places WGS84 points on a map's box and back: equirectangular,
// longitude scaled by k (the cosine of the mean latitude), north up, the
// same scale on both axes. A point is at
// x = OffX + (lon·k − MinX)·Scale, y = OffY + (MaxY − lat)·Scale.
type projection struct {
	K, MinX, MaxY, Scale, OffX, OffY float64
}

// fitProjection fits the points into a w×h box inside pad, each axis
// spanning at least minSpan degrees (centred on the points).
func fitProjection(pts []geo.Point, w, h, pad, minSpan float64) projection {
	var latSum float64
	for _, p := range pts {
		latSum += p.Lat
	}
	k := 1.0
	if len(pts) > 0 {
		k = math.Cos(latSum / float64(len(pts)) * math.Pi / 180)
	}
	k = math.Max(k, 0.01)
	minX, maxX, minY, maxY := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, p := range pts {
		minX, maxX = math.Min(minX, p.Lon*k), math.Max(maxX, p.Lon*k)
		minY, maxY = math.Min(minY, p.Lat), math.Max(maxY, p.Lat)
	}
	if len(pts) == 0 {
		minX, maxX, minY, maxY = 0, 0, 0, 0
	}
	grow := func(lo, hi float64) (float64, float64) {
		if hi-lo < minSpan {
			mid := (lo + hi) / 2
			return mid - minSpan/2, mid + minSpan/2
		}
		return lo, hi
	}
	minX, maxX = grow(minX, maxX)
	minY, maxY = grow(minY, maxY)
	innerW, innerH := w-2*pad, h-2*pad
	scale := math.Min(innerW/(maxX-minX), innerH/(maxY-minY))
	return projection{K: k, MinX: minX, MaxY: maxY, Scale: scale,
		OffX: pad + (innerW-(maxX-minX)*scale)/2, OffY: pad + (innerH-(maxY-minY)*scale)/2}
}

// xy is where a point falls on the box.
func (p projection) xy(pt geo.Point) (x, y float64) {
	return p.OffX + (pt.Lon*p.K-p.MinX)*p.Scale, p.OffY + (p.MaxY-pt.Lat)*p.Scale
}

// point is the location under a place on the box: the inverse of xy.
func (p projection) point(x, y float64) geo.Point {
	return geo.Point{Lat: p.MaxY - (y-p.OffY)/p.Scale, Lon: ((x-p.OffX)/p.Scale + p.MinX) / p.K}
}

// String is the projection as a form field carries it (six numbers).
func (p projection) String() string {
	parts := make([]string, 0, 6)
	for _, v := range []float64{p.K, p.MinX, p.MaxY, p.Scale, p.OffX, p.OffY} {
		parts = append(parts, strconv.FormatFloat(v, 'g', -1, 64))
	}
	return strings.Join(parts, ",")
}

var errBadProjection = errors.New("not a map projection")

// parseProjection reads what String wrote; anything else is refused.
func parseProjection(s string) (projection, error) {
	parts := strings.Split(s, ",")
	if len(s) > 200 || len(parts) != 6 {
		return projection{}, errBadProjection
	}
	var v [6]float64
	for i, part := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e9 {
			return projection{}, errBadProjection
		}
		v[i] = f
	}
	p := projection{K: v[0], MinX: v[1], MaxY: v[2], Scale: v[3], OffX: v[4], OffY: v[5]}
	if p.K < 0.01 || p.K > 1 || p.Scale <= 0 {
		return projection{}, errBadProjection
	}
	return p, nil
}

func coord(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', 1, 64) }

type mapPoint struct{ X, Y string }

// mapStop is a numbered marker; the name is only the marker's tooltip
// (<title>), never text drawn on the map: names are in the stop list.
type mapStop struct {
	X, Y           string
	Number         int
	Name           string
	Linked, Booked bool
}

type mapLink struct{ X1, Y1, X2, Y2, Names string }

// mapRect is the part of the map an inset shows, outlined on the map.
type mapRect struct{ X, Y, W, H string }

// routeInset is a zoomed view of stops that crowd each other on the map;
// what falls outside its box is cut off (Path is the drive within it).
type routeInset struct {
	Width, Height int
	Label         string
	Path          string
	Depot         *mapPoint
	Stops         []mapStop
	Links         []mapLink
	Area          mapRect
}

// routeMap is a crew's day drawn for the template: the depot, the drive as
// one polyline (depot, stops in order, depot), the stops as numbered
// markers (the numbers of the stop list beside it), the linked neighbour
// pairs as thick lines, and zoomed insets where markers crowd.
type routeMap struct {
	Width, Height int
	Depot         mapPoint
	Line          string
	Stops         []mapStop
	Links         []mapLink
	Label         string
	Insets        []routeInset
}

// dayPoints are a day's depot and located stops, with each stop's index
// in r.Stops.
func dayPoints(r dispatch.DayRoute) (depot geo.Point, stops []geo.Point, idx []int) {
	depot = geo.Point{Lat: r.DepotLat, Lon: r.DepotLon}
	for i, s := range r.Stops {
		if s.Lat != nil && s.Lon != nil {
			stops = append(stops, geo.Point{Lat: *s.Lat, Lon: *s.Lon})
			idx = append(idx, i)
		}
	}
	return depot, stops, idx
}

// drawing is one projection of a day: the polyline, markers and links.
type drawing struct {
	depot mapPoint
	line  string
	stops []mapStop
	links []mapLink
	xs    []float64 // marker positions, by located stop
	ys    []float64
	// path is the drive's points (depot, stops, depot); linkXY the links'
	// ends, for cutting to an inset's box.
	path   [][2]float64
	linkXY [][4]float64
}

// draw projects a day's route with pr; booked names the visit to highlight.
func draw(r dispatch.DayRoute, pr projection, booked string) drawing {
	depot, pts, idx := dayPoints(r)
	var d drawing
	dx, dy := pr.xy(depot)
	d.depot = mapPoint{coord(dx), coord(dy)}
	line := []string{coord(dx) + "," + coord(dy)}
	d.path = append(d.path, [2]float64{dx, dy})
	where := map[string]int{} // customer → located index
	for j, si := range idx {
		x, y := pr.xy(pts[j])
		s := r.Stops[si]
		where[s.CustomerID] = j
		d.xs, d.ys = append(d.xs, x), append(d.ys, y)
		line = append(line, coord(x)+","+coord(y))
		d.path = append(d.path, [2]float64{x, y})
		d.stops = append(d.stops, mapStop{X: coord(x), Y: coord(y), Number: si + 1, Name: s.Name,
			Linked: len(s.LinkedNeighbors) > 0, Booked: booked != "" && s.VisitID == booked})
	}
	if len(idx) > 0 {
		line = append(line, coord(dx)+","+coord(dy))
		d.path = append(d.path, [2]float64{dx, dy})
	}
	d.line = strings.Join(line, " ")
	for j, si := range idx {
		s := r.Stops[si]
		for _, n := range s.LinkedNeighbors {
			b, ok := where[n]
			if !ok || b <= j {
				continue // each pair once
			}
			d.links = append(d.links, mapLink{X1: coord(d.xs[j]), Y1: coord(d.ys[j]), X2: coord(d.xs[b]), Y2: coord(d.ys[b]),
				Names: s.Name + " and " + r.Stops[idx[b]].Name})
			d.linkXY = append(d.linkXY, [4]float64{d.xs[j], d.ys[j], d.xs[b], d.ys[b]})
		}
	}
	return d
}

// drawRoute draws the day fitted to its points (depot and located stops),
// the visit booked (if any) highlighted, with an inset for each group of
// markers that crowd each other.
func drawRoute(r dispatch.DayRoute, booked string) *routeMap {
	depot, pts, idx := dayPoints(r)
	pr := fitProjection(append([]geo.Point{depot}, pts...), mapWidth, mapHeight, mapPadding, mapMinSpanDeg)
	d := draw(r, pr, booked)
	m := &routeMap{Width: mapWidth, Height: mapHeight, Depot: d.depot, Line: d.line, Stops: d.stops, Links: d.links}
	stops := strconv.Itoa(len(r.Stops)) + " stops"
	if len(r.Stops) == 1 {
		stops = "1 stop"
	}
	m.Label = r.CrewName + "'s route on " + r.Date.String() + ": " + stops + ", " + kmText(r.TotalKm) + "; the numbers are the stops in the list"
	for _, group := range crowded(d.xs, d.ys) {
		var cluster []geo.Point
		var numbers []string
		for _, j := range group {
			cluster = append(cluster, pts[j])
			numbers = append(numbers, strconv.Itoa(idx[j]+1))
		}
		ip := fitProjection(cluster, insetWidth, insetHeight, insetPadding, insetMinSpanDeg)
		z := draw(r, ip, booked)
		in := routeInset{Width: insetWidth, Height: insetHeight, Path: clipPath(z.path, insetWidth, insetHeight)}
		for i, st := range z.stops {
			if inBox(z.xs[i], z.ys[i], insetWidth, insetHeight) {
				in.Stops = append(in.Stops, st)
			}
		}
		for _, l := range z.linkXY {
			if x1, y1, x2, y2, ok := clipSegment(l[0], l[1], l[2], l[3], insetWidth, insetHeight); ok {
				in.Links = append(in.Links, mapLink{X1: coord(x1), Y1: coord(y1), X2: coord(x2), Y2: coord(y2)})
			}
		}
		if x, y := ip.xy(depot); x >= 0 && x <= insetWidth && y >= 0 && y <= insetHeight {
			in.Depot = &z.depot
		}
		// The inset's area, outlined on the map.
		nw, se := ip.point(0, 0), ip.point(insetWidth, insetHeight)
		x1, y1 := pr.xy(nw)
		x2, y2 := pr.xy(se)
		in.Area = mapRect{X: coord(x1), Y: coord(y1), W: coord(math.Max(x2-x1, 1)), H: coord(math.Max(y2-y1, 1))}
		across := geo.DistanceM(ip.point(0, insetHeight/2), ip.point(insetWidth, insetHeight/2))
		in.Label = fmt.Sprintf("Zoomed in on stops %s, close together (the box is about %s across)", andList(numbers), distanceText(across, 10))
		m.Insets = append(m.Insets, in)
	}
	return m
}

// inBox reports whether a marker at (x, y), ring included, lies inside a
// w×h box.
func inBox(x, y, w, h float64) bool {
	const m = markerRadius + 5
	return x >= m && x <= w-m && y >= m && y <= h-m
}

// clipPath is the part of a polyline inside a w×h box, as SVG path data:
// each visible stretch its own "M … L …".
func clipPath(pts [][2]float64, w, h float64) string {
	var b strings.Builder
	var lastX, lastY float64
	open := false
	for i := 1; i < len(pts); i++ {
		x1, y1, x2, y2, ok := clipSegment(pts[i-1][0], pts[i-1][1], pts[i][0], pts[i][1], w, h)
		if !ok {
			open = false
			continue
		}
		if !open || math.Abs(x1-lastX) > 0.05 || math.Abs(y1-lastY) > 0.05 {
			fmt.Fprintf(&b, "M%s %s", coord(x1), coord(y1))
		}
		fmt.Fprintf(&b, "L%s %s", coord(x2), coord(y2))
		lastX, lastY, open = x2, y2, true
	}
	return b.String()
}

// clipSegment cuts a segment to a w×h box (Liang–Barsky); ok is false
// when none of it is inside.
func clipSegment(x1, y1, x2, y2, w, h float64) (float64, float64, float64, float64, bool) {
	dx, dy := x2-x1, y2-y1
	t0, t1 := 0.0, 1.0
	for _, e := range [][2]float64{{-dx, x1}, {dx, w - x1}, {-dy, y1}, {dy, h - y1}} {
		p, q := e[0], e[1]
		if p == 0 {
			if q < 0 {
				return 0, 0, 0, 0, false
			}
			continue
		}
		r := q / p
		if p < 0 {
			t0 = math.Max(t0, r)
		} else {
			t1 = math.Min(t1, r)
		}
		if t0 > t1 {
			return 0, 0, 0, 0, false
		}
	}
	return x1 + t0*dx, y1 + t0*dy, x1 + t1*dx, y1 + t1*dy, true
}

// crowded groups the markers closer than clusterGap to one another
// (chains count: a near b near c is one group), largest first, at most
// maxInsets groups of two or more.
func crowded(xs, ys []float64) [][]int {
	n := len(xs)
	joined := geo.NewGroups(n)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			if math.Hypot(xs[i]-xs[j], ys[i]-ys[j]) < clusterGap {
				joined.Join(i, j)
			}
		}
	}
	byRoot := map[int][]int{}
	for i := 0; i < n; i++ {
		byRoot[joined.Root(i)] = append(byRoot[joined.Root(i)], i)
	}
	var groups [][]int
	for _, g := range byRoot {
		if len(g) >= 2 {
			groups = append(groups, g)
		}
	}
	sort.Slice(groups, func(a, b int) bool {
		if len(groups[a]) != len(groups[b]) {
			return len(groups[a]) > len(groups[b])
		}
		return groups[a][0] < groups[b][0]
	})
	if len(groups) > maxInsets {
		groups = groups[:maxInsets]
	}
	return groups
}

// andList writes "1, 2 and 3".
func andList(xs []string) string {
	if len(xs) < 2 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

// The location picker: the map of the route near a lead, shown as an
// <input type="image"> so a click sends its x and y without JavaScript.
// Its box is drawn one unit to a pixel and shown at exactly that size, so
// a click at (x, y) pixels is (x, y) on the box (it fits a 390 px phone).
const (
	pickerWidth   = 300
	pickerHeight  = 200
	pickerPadding = 20
	// pickerNearM: the route's stops this close to the referrer's home are
	// on the picker; pickerMinSpanDeg shows at least about 1 km around it.
	pickerNearM      = 1500
	pickerMinSpanDeg = 0.01
)

// locationPicker is the picker for the template: the image and the
// projection it was drawn with (sent back with the click).
type locationPicker struct {
	Src           template.URL
	Width, Height int
	Projection    string
	Alt           string
}

// pickerMap draws the map a dispatcher clicks to place a lead: the home of
// whoever referred them (home, when known) and the route r (when there is
// one) with its stops near home, fitted to those points.
func pickerMap(r *dispatch.DayRoute, home *geo.Point) (locationPicker, projection) {
	var fit []geo.Point
	if home != nil {
		fit = append(fit, *home)
	}
	if r != nil {
		depot, pts, _ := dayPoints(*r)
		for _, p := range append([]geo.Point{depot}, pts...) {
			if home == nil || geo.DistanceM(*home, p) <= pickerNearM {
				fit = append(fit, p)
			}
		}
	}
	pr := fitProjection(fit, pickerWidth, pickerHeight, pickerPadding, pickerMinSpanDeg)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">`,
		pickerWidth, pickerHeight, pickerWidth, pickerHeight)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#f3f6f2"/>`, pickerWidth, pickerHeight)
	// A faint grid, so the distance is readable: lines every 200 m.
	step := 200.0 / 111_195 * pr.Scale
	for step < 20 { // a map of many km: lines every 1, 5, 25 km
		step *= 5
	}
	for x := math.Mod(pr.OffX, step); x < pickerWidth; x += step {
		fmt.Fprintf(&b, `<line x1="%s" y1="0" x2="%s" y2="%d" stroke="#dfe7e1" stroke-width="1"/>`, coord(x), coord(x), pickerHeight)
	}
	for y := math.Mod(pr.OffY, step); y < pickerHeight; y += step {
		fmt.Fprintf(&b, `<line x1="0" y1="%s" x2="%d" y2="%s" stroke="#dfe7e1" stroke-width="1"/>`, coord(y), pickerWidth, coord(y))
	}
	if r != nil {
		d := draw(*r, pr, "")
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="#55706a" stroke-width="2.5" stroke-linejoin="round"/>`, d.line)
		fmt.Fprintf(&b, `<rect x="%s" y="%s" width="14" height="14" transform="translate(-7 -7)" fill="#1d2b24"/>`, d.depot.X, d.depot.Y)
		for _, s := range d.stops {
			fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="%d" fill="#fff" stroke="#2f7d4f" stroke-width="2.5"/>`, s.X, s.Y, markerRadius)
			fmt.Fprintf(&b, `<text x="%s" y="%s" font-family="sans-serif" font-size="11" font-weight="700" text-anchor="middle" dominant-baseline="central" fill="#1d2b24">%d</text>`,
				s.X, s.Y, s.Number)
		}
	}
	if home != nil {
		x, y := pr.xy(*home)
		fmt.Fprintf(&b, `<path d="M%s %s l12 12 l-12 12 l-12 -12 z" transform="translate(0 -12)" fill="#d97706" stroke="#7a4b00" stroke-width="2"/>`,
			coord(x), coord(y))
	}
	b.WriteString(`</svg>`)
	return locationPicker{
		Src:   template.URL("data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString([]byte(b.String()))),
		Width: pickerWidth, Height: pickerHeight, Projection: pr.String(),
	}, pr
}

// pickedPoint turns a click on the picker (pixels of the image as shown,
// which are units of its box) back into a location, with the projection
// the image was drawn with.
func pickedPoint(x, y int, proj string) (geo.Point, error) {
	pr, err := parseProjection(proj)
	if err != nil {
		return geo.Point{}, err
	}
	if x < 0 || y < 0 || x > pickerWidth || y > pickerHeight {
		return geo.Point{}, errors.New("the click is outside the map")
	}
	return pr.point(float64(x), float64(y)), nil
}
