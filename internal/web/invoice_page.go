package web

import (
	"bytes"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/crew"
	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/refcode"
	"github.com/routeloop/routeloop/internal/referral"
	"github.com/routeloop/routeloop/internal/text"
)

// The customer's invoice page, /i/{token}: the lines, the same-day
// discount explained, their referral code and standing, and a rating of the
// visit. The unguessable token is the only key; nothing about staff or other
// customers appears on it beyond a neighbour's street.

// invoiceCookie carries the rating form's CSRF token.
const invoiceCookie = "rl_rate"

type invoiceLine struct {
	Description, Why, Amount, Class string
}

// star is one of the rating's five targets.
type star struct {
	N       int
	Name    string // its accessible name, "3 stars"
	Checked bool
}

type invoiceData struct {
	Token, Company string
	// Number is the invoice number the customer knows (the scheduler's);
	// no other id appears on the page.
	Number, StatusText        string
	Lines                     []invoiceLine
	Subtotal, Discount, Total string
	HasDiscount               bool
	// Savings say what the discount is made of, the same-day discount and
	// referral rewards apart: "$4.50 for same-day service with your
	// neighbour".
	Savings      []string
	SyncSentence string
	// PayURL is the scheduler's payment page, set only while there is
	// something to pay; Paid and Void say why there is not.
	PayURL                  string
	Paid, Void              bool
	Code, Link, FriendsText string
	// LinkText is Link as printed: it may wrap after a "/" only.
	LinkText printedLink
	// CanRate: the invoice bills a visit. Rated is the score just sent or
	// the latest stored; Acknowledgement, once a complaint is open, takes
	// the form's place.
	CanRate         bool
	Rated           int
	Acknowledgement string
	ComplaintLabel  string
	Problem         string
	Stars           []star
	CSRF            string
	OptOut          string // the customer's marketing opt-out link
}

// percentIn finds "(10%)" in a line description.
var percentIn = regexp.MustCompile(`\((\d+(?:\.\d+)?%)\)`)

// Money formats cents in the tenant's currency.
func Money(cents int64, currency string) string {
	neg := cents < 0
	if neg {
		cents = -cents
	}
	s := strconv.FormatInt(cents/100, 10) + "." + fmt.Sprintf("%02d", cents%100)
	sym := map[string]string{"USD": "$", "CAD": "CA$", "AUD": "A$", "EUR": "€", "GBP": "£"}[currency]
	if sym == "" {
		s = s + " " + currency
	} else {
		s = sym + s
	}
	if neg {
		return "−" + s
	}
	return s
}

// invoiceStatus is each state in the customer's words.
var invoiceStatus = map[string]string{
	invoice.StatusDraft:  "not final yet — the amount may still change",
	invoice.StatusIssued: "due",
	invoice.StatusPaid:   "paid",
	invoice.StatusVoid:   "cancelled — there is nothing to pay",
}

// ratingVisit is the visit the page's rating is about: the first one the
// invoice charges for ("" when it bills none).
func ratingVisit(inv invoice.Invoice) string {
	for _, l := range inv.Lines {
		if l.VisitExternalID != nil && l.Charges() {
			return *l.VisitExternalID
		}
	}
	return ""
}

// reached is how someone from the company will get back to a customer who
// complained: by phone when their number is known, else by e-mail.
func reached(cust mirror.Customer) (verb, ask string) {
	switch {
	case strings.TrimSpace(cust.Phone) != "":
		return "will call you", "please call me"
	case strings.TrimSpace(cust.Email) != "":
		return "will e-mail you", "please e-mail me"
	}
	return "will be in touch", "please get in touch"
}

