package referral

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/geo"
	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/contact"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/refcode"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/text"
)

// Input is the body of POST /referrals. The referrer is named by exactly one
// of: referrer_code (link, phone, card), referrer_id (the scheduler's id,
// e.g. the crew's current stop), or referrer_name with referrer_street or
// referrer_phone (the friend names who sent them).
type Input struct {
	ReferrerCode   string       `json:"referrer_code"`
	ReferrerID     string       `json:"referrer_id"`
	ReferrerName   string       `json:"referrer_name"`
	ReferrerStreet string       `json:"referrer_street"`
	ReferrerPhone  string       `json:"referrer_phone"`
	Referee        RefereeInput `json:"referee"`
	Channel        string       `json:"channel"`
	CrewMemberID   string       `json:"crew_member_id"`
	Variant        string       `json:"variant"`
	// ClickID ties a landing-page sign-up to the recorded link visit; UTM
	// is that visit's utm_* (see ParseUTM).
	ClickID *int64 `json:"-"`
	UTM     UTM    `json:"-"`
	// location says where the friend's lat and lon came from; Create
	// fills it.
	location location
}

// RefereeInput is the friend; a name and a phone (or e-mail) are enough.
type RefereeInput struct {
	ExternalID string   `json:"customer_id"`
	Name       string   `json:"name"`
	Email      string   `json:"email"`
	Phone      string   `json:"phone"`
	Address    string   `json:"address"`
	Lat        *float64 `json:"lat"`
	Lon        *float64 `json:"lon"`
	// The friend's own answers (the landing form's two ticks): same-day
	// service next to a neighbour, and marketing messages. Carried to the
	// friend's customer record when the scheduler creates it without them.
	ConsentSameDay   bool `json:"consent_same_day"`
	ConsentMarketing bool `json:"consent_marketing"`
}

// SelfReferralMetres: a friend living this close is the same household.
const SelfReferralMetres = 15

// channelList is the channels as a sentence's list: "link, code, … or social".
var channelList = strings.Join(Channels[:len(Channels)-1], ", ") + " or " + Channels[len(Channels)-1]

// check adds to f what is wrong with the input's own fields.
func (in *Input) check(f apperror.Fields) {
	switch {
	case in.Channel == "":
		f.Add("channel", "is required: "+channelList)
	case !validChannel(in.Channel):
		f.Add("channel", "must be "+channelList)
	}
	named := 0
	for _, s := range []string{in.ReferrerCode, in.ReferrerID, in.ReferrerName} {
		if strings.TrimSpace(s) != "" {
			named++
		}
	}
	if named != 1 {
		f.Add("referrer_code", "name the referrer by exactly one of referrer_code, referrer_id or referrer_name")
	}
	if in.ReferrerName != "" && in.ReferrerStreet == "" && in.ReferrerPhone == "" {
		f.Add("referrer_street", "with referrer_name, give the referrer's street or phone too")
	}
	if in.Channel == ChannelNameOnly && in.ReferrerName == "" && in.ReferrerID == "" {
		f.Add("referrer_name", "a name_only referral names the referrer")
	}
	if in.Channel == ChannelCrewPitch && in.CrewMemberID == "" {
		f.Add("crew_member_id", "a crew_pitch referral names the crew member who pitched")
	}
	text.Field(f, "referrer_code", in.ReferrerCode, text.Line, false, 40)
	text.Field(f, "referrer_name", in.ReferrerName, text.Line, false, 200)
	text.Field(f, "referrer_street", in.ReferrerStreet, text.Line, false, 300)
	text.Field(f, "referrer_phone", in.ReferrerPhone, text.Line, false, 40)
	if in.ReferrerID != "" {
		if err := mirror.CheckExternalID(in.ReferrerID); err != nil {
			f.Add("referrer_id", err.Error())
		}
	}
	if in.CrewMemberID != "" {
		if err := mirror.CheckExternalID(in.CrewMemberID); err != nil {
			f.Add("crew_member_id", err.Error())
		}
	}
	in.Referee.check(f)
	if text.Len(in.Variant) > 40 || text.Check(in.Variant, text.Line, 40) != nil {
		f.Add("variant", "must be an offer name of the program")
	}
}

