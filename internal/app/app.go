// Package app wires routeloop together: configuration → store → services →
// HTTP, and runs the server until asked to stop.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/routeloop/routeloop/internal/crew"
	"github.com/routeloop/routeloop/internal/insight"

	"github.com/routeloop/routeloop/internal/dispatch"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/clock"
	"github.com/routeloop/routeloop/internal/config"
	"github.com/routeloop/routeloop/internal/geocode"
	"github.com/routeloop/routeloop/internal/httpapi"
	"github.com/routeloop/routeloop/internal/invoice"
	"github.com/routeloop/routeloop/internal/jobs"
	"github.com/routeloop/routeloop/internal/ledger"
	"github.com/routeloop/routeloop/internal/metrics"
	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/neighbor"
	"github.com/routeloop/routeloop/internal/outbox"
	"github.com/routeloop/routeloop/internal/program"
	"github.com/routeloop/routeloop/internal/referral"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/tenant"
	"github.com/routeloop/routeloop/internal/user"
	"github.com/routeloop/routeloop/internal/web"
	"github.com/routeloop/routeloop/internal/webhook"
)

// App is a running routeloop: its store, services and HTTP handler.
type App struct {
	Config    config.Config
	Log       *slog.Logger
	Clock     clock.Clock
	Store     *store.Store
	Tenants   *tenant.Service
	Mirror    *mirror.Service
	Invoices  *invoice.Service
	Programs  *program.Service
	Ledger    *ledger.Service
	Neighbors *neighbor.Service
	Referrals *referral.Service
	Jobs      *jobs.Runner
	Outbox    *outbox.Outbox
	Endpoints *outbox.Endpoints
	Deliverer *outbox.Worker
	Dispatch  *dispatch.Service
	Crew      *crew.Service
	Insights  *insight.Service
	Webhooks  *webhook.Service
	Users     *user.Service
	// Metrics is nil when the settings turn metrics off.
	Metrics *metrics.Metrics
	HTTP    *echo.Echo
}

// NewLogger builds the process logger from the settings, writing to w.
// Lines below Warn reach w within logFlushAfter, in batches (a request's
// log line is not a write of its own); warnings and errors at once. Call
// flush before the process ends.
func NewLogger(cfg config.Config, w io.Writer) (log *slog.Logger, flush func()) {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	bw := newLogWriter(w, logFlushAfter)
	var h slog.Handler = slog.NewTextHandler(bw, opts)
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(bw, opts)
	}
	return slog.New(flushing{h, bw}), func() { _ = bw.Flush() }
}

// logFlushAfter is the longest a logged line waits to be written out.
const logFlushAfter = 200 * time.Millisecond

// Open connects to the database named by cfg without migrating.
func Open(ctx context.Context, cfg config.Config) (*store.Store, error) {
	return store.Open(ctx, store.Options{DatabaseURL: cfg.DatabaseURL, DataDir: cfg.DataDir, MaxOpenConns: cfg.DBMaxConns})
}

// New opens the store (migrating it when the settings say so) and builds
// every service and the HTTP handler.
func New(ctx context.Context, cfg config.Config, log *slog.Logger) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s, err := Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if cfg.AutoMigrate {
		ran, err := s.Migrate(ctx)
		if err != nil {
			s.Close()
			return nil, err
		}
		if len(ran) > 0 {
			log.Info("migrated database", "dialect", s.Dialect, "applied", ran)
		}
		if n, err := mirror.BackfillCells(ctx, s); err != nil {
			s.Close()
			return nil, err
		} else if n > 0 {
			log.Info("located customers in cells", "customers", n)
		}
	}
	return Wire(cfg, s, clock.System{}, log), nil
}

