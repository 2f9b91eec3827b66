package web

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/csvexport"
	"github.com/routeloop/routeloop/internal/dispatch"
	"github.com/routeloop/routeloop/internal/insight"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/store"
)

// The dashboard's periods (?period=), all in tenant-local days.
const (
	periodThisMonth  = "this_month"
	periodLastMonth  = "last_month"
	periodLast90Days = "last_90_days"
	periodThisYear   = "this_year"
	periodCustom     = "custom"
)

// periodPresets are the picker's links, in the order shown.
var periodPresets = []struct{ Value, Label, Lead string }{
	{periodThisMonth, "This month", "This month"},
	{periodLastMonth, "Last month", "Last month"},
	{periodLast90Days, "Last 90 days", "In the last 90 days"},
	{periodThisYear, "This year", "This year"},
}

// defaultPeriod answers the owner's first question: did it pay last month?
const defaultPeriod = periodLastMonth

// dashQuery is the period asked for: the preset, the custom days as typed,
// the days it resolves to, and what is wrong with it (by parameter).
type dashQuery struct {
	Period       string
	FromText     string
	ToText       string
	From, To     localdate.Date
	Errors       map[string]string
	Lead         string // "Last month", "From 2026-01-05 to 2026-02-10"
	Query        string // the period as a query string, for links
	PresetChosen bool
}

// readDashQuery reads ?period=&from=&to= against the tenant-local today.
// A preset picks its own days (from and to are ignored); custom needs both
// days, from not after to, and at most insight.MaxRangeYears between them.
func readDashQuery(period, from, to string, today localdate.Date) dashQuery {
	q := dashQuery{Period: period, FromText: from, ToText: to, Errors: map[string]string{}}
	if q.Period == "" {
		q.Period = defaultPeriod
		if from != "" || to != "" {
			q.Period = periodCustom
		}
	}
	first := localdate.Date{Year: today.Year, Month: today.Month, Day: 1}
	switch q.Period {
	case periodThisMonth:
		q.From, q.To = first, today
	case periodLastMonth:
		q.From = localdate.Of(first.Start(time.UTC).AddDate(0, -1, 0))
		q.To = first.AddDays(-1)
	case periodLast90Days:
		q.From, q.To = today.AddDays(-89), today
	case periodThisYear:
		q.From, q.To = localdate.Date{Year: today.Year, Month: 1, Day: 1}, today
	case periodCustom:
		var err error
		if q.From, err = localdate.Parse(from); err != nil {
			q.Errors["from"] = "must be a date such as " + first.String()
		}
		if q.To, err = localdate.Parse(to); err != nil {
			q.Errors["to"] = "must be a date such as " + today.String()
		}
		if len(q.Errors) > 0 {
			return q
		}
		if q.To.Before(q.From) {
			q.Errors["to"] = "must not be before the first day"
			return q
		}
		if limit := localdate.Of(q.From.Start(time.UTC).AddDate(insight.MaxRangeYears, 0, 0)); !q.To.Before(limit) {
			q.Errors["to"] = fmt.Sprintf("the period may span at most %d years", insight.MaxRangeYears)
			return q
		}
		q.FromText, q.ToText = q.From.String(), q.To.String()
		q.Lead = fmt.Sprintf("From %s to %s", q.From, q.To)
		q.Query = fmt.Sprintf("period=custom&from=%s&to=%s", q.From, q.To)
		return q
	default:
		q.Errors["period"] = "must be this month, last month, the last 90 days, this year or custom"
		q.Period = periodCustom
		return q
	}
	for _, p := range periodPresets {
		if p.Value == q.Period {
			q.Lead = p.Lead
		}
	}
	q.PresetChosen = true
	q.FromText, q.ToText = q.From.String(), q.To.String()
	q.Query = "period=" + q.Period
	return q
}

// ok reports whether the period can be shown.
func (q dashQuery) ok() bool { return len(q.Errors) == 0 }

// rng is the period for the insight service.
func (q dashQuery) rng() insight.Range {
	from, to := q.From, q.To
	return insight.Range{From: &from, To: &to}
}

// dashQueryOf reads the request's period in the signed-in tenant's zone,
// today from the pages' clock.
func (p *Pages) dashQueryOf(c echo.Context) dashQuery {
	pr, _ := Staff(c)
	loc := pr.Location
	if loc == nil {
		loc = time.UTC
	}
	return readDashQuery(c.QueryParam("period"), c.QueryParam("from"), c.QueryParam("to"), localdate.In(p.now(), loc))
}

