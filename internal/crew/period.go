package crew

import (
	"fmt"
	"time"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/localdate"
)

// Periods points and milestones are counted over, in the tenant's calendar.
const (
	PeriodMonth   = "month"
	PeriodQuarter = "quarter"
	PeriodYear    = "year"
)

// Period is one tenant-local month, quarter or year: [From, To) as
// calendar days, Key naming it ("2026-05", "2026-Q2", "2026").
type Period struct {
	Kind string         `json:"period"`
	Key  string         `json:"period_key"`
	From localdate.Date `json:"from"`
	// To is the last day of the period.
	To localdate.Date `json:"to"`
	// start and end are the instants the period begins and ends.
	start, end time.Time
}

// CheckPeriod explains why kind is not a period.
func CheckPeriod(kind string) error {
	switch kind {
	case PeriodMonth, PeriodQuarter, PeriodYear:
		return nil
	}
	return apperror.Invalid("period", "must be month, quarter or year")
}

// PeriodOf is the period of the given kind that holds day d in loc.
func PeriodOf(kind string, d localdate.Date, loc *time.Location) Period {
	var from, next localdate.Date
	var key string
	switch kind {
	case PeriodYear:
		from = localdate.Date{Year: d.Year, Month: 1, Day: 1}
		next = localdate.Date{Year: d.Year + 1, Month: 1, Day: 1}
		key = fmt.Sprintf("%04d", d.Year)
	case PeriodQuarter:
		q := (int(d.Month) - 1) / 3
		from = localdate.Date{Year: d.Year, Month: time.Month(q*3 + 1), Day: 1}
		next = localdate.Of(time.Date(d.Year, time.Month(q*3+4), 1, 12, 0, 0, 0, time.UTC))
		key = fmt.Sprintf("%04d-Q%d", d.Year, q+1)
	default:
		from = localdate.Date{Year: d.Year, Month: d.Month, Day: 1}
		next = localdate.Of(time.Date(d.Year, d.Month+1, 1, 12, 0, 0, 0, time.UTC))
		key = fmt.Sprintf("%04d-%02d", d.Year, int(d.Month))
	}
	return Period{Kind: kind, Key: key, From: from, To: next.AddDays(-1),
		start: from.Start(loc).UTC(), end: next.Start(loc).UTC()}
}
