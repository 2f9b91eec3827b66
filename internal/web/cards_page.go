package web

import (
	"html/template"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/refcode"
	"github.com/routeloop/routeloop/internal/scheduling"
	"github.com/routeloop/routeloop/internal/user"
)

var cardsPage = parsePage("cards")

// cardsPerSheet is how many cards one printed page holds (2 × 4).
const cardsPerSheet = 8

// maxCards bounds one print run.
const maxCards = 400

type referralCard struct {
	Company   string
	FirstName string
	Code      string
	Link      string
	QR        template.URL
	Friend    string
	You       string
}

type cardsData struct {
	Staff     user.Principal
	Title     string
	Crews     []scheduling.Crew
	CrewID    string
	Date      string
	Customers string
	Paper     string
	Sheets    [][]referralCard
	Count     int
	Missing   []string
	Error     string
}

// cards prints referral cards for a crew's route on a day
// (?crew=ID&date=YYYY-MM-DD) or for a list of customers (?customers=a,b).
func (p *Pages) cards(c echo.Context) error {
	ctx := c.Request().Context()
	pr, _ := Staff(c)
	d := cardsData{Staff: pr, Title: "Referral cards", CrewID: strings.TrimSpace(c.QueryParam("crew")),
		Date: strings.TrimSpace(c.QueryParam("date")), Customers: strings.TrimSpace(c.QueryParam("customers")), Paper: "a4"}
	if c.QueryParam("paper") == "letter" {
		d.Paper = "letter"
	}
	crews, err := p.allCrews(ctx, pr.TenantID)
	if err != nil {
		return err
	}
	d.Crews = crews
	var ids []string
	seen := map[string]bool{}
	add := func(id string) {
		if id != "" && !seen[id] && len(ids) < maxCards {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	switch {
	case d.Customers != "":
		for _, id := range strings.Split(d.Customers, ",") {
			add(strings.TrimSpace(id))
		}
	case d.CrewID != "":
		day, err := p.d.Crew.Today(ctx, pr.TenantID, d.CrewID, d.Date, "", p.d.Mirror.Customer)
		if ae, ok := apperror.As(err); ok {
			d.Error = describeError(ae)
			st := http.StatusBadRequest
			if ae.Code == apperror.CodeNotFound {
				st = http.StatusNotFound
			}
			return renderPage(c, st, cardsPage, d)
		}
		if err != nil {
			return err
		}
		d.Date = day.Date.String()
		for _, s := range day.Stops {
			add(s.Customer.ExternalID)
		}
	default:
		return renderPage(c, http.StatusOK, cardsPage, d)
	}
	prog, err := p.d.Programs.Get(ctx, pr.TenantID)
	if err != nil {
		return err
	}
	var cards []referralCard
	for _, id := range ids {
		cust, err := p.d.Mirror.Customer(ctx, pr.TenantID, id)
		if apperror.HasCode(err, apperror.CodeNotFound) {
			d.Missing = append(d.Missing, id)
			continue
		}
		if err != nil {
			return err
		}
		link := refcode.WithChannel(cust.ReferralURL, refcode.ChannelCard)
		qr, err := qrDataURI(link, 300)
		if err != nil {
			return err
		}
		first, _, _ := strings.Cut(strings.TrimSpace(cust.Name), " ")
		offer, err := p.d.Referrals.OfferFor(ctx, prog, cust.ID)
		if err != nil {
			return err
		}
		cards = append(cards, referralCard{Company: pr.TenantName, FirstName: first, Code: cust.ReferralCode, Link: link, QR: qr,
			Friend: offer.Referee.Describe("your first visit"), You: offer.Referrer.Describe("their next invoice")})
	}
	d.Count = len(cards)
	for len(cards) > 0 {
		n := min(cardsPerSheet, len(cards))
		d.Sheets = append(d.Sheets, cards[:n])
		cards = cards[n:]
	}
	return renderPage(c, http.StatusOK, cardsPage, d)
}
