package dispatch

import (
	"slices"
	"sort"

	"github.com/routeloop/routeloop/internal/referral"
)

// Awaiting is a referred friend who still needs a visit booked.
type Awaiting struct {
	Referral referral.Referral
	// CustomerID is the friend's customer record at the scheduler; ""
	// while the friend is not a customer yet (and so has no visit).
	CustomerID string
}

// AwaitingStatuses are the referral states whose friend may still need a
// visit booked: pending and converted (a rejected, duplicate, expired or
// held-for-review referral is nobody's visit to book).
func AwaitingStatuses() []string {
	return []string{referral.StatusPending, referral.StatusConverted}
}

// AwaitingVisit is the referrals of rs whose friend still needs a visit
// booked, newest first: pending and converted ones whose friend is not a
// customer yet, or is one without a scheduled visit. scheduled says whether
// a customer has a scheduled visit; it is asked only about friends who are
// customers, in that order, and its first error is returned.
func AwaitingVisit(rs []referral.Referral, scheduled func(customerID string) (bool, error)) ([]Awaiting, error) {
	rs = slices.Clone(rs)
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].ID > rs[j].ID })
	statuses := AwaitingStatuses()
	var out []Awaiting
	for _, r := range rs {
		if !slices.Contains(statuses, r.Status) {
			continue
		}
		a := Awaiting{Referral: r}
		if r.Referee.CustomerID != nil {
			a.CustomerID = *r.Referee.CustomerID
		}
		if a.CustomerID != "" {
			booked, err := scheduled(a.CustomerID)
			if err != nil {
				return nil, err
			}
			if booked {
				continue
			}
		}
		out = append(out, a)
	}
	return out, nil
}
