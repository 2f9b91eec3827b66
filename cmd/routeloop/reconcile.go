package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/routeloop/routeloop/internal/app"
	"github.com/routeloop/routeloop/internal/jobs"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/tenant"
)

// cmdReconcile recomputes one tenant-local day's sync discounts by hand, for
// one tenant or all; the nightly job does the same for yesterday.
func cmdReconcile(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sf := newFlags("reconcile", stderr, "data_dir", "database_url")
	date := sf.fs.String("date", "", "tenant-local day to reconcile, YYYY-MM-DD (required)")
	only := sf.fs.String("tenant", "", "tenant id (default: every tenant)")
	if err := sf.fs.Parse(args); err != nil {
		return err
	}
	day, err := localdate.Parse(*date)
	if err != nil {
		return fmt.Errorf("--date: %w", err)
	}
	cfg, err := sf.load()
	if err != nil {
		return err
	}
	a, err := app.New(ctx, cfg, app.NewLogger(cfg, stderr))
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
		res, ran, err := jobs.Reconcile(ctx, a.Store, a.Neighbors, t.ID, day)
		switch {
		case err != nil:
			failed = errors.Join(failed, fmt.Errorf("tenant %s: %w", t.ID, err))
		case !ran:
			fmt.Fprintf(stdout, "%s %s: already being reconciled by another process\n", t.ID, day)
		default:
			fmt.Fprintf(stdout, "%s %s: %d visits, %d invoices checked\n", t.ID, day, res.Visits, res.Invoices)
		}
	}
	return failed
}