// Validate checks the friend as a referral gives them (fields named
// referee.*), so a caller recording a referral later — a crew pitch — can
// refuse a bad friend before anything is stored.
func (r RefereeInput) Validate() error {
	f := apperror.Fields{}
	r.check(f)
	return f.Err()
}

// ValidateFor is Validate with the friend's phone checked against the
// company's country as well (a national number of country, or an
// international one), as Create checks it: the whole rule for a friend a
// page collects before a referral is recorded.
func (r RefereeInput) ValidateFor(country string) error {
	f := apperror.Fields{}
	r.check(f)
	r.checkPhone(f, country)
	return f.Err()
}

// checkPhone adds to f a friend's phone that is not a phone number of
// country (or an international one), unless the phone is refused already.
func (r RefereeInput) checkPhone(f apperror.Fields, country string) {
	if _, bad := f["referee.phone"]; bad {
		return
	}
	if err := contact.CheckPhone(r.Phone, country); err != nil {
		f.Add("referee.phone", err.Error())
	}
}

// check adds to f what is wrong with the friend; it trims the fields.
func (r *RefereeInput) check(f apperror.Fields) {
	r.Name, r.Email, r.Phone, r.Address = strings.TrimSpace(r.Name), strings.TrimSpace(r.Email), strings.TrimSpace(r.Phone), strings.TrimSpace(r.Address)
	text.Field(f, "referee.name", r.Name, text.Line, true, 200)
	if r.ExternalID != "" {
		if err := mirror.CheckExternalID(r.ExternalID); err != nil {
			f.Add("referee.customer_id", err.Error())
		}
	}
	if r.Email == "" && r.Phone == "" && r.ExternalID == "" {
		f.Add("referee.phone", "give the friend's phone or e-mail so the company can reach them")
	}
	if err := text.Check(r.Email, text.Line, 254); err != nil {
		f.Add("referee.email", err.Error())
	} else if r.Email != "" && contact.Email(r.Email) == "" {
		f.Add("referee.email", "must be an e-mail address such as ben@example.com")
	}
	text.Field(f, "referee.phone", r.Phone, text.Line, false, 40)
	text.Field(f, "referee.address", r.Address, text.Line, false, 300)
	if (r.Lat == nil) != (r.Lon == nil) {
		f.Add("referee.lat", "lat and lon must be given together")
	} else if r.Lat != nil {
		if err := geo.CheckLat(*r.Lat); err != nil {
			f.Add("referee.lat", err.Error())
		}
		if err := geo.CheckLon(*r.Lon); err != nil {
			f.Add("referee.lon", err.Error())
		}
	}
}

// promise is the variant a referral is made under and the offer it keeps
// as its promise (JSON), for a referral by referrerID (nil: not known yet)
// that stated variant and already holds promised (or ""). The referrer's
// variant is assigned once (a stated variant is stored if they have none
// yet); a stated variant keeps the promise it holds, else the program's
// offer of that name; without one the referral takes the referrer's.
func promise(tx *gorm.DB, prog program.Program, referrer *person, stated, promised string, now time.Time) (variant, offer string, err error) {
	var assigned *program.Offer
	if referrer != nil {
		o, err := program.OfferWith(tx, prog, referrer.ID, referrer.OfferVariant, stated, now)
		if err != nil {
			return "", "", err
		}
		assigned = &o
	}
	if stated != "" && promised != "" {
		return stated, promised, nil
	}
	if o, ok := prog.Offer(stated); ok && stated != "" {
		return o.Name, program.OfferJSON(o), nil
	}
	if assigned != nil {
		return assigned.Name, program.OfferJSON(*assigned), nil
	}
	return "", "", nil
}

// checkPhones adds to f a friend's or referrer's phone that is not a phone
// number of the tenant's country (or an international one).
func checkPhones(f apperror.Fields, in Input, country string) {
	in.Referee.checkPhone(f, country)
	if _, bad := f["referrer_phone"]; !bad {
		if err := contact.CheckPhone(in.ReferrerPhone, country); err != nil {
			f.Add("referrer_phone", err.Error())
		}
	}
}

