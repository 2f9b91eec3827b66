package insight

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/tenant"
)

// TARP's rule of thumb: a satisfied customer tells about 5 people, an
// unhappy one about 10.
const (
	MentionsPerSatisfied    = 5
	MentionsPerDissatisfied = 10
)

// Words is the word of mouth a customer base spreads: good mentions from
// the satisfied share, bad ones from the dissatisfied share (both 0..1),
// each rounded to a whole mention.
func Words(customers int64, satisfiedShare, dissatisfiedShare float64) (good, bad int64) {
	good = int64(math.Round(float64(customers) * satisfiedShare * MentionsPerSatisfied))
	bad = int64(math.Round(float64(customers) * dissatisfiedShare * MentionsPerDissatisfied))
	return good, bad
}

// Month is one tenant-local month of ratings (only those inside the period)
// and the word of mouth they predict for the whole customer base.
type Month struct {
	Month             string   `json:"month"`
	Ratings           int64    `json:"ratings"`
	Satisfied         int64    `json:"satisfied"`    // score 4 or 5
	Neutral           int64    `json:"neutral"`      // score 3: tells nobody
	Dissatisfied      int64    `json:"dissatisfied"` // score 1 or 2
	SatisfiedShare    *float64 `json:"satisfied_share"`
	DissatisfiedShare *float64 `json:"dissatisfied_share"`
	GoodMentions      int64    `json:"good_mentions"`
	BadMentions       int64    `json:"bad_mentions"`
	NetMentions       int64    `json:"net_mentions"`
}

// WordOfMouth is the answer of GET /insights/word-of-mouth.
type WordOfMouth struct {
	Period
	Customers int64   `json:"customers"`
	Months    []Month `json:"months"`
}

// WordOfMouth estimates, month by month, what the tenant's customers say
// about it (TARP), from the ratings given in that month.
// Without from and to it covers the last 12 months, this one included.
func (s *Service) WordOfMouth(ctx context.Context, tenantID string, r Range) (WordOfMouth, error) {
	if r.From == nil && r.To == nil {
		loc, err := tenant.LocationOf(s.store.DB.WithContext(ctx), tenantID)
		if err != nil {
			return WordOfMouth{}, err
		}
		today := localdate.In(s.clock.Now(), loc)
		first := localdate.Of(time.Date(today.Year, today.Month-11, 1, 0, 0, 0, 0, time.UTC))
		r = Range{From: &first, To: &today}
	}
	p, loc, err := s.resolve(ctx, tenantID, r)
	if err != nil {
		return WordOfMouth{}, err
	}
	db := s.store.DB.WithContext(ctx)
	out := WordOfMouth{Period: p, Months: []Month{}}
	if err := db.Raw(`SELECT COUNT(*) FROM customers WHERE tenant_id = ?`, tenantID).Scan(&out.Customers).Error; err != nil {
		return out, fmt.Errorf("count customers: %w", err)
	}
	// One indexed range count per month (at most 25): the month boundaries
	// are the tenant's, which neither dialect can compute alike in SQL.
	for first := (localdate.Date{Year: p.From.Year, Month: p.From.Month, Day: 1}); !p.To.Before(first); first = nextMonth(first) {
		from, to := first, nextMonth(first).AddDays(-1)
		if from.Before(p.From) {
			from = p.From
		}
		if p.To.Before(to) {
			to = p.To
		}
		start, end := Period{From: from, To: to}.bounds(loc)
		m := Month{Month: fmt.Sprintf("%04d-%02d", first.Year, first.Month)}
		if err := db.Raw(`SELECT COUNT(*) AS ratings,
				COALESCE(SUM(CASE WHEN score >= 4 THEN 1 ELSE 0 END), 0) AS satisfied,
				COALESCE(SUM(CASE WHEN score = 3 THEN 1 ELSE 0 END), 0) AS neutral,
				COALESCE(SUM(CASE WHEN score <= 2 THEN 1 ELSE 0 END), 0) AS dissatisfied
			FROM ratings WHERE tenant_id = ? AND created_at >= ? AND created_at < ?`, tenantID, start, end).Scan(&m).Error; err != nil {
			return out, fmt.Errorf("count ratings: %w", err)
		}
		m.Month = fmt.Sprintf("%04d-%02d", first.Year, first.Month)
		if m.Ratings > 0 {
			sat, dis := float64(m.Satisfied)/float64(m.Ratings), float64(m.Dissatisfied)/float64(m.Ratings)
			m.GoodMentions, m.BadMentions = Words(out.Customers, sat, dis)
			m.NetMentions = m.GoodMentions - m.BadMentions
			m.SatisfiedShare, m.DissatisfiedShare = ratio(m.Satisfied, m.Ratings), ratio(m.Dissatisfied, m.Ratings)
		}
		out.Months = append(out.Months, m)
	}
	return out, nil
}

func nextMonth(d localdate.Date) localdate.Date {
	return localdate.Of(time.Date(d.Year, time.Month(d.Month)+1, 1, 0, 0, 0, 0, time.UTC))
}

// Table is the word-of-mouth table for CSV, one row per month.
func (w WordOfMouth) Table() ([]string, [][]string) {
	header := []string{"month", "customers", "ratings", "satisfied", "neutral", "dissatisfied", "satisfied_share",
		"dissatisfied_share", "good_mentions", "bad_mentions", "net_mentions"}
	var out [][]string
	for _, m := range w.Months {
		out = append(out, []string{m.Month, itoa(w.Customers), itoa(m.Ratings), itoa(m.Satisfied), itoa(m.Neutral), itoa(m.Dissatisfied),
			fptr(m.SatisfiedShare), fptr(m.DissatisfiedShare), itoa(m.GoodMentions), itoa(m.BadMentions), itoa(m.NetMentions)})
	}
	return header, out
}
