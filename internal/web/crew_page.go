package web

import (
	"context"
	"encoding/base64"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/nyaruka/phonenumbers"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/crew"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/refcode"
	"github.com/routeloop/routeloop/internal/referral"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/tenant"
	"github.com/routeloop/routeloop/internal/user"
)

var crewTodayPage = parsePage("crew_today")

// qrDataURI is a PNG QR code of link as a data: URI for an <img src>.
func qrDataURI(link string, size int) (template.URL, error) {
	if link == "" {
		return "", nil
	}
	png, err := qrcode.Encode(link, qrcode.Medium, size)
	if err != nil {
		return "", fmt.Errorf("qr code: %w", err)
	}
	// The URI is built here from base64 only: safe for src.
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)), nil
}

type crewStopView struct {
	crew.Stop
	N  int
	QR template.URL
	// Link is the customer's referral link as printed, broken only at "/".
	Link printedLink
	// State is the stop's word in the jump list ("Pitch now", "Skip",
	// "Pitched ✓", "Done"); StateClass styles it.
	State, StateClass string
	// Finished stops (done, to skip, pitch logged) are collapsed unless a
	// problem at the stop needs the form again.
	Finished, Open bool
	// Why is the pitch-or-skip reason as a sentence, without ids.
	Why string
	// CanPitch offers Pitched / Not interested: a stop to pitch where
	// nothing is logged yet; CanRefer offers the friend's form.
	CanPitch, CanRefer bool
	// Notice and Problems are what the last form sent here says, shown
	// inside the stop; Friend holds what was typed, kept on a refusal.
	Notice   string
	Problems []string
	// AtFriend shows Problems inside the friend's form (it was sent).
	AtFriend bool
	Friend   friendForm
}

// friendForm is what was typed in a stop's referral form; Bad marks the
// fields a refusal is about.
type friendForm struct {
	Name, Phone, Email string
	Bad                map[string]bool
}

// stopMessage is what a posted form says back to the page: the visit it
// was sent from ("" or a visit not on the page: shown at the top), a
// notice (done) or the problems (refused) and the values typed.
type stopMessage struct {
	Visit    string
	Notice   string
	Problems []string
	// Referral says the friend's form was sent (its problems show in it).
	Referral bool
	Friend   friendForm
}

type milestoneView struct {
	crew.Progress
	Percent int
}

type crewTodayData struct {
	Staff    user.Principal
	Title    string
	Chooser  bool
	Crews    []mirror.Crew
	CrewID   string
	CrewName string
	Date     string
	Day      crew.Day
	MemberID string
	Stops    []crewStopView
	Finished int
	Points   *crew.Standing
	Period   string
	Goals    []milestoneView
	Notice   string
	Error    string
	Problem  string
	// ProblemAt is the number of the stop a refusal is shown in (0: none).
	ProblemAt int
}

// allCrews lists every crew of the tenant with its active members.
func (p *Pages) allCrews(ctx context.Context, tenantID string) ([]mirror.Crew, error) {
	var out []mirror.Crew
	page := store.Page{Limit: store.MaxLimit}
	for i := 0; i < 100; i++ {
		cs, next, err := p.d.Mirror.Crews(ctx, tenantID, page)
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
		if next == "" || len(cs) == 0 {
			break
		}
		page.After = cs[len(cs)-1].ID
	}
	return out, nil
}

// ownMember finds the crew member a crew login acts as, and their crew.
func (p *Pages) ownMember(ctx context.Context, pr user.Principal) (mirror.Crew, mirror.CrewMember, bool, error) {
	if pr.CrewMemberID == nil {
		return mirror.Crew{}, mirror.CrewMember{}, false, nil
	}
	crews, err := p.allCrews(ctx, pr.TenantID)
	if err != nil {
		return mirror.Crew{}, mirror.CrewMember{}, false, err
	}
	for _, c := range crews {
		for _, m := range c.Members {
			if m.ID == *pr.CrewMemberID {
				return c, m, true, nil
			}
		}
	}
	return mirror.Crew{}, mirror.CrewMember{}, false, nil
}

var crewNotices = map[string]string{
	"pitched":  "Pitch logged. Nice work!",
	"declined": "Logged: not interested this time.",
	"referral": "Referral saved. Thank you!",
	// A pitch logged where the rule said skip: kept, but no points.
	"no_points": "Logged. No points for this one: the rule said skip this stop.",
}

func (p *Pages) crewToday(c echo.Context) error {
	return p.showCrewToday(c, http.StatusOK, stopMessage{Visit: c.QueryParam("at"), Notice: crewNotices[c.QueryParam("done")]})
}

