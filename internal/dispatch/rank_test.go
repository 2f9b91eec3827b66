package dispatch

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/routeloop/routeloop/geo"
	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/program"
)

func day(t *testing.T, s string) localdate.Date {
	t.Helper()
	d, err := localdate.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// line prices legs on a straight road: a point's latitude is its kilometre
// mark, and the crew drives a kilometre a minute. Every number is exact.
type line struct{}

type lineMatrix []geo.Point

func (line) Matrix(points []geo.Point) (geo.Matrix, error) { return lineMatrix(points), nil }
func (m lineMatrix) Size() int                             { return len(m) }
func (m lineMatrix) Metres(i, j int) float64               { return 1000 * math.Abs(m[i].Lat-m[j].Lat) }
func (m lineMatrix) Minutes(i, j int) float64              { return math.Abs(m[i].Lat - m[j].Lat) }

// at is a stop of customer id at kilometre mark km (nil: not located),
// taking minutes (0: the program's default).
func at(id int64, km *float64, minutes int) stop {
	s := stop{VisitID: id, VisitExternalID: fmt.Sprintf("v%d", id), CustomerID: id, CustomerExt: fmt.Sprintf("c%d", id),
		Address: fmt.Sprintf("%d Maple St, Portland", id)}
	if km != nil {
		lon := 0.0
		s.Lat, s.Lon = km, &lon
	}
	if minutes > 0 {
		s.DurationMin = &minutes
	}
	return s
}

func mark(km float64) *float64 { return &km }

// Where a visit fits into a crew's day and what it saves: on a road where
// North's depot is at km 0 and the day serves km 2 and km 4 (30 minutes
// each, 68 minutes in all), a stop at km 3 goes between them for no extra
// drive, one at km 5 costs 2 km more; the separate trip is given. A
// day that would end exactly at the working day's end fits, a minute more
// does not; an unlocated stop's time counts.
func TestWhereAVisitFitsIntoTheDay(t *testing.T) {
	north := crewRow{ID: 1, ExternalID: "north", Name: "North"}
	june3 := day(t, "2026-06-03")
	prog := program.Defaults("t")
	prog.DefaultVisitMinutes = 30
	withWorkday := func(min int) program.Program { p := prog; p.WorkdayMinutes = min; return p }
	route := []stop{at(1, mark(2), 0), at(2, mark(4), 0)}
	for _, c := range []struct {
		name     string
		prog     program.Program
		stops    []stop
		km       float64
		alone    float64 // metres
		fits     bool
		position int
		addedKm  float64
		addedMin float64
		savedKm  float64
		after    float64
	}{
		{"between the two", prog, route, 3, 6000, true, 2, 0, 30, 6, 98},
		// Before or after km 4 cost the same: the earlier place is taken.
		{"past the last", prog, route, 5, 10_000, true, 2, 2, 32, 8, 100},
		{"before the first", prog, route, 1, 2000, true, 1, 0, 30, 2, 98},
		{"an empty day", prog, nil, 3, 6000, true, 1, 6, 36, 0, 36},
		{"a separate trip shorter than the detour", prog, route, 5, 1000, true, 2, 2, 32, -1, 100},
		{"ending exactly at the workday's end", withWorkday(98), route, 3, 6000, true, 2, 0, 30, 6, 98},
		{"a minute past it", withWorkday(97), route, 3, 6000, false, 0, 0, 0, 0, 0},
		{"an unlocated stop's 20 minutes count", withWorkday(117), append([]stop{at(3, nil, 20)}, route...), 3, 6000, false, 0, 0, 0, 0, 0},
		{"and fit in 118", withWorkday(118), append([]stop{at(3, nil, 20)}, route...), 3, 6000, true, 2, 0, 30, 6, 118},
	} {
		slot, ok, err := fit(line{}, c.prog, north, june3, c.stops, geo.Point{Lat: c.km}, 30, c.alone)
		if err != nil {
			t.Fatal(err)
		}
		if ok != c.fits {
			t.Errorf("%s: fits %v, want %v (%+v)", c.name, ok, c.fits, slot)
			continue
		}
		if !ok {
			continue
		}
		want := Slot{Date: june3, CrewID: "north", CrewName: "North", Position: c.position, StopsThatDay: len(c.stops),
			AddedKm: c.addedKm, AddedMinutes: c.addedMin, StandaloneKm: c.alone / 1000, KmSavedVsStandalone: c.savedKm, DayMinutesAfter: c.after}
		if slot != want {
			t.Errorf("%s:\n got  %+v\n want %+v", c.name, slot, want)
		}
	}
}

// The cheapest separate trip is from the nearest depot and back.
func TestTheSeparateTripIsFromTheNearestDepot(t *testing.T) {
	crews := []crewRow{{ID: 1, DepotLat: 10}, {ID: 2, DepotLat: 4}, {ID: 3, DepotLat: -9}}
	metres, minutes, err := separateTrip(line{}, crews, geo.Point{Lat: 3})
	if err != nil || metres != 2000 || minutes != 2 {
		t.Fatalf("from km 4 to km 3 and back: %g m, %g min, %v; want 2000 m, 2 min", metres, minutes, err)
	}
	if metres, minutes, err := separateTrip(line{}, nil, geo.Point{Lat: 3}); metres != 0 || minutes != 0 || err != nil {
		t.Fatalf("no crews: %g m, %g min, %v", metres, minutes, err)
	}
}

// A linked neighbour on the route counts within the program's radius,
// exactly the radius included.
func TestANeighbourExactlyAtTheRadiusCounts(t *testing.T) {
	for _, c := range []struct {
		metres float64
		within bool
	}{
		{0, true},
		{499.9, true},
		{500, true},
		{math.Nextafter(500, 501), false},
		{500.1, false},
	} {
		if got := withinRadius(c.metres, 500); got != c.within {
			t.Errorf("%v m with a 500 m radius: within %v, want %v", c.metres, got, c.within)
		}
	}
}

// The neighbour a slot names is the first stop that day of a linked
// customer who is located and lives within the radius.
func TestTheLinkedNeighbourASlotNames(t *testing.T) {
	home := geo.Point{Lat: 45.5, Lon: -122.6}
	// Metres north of home, along its meridian (geo's sphere).
	north := func(m float64) *float64 { lat := home.Lat + m*180/(math.Pi*6_378_137); return &lat }
	stopAt := func(id int64, lat *float64) stop {
		s := at(id, nil, 0)
		if lat != nil {
			lon := home.Lon
			s.Lat, s.Lon = lat, &lon
		}
		return s
	}
	near, far, unlocated, stranger, second := stopAt(1, north(120)), stopAt(2, north(900)), stopAt(3, nil), stopAt(4, north(10)), stopAt(5, north(300))
	linked := map[int64]bool{1: true, 2: true, 3: true, 5: true}
	for _, c := range []struct {
		name  string
		stops []stop
		want  string // the customer named, "" for none
	}{
		{"no one that day", nil, ""},
		{"a stranger next door", []stop{stranger}, ""},
		{"a linked neighbour 900 m away", []stop{far}, ""},
		{"a linked neighbour without a location", []stop{unlocated}, ""},
		{"a linked neighbour 120 m away", []stop{stranger, far, unlocated, near}, "c1"},
		{"the first of two within the radius", []stop{second, near}, "c5"},
	} {
		got := linkedNeighborOn(c.stops, linked, home, 500)
		switch {
		case c.want == "" && got != nil:
			t.Errorf("%s: named %+v", c.name, got)
		case c.want != "" && (got == nil || got.CustomerID != c.want):
			t.Errorf("%s: named %+v, want %s", c.name, got, c.want)
		}
	}
	got := linkedNeighborOn([]stop{near}, linked, home, 500)
	if want := (NeighborOnDay{CustomerID: "c1", Street: "1 Maple St", VisitID: "v1"}); got == nil || *got != want {
		t.Fatalf("named %+v, want %+v", got, want)
	}
}

// How slots rank: a linked neighbour that day first, whatever it adds;
// then the fewest minutes added; then the earliest day; then the crew's
// id; slots alike in all four keep the order they came in. Ten are kept
// unless the window asks for another number.
func TestHowSlotsRank(t *testing.T) {
	ben := &NeighborOnDay{CustomerID: "ben"}
	slot := func(date, crew string, minutes float64, neighbour *NeighborOnDay, position int) Slot {
		return Slot{Date: day(t, date), CrewID: crew, AddedMinutes: minutes, LinkedNeighbor: neighbour, Position: position}
	}
	describe := func(ss []Slot) string {
		out := make([]string, len(ss))
		for i, s := range ss {
			out[i] = fmt.Sprintf("%s %s %g #%d", s.Date, s.CrewID, s.AddedMinutes, s.Position)
		}
		return strings.Join(out, ", ")
	}
	for _, c := range []struct {
		name  string
		slots []Slot
		limit int
		want  string
	}{
		{"the linked neighbour's day beats a cheaper one",
			[]Slot{slot("2026-06-03", "north", 12, nil, 1), slot("2026-06-05", "south", 40, ben, 1)}, 0,
			"2026-06-05 south 40 #1, 2026-06-03 north 12 #1"},
		{"two neighbour days: fewer minutes first",
			[]Slot{slot("2026-06-03", "north", 20, ben, 1), slot("2026-06-05", "south", 15, ben, 1)}, 0,
			"2026-06-05 south 15 #1, 2026-06-03 north 20 #1"},
		{"equal minutes: the earlier day",
			[]Slot{slot("2026-06-05", "north", 15, nil, 1), slot("2026-06-03", "south", 15, nil, 1)}, 0,
			"2026-06-03 south 15 #1, 2026-06-05 north 15 #1"},
		{"equal day: the crew's id",
			[]Slot{slot("2026-06-03", "south", 15, nil, 1), slot("2026-06-03", "north", 15, nil, 1)}, 0,
			"2026-06-03 north 15 #1, 2026-06-03 south 15 #1"},
		{"alike in all four: as they came",
			[]Slot{slot("2026-06-03", "north", 15, nil, 2), slot("2026-06-03", "north", 15, nil, 1)}, 0,
			"2026-06-03 north 15 #2, 2026-06-03 north 15 #1"},
		{"a limit of one keeps the best",
			[]Slot{slot("2026-06-03", "north", 15, nil, 1), slot("2026-06-04", "north", 5, nil, 1)}, 1,
			"2026-06-04 north 5 #1"},
	} {
		if got := describe(rankSlots(c.slots, c.limit)); got != c.want {
			t.Errorf("%s:\n got  %s\n want %s", c.name, got, c.want)
		}
	}
	var many []Slot
	for i := range 12 {
		many = append(many, slot("2026-06-03", "north", float64(12-i), nil, i))
	}
	ranked := rankSlots(many, 0)
	if len(ranked) != 10 || ranked[0].AddedMinutes != 1 || ranked[9].AddedMinutes != 10 {
		t.Fatalf("12 slots without a limit: %s; want the 10 cheapest", describe(ranked))
	}
}

// Which days are offered: weekdays, and a weekend only when the crew
// already works it; never a day the customer is already on a route.
func TestWhichDaysAreOffered(t *testing.T) {
	for _, c := range []struct {
		date    string
		stops   int
		busy    bool
		offered bool
	}{
		{"2026-06-01", 0, false, true},  // Monday
		{"2026-06-05", 0, false, true},  // Friday
		{"2026-06-06", 0, false, false}, // Saturday, no one booked
		{"2026-06-07", 0, false, false}, // Sunday
		{"2026-06-06", 1, false, true},  // Saturday the crew works
		{"2026-06-01", 3, true, false},  // Monday, the customer already on a route
	} {
		if got := dayOffered(day(t, c.date), c.stops, c.busy); got != c.offered {
			t.Errorf("%s with %d stops, busy %v: offered %v, want %v", c.date, c.stops, c.busy, got, c.offered)
		}
	}
	days := map[crewDay][]stop{{1, day(t, "2026-06-03")}: {at(7, nil, 0)}, {2, day(t, "2026-06-04")}: {at(8, nil, 0)}}
	busy := busyDays(days, 7)
	if !busy[day(t, "2026-06-03")] || busy[day(t, "2026-06-04")] {
		t.Fatalf("customer 7 is on a route on June 3 only: %v", busy)
	}
	if busy := busyDays(days, 0); busy[day(t, "2026-06-03")] || busy[day(t, "2026-06-04")] {
		t.Fatalf("a friend not yet a customer is busy on no day: %v", busy)
	}
}

// The suggestion window: tomorrow to 14 days ahead unless asked; it may
// start today but not before, must not end before it starts, and spans at
// most 62 days after its first.
func TestTheSuggestionWindow(t *testing.T) {
	today := day(t, "2026-06-01")
	d := func(s string) *localdate.Date { x := day(t, s); return &x }
	for _, c := range []struct {
		name     string
		w        Window
		from, to string
		refused  string // the field refused, "" when none
	}{
		{"the default", Window{}, "2026-06-02", "2026-06-15", ""},
		{"from today", Window{From: d("2026-06-01")}, "2026-06-01", "2026-06-15", ""},
		{"from yesterday", Window{From: d("2026-05-31")}, "", "", "from"},
		{"one day", Window{From: d("2026-06-10"), To: d("2026-06-10")}, "2026-06-10", "2026-06-10", ""},
		{"ending before it starts", Window{From: d("2026-06-10"), To: d("2026-06-09")}, "", "", "to"},
		{"62 days after the first", Window{From: d("2026-06-02"), To: d("2026-08-03")}, "2026-06-02", "2026-08-03", ""},
		{"63 days after the first", Window{From: d("2026-06-02"), To: d("2026-08-04")}, "", "", "to"},
	} {
		from, to, err := suggestWindow(today, c.w)
		var ae *apperror.Error
		switch {
		case c.refused == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.refused == "" && (from.String() != c.from || to.String() != c.to):
			t.Errorf("%s: %s to %s, want %s to %s", c.name, from, to, c.from, c.to)
		case c.refused != "" && (!errors.As(err, &ae) || ae.Fields[c.refused] == ""):
			t.Errorf("%s: %v, want %s refused", c.name, err, c.refused)
		}
	}
}
