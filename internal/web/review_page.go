package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/referral"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/user"
)

// reviewPage is the queue of flagged referrals, parsed once at start-up.
var reviewPage = parsePage("review")

// reviewShown is how many flagged referrals the queue shows at once.
const reviewShown = 50

// The decisions of the queue, as the redirect back names them.
const (
	decisionApprove   = "approved"
	decisionReject    = "rejected"
	decisionAttribute = "attributed"
)

// reviewNotices are the messages a redirect back may ask for (never user text).
var reviewNotices = map[string]string{
	decisionApprove:   "Referral approved: it counts again and converts with the friend's first visit.",
	decisionReject:    "Referral rejected: it earns no reward.",
	decisionAttribute: "Referrer set. The referral still waits for review: approve it when the rest looks right.",
}

type reviewData struct {
	Staff   user.Principal
	Notice  string
	Problem string
	Items   []reviewItem
	More    bool
}

// reviewItem is one flagged referral waiting for a decision.
type reviewItem struct {
	ID                         int64
	Friend, Contact, Referrer  string
	Channel, Variant, Received string
	Flags                      []string
	// Candidates are the customers of the name the friend gave, when the
	// referral has no referrer yet: one Attribute button each.
	Candidates []candidateView
	// NoMatch: the friend named someone no customer is called.
	NoMatch bool
	History []historyLine
	Err     string
}

type candidateView struct{ ID, Name, Street string }

type historyLine struct{ When, Who, What, Why string }

// actionWords are the decision log's actions for people.
var actionWords = map[string]string{
	"created": "Recorded", "attributed": "Referrer set", "approved": "Approved", "rejected": "Rejected",
	"converted": "Converted", "flagged": "Flagged", "duplicate": "Closed as a duplicate", "expired": "Expired",
	"located": "Location entered", "rewards_voided": "Rewards voided",
}

func (p *Pages) reviewShow(c echo.Context) error {
	return p.renderReview(c, http.StatusOK, reviewNotices[c.QueryParam("done")], "", nil)
}

// renderReview loads the queue, each referral with the names it involves,
// its candidates and its history, and renders the page; errs are refused
// decisions beside their referral.
func (p *Pages) renderReview(c echo.Context, status int, notice, problem string, errs map[int64]string) error {
	pr, _ := Staff(c)
	ctx := c.Request().Context()
	d := reviewData{Staff: pr, Notice: notice, Problem: problem}
	queue, next, err := p.d.Referrals.List(ctx, pr.TenantID, referral.Filter{Status: referral.StatusPendingReview}, store.Page{Limit: reviewShown})
	if err != nil {
		return err
	}
	d.More = next != ""
	people := map[string]*mirror.Customer{}
	customer := func(ext string) *mirror.Customer {
		if cu, ok := people[ext]; ok {
			return cu
		}
		var found *mirror.Customer
		if cu, err := p.d.Mirror.Customer(ctx, pr.TenantID, ext); err == nil {
			found = &cu
		}
		people[ext] = found
		return found
	}
	for _, r := range queue {
		it, err := p.reviewItemOf(ctx, pr, r, customer)
		if err != nil {
			return err
		}
		it.Err = errs[r.ID]
		d.Items = append(d.Items, it)
	}
	return renderPage(c, status, reviewPage, d)
}

