package web

import (
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/crew"
	"github.com/routeloop/routeloop/internal/insight"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/referral"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/user"
)

// adminPage is the owner's page; parsed once at start-up.
var adminPage = parsePage("admin")

// adminData is everything /admin shows.
type adminData struct {
	Staff  user.Principal
	Notice string

	Form       settingsForm
	Errors     map[string]string
	ErrorCount int
	// ErrorList is every refused setting, in the form's order, each with
	// a link to its input.
	ErrorList []formError
	Kinds     []rewardKind

	KPI     adminKPIs
	Dash    dashboard
	Budget  budgetGauge
	AB      insight.AB
	ABChart barChart
	// Review is how many flagged referrals wait (ReviewMore: at least).
	Review     int
	ReviewMore bool
	Board      crew.Leaderboard
	BoardRows  []boardRow
	Goals      []goalRow
}

type rewardKind struct{ Value, Label string }

var rewardKinds = []rewardKind{
	{program.RewardPercentNextInvoice, "% off"},
	{program.RewardFixedCredit, "credit (amount)"},
	{program.RewardFreeAddon, "free add-on (value)"},
	{program.RewardPoints, "points"},
}

// settingsForm is the settings as typed (strings, so a refused form comes
// back as it was sent).
type settingsForm struct {
	NeighborRadiusM, SyncDiscount, MaxDiscount string
	SameCrew                                   bool
	ReferrerCap, YearlyCap, MonthlyBudget      string
	RewardHoldDays                             string
	Offers                                     []offerForm
}

type offerForm struct {
	Index             int
	Name              string
	Referee, Referrer rewardForm
	NameErr           string
	// Weight is the variant's share of new referrers ("" reads as 1).
	Weight, WeightErr string
}

type rewardForm struct {
	Kind, Value, Addon string
	Err                string
}

// maxOffers is how many offer variants the program allows.
const maxOffers = 5

func formOfProgram(pr program.Program) settingsForm {
	f := settingsForm{
		NeighborRadiusM: strconv.Itoa(pr.NeighborRadiusM),
		SyncDiscount:    percentText(pr.SyncDiscountBps),
		MaxDiscount:     percentText(pr.MaxDiscountBps),
		SameCrew:        pr.SyncRequiresSameCrew,
		ReferrerCap:     strconv.Itoa(pr.ReferrerCap),
		YearlyCap:       strconv.Itoa(pr.YearlyCap),
		RewardHoldDays:  strconv.Itoa(pr.RewardHoldDays),
		MonthlyBudget:   centsText(pr.MonthlyBudgetCents),
	}
	for i, o := range pr.OfferList() {
		f.Offers = append(f.Offers, offerForm{Index: i, Name: o.Name, Referee: rewardFormOf(o.Referee), Referrer: rewardFormOf(o.Referrer),
			Weight: strconv.Itoa(max(o.Weight, 1))})
	}
	return f.withBlankOffer()
}

// withBlankOffer adds an empty row for a new variant while there is room.
func (f settingsForm) withBlankOffer() settingsForm {
	if len(f.Offers) < maxOffers {
		f.Offers = append(f.Offers, offerForm{Index: len(f.Offers), Weight: "1",
			Referee:  rewardForm{Kind: program.RewardPercentNextInvoice},
			Referrer: rewardForm{Kind: program.RewardPercentNextInvoice}})
	}
	return f
}

func rewardFormOf(r program.Reward) rewardForm {
	out := rewardForm{Kind: r.Kind, Addon: r.AddonName}
	switch r.Kind {
	case program.RewardPercentNextInvoice:
		out.Value = percentText(r.Bps)
	case program.RewardFixedCredit, program.RewardFreeAddon:
		out.Value = centsText(r.AmountCents)
	case program.RewardPoints:
		out.Value = strconv.Itoa(r.Points)
	}
	return out
}

// percentText shows basis points as a percent: 1000 → "10", 1250 → "12.5".
func percentText(bps int) string {
	return strconv.FormatFloat(float64(bps)/100, 'f', -1, 64)
}

// centsText shows cents as an amount: 25000 → "250.00".
func centsText(c int64) string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return fmt.Sprintf("%s%d.%02d", sign, c/100, c%100)
}

// parsePercent reads "10", "12.5" or "10%" as basis points.
func parsePercent(s string) (int, bool) {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%"))
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > 1e6 {
		return 0, false
	}
	return int(math.Round(v * 100)), true
}

