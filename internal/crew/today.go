package crew

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/geo"
	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/program"
)

// CustomerReader returns a customer as the mirror presents it (with the
// referral link); *mirror.Service's Customer is one.
type CustomerReader func(ctx context.Context, tenantID, externalID string) (mirror.Customer, error)

// Day is a crew's stops on one tenant-local day, with what to say at each.
type Day struct {
	CrewID string         `json:"crew_id"`
	Date   localdate.Date `json:"date"`
	Member *MemberRef     `json:"member"`
	// ScriptVariant is the one script every stop reads when the tenant has
	// a single active script; empty otherwise (each stop names its own).
	ScriptVariant string `json:"script_variant"`
	Stops         []Stop `json:"stops"`
}

// MemberRef names a crew member.
type MemberRef struct {
	ExternalID string `json:"external_id"`
	Name       string `json:"name"`
}

// Stop is one visit of the day.
type Stop struct {
	VisitID       string          `json:"visit_id"`
	RoutePosition *int            `json:"route_position"`
	StartAt       *time.Time      `json:"start_at"`
	Status        string          `json:"status"`
	Customer      StopCustomer    `json:"customer"`
	Rating        RatingStatus    `json:"rating"`
	Pitch         bool            `json:"pitch"`
	Action        string          `json:"action"`
	Reason        string          `json:"reason"`
	LastPitchedOn *localdate.Date `json:"last_pitched_on"`
	Script        string          `json:"script"`
	// ScriptVariant names the script read at this visit (chosen per visit).
	ScriptVariant string `json:"script_variant"`
	// Said is Reason as the crew's page words it: the same, without the
	// scheduler's ids (a complaint is quoted without its visit id).
	Said string `json:"-"`
	// Logged is the outcome of the pitch the day's member logged at this
	// visit ("" when none): the page shows the stop as finished.
	Logged string `json:"-"`
}

// StopCustomer is who lives at the stop.
type StopCustomer struct {
	ExternalID   string `json:"external_id"`
	Name         string `json:"name"`
	Address      string `json:"address"`
	ReferralCode string `json:"referral_code"`
	ReferralURL  string `json:"referral_url"`
}

// RatingStatus is what the customer's ratings say.
type RatingStatus struct {
	LastScore     *int       `json:"last_score"`
	LastRatedAt   *time.Time `json:"last_rated_at"`
	OpenComplaint bool       `json:"open_complaint"`
	// OpenComplaints are the complaints not resolved yet, newest first,
	// with what the customer wrote: the crew sees why they skip.
	OpenComplaints []Complaint `json:"open_complaints"`
}

// Complaint is an open complaint as the crew sees it.
type Complaint struct {
	VisitID string         `json:"visit_id"`
	Score   int            `json:"score"`
	Comment string         `json:"comment"`
	RatedOn localdate.Date `json:"rated_on"`
}

// String is the complaint in a sentence, naming the visit rated.
func (c Complaint) String() string {
	return fmt.Sprintf("%s (rated %d of 5 on %s, visit %s)", c.quote(), c.Score, c.RatedOn, c.VisitID)
}

// Said is the complaint in a sentence for the crew's page: what the
// customer wrote, the score and the day, without the visit's id.
func (c Complaint) Said() string {
	return fmt.Sprintf("%s (rated %d of 5 on %s)", c.quote(), c.Score, c.RatedOn)
}

func (c Complaint) quote() string {
	if c.Comment == "" {
		return "no details given"
	}
	return fmt.Sprintf("%q", c.Comment)
}

// PitchDecision says whether to pitch a customer today, and why: Reason
// for the API and the ledger, Said (the same without ids) for the page.
type PitchDecision struct {
	Pitch  bool
	Reason string
	Said   string
}

// Decide is the satisfaction-first rule: pitch when the last rating is 4 or
// better (or there is none) and no complaint is open; never within
// repitchDays of a logged pitch (lastPitch, the tenant-local day of the
// latest one, nil if none).
func Decide(r RatingStatus, lastPitch *localdate.Date, day localdate.Date, repitchDays int) PitchDecision {
	if r.OpenComplaint {
		return PitchDecision{false, openComplaints(r.OpenComplaints, Complaint.String), openComplaints(r.OpenComplaints, Complaint.Said)}
	}
	d := decideHappy(r, lastPitch, day, repitchDays)
	d.Said = d.Reason
	return d
}

