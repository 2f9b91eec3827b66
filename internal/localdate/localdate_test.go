package localdate

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseRefusesWhatIsNotADay(t *testing.T) {
	for _, s := range []string{"", "2026-02-30", "2026-13-01", "03/05/2026", "2026-05-03T10:00:00Z", "2026-5-3"} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) accepted it", s)
		}
	}
	d, err := Parse("2026-05-03")
	if err != nil || d.String() != "2026-05-03" {
		t.Fatalf("Parse(2026-05-03) = %v, %v", d, err)
	}
}

func TestLateEveningInLosAngelesIsStillThatDay(t *testing.T) {
	la, _ := time.LoadLocation("America/Los_Angeles")
	// 23:30 on 3 May in Los Angeles is already 4 May in UTC.
	instant := time.Date(2026, 5, 4, 6, 30, 0, 0, time.UTC)
	if got := In(instant, la).String(); got != "2026-05-03" {
		t.Fatalf("local day = %s, want 2026-05-03", got)
	}
	if got := Of(instant).String(); got != "2026-05-04" {
		t.Fatalf("UTC day = %s, want 2026-05-04", got)
	}
}

func TestAddDaysAcrossDaylightSavingChange(t *testing.T) {
	d := Date{2026, time.March, 7}
	if got := d.AddDays(1).String(); got != "2026-03-08" {
		t.Fatalf("got %s", got)
	}
	if got := d.AddDays(-7).String(); got != "2026-02-28" {
		t.Fatalf("got %s", got)
	}
}

func TestScanAcceptsBothDialects(t *testing.T) {
	var a, b, c Date
	if err := a.Scan("2026-05-03"); err != nil {
		t.Fatal(err)
	}
	if err := b.Scan(time.Date(2026, 5, 3, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if err := c.Scan([]byte("2026-05-03T00:00:00Z")); err != nil {
		t.Fatal(err)
	}
	if a != b || b != c {
		t.Fatalf("%v %v %v differ", a, b, c)
	}
	if err := a.Scan(42); err == nil {
		t.Fatal("scanning an int should fail")
	}
}

func TestJSONRoundTrip(t *testing.T) {
	var d Date
	if err := json.Unmarshal([]byte(`"2026-11-27"`), &d); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(d)
	if string(out) != `"2026-11-27"` {
		t.Fatalf("got %s", out)
	}
	if err := json.Unmarshal([]byte(`20261127`), &d); err == nil {
		t.Fatal("a number is not a date")
	}
}

func TestDatesOutsideTheWindowAreRefused(t *testing.T) {
	for s, ok := range map[string]bool{
		"1999-12-31": false, "2000-01-01": true, "2100-12-31": true, "2101-01-01": false,
		"0000-01-01": false, "9999-12-31": false,
	} {
		if _, err := Parse(s); (err == nil) != ok {
			t.Errorf("Parse(%s): %v", s, err)
		}
	}
	// What is stored is read as it is, whatever the window.
	var d Date
	if err := d.Scan("1999-12-31"); err != nil || d.String() != "1999-12-31" {
		t.Errorf("Scan: %v %v", d, err)
	}
}

func TestRunsSpanAtMostTheirLength(t *testing.T) {
	d := func(s string) Date {
		v, err := Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	days := Sorted([]Date{d("2026-03-02"), d("2026-01-01"), d("2026-01-31"), d("2026-02-01"), d("2026-01-01"), d("2026-03-03")})
	var got []string
	for _, r := range Runs(days, 31) {
		got = append(got, fmt.Sprint(r))
	}
	// January 1 + 31 days is February 1: the run stops before it; February
	// 1 + 31 is March 4, so March 2 and 3 join February's run.
	want := "[2026-01-01 2026-01-31] [2026-02-01 2026-03-02 2026-03-03]"
	if s := strings.Join(got, " "); s != want {
		t.Fatalf("runs %s, want %s", s, want)
	}
	// A span runs across the month's end, both ends included.
	if s := fmt.Sprint(Span(d("2026-02-27"), d("2026-03-02"))); s != "[2026-02-27 2026-02-28 2026-03-01 2026-03-02]" {
		t.Fatalf("span %s", s)
	}
	if n := len(Span(d("2026-03-02"), d("2026-03-01"))); n != 0 {
		t.Fatalf("a span ending before it starts has %d days", n)
	}
}

func TestDaysUntilCountsCalendarDays(t *testing.T) {
	d := func(s string) Date { v, _ := Parse(s); return v }
	for _, c := range []struct {
		from, to string
		want     int
	}{
		{"2026-05-05", "2026-05-05", 0}, {"2026-05-05", "2026-05-06", 1}, {"2026-05-06", "2026-05-05", -1},
		{"2026-03-07", "2026-03-09", 2}, // across the US spring change
		{"2026-10-24", "2026-10-26", 2}, // across the EU autumn change
		{"2024-02-28", "2024-03-01", 2}, {"2025-12-31", "2026-01-01", 1}, {"2026-01-01", "2027-01-01", 365},
	} {
		if got := d(c.from).DaysUntil(d(c.to)); got != c.want {
			t.Errorf("%s → %s: %d days, want %d", c.from, c.to, got, c.want)
		}
	}
}

// TestStringIsZeroPadded: String writes YYYY-MM-DD as %04d-%02d-%02d
// does, out of range too.
func TestStringIsZeroPadded(t *testing.T) {
	for _, c := range []struct {
		d    Date
		want string
	}{
		{Date{2026, 5, 3}, "2026-05-03"},
		{Date{2026, 12, 31}, "2026-12-31"},
		{Date{7, 1, 9}, "0007-01-09"},
		{Date{0, 0, 0}, "0000-00-00"},
		{Date{9999, 12, 31}, "9999-12-31"},
		{Date{12026, 5, 3}, "12026-05-03"},
		{Date{-1, 5, 3}, "-001-05-03"},
	} {
		if got := c.d.String(); got != c.want {
			t.Errorf("%#v.String() = %q, want %q", c.d, got, c.want)
		}
	}
}
