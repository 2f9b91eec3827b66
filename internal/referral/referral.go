// Package referral is the referral engine: referrals recorded from any
// channel (link, code, card, crew report, or the friend naming who sent
// them — a card is never required), fraud checks that flag rather than
// drop, conversion on the friend's first completed visit, and two-sided
// rewards kept within the referrer cap and the monthly budget, paid out as
// invoice lines.
package referral

import (
	"encoding/json"
	"time"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/events"
	"github.com/routeloop/routeloop/internal/ledger"
	"github.com/routeloop/routeloop/internal/neighbor"
	"github.com/routeloop/routeloop/internal/refcode"
	"github.com/routeloop/routeloop/internal/store"
)

// Channels a referral can come through; all earn the same reward (rule 9).
// A referral made on the landing page takes the channel its link carried
// (?ch=, see refcode.LinkChannels): card, crew, invoice, sms, email or
// social; a plain link (or an unknown ch) is link.
const (
	ChannelLink      = "link"
	ChannelCode      = "code"
	ChannelCard      = refcode.ChannelCard
	ChannelCrewPitch = "crew_pitch"
	ChannelNameOnly  = "name_only"
	ChannelCrew      = refcode.ChannelCrew
	ChannelInvoice   = refcode.ChannelInvoice
	ChannelSMS       = refcode.ChannelSMS
	ChannelEmail     = refcode.ChannelEmail
	ChannelSocial    = refcode.ChannelSocial
)

// Channels are every channel a referral may have, in the order they are
// listed to people.
var Channels = []string{ChannelLink, ChannelCode, ChannelCard, ChannelCrewPitch, ChannelNameOnly,
	ChannelCrew, ChannelInvoice, ChannelSMS, ChannelEmail, ChannelSocial}

// ChannelWords are the channels in people's words (pages, dashboards).
var ChannelWords = map[string]string{
	ChannelLink: "Link", ChannelCode: "Code", ChannelCard: "Card", ChannelCrewPitch: "Crew pitch",
	ChannelNameOnly: "Name only", ChannelCrew: "Crew QR code", ChannelInvoice: "Invoice page",
	ChannelSMS: "Text message", ChannelEmail: "E-mail", ChannelSocial: "Social media",
}

// validChannel reports whether ch is one of Channels.
func validChannel(ch string) bool {
	for _, c := range Channels {
		if c == ch {
			return true
		}
	}
	return false
}

// Referral states.
const (
	StatusPending       = "pending"
	StatusPendingReview = "pending_review"
	StatusConverted     = "converted"
	StatusRejected      = "rejected"
	// StatusDuplicate: the friend was already credited to an earlier
	// referral (the first valid one wins); no reward.
	StatusDuplicate = "duplicate"
	// StatusExpired: the friend's qualifying event came after the
	// attribution window; no reward.
	StatusExpired = "expired"
)

// Event kinds announced through the events seam.
const (
	EventCreated   = "referral.created"
	EventConverted = "referral.converted"
	// A reward granted (on the ledger, counted against the budget), held
	// (waiting for the month's budget), or released from that wait.
	EventRewardGranted  = "reward.granted"
	EventRewardHeld     = "reward.held"
	EventRewardReleased = "reward.released"
)

// Flag is a reason a referral waits for review.
type Flag struct {
	Code   string `json:"code"`
	Reason string `json:"reason"`
}

// Flag codes.
const (
	FlagSelfReferral    = "self_referral"
	FlagAlreadyCustomer = "already_customer"
	FlagBurst           = "burst"
	FlagOutsideArea     = "outside_service_area"
	FlagNoMatch         = "referrer_not_found"
	FlagAmbiguous       = "referrer_ambiguous"
)

// Referral is one friend recommended by one customer.
type Referral struct {
	ID                int64    `json:"id"`
	TenantID          string   `json:"-"`
	ReferrerID        *int64   `json:"-"`
	RefereeCustomerID *int64   `json:"-"`
	RefereeKey        string   `json:"-"`
	RefereeName       string   `json:"-"`
	RefereeEmail      string   `json:"-"`
	RefereePhone      string   `json:"-"`
	RefereeAddress    string   `json:"-"`
	RefereeLat        *float64 `json:"-"`
	RefereeLon        *float64 `json:"-"`
	RefereeEmailNorm  string   `json:"-"`
	RefereePhoneNorm  string   `json:"-"`
	Channel           string   `json:"channel"`
	CrewMemberID      *int64   `json:"-"`
	ClickID           *int64   `json:"-"`
	Variant           string   `json:"variant"`
	// Offer is the variant's rewards when the referral was made (JSON),
	// what it grants on conversion.
	Offer          string `json:"-"`
	Status         string `json:"status"`
	FlagsJSON      string `json:"-" gorm:"column:flags"`
	CandidatesJSON string `json:"-" gorm:"column:candidates"`
	// The friend's own answers on the landing form (or as the API gave
	// them), carried to their customer record when it is mirrored.
	ConsentSameDay   bool `json:"-"`
	ConsentMarketing bool `json:"-"`
	// UTMJSON is the utm_* of the link visit the referral was made from
	// (JSON object, '' when none).
	UTMJSON        string     `json:"-" gorm:"column:utm"`
	UTM            UTM        `json:"utm" gorm:"-"`
	WithinRadius   bool       `json:"within_radius"`
	DistanceM      *int       `json:"distance_m"`
	Note           string     `json:"note,omitempty"`
	LocationSource string     `json:"location_source"` // given, geocoded, dispatcher; "" while unknown
	LocationNote   string     `json:"location_note"`   // why the location is unknown
	ConvertedAt    *time.Time `json:"converted_at"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`

	// Filled for answers: scheduler ids and decoded lists.
	Referrer            *string  `json:"referrer_id" gorm:"->"`
	Referee             Referee  `json:"referee" gorm:"-"`
	CrewMember          *string  `json:"crew_member_id" gorm:"->"`
	Flags               []Flag   `json:"flags" gorm:"-"`
	Candidates          []string `json:"candidates,omitempty" gorm:"-"`
	RefereeCustExternal *string  `json:"-" gorm:"column:referee_customer_external;->"`
	// Consents of the referrer's and the friend's customer records (nil
	// when there is none), for the events.
	ReferrerMarketing    *bool `json:"-" gorm:"column:referrer_consent_marketing;->"`
	RefereeCustSameDay   *bool `json:"-" gorm:"column:referee_customer_consent_same_day;->"`
	RefereeCustMarketing *bool `json:"-" gorm:"column:referee_customer_consent_marketing;->"`
}