// openComplaints is the skip reason of a customer with open complaints,
// the newest quoted by quote.
func openComplaints(cs []Complaint, quote func(Complaint) string) string {
	what := "open complaint"
	if len(cs) > 0 {
		what += ": " + quote(cs[0])
	}
	if n := len(cs); n > 1 {
		what += fmt.Sprintf(", and %d more", n-1)
	}
	return what + "; a dispatcher resolves it before anyone asks for referrals"
}

// decideHappy is Decide for a customer without an open complaint.
func decideHappy(r RatingStatus, lastPitch *localdate.Date, day localdate.Date, repitchDays int) PitchDecision {
	if r.LastScore != nil && *r.LastScore < 4 {
		return PitchDecision{Reason: fmt.Sprintf("last rating was %d of 5: pitch only customers who rate 4 or 5", *r.LastScore)}
	}
	if ago := 0; lastPitch != nil {
		if ago = lastPitch.DaysUntil(day); ago < repitchDays {
			return PitchDecision{Reason: fmt.Sprintf("pitched on %s (%d days ago); the program waits %d days before pitching again",
				lastPitch, ago, repitchDays)}
		}
	}
	if r.LastScore == nil {
		return PitchDecision{Pitch: true, Reason: "no rating yet and no complaint: check they are happy, then pitch"}
	}
	return PitchDecision{Pitch: true, Reason: fmt.Sprintf("last rating was %d of 5 and no complaint is open", *r.LastScore)}
}

type stopRow struct {
	ID             int64
	ExternalID     string
	CustomerID     int64
	RoutePosition  *int
	StartAt        *time.Time
	Status         string
	CustomerExt    string
	Name           string
	Address        string
	Lat, Lon       *float64
	ConsentSameDay bool
}

