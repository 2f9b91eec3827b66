package web

import (
	"context"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/crew"
	"github.com/routeloop/routeloop/internal/refcode"
	"github.com/routeloop/routeloop/internal/referral"
	"github.com/routeloop/routeloop/internal/scheduling"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/tenant"
	"github.com/routeloop/routeloop/internal/user"
)

var crewTodayPage = parsePage("crew_today")

// crewRoutes registers the crew's phone pages and the printable cards.
func (p *Pages) crewRoutes(e *echo.Echo) {
	anyStaff := p.RequireStaff(tenant.RoleCrew, tenant.RoleAdmin, tenant.RoleDispatcher)
	e.GET("/crew/today", p.crewToday, anyStaff)
	e.POST("/crew/today/pitch", p.crewLogPitch, anyStaff)
	e.POST("/crew/today/referral", p.crewLogReferral, anyStaff)
	e.GET("/cards", p.cards, p.RequireStaff(tenant.RoleAdmin, tenant.RoleDispatcher))
}

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
}

type milestoneView struct {
	crew.Progress
	Percent int
}

type crewTodayData struct {
	Staff    user.Principal
	Title    string
	Chooser  bool
	Crews    []scheduling.Crew
	CrewID   string
	CrewName string
	Date     string
	Day      crew.Day
	MemberID string
	Stops    []crewStopView
	Points   *crew.Standing
	Period   string
	Goals    []milestoneView
	Notice   string
	Error    string
	Problem  string
}

// allCrews lists every crew of the tenant with its active members.
func (p *Pages) allCrews(ctx context.Context, tenantID string) ([]scheduling.Crew, error) {
	var out []scheduling.Crew
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
func (p *Pages) ownMember(ctx context.Context, pr user.Principal) (scheduling.Crew, scheduling.CrewMember, bool, error) {
	if pr.CrewMemberID == nil {
		return scheduling.Crew{}, scheduling.CrewMember{}, false, nil
	}
	crews, err := p.allCrews(ctx, pr.TenantID)
	if err != nil {
		return scheduling.Crew{}, scheduling.CrewMember{}, false, err
	}
	for _, c := range crews {
		for _, m := range c.Members {
			if m.ID == *pr.CrewMemberID {
				return c, m, true, nil
			}
		}
	}
	return scheduling.Crew{}, scheduling.CrewMember{}, false, nil
}

var crewNotices = map[string]string{
	"pitched":  "Pitch logged. Nice work!",
	"declined": "Logged: not interested this time.",
	"referral": "Referral saved. Thank you!",
	// A pitch logged where the rule said skip: kept, but no points.
	"no_points": "Logged. No points for this one: the rule said skip this stop.",
}

func (p *Pages) crewToday(c echo.Context) error {
	return p.showCrewToday(c, http.StatusOK, "")
}

// showCrewToday renders the crew's day; crew and date come from the query
// or the posted form (c.FormValue reads both).
func (p *Pages) showCrewToday(c echo.Context, status int, problem string) error {
	ctx := c.Request().Context()
	pr, _ := Staff(c)
	d := crewTodayData{Staff: pr, Title: "Today", Date: strings.TrimSpace(c.FormValue("date")),
		Notice: crewNotices[c.QueryParam("done")], Problem: problem}
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
			return renderPage(c, status, crewTodayPage, d)
		}
	}
	day, err := p.d.Crew.Today(ctx, pr.TenantID, d.CrewID, d.Date, memberExt, p.d.Mirror.Customer)
	if ae, ok := apperror.As(err); ok {
		d.Error = describeError(ae)
		st := http.StatusBadRequest
		if ae.Code == apperror.CodeNotFound {
			st = http.StatusNotFound
		}
		return renderPage(c, st, crewTodayPage, d)
	}
	if err != nil {
		return err
	}
	d.Day, d.Date = day, day.Date.String()
	if day.Member != nil {
		d.MemberID = day.Member.ExternalID
	}
	for i, s := range day.Stops {
		qr, err := qrDataURI(refcode.WithChannel(s.Customer.ReferralURL, refcode.ChannelCrew), 240)
		if err != nil {
			return err
		}
		d.Stops = append(d.Stops, crewStopView{Stop: s, N: i + 1, QR: qr})
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

// describeError is an application error in a sentence for the page.
func describeError(ae *apperror.Error) string {
	msg := ae.Message
	if len(ae.Fields) > 0 {
		keys := make([]string, 0, len(ae.Fields))
		for k := range ae.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, strings.TrimPrefix(k, "referee.")+" "+ae.Fields[k])
		}
		msg = strings.TrimSuffix(msg, ".") + ": " + strings.Join(parts, "; ")
	}
	return msg
}

// backToToday is where a logged pitch or referral returns to.
func backToToday(c echo.Context, pr user.Principal, done string) string {
	q := url.Values{"done": {done}}
	if pr.Role != tenant.RoleCrew {
		if v := strings.TrimSpace(c.FormValue("crew")); v != "" {
			q.Set("crew", v)
		}
	}
	if v := strings.TrimSpace(c.FormValue("date")); v != "" {
		q.Set("date", v)
	}
	return "/crew/today?" + q.Encode()
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
		return p.showCrewToday(c, http.StatusUnprocessableEntity, "Choose whether they were interested or not.")
	}
	return p.logPitch(c, crew.PitchInput{Outcome: outcome}, outcome)
}

func (p *Pages) crewLogReferral(c echo.Context) error {
	ref := referral.RefereeInput{Name: strings.TrimSpace(c.FormValue("name")), Phone: strings.TrimSpace(c.FormValue("phone")),
		Email: strings.TrimSpace(c.FormValue("email"))}
	if ref.Name == "" || (ref.Phone == "" && ref.Email == "") {
		return p.showCrewToday(c, http.StatusUnprocessableEntity, "Write the friend's name and a phone number (or e-mail).")
	}
	return p.logPitch(c, crew.PitchInput{Outcome: crew.OutcomeReferralGiven, Referee: &ref}, "referral")
}

func (p *Pages) logPitch(c echo.Context, in crew.PitchInput, done string) error {
	pr, _ := Staff(c)
	in.VisitID = strings.TrimSpace(c.FormValue("visit"))
	member, problem, err := p.pitchMember(c, pr, in.VisitID)
	if err != nil {
		return err
	}
	if problem != "" {
		return p.showCrewToday(c, http.StatusUnprocessableEntity, problem)
	}
	in.CrewMemberID = member
	logged, _, err := p.d.Crew.LogPitch(c.Request().Context(), pr.TenantID, "web "+pr.Role+" "+pr.Email, in)
	if ae, ok := apperror.As(err); ok {
		st := http.StatusUnprocessableEntity
		if ae.Code == apperror.CodeConflict {
			st = http.StatusConflict
		}
		return p.showCrewToday(c, st, describeError(ae))
	}
	if err != nil {
		return err
	}
	if logged.SkipReason != nil {
		done = "no_points"
	}
	return c.Redirect(http.StatusSeeOther, backToToday(c, pr, done))
}
