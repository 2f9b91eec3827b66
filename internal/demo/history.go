package demo

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/routeloop/routeloop/internal/crew"
	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/referral"
	"github.com/routeloop/routeloop/internal/store"
)

// The history is written day by day through an app whose clock the demo
// sets to that day, so every fact carries the time it would have in
// production (a referral's created_at, a conversion, a reward, an issued
// invoice, a rating) and the program's rules — conversions, rewards and
// their holds, the monthly budget, neighbour links, sync discounts — act on
// them exactly as they would have.

// program sets the demo's program: two offers under test, a week's hold
// on rewards, a monthly budget; the rest the defaults.
func (w *writer) program(ctx context.Context, _ dataset) error {
	cur, err := w.a.Programs.Get(ctx, w.t.ID)
	if err != nil {
		return err
	}
	offers := []program.Offer{
		program.StandardOffer,
		{Name: offerWelcome,
			Referee:  program.Reward{Kind: program.RewardFixedCredit, AmountCents: welcomeCreditCents},
			Referrer: program.Reward{Kind: program.RewardPercentNextInvoice, Bps: standardRewardBps}},
	}
	hold, budget := rewardHoldDays, int64(monthlyBudgetCents)
	if cur.RewardHoldDays == hold && cur.MonthlyBudgetCents == budget && slices.EqualFunc(cur.Offers, offers,
		func(a, b program.Offer) bool {
			return a.Name == b.Name && a.Referee == b.Referee && a.Referrer == b.Referrer
		}) {
		return nil
	}
	_, err = w.a.Neighbors.UpdateProgram(ctx, w.t.ID, program.Input{Offers: &offers, RewardHoldDays: &hold, MonthlyBudgetCents: &budget})
	return err
}