// showCrewToday renders the crew's day; crew and date come from the query
// or the posted form (c.FormValue reads both). msg is shown inside the
// stop of its visit, or at the top when that visit is not on the page.
func (p *Pages) showCrewToday(c echo.Context, status int, msg stopMessage) error {
	ctx := c.Request().Context()
	pr, _ := Staff(c)
	d := crewTodayData{Staff: pr, Title: "Today", Date: strings.TrimSpace(c.FormValue("date"))}
	memberExt := ""
	if pr.Role == tenant.RoleCrew {
		cr, m, ok, err := p.ownMember(ctx, pr)
		if err != nil {
			return err
		}
		if !ok {
			d.Error = "Your login is not linked to a member of an active crew. Ask your dispatcher to check it."
			return renderPage(c, http.StatusOK, crewTodayPage, d)
		}
		d.CrewID, d.CrewName, memberExt = cr.ExternalID, cr.Name, m.ExternalID
	} else {
		d.CrewID = strings.TrimSpace(c.FormValue("crew"))
		crews, err := p.allCrews(ctx, pr.TenantID)
		if err != nil {
			return err
		}
		d.Crews, d.Chooser = crews, true
		for _, cr := range crews {
			if cr.ExternalID == d.CrewID {
				d.CrewName = cr.Name
			}
		}
		if d.CrewID == "" {
			d.Notice, d.Problem = msg.Notice, strings.Join(msg.Problems, " ")
			return renderPage(c, status, crewTodayPage, d)
		}
	}
	day, err := p.d.Crew.Today(ctx, pr.TenantID, d.CrewID, d.Date, memberExt, p.d.Mirror.Customer)
	if ae, ok := apperror.As(err); ok {
		d.Error = describeError(ae)
		return renderPage(c, apperror.Status(ae.Code), crewTodayPage, d)
	}
	if err != nil {
		return err
	}
	d.Day, d.Date = day, day.Date.String()
	if day.Member != nil {
		d.MemberID = day.Member.ExternalID
	}
	placed := false
	for i, s := range day.Stops {
		qr, err := qrDataURI(refcode.WithChannel(s.Customer.ReferralURL, refcode.ChannelCrew), 240)
		if err != nil {
			return err
		}
		v := newStopView(s, i+1, qr)
		if msg.Visit != "" && msg.Visit == s.VisitID {
			placed = true
			v.Notice, v.Problems = msg.Notice, msg.Problems
			if len(msg.Problems) > 0 {
				v.Friend, v.Open, d.ProblemAt = msg.Friend, true, v.N
				v.AtFriend = msg.Referral && v.CanRefer
			}
		}
		if v.Finished {
			d.Finished++
		}
		d.Stops = append(d.Stops, v)
	}
	if !placed {
		d.Notice, d.Problem = msg.Notice, strings.Join(msg.Problems, " ")
	}
	if d.MemberID != "" {
		lb, err := p.d.Crew.Leaderboard(ctx, pr.TenantID, crew.PeriodMonth, d.Date)
		if err != nil {
			return err
		}
		d.Period = lb.Key
		for i := range lb.Members {
			if lb.Members[i].CrewMemberID == d.MemberID {
				d.Points = &lb.Members[i]
			}
		}
	}
	goals, err := p.d.Crew.Milestones(ctx, pr.TenantID, d.Date)
	if err != nil {
		return err
	}
	for _, g := range goals {
		v := milestoneView{Progress: g}
		if g.Target > 0 {
			v.Percent = int(min(100, g.Progress*100/g.Target))
		}
		d.Goals = append(d.Goals, v)
	}
	return renderPage(c, status, crewTodayPage, d)
}

// newStopView is stop number n as the page shows it: its state, whether
// it is finished (collapsed) and which forms it offers.
func newStopView(s crew.Stop, n int, qr template.URL) crewStopView {
	v := crewStopView{Stop: s, N: n, QR: qr, Link: splitLink(s.Customer.ReferralURL), Why: sentence(s.Said),
		CanPitch: s.Pitch && s.Logged == "", CanRefer: s.Logged == "", Finished: true}
	switch {
	case s.Logged == crew.OutcomePitched:
		v.State, v.StateClass = "Pitched ✓", "logged"
	case s.Logged == crew.OutcomeDeclined:
		v.State, v.StateClass = "Not interested", "logged"
	case s.Logged == crew.OutcomeReferralGiven:
		v.State, v.StateClass = "Friend given ✓", "logged"
	case s.Status == mirror.VisitCompleted:
		v.State, v.StateClass = "Done", "done"
	case !s.Pitch:
		v.State, v.StateClass = "Skip", "skip"
	default:
		v.State, v.StateClass, v.Finished = "Pitch now", "todo", false
	}
	v.Open = !v.Finished
	return v
}

