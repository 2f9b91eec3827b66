package geo

import (
	"errors"
	"strings"
	"testing"
)

// A 1°-ish square around (45.5, -122.6) with a hole in the middle, and a
// separate small square further east.
const (
	squareWithHole = `{"type":"Polygon","coordinates":[
		[[-123,45],[-122,45],[-122,46],[-123,46],[-123,45]],
		[[-122.7,45.4],[-122.7,45.6],[-122.5,45.6],[-122.5,45.4],[-122.7,45.4]]]}`
	smallSquare = `{"type":"Polygon","coordinates":[[[-120,45],[-119.9,45],[-119.9,45.1],[-120,45.1],[-120,45]]]}`
)

func TestParseAreaAccepts(t *testing.T) {
	multi := `{"type":"MultiPolygon","coordinates":[` +
		`[[[-123,45],[-122,45],[-122,46],[-123,46],[-123,45]],[[-122.7,45.4],[-122.7,45.6],[-122.5,45.6],[-122.5,45.4],[-122.7,45.4]]],` +
		`[[[-120,45],[-119.9,45],[-119.9,45.1],[-120,45.1],[-120,45]]]]}`
	feature := func(g string) string {
		return `{"type":"Feature","id":7,"properties":{"name":"north"},"geometry":` + g + `}`
	}
	inHole, inSquare, inSmall, outside := Point{45.5, -122.6}, Point{45.2, -122.9}, Point{45.05, -119.95}, Point{47, -122.6}
	tests := []struct {
		name       string
		json       string
		in, out    []Point
		wantGeoTyp string
	}{
		{"polygon with a hole", squareWithHole, []Point{inSquare}, []Point{inHole, outside, inSmall}, "Polygon"},
		{"multipolygon", multi, []Point{inSquare, inSmall}, []Point{inHole, outside}, "MultiPolygon"},
		{"feature", feature(squareWithHole), []Point{inSquare}, []Point{inHole, inSmall}, "Polygon"},
		{"feature collection merges", `{"type":"FeatureCollection","features":[` + feature(squareWithHole) + `,` + feature(smallSquare) + `]}`,
			[]Point{inSquare, inSmall}, []Point{inHole, outside}, "MultiPolygon"},
		{"altitudes and bbox ignored", `{"type":"Polygon","bbox":[-120,45,-119.9,45.1],"coordinates":[[[-120,45,10],[-119.9,45,10],[-119.9,45.1,10],[-120,45.1,10],[-120,45,10]]]}`,
			[]Point{inSmall}, []Point{inSquare}, "Polygon"},
		{"points on the outer edge are in, on a hole's edge out", squareWithHole,
			[]Point{{45, -122.5}, {46, -123}}, []Point{{45.4, -122.6}}, "Polygon"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ParseArea([]byte(tt.json))
			if err != nil {
				t.Fatalf("ParseArea: %v", err)
			}
			check := func(a Area, label string) {
				for _, p := range tt.in {
					if !a.Contains(p) {
						t.Errorf("%s: Contains(%v) = false, want true", label, p)
					}
				}
				for _, p := range tt.out {
					if a.Contains(p) {
						t.Errorf("%s: Contains(%v) = true, want false", label, p)
					}
				}
			}
			check(a, "parsed")
			out := a.GeoJSON()
			if !strings.HasPrefix(string(out), `{"type":"`+tt.wantGeoTyp+`"`) {
				t.Errorf("GeoJSON() = %s, want a %s", out, tt.wantGeoTyp)
			}
			back, err := ParseArea(out)
			if err != nil {
				t.Fatalf("ParseArea(GeoJSON()) = %v for %s", err, out)
			}
			check(back, "round trip")
			if string(back.GeoJSON()) != string(out) {
				t.Errorf("round trip changed the GeoJSON:\n%s\n%s", out, back.GeoJSON())
			}
		})
	}
}

