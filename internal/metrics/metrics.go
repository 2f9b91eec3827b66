// Package metrics is routeloop's Prometheus instrumentation: HTTP requests
// by route, the webhook outbox, reconciliations, the scheduled jobs and the
// Go runtime, served at GET /metrics.
package metrics

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/routeloop/routeloop/internal/ledger"
)

// Metrics holds one process's collectors in a registry of its own. A nil
// *Metrics records nothing, so callers need not check.
type Metrics struct {
	registry   *prometheus.Registry
	requests   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	deliveries *prometheus.CounterVec
	reconciles *prometheus.CounterVec
	jobSuccess *prometheus.GaugeVec
}

// NearbyHeld reports, on every scrape, how many customers the nearby
// search holds in memory across tenants (see nearby_cache_customers).
func (m *Metrics) NearbyHeld(held func() int) {
	if m == nil {
		return
	}
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "routeloop_nearby_customers_held",
		Help: "Customers the nearby search holds in memory in this process, across tenants.",
	}, func() float64 { return float64(held()) }))
}

// Results of a recorded webhook delivery attempt.
const (
	Delivered = "delivered"
	Retrying  = "retrying"
	Failed    = "failed"
)

// Results of a reconciliation run (one tenant, one or more days).
const (
	ReconcileOK      = "ok"
	ReconcilePartial = "partial" // some customers could not be settled
	ReconcileSkipped = "skipped" // another process holds the tenant's lock
	ReconcileError   = "error"
)

// New registers every collector. pending counts the webhook deliveries not
// yet delivered; it is asked on every scrape.
func New(pending func(context.Context) (int64, error)) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "routeloop_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "routeloop_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "routeloop_outbox_deliveries_total",
			Help: "Outgoing webhook attempts recorded, by result: delivered, retrying or failed (for good).",
		}, []string{"result"}),
		reconciles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "routeloop_reconcile_runs_total",
			Help: "Reconciliations of a tenant (nightly job or POST /api/v1/reconcile), by result: ok, partial, skipped or error.",
		}, []string{"result"}),
		jobSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "routeloop_jobs_last_success_timestamp_seconds",
			Help: "Unix time of the last successful run of each scheduled job in this process.",
		}, []string{"job"}),
	}
	m.registry.MustRegister(m.requests, m.duration, m.deliveries, m.reconciles, m.jobSuccess,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&pendingCollector{count: pending, desc: prometheus.NewDesc("routeloop_outbox_pending",
			"Outgoing webhook deliveries not yet delivered (waiting or retrying), read from the database on scrape.", nil, nil)})
	return m
}

// Middleware counts and times every request by its route pattern
// (/api/v1/invoices/:external_id, not the path asked for).
func (m *Metrics) Middleware(next echo.HandlerFunc) echo.HandlerFunc {
	if m == nil {
		return next
	}
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		method := c.Request().Method
		m.requests.WithLabelValues(route, method, strconv.Itoa(c.Response().Status)).Inc()
		m.duration.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
		return nil
	}
}

// Handler serves the metrics; with a token set, only to a request that
// sends Authorization: Bearer <token> (401 otherwise).
func (m *Metrics) Handler(token string) echo.HandlerFunc {
	h := promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
	return func(c echo.Context) error {
		if token != "" {
			scheme, got, ok := strings.Cut(c.Request().Header.Get(echo.HeaderAuthorization), " ")
			if !ok || !strings.EqualFold(scheme, "Bearer") ||
				subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(token)) != 1 {
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="metrics"`)
				return echo.NewHTTPError(http.StatusUnauthorized, "send the metrics token as: Authorization: Bearer <token>")
			}
		}
		h.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}

// Delivery counts one recorded webhook attempt.
func (m *Metrics) Delivery(result string) {
	if m != nil {
		m.deliveries.WithLabelValues(result).Inc()
	}
}

// Reconciled counts one reconciliation run of a tenant: error, skipped
// (another process holds its lock), partial (a day left a customer
// unsettled) or ok.
func (m *Metrics) Reconciled(ran bool, err error, days []ledger.ReconcileResult) {
	if m == nil {
		return
	}
	result := ReconcileOK
	switch {
	case err != nil:
		result = ReconcileError
	case !ran:
		result = ReconcileSkipped
	default:
		for _, d := range days {
			if len(d.Errors) > 0 {
				result = ReconcilePartial
			}
		}
	}
	m.reconciles.WithLabelValues(result).Inc()
}

// JobSucceeded records that job finished without error at t.
func (m *Metrics) JobSucceeded(job string, t time.Time) {
	if m != nil {
		m.jobSuccess.WithLabelValues(job).Set(float64(t.Unix()))
	}
}

// pendingCollector asks the database on every scrape; a failed count is
// left out of that scrape rather than reported as zero.
type pendingCollector struct {
	count func(context.Context) (int64, error)
	desc  *prometheus.Desc
}

func (p *pendingCollector) Describe(ch chan<- *prometheus.Desc) { ch <- p.desc }

func (p *pendingCollector) Collect(ch chan<- prometheus.Metric) {
	if p.count == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := p.count(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(p.desc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(p.desc, prometheus.GaugeValue, float64(n))
}