// person is what fraud checks and matching read of a customer.
type person struct {
	ID             int64
	ExternalID     string
	Name           string
	Address        string
	Lat, Lon       *float64
	EmailNorm      string
	PhoneNorm      string
	StreetNorm     string
	ConsentSameDay bool
	CreatedAt      time.Time
	// OfferVariant is their stored offer variant as this transaction read
	// it with them (program.StoredVariant).
	OfferVariant *string
}

func (p person) point() (geo.Point, bool) {
	if p.Lat == nil || p.Lon == nil {
		return geo.Point{}, false
	}
	return geo.Point{Lat: *p.Lat, Lon: *p.Lon}, true
}

var personCols = "id, external_id, name, address, lat, lon, email_norm, phone_norm, street_norm, consent_same_day, created_at, " +
	program.StoredVariant("customers.tenant_id", "customers.id") + " AS offer_variant"

func findPeople(tx *gorm.DB, tenantID, where string, args ...any) ([]person, error) {
	var ps []person
	err := tx.Raw(`SELECT `+personCols+` FROM customers WHERE tenant_id = ? AND `+where+` ORDER BY id LIMIT 20`,
		append([]any{tenantID}, args...)...).Scan(&ps).Error
	if err != nil {
		return nil, fmt.Errorf("find customers: %w", err)
	}
	return ps, nil
}

// Create records a referral from any channel. The same friend referred
// again by the same customer returns the referral already recorded (not
// created). Suspicious referrals are flagged with reasons and wait for
// review; nothing is dropped.
func (s *Service) Create(ctx context.Context, tenantID, actor string, in Input) (Referral, store.Upserted, error) {
	prog, err := s.check(ctx, tenantID, &in)
	if err != nil {
		return Referral{}, store.Updated, err
	}
	in.location = s.locate(ctx, &in.Referee)
	var (
		made   Referral
		repeat int64
	)
	err = s.store.Tx(ctx, func(tx *gorm.DB) error {
		var err error
		made, repeat, err = s.create(tx, tenantID, prog, actor, in)
		return err
	})
	switch {
	case err != nil:
		return Referral{}, store.Updated, err
	case repeat == 0:
		return made, store.Created, nil
	}
	r, err := s.Get(ctx, tenantID, repeat)
	return r, store.Updated, err
}

// check is every check Create makes of the input's own fields — the phones
// against the company's country too — all at once, before the friend's
// address is looked up and without writing; it trims the input and returns
// the program the referral is made under. The program is read once, outside
// the transaction: it takes no lock, so reading it there sees what the
// transaction's first statement would.
func (s *Service) check(ctx context.Context, tenantID string, in *Input) (program.Program, error) {
	f := apperror.Fields{}
	in.check(f)
	prog, err := program.Get(s.store.DB.WithContext(ctx), tenantID)
	if err != nil {
		return program.Program{}, err
	}
	checkPhones(f, *in, prog.Country)
	return prog, f.Err()
}

// create records the referral in tx: the new one as read back, or the id of
// the referral already recorded that this one repeats (repeat, not 0). Its
// steps in order: who referred, who the friend is (locked), what is already
// recorded of them (whether this repeats a referral already made), what the
// checks say, the insert, and the decision log.
func (s *Service) create(tx *gorm.DB, tenantID string, prog program.Program, actor string, in Input) (made Referral, repeat int64, err error) {
	d := &draft{in: in, now: s.clock.Now()}
	if err := s.referredBy(tx, tenantID, prog, d); err != nil {
		return Referral{}, 0, err
	}
	if err := s.friendOf(tx, tenantID, prog, d); err != nil {
		return Referral{}, 0, err
	}
	p, err := priorsOf(tx, tenantID, prog, d)
	if err != nil {
		return Referral{}, 0, err
	}
	if p.repeat != 0 {
		return Referral{}, p.repeat, repeated(tx, p.repeat, d.in.Referee)
	}
	if err := assess(tx, tenantID, prog, d, p); err != nil {
		return Referral{}, 0, err
	}
	id, row, err := s.insertReferral(tx, tenantID, d, actor, recordedWhy(d.in.Channel, d.flags, d.note))
	if err != nil {
		return Referral{}, 0, err
	}
	if id == 0 { // a concurrent twin won
		id, err := s.twinOf(tx, tenantID, d.referrer, d.key)
		return Referral{}, id, err
	}
	made, err = s.recorded(tx, tenantID, id, row, d.crewMemberID)
	if err != nil || d.status != StatusDuplicate {
		return made, 0, err
	}
	return made, 0, s.closed(tx, tenantID, made.ID, StatusDuplicate, d.note)
}

