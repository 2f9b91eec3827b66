package crew

import (
	"strings"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/localdate"
)

func TestScriptsRefuseUnknownAndHostilePlaceholders(t *testing.T) {
	cases := []struct {
		body, want string
	}{
		{DefaultScript.Body, ""},
		{"Hi {customer_first_name}!", ""},
		{"Hi {name}, {customer_first_name} {bonus}", "unknown placeholders {name}, {bonus}"},
		{"{{.Exec \"rm -rf\"}}", "unknown placeholders {.Exec \"rm -rf\"}"},
		{"{customer_first_name.Secret}", "unknown placeholders {customer_first_name.Secret}"},
		{"{ your_reward }", "unknown placeholders { your_reward }"},
		{"Hi {customer_first_name", "is not part of a placeholder"},
		{"Hi } there", "is not part of a placeholder"},
		{"   ", "must not be empty"},
		{strings.Repeat("x", MaxScriptLen+1), "at most"},
	}
	for _, c := range cases {
		err := CheckScript(c.body)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q refused: %v", c.body, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%q: error %v, want one saying %q", c.body, err, c.want)
		}
	}
}

func TestRenderFillsOncePass(t *testing.T) {
	got := Render(DefaultScript.Body, map[string]string{PlaceholderFirstName: "{your_reward}", PlaceholderFriend: "10% off their first visit",
		PlaceholderReward: "10% off your next visit", PlaceholderNeighbor: ""})
	want := "Glad you're happy with today's work, {your_reward}. Tell your friends about us: they get 10% off their first visit, and you get 10% off your next visit."
	if got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

// Scripts are chosen per visit: over one member's 100 visits both scripts
// are read about equally often (so a member is not tied to one script), the
// same visit always gets the same script, and another tenant's visit of the
// same number may get another.
func TestScriptForVisitIsStableAndSpread(t *testing.T) {
	scripts := []Script{{Name: "A"}, {Name: "B"}}
	seen := map[string]int{}
	for v := int64(1); v <= 100; v++ {
		a := ScriptForVisit("t1", v, scripts)
		if ScriptForVisit("t1", v, scripts).Name != a.Name {
			t.Fatal("not deterministic")
		}
		seen[a.Name]++
	}
	// Expected 50 each; below 30 is 4 standard deviations (5) off.
	if seen["A"] < 30 || seen["B"] < 30 {
		t.Fatalf("uneven: %v", seen)
	}
	differ := 0
	for v := int64(1); v <= 100; v++ {
		if ScriptForVisit("t1", v, scripts).Name != ScriptForVisit("t2", v, scripts).Name {
			differ++
		}
	}
	if differ == 0 {
		t.Fatal("the tenant plays no part in the choice")
	}
	if ScriptForVisit("t1", 1, nil).Name != DefaultScript.Name {
		t.Fatal("no scripts: the default")
	}
}

func TestPeriodsAreTenantLocal(t *testing.T) {
	la, _ := time.LoadLocation("America/Los_Angeles")
	d := localdate.Date{Year: 2026, Month: 3, Day: 31}
	cases := []struct {
		kind, key, from, to string
	}{
		{PeriodMonth, "2026-03", "2026-03-01", "2026-03-31"},
		{PeriodQuarter, "2026-Q1", "2026-01-01", "2026-03-31"},
		{PeriodYear, "2026", "2026-01-01", "2026-12-31"},
	}
	for _, c := range cases {
		p := PeriodOf(c.kind, d, la)
		if p.Key != c.key || p.From.String() != c.from || p.To.String() != c.to {
			t.Errorf("%s: %+v", c.kind, p)
		}
	}
	q4 := PeriodOf(PeriodQuarter, localdate.Date{Year: 2026, Month: 12, Day: 31}, la)
	if q4.Key != "2026-Q4" || q4.end != time.Date(2027, 1, 1, 8, 0, 0, 0, time.UTC) {
		t.Errorf("Q4: %+v %v", q4, q4.end)
	}
}

func TestPitchOnlyHappyCustomers(t *testing.T) {
	day := localdate.Date{Year: 2026, Month: 5, Day: 5}
	score := func(n int) *int { return &n }
	tenDaysAgo := day.AddDays(-10)
	longAgo := day.AddDays(-90)
	cases := []struct {
		name   string
		r      RatingStatus
		last   *localdate.Date
		pitch  bool
		reason string
	}{
		{"unknown rating", RatingStatus{}, nil, true, "no rating yet"},
		{"rated 5", RatingStatus{LastScore: score(5)}, nil, true, "last rating was 5"},
		{"rated 4", RatingStatus{LastScore: score(4)}, nil, true, "last rating was 4"},
		{"rated 3", RatingStatus{LastScore: score(3)}, nil, false, "last rating was 3 of 5"},
		{"open complaint", RatingStatus{LastScore: score(5), OpenComplaint: true}, nil, false, "open complaint"},
		{"pitched 10 days ago", RatingStatus{LastScore: score(5)}, &tenDaysAgo, false, "pitched on 2026-04-25 (10 days ago); the program waits 90 days"},
		{"pitched 90 days ago", RatingStatus{LastScore: score(5)}, &longAgo, true, "last rating was 5"},
	}
	for _, c := range cases {
		got := Decide(c.r, c.last, day, 90)
		if got.Pitch != c.pitch || !strings.Contains(got.Reason, c.reason) {
			t.Errorf("%s: %+v", c.name, got)
		}
	}
}

func TestStreetOf(t *testing.T) {
	for in, want := range map[string]string{"14 SE Maple St, Portland": "SE Maple St", "Maple St": "Maple St", "": "", "12B Elm Rd": "12B Elm Rd"} {
		if got := streetOf(in); got != want {
			t.Errorf("%q → %q, want %q", in, got, want)
		}
	}
}