func (p *Pages) load(c echo.Context, status, rated int, problem string) error {
	ctx := c.Request().Context()
	tenantID, inv, err := p.d.Invoices.ByToken(ctx, c.Param("token"))
	if apperror.HasCode(err, apperror.CodeNotFound) {
		return invoiceNotFound(c)
	}
	if err != nil {
		return err
	}
	t, err := p.d.Tenants.Get(ctx, tenantID)
	if err != nil {
		return err
	}
	cust, err := p.d.Mirror.Customer(ctx, tenantID, inv.CustomerExternalID)
	if err != nil {
		return err
	}
	st, err := p.d.Referrals.ReferralStatus(ctx, tenantID, inv.CustomerExternalID)
	if err != nil {
		return err
	}
	d := invoiceData{Token: c.Param("token"), CSRF: p.formToken(c, invoiceCookie, "/i/"), Company: t.Name, Number: inv.ExternalID,
		Code: cust.ReferralCode, Link: refcode.WithChannel(cust.ReferralURL, refcode.ChannelInvoice),
		Subtotal: Money(inv.SubtotalCents, inv.Currency), Discount: Money(inv.DiscountCents, inv.Currency),
		Total: Money(inv.TotalCents, inv.Currency), HasDiscount: inv.DiscountCents > 0,
		Paid: inv.Status == invoice.StatusPaid, Void: inv.Status == invoice.StatusVoid,
		Rated: rated, Problem: problem, StatusText: invoiceStatus[inv.Status]}
	if inv.PayURL != "" && !d.Paid && !d.Void && inv.TotalCents > 0 {
		d.PayURL = inv.PayURL
	}
	if d.OptOut, err = p.d.Mirror.OptOutURL(ctx, cust); err != nil {
		return err
	}
	d.LinkText = splitLink(d.Link)
	d.FriendsText = fmt.Sprintf("%d of %d friends rewarded", st.Rewarded, st.Cap)
	if st.Pending > 0 {
		d.FriendsText += fmt.Sprintf(", %d on the way", st.Pending)
	}
	if err := p.explainLines(c, tenantID, inv, &d); err != nil {
		return err
	}
	if err := p.ratingState(c, tenantID, inv, cust, t.Name, &d); err != nil {
		return err
	}
	return renderPage(c, status, pages["invoice"], d)
}

// explainLines fills the page's lines, each give-back line with its
// sentence, and what the savings are made of.
func (p *Pages) explainLines(c echo.Context, tenantID string, inv invoice.Invoice, d *invoiceData) error {
	var rewards map[int64]referral.Reward
	var syncSaved, rewardSaved int64
	for _, l := range inv.Lines {
		row := invoiceLine{Description: l.Description, Amount: Money(l.AmountCents, inv.Currency)}
		if !l.Charges() {
			row.Class = "give"
		}
		if why, ok := syncWhy(l, inv.Currency); ok {
			row.Why = why
			syncSaved -= l.AmountCents
			if pm := percentIn.FindStringSubmatch(l.Description); pm != nil && d.SyncSentence == "" && l.Kind == invoice.KindSyncDiscount {
				d.SyncSentence = "Same-day service with your neighbour takes " + pm[1] + " off every visit you share."
			}
		} else if id, ok := rewardKey(l); ok {
			if rewards == nil {
				var err error
				if rewards, err = p.rewardsOf(c, tenantID, inv.CustomerExternalID); err != nil {
					return err
				}
			}
			if r, ok := rewards[id]; ok {
				row.Why = rewardWhy(l, r, p.referrerName(c, tenantID, r), inv.Currency)
			}
			rewardSaved -= l.AmountCents
		}
		d.Lines = append(d.Lines, row)
	}
	if syncSaved > 0 {
		d.Savings = append(d.Savings, Money(syncSaved, inv.Currency)+" for same-day service with your neighbour")
	}
	if rewardSaved > 0 {
		d.Savings = append(d.Savings, Money(rewardSaved, inv.Currency)+" in referral rewards")
	}
	return nil
}

// rewardsOf is a customer's rewards by id.
func (p *Pages) rewardsOf(c echo.Context, tenantID, customer string) (map[int64]referral.Reward, error) {
	rs, err := p.d.Referrals.Rewards(c.Request().Context(), tenantID, customer)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]referral.Reward, len(rs))
	for _, r := range rs {
		out[r.ID] = r
	}
	return out, nil
}

// referrerName is who referred the friend a welcome reward is for, "" for
// the referrer's own reward or when it cannot be told.
func (p *Pages) referrerName(c echo.Context, tenantID string, r referral.Reward) string {
	if r.Role != "referee" {
		return ""
	}
	ctx := c.Request().Context()
	ref, err := p.d.Referrals.Get(ctx, tenantID, r.ReferralID)
	if err != nil || ref.Referrer == nil {
		return ""
	}
	who, err := p.d.Mirror.Customer(ctx, tenantID, *ref.Referrer)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(who.Name)
}