// draft is what create works out about a new referral before inserting
// it, each step filling its part.
type draft struct {
	in  Input
	now time.Time
	// who referred (referredBy)
	referrer       *person
	referrerID     *int64
	flags          []Flag
	candidates     []string
	crewMemberID   *int64
	variant, offer string
	// the friend (friendOf)
	emailNorm, phoneNorm, key string
	referee                   *person
	refereeID                 *int64
	fr                        friend
	// what the checks found (assess)
	status      string
	duplicateOf *int64
	note        string
	distance    *int
	within      bool
}

// referredBy fills in who referred (flagged when only a name was given),
// the crew member who pitched, and the variant and offer the referral is
// made under; a variant the program does not offer is refused.
func (s *Service) referredBy(tx *gorm.DB, tenantID string, prog program.Program, d *draft) error {
	var err error
	d.referrer, d.flags, d.candidates, err = s.referrerOf(tx, tenantID, prog, d.in)
	if err != nil {
		return err
	}
	if d.crewMemberID, err = crewMemberOf(tx, tenantID, d.in.CrewMemberID); err != nil {
		return err
	}
	if d.in.Variant != "" {
		if _, ok := prog.Offer(d.in.Variant); !ok {
			return apperror.Invalid("variant", "the program has no offer named "+d.in.Variant)
		}
	}
	if d.referrer != nil {
		d.referrerID = &d.referrer.ID
	}
	d.variant, d.offer, err = promise(tx, prog, d.referrer, d.in.Variant, "", d.now)
	return err
}

// friendOf fills in the friend: their normalised contact and key, their
// customer record when there is one, and takes the locks under which the
// friend's earlier referrals are read.
func (s *Service) friendOf(tx *gorm.DB, tenantID string, prog program.Program, d *draft) error {
	r := d.in.Referee
	d.emailNorm, d.phoneNorm = contact.Email(r.Email), contact.Phone(r.Phone, prog.Country)
	d.key = refereeKey(d.emailNorm, d.phoneNorm, r)
	var err error
	if d.referee, err = s.matchReferee(tx, tenantID, r.ExternalID, d.emailNorm, d.phoneNorm); err != nil {
		return err
	}
	d.fr = friend{emailNorm: d.emailNorm, phoneNorm: d.phoneNorm}
	if d.referee != nil {
		d.fr.customerID, d.refereeID = &d.referee.ID, &d.referee.ID
	}
	return lockFriend(tx, tenantID, d.fr)
}

// prior is what is already recorded of a new referral's friend, read once
// the friend is locked: the referral this one repeats (repeat, 0 when
// none), the friend's first referral that still counts (first), and how
// many referrals name the same referrer within the burst window (recent).
type prior struct {
	repeat int64
	first  *earlier
	recent int64
}

// priorsOf reads what prior holds in one statement: recordedFor's query
// (the oldest), recentSQL and firstSQL, each as a subquery.
func priorsOf(tx *gorm.DB, tenantID string, prog program.Program, d *draft) (prior, error) {
	rq, args := recordedQuery(tenantID, d.referrer, d.key, &d.fr)
	q := `SELECT (SELECT MIN(id) FROM (` + rq + `) AS x) AS repeat_id`
	if d.referrer != nil {
		q += `, (` + recentSQL + `) AS recent`
		args = append(args, recentArgs(tenantID, prog, checkFacts{referrer: d.referrer, created: d.now})...)
	} else {
		q += `, 0 AS recent`
	}
	if d.fr.known() {
		q += `, f.id, f.referrer_id, f.referrer, f.status FROM (SELECT 1 AS one) AS one LEFT JOIN (` + firstSQL + `) AS f ON 1 = 1`
		args = append(args, firstArgs(tenantID, d.fr, 0)...)
	} else {
		q += `, NULL AS id, NULL AS referrer_id, NULL AS referrer, NULL AS status`
	}
	var row struct {
		RepeatID   *int64
		Recent     int64
		ID         *int64
		ReferrerID *int64
		Referrer   *string
		Status     *string
	}
	if err := tx.Raw(q, args...).Scan(&row).Error; err != nil {
		return prior{}, fmt.Errorf("read the friend's referrals: %w", err)
	}
	p := prior{recent: row.Recent}
	if row.RepeatID != nil {
		p.repeat = *row.RepeatID
	}
	if row.ID != nil && row.Status != nil {
		p.first = &earlier{ID: *row.ID, ReferrerID: row.ReferrerID, Referrer: row.Referrer, Status: *row.Status}
	}
	return p, nil
}

