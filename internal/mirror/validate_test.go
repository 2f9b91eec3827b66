package mirror

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/apperror"
)

// A visit's start_at falls on its service_date in the tenant's zone,
// whatever offset the scheduler writes it with, on the days the clocks
// change too. In New York, 8 March 2026 has 23 hours (2:00 EST jumps to
// 3:00 EDT) and 1 November 2026 has 25 (1:00–2:00 happens twice); the day
// runs from its local midnight to the next, and the start is kept in UTC.
func TestAVisitStartsOnItsDayAcrossDaylightSaving(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, date, start string
		utc               string // the start as kept; "" when refused
		fallsOn           string // the day a refusal names
	}{
		// Spring forward: Sunday 8 March 2026.
		{"the first second of 8 March, EST", "2026-03-08", "2026-03-08T00:00:00-05:00", "2026-03-08T05:00:00Z", ""},
		{"its first second, written in UTC", "2026-03-08", "2026-03-08T05:00:00Z", "2026-03-08T05:00:00Z", ""},
		{"the last second of 7 March, in UTC", "2026-03-08", "2026-03-08T04:59:59Z", "", "2026-03-07"},
		{"a minute before the clocks jump", "2026-03-08", "2026-03-08T01:59:00-05:00", "2026-03-08T06:59:00Z", ""},
		{"the first minute after, EDT", "2026-03-08", "2026-03-08T03:00:00-04:00", "2026-03-08T07:00:00Z", ""},
		{"2:30, a time that never happens, written in EST", "2026-03-08", "2026-03-08T02:30:00-05:00", "2026-03-08T07:30:00Z", ""},
		{"the last second of the short day, EDT", "2026-03-08", "2026-03-08T23:59:59-04:00", "2026-03-09T03:59:59Z", ""},
		{"midnight after it, in UTC", "2026-03-08", "2026-03-09T04:00:00Z", "", "2026-03-09"},
		{"midnight after it, in EST's offset", "2026-03-08", "2026-03-09T00:00:00-05:00", "", "2026-03-09"},
		// Fall back: Sunday 1 November 2026.
		{"the first second of 1 November, EDT", "2026-11-01", "2026-11-01T04:00:00Z", "2026-11-01T04:00:00Z", ""},
		{"the last second of 31 October, in UTC", "2026-11-01", "2026-11-01T03:59:59Z", "", "2026-10-31"},
		{"1:30 the first time, EDT", "2026-11-01", "2026-11-01T01:30:00-04:00", "2026-11-01T05:30:00Z", ""},
		{"1:30 the second time, EST", "2026-11-01", "2026-11-01T01:30:00-05:00", "2026-11-01T06:30:00Z", ""},
		{"the last second of the long day, EST", "2026-11-01", "2026-11-01T23:59:59-05:00", "2026-11-02T04:59:59Z", ""},
		{"the long day's last second, written in EDT's offset", "2026-11-01", "2026-11-02T00:59:59-04:00", "2026-11-02T04:59:59Z", ""},
		{"midnight after it", "2026-11-01", "2026-11-02T05:00:00Z", "", "2026-11-02"},
		// An ordinary day, and the kept precision.
		{"an evening start is not a UTC day", "2026-06-15", "2026-06-15T22:30:00-04:00", "2026-06-16T02:30:00Z", ""},
		{"nanoseconds are kept to the microsecond", "2026-06-15", "2026-06-15T08:00:00.123456789-04:00", "2026-06-15T12:00:00.123456Z", ""},
	} {
		in := VisitInput{CustomerID: "angie", ServiceDate: c.date, StartAt: &c.start}
		out, err := in.validate(ny)
		if c.utc != "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			} else if out.startAt == nil || out.startAt.Format(time.RFC3339Nano) != c.utc || out.startAt.Location() != time.UTC {
				t.Errorf("%s: kept %v, want %s", c.name, out.startAt, c.utc)
			}
			continue
		}
		var ae *apperror.Error
		if !errors.As(err, &ae) || len(ae.Fields) != 1 {
			t.Errorf("%s: %v, want start_at refused", c.name, err)
			continue
		}
		want := "falls on " + c.fallsOn + " in the tenant's time zone America/New_York, not on service_date " + c.date
		if ae.Fields["start_at"] != want {
			t.Errorf("%s: %q, want %q", c.name, ae.Fields["start_at"], want)
		}
		if out.startAt != nil {
			t.Errorf("%s: refused, yet kept %v", c.name, out.startAt)
		}
	}
}