// parseAmount reads "250", "250.5" or "1,250.00" as cents.
func parseAmount(s string) (int64, bool) {
	s = strings.TrimSpace(strings.NewReplacer(",", "", "$", "", "€", "", "£", "").Replace(s))
	if s == "" {
		return 0, false
	}
	whole, frac, hasFrac := strings.Cut(s, ".")
	if hasFrac && (len(frac) == 0 || len(frac) > 2) {
		return 0, false
	}
	neg := strings.HasPrefix(whole, "-")
	whole = strings.TrimPrefix(whole, "-")
	if whole == "" {
		whole = "0"
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > 1_000_000_000_000 {
		return 0, false
	}
	for len(frac) < 2 {
		frac += "0"
	}
	fr, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return 0, false
	}
	c := w*100 + fr
	if neg {
		c = -c
	}
	return c, true
}

// formOfRequest reads the posted settings.
func formOfRequest(c echo.Context) settingsForm {
	v := func(k string) string { return strings.TrimSpace(c.FormValue(k)) }
	f := settingsForm{NeighborRadiusM: v("neighbor_radius_m"), SyncDiscount: v("sync_discount"), MaxDiscount: v("max_discount"),
		SameCrew: c.FormValue("sync_requires_same_crew") != "", ReferrerCap: v("referrer_cap"), YearlyCap: v("yearly_cap"),
		RewardHoldDays: v("reward_hold_days"),
		MonthlyBudget:  v("monthly_budget")}
	for i := 0; i < maxOffers+1; i++ {
		pre := fmt.Sprintf("offers.%d.", i)
		o := offerForm{Name: v(pre + "name"), Weight: v(pre + "weight"),
			Referee:  rewardForm{Kind: v(pre + "referee_kind"), Value: v(pre + "referee_value"), Addon: v(pre + "referee_addon")},
			Referrer: rewardForm{Kind: v(pre + "referrer_kind"), Value: v(pre + "referrer_value"), Addon: v(pre + "referrer_addon")}}
		if o.Name == "" && o.Referee.Value == "" && o.Referrer.Value == "" && o.Referee.Addon == "" && o.Referrer.Addon == "" {
			continue // an unused (or cleared) row
		}
		o.Index = len(f.Offers)
		f.Offers = append(f.Offers, o)
	}
	return f
}

// input turns the form into a program.Input; fields that do not read as
// numbers are reported in errs under the program's field names.
func (f settingsForm) input(errs apperror.Fields) program.Input {
	var in program.Input
	atoi := func(s, field, msg string) *int {
		n, err := strconv.Atoi(s)
		if err != nil {
			errs.Add(field, msg)
			return nil
		}
		return &n
	}
	in.NeighborRadiusM = atoi(f.NeighborRadiusM, "neighbor_radius_m", "must be a whole number of metres")
	if bps, ok := parsePercent(f.SyncDiscount); ok {
		in.SyncDiscountBps = &bps
	} else {
		errs.Add("sync_discount_bps", "must be a percentage such as 10")
	}
	if bps, ok := parsePercent(f.MaxDiscount); ok {
		in.MaxDiscountBps = &bps
	} else {
		errs.Add("max_discount_bps", "must be a percentage such as 20")
	}
	same := f.SameCrew
	in.SyncRequiresSameCrew = &same
	in.ReferrerCap = atoi(f.ReferrerCap, "referrer_cap", "must be a whole number")
	in.YearlyCap = atoi(f.YearlyCap, "yearly_cap", "must be a whole number (0: no limit)")
	if f.RewardHoldDays != "" { // a form from before the setting keeps the stored hold
		in.RewardHoldDays = atoi(f.RewardHoldDays, "reward_hold_days", "must be a whole number of days (0: no hold)")
	}
	if f.MonthlyBudget == "" {
		zero := int64(0)
		in.MonthlyBudgetCents = &zero
	} else if c, ok := parseAmount(f.MonthlyBudget); ok {
		in.MonthlyBudgetCents = &c
	} else {
		errs.Add("monthly_budget_cents", "must be an amount such as 500.00 (0: no limit)")
	}
	offers := make([]program.Offer, 0, len(f.Offers))
	for i, o := range f.Offers {
		field := fmt.Sprintf("offers[%d]", i)
		weight := 0 // a form from before weights: counts as 1
		if o.Weight != "" {
			n, err := strconv.Atoi(o.Weight)
			if err != nil {
				errs.Add(field+".weight", "must be a whole number such as 1")
			}
			weight = n
		}
		offers = append(offers, program.Offer{Name: o.Name, Weight: weight,
			Referee:  o.Referee.reward(errs, field+".referee"),
			Referrer: o.Referrer.reward(errs, field+".referrer")})
	}
	in.Offers = &offers
	return in
}