// reviewItemOf lays out one flagged referral: names for every customer it
// names (the flags' reasons and the history included), the candidates of
// a name-only referral, and its decision log.
func (p *Pages) reviewItemOf(ctx context.Context, pr user.Principal, r referral.Referral, customer func(string) *mirror.Customer) (reviewItem, error) {
	it := reviewItem{ID: r.ID, Friend: r.Referee.Name, Channel: channelNames[r.Channel], Variant: r.Variant}
	if it.Channel == "" {
		it.Channel = r.Channel
	}
	if it.Friend == "" {
		it.Friend = "(no name)"
	}
	names := map[string]string{}
	name := func(ext string) string {
		n := "a customer"
		if cu := customer(ext); cu != nil && cu.Name != "" {
			n = cu.Name
		}
		names[ext] = n
		return n
	}
	var contact []string
	for _, s := range []string{r.Referee.Phone, r.Referee.Email, r.Referee.Address} {
		if s != "" {
			contact = append(contact, s)
		}
	}
	it.Contact = strings.Join(contact, " · ")
	if r.Referrer != nil {
		it.Referrer = name(*r.Referrer)
	}
	if r.Referee.CustomerID != nil {
		name(*r.Referee.CustomerID)
	}
	if r.Referrer == nil {
		for _, ext := range r.Candidates {
			cv := candidateView{ID: ext, Name: name(ext)}
			if cu := customer(ext); cu != nil {
				cv.Street, _, _ = strings.Cut(cu.Address, ",")
				cv.Street = strings.TrimSpace(cv.Street)
			}
			it.Candidates = append(it.Candidates, cv)
		}
		it.NoMatch = len(it.Candidates) == 0
	}
	when := r.CreatedAt
	if pr.Location != nil {
		when = when.In(pr.Location)
	}
	it.Received = when.Format("2 Jan 2006, 15:04")
	for _, f := range r.Flags {
		it.Flags = append(it.Flags, inWords(f.Reason, names))
	}
	ds, err := p.d.Referrals.Decisions(ctx, pr.TenantID, r.ID)
	if err != nil {
		return it, err
	}
	for _, dec := range ds {
		at := dec.CreatedAt
		if pr.Location != nil {
			at = at.In(pr.Location)
		}
		what := actionWords[dec.Action]
		if what == "" {
			what = dec.Action
		}
		it.History = append(it.History, historyLine{When: at.Format("2 Jan 2006, 15:04"), Who: actorWords(dec.Actor), What: what,
			Why: channelWords.Replace(inWords(dec.Reason, names))})
	}
	return it, nil
}

// channelWords say a referral's channel in the log's reasons in words.
var channelWords = strings.NewReplacer("via link", "via the referral link", "via code", "via the referral code",
	"via card", "via a printed card", "via crew_pitch", "via a crew member's report", "via name_only", "by the friend naming who sent them")

// actorWords says who made a decision: routeloop itself, a person by
// e-mail and role ("dispatcher ana@… (user #4)" → "ana@… (dispatcher)"),
// or an API key as logged.
func actorWords(actor string) string {
	if actor == "system" {
		return "routeloop (on its own)"
	}
	if who, _, ok := strings.Cut(actor, " (user #"); ok {
		if role, email, ok := strings.Cut(who, " "); ok {
			return email + " (" + role + ")"
		}
		return who
	}
	return actor
}

// reviewDecide approves, rejects or attributes a referral from the queue,
// then back to it; a refused decision shows its reason beside the referral.
func (p *Pages) reviewDecide(action string) echo.HandlerFunc {
	return func(c echo.Context) error {
		pr, _ := Staff(c)
		ctx := c.Request().Context()
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil || id <= 0 {
			return p.renderReview(c, http.StatusNotFound, "", "That referral does not exist.", nil)
		}
		dec := referral.Decision{Reason: strings.TrimSpace(c.FormValue("reason"))}
		who := fmt.Sprintf("%s %s (user #%d)", pr.Role, pr.Email, pr.UserID)
		refuse := func(status int, msg string) error {
			return p.renderReview(c, status, "", msg, map[int64]string{id: msg})
		}
		switch action {
		case decisionApprove:
			_, err = p.d.Referrals.Approve(ctx, pr.TenantID, id, who, dec)
		case decisionReject:
			_, err = p.d.Referrals.Reject(ctx, pr.TenantID, id, who, dec)
			if e, ok := apperror.As(err); ok && e.Fields["reason"] != "" && dec.Reason == "" {
				// The referral rule wants a reason to reject.
				return refuse(apperror.Status(e.Code), "Say why you reject this referral.")
			}
		case decisionAttribute:
			if dec.ReferrerID = c.FormValue("referrer_id"); dec.ReferrerID == "" {
				return refuse(http.StatusUnprocessableEntity, "Pick the customer who referred this friend.")
			}
			_, err = p.d.Referrals.Attribute(ctx, pr.TenantID, id, who, dec)
		}
		if e, ok := apperror.As(err); ok {
			return refuse(apperror.Status(e.Code), decisionProblem(e))
		}
		if err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/review?done="+action+"#referral-"+strconv.FormatInt(id, 10))
	}
}