// What else a visit's fields may be, each limit included; every refusal
// is given at once.
func TestWhatAVisitsFieldsMayBe(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	ok := VisitInput{CustomerID: "angie", ServiceDate: "2026-06-15"}
	with := func(f func(*VisitInput)) VisitInput { in := ok; f(&in); return in }
	n := func(v int) *int { return &v }
	str := func(s string) *string { return &s }
	for _, c := range []struct {
		name    string
		in      VisitInput
		refused string // the fields refused, sorted, comma-separated
	}{
		{"the least", ok, ""},
		{"every status", with(func(in *VisitInput) { in.Status = VisitCancelled }), ""},
		{"an unknown status", with(func(in *VisitInput) { in.Status = "done" }), "status"},
		{"a status in capitals", with(func(in *VisitInput) { in.Status = "Completed" }), "status"},
		{"route position 0", with(func(in *VisitInput) { in.RoutePosition = n(0) }), ""},
		{"route position 10000", with(func(in *VisitInput) { in.RoutePosition = n(10_000) }), ""},
		{"route position 10001", with(func(in *VisitInput) { in.RoutePosition = n(10_001) }), "route_position"},
		{"route position -1", with(func(in *VisitInput) { in.RoutePosition = n(-1) }), "route_position"},
		{"a one-minute visit", with(func(in *VisitInput) { in.DurationMin = n(1) }), ""},
		{"a whole day's visit", with(func(in *VisitInput) { in.DurationMin = n(1440) }), ""},
		{"no minutes", with(func(in *VisitInput) { in.DurationMin = n(0) }), "duration_min"},
		{"a minute past a day", with(func(in *VisitInput) { in.DurationMin = n(1441) }), "duration_min"},
		{"free", with(func(in *VisitInput) { in.PriceCents = 0 }), ""},
		{"the largest price", with(func(in *VisitInput) { in.PriceCents = MaxPriceCents }), ""},
		{"a cent more", with(func(in *VisitInput) { in.PriceCents = MaxPriceCents + 1 }), "price_cents"},
		{"a negative price", with(func(in *VisitInput) { in.PriceCents = -1 }), "price_cents"},
		{"a crew id", with(func(in *VisitInput) { in.CrewID = str("north") }), ""},
		{"an empty crew id", with(func(in *VisitInput) { in.CrewID = str("") }), "crew_id"},
		{"no customer", with(func(in *VisitInput) { in.CustomerID = "" }), "customer_id"},
		{"the 31st of June", with(func(in *VisitInput) { in.ServiceDate = "2026-06-31" }), "service_date"},
		{"a start that is not RFC 3339", with(func(in *VisitInput) { in.StartAt = str("2026-06-15 08:00") }), "start_at"},
		{"a start without a zone", with(func(in *VisitInput) { in.StartAt = str("2026-06-15T08:00:00") }), "start_at"},
		// Without a valid day there is none to compare the start with.
		{"a start, and a day that is not one", with(func(in *VisitInput) {
			in.ServiceDate, in.StartAt = "someday", str("2026-06-15T08:00:00-04:00")
		}), "service_date"},
		{"everything wrong", VisitInput{ServiceDate: "x", StartAt: str("8am"), Status: "?", PriceCents: -1, RoutePosition: n(-1),
			DurationMin: n(0), CrewID: str("")},
			"crew_id,customer_id,duration_min,price_cents,route_position,service_date,start_at,status"},
	} {
		err := c.in.Validate(ny)
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
	}
}