// history replays the days from the start of the window to yesterday.
// Days already replayed by an earlier run (up to the last completed visit
// stored) only get what is missing; later days get their whole story.
func (w *writer) history(ctx context.Context, ds dataset) error {
	loc := w.t.Location()
	visits, err := readAll(func(p store.Page) ([]mirror.Visit, string, error) {
		return w.a.Mirror.Visits(ctx, w.t.ID, mirror.VisitFilter{From: ds.from, To: ds.to}, p)
	}, func(v mirror.Visit) (string, int64) { return v.ExternalID, v.ID })
	if err != nil {
		return err
	}
	lastDone := ds.from.AddDays(-1)
	for _, v := range visits {
		if v.Status != mirror.VisitScheduled && v.ServiceDate.After(lastDone) {
			lastDone = v.ServiceDate
		}
	}
	invoices, err := readAll(func(p store.Page) ([]invoice.Invoice, string, error) {
		return w.a.Invoices.List(ctx, w.t.ID, invoice.Filter{}, p)
	}, func(i invoice.Invoice) (string, int64) { return i.ExternalID, i.ID })
	if err != nil {
		return err
	}
	customers, err := readAll(func(p store.Page) ([]mirror.Customer, string, error) {
		return w.a.Mirror.Customers(ctx, w.t.ID, mirror.CustomerFilter{}, p)
	}, func(c mirror.Customer) (string, int64) { return c.ExternalID, c.ID })
	if err != nil {
		return err
	}
	state := map[string]string{}
	for id, inv := range invoices {
		state[id] = inv.Status
	}

	day := func(d localdate.Date) string { return d.String() }
	visitsOn, invoicesOn := map[string][]*visitSpec{}, map[string][]*invoiceSpec{}
	for i := range ds.visits {
		visitsOn[day(ds.visits[i].date)] = append(visitsOn[day(ds.visits[i].date)], &ds.visits[i])
	}
	for i := range ds.invoices {
		d := day(ds.invoices[i].visit.date)
		invoicesOn[d] = append(invoicesOn[d], &ds.invoices[i])
	}
	referralsOn, friendsOn := map[string][]*referralSpec{}, map[string][]*customerSpec{}
	for i := range ds.referrals {
		r := &ds.referrals[i]
		referralsOn[day(r.day)] = append(referralsOn[day(r.day)], r)
		if r.friend >= 0 {
			friendsOn[day(r.mirror)] = append(friendsOn[day(r.mirror)], &ds.customers[r.friend])
		}
	}
	ratingsOn, resolvedOn := map[string][]*ratingSpec{}, map[string][]*ratingSpec{}
	for i := range ds.ratings {
		r := &ds.ratings[i]
		ratingsOn[day(r.day)] = append(ratingsOn[day(r.day)], r)
		if r.resolveOn != nil {
			resolvedOn[day(*r.resolveOn)] = append(resolvedOn[day(*r.resolveOn)], r)
		}
	}

	for d := ds.from; d.Before(ds.today); d = d.AddDays(1) {
		fresh := d.After(lastDone)
		at := func(h, m int) { w.clk.Set(time.Date(d.Year, d.Month, d.Day, h, m, 0, 0, loc)) }
		if fresh {
			// The nightly job (reconcile_hour): conversions an outage kept
			// from happening, then yesterday's money worked out again.
			at(w.a.Config.ReconcileHour, 0)
			if _, err := w.a.Referrals.Sweep(ctx, w.t.ID); err != nil {
				return fmt.Errorf("settle referrals on %s: %w", d, err)
			}
			if _, _, err := w.a.Ledger.CatchUp(ctx, w.t.ID, d.AddDays(-1)); err != nil {
				return fmt.Errorf("reconcile on %s: %w", d, err)
			}
			// The hourly job: holds that have passed, budget that frees up.
			at(7, 0)
			if _, err := w.a.Referrals.ReleaseBudget(ctx, w.t.ID); err != nil {
				return fmt.Errorf("release rewards on %s: %w", d, err)
			}
		}
		at(9, 0)
		for _, r := range referralsOn[day(d)] {
			if r.channel == referral.ChannelCrewPitch {
				continue // at the end of the job, below
			}
			if err := w.referral(ctx, ds, customers, r); err != nil {
				return err
			}
		}
		at(10, 0)
		for _, c := range friendsOn[day(d)] {
			if old, ok := customers[c.id]; ok && sameCustomer(old, c.input) {
				continue
			}
			stored, up, err := w.a.Mirror.PutCustomer(ctx, w.t.ID, c.id, c.input)
			if err != nil {
				return fmt.Errorf("friend %s: %w", c.id, err)
			}
			customers[c.id] = stored
			w.count(up, &w.res.Added.Customers, &w.res.Updated.Customers)
		}
		// Invoices of earlier visits are issued after a week and paid
		// after two (a few late payers wait).
		var due []*invoiceSpec
		for back := 1; back <= issuedDays+2; back++ {
			due = append(due, invoicesOn[day(d.AddDays(-back))]...)
		}
		if err := w.invoicesOn(ctx, d, due, invoices, state); err != nil {
			return err
		}
		at(16, 0)
		// One at a time, in the day's order: the order of completions
		// decides which rewards fit the month's budget.
		for _, v := range visitsOn[day(d)] {
			if old, ok := visits[v.id]; ok && sameVisit(old, *v) {
				continue
			}
			_, up, err := w.a.Mirror.PutVisit(ctx, w.t.ID, loc, v.id, visitInput(*v))
			if err != nil {
				return err
			}
			w.count(up, &w.res.Added.Visits, &w.res.Updated.Visits)
		}
		at(16, 30)
		for _, r := range referralsOn[day(d)] {
			if r.channel != referral.ChannelCrewPitch {
				continue
			}
			if err := w.pitch(ctx, ds, customers, r); err != nil {
				return err
			}
		}
		at(17, 0)
		if err := w.invoicesOn(ctx, d, invoicesOn[day(d)], invoices, state); err != nil {
			return err
		}
		if !fresh {
			continue
		}
		at(20, 0)
		for _, r := range ratingsOn[day(d)] {
			if err := w.rate(ctx, r); err != nil {
				return err
			}
		}
		for _, r := range resolvedOn[day(d)] {
			if _, err := w.a.Crew.ResolveComplaint(ctx, w.t.ID, r.visit.id, "office@greenway.example",
				crew.ResolveInput{Note: r.resolutionNote}); err != nil {
				return fmt.Errorf("resolve the complaint on %s: %w", r.visit.id, err)
			}
		}
	}
	return nil
}

// statusOn is the state an invoice is in at the end of day d: a draft for
// the week after its visit, then issued, then (but for late payers) paid.
func statusOn(inv *invoiceSpec, d localdate.Date) string {
	age := inv.visit.date.DaysUntil(d) + 1
	switch {
	case age <= draftDays:
		return invoice.StatusDraft
	case age <= issuedDays, chance(inv.id, latePayerPercent):
		return invoice.StatusIssued
	}
	return invoice.StatusPaid
}

// invoicesOn moves the invoices on to the state they have at the end of d:
// created as drafts, issued, paid, one step at a time as in a real
// history. A draft stored with other lines is written again; an issued or
// paid invoice never changes. They are written one at a time, in order:
// which draft a reward lands on depends on it.
func (w *writer) invoicesOn(ctx context.Context, d localdate.Date, invs []*invoiceSpec, stored map[string]invoice.Invoice, state map[string]string) error {
	life := []string{invoice.StatusDraft, invoice.StatusIssued, invoice.StatusPaid}
	for _, inv := range invs {
		want := statusOn(inv, d)
		cur, ok := state[inv.id]
		from := 0
		if ok {
			from = slices.Index(life, cur) + 1
			if cur == invoice.StatusDraft {
				if old, had := stored[inv.id]; had && !sameLines(old, inv.input) {
					from = 0 // the draft is written again with the right lines
				}
			}
		}
		to := slices.Index(life, want)
		if from > to || ok && !slices.Contains(life, cur) {
			continue
		}
		steps := life[from : to+1]
		first := store.Updated
		for k, step := range steps {
			in := inv.input
			in.Status = step
			_, up, err := w.a.Invoices.Put(ctx, w.t.ID, w.t.Currency, inv.id, in)
			if err != nil {
				return err
			}
			if k == 0 {
				first = up
			}
		}
		w.count(first, &w.res.Added.Invoices, &w.res.Updated.Invoices)
		state[inv.id] = steps[len(steps)-1]
		delete(stored, inv.id)
	}
	return nil
}