// ratingState fills the rating part: the stars (the latest score ticked),
// and once a complaint is open the acknowledgement instead of the form,
// on the answer to the complaint as on every later visit of the page.
func (p *Pages) ratingState(c echo.Context, tenantID string, inv invoice.Invoice, cust mirror.Customer, company string, d *invoiceData) error {
	visit := ratingVisit(inv)
	d.CanRate = visit != ""
	verb, ask := reached(cust)
	d.ComplaintLabel = "Something was wrong — " + ask
	if d.CanRate {
		vr, err := p.d.Crew.VisitRatings(c.Request().Context(), tenantID, visit)
		switch {
		case apperror.HasCode(err, apperror.CodeNotFound): // not rated yet
		case err != nil:
			return err
		default:
			if vr.OpenComplaint {
				d.Acknowledgement = fmt.Sprintf("Thank you for telling us. We're sorry — someone from %s %s.", company, verb)
			}
			if d.Rated == 0 && d.Problem == "" {
				d.Rated = vr.Latest.Score
			}
		}
	}
	for n := 1; n <= 5; n++ {
		name := strconv.Itoa(n) + " stars"
		if n == 1 {
			name = "1 star"
		}
		d.Stars = append(d.Stars, star{N: n, Name: name, Checked: n == d.Rated})
	}
	return nil
}

// invoiceNotFound is the page of an unknown or replaced invoice link, with
// a 404 status. The token names no company, so the wording is neutral.
func invoiceNotFound(c echo.Context) error {
	return renderPage(c, http.StatusNotFound, pages["invoice_notfound"], nil)
}

func (p *Pages) show(c echo.Context) error { return p.load(c, http.StatusOK, 0, "") }

// MaxRatingComment bounds the rating form's comment, in characters (the
// form's maxlength).
const MaxRatingComment = 500

// fieldsText is a validation error's fields as one sentence for a page.
func fieldsText(fields map[string]string) string {
	keys := slices.Sorted(maps.Keys(fields))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + " " + fields[k]
	}
	return strings.Join(parts, "; ")
}

// isComplaint reports whether a rating asks the company to get in touch:
// the box is ticked, or a low score (1 or 2) comes with words about what
// went wrong.
func isComplaint(score int, comment string, ticked bool) bool {
	return ticked || score <= 2 && strings.TrimSpace(comment) != ""
}

// rate records the customer's 1–5 rating of the invoice's visit.
func (p *Pages) rate(c echo.Context) error {
	ctx := c.Request().Context()
	tenantID, inv, err := p.d.Invoices.ByToken(ctx, c.Param("token"))
	if apperror.HasCode(err, apperror.CodeNotFound) {
		return invoiceNotFound(c)
	}
	if err != nil {
		return err
	}
	if !formTokenOK(c, invoiceCookie) {
		return p.load(c, http.StatusForbidden, 0, "This form had expired, so your rating was not saved. Please choose your stars and send it again.")
	}
	score, err := strconv.Atoi(c.FormValue("score"))
	if err != nil || score < 1 || score > 5 {
		return p.load(c, http.StatusUnprocessableEntity, 0, "Please choose from 1 to 5 stars.")
	}
	visit := ratingVisit(inv)
	if visit == "" {
		return p.load(c, http.StatusUnprocessableEntity, 0, "This invoice has no visit to rate.")
	}
	comment := c.FormValue("comment")
	if err := text.Check(comment, text.Free, MaxRatingComment); err != nil {
		return p.load(c, http.StatusUnprocessableEntity, 0, "Your comment "+err.Error()+".")
	}
	in := crew.RatingInput{Score: &score, Comment: comment, Complaint: isComplaint(score, comment, c.FormValue("complaint") != "")}
	_, _, err = p.d.Crew.Rate(ctx, tenantID, visit, in)
	switch {
	case apperror.HasCode(err, apperror.CodeValidation):
		return p.load(c, http.StatusUnprocessableEntity, 0, "Your rating was not saved. Please check it and send it again.")
	case apperror.HasCode(err, apperror.CodeNotFound):
		return p.load(c, http.StatusNotFound, 0, "This visit can no longer be rated.")
	case err != nil:
		return err
	}
	return p.load(c, http.StatusOK, score, "")
}

// renderPage writes a page rendered into a buffer first, so a template
// error becomes a clean 500, not half a page.
func renderPage(c echo.Context, status int, t *template.Template, data any) error {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return fmt.Errorf("render page: %w", err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTMLBlob(status, buf.Bytes())
}