// presetLink is one of the picker's plain links.
type presetLink struct {
	Label, Href string
	Current     bool
}

// verdict is the dashboard's headline sentence.
type verdict struct {
	Text  string
	Class string // paid, unpaid, none
	ROI   string
}

// verdictOf says whether the program paid in the period: net =
// contribution + route savings − cost.
func verdictOf(lead string, t insight.Row, currency string) verdict {
	var savings int64
	if t.RouteSavingsCents != nil {
		savings = *t.RouteSavingsCents
	}
	parts := fmt.Sprintf("net %s (contribution %s + route savings %s − cost %s)", Money(t.NetCents, currency),
		Money(t.ContributionCents, currency), Money(savings, currency), Money(t.CostCents, currency))
	v := verdict{ROI: pct(t.ROI)}
	switch {
	case t.NetCents > 0:
		v.Text, v.Class = lead+" the program paid: "+parts+".", "paid"
	case t.NetCents < 0:
		v.Text, v.Class = lead+" the program did not pay: "+parts+".", "unpaid"
	case t.CostCents == 0 && t.ContributionCents == 0 && savings == 0:
		v.Text, v.Class = lead+" the program had no costs or earnings to count yet.", "none"
	default:
		v.Text, v.Class = lead+" the program broke even: "+parts+".", "none"
	}
	return v
}

// monthLine is one tenant-local month of the period as shown.
type monthLine struct {
	Month, From, To                     string
	Contribution, Savings, Earned, Cost string
	Net, Km                             string
	Paid                                string
	NetCents, EarnedCents, CostCents    int64
	KmSaved                             float64
	Total                               bool
}

// paidText is a month's answer: paid, did not pay, or — when even.
func paidText(net int64) string {
	switch {
	case net > 0:
		return "paid"
	case net < 0:
		return "did not pay"
	}
	return "—"
}

func monthLineOf(r insight.Row, currency string) monthLine {
	var savings int64
	if r.RouteSavingsCents != nil {
		savings = *r.RouteSavingsCents
	}
	var km float64
	if r.KmSaved != nil {
		km = *r.KmSaved
	}
	l := monthLine{Month: r.Group, Contribution: Money(r.ContributionCents, currency), Savings: Money(savings, currency),
		Earned: Money(r.ContributionCents+savings, currency), Cost: Money(r.CostCents, currency), Net: Money(r.NetCents, currency),
		Km: kmText(km), Paid: paidText(r.NetCents), NetCents: r.NetCents, EarnedCents: r.ContributionCents + savings, CostCents: r.CostCents, KmSaved: km}
	if r.From != nil && r.To != nil {
		l.From, l.To = r.From.String(), r.To.String()
	}
	return l
}

// crewLine is one crew's share of the period.
type crewLine struct {
	Crew, Name         string
	SyncedVisits       int
	Km, Minutes        string
	Savings, Cost, Net string
	Contribution       string
}

// dashboard is the period's part of /admin.
type dashboard struct {
	Q          dashQuery
	Presets    []presetLink
	Verdict    verdict
	Months     []monthLine
	Total      monthLine
	MoneyChart barChart
	KmChart    barChart
	Crews      []crewLine
	CSV        []presetLink
	MarginPct  string
}

// dashFigures are the insight answers one period's dashboard (and its CSV
// files) is made of.
type dashFigures struct {
	months, crews, channels insight.KPIs
	savings                 dispatch.Savings
	names                   map[string]string
}

// dashFiguresOf asks the insight service for the period's splits (month,
// crew, channel unless told), computed together, with the route savings
// they count.
func (p *Pages) dashFiguresOf(ctx context.Context, tenantID string, q dashQuery, groups ...string) (dashFigures, error) {
	var f dashFigures
	if len(groups) == 0 {
		groups = []string{insight.GroupByMonth, insight.GroupByCrew, insight.GroupByChannel}
	}
	sp, err := p.d.Insights.KPISplits(ctx, tenantID, q.rng(), groups...)
	if err != nil {
		return f, err
	}
	f.months, f.crews, f.channels = sp.By[insight.GroupByMonth], sp.By[insight.GroupByCrew], sp.By[insight.GroupByChannel]
	f.savings = sp.Savings
	return f, nil
}