// printedLink is a link split before its last part (the code and the
// channel), which is printed unbroken: the line may wrap only after a "/".
type printedLink struct {
	Head, Tail string
}

func splitLink(link string) printedLink {
	i := strings.LastIndexByte(link, '/')
	if i < 0 {
		return printedLink{Tail: link}
	}
	return printedLink{Head: link[:i+1], Tail: link[i+1:]}
}

// describeError is an application error in sentences for the page, the
// fields named in words ("The day must be a date such as 2026-05-01.").
func describeError(ae *apperror.Error) string {
	if len(ae.Fields) == 0 {
		return sentence(ae.Message)
	}
	keys := ae.FieldNames()
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, sentence(fieldInWords(k)+" "+ae.Fields[k]))
	}
	return strings.Join(parts, " ")
}

// fieldWords name the fields pages' errors speak of.
var fieldWords = map[string]string{
	"date":           "The day",
	"member_id":      "The crew member",
	"crew_member_id": "The crew member",
	"visit_id":       "The stop",
	"outcome":        "The answer",
	"referee.name":   "The friend's name",
	"referee.phone":  "The phone number",
	"referee.email":  "The e-mail address",
}

func fieldInWords(field string) string {
	if w, ok := fieldWords[field]; ok {
		return w
	}
	field = field[strings.LastIndexByte(field, '.')+1:]
	return "The " + strings.ReplaceAll(field, "_", " ")
}

// sentence starts s with a capital and ends it with a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "!") && !strings.HasSuffix(s, "?") {
		s += "."
	}
	return s
}

// backToToday is where a logged pitch or referral returns to: the page
// with done's notice inside the visit's stop, scrolled to that stop (the
// stop's number as the form was shown, posted as "stop").
func backToToday(c echo.Context, pr user.Principal, done, visit string) string {
	q := url.Values{"done": {done}, "at": {visit}}
	if pr.Role != tenant.RoleCrew {
		if v := strings.TrimSpace(c.FormValue("crew")); v != "" {
			q.Set("crew", v)
		}
	}
	if v := strings.TrimSpace(c.FormValue("date")); v != "" {
		q.Set("date", v)
	}
	target := "/crew/today?" + q.Encode()
	if n, err := strconv.Atoi(c.FormValue("stop")); err == nil && n > 0 && n <= 10000 {
		target += "#stop-" + strconv.Itoa(n)
	}
	return target
}

// pitchMember is the crew member a posted pitch is logged for: a crew login
// logs its own, at a visit of its own crew; a dispatcher or admin logs it
// for the member the page showed.
func (p *Pages) pitchMember(c echo.Context, pr user.Principal, visitExt string) (string, string, error) {
	ctx := c.Request().Context()
	if pr.Role != tenant.RoleCrew {
		m := strings.TrimSpace(c.FormValue("member"))
		if m == "" {
			return "", "This crew has no active member to log the pitch for.", nil
		}
		return m, "", nil
	}
	cr, m, ok, err := p.ownMember(ctx, pr)
	if err != nil {
		return "", "", err
	}
	if !ok {
		return "", "Your login is not linked to a member of an active crew.", nil
	}
	v, err := p.d.Mirror.Visit(ctx, pr.TenantID, visitExt)
	if apperror.HasCode(err, apperror.CodeNotFound) || (err == nil && (v.CrewExternalID == nil || *v.CrewExternalID != cr.ExternalID)) {
		return "", "That visit is not on your crew's route.", nil
	}
	if err != nil {
		return "", "", err
	}
	return m.ExternalID, "", nil
}

func (p *Pages) crewLogPitch(c echo.Context) error {
	outcome := c.FormValue("outcome")
	if outcome != crew.OutcomePitched && outcome != crew.OutcomeDeclined {
		return p.refused(c, "Choose whether they were interested or not.")
	}
	return p.logPitch(c, crew.PitchInput{Outcome: outcome}, outcome, friendForm{})
}

