// Package jobs runs routeloop's scheduled work with robfig/cron: the nightly
// reconciliation of the money ledger (catching up every day missed or
// changed since the last run), the hourly release of rewards held for
// the budget, the hourly refresh of the owner's KPI day rollup and the
// clean-up of old inbound webhook ids. Every job is safe on many replicas:
// a named lock (Postgres advisory lock) lets one of them do each piece.
package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/ledger"
	"github.com/routeloop/routeloop/internal/localdate"
	"github.com/routeloop/routeloop/internal/metrics"
	"github.com/routeloop/routeloop/internal/referral"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/tenant"
)

// Runner owns the schedule.
type Runner struct {
	store     *store.Store
	tenants   *tenant.Service
	ledger    *ledger.Service
	referrals *referral.Service
	inbox     InboxCleaner
	kpis      KPIRefresher
	clock     clock.Clock
	log       *slog.Logger
	// hour is the tenant-local hour at which the previous day is reconciled.
	hour    int
	cron    *cron.Cron
	metrics *metrics.Metrics
}

// New returns a runner that reconciles each tenant's previous day at the
// given tenant-local hour.
func New(s *store.Store, t *tenant.Service, l *ledger.Service, r *referral.Service, c clock.Clock, log *slog.Logger, hour int) *Runner {
	return &Runner{store: s, tenants: t, ledger: l, referrals: r, clock: c, log: log, hour: hour}
}

// InboxCleaner forgets inbound webhook ids older than it must keep.
type InboxCleaner interface {
	CleanInbox(ctx context.Context, now time.Time) (int64, error)
}

// CleanInboxWith makes the runner clear old inbound webhook ids hourly.
func (r *Runner) CleanInboxWith(c InboxCleaner) { r.inbox = c }

// KPIRefresher brings a tenant's KPI day rollup up to date.
type KPIRefresher interface {
	Refresh(ctx context.Context, tenantID string) error
}

// RefreshKPIsWith makes the runner bring every tenant's KPI rollup up to
// date hourly, so an owner's first look at the KPIs does not wait for it.
func (r *Runner) RefreshKPIsWith(k KPIRefresher) { r.kpis = k }

// Measure counts the runner's reconciliations and the last success of each
// job (reconcile, release_held, clean_inbox) in m.
func (r *Runner) Measure(m *metrics.Metrics) { r.metrics = m }

// Start begins the schedule: at five past every hour, the tenants for whom
// it is now the reconcile hour get their yesterday reconciled.
func (r *Runner) Start(ctx context.Context) error {
	r.cron = cron.New(cron.WithLocation(time.UTC))
	if _, err := r.cron.AddFunc("5 * * * *", func() { r.Tick(ctx) }); err != nil {
		return fmt.Errorf("schedule reconciliation: %w", err)
	}
	r.cron.Start()
	return nil
}

// Stop ends the schedule and waits for a running job.
func (r *Runner) Stop() {
	if r.cron != nil {
		<-r.cron.Stop().Done()
	}
}

// Tick reconciles, for every tenant whose local hour is now the reconcile
// hour, every day since its last successful run (and the days changed since
// then), and returns what it did.
func (r *Runner) Tick(ctx context.Context) []ledger.ReconcileResult {
	ts, err := r.tenants.List(ctx)
	if err != nil {
		r.log.Error("reconcile: list tenants", "error", err)
		return nil
	}
	now := r.clock.Now()
	if r.inbox != nil {
		if ran, err := r.store.TryLock(ctx, "routeloop.inbox", func() error {
			_, err := r.inbox.CleanInbox(ctx, now)
			return err
		}); err != nil {
			r.log.Error("clean webhook inbox", "error", err)
		} else if ran {
			r.metrics.JobSucceeded("clean_inbox", now)
		}
	}
	var done []ledger.ReconcileResult
	released := true
	for _, t := range ts {
		// Every hour: rewards whose hold has passed are admitted, and
		// rewards held for the budget go out when a new month (or a raised
		// budget) makes room.
		if _, err := r.releaseHeld(ctx, t.ID); err != nil {
			r.log.Error("release held rewards", "tenant_id", t.ID, "error", err)
			released = false
		}
		if r.kpis != nil {
			if err := r.kpis.Refresh(ctx, t.ID); err != nil {
				r.log.Error("refresh kpi rollup", "tenant_id", t.ID, "error", err)
			}
		}
		local := now.In(t.Location())
		if local.Hour() != r.hour {
			continue
		}
		// Conversions an outage kept from happening, before the days are
		// reconciled (their rewards land on the drafts refreshed below).
		if n, err := r.referrals.Sweep(ctx, t.ID); err != nil {
			r.log.Error("settle pending referrals", "tenant_id", t.ID, "error", err)
		} else if n > 0 {
			r.log.Info("settled pending referrals", "tenant_id", t.ID, "referrals", n)
		}
		res, ran, err := r.ledger.CatchUp(ctx, t.ID, localdate.Of(local).AddDays(-1))
		r.metrics.Reconciled(ran, err, res)
		switch {
		case err != nil:
			r.log.Error("reconcile failed", "tenant_id", t.ID, "error", err)
		case ran:
			r.metrics.JobSucceeded("reconcile", now)
			for _, d := range res {
				r.log.Info("reconciled", "tenant_id", t.ID, "day", d.Day.String(), "visits", d.Visits, "customers", d.Customers, "errors", len(d.Errors))
				for _, e := range d.Errors {
					r.log.Error("reconcile: customer not settled", "tenant_id", t.ID, "day", d.Day.String(), "customer_id", e.CustomerID, "reason", e.Reason)
				}
			}
			done = append(done, res...)
		}
	}
	if released {
		r.metrics.JobSucceeded("release_held", now)
	}
	return done
}

func (r *Runner) releaseHeld(ctx context.Context, tenantID string) (int, error) {
	ran := 0
	_, err := r.store.TryLock(ctx, "routeloop.budget."+tenantID, func() error {
		n, err := r.referrals.ReleaseBudget(ctx, tenantID)
		ran = n
		return err
	})
	return ran, err
}