// crewNames are the tenant's crews' names by external id, for the page's
// crew table (the CSV files carry ids only).
func (p *Pages) crewNames(ctx context.Context, tenantID string) (map[string]string, error) {
	names := map[string]string{}
	crews, _, err := p.d.Mirror.Crews(ctx, tenantID, store.Page{Limit: 500})
	if err != nil {
		return nil, err
	}
	for _, c := range crews {
		names[c.ExternalID] = c.Name
	}
	return names, nil
}

// crewSavings sums the route savings rows per crew.
type crewSaving struct {
	Visits      int
	Km, Minutes float64
	Cents       int64
}

func (f dashFigures) savingsByCrew() map[string]crewSaving {
	out := map[string]crewSaving{}
	for _, r := range f.savings.Rows {
		s := out[r.CrewID]
		s.Visits += r.SyncedVisits
		s.Km += r.KmSaved
		s.Minutes += r.MinutesSaved
		s.Cents += r.ValueCents
		out[r.CrewID] = s
	}
	return out
}

// dashboardOf lays the figures out for the page.
func dashboardOf(q dashQuery, f dashFigures, currency string) dashboard {
	d := dashboard{Q: q, Verdict: verdictOf(q.Lead, f.months.Total, currency), MarginPct: percentText(f.months.GrossMarginBps) + "%"}
	d.Total = monthLineOf(f.months.Total, currency)
	d.Total.Month, d.Total.Total = "Total", true
	for _, r := range f.months.Groups {
		d.Months = append(d.Months, monthLineOf(r, currency))
	}
	d.MoneyChart, d.KmChart = monthCharts(d.Months)
	// The crew split has a row for every crew with route savings.
	by := f.savingsByCrew()
	for _, r := range f.crews.Groups {
		key := r.Group
		if key == insight.Unassigned {
			key = ""
		}
		d.Crews = append(d.Crews, crewLineOf(r, f.names[key], by[key], currency))
	}
	for _, g := range []struct{ group, label string }{{"month", "Months (CSV)"}, {"crew", "Crews (CSV)"}, {"channel", "Channels (CSV)"}} {
		d.CSV = append(d.CSV, presetLink{Label: g.label, Href: "/admin/kpis.csv?group=" + g.group + "&" + q.Query})
	}
	return d
}

func crewLineOf(r insight.Row, name string, s crewSaving, currency string) crewLine {
	l := crewLine{Crew: r.Group, Name: name, SyncedVisits: s.Visits, Km: strconv.FormatFloat(s.Km, 'f', 1, 64),
		Minutes: strconv.FormatFloat(s.Minutes, 'f', 0, 64), Savings: Money(s.Cents, currency),
		Cost: Money(r.CostCents, currency), Net: Money(r.NetCents, currency), Contribution: Money(r.ContributionCents, currency)}
	switch {
	case r.Group == insight.Unassigned:
		l.Name = "No crew (referrals no crew member pitched)"
	case l.Name == "":
		l.Name = "A crew no longer on file"
	}
	return l
}

// monthCharts draws, per month, what the program cost against what it
// earned (contribution + route savings), and the km saved.
func monthCharts(months []monthLine) (money, km barChart) {
	money = barChart{Title: "Cost against contribution + route savings, per month", Width: chartWidth, Empty: len(months) == 0,
		Legend: []legendItem{{X: chartBarX, Y: 14, Class: "cost", Label: "cost"}, {X: chartBarX + 80, Y: 14, Class: "s2", Label: "contribution + route savings"}}}
	km = barChart{Title: "Kilometres saved per month", Width: chartWidth, Empty: len(months) == 0}
	var top int64
	var topKm float64
	for _, m := range months {
		top = max(top, m.CostCents, m.EarnedCents)
		topKm = max(topKm, m.KmSaved)
	}
	y := 30
	for _, m := range months {
		row := chartRow{Label: m.Month, LabelY: y + barHeight + 4}
		for i, v := range []struct {
			cents int64
			class string
			text  string
		}{{m.CostCents, "cost", "cost " + m.Cost}, {m.EarnedCents, "s2", "earned " + m.Earned}} {
			by := y + i*(barHeight+2)
			w := scaled(v.cents, top, chartBarMax)
			row.Bars = append(row.Bars, chartBar{Y: by, W: w, H: barHeight, TextX: chartBarX + w + 6, TextY: by + barHeight - 3, Class: v.class, Text: v.text})
		}
		money.Rows = append(money.Rows, row)
		y += 2*(barHeight+2) + 12
	}
	money.Height = y
	y = 8
	for _, m := range months {
		w := 0
		if topKm > 0 && m.KmSaved > 0 {
			w = max(int(m.KmSaved/topKm*chartBarMax+0.5), 2)
		}
		km.Rows = append(km.Rows, chartRow{Label: m.Month, LabelY: y + barHeight - 3, Bars: []chartBar{{Y: y, W: w, H: barHeight,
			TextX: chartBarX + w + 6, TextY: y + barHeight - 3, Class: "s1", Text: m.Km}}})
		y += barHeight + 10
	}
	km.Height = y
	return money, km
}