// referral records one referral of the story through its channel.
func (w *writer) referral(ctx context.Context, ds dataset, customers map[string]mirror.Customer, r *referralSpec) error {
	ref := ds.customers[r.referrer]
	in := referral.Input{Channel: r.channel, Variant: r.variant,
		Referee: referral.RefereeInput{Name: r.name, Email: r.email, Phone: r.phone, Address: r.address, Lat: r.lat, Lon: r.lon}}
	switch r.channel {
	case referral.ChannelCrewPitch:
		in.ReferrerID, in.CrewMemberID = ref.id, r.crewMember
	case referral.ChannelNameOnly:
		in.ReferrerName, in.ReferrerStreet = ref.input.Name, ref.input.Address
	default:
		in.ReferrerCode = customers[ref.id].ReferralCode
	}
	_, up, err := w.a.Referrals.Create(ctx, w.t.ID, "demo", in)
	if err != nil {
		return fmt.Errorf("demo referral %s: %w", r.key, err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if up == store.Created {
		w.res.Added.Referrals++
	}
	return nil
}

// pitch records a friend given on site: the crew app sends the referral
// (channel crew_pitch, the member, the offer under test) and the member's
// pitch at the referrer's visit, which finds that referral and records the
// script read at that visit and the member's points.
func (w *writer) pitch(ctx context.Context, ds dataset, customers map[string]mirror.Customer, r *referralSpec) error {
	if err := w.referral(ctx, ds, customers, r); err != nil {
		return err
	}
	ref := &ds.customers[r.referrer]
	_, _, err := w.a.Crew.LogPitch(ctx, w.t.ID, "demo", crew.PitchInput{VisitID: visitID(ref, r.day), CrewMemberID: r.crewMember,
		Outcome: crew.OutcomeReferralGiven, Referee: &referral.RefereeInput{Name: r.name, Email: r.email, Phone: r.phone}})
	if err != nil {
		return fmt.Errorf("demo pitch %s: %w", r.key, err)
	}
	return nil
}

// scripts are the two end-of-job scripts the crews read, one or the other
// by visit, so the script test has two arms.
var scripts = []crew.ScriptInput{
	{Name: "happy-customer", Body: "Glad you're happy with today's work, {customer_first_name}. Tell your friends about us: " +
		"they get {friend_offer}, and you get {your_reward}. {neighbor_offer}"},
	{Name: "next-door", Body: "Thanks, {customer_first_name}! Know anyone on this street who'd like their yard done? " +
		"{neighbor_offer} They get {friend_offer}, you get {your_reward}."},
}

func (w *writer) scripts(ctx context.Context, _ dataset) error {
	stored, err := w.a.Crew.Scripts(ctx, w.t.ID)
	if err != nil {
		return err
	}
	have := map[string]string{}
	for _, s := range stored {
		if s.Active && !s.Builtin {
			have[s.Name] = s.Body
		}
	}
	for _, in := range scripts {
		if have[in.Name] == in.Body {
			continue
		}
		active := true
		in.Active = &active
		if _, _, err := w.a.Crew.PutScript(ctx, w.t.ID, in.Name, in); err != nil {
			return fmt.Errorf("demo script %s: %w", in.Name, err)
		}
	}
	return nil
}

// rate records a customer's rating; a complaint is recorded once (sent
// again it would be a new complaint).
func (w *writer) rate(ctx context.Context, r *ratingSpec) error {
	if r.complaint {
		if got, err := w.a.Crew.VisitRatings(ctx, w.t.ID, r.visit.id); err == nil && len(got.History) > 0 {
			return nil
		}
	}
	score := r.score
	_, up, err := w.a.Crew.Rate(ctx, w.t.ID, r.visit.id, crew.RatingInput{Score: &score, Comment: r.comment, Complaint: r.complaint})
	if err != nil {
		return fmt.Errorf("rate %s: %w", r.visit.id, err)
	}
	if up == store.Created {
		w.mu.Lock()
		w.res.Added.Ratings++
		w.mu.Unlock()
	}
	return nil
}