func (r rewardForm) reward(errs apperror.Fields, field string) program.Reward {
	out := program.Reward{Kind: r.Kind, AddonName: r.Addon}
	switch r.Kind {
	case program.RewardPercentNextInvoice:
		if bps, ok := parsePercent(r.Value); ok {
			out.Bps = bps
		} else {
			errs.Add(field+".bps", "must be a percentage such as 10")
		}
	case program.RewardFixedCredit, program.RewardFreeAddon:
		if r.Value == "" && r.Kind == program.RewardFreeAddon {
			break
		}
		if c, ok := parseAmount(r.Value); ok {
			out.AmountCents = c
		} else {
			errs.Add(field+".amount_cents", "must be an amount such as 25.00")
		}
	case program.RewardPoints:
		if n, err := strconv.Atoi(r.Value); err == nil {
			out.Points = n
		} else {
			errs.Add(field+".points", "must be a whole number of points")
		}
	}
	return out
}

// formFields are the program fields the form shows next to an input.
var formFields = []string{"neighbor_radius_m", "sync_discount_bps", "max_discount_bps", "sync_requires_same_crew",
	"referrer_cap", "yearly_cap", "reward_hold_days", "monthly_budget_cents", "offers"}

// plainMessage rewords the program's messages for a form in percent and
// money (the API's are in basis points and cents).
var plainMessage = strings.NewReplacer(
	"between 0 and 10000 basis points (10000 = 100%)", "between 0% and 100%",
	"between 0 and 10000 basis points", "between 0% and 100%",
	"between 1 and 10000 basis points", "between 0.01% and 100%",
	"at least sync_discount_bps", "at least the same-day discount",
	"a positive amount in cents", "a positive amount",
	"the add-on's value in cents", "the add-on's value (0 or more)",
)

// formError is one refused setting: what it is called on the form, why
// it was refused, and the input to fix.
type formError struct {
	Label, Message, Input string
}

// settingLabels name the settings as the form calls them, with their
// inputs' ids.
var settingLabels = map[string][2]string{
	"neighbor_radius_m":       {"Neighbour radius", "neighbor_radius_m"},
	"sync_discount_bps":       {"Same-day (sync) discount", "sync_discount"},
	"max_discount_bps":        {"Maximum discount per line", "max_discount"},
	"sync_requires_same_crew": {"Same crew for the same-day discount", "sync_requires_same_crew"},
	"referrer_cap":            {"Rewarded referrals per customer", "referrer_cap"},
	"yearly_cap":              {"Rewarded referrals per customer per year", "yearly_cap"},
	"reward_hold_days":        {"Days a reward waits before it counts", "reward_hold_days"},
	"monthly_budget_cents":    {"Monthly reward budget", "monthly_budget"},
	"offers":                  {"Offers", "offer-0-name"},
}

// place puts every validation message next to its input, and lists them
// all at the top, each linked to its input (all at once: a form is never
// refused one field at a time).
func (d *adminData) place(fields map[string]string) {
	d.Errors = map[string]string{}
	type placed struct {
		order int
		err   formError
	}
	var list []placed
	for k, m := range fields {
		msg := plainMessage.Replace(m)
		d.ErrorCount++
		fe := formError{Label: settingName(k), Message: msg}
		order := len(formFields) + 1000
		for i, f := range formFields {
			if k == f {
				d.Errors[k] = msg
				fe.Input, order = settingLabels[k][1], i
			}
		}
		for i := range d.Form.Offers {
			o := &d.Form.Offers[i]
			pre := fmt.Sprintf("offers[%d].", o.Index)
			if !strings.HasPrefix(k, pre) {
				continue
			}
			order = len(formFields) + o.Index*10
			id := fmt.Sprintf("offer-%d-", o.Index)
			switch rest := strings.TrimPrefix(k, pre); {
			case rest == "name":
				o.NameErr, fe.Input = msg, id+"name"
			case rest == "weight":
				o.WeightErr, fe.Input, order = msg, id+"weight", order+1
			case strings.HasPrefix(rest, "referee."):
				o.Referee.Err, fe.Input, order = joinMsg(o.Referee.Err, msg), id+rewardInput(rest), order+2
			case strings.HasPrefix(rest, "referrer."):
				o.Referrer.Err, fe.Input, order = joinMsg(o.Referrer.Err, msg), id+rewardInput(rest), order+3
			}
		}
		list = append(list, placed{order, fe})
	}
	sort.SliceStable(list, func(i, j int) bool {
		if list[i].order != list[j].order {
			return list[i].order < list[j].order
		}
		return list[i].err.Label < list[j].err.Label
	})
	for _, p := range list {
		d.ErrorList = append(d.ErrorList, p.err)
	}
}

// rewardInput is the input of an offer's reward a field's error is about:
// its add-on name, its kind, or its value.
func rewardInput(field string) string {
	side, what, _ := strings.Cut(field, ".")
	switch what {
	case "addon_name":
		return side + "-addon"
	case "kind":
		return side + "-kind"
	}
	return side + "-value"
}

