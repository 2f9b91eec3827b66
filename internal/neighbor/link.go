package neighbor

import (
	"time"

	"github.com/routeloop/routeloop/internal/ledger"
	"github.com/routeloop/routeloop/internal/localdate"
)

// Link sources.
const (
	SourceReferral   = "referral"
	SourceDispatcher = "dispatcher"
)

// Link joins two customers who live within the program radius and agreed to
// be serviced the same day. It is active from StartsOn until the day before
// EndsOn (open-ended when EndsOn is nil); ended links stay as history.
type Link struct {
	ID          int64           `json:"id"`
	TenantID    string          `json:"-"`
	CustomerAID int64           `json:"-"`
	CustomerBID int64           `json:"-"`
	DistanceM   int             `json:"distance_m"`
	Source      string          `json:"source"`
	ReferralID  *int64          `json:"referral_id,omitempty"`
	StartsOn    localdate.Date  `json:"starts_on"`
	EndsOn      *localdate.Date `json:"ends_on"`
	EndReason   string          `json:"end_reason,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
	// The customers' scheduler ids, filled for answers.
	CustomerA string `json:"customer_a" gorm:"->"`
	CustomerB string `json:"customer_b" gorm:"->"`
}

// TableName is neighbor_links.
func (Link) TableName() string { return "neighbor_links" }

// Other returns the customer at the other end from id.
func (l Link) Other(id int64) int64 { return l.span().Other(id) }

// span is what matching needs of the link.
func (l Link) span() ledger.Link {
	return ledger.Link{ID: l.ID, CustomerAID: l.CustomerAID, CustomerBID: l.CustomerBID, DistanceM: l.DistanceM, StartsOn: l.StartsOn, EndsOn: l.EndsOn}
}

// pair orders two customer ids as stored (a < b).
func pair(x, y int64) (int64, int64) {
	if x < y {
		return x, y
	}
	return y, x
}
