package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/routeloop/routeloop/internal/app"
	"github.com/routeloop/routeloop/internal/ledger"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/tenant"
)

// cmdReconcile works out again the money of tenant-local days by hand — one
// day (--date) or a range (--from, --to) — for one tenant or all, under the
// same lock as the nightly job, with a progress bar on a terminal.
func cmdReconcile(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sf := newFlags("reconcile", stdout, stderr, "data_dir", "database_url")
	date := sf.fs.String("date", "", "tenant-local day to reconcile, YYYY-MM-DD")
	fromFlag := sf.fs.String("from", "", "first tenant-local day of a range, YYYY-MM-DD")
	toFlag := sf.fs.String("to", "", "last tenant-local day of a range, YYYY-MM-DD (default: --from)")
	only := sf.fs.String("tenant", "", "tenant id (default: every tenant)")
	if err := sf.parse(args); err != nil {
		return err
	}
	from, to, err := reconcileDays(*date, *fromFlag, *toFlag)
	if err != nil {
		return err
	}
	cfg, err := sf.load()
	if err != nil {
		return err
	}
	log, flush := app.NewLogger(cfg, stderr)
	defer flush()
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	var ts []tenant.Tenant
	if *only != "" {
		t, err := a.Tenants.Get(ctx, *only)
		if err != nil {
			return err
		}
		ts = []tenant.Tenant{t}
	} else if ts, err = a.Tenants.List(ctx); err != nil {
		return err
	}
	var failed error
	for _, t := range ts {
		// Conversions an outage kept from happening come first: their
		// rewards land on the drafts the days' reconciliation re-fills.
		n, err := a.Referrals.Sweep(ctx, t.ID)
		if err != nil {
			failed = errors.Join(failed, fmt.Errorf("tenant %s: %w", t.ID, err))
		} else if n > 0 {
			fmt.Fprintf(stdout, "%s: %d pending referrals settled\n", t.ID, n)
		}
		bar := newProgress(stderr, "reconcile "+t.Name, "days")
		res, ran, err := a.Ledger.ReconcileRange(ctx, t.ID, from, to, bar.update)
		bar.finish()
		switch {
		case err != nil:
			failed = errors.Join(failed, fmt.Errorf("tenant %s: %w", t.ID, err))
		case !ran:
			fmt.Fprintf(stdout, "%s: already being reconciled by another process\n", t.ID)
		}
		for _, r := range res {
			fmt.Fprintf(stdout, "%s %s: %d visits, %d customers, %d invoices checked", t.ID, r.Day, r.Visits, r.Customers, r.Invoices)
			if len(r.Errors) > 0 {
				fmt.Fprintf(stdout, ", %d not settled:", len(r.Errors))
				for _, e := range r.Errors {
					fmt.Fprintf(stdout, " %s (%s)", e.CustomerID, e.Reason)
				}
				failed = errors.Join(failed, fmt.Errorf("tenant %s %s: %d customers not settled", t.ID, r.Day, len(r.Errors)))
			}
			fmt.Fprintln(stdout)
		}
	}
	return failed
}

// reconcileDays reads --date or --from/--to.
func reconcileDays(date, from, to string) (localdate.Date, localdate.Date, error) {
	if date != "" {
		if from != "" || to != "" {
			return localdate.Date{}, localdate.Date{}, errors.New("give either --date or --from and --to")
		}
		d, err := localdate.Parse(date)
		if err != nil {
			return d, d, fmt.Errorf("--date: %w", err)
		}
		return d, d, nil
	}
	if from == "" {
		return localdate.Date{}, localdate.Date{}, errors.New("--date or --from is required")
	}
	f, err := localdate.Parse(from)
	if err != nil {
		return f, f, fmt.Errorf("--from: %w", err)
	}
	t := f
	if to != "" {
		if t, err = localdate.Parse(to); err != nil {
			return f, t, fmt.Errorf("--to: %w", err)
		}
	}
	if t.Before(f) {
		return f, t, errors.New("--to must not be before --from")
	}
	if f.AddDays(ledger.MaxRangeDays).Before(t) {
		return f, t, fmt.Errorf("a range spans at most %d days", ledger.MaxRangeDays)
	}
	return f, t, nil
}