func TestParseAreaRefuses(t *testing.T) {
	tests := []struct{ name, json, wantInErr string }{
		{"empty", ``, "nothing"},
		{"null", `null`, "nothing or null"},
		{"not json", `{"type":`, "not a GeoJSON object"},
		{"trailing garbage", squareWithHole + `x`, "not a GeoJSON object"},
		{"array", `[1,2]`, "not a GeoJSON object"},
		{"no type", `{"coordinates":[]}`, `missing "type"`},
		{"point", `{"type":"Point","coordinates":[1,2]}`, `"Point" is not a Polygon`},
		{"line", `{"type":"LineString","coordinates":[[1,2],[3,4]]}`, `"LineString" is not a Polygon`},
		{"geometry collection", `{"type":"GeometryCollection","geometries":[` + squareWithHole + `]}`, `"GeometryCollection" is not`},
		{"lower-case type", `{"type":"polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}`, `"polygon" is not`},
		{"no coordinates", `{"type":"Polygon"}`, `missing "coordinates"`},
		{"no rings", `{"type":"Polygon","coordinates":[]}`, "no rings"},
		{"ring of 3 positions", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}`, "has 3 positions, a ring needs at least 4"},
		{"ring not closed", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}`, "not closed"},
		{"hole not closed", `{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[0,4],[0,0]],[[1,1],[2,1],[2,2],[1,2]]]}`, "hole 1: not closed"},
		{"latitude out of range", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,91],[0,0]]]}`, "latitude 91 out of range"},
		{"longitude out of range", `{"type":"Polygon","coordinates":[[[0,0],[181,0],[1,1],[0,0]]]}`, "longitude 181 out of range"},
		{"position with one number", `{"type":"Polygon","coordinates":[[[0,0],[1],[1,1],[0,0]]]}`, "position 1: needs [lon, lat]"},
		{"coordinates of the wrong shape", `{"type":"Polygon","coordinates":[[0,0],[1,0],[1,1],[0,0]]}`, "bad coordinates"},
		{"string coordinate", `{"type":"Polygon","coordinates":[[[0,0],["1",0],[1,1],[0,0]]]}`, "bad coordinates"},
		{"empty multipolygon", `{"type":"MultiPolygon","coordinates":[]}`, "no polygons"},
		{"bad polygon in multipolygon", `{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[0,0],[1,0],[0,0]]]]}`, "polygon 1: outer ring: has 3 positions"},
		{"feature without geometry", `{"type":"Feature","properties":{},"geometry":null}`, "Feature has no geometry"},
		{"feature with a point", `{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]}}`, `type "Point" is not a Polygon or MultiPolygon`},
		{"feature with a feature", `{"type":"Feature","geometry":{"type":"Feature","geometry":` + smallSquare + `}}`, `type "Feature" is not a Polygon`},
		{"empty feature collection", `{"type":"FeatureCollection","features":[]}`, "no features"},
		{"collection with a bare geometry", `{"type":"FeatureCollection","features":[` + smallSquare + `]}`, "feature 0: not a Feature"},
		{"collection with a line feature", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":` + smallSquare +
			`},{"type":"Feature","geometry":{"type":"LineString","coordinates":[[1,2],[3,4]]}}]}`, `feature 1: Feature geometry: type "LineString"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ParseArea([]byte(tt.json))
			if err == nil {
				t.Fatalf("ParseArea accepted %s", tt.json)
			}
			if !errors.Is(err, ErrInvalidArea) {
				t.Errorf("error %v does not wrap ErrInvalidArea", err)
			}
			if !strings.Contains(err.Error(), tt.wantInErr) {
				t.Errorf("error %q does not mention %q", err, tt.wantInErr)
			}
			if !a.IsZero() {
				t.Errorf("got a non-zero Area with an error")
			}
		})
	}
}

func TestAreaZeroAndBound(t *testing.T) {
	var zero Area
	if zero.Contains(Point{0, 0}) || !zero.IsZero() || zero.Bound() != (Bound{}) {
		t.Errorf("zero Area misbehaves")
	}
	if _, err := ParseArea(zero.GeoJSON()); err == nil {
		t.Errorf("the zero Area's GeoJSON %s was accepted", zero.GeoJSON())
	}
	a, err := ParseArea([]byte(`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":` + squareWithHole +
		`},{"type":"Feature","geometry":` + smallSquare + `}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := a.Bound(), (Bound{MinLat: 45, MaxLat: 46, MinLon: -123, MaxLon: -119.9}); got != want {
		t.Errorf("Bound = %+v, want %+v", got, want)
	}
}