// Today lists a crew's stops on day ("" = today in the tenant's zone) in
// route order, each with pitch or skip and why, the script rendered for the
// customer (the script is chosen per visit, see ScriptForVisit), and
// the customer's referral code and link.
func (s *Service) Today(ctx context.Context, tenantID, crewExt, day, memberExt string, customers CustomerReader) (Day, error) {
	db := s.store.DB.WithContext(ctx)
	var crews []struct {
		ID         int64
		ExternalID string
	}
	if err := db.Raw(`SELECT id, external_id FROM crews WHERE tenant_id = ? AND external_id = ?`, tenantID, crewExt).Scan(&crews).Error; err != nil {
		return Day{}, fmt.Errorf("find crew: %w", err)
	}
	if len(crews) == 0 {
		return Day{}, apperror.NotFound("crew %s not found", crewExt)
	}
	crewID := crews[0].ID
	d, loc, err := s.dayOr(db, tenantID, day, "date")
	if err != nil {
		return Day{}, err
	}
	prog, err := program.Get(db, tenantID)
	if err != nil {
		return Day{}, err
	}
	var members []memberRow
	q := `SELECT id, external_id, name, crew_id FROM crew_members WHERE tenant_id = ? AND crew_id = ? AND active ORDER BY id LIMIT 1`
	args := []any{tenantID, crewID}
	if memberExt != "" {
		q = `SELECT id, external_id, name, crew_id FROM crew_members WHERE tenant_id = ? AND crew_id = ? AND external_id = ?`
		args = append(args, memberExt)
	}
	if err := db.Raw(q, args...).Scan(&members).Error; err != nil {
		return Day{}, fmt.Errorf("find crew member: %w", err)
	}
	if memberExt != "" && len(members) == 0 {
		return Day{}, apperror.Invalid("member_id", "no member "+memberExt+" in crew "+crewExt)
	}
	scripts, err := activeScripts(db, tenantID)
	if err != nil {
		return Day{}, err
	}
	out := Day{CrewID: crewExt, Date: d, Stops: []Stop{}}
	if len(members) > 0 {
		out.Member = &MemberRef{ExternalID: members[0].ExternalID, Name: members[0].Name}
	}
	// With one script every stop reads it; with more each stop names its own.
	if len(scripts) <= 1 {
		out.ScriptVariant = ScriptForVisit(tenantID, 0, scripts).Name
	}
	var rows []stopRow
	if err := db.Raw(`SELECT v.id, v.external_id, v.customer_id, v.route_position, v.start_at, v.status,
			c.external_id AS customer_ext, c.name, c.address, c.lat, c.lon, c.consent_same_day
		FROM visits v JOIN customers c ON c.id = v.customer_id
		WHERE v.tenant_id = ? AND v.crew_id = ? AND v.service_date = ? AND v.status <> 'cancelled'
		ORDER BY v.route_position IS NULL, v.route_position, v.start_at IS NULL, v.start_at, v.id`,
		tenantID, crewID, d).Scan(&rows).Error; err != nil {
		return Day{}, fmt.Errorf("list stops: %w", err)
	}
	if len(rows) == 0 {
		return out, nil
	}
	ids := make([]int64, 0, len(rows))
	visits := make([]int64, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.CustomerID)
		visits = append(visits, r.ID)
	}
	ratings, err := ratingStatuses(db, tenantID, ids, loc)
	if err != nil {
		return Day{}, err
	}
	pitched, err := lastPitches(db, tenantID, ids, loc)
	if err != nil {
		return Day{}, err
	}
	logged := map[int64]string{}
	if len(members) > 0 {
		if logged, err = loggedOutcomes(db, tenantID, members[0].ID, visits); err != nil {
			return Day{}, err
		}
	}
	for _, r := range rows {
		c, err := customers(ctx, tenantID, r.CustomerExt)
		if err != nil {
			return Day{}, err
		}
		rating := ratings[r.CustomerID]
		if rating.OpenComplaints == nil {
			rating.OpenComplaints = []Complaint{}
		}
		dec := Decide(rating, pitched[r.CustomerID], d, prog.RepitchDays)
		neighbor, err := neighborOffer(db, tenantID, prog, r)
		if err != nil {
			return Day{}, err
		}
		offer, err := program.OfferFor(ctx, s.store, prog, r.CustomerID, s.clock.Now())
		if err != nil {
			return Day{}, err
		}
		script := ScriptForVisit(tenantID, r.ID, scripts)
		text := Render(script.Body, map[string]string{
			PlaceholderFirstName: firstName(r.Name),
			PlaceholderFriend:    offer.Referee.Describe("their first visit"),
			PlaceholderReward:    offer.Referrer.Describe("your next visit"),
			PlaceholderNeighbor:  neighbor,
		})
		action := "skip"
		if dec.Pitch {
			action = "pitch"
		}
		out.Stops = append(out.Stops, Stop{VisitID: r.ExternalID, RoutePosition: r.RoutePosition, StartAt: r.StartAt, Status: r.Status,
			Customer: StopCustomer{ExternalID: r.CustomerExt, Name: r.Name, Address: r.Address, ReferralCode: c.ReferralCode, ReferralURL: c.ReferralURL},
			Rating:   rating, Pitch: dec.Pitch, Action: action, Reason: dec.Reason, Said: dec.Said, Logged: logged[r.ID],
			LastPitchedOn: pitched[r.CustomerID], Script: text, ScriptVariant: script.Name})
	}
	return out, nil
}

func firstName(name string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(name), " ")
	return first
}

// ratingStatuses reads each customer's last score and open complaints
// (every rating is kept, so a later good score leaves a complaint open).
func ratingStatuses(db *gorm.DB, tenantID string, customerIDs []int64, loc *time.Location) (map[int64]RatingStatus, error) {
	var rs []struct {
		CustomerID int64
		Visit      string
		Score      int
		Comment    string
		Complaint  bool
		ResolvedAt *time.Time
		CreatedAt  time.Time
	}
	if err := db.Raw(`SELECT r.customer_id, v.external_id AS visit, r.score, r.comment, r.complaint, r.resolved_at, r.created_at
		FROM ratings r JOIN visits v ON v.id = r.visit_id
		WHERE r.tenant_id = ? AND r.customer_id IN ? ORDER BY r.created_at DESC, r.id DESC`, tenantID, customerIDs).Scan(&rs).Error; err != nil {
		return nil, fmt.Errorf("read ratings: %w", err)
	}
	out := map[int64]RatingStatus{}
	for _, r := range rs {
		st := out[r.CustomerID]
		if st.LastScore == nil {
			score, at := r.Score, r.CreatedAt
			st.LastScore, st.LastRatedAt = &score, &at
		}
		if r.Complaint && r.ResolvedAt == nil {
			st.OpenComplaint = true
			st.OpenComplaints = append(st.OpenComplaints, Complaint{VisitID: r.Visit, Score: r.Score, Comment: r.Comment,
				RatedOn: localdate.In(r.CreatedAt, loc)})
		}
		out[r.CustomerID] = st
	}
	return out, nil
}

