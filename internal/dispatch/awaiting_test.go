package dispatch_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/routeloop/routeloop/internal/dispatch"
	"github.com/routeloop/routeloop/internal/referral"
)

// friend is a referral of status whose friend has the customer record
// customerID (nil: not a customer yet).
func friend(id int64, status string, customerID *string) referral.Referral {
	return referral.Referral{ID: id, Status: status, Referee: referral.Referee{Name: "Friend", CustomerID: customerID}}
}

func customer(id string) *string { return &id }

func TestWhoStillNeedsAVisitBooked(t *testing.T) {
	booked := map[string]bool{"c-booked": true}
	cases := []struct {
		name     string
		referral referral.Referral
		awaits   bool
		customer string
	}{
		{"pending friend who is not a customer yet", friend(1, referral.StatusPending, nil), true, ""},
		{"pending friend whose customer record is blank", friend(1, referral.StatusPending, customer("")), true, ""},
		{"pending friend who is a customer without a visit", friend(1, referral.StatusPending, customer("c-free")), true, "c-free"},
		{"pending friend already booked", friend(1, referral.StatusPending, customer("c-booked")), false, ""},
		{"converted friend without a visit", friend(1, referral.StatusConverted, customer("c-free")), true, "c-free"},
		{"converted friend already booked", friend(1, referral.StatusConverted, customer("c-booked")), false, ""},
		{"converted friend with no customer record", friend(1, referral.StatusConverted, nil), true, ""},
		{"held for review", friend(1, referral.StatusPendingReview, nil), false, ""},
		{"rejected", friend(1, referral.StatusRejected, customer("c-free")), false, ""},
		{"duplicate", friend(1, referral.StatusDuplicate, nil), false, ""},
		{"expired", friend(1, referral.StatusExpired, customer("c-free")), false, ""},
		{"no status", friend(1, "", nil), false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := dispatch.AwaitingVisit([]referral.Referral{tc.referral}, func(c string) (bool, error) { return booked[c], nil })
			if err != nil {
				t.Fatal(err)
			}
			if !tc.awaits {
				if len(got) != 0 {
					t.Fatalf("awaits a visit: %+v, want none", got)
				}
				return
			}
			if len(got) != 1 || got[0].Referral.ID != tc.referral.ID || got[0].CustomerID != tc.customer {
				t.Fatalf("got %+v, want referral %d with customer %q", got, tc.referral.ID, tc.customer)
			}
		})
	}
}

func TestAwaitingVisitIsNewestFirstAcrossStatuses(t *testing.T) {
	// The board lists each status newest first and hands them over one
	// status after the other.
	rs := []referral.Referral{
		friend(7, referral.StatusPending, nil), friend(3, referral.StatusPending, nil),
		friend(9, referral.StatusConverted, customer("c-9")), friend(5, referral.StatusConverted, customer("c-5")),
	}
	got, err := dispatch.AwaitingVisit(rs, func(string) (bool, error) { return false, nil })
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, a := range got {
		ids = append(ids, a.Referral.ID)
	}
	if want := []int64{9, 7, 5, 3}; !slices.Equal(ids, want) {
		t.Fatalf("order %v, want %v", ids, want)
	}
	if rs[0].ID != 7 {
		t.Fatalf("the caller's list was reordered: %v", rs)
	}
}

func TestAwaitingVisitAsksOnlyAboutCustomers(t *testing.T) {
	rs := []referral.Referral{
		friend(4, referral.StatusPending, customer("c-4")), friend(3, referral.StatusPending, nil),
		friend(2, referral.StatusRejected, customer("c-2")), friend(1, referral.StatusConverted, customer("c-1")),
	}
	var asked []string
	if _, err := dispatch.AwaitingVisit(rs, func(c string) (bool, error) { asked = append(asked, c); return false, nil }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"c-4", "c-1"}; !slices.Equal(asked, want) {
		t.Fatalf("asked about %v, want %v", asked, want)
	}
}

func TestAwaitingVisitStopsAtTheFirstLookupError(t *testing.T) {
	down := errors.New("mirror down")
	rs := []referral.Referral{friend(2, referral.StatusPending, customer("c-2")), friend(1, referral.StatusPending, customer("c-1"))}
	calls := 0
	got, err := dispatch.AwaitingVisit(rs, func(string) (bool, error) { calls++; return false, down })
	if !errors.Is(err, down) || got != nil || calls != 1 {
		t.Fatalf("got %v, %v after %d calls; want the lookup's error after one", got, err, calls)
	}
}

func TestAwaitingStatuses(t *testing.T) {
	if got, want := dispatch.AwaitingStatuses(), []string{referral.StatusPending, referral.StatusConverted}; !slices.Equal(got, want) {
		t.Fatalf("statuses %v, want %v", got, want)
	}
}
