// Package demo loads a realistic demo tenant: Greenway Lawn & Landscape, a
// landscaping company in Portland, Oregon, with four crews, 160 customers in
// real neighbourhoods (many of them in clusters of neighbours a few blocks
// apart), thirteen weeks of past and four weeks of upcoming visits, an
// invoice for every completed visit, and the referral program's story over
// those thirteen weeks: referrals through every channel under two offers,
// friends who join and convert, neighbours serviced the same day, rewards,
// the budget, ratings (history.go, story.go).
//
// Seed is idempotent: every object has a fixed external id (or, for a
// referral, a fixed referrer and friend) and is written through the
// services, and objects already stored as generated are not written again.
// Loading the demo again weeks later continues the story: the new days'
// visits, referrals, friends and ratings, and invoices moving on in their
// life (draft → issued → paid); it never changes an issued invoice.
package demo

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/routeloop/routeloop/geo"
	"github.com/routeloop/routeloop/internal/app"
	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/insight"
	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/ledger"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/tenant"
	"github.com/routeloop/routeloop/internal/user"
)

// The demo tenant.
const (
	TenantName = "Greenway Lawn & Landscape (demo)"
	Timezone   = "America/Los_Angeles"
	Currency   = "USD"
	// DemoAPIKey is the demo tenant's well-known admin key, so the README's
	// curl examples work. Anyone can read it: never load the demo into a
	// database that holds real tenants' data.
	DemoAPIKey = "rl_demo_greenway_admin_key_not_for_production"
	// DemoPassword is the password of the demo's staff logins (Logins), as
	// public as DemoAPIKey.
	DemoPassword = "greenway-demo-password"
)

// Login is a staff login the demo keeps in place, for the pages.
type Login struct {
	Email, Role, Password string
	// CrewMember is the external id of the crew member a crew login acts as.
	CrewMember string
}

// Logins are the demo's staff logins: a dispatcher, a crew member of the
// North Crew and an administrator, all with DemoPassword.
var Logins = []Login{
	{Email: "dispatcher@greenway.example", Role: tenant.RoleDispatcher, Password: DemoPassword},
	{Email: "marisol@greenway.example", Role: tenant.RoleCrew, Password: DemoPassword, CrewMember: "crew-north-member-1"},
	{Email: "admin@greenway.example", Role: tenant.RoleAdmin, Password: DemoPassword},
}

// Counts is how many objects of each kind.
type Counts struct {
	Customers, Crews, Visits, Invoices, Referrals, Ratings int
}

// Result says what Seed loaded.
type Result struct {
	TenantID   string
	TenantName string
	APIKey     string
	// Logins are the staff logins for the pages.
	Logins []Login
	// Created is true when this run created the tenant, false when it topped
	// up an existing one.
	Created bool
	// Today is the tenant-local date the data was built around; visits run
	// From..To (inclusive).
	Today, From, To localdate.Date
	// Total is the demo data set for this window; Added and Updated are what
	// this run wrote (everything else was already stored as generated).
	Total, Added, Updated Counts
	// Links are the neighbour links the demo makes between customers of
	// old (friends living near their referrer are linked by the program).
	Links int
	// History is the program's KPIs from the first day of the story to
	// yesterday, LastMonth those of the last full tenant-local month: what
	// an owner sees on the first run.
	History, LastMonth insight.KPIs
	// SampleInvoiceToken opens a draft invoice page with a same-day
	// discount (/i/{token}); SampleCode a customer's landing page (/r/{code}).
	SampleInvoiceToken, SampleCode string
}

// Summary is a few lines for the terminal: what the demo holds and
// whether the program paid last month.
func (r Result) Summary() string {
	t := r.Total
	data := fmt.Sprintf("%d customers, %d crews, %d visits (%s to %s), %d invoices, %d neighbour links, %d referrals, %d ratings",
		t.Customers, t.Crews, t.Visits, r.From, r.To, t.Invoices, r.Links, t.Referrals, t.Ratings)
	var head string
	if r.Created {
		head = fmt.Sprintf("demo tenant %q (%s) created: %s", r.TenantName, r.TenantID, data)
	} else {
		a, u := r.Added, r.Updated
		head = fmt.Sprintf("demo tenant %q (%s) topped up: %s; added %d customers, %d crews, %d visits, %d invoices, %d referrals, %d ratings; updated %d visits, %d invoices",
			r.TenantName, r.TenantID, data, a.Customers, a.Crews, a.Visits, a.Invoices, a.Referrals, a.Ratings, u.Visits, u.Invoices)
	}
	return head + "\n" + story("since "+r.History.From.String(), r.History.Total) + "\n" + story("last month ("+r.LastMonth.From.String()+" to "+r.LastMonth.To.String()+")", r.LastMonth.Total)
}

