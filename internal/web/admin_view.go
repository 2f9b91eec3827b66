package web

import (
	"fmt"
	"math"
	"strings"

	"github.com/routeloop/routeloop/internal/crew"
	"github.com/routeloop/routeloop/internal/insight"
	"github.com/routeloop/routeloop/internal/referral"
)

// headline is one of the dashboard's big numbers.
type headline struct {
	Label, Value, Hint string
}

type adminKPIs struct {
	From, To  string
	Headlines []headline
	Chart     barChart
}

// barChart is a horizontal bar chart drawn as SVG on the server: each row
// is a label with one or more bars, each bar with its number written after it.
type barChart struct {
	Title         string
	Width, Height int
	Rows          []chartRow
	Legend        []legendItem
	Empty         bool
}

type chartRow struct {
	Label  string
	LabelY int
	Bars   []chartBar
}

type chartBar struct {
	Y, W, H, TextX, TextY int
	Class, Text           string
}

type legendItem struct {
	X, Y         int
	Class, Label string
}

// Chart geometry: labels right-aligned at chartLabelX, bars from chartBarX
// up to chartBarMax wide.
const (
	chartLabelX = 150
	chartBarX   = 160
	chartBarMax = 280
	chartWidth  = 560
	barHeight   = 16
)

func pct(r *float64) string {
	if r == nil {
		return "—"
	}
	return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.1f", *r*100), "0"), ".") + "%"
}

func scaled(v, top int64, width int) int {
	if top <= 0 || v <= 0 {
		return 0
	}
	w := int(math.Round(float64(v) / float64(top) * float64(width)))
	return max(w, 2)
}

// channelNames are the channels in plain words (the referral engine's).
var channelNames = func() map[string]string {
	m := map[string]string{insight.Unassigned: "(none)"}
	for ch, words := range referral.ChannelWords {
		m[ch] = words
	}
	return m
}()

func kpisOf(k insight.KPIs, currency string) adminKPIs {
	t := k.Total
	out := adminKPIs{From: k.From.String(), To: k.To.String()}
	savings := "—"
	if t.RouteSavingsCents != nil {
		savings = Money(*t.RouteSavingsCents, currency)
	}
	roi := "—"
	if t.ROI != nil {
		roi = pct(t.ROI)
	}
	out.Headlines = []headline{
		{"Referrals", fmt.Sprint(t.Referrals), fmt.Sprintf("%d converted", t.Conversions)},
		{"Conversion rate", pct(t.ConversionRate), "of referrals made in the period"},
		{"Referred revenue", Money(t.RevenueCents, currency), "invoiced to referred customers"},
		{"Reward cost", Money(t.RewardCostCents, currency), "rewards on invoices"},
		{"Route savings", savings, "shorter routes from same-day neighbours"},
		{"Net value", Money(t.NetCents, currency), "contribution (revenue × margin) + savings − all costs"},
		{"ROI", roi, "net value over cost"},
	}
	ch := barChart{Title: "Referrals and conversions per channel", Width: chartWidth,
		Legend: []legendItem{{X: chartBarX, Y: 14, Class: "s1", Label: "referrals"}, {X: chartBarX + 110, Y: 14, Class: "s2", Label: "conversions"}}}
	var top int64
	for _, g := range k.Groups {
		top = max(top, int64(g.Referrals))
	}
	y := 30
	for _, g := range k.Groups {
		name := channelNames[g.Group]
		if name == "" {
			name = g.Group
		}
		row := chartRow{Label: name, LabelY: y + barHeight + 4}
		for i, v := range []int{g.Referrals, g.Conversions} {
			by := y + i*(barHeight+2)
			w := scaled(int64(v), top, chartBarMax)
			row.Bars = append(row.Bars, chartBar{Y: by, W: w, H: barHeight, TextX: chartBarX + w + 6, TextY: by + barHeight - 3,
				Class: []string{"s1", "s2"}[i], Text: fmt.Sprint(v)})
		}
		ch.Rows = append(ch.Rows, row)
		y += 2*(barHeight+2) + 12
	}
	ch.Height = y
	ch.Empty = len(k.Groups) == 0
	out.Chart = ch
	return out
}

// budgetGauge is this month's reward spending against the budget.
type budgetGauge struct {
	Month, Used, Budget, Share string
	NoBudget, Over             bool
	W, Width                   int
	Waiting                    int64
}

const gaugeWidth = 400

func gaugeOf(b insight.Budget, currency string) budgetGauge {
	g := budgetGauge{Month: b.Month, Used: Money(b.UsedCents, currency), Budget: Money(b.BudgetCents, currency),
		NoBudget: b.BudgetCents <= 0, Waiting: b.WaitingCount, Width: gaugeWidth}
	if b.Share != nil {
		g.Share = pct(b.Share)
		g.Over = *b.Share > 1
		g.W = int(math.Round(math.Min(*b.Share, 1) * gaugeWidth))
	}
	return g
}

// abChart draws each offer variant's conversion rate.
func abChart(ab insight.AB) barChart {
	ch := barChart{Title: "Conversion rate per offer variant", Width: chartWidth, Empty: len(ab.Variants) == 0}
	y := 8
	for _, v := range ab.Variants {
		rate := 0.0
		if v.Rate != nil {
			rate = *v.Rate
		}
		w := int(math.Round(rate * chartBarMax))
		if rate > 0 {
			w = max(w, 2)
		}
		ch.Rows = append(ch.Rows, chartRow{Label: v.Name, LabelY: y + barHeight - 3, Bars: []chartBar{{Y: y, W: w, H: barHeight,
			TextX: chartBarX + w + 6, TextY: y + barHeight - 3, Class: "s2",
			Text: fmt.Sprintf("%s (%d of %d%s)", pct(v.Rate), v.Conversions, v.Referrals, rateInterval(v))}}})
		y += barHeight + 10
	}
	ch.Height = y
	return ch
}

// rateInterval is an arm's 95% interval in words ("; 95%: 0–30%"), empty
// without referrals.
func rateInterval(v insight.Variant) string {
	if v.RateLow == nil || v.RateHigh == nil {
		return ""
	}
	return "; 95%: " + strings.TrimSuffix(pct(v.RateLow), "%") + "–" + pct(v.RateHigh)
}

// boardRow is a leaderboard line as shown: the crew by its name.
type boardRow struct {
	crew.Standing
	Crew  string
	Bonus string
}

func boardOf(b crew.Leaderboard, crews map[string]string, currency string) []boardRow {
	out := make([]boardRow, 0, len(b.Members))
	for _, m := range b.Members {
		name := crews[m.CrewID]
		if name == "" {
			name = "—"
		}
		out = append(out, boardRow{Standing: m, Crew: name, Bonus: Money(m.YearBonusCents, currency)})
	}
	return out
}

// goalRow is a milestone with its progress bar.
type goalRow struct {
	Name, Metric, Reward, PeriodKey string
	Progress, Target                int64
	Pct                             int
	Reached                         bool
}

func goalOf(g crew.Progress) goalRow {
	r := goalRow{Name: g.Name, Metric: g.Metric, Reward: g.Reward, PeriodKey: g.Current.Key, Progress: g.Progress,
		Target: g.Target, Reached: g.Reached}
	if g.Target > 0 {
		r.Pct = int(min(100, g.Progress*100/g.Target))
	}
	if g.Reached {
		r.Pct = 100
	}
	return r
}