// settingName is what the form calls a setting ("Offer 2: friend's reward").
func settingName(field string) string {
	if l, ok := settingLabels[field]; ok {
		return l[0]
	}
	var i int
	var rest string
	if n, _ := fmt.Sscanf(field, "offers[%d]", &i); n == 1 {
		_, rest, _ = strings.Cut(field, "].")
		what := map[string]string{"name": "name", "weight": "share of new referrers"}[rest]
		switch {
		case strings.HasPrefix(rest, "referee."):
			what = "friend's reward"
		case strings.HasPrefix(rest, "referrer."):
			what = "referrer's reward"
		}
		if what == "" {
			what = rest
		}
		return fmt.Sprintf("Offer %d: %s", i+1, what)
	}
	return strings.ReplaceAll(field, "_", " ")
}

func joinMsg(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// notices are the messages a redirect back may ask for (never user text).
var notices = map[string]string{
	"program": "Program settings saved. Draft invoices now use them.",
}

func (p *Pages) adminShow(c echo.Context) error {
	pr, _ := Staff(c)
	d := adminData{Staff: pr, Notice: notices[c.QueryParam("done")]}
	prog, err := p.d.Programs.Get(c.Request().Context(), pr.TenantID)
	if err != nil {
		return err
	}
	d.Form = formOfProgram(prog)
	return p.renderAdmin(c, http.StatusOK, d)
}

// adminSaveProgram saves the settings form: refused fields come back next
// to their inputs with 422 and nothing saved; saved, back to the page.
func (p *Pages) adminSaveProgram(c echo.Context) error {
	pr, _ := Staff(c)
	ctx := c.Request().Context()
	f := formOfRequest(c)
	errs := apperror.Fields{}
	in := f.input(errs)
	// The program's own rules run on whatever did read, so the page shows
	// every error at once (a value that did not read keeps its message).
	cur, err := p.d.Programs.Get(ctx, pr.TenantID)
	if err != nil {
		return err
	}
	if _, err := cur.Apply(in); err != nil {
		e, ok := apperror.As(err)
		if !ok || e.Code != apperror.CodeValidation {
			return err
		}
		for k, m := range e.Fields {
			errs.Add(k, m)
		}
	}
	if len(errs) == 0 {
		_, err := p.d.Neighbors.UpdateProgram(ctx, pr.TenantID, in)
		if e, ok := apperror.As(err); ok && e.Code == apperror.CodeValidation {
			for k, m := range e.Fields {
				errs.Add(k, m)
			}
		} else if err != nil {
			return err
		}
	}
	if len(errs) > 0 {
		d := adminData{Staff: pr, Form: f.withBlankOffer()}
		d.place(errs)
		return p.renderAdmin(c, http.StatusUnprocessableEntity, d)
	}
	return c.Redirect(http.StatusSeeOther, "/admin?done=program#settings")
}

// renderAdmin loads the dashboard, review queue and crew standings and
// renders the page.
func (p *Pages) renderAdmin(c echo.Context, status int, d adminData) error {
	ctx := c.Request().Context()
	tid := d.Staff.TenantID
	d.Kinds = rewardKinds
	if d.Errors == nil {
		d.Errors = map[string]string{}
	}
	currency := d.Staff.Currency
	if currency == "" {
		currency = "USD"
	}
	// The period's dashboard; a period that cannot be shown is a 422 with
	// its message beside the picker, and the last 30 days' KPIs below it.
	dash, figs, err := p.dashboardFor(c, p.dashQueryOf(c), currency)
	if err != nil {
		return err
	}
	d.Dash = dash
	k := figs.channels
	if !dash.Q.ok() {
		if status < http.StatusBadRequest {
			status = http.StatusUnprocessableEntity
		}
		if k, err = p.d.Insights.KPIs(ctx, tid, insight.KPIQuery{GroupBy: insight.GroupByChannel}); err != nil {
			return err
		}
	}
	d.KPI = kpisOf(k, currency)
	d.Budget = gaugeOf(k.Budget, currency)
	if d.AB, err = p.d.Insights.AB(ctx, tid, insight.ABQuery{Kind: insight.KindOffer}); err != nil {
		return err
	}
	d.ABChart = abChart(d.AB)
	queue, next, err := p.d.Referrals.List(ctx, tid, referral.Filter{Status: referral.StatusPendingReview}, store.Page{Limit: reviewShown})
	if err != nil {
		return err
	}
	d.Review, d.ReviewMore = len(queue), next != ""
	if d.Board, err = p.d.Crew.Leaderboard(ctx, tid, crew.PeriodQuarter, ""); err != nil {
		return err
	}
	crews, err := p.crewNames(ctx, tid)
	if err != nil {
		return err
	}
	d.BoardRows = boardOf(d.Board, crews, currency)
	goals, err := p.d.Crew.Milestones(ctx, tid, "")
	if err != nil {
		return err
	}
	for _, g := range goals {
		d.Goals = append(d.Goals, goalOf(g))
	}
	return renderPage(c, status, adminPage, d)
}