// lastPitches is the tenant-local day each customer was last pitched.
func lastPitches(db *gorm.DB, tenantID string, customerIDs []int64, loc *time.Location) (map[int64]*localdate.Date, error) {
	var ps []struct {
		CustomerID int64
		CreatedAt  time.Time
	}
	if err := db.Raw(`SELECT customer_id, created_at FROM pitches WHERE tenant_id = ? AND customer_id IN ? ORDER BY created_at DESC`,
		tenantID, customerIDs).Scan(&ps).Error; err != nil {
		return nil, fmt.Errorf("read pitches: %w", err)
	}
	out := map[int64]*localdate.Date{}
	for _, p := range ps {
		if out[p.CustomerID] == nil {
			d := localdate.In(p.CreatedAt, loc)
			out[p.CustomerID] = &d
		}
	}
	return out, nil
}

// loggedOutcomes is the outcome of the pitch a member logged at each of
// visits (internal ids); a visit without one is absent.
func loggedOutcomes(db *gorm.DB, tenantID string, memberID int64, visits []int64) (map[int64]string, error) {
	var ps []struct {
		VisitID int64
		Outcome string
	}
	if err := db.Raw(`SELECT visit_id, outcome FROM pitches WHERE tenant_id = ? AND crew_member_id = ? AND visit_id IN ?`,
		tenantID, memberID, visits).Scan(&ps).Error; err != nil {
		return nil, fmt.Errorf("read logged pitches: %w", err)
	}
	out := make(map[int64]string, len(ps))
	for _, p := range ps {
		out[p.VisitID] = p.Outcome
	}
	return out, nil
}

// neighborOffer is the {neighbor_offer} sentence. Every mirrored person is
// a customer, so "neighbours who aren't customers yet" reads as: customers
// within the program radius who agreed to same-day service and are not yet
// linked to this one. Empty when there are none or no sync discount.
func neighborOffer(db *gorm.DB, tenantID string, prog program.Program, c stopRow) (string, error) {
	if c.Lat == nil || c.Lon == nil || prog.SyncDiscountBps <= 0 {
		return "", nil
	}
	p := geo.Point{Lat: *c.Lat, Lon: *c.Lon}
	var boxes []string
	args := []any{tenantID, c.CustomerID}
	for _, b := range geo.BoundsAround(p, float64(prog.NeighborRadiusM)) {
		boxes = append(boxes, "(lat BETWEEN ? AND ? AND lon BETWEEN ? AND ?)")
		args = append(args, b.MinLat, b.MaxLat, b.MinLon, b.MaxLon)
	}
	args = append(args, c.CustomerID, tenantID, c.CustomerID, c.CustomerID)
	var near []struct {
		Address  string
		Lat, Lon float64
	}
	if err := db.Raw(`SELECT address, lat, lon FROM customers
		WHERE tenant_id = ? AND id <> ? AND consent_same_day AND lat IS NOT NULL AND (`+strings.Join(boxes, " OR ")+`)
		  AND id NOT IN (SELECT CASE WHEN customer_a_id = ? THEN customer_b_id ELSE customer_a_id END FROM neighbor_links
		                 WHERE tenant_id = ? AND (customer_a_id = ? OR customer_b_id = ?) AND ends_on IS NULL)`,
		args...).Scan(&near).Error; err != nil {
		return "", fmt.Errorf("read neighbours: %w", err)
	}
	type cand struct {
		street string
		d      float64
	}
	var cs []cand
	for _, n := range near {
		if d := geo.DistanceM(p, geo.Point{Lat: n.Lat, Lon: n.Lon}); d <= float64(prog.NeighborRadiusM) {
			cs = append(cs, cand{streetOf(n.Address), d})
		}
	}
	if len(cs) == 0 {
		return "", nil
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].d < cs[j].d })
	where := "nearby"
	if cs[0].street != "" {
		where = "on " + cs[0].street
	}
	return fmt.Sprintf("Your neighbours %s get %s off too if we do your yards the same day.", where, program.Percent(prog.SyncDiscountBps)), nil
}

// streetOf is the street of an address: "14 SE Maple St, Portland" → "SE
// Maple St".
func streetOf(address string) string {
	line, _, _ := strings.Cut(address, ",")
	fields := strings.Fields(line)
	if len(fields) > 1 && strings.IndexFunc(fields[0], func(r rune) bool { return r < '0' || r > '9' }) < 0 {
		fields = fields[1:]
	}
	return strings.Join(fields, " ")
}