// assess fills in what the checks say: the fraud flags, the distance
// between the two homes, and the status (a duplicate of the friend's
// earlier referral that still counts, see verdict).
func assess(tx *gorm.DB, tenantID string, prog program.Program, d *draft, p prior) error {
	// One friend, one referrer: anyone else's referral of a friend already
	// credited is kept as a duplicate (p.first).
	refPoint := homeOf(&d.in, d.referee)
	checked, distance, within, err := checksWith(tx, tenantID, prog, checkFacts{referrer: d.referrer, referee: d.referee,
		emailNorm: d.emailNorm, phoneNorm: d.phoneNorm, street: contact.Street(d.in.Referee.Address), point: refPoint, created: d.now},
		fraudEvidence{recent: p.recent})
	if err != nil {
		return err
	}
	d.distance, d.within = distance, within
	d.flags = append(d.flags, checked...)
	d.status, d.duplicateOf, d.note = verdict(d.flags, p.first)
	if d.flags == nil {
		d.flags = []Flag{}
	}
	return nil
}

// insertReferral inserts the draft, logs its creation (actor, why) in the
// decision log and returns its id, or 0 with nothing written when a twin
// (same referrer, same friend) was inserted first. On PostgreSQL both rows
// go in one statement, which also reads the referral back as
// referralCols does (row; nil on SQLite).
func (s *Service) insertReferral(tx *gorm.DB, tenantID string, d *draft, actor, why string) (id int64, row *Referral, err error) {
	r, in := d.in.Referee, d.in
	var rows []Referral
	pg := tx.Dialector.Name() == store.Postgres
	head, returning, tail, logArgs := "", "id", "", []any(nil)
	if pg {
		head, returning = "WITH made AS (", "*"
		tail = `), logged AS (INSERT INTO referral_decisions (tenant_id, referral_id, action, actor, reason, created_at)
			SELECT ?, id, 'created', ?, ?, ? FROM made) SELECT ` + referralCols + ` FROM made AS r ` + referralJoins
		logArgs = []any{tenantID, actor, why, d.now}
	}
	err = tx.Raw(head+`INSERT INTO referrals (tenant_id, referrer_id, referee_customer_id, referee_key, referee_name, referee_email,
			referee_phone, referee_address, referee_lat, referee_lon, referee_email_norm, referee_phone_norm, channel,
			crew_member_id, click_id, variant, offer, status, flags, candidates, within_radius, distance_m, duplicate_of, note,
			consent_same_day, consent_marketing, utm, location_source, location_note, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, referrer_id, referee_key) DO NOTHING
		RETURNING `+returning+tail, append([]any{
		tenantID, d.referrerID, d.refereeID, d.key, r.Name, r.Email, r.Phone, r.Address, r.Lat, r.Lon, d.emailNorm, d.phoneNorm,
		in.Channel, d.crewMemberID, in.ClickID, d.variant, d.offer, d.status, mustJSON(d.flags), mustJSON(d.candidates), d.within, d.distance,
		d.duplicateOf, d.note, r.ConsentSameDay, r.ConsentMarketing, in.UTM.stored(), in.location.source, in.location.note, d.now, d.now}, logArgs...)...).Scan(&rows).Error
	if err != nil {
		return 0, nil, fmt.Errorf("insert referral: %w", err)
	}
	if len(rows) == 0 {
		return 0, nil, nil
	}
	if pg {
		return rows[0].ID, &rows[0], nil
	}
	if err := s.decide(tx, tenantID, rows[0].ID, "created", actor, why); err != nil {
		return 0, nil, err
	}
	return rows[0].ID, nil, nil
}

