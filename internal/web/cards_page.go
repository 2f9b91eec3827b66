package web

import (
	"html/template"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/crew"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/refcode"
	"github.com/routeloop/routeloop/internal/user"
)

var cardsPage = parsePage("cards")

// cardsPerSheet is how many cards one printed page holds (2 × 4).
const cardsPerSheet = 8

// maxCards bounds one print run.
const maxCards = 400

// maxFound bounds the customers one name search lists.
const maxFound = 50

type referralCard struct {
	Company string
	// FirstName is how the card speaks to the friend ("Ben invites you");
	// FullName and Stop tell whoever hands the cards out whose it is
	// ("Stop 2 · Ben Okafor"): the code on it is that customer's.
	FirstName string
	FullName  string
	Stop      int
	Code      string
	Link      printedLink
	FullLink  string
	QR        template.URL
	Friend    string
	You       string
}

type cardsData struct {
	Staff  user.Principal
	Title  string
	Crews  []mirror.Crew
	CrewID string
	Date   string
	// Query is the name search; Found what it found (More: there were
	// more than shown); Picked the customers ticked (scheduler ids).
	Query  string
	Found  []crew.CardCustomer
	More   bool
	Picked []string
	// Asked says cards were asked for (a route or customers), so none
	// made is worth a word.
	Asked   bool
	Paper   string
	Sheets  [][]referralCard
	Count   int
	Missing []string
	Error   string
}

// IsPicked says whether a found customer is ticked.
func (d cardsData) IsPicked(id string) bool { return slices.Contains(d.Picked, id) }

// PickedElsewhere are the ticked customers the search did not list: a new
// search keeps them.
func (d cardsData) PickedElsewhere() []string {
	var out []string
	for _, id := range d.Picked {
		if !slices.ContainsFunc(d.Found, func(f crew.CardCustomer) bool { return f.ExternalID == id }) {
			out = append(out, id)
		}
	}
	return out
}

// cardTarget is a customer to print a card for, with the stop number
// when the cards are for a route.
type cardTarget struct {
	id   string
	stop int
}

// cards prints referral cards for a crew's route on a day
// (?crew=ID&date=YYYY-MM-DD) or for customers picked from a name search
// (?q=name, then ?customers=a&customers=b; "a,b" works too).
func (p *Pages) cards(c echo.Context) error {
	ctx := c.Request().Context()
	pr, _ := Staff(c)
	d := cardsData{Staff: pr, Title: "Referral cards", CrewID: strings.TrimSpace(c.QueryParam("crew")),
		Date: strings.TrimSpace(c.QueryParam("date")), Query: strings.TrimSpace(c.QueryParam("q")), Paper: "a4"}
	if c.QueryParam("paper") == "letter" {
		d.Paper = "letter"
	}
	crews, err := p.allCrews(ctx, pr.TenantID)
	if err != nil {
		return err
	}
	d.Crews = crews
	if len([]rune(d.Query)) > 100 {
		d.Query = string([]rune(d.Query)[:100])
	}
	if d.Query != "" {
		if d.Found, d.More, err = p.d.Crew.FindCustomers(ctx, pr.TenantID, d.Query, maxFound); err != nil {
			return err
		}
	}
	var targets []cardTarget
	seen := map[string]bool{}
	add := func(id string, stop int) {
		if id != "" && !seen[id] && len(targets) < maxCards {
			seen[id] = true
			targets = append(targets, cardTarget{id, stop})
		}
	}
	for _, v := range c.QueryParams()["customers"] {
		for _, id := range strings.Split(v, ",") {
			add(strings.TrimSpace(id), 0)
		}
	}
	for _, t := range targets {
		d.Picked = append(d.Picked, t.id)
	}
	d.Asked = len(targets) > 0 || d.CrewID != ""
	switch {
	case len(targets) > 0:
	case d.CrewID != "":
		day, err := p.d.Crew.Today(ctx, pr.TenantID, d.CrewID, d.Date, "", p.d.Mirror.Customer)
		if ae, ok := apperror.As(err); ok {
			d.Error = describeError(ae)
			return renderPage(c, apperror.Status(ae.Code), cardsPage, d)
		}
		if err != nil {
			return err
		}
		d.Date = day.Date.String()
		for i, s := range day.Stops {
			add(s.Customer.ExternalID, i+1)
		}
	}
	if len(targets) == 0 {
		return renderPage(c, http.StatusOK, cardsPage, d)
	}
	prog, err := p.d.Programs.Get(ctx, pr.TenantID)
	if err != nil {
		return err
	}
	var cards []referralCard
	for _, t := range targets {
		cust, err := p.d.Mirror.Customer(ctx, pr.TenantID, t.id)
		if apperror.HasCode(err, apperror.CodeNotFound) {
			d.Missing = append(d.Missing, t.id)
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
		full := strings.Join(strings.Fields(cust.Name), " ")
		first, _, _ := strings.Cut(full, " ")
		offer, err := p.d.Referrals.OfferFor(ctx, prog, cust.ID)
		if err != nil {
			return err
		}
		cards = append(cards, referralCard{Company: pr.TenantName, FirstName: first, FullName: full, Stop: t.stop, Code: cust.ReferralCode,
			Link: splitLink(link), FullLink: link, QR: qr,
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
