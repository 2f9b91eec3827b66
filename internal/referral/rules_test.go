package referral

import (
	"strings"
	"testing"
	"time"

	"github.com/routeloop/routeloop/geo"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/program"
)

// A friend living closer than SelfReferralMetres is the same household;
// at exactly that distance or more, a neighbour.
func TestSelfReferralDistanceBoundary(t *testing.T) {
	home := geo.Point{Lat: 45.4655, Lon: -122.6501}
	lat, lon := home.Lat, home.Lon
	referrer := person{ID: 1, ExternalID: "angie", Lat: &lat, Lon: &lon, EmailNorm: "angie@example.com", PhoneNorm: "+15035550100", StreetNorm: "14 se maple st"}
	// Metres north of home: one degree of latitude is about 111,195 m.
	north := func(m float64) *geo.Point { return &geo.Point{Lat: home.Lat + m/111_195, Lon: home.Lon} }
	for _, c := range []struct {
		name    string
		referee *person
		email   string
		phone   string
		street  string
		p       *geo.Point
		flagged string // "" when not flagged, else a word of the reason
	}{
		{"14.9 m away", nil, "", "", "", north(14.9), "same household"},
		{"15.1 m away", nil, "", "", "", north(15.1), ""},
		{"her own record", &person{ID: 1}, "", "", "", nil, "own customer record"},
		{"her e-mail", nil, "angie@example.com", "", "", nil, "same e-mail"},
		{"her phone", nil, "", "+15035550100", "", nil, "same phone"},
		{"her street", nil, "", "", "14 se maple st", nil, "same address"},
		{"a stranger", &person{ID: 2}, "ben@example.com", "+15035550199", "30 se maple st", north(160), ""},
	} {
		flags := selfReferral(referrer, c.referee, c.email, c.phone, c.street, c.p)
		switch {
		case c.flagged == "" && len(flags) > 0:
			t.Errorf("%s: flagged %v", c.name, flags)
		case c.flagged != "" && (len(flags) != 1 || flags[0].Code != FlagSelfReferral || !strings.Contains(flags[0].Reason, c.flagged)):
			t.Errorf("%s: %v, want a self-referral naming %q", c.name, flags, c.flagged)
		}
	}
}

// The friend may qualify up to attribution_days after the referral, counted
// in the tenant's days: the last day of the window still converts.
func TestTheAttributionWindowEdges(t *testing.T) {
	loc, _ := time.LoadLocation("America/Los_Angeles")
	prog := program.Program{AttributionDays: 60}
	// 23:30 in Portland on 1 May is already 2 May in UTC: the window counts from 1 May.
	created := time.Date(2026, 5, 2, 6, 30, 0, 0, time.UTC)
	for _, c := range []struct {
		qualified string
		expired   bool
	}{
		{"2026-05-01", false},
		{"2026-06-30", false}, // day 60
		{"2026-07-01", true},  // day 61
		{"2027-06-05", true},
	} {
		d, err := localdate.Parse(c.qualified)
		if err != nil {
			t.Fatal(err)
		}
		why := outsideWindow(prog, created, loc, d)
		if (why != "") != c.expired {
			t.Errorf("qualified on %s: %q, expired want %v", c.qualified, why, c.expired)
		}
		if c.expired && !strings.Contains(why, "window closed on 2026-06-30") {
			t.Errorf("qualified on %s: the reason %q does not name the window's last day", c.qualified, why)
		}
	}
}

// What a duplicate says names the referral (and referrer) that won.
func TestADuplicateNamesTheReferralThatWon(t *testing.T) {
	dave := "dave"
	why := duplicateReason(&earlier{ID: 7, Referrer: &dave})
	if !strings.Contains(why, "dave") || !strings.Contains(why, "referral #7") {
		t.Fatalf("%q", why)
	}
	if why := duplicateReason(&earlier{ID: 8}); !strings.Contains(why, "another customer") || !strings.Contains(why, "#8") {
		t.Fatalf("%q", why)
	}
}
