package referral

import (
	"math"
	"strings"
	"testing"

	"github.com/routeloop/routeloop/geo"
	"github.com/routeloop/routeloop/internal/program"
)

// Angie lives at 14 SE Maple St; every friend below is placed north of her.
var angieHome = geo.Point{Lat: 45.4655, Lon: -122.6501}

// north is a point metres north of Angie, along her meridian of a sphere
// of 6,378,137 m (geo's); TestTheTestPointsAreWhereTheySay checks it.
func north(m float64) *geo.Point {
	return &geo.Point{Lat: angieHome.Lat + m*180/(math.Pi*6_378_137), Lon: angieHome.Lon}
}

func angie() *person {
	lat, lon := angieHome.Lat, angieHome.Lon
	return &person{ID: 1, ExternalID: "angie", Lat: &lat, Lon: &lon, EmailNorm: "angie@example.com",
		PhoneNorm: "+15035550100", StreetNorm: "14 se maple st"}
}

// codes lists the flags' codes in order.
func codes(flags []Flag) string {
	cs := make([]string, len(flags))
	for i, f := range flags {
		cs[i] = f.Code
	}
	return strings.Join(cs, ",")
}

// Every fraud flag a new referral can raise, and where each one starts:
// burst_max referrals in burst_hours are fine and the next one is a burst;
// a friend closer than 15 m is the referrer's household; the friend's
// customer record is checked once attached; flags come in a fixed order.
func TestTheFraudFlagsAndTheirBoundaries(t *testing.T) {
	// Portland's service area: a box around Angie's street, 0.1° a side.
	area := `{"type":"Polygon","coordinates":[[[-122.70,45.42],[-122.60,45.42],[-122.60,45.52],[-122.70,45.52],[-122.70,45.42]]]}`
	prog := program.Defaults("t")
	prog.BurstMax, prog.BurstHours = 3, 24
	withArea := prog
	withArea.ServiceAreas = area
	ben := func() *person {
		p := north(160)
		return &person{ID: 2, ExternalID: "ben", Lat: &p.Lat, Lon: &p.Lon, EmailNorm: "ben@example.com", PhoneNorm: "+15035550199", StreetNorm: "30 se maple st"}
	}
	for _, c := range []struct {
		name   string
		prog   program.Program
		facts  checkFacts
		ev     fraudEvidence
		want   string // the flags' codes, in order
		reason string // a word of the first flag's reason
	}{
		{name: "a friend down the street", prog: prog, facts: checkFacts{referrer: angie(), emailNorm: "ben@example.com", point: north(160)}},
		{name: "no referrer known", prog: prog, facts: checkFacts{emailNorm: "angie@example.com", point: north(0)}, ev: fraudEvidence{recent: 99}},
		{name: "her own e-mail", prog: prog, facts: checkFacts{referrer: angie(), emailNorm: "angie@example.com"},
			want: FlagSelfReferral, reason: "same e-mail"},
		{name: "her own phone", prog: prog, facts: checkFacts{referrer: angie(), phoneNorm: "+15035550100"},
			want: FlagSelfReferral, reason: "same phone"},
		{name: "her own street", prog: prog, facts: checkFacts{referrer: angie(), street: "14 se maple st"},
			want: FlagSelfReferral, reason: "same address"},
		{name: "her own customer record", prog: prog, facts: checkFacts{referrer: angie(), referee: angie()},
			want: FlagSelfReferral, reason: "own customer record"},
		{name: "14 m away", prog: prog, facts: checkFacts{referrer: angie(), point: north(14)},
			want: FlagSelfReferral, reason: "same household"},
		{name: "16 m away", prog: prog, facts: checkFacts{referrer: angie(), point: north(16)}},
		{name: "the friend's record, attached, has her phone", prog: prog,
			facts: checkFacts{referrer: angie(), referee: &person{ID: 3, ExternalID: "cara", PhoneNorm: "+15035550100"}, emailNorm: "cara@example.com"},
			want:  FlagSelfReferral, reason: "same phone"},
		{name: "the friend's record lives next door", prog: prog,
			facts: checkFacts{referrer: angie(), referee: &person{ID: 3, ExternalID: "cara", Lat: &north(5).Lat, Lon: &north(5).Lon}, point: north(160)},
			want:  FlagSelfReferral, reason: "same household"},
		{name: "the third referral in a day (burst_max 3)", prog: prog, facts: checkFacts{referrer: angie()}, ev: fraudEvidence{recent: 2}},
		{name: "the fourth referral in a day", prog: prog, facts: checkFacts{referrer: angie()}, ev: fraudEvidence{recent: 3},
			want: FlagBurst, reason: "4 times in the last 24 hours (more than 3)"},
		{name: "a friend already a customer", prog: prog, facts: checkFacts{referrer: angie(), referee: ben()},
			ev:   fraudEvidence{alreadyCustomer: "ben was already a customer before the referral (already invoiced)"},
			want: FlagAlreadyCustomer, reason: "already invoiced"},
		{name: "inside the service area", prog: withArea, facts: checkFacts{referrer: angie(), point: north(160)}},
		{name: "outside the service area", prog: withArea, facts: checkFacts{referrer: angie(), point: north(20_000)},
			want: FlagOutsideArea, reason: "outside every service area"},
		{name: "no location: no area to be outside of", prog: withArea, facts: checkFacts{referrer: angie()}},
		{name: "every flag at once, in order", prog: withArea,
			facts: checkFacts{referrer: angie(), referee: ben(), emailNorm: "angie@example.com", point: north(20_000)},
			ev:    fraudEvidence{recent: 5, alreadyCustomer: "ben was already a customer"},
			want:  FlagSelfReferral + "," + FlagBurst + "," + FlagAlreadyCustomer + "," + FlagOutsideArea, reason: "same e-mail"},
	} {
		flags, _, _ := fraudFlags(c.prog, c.facts, c.ev)
		if got := codes(flags); got != c.want {
			t.Errorf("%s: flags %q, want %q (%v)", c.name, got, c.want, flags)
			continue
		}
		if c.reason != "" && !strings.Contains(flags[0].Reason, c.reason) {
			t.Errorf("%s: reason %q does not say %q", c.name, flags[0].Reason, c.reason)
		}
	}
}