// recordedWhy is the decision log's line for a new referral: its channel,
// each flag's reason and the note.
func recordedWhy(channel string, flags []Flag, note string) string {
	why := "recorded via " + channel
	for _, fl := range flags {
		why += "; flagged: " + fl.Reason
	}
	if note != "" {
		why += "; " + note
	}
	return why
}

// verdict is the status a new referral is recorded with: a duplicate of
// first, the friend's earlier referral that still counts (with the note
// saying so), whatever its flags; else waiting for review when flagged;
// else pending.
func verdict(flags []Flag, first *earlier) (status string, duplicateOf *int64, note string) {
	if first != nil {
		return StatusDuplicate, &first.ID, duplicateReason(first)
	}
	if len(flags) > 0 {
		return StatusPendingReview, nil, ""
	}
	return StatusPending, nil, ""
}

// referrerOf is who referred, as resolveReferrer finds them; a name that
// matches no customer or several is not refused but flagged for review,
// with the candidates.
func (s *Service) referrerOf(tx *gorm.DB, tenantID string, prog program.Program, in Input) (*person, []Flag, []string, error) {
	referrer, err := s.resolveReferrer(tx, tenantID, prog, in)
	var ae *matchError
	switch {
	case errors.As(err, &ae) && errors.Is(err, errAmbiguous):
		return nil, []Flag{{FlagAmbiguous, fmt.Sprintf("%d customers match the name given; pick the referrer", len(ae.candidates))}}, ae.candidates, nil
	case errors.As(err, &ae):
		return nil, []Flag{{FlagNoMatch, "no customer matches the name given; pick the referrer"}}, ae.candidates, nil
	case err != nil:
		return nil, nil, nil, err
	}
	return referrer, nil, nil, nil
}

// crewMemberOf is the database id of the crew member who pitched (nil when
// no one was named); an unknown one is refused.
func crewMemberOf(tx *gorm.DB, tenantID, externalID string) (*int64, error) {
	if externalID == "" {
		return nil, nil
	}
	var ids []int64
	if err := tx.Raw(`SELECT id FROM crew_members WHERE tenant_id = ? AND external_id = ?`, tenantID, externalID).Scan(&ids).Error; err != nil {
		return nil, fmt.Errorf("find crew member: %w", err)
	}
	if len(ids) == 0 {
		return nil, apperror.Invalid("crew_member_id", "no crew member with id "+externalID)
	}
	return &ids[0], nil
}

// repeated records a referral made again (id, see prior.repeat): the same
// referrer naming the same friend again, by any contact (without a
// referrer, the same friend's key). The friend signing up again keeps the
// referral; a tick given now is added (one left off does not take back an
// earlier one).
func repeated(tx *gorm.DB, id int64, r RefereeInput) error {
	if !r.ConsentSameDay && !r.ConsentMarketing {
		return nil
	}
	if err := tx.Exec(`UPDATE referrals SET consent_same_day = consent_same_day OR ?, consent_marketing = consent_marketing OR ?
		WHERE id = ?`, r.ConsentSameDay, r.ConsentMarketing, id).Error; err != nil {
		return fmt.Errorf("record the friend's consents: %w", err)
	}
	return nil
}

// twinOf is the referral a concurrent twin recorded under the same
// (referrer, friend key) while this one was being made.
func (s *Service) twinOf(tx *gorm.DB, tenantID string, referrer *person, key string) (int64, error) {
	ids, err := recordedFor(tx, tenantID, referrer, key, nil)
	if err != nil {
		return 0, fmt.Errorf("find the twin referral: %w", err)
	}
	if len(ids) == 0 {
		return 0, errors.New("insert referral: lost to a twin that is not there")
	}
	return ids[0], nil
}

// recordedFor reads the ids of the referrals the referrer already recorded
// of the friend. Without a referrer, they are the ones without one under
// the friend's key. With one, those under the key; when by is given, also
// those naming any of by's contacts or customer record, the oldest first.
func recordedFor(tx *gorm.DB, tenantID string, referrer *person, key string, by *friend) ([]int64, error) {
	q, args := recordedQuery(tenantID, referrer, key, by)
	var ids []int64
	if err := tx.Raw(q, args...).Scan(&ids).Error; err != nil {
		return nil, err
	}
	return ids, nil
}

