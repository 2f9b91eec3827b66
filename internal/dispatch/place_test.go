package dispatch

import (
	"errors"
	"strings"
	"testing"

	"github.com/routeloop/routeloop/geo"
	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/program"
)

// Where a booking puts the visit and what it saves, on the straight road
// of line: North's depot at km 0, the day serving km 2 (route position 3)
// and km 4 (route position 7), 68 minutes in all; the visit at km 3, 30
// minutes. Position 0 takes the cheapest place; the visit takes the route
// position of the stop it goes before, or one past the last; what it saves
// is the separate trip less the detour, in metres and minutes.
func TestWhereABookingPutsTheVisit(t *testing.T) {
	pos := func(n int) *int { return &n }
	north := crewRow{ID: 1, ExternalID: "north", Name: "North"}
	nextDoor := crewRow{ID: 2, ExternalID: "south", Name: "South", DepotLat: 3}
	june3 := day(t, "2026-06-03")
	route := func(positions ...*int) []stop {
		a, b := at(1, mark(2), 0), at(2, mark(4), 0)
		a.RoutePosition, b.RoutePosition = positions[0], positions[1]
		return []stop{a, b}
	}
	prog := program.Defaults("t")
	prog.DefaultVisitMinutes = 30
	short := prog
	short.WorkdayMinutes = 97
	exact := prog
	exact.WorkdayMinutes = 98
	for _, c := range []struct {
		name     string
		prog     program.Program
		crews    []crewRow
		stops    []stop
		position int
		want     placement
		refused  string // the error's code, "" when placed
		says     string // a word of the refusal
	}{
		{"the cheapest place: between the two", prog, []crewRow{north}, route(pos(3), pos(7)), 0,
			placement{routePosition: 7, duration: 30, savedMetres: 6000, savedMinutes: 6}, "", ""},
		{"first, asked for", prog, []crewRow{north}, route(pos(3), pos(7)), 1,
			placement{routePosition: 3, duration: 30, savedMetres: 4000, savedMinutes: 4}, "", ""},
		{"last, asked for", prog, []crewRow{north}, route(pos(3), pos(7)), 3,
			placement{routePosition: 8, duration: 30, savedMetres: 6000, savedMinutes: 6}, "", ""},
		{"stops without route positions", prog, []crewRow{north}, route(nil, nil), 2,
			placement{routePosition: 2, duration: 30, savedMetres: 6000, savedMinutes: 6}, "", ""},
		{"an empty day", prog, []crewRow{north}, nil, 0,
			placement{routePosition: 1, duration: 30, savedMetres: 0, savedMinutes: 0}, "", ""},
		{"a depot next door: the detour costs more than the trip", prog, []crewRow{north, nextDoor}, route(pos(3), pos(7)), 1,
			placement{routePosition: 3, duration: 30, savedMetres: -2000, savedMinutes: -2}, "", ""},
		{"ending exactly at the workday's end", exact, []crewRow{north}, route(pos(3), pos(7)), 0,
			placement{routePosition: 7, duration: 30, savedMetres: 6000, savedMinutes: 6}, "", ""},
		{"a minute past it", short, []crewRow{north}, route(pos(3), pos(7)), 0,
			placement{}, apperror.CodeConflict, "North's day on 2026-06-03 is full: it would take 98 of 97 minutes"},
		{"past the route's end", prog, []crewRow{north}, route(pos(3), pos(7)), 4,
			placement{}, apperror.CodeValidation, "choose 1 to 3"},
	} {
		got, err := place(line{}, c.prog, north, c.crews, c.stops, geo.Point{Lat: 3}, 30, c.position, june3)
		var ae *apperror.Error
		switch {
		case c.refused == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.refused == "" && got != c.want:
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		case c.refused != "" && (!errors.As(err, &ae) || ae.Code != c.refused || !strings.Contains(err.Error(), c.says)):
			t.Errorf("%s: %v, want %s saying %q", c.name, err, c.refused, c.says)
		}
	}
}

// What a booking's own fields may be, each limit included, all refusals
// at once.
func TestWhatABookingMayAskFor(t *testing.T) {
	ok := BookInput{CustomerID: "angie", CrewID: "north", Date: "2026-06-03"}
	with := func(f func(*BookInput)) BookInput { in := ok; f(&in); return in }
	for _, c := range []struct {
		name    string
		in      BookInput
		refused string // the fields refused, sorted, comma-separated
	}{
		{"the least", ok, ""},
		{"position 10000", with(func(in *BookInput) { in.Position = 10_000 }), ""},
		{"position 10001", with(func(in *BookInput) { in.Position = 10_001 }), "position"},
		{"position -1", with(func(in *BookInput) { in.Position = -1 }), "position"},
		{"a whole day's visit", with(func(in *BookInput) { in.DurationMin = 1440 }), ""},
		{"a minute more", with(func(in *BookInput) { in.DurationMin = 1441 }), "duration_min"},
		{"the largest price", with(func(in *BookInput) { in.PriceCents = mirror.MaxPriceCents }), ""},
		{"a cent more", with(func(in *BookInput) { in.PriceCents = mirror.MaxPriceCents + 1 }), "price_cents"},
		{"a negative price", with(func(in *BookInput) { in.PriceCents = -1 }), "price_cents"},
		{"no date", with(func(in *BookInput) { in.Date = "" }), "date"},
		{"the 31st of June", with(func(in *BookInput) { in.Date = "2026-06-31" }), "date"},
		{"everything wrong", BookInput{Date: "soon", Position: -1, DurationMin: -1, PriceCents: -1},
			"crew_id,customer_id,date,duration_min,position,price_cents"},
	} {
		d, err := c.in.check()
		var got []string
		var ae *apperror.Error
		if errors.As(err, &ae) {
			got = ae.FieldNames()
		} else if err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if strings.Join(got, ",") != c.refused {
			t.Errorf("%s: refused %v, want %q", c.name, got, c.refused)
		}
		if c.refused == "" && d.String() != c.in.Date {
			t.Errorf("%s: the day %s, want %s", c.name, d, c.in.Date)
		}
	}
}