// The helpers above place friends where the tests say they do.
func TestTheTestPointsAreWhereTheySay(t *testing.T) {
	for _, m := range []float64{14, 16, 160, 499.6, 500.4} {
		if d := geo.DistanceM(angieHome, *north(m)); math.Abs(d-m) > 0.001 {
			t.Fatalf("north(%v) is %v m away", m, d)
		}
	}
}

// A friend closer than 15 m is the same household; at exactly 15 m, a
// neighbour.
func TestTheHouseholdEndsAtFifteenMetres(t *testing.T) {
	for _, c := range []struct {
		metres float64
		same   bool
	}{
		{0, true},
		{math.Nextafter(SelfReferralMetres, 0), true},
		{SelfReferralMetres, false},
		{15.01, false},
	} {
		if got := sameHousehold(c.metres); got != c.same {
			t.Errorf("%v m apart: same household %v, want %v", c.metres, got, c.same)
		}
	}
}

// The distance a referral records is in whole metres, and the friend is
// within the neighbour radius when that is at most the radius: 500.4 m is
// recorded as 500 and within 500 m, 500.5 m as 501 and outside.
func TestTheNeighbourRadiusCountsWholeMetres(t *testing.T) {
	for _, c := range []struct {
		metres float64
		d      int
		within bool
	}{
		{0, 0, true},
		{499.6, 500, true},
		{500, 500, true},
		{500.4, 500, true},
		{500.5, 501, false},
		{1200, 1200, false},
	} {
		d, within := homesApart(c.metres, 500)
		if d != c.d || within != c.within {
			t.Errorf("%v m: recorded %d m, within %v; want %d m, %v", c.metres, d, within, c.d, c.within)
		}
	}
	// fraudFlags records it so between the two homes.
	prog := program.Defaults("t")
	for _, c := range []struct {
		metres float64
		d      int
		within bool
	}{{499.6, 500, true}, {500.4, 500, true}, {160, 160, true}} {
		_, d, within := fraudFlags(prog, checkFacts{referrer: angie(), point: north(c.metres)}, fraudEvidence{})
		if d == nil {
			t.Errorf("a friend %v m north: no distance recorded", c.metres)
		} else if *d != c.d || within != c.within {
			t.Errorf("a friend %v m north: %d m, within %v; want %d m, %v", c.metres, *d, within, c.d, c.within)
		}
	}
	if _, d, within := fraudFlags(prog, checkFacts{referrer: angie()}, fraudEvidence{}); d != nil || within {
		t.Errorf("a friend without a location: %v m, within %v", d, within)
	}
}

// A new referral is a duplicate when the friend was already referred
// (flags or not), waits for review when flagged, and is pending otherwise.
func TestTheStatusANewReferralIsRecordedWith(t *testing.T) {
	dave := "dave"
	won := &earlier{ID: 7, Referrer: &dave, Status: StatusConverted}
	burst := []Flag{{FlagBurst, "a burst"}}
	for _, c := range []struct {
		name      string
		flags     []Flag
		first     *earlier
		status    string
		duplicate int64 // 0: none
		note      string
	}{
		{"clean", nil, nil, StatusPending, 0, ""},
		{"no flags, empty list", []Flag{}, nil, StatusPending, 0, ""},
		{"flagged", burst, nil, StatusPendingReview, 0, ""},
		{"already referred by dave", nil, won, StatusDuplicate, 7, "referred by dave (referral #7)"},
		{"flagged and already referred", burst, won, StatusDuplicate, 7, "the first referral wins"},
	} {
		status, dup, note := verdict(c.flags, c.first)
		gotDup := int64(0)
		if dup != nil {
			gotDup = *dup
		}
		if status != c.status || gotDup != c.duplicate || (c.note == "") != (note == "") || !strings.Contains(note, c.note) {
			t.Errorf("%s: %s, duplicate of %d, %q; want %s, %d, %q", c.name, status, gotDup, note, c.status, c.duplicate, c.note)
		}
	}
}

// A new referral's line in the decision log names its channel, then each
// flag's reason in order, then the note.
func TestTheDecisionLogLineOfANewReferral(t *testing.T) {
	for _, c := range []struct {
		name    string
		channel string
		flags   []Flag
		note    string
		want    string
	}{
		{"clean", "card", []Flag{}, "", "recorded via card"},
		{"two flags", "link", []Flag{{FlagBurst, "a burst"}, {FlagOutsideArea, "far away"}}, "",
			"recorded via link; flagged: a burst; flagged: far away"},
		{"a duplicate", "code", nil, "referred by dave (referral #7)", "recorded via code; referred by dave (referral #7)"},
		{"flagged and a duplicate", "sms", []Flag{{FlagBurst, "a burst"}}, "the first referral wins",
			"recorded via sms; flagged: a burst; the first referral wins"},
	} {
		if got := recordedWhy(c.channel, c.flags, c.note); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