// recordedQuery is recordedFor's statement and its parameters.
func recordedQuery(tenantID string, referrer *person, key string, by *friend) (string, []any) {
	q, args := `SELECT id FROM referrals WHERE tenant_id = ? AND referrer_id IS NULL AND referee_key = ? ORDER BY id`, []any{tenantID, key}
	switch {
	case referrer != nil && by != nil:
		var customer int64 = -1
		if by.customerID != nil {
			customer = *by.customerID
		}
		q = `SELECT id FROM referrals WHERE tenant_id = ? AND referrer_id = ? AND (referee_key = ?
			OR (? <> '' AND referee_email_norm = ?) OR (? <> '' AND referee_phone_norm = ?) OR referee_customer_id = ?) ORDER BY id LIMIT 1`
		args = []any{tenantID, referrer.ID, key, by.emailNorm, by.emailNorm, by.phoneNorm, by.phoneNorm, customer}
	case referrer != nil:
		q, args = `SELECT id FROM referrals WHERE tenant_id = ? AND referrer_id = ? AND referee_key = ?`, []any{tenantID, referrer.ID, key}
	}
	return q, args
}

// homeOf is where the friend lives, as best known: the point given (or
// geocoded), else their customer record's (noted as such).
func homeOf(in *Input, referee *person) *geo.Point {
	if r := in.Referee; r.Lat != nil {
		return &geo.Point{Lat: *r.Lat, Lon: *r.Lon}
	}
	if referee != nil {
		if p, ok := referee.point(); ok {
			in.location.note = NoteCustomerRecord
			return &p
		}
	}
	return nil
}

// recorded announces the new referral, its creation logged, and tells the
// listeners, and returns it as it now stands (row: as the insert read it
// back, nil to read it).
func (s *Service) recorded(tx *gorm.DB, tenantID string, id int64, row *Referral, crewMemberID *int64) (Referral, error) {
	var made Referral
	var err error
	if row != nil {
		made, err = s.announceRow(tx, tenantID, EventCreated, *row)
	} else {
		made, err = s.announce(tx, tenantID, EventCreated, id)
	}
	if err != nil {
		return Referral{}, err
	}
	for _, fn := range s.onCreated {
		if err := fn(tx, tenantID, id, crewMemberID); err != nil {
			return Referral{}, err
		}
	}
	return made, nil
}

// refereeKey identifies the friend for duplicate detection: e-mail, else
// phone, else name and street.
func refereeKey(emailNorm, phoneNorm string, r RefereeInput) string {
	switch {
	case emailNorm != "":
		return "email:" + emailNorm
	case phoneNorm != "":
		return "phone:" + phoneNorm
	case r.ExternalID != "":
		return "customer:" + r.ExternalID
	}
	return "name:" + contact.Name(r.Name) + "|" + contact.Street(r.Address)
}

// selfReferral flags a friend who is the referrer: the same e-mail, phone,
// street or customer, or a home within SelfReferralMetres.
func selfReferral(referrer person, referee *person, emailNorm, phoneNorm, street string, p *geo.Point) []Flag {
	var why []string
	switch {
	case referee != nil && referee.ID == referrer.ID:
		why = append(why, "the friend is the referrer's own customer record")
	case emailNorm != "" && emailNorm == referrer.EmailNorm:
		why = append(why, "the same e-mail address as the referrer ("+emailNorm+")")
	case phoneNorm != "" && phoneNorm == referrer.PhoneNorm:
		why = append(why, "the same phone number as the referrer ("+phoneNorm+")")
	case street != "" && street == referrer.StreetNorm:
		why = append(why, "the same address as the referrer")
	}
	if rp, ok := referrer.point(); ok && p != nil && len(why) == 0 {
		if d := geo.DistanceM(rp, *p); sameHousehold(d) {
			why = append(why, fmt.Sprintf("lives %.0f m from the referrer (same household?)", d))
		}
	}
	if len(why) == 0 {
		return nil
	}
	return []Flag{{FlagSelfReferral, "self-referral: " + strings.Join(why, ", ")}}
}

// sameHousehold reports whether two homes metres apart are one household:
// closer than SelfReferralMetres (at exactly that distance, neighbours).
func sameHousehold(metres float64) bool { return metres < SelfReferralMetres }

