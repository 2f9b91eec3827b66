package web

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/crew"
	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/refcode"
	"github.com/routeloop/routeloop/internal/text"
)

// The customer's invoice page, /i/{token}: the lines, the same-day
// discount explained, their referral code and standing, and a rating of the
// visit. The unguessable token is the only key; nothing about staff or other
// customers appears on it beyond a neighbour's street.

// invoiceCookie carries the rating form's CSRF token.
const invoiceCookie = "rl_rate"

// invoiceRoutes registers the invoice page.
func (p *Pages) invoiceRoutes(e *echo.Echo) {
	e.GET("/i/:token", p.show)
	e.POST("/i/:token/rating", p.rate)
}

type invoiceLine struct {
	Description, Why, Amount, Class string
}

type invoiceData struct {
	Token, Company, StatusText string
	Invoice                    invoice.Invoice
	Lines                      []invoiceLine
	Subtotal, Discount, Total  string
	HasDiscount, Saved         bool
	SyncSentence               string
	Code, Link, FriendsText    string
	RatingVisit                string
	Rated                      int
	Problem                    string
	Scores                     []int
	CSRF                       string
	OptOut                     string // the customer's marketing opt-out link
}

// syncReason reads the stored reason of a same-day discount back into parts.
var syncReason = regexp.MustCompile(`^serviced the same day as (.+), (\d+) m away, on (\d{4}-\d{2}-\d{2})`)

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
	d := invoiceData{Token: c.Param("token"), CSRF: p.formToken(c, invoiceCookie, "/i/"), Company: t.Name, Invoice: inv, Code: cust.ReferralCode, Link: refcode.WithChannel(cust.ReferralURL, refcode.ChannelInvoice),
		Subtotal: Money(inv.SubtotalCents, inv.Currency), Discount: Money(inv.DiscountCents, inv.Currency),
		Total: Money(inv.TotalCents, inv.Currency), HasDiscount: inv.DiscountCents > 0, Saved: inv.DiscountCents > 0,
		Rated: rated, Problem: problem, Scores: []int{1, 2, 3, 4, 5}, StatusText: map[string]string{"draft": "not yet issued",
			"issued": "issued", "paid": "paid — thank you", "void": "void"}[inv.Status]}
	if d.OptOut, err = p.d.Mirror.OptOutURL(ctx, cust); err != nil {
		return err
	}
	d.FriendsText = fmt.Sprintf("%d of %d friends rewarded", st.Rewarded, st.Cap)
	if st.Pending > 0 {
		d.FriendsText += fmt.Sprintf(", %d on the way", st.Pending)
	}
	for _, l := range inv.Lines {
		row := invoiceLine{Description: l.Description, Amount: Money(l.AmountCents, inv.Currency)}
		if !l.Charges() {
			row.Class = "give"
		}
		if l.VisitExternalID != nil && l.Charges() && d.RatingVisit == "" {
			d.RatingVisit = *l.VisitExternalID
		}
		if l.Kind == invoice.KindSyncDiscount {
			if m := syncReason.FindStringSubmatch(l.Reason); m != nil {
				pct := "a discount"
				if pm := percentIn.FindStringSubmatch(l.Description); pm != nil {
					pct = pm[1] + " off"
				}
				row.Why = fmt.Sprintf("%s: we serviced your property the same day as your neighbour on %s (%s m away), on %s.", pct, m[1], m[2], m[3])
				if d.SyncSentence == "" {
					d.SyncSentence = "Same-day service with your neighbour takes " + strings.TrimSuffix(pct, " off") + " off every visit you share."
				}
			}
		} else if l.Reason != "" {
			row.Why = l.Reason
		}
		d.Lines = append(d.Lines, row)
	}
	return renderPage(c, status, pages["invoice"], d)
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
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + " " + fields[k]
	}
	return strings.Join(parts, "; ")
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
		return p.load(c, http.StatusForbidden, 0, "The form had expired. Please send your rating again.")
	}
	score, err := strconv.Atoi(c.FormValue("score"))
	if err != nil || score < 1 || score > 5 {
		return p.load(c, http.StatusUnprocessableEntity, 0, "Please choose a rating from 1 to 5.")
	}
	var visit string
	for _, l := range inv.Lines {
		if l.VisitExternalID != nil && l.Charges() {
			visit = *l.VisitExternalID
			break
		}
	}
	if visit == "" {
		return p.load(c, http.StatusUnprocessableEntity, 0, "This invoice has no visit to rate.")
	}
	comment := c.FormValue("comment")
	if err := text.Check(comment, text.Free, MaxRatingComment); err != nil {
		return p.load(c, http.StatusUnprocessableEntity, 0, "Your comment "+err.Error()+".")
	}
	_, _, err = p.d.Crew.Rate(ctx, tenantID, visit, crew.RatingInput{Score: &score, Comment: comment, Complaint: c.FormValue("complaint") != ""})
	if ae, ok := apperror.As(err); ok && ae.Code == apperror.CodeValidation {
		return p.load(c, http.StatusUnprocessableEntity, 0, "Your rating was not saved: "+fieldsText(ae.Fields)+".")
	}
	if err != nil {
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