// presetLinks are the picker's links, the chosen one marked.
func presetLinks(q dashQuery) []presetLink {
	out := make([]presetLink, 0, len(periodPresets))
	for _, p := range periodPresets {
		out = append(out, presetLink{Label: p.Label, Href: "/admin?period=" + p.Value + "#dashboard", Current: q.Period == p.Value})
	}
	return out
}

// dashboardFor builds the dashboard of the request's period; a period
// that cannot be shown comes back with its errors and no figures.
func (p *Pages) dashboardFor(c echo.Context, q dashQuery, currency string) (dashboard, dashFigures, error) {
	pr, _ := Staff(c)
	if !q.ok() {
		return dashboard{Q: q, Presets: presetLinks(q)}, dashFigures{}, nil
	}
	f, err := p.dashFiguresOf(c.Request().Context(), pr.TenantID, q)
	if e, ok := apperror.As(err); ok && e.Code == apperror.CodeValidation {
		q.Errors = map[string]string{}
		for k, m := range e.Fields {
			q.Errors[k] = m
		}
		return dashboard{Q: q, Presets: presetLinks(q)}, dashFigures{}, nil
	}
	if err == nil {
		f.names, err = p.crewNames(c.Request().Context(), pr.TenantID)
	}
	if err != nil {
		return dashboard{}, f, err
	}
	d := dashboardOf(q, f, currency)
	d.Presets = presetLinks(q)
	return d, f, nil
}

// adminKPIsCSV downloads what the dashboard shows for the same period:
// ?group=month (the default: the total, then each month), crew or channel,
// the API's KPI columns; the crew file adds each crew's synced visits and
// minutes saved. Through csvexport: a byte order mark, formula-like cells
// quoted.
func (p *Pages) adminKPIsCSV(c echo.Context) error {
	pr, _ := Staff(c)
	q := p.dashQueryOf(c)
	group := c.QueryParam("group")
	if group == "" {
		group = insight.GroupByMonth
	}
	if group != insight.GroupByMonth && group != insight.GroupByCrew && group != insight.GroupByChannel {
		q.Errors["group"] = "must be month, crew or channel"
	}
	if !q.ok() {
		return p.ErrorPage(c, http.StatusUnprocessableEntity, "The period cannot be exported: "+fieldsText(q.Errors)+".")
	}
	f, err := p.dashFiguresOf(c.Request().Context(), pr.TenantID, q, group)
	if e, ok := apperror.As(err); ok && e.Code == apperror.CodeValidation {
		return p.ErrorPage(c, apperror.Status(e.Code), "The period cannot be exported: "+fieldsText(e.Fields)+".")
	}
	if err != nil {
		return err
	}
	header, rows := f.table(group)
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="routeloop-kpis-%s-%s-%s.csv"`, group, q.From, q.To))
	h.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
	return csvexport.Write(c.Response(), header, rows)
}

// table is the CSV of one split: the API's KPI columns; the crews' adds
// each crew's synced visits and minutes saved on its routes.
func (f dashFigures) table(group string) ([]string, [][]string) {
	switch group {
	case insight.GroupByChannel:
		return f.channels.Table()
	case insight.GroupByCrew:
	default:
		return f.months.Table()
	}
	header, rows := f.crews.Table()
	header = append(header, "synced_visits_on_routes", "minutes_saved")
	by := f.savingsByCrew()
	var all crewSaving
	for _, s := range by {
		all.Visits += s.Visits
		all.Minutes += s.Minutes
	}
	for i := range rows {
		s := all // the total row first
		if i > 0 {
			key := f.crews.Groups[i-1].Group
			if key == insight.Unassigned {
				key = ""
			}
			s = by[key]
		}
		rows[i] = append(rows[i], strconv.Itoa(s.Visits), strconv.FormatFloat(math.Round(s.Minutes*10)/10, 'f', -1, 64))
	}
	return header, rows
}