var (
	errNoMatch   = errors.New("no match")
	errAmbiguous = errors.New("ambiguous")
)

type matchError struct {
	kind       error
	candidates []string
}

func (e *matchError) Error() string { return e.kind.Error() }
func (e *matchError) Unwrap() error { return e.kind }

// resolveReferrer finds who referred: by code, by scheduler id, or by the
// name (and street or phone) the friend gave.
func (s *Service) resolveReferrer(tx *gorm.DB, tenantID string, prog program.Program, in Input) (*person, error) {
	switch {
	case in.ReferrerCode != "":
		code, ok := refcode.Normalize(strings.TrimSpace(in.ReferrerCode))
		if !ok {
			return nil, apperror.NotFound("referral code %s not found", in.ReferrerCode)
		}
		ps, err := findPeople(tx, tenantID, "referral_code = ?", code)
		if err != nil {
			return nil, err
		}
		if len(ps) == 0 {
			return nil, apperror.NotFound("referral code %s not found", code)
		}
		return &ps[0], nil
	case in.ReferrerID != "":
		if err := mirror.CheckExternalID(in.ReferrerID); err != nil {
			return nil, apperror.Invalid("referrer_id", err.Error())
		}
		ps, err := findPeople(tx, tenantID, "external_id = ?", in.ReferrerID)
		if err != nil {
			return nil, err
		}
		if len(ps) == 0 {
			return nil, apperror.Invalid("referrer_id", "no customer with id "+in.ReferrerID)
		}
		return &ps[0], nil
	}
	name := contact.Name(in.ReferrerName)
	var ps []person
	var err error
	if street := contact.Street(in.ReferrerStreet); street != "" {
		if ps, err = findPeople(tx, tenantID, "name_norm = ? AND street_norm = ?", name, street); err != nil {
			return nil, err
		}
	}
	if phone := contact.Phone(in.ReferrerPhone, prog.Country); len(ps) == 0 && phone != "" {
		if ps, err = findPeople(tx, tenantID, "name_norm = ? AND phone_norm = ?", name, phone); err != nil {
			return nil, err
		}
	}
	if len(ps) == 1 {
		return &ps[0], nil
	}
	if len(ps) == 0 { // a name alone is not confident: offer them for review
		if ps, err = findPeople(tx, tenantID, "name_norm = ?", name); err != nil {
			return nil, err
		}
		ids := make([]string, len(ps))
		for i, p := range ps {
			ids[i] = p.ExternalID
		}
		if len(ps) == 0 {
			return nil, &matchError{errNoMatch, ids}
		}
		return nil, &matchError{errAmbiguous, ids}
	}
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ExternalID
	}
	return nil, &matchError{errAmbiguous, ids}
}

// matchReferee finds the friend among customers: by scheduler id, e-mail or
// phone.
func (s *Service) matchReferee(tx *gorm.DB, tenantID, externalID, emailNorm, phoneNorm string) (*person, error) {
	var ps []person
	var err error
	switch {
	case externalID != "":
		ps, err = findPeople(tx, tenantID, "external_id = ?", externalID)
		if err == nil && len(ps) == 0 {
			return nil, apperror.Invalid("referee.customer_id", "no customer with id "+externalID)
		}
	case emailNorm != "" && phoneNorm != "":
		ps, err = findPeople(tx, tenantID, "(email_norm = ? OR phone_norm = ?)", emailNorm, phoneNorm)
	case emailNorm != "":
		ps, err = findPeople(tx, tenantID, "email_norm = ?", emailNorm)
	case phoneNorm != "":
		ps, err = findPeople(tx, tenantID, "phone_norm = ?", phoneNorm)
	}
	if err != nil || len(ps) == 0 {
		return nil, err
	}
	return &ps[0], nil
}

// decide appends to the referral's decision log.
func (s *Service) decide(tx *gorm.DB, tenantID string, referralID int64, action, actor, reason string) error {
	err := tx.Exec(`INSERT INTO referral_decisions (tenant_id, referral_id, action, actor, reason, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		tenantID, referralID, action, actor, reason, s.clock.Now()).Error
	if err != nil {
		return fmt.Errorf("log decision: %w", err)
	}
	return nil
}