func (p *Pages) crewLogReferral(c echo.Context) error {
	pr, _ := Staff(c)
	typed := friendForm{Name: strings.TrimSpace(c.FormValue("name")), Phone: strings.TrimSpace(c.FormValue("phone")),
		Email: strings.TrimSpace(c.FormValue("email"))}
	prog, err := p.d.Programs.Get(c.Request().Context(), pr.TenantID)
	if err != nil {
		return err
	}
	if problems, bad := friendProblems(typed, prog.Country); len(problems) > 0 {
		typed.Bad = bad
		return p.showCrewToday(c, http.StatusUnprocessableEntity, stopMessage{Visit: postedVisit(c), Problems: problems, Referral: true, Friend: typed})
	}
	ref := referral.RefereeInput{Name: typed.Name, Phone: typed.Phone, Email: typed.Email}
	return p.logPitch(c, crew.PitchInput{Outcome: crew.OutcomeReferralGiven, Referee: &ref}, "referral", typed)
}

// friendProblems says, in sentences, what the referral rule refuses of the
// friend's details (all of it at once), and which fields it marks: a
// missing name or way to reach them asks for it; a phone or an e-mail
// that is refused is quoted back with how to write it.
func friendProblems(f friendForm, country string) ([]string, map[string]bool) {
	ae, ok := apperror.As(referral.RefereeInput{Name: f.Name, Phone: f.Phone, Email: f.Email}.ValidateFor(country))
	if !ok {
		return nil, nil
	}
	var problems []string
	bad := map[string]bool{}
	for _, field := range friendFields(ae.Fields) {
		msg := sentence(fieldInWords(field) + " " + ae.Fields[field])
		switch {
		case field == "referee.name" && f.Name == "":
			msg = "Write the friend's name."
		case field == "referee.phone" && f.Phone == "" && f.Email == "":
			msg = "Write the friend's phone number or e-mail address: either one is enough."
			bad["email"] = true
		case field == "referee.phone":
			msg = fmt.Sprintf("%q is not a phone number we can call. Write it as you would dial it%s, or start with + and the country code.",
				f.Phone, phoneExample(country))
		case field == "referee.email":
			msg = fmt.Sprintf("%q is not an e-mail address. Write it like ben@example.com.", f.Email)
		}
		problems = append(problems, msg)
		bad[strings.TrimPrefix(field, "referee.")] = true
	}
	return problems, bad
}

// friendFields is the refused fields in the form's order: name, phone,
// e-mail, then any other.
func friendFields(refused map[string]string) []string {
	var out []string
	for _, f := range []string{"referee.name", "referee.phone", "referee.email"} {
		if _, ok := refused[f]; ok {
			out = append(out, f)
		}
	}
	for _, f := range slices.Sorted(maps.Keys(refused)) {
		if f != "referee.name" && f != "referee.phone" && f != "referee.email" {
			out = append(out, f)
		}
	}
	return out
}

// phoneExample is ", such as (201) 555-0123": a number of region as people
// write it there, or "" when none is known.
func phoneExample(region string) string {
	n := phonenumbers.GetExampleNumber(strings.ToUpper(region))
	if n == nil {
		return ""
	}
	return ", such as " + phonenumbers.Format(n, phonenumbers.NATIONAL)
}

func postedVisit(c echo.Context) string { return strings.TrimSpace(c.FormValue("visit")) }

// refused shows the page again with problem inside the stop the form came
// from.
func (p *Pages) refused(c echo.Context, problem string) error {
	return p.showCrewToday(c, http.StatusUnprocessableEntity, stopMessage{Visit: postedVisit(c), Problems: []string{problem}})
}

func (p *Pages) logPitch(c echo.Context, in crew.PitchInput, done string, typed friendForm) error {
	pr, _ := Staff(c)
	in.VisitID = postedVisit(c)
	member, problem, err := p.pitchMember(c, pr, in.VisitID)
	if err != nil {
		return err
	}
	if problem != "" {
		return p.refused(c, problem)
	}
	in.CrewMemberID = member
	logged, _, err := p.d.Crew.LogPitch(c.Request().Context(), pr.TenantID, "web "+pr.Role+" "+pr.Email, in)
	if ae, ok := apperror.As(err); ok {
		msg := describeError(ae)
		if ae.Code == apperror.CodeConflict {
			// A page shown before the pitch here was logged (another tab).
			msg = "A pitch is already logged at this stop, so this one was not saved. The stop shows what was logged."
		}
		return p.showCrewToday(c, apperror.Status(ae.Code), stopMessage{Visit: in.VisitID, Problems: []string{msg}, Referral: in.Referee != nil, Friend: typed})
	}
	if err != nil {
		return err
	}
	if logged.SkipReason != nil {
		done = "no_points"
	}
	return c.Redirect(http.StatusSeeOther, backToToday(c, pr, done, in.VisitID))
}