// Referee is the friend as recorded (partial details are fine).
type Referee struct {
	Name       string   `json:"name"`
	Email      string   `json:"email,omitempty"`
	Phone      string   `json:"phone,omitempty"`
	Address    string   `json:"address,omitempty"`
	Lat        *float64 `json:"lat,omitempty"`
	Lon        *float64 `json:"lon,omitempty"`
	CustomerID *string  `json:"customer_id"`
	// What the friend answered on the landing form (or the API gave).
	ConsentSameDay   bool `json:"consent_same_day"`
	ConsentMarketing bool `json:"consent_marketing"`
}

// TableName is referrals.
func (Referral) TableName() string { return "referrals" }

// present decodes the stored lists and fills the answer fields.
func (r *Referral) present() {
	r.Flags, r.Candidates = []Flag{}, nil
	_ = json.Unmarshal([]byte(r.FlagsJSON), &r.Flags)
	_ = json.Unmarshal([]byte(r.CandidatesJSON), &r.Candidates)
	r.Referee = Referee{Name: r.RefereeName, Email: r.RefereeEmail, Phone: r.RefereePhone, Address: r.RefereeAddress,
		Lat: r.RefereeLat, Lon: r.RefereeLon, CustomerID: r.RefereeCustExternal,
		ConsentSameDay: r.ConsentSameDay, ConsentMarketing: r.ConsentMarketing}
	r.UTM = readUTM(r.UTMJSON)
}

// Service runs the referral engine.
type Service struct {
	store     *store.Store
	clock     clock.Clock
	ledger    *ledger.Service
	neighbors *neighbor.Service
	events    events.Emitter
	// onConverted runs inside the conversion's transaction (crew points);
	// onCreated inside the transaction that records a new referral.
	onConverted []ConvertedFunc
	onCreated   []ConvertedFunc
	onClosed    []ClosedFunc
	// locator finds a friend's address (nil: no geocoder).
	locator Locator
}

// ClosedFunc learns, inside the transaction, of a referral that will never
// earn anything: rejected, a duplicate of an earlier referral of the same
// friend, or expired. status is the referral's new status; reason says why.
type ClosedFunc func(tx *gorm.DB, tenantID string, referralID int64, status, reason string) error

// OnClosed registers fn to run whenever a referral is closed without a
// reward (crew points earned for it are reversed there).
func (s *Service) OnClosed(fn ClosedFunc) { s.onClosed = append(s.onClosed, fn) }

// closed runs the OnClosed listeners.
func (s *Service) closed(tx *gorm.DB, tenantID string, referralID int64, status, reason string) error {
	for _, fn := range s.onClosed {
		if err := fn(tx, tenantID, referralID, status, reason); err != nil {
			return err
		}
	}
	return nil
}

// ConvertedFunc learns of a referral that has just converted, inside the
// conversion's transaction; crewMemberID is who pitched it, if anyone.
type ConvertedFunc func(tx *gorm.DB, tenantID string, referralID int64, crewMemberID *int64) error

// OnConverted registers fn to run whenever a referral converts.
func (s *Service) OnConverted(fn ConvertedFunc) { s.onConverted = append(s.onConverted, fn) }

// OnCreated registers fn to run whenever a new referral is recorded (not a
// repeat of one already there), inside its transaction.
func (s *Service) OnCreated(fn ConvertedFunc) { s.onCreated = append(s.onCreated, fn) }

// NewService returns the engine; rewards reach invoices through the ledger.
func NewService(s *store.Store, c clock.Clock, l *ledger.Service, n *neighbor.Service, em events.Emitter) *Service {
	if em == nil {
		em = events.Discard{}
	}
	return &Service{store: s, clock: c, ledger: l, neighbors: n, events: em}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