// Wire builds the services and HTTP handler over an open store.
func Wire(cfg config.Config, s *store.Store, c clock.Clock, log *slog.Logger) *App {
	a := &App{Config: cfg, Log: log, Clock: c, Store: s}
	a.Tenants = tenant.NewService(s, c)
	a.Tenants.CacheKeys(cfg.AuthCacheTTL)
	a.Mirror = mirror.NewService(s, c, cfg.PublicURL())
	a.Outbox = outbox.New(s, c)
	a.Mirror.UseEvents(a.Outbox)
	a.Endpoints = outbox.NewEndpoints(s, a.Outbox, cfg.WebhooksAllowPrivate)
	a.Deliverer = outbox.NewWorker(s, c, log, cfg.WebhooksAllowPrivate)
	a.Ledger = ledger.NewService(s, c, a.Outbox)
	a.Ledger.UseBaseURL(cfg.PublicURL())
	a.Invoices = invoice.NewService(s, c)
	a.Invoices.UseBaseURL(cfg.PublicURL())
	a.Invoices.UseEvents(a.Outbox)
	a.Invoices.UseLedger(a.Ledger)
	a.Programs = program.NewService(s)
	a.Neighbors = neighbor.NewService(s, c, a.Ledger, a.Outbox)
	a.Neighbors.KeepNearbyCopies(cfg.NearbyCacheCustomers, log)
	a.Referrals = referral.NewService(s, c, a.Ledger, a.Neighbors, a.Outbox)
	if cfg.GeocoderURL != "" {
		// New has validated the setting; should it not parse, friends are
		// recorded as without a geocoder.
		gc, err := geocode.New(geocode.Options{URL: cfg.GeocoderURL, UserAgent: cfg.GeocoderUserAgent,
			Rate: cfg.GeocoderRate, Timeout: cfg.GeocoderTimeout, Log: log})
		if err != nil {
			log.Error("no geocoder", "error", err)
		} else {
			a.Referrals.UseGeocoder(gc)
		}
	}
	a.Invoices.OnStatusChange(a.Referrals.InvoiceChanged)
	a.Dispatch = dispatch.NewService(s, c, a.Outbox)
	a.Dispatch.OnVisitBooked(a.Mirror.VisitWritten)
	a.Crew = crew.NewService(s, c, a.Referrals, a.Outbox)
	a.Insights = insight.NewService(s, c)
	a.Mirror.OnVisitChange(a.Neighbors.VisitChanged)
	a.Mirror.OnVisitChange(a.Referrals.VisitChanged)
	a.Mirror.OnCustomerChange(a.Neighbors.CustomerChanged)
	a.Mirror.OnCustomerChange(a.Referrals.CustomerChanged)
	a.Neighbors.OnProgramChange(func(tx *gorm.DB, tenantID string) error {
		_, err := a.Referrals.ReleaseBudgetIn(tx, tenantID)
		return err
	})
	a.Webhooks = webhook.NewService(s, c, a.Mirror, a.Invoices)
	a.Webhooks.CacheSecrets(cfg.AuthCacheTTL)
	a.Jobs = jobs.New(s, a.Tenants, a.Ledger, a.Referrals, c, log, cfg.ReconcileHour)
	a.Jobs.CleanInboxWith(a.Webhooks)
	a.Jobs.RefreshKPIsWith(a.Insights)
	a.Users = user.NewService(s, c)
	if cfg.Metrics {
		a.Metrics = metrics.New(a.Deliverer.Pending)
		a.Deliverer.OnAttempt = a.Metrics.Delivery
		a.Jobs.Measure(a.Metrics)
		a.Metrics.NearbyHeld(a.Neighbors.NearbyHeld)
	}
	pages := web.New(web.Deps{Referrals: a.Referrals, Users: a.Users, Tenants: a.Tenants, Mirror: a.Mirror, Invoices: a.Invoices,
		Programs: a.Programs, Neighbors: a.Neighbors, Dispatch: a.Dispatch, Crew: a.Crew, Insights: a.Insights, Clock: c})
	// New has validated them; settings that do not parse trust no one.
	trusted, _ := cfg.TrustedNets()
	a.HTTP = httpapi.New(httpapi.Deps{
		Tenants:            a.Tenants,
		Mirror:             a.Mirror,
		Invoices:           a.Invoices,
		Programs:           a.Programs,
		Neighbors:          a.Neighbors,
		Ledger:             a.Ledger,
		Referrals:          a.Referrals,
		Endpoints:          a.Endpoints,
		Webhooks:           a.Webhooks,
		Dispatch:           a.Dispatch,
		Crew:               a.Crew,
		Insights:           a.Insights,
		Ready:              s.Ready,
		Log:                log,
		TrustedProxies:     trusted,
		ExpensivePerMinute: cfg.ExpensiveRequestsPerMinute,
		Metrics:            a.Metrics,
		MetricsToken:       cfg.MetricsToken,
		PageError:          pages.ErrorPage,
		Middleware:         []echo.MiddlewareFunc{web.SecurityHeaders},
	})
	pages.Routes(a.HTTP)
	return a
}

// Serve listens on the configured address until ctx is cancelled, then stops
// taking requests and lets those in flight finish. ready, if not nil,
// receives the bound address once the listener is open.
func (a *App) Serve(ctx context.Context, ready func(addr string)) error {
	ln, err := net.Listen("tcp", a.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.Config.Addr, err)
	}
	srv := &http.Server{
		Handler:           a.HTTP,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	if a.Config.Jobs {
		if err := a.Jobs.Start(ctx); err != nil {
			ln.Close()
			return err
		}
		defer a.Jobs.Stop()
		wctx, stopWorker := context.WithCancel(ctx)
		delivered := make(chan struct{})
		go func() { a.Deliverer.Run(wctx); close(delivered) }()
		defer func() { stopWorker(); <-delivered }()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.Log.Info("shutting down", "grace", a.Config.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), a.Config.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Close releases the database.
func (a *App) Close() error { return a.Store.Close() }