// story is one period's answer to "did the program pay?".
func story(period string, k insight.Row) string {
	verdict := "the program paid"
	if k.NetCents < 0 {
		verdict = "the program did not pay"
	}
	km := 0.0
	if k.KmSaved != nil {
		km = *k.KmSaved
	}
	roi := ""
	if k.ROI != nil {
		roi = fmt.Sprintf(", ROI %.2f", *k.ROI)
	}
	usd := func(c int64) string {
		if c < 0 {
			return "-$" + ledger.Cents(-c)
		}
		return "$" + ledger.Cents(c)
	}
	return fmt.Sprintf("  %s: %d referrals, %d friends became customers; cost %s, contribution %s, route savings %s (%.0f km); net %s%s: %s",
		period, k.Referrals, k.Acquired, usd(k.CostCents), usd(k.ContributionCents), usd(deref(k.RouteSavingsCents)), km,
		usd(k.NetCents), roi, verdict)
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// Seed loads the demo tenant, creating it when no tenant has its name, and
// brings its data up to date with today.
func Seed(ctx context.Context, a *app.App) (Result, error) {
	t, created, err := ensureTenant(ctx, a)
	if err != nil {
		return Result{}, err
	}
	loc := t.Location()
	// The story starts weeksBack weeks before the demo tenant was made, on
	// every run: a later run continues it.
	ds := build(localdate.In(a.Clock.Now(), loc), localdate.In(t.CreatedAt, loc).AddDays(-7*weeksBack), loc)
	res := Result{
		TenantID: t.ID, TenantName: t.Name, APIKey: DemoAPIKey, Logins: Logins, Created: created,
		Today: ds.today, From: ds.from, To: ds.to,
		Total: Counts{Customers: len(ds.customers), Crews: len(crews), Visits: len(ds.visits), Invoices: len(ds.invoices),
			Referrals: len(ds.referrals), Ratings: len(ds.ratings)},
	}
	// The history is written by an app over the same store whose clock
	// the demo moves through the past days; what comes after today by the
	// real one.
	cfg := a.Config
	cfg.Metrics = false
	clk := clock.NewFixed(ds.from.AddDays(-1).Start(loc).Add(8 * time.Hour))
	past := writer{a: app.Wire(cfg, a.Store, clk, a.Log), clk: clk, t: t, res: &res}
	steps := []func(context.Context, dataset) error{past.crews, past.logins, past.program, past.scripts, past.customers, past.neighbours, past.history}
	for _, step := range steps {
		if err := step(ctx, ds); err != nil {
			return res, err
		}
	}
	now := writer{a: a, t: t, res: &res}
	if err := now.visits(ctx, ds); err != nil {
		return res, err
	}
	yesterday := ds.today.AddDays(-1)
	if res.History, err = a.Insights.KPIs(ctx, t.ID, insight.KPIQuery{Range: insight.Range{From: &ds.anchor, To: &yesterday}}); err != nil {
		return res, err
	}
	first := localdate.Date{Year: ds.today.Year, Month: ds.today.Month, Day: 1}
	lastFrom, lastTo := first.AddDays(-1), first.AddDays(-1)
	lastFrom.Day = 1
	if res.LastMonth, err = a.Insights.KPIs(ctx, t.ID, insight.KPIQuery{Range: insight.Range{From: &lastFrom, To: &lastTo}}); err != nil {
		return res, err
	}
	db := a.Store.DB.WithContext(ctx)
	db.Raw(`SELECT public_token FROM invoices WHERE tenant_id = ? AND status = 'draft' AND discount_cents > 0 ORDER BY id LIMIT 1`, t.ID).Scan(&res.SampleInvoiceToken)
	db.Raw(`SELECT referral_code FROM customers WHERE tenant_id = ? ORDER BY id LIMIT 1`, t.ID).Scan(&res.SampleCode)
	return res, nil
}

// ensureTenant finds the demo tenant by name or creates it, and makes sure
// the well-known key acts for it.
func ensureTenant(ctx context.Context, a *app.App) (tenant.Tenant, bool, error) {
	t, found, err := a.Tenants.FindByName(ctx, TenantName)
	if err != nil {
		return t, false, err
	}
	if !found {
		// Create also issues a random admin key; the demo uses its own.
		if t, _, err = a.Tenants.Create(ctx, tenant.NewTenant{Name: TenantName, Timezone: Timezone, Currency: Currency}); err != nil {
			return t, false, fmt.Errorf("create demo tenant: %w", err)
		}
	}
	// ImportKey refuses a key stored for another tenant or role, or revoked.
	if err := a.Tenants.ImportKey(ctx, t.ID, tenant.RoleAdmin, DemoAPIKey); err != nil {
		return t, false, fmt.Errorf("the demo API key cannot open the demo tenant %s: %w", t.ID, err)
	}
	return t, !found, nil
}

// writer puts the data set through the services.
type writer struct {
	a   *app.App
	clk *clock.Fixed // the clock of a, when it writes the past
	t   tenant.Tenant
	res *Result
	mu  sync.Mutex // guards res while workers write
}

func (w *writer) count(up store.Upserted, added, updated *int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if up == store.Created {
		*added++
	} else {
		*updated++
	}
}

func (w *writer) crews(ctx context.Context, _ dataset) error {
	stored, err := readAll(func(p store.Page) ([]mirror.Crew, string, error) { return w.a.Mirror.Crews(ctx, w.t.ID, p) }, func(c mirror.Crew) (string, int64) { return c.ExternalID, c.ID })
	if err != nil {
		return err
	}
	for _, cr := range crews {
		in := crewInput(cr)
		if old, ok := stored[cr.id]; ok && sameCrew(old, in) {
			continue
		}
		_, up, err := w.a.Mirror.PutCrew(ctx, w.t.ID, cr.id, in)
		if err != nil {
			return err
		}
		w.count(up, &w.res.Added.Crews, &w.res.Updated.Crews)
	}
	return nil
}

// logins keeps the demo's staff logins in place (after the crews: a crew
// login acts as a crew member). A login stored with another role or
// password, or disabled, stops the demo rather than being changed.
func (w *writer) logins(ctx context.Context, _ dataset) error {
	for _, l := range Logins {
		_, err := w.a.Users.Ensure(ctx, w.t.ID, user.NewUser{Email: l.Email, Role: l.Role, Password: l.Password, CrewMember: l.CrewMember})
		if err != nil {
			return fmt.Errorf("demo login %s: %w", l.Email, err)
		}
	}
	return nil
}

func crewInput(cr crewSpec) mirror.CrewInput {
	lat, lon := cr.depot.Lat, cr.depot.Lon
	in := mirror.CrewInput{Name: cr.name + " (" + cr.yard + ")", DepotLat: &lat, DepotLon: &lon}
	for i, m := range cr.members {
		in.Members = append(in.Members, mirror.MemberInput{
			ExternalID: fmt.Sprintf("%s-member-%d", cr.id, i+1),
			Name:       m[0],
			Email:      m[1] + "@greenway-lawn.example.com",
		})
	}
	return in
}

func sameCrew(c mirror.Crew, in mirror.CrewInput) bool {
	if c.Name != in.Name || c.DepotLat != *in.DepotLat || c.DepotLon != *in.DepotLon || len(c.Members) != len(in.Members) {
		return false
	}
	for i, m := range in.Members {
		o := c.Members[i]
		if o.ExternalID != m.ExternalID || o.Name != m.Name || o.Email != m.Email {
			return false
		}
	}
	return true
}

func (w *writer) customers(ctx context.Context, ds dataset) error {
	stored, err := readAll(func(p store.Page) ([]mirror.Customer, string, error) {
		return w.a.Mirror.Customers(ctx, w.t.ID, mirror.CustomerFilter{}, p)
	}, func(c mirror.Customer) (string, int64) { return c.ExternalID, c.ID })
	if err != nil {
		return err
	}
	return parallel(ctx, 1, ds.base, func(ctx context.Context, i int) error {
		c := ds.customers[i]
		if old, ok := stored[c.id]; ok && sameCustomer(old, c.input) {
			return nil
		}
		_, up, err := w.a.Mirror.PutCustomer(ctx, w.t.ID, c.id, c.input)
		if err != nil {
			return err
		}
		w.count(up, &w.res.Added.Customers, &w.res.Updated.Customers)
		return nil
	})
}

func sameCustomer(c mirror.Customer, in mirror.CustomerInput) bool {
	p, ok := c.Location()
	return ok && c.Name == in.Name && c.Email == in.Email && c.Phone == in.Phone && c.Address == in.Address &&
		p == (geo.Point{Lat: *in.Lat, Lon: *in.Lon}) && c.ConsentSameDay == in.ConsentSameDay
}

// visits writes the upcoming visits, today on (history wrote the past):
// only those are read back to compare.
func (w *writer) visits(ctx context.Context, ds dataset) error {
	f := mirror.VisitFilter{From: ds.today, To: ds.to}
	stored, err := readAll(func(p store.Page) ([]mirror.Visit, string, error) { return w.a.Mirror.Visits(ctx, w.t.ID, f, p) }, func(v mirror.Visit) (string, int64) { return v.ExternalID, v.ID })
	if err != nil {
		return err
	}
	loc := w.t.Location()
	var upcoming []visitSpec
	for _, v := range ds.visits {
		if !v.date.Before(ds.today) {
			upcoming = append(upcoming, v)
		}
	}
	return parallel(ctx, writers, len(upcoming), func(ctx context.Context, i int) error {
		v := upcoming[i]
		if old, ok := stored[v.id]; ok && sameVisit(old, v) {
			return nil
		}
		_, up, err := w.a.Mirror.PutVisit(ctx, w.t.ID, loc, v.id, visitInput(v))
		if err != nil {
			return err
		}
		w.count(up, &w.res.Added.Visits, &w.res.Updated.Visits)
		return nil
	})
}

func visitInput(v visitSpec) mirror.VisitInput {
	crew, start := v.crew, v.start.Format(time.RFC3339)
	pos, minutes := v.position, v.customer.minutes
	return mirror.VisitInput{
		CustomerID:    v.customer.id,
		CrewID:        &crew,
		ServiceDate:   v.date.String(),
		StartAt:       &start,
		RoutePosition: &pos,
		DurationMin:   &minutes,
		Status:        v.status,
		PriceCents:    v.customer.price,
	}
}

func sameVisit(o mirror.Visit, v visitSpec) bool {
	return o.CustomerExternalID == v.customer.id && o.CrewExternalID != nil && *o.CrewExternalID == v.crew &&
		o.ServiceDate == v.date && o.StartAt != nil && o.StartAt.Equal(v.start) &&
		o.RoutePosition != nil && *o.RoutePosition == v.position &&
		o.DurationMin != nil && *o.DurationMin == v.customer.minutes &&
		o.Status == v.status && o.PriceCents == v.customer.price
}

func sameLines(old invoice.Invoice, in invoice.Input) bool {
	if old.CustomerExternalID != in.CustomerID {
		return false
	}
	var service []invoice.Line
	for _, l := range old.Lines {
		if l.Kind == invoice.KindService {
			service = append(service, l)
		}
	}
	return slices.EqualFunc(service, in.Lines, func(a invoice.Line, b invoice.LineInput) bool {
		return a.Description == b.Description && a.AmountCents == b.AmountCents &&
			(a.VisitExternalID == nil) == (b.VisitID == nil) &&
			(a.VisitExternalID == nil || *a.VisitExternalID == *b.VisitID)
	})
}

// writers is how many visit and invoice writes run at once. SQLite takes one
// writer at a time anyway (its busy timeout queues the rest); Postgres loads
// the demo about three times faster with 8 than with 1. Customers are written
// one at a time so their internal ids, and so every list, follow cust-0001,
// cust-0002, ...
const writers = 8

// parallel runs fn for 0..n-1 on workers goroutines and returns the first
// error; after an error no new work starts.
func parallel(parent context.Context, workers, n int, fn func(context.Context, int) error) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	next := make(chan int)
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(ctx, i); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		}()
	}
feed:
	for i := 0; i < n; i++ {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if first == nil {
		first = parent.Err()
	}
	return first
}

// readAll reads every page of a list into a map by external id.
func readAll[T any](list func(store.Page) ([]T, string, error), key func(T) (string, int64)) (map[string]T, error) {
	out := map[string]T{}
	for p := (store.Page{Limit: store.MaxLimit}); ; {
		items, _, err := list(p)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			k, _ := key(it)
			out[k] = it
		}
		if len(items) < p.Limit {
			return out, nil
		}
		_, p.After = key(items[len(items)-1])
	}
}
