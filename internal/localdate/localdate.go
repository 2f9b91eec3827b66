// Package localdate is a calendar date without a time or zone: a tenant-local
// service day. Two visits are on the "same day" when their Dates are equal,
// whatever UTC instants they start at.
package localdate

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"
)

const layout = "2006-01-02"

// Date is a day in some tenant's calendar, stored as YYYY-MM-DD.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// First and Last bound the dates routeloop accepts from anyone: a visit on
// 9999-12-31 or in year 0 is a typo, not a booking.
var (
	First = Date{2000, time.January, 1}
	Last  = Date{2100, time.December, 31}
)

// Parse reads a YYYY-MM-DD date from First to Last and refuses anything
// else (no times, no impossible days such as 2026-02-30).
func Parse(s string) (Date, error) {
	d, err := parse(s)
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date in the form YYYY-MM-DD", s)
	}
	if d.Before(First) || d.After(Last) {
		return Date{}, fmt.Errorf("%s is outside the dates routeloop accepts, %s to %s", d, First, Last)
	}
	return d, nil
}

func parse(s string) (Date, error) {
	t, err := time.Parse(layout, s)
	if err != nil {
		return Date{}, err
	}
	return Of(t), nil
}

// Of returns the calendar date of t in t's own location.
func Of(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// In returns the calendar date of the instant t as seen in loc.
func In(t time.Time, loc *time.Location) Date { return Of(t.In(loc)) }

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// String formats d as YYYY-MM-DD.
func (d Date) String() string {
	if d.Year < 0 || d.Year > 9999 || d.Month < 0 || d.Month > 99 || d.Day < 0 || d.Day > 99 {
		return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
	}
	// Without fmt: a day's reconciliation writes a date into every reason.
	b := []byte("0000-00-00")
	digits := func(at, v, n int) {
		for i := at + n - 1; i >= at; i-- {
			b[i] = byte('0' + v%10)
			v /= 10
		}
	}
	digits(0, d.Year, 4)
	digits(5, int(d.Month), 2)
	digits(8, d.Day, 2)
	return string(b)
}

// Start returns midnight at the start of d in loc.
func (d Date) Start(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// AddDays returns the date n days later (earlier when n < 0).
func (d Date) AddDays(n int) Date {
	return Of(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC))
}

// DaysUntil is the number of calendar days from d to o (negative when o
// is earlier).
func (d Date) DaysUntil(o Date) int {
	return int(math.Round(o.Start(time.UTC).Sub(d.Start(time.UTC)).Hours() / 24))
}

// Before reports whether d comes before o.
func (d Date) Before(o Date) bool { return d.String() < o.String() }

// After reports whether d comes after o.
func (d Date) After(o Date) bool { return o.Before(d) }

// Weekday is the day of the week of d.
func (d Date) Weekday() time.Weekday { return d.Start(time.UTC).Weekday() }

// MarshalJSON writes "YYYY-MM-DD".
func (d Date) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads "YYYY-MM-DD".
func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a date must be a string in the form YYYY-MM-DD")
	}
	p, err := Parse(s)
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// Value stores d as the text YYYY-MM-DD (a DATE on Postgres accepts it).
func (d Date) Value() (driver.Value, error) { return d.String(), nil }

// Scan reads a date from text (SQLite) or a time.Time (Postgres DATE).
func (d *Date) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		*d = Date{v.Year(), v.Month(), v.Day()}
		return nil
	case string:
		return d.scanText(v)
	case []byte:
		return d.scanText(string(v))
	case nil:
		*d = Date{}
		return nil
	}
	return fmt.Errorf("localdate: cannot scan %T", src)
}

func (d *Date) scanText(s string) error {
	if len(s) > len(layout) {
		s = s[:len(layout)]
	}
	p, err := parse(s) // what is stored is read as it is
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// Compare orders dates: -1 when d comes before o, 0 when equal, +1 after.
func (d Date) Compare(o Date) int {
	switch {
	case d.Before(o):
		return -1
	case o.Before(d):
		return 1
	}
	return 0
}

// Span is every date from from to to, both included (none when to comes
// before from).
func Span(from, to Date) []Date {
	var out []Date
	for d := from; !to.Before(d); d = d.AddDays(1) {
		out = append(out, d)
	}
	return out
}

// Sorted answers the distinct dates of days in order.
func Sorted(days []Date) []Date {
	out := slices.Clone(days)
	slices.SortFunc(out, Date.Compare)
	return slices.Compact(out)
}

// Runs splits sorted dates into runs spanning at most span days from their
// first date to their last (span 31: no run covers more than 31 days).
func Runs(days []Date, span int) [][]Date {
	var out [][]Date
	for i := 0; i < len(days); {
		j, limit := i+1, days[i].AddDays(span)
		for j < len(days) && days[j].Before(limit) {
			j++
		}
		out = append(out, days[i:j])
		i = j
	}
	return out
}
