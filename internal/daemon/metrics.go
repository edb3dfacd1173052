package daemon

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/pipeline"
)

// Metrics are the daemon's Prometheus metrics.
type Metrics struct {
	Registry    *prometheus.Registry
	rowsLoaded  *prometheus.CounterVec
	rowsWritten *prometheus.CounterVec
	windows     *prometheus.CounterVec
	requests    *prometheus.CounterVec
	retries     *prometheus.CounterVec
	budgetWait  *prometheus.CounterVec
	budget      *prometheus.GaugeVec
	runs        *prometheus.CounterVec
	runDuration *prometheus.HistogramVec
	webhooks    *prometheus.CounterVec
}

// NewMetrics registers the metrics; lag is read from etl.cursor at each
// scrape, so it is never stale.
func NewMetrics(store *load.Store) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		rowsLoaded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "engage_etl_rows_loaded_total", Help: "Rows the Engage API answered and the warehouse loaded."}, []string{"tenant", "stream"}),
		rowsWritten: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "engage_etl_rows_written_total", Help: "Warehouse rows inserted, updated or deleted."}, []string{"tenant", "stream"}),
		windows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "engage_etl_windows_total", Help: "Windows processed, by result."}, []string{"tenant", "stream", "result"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "engage_etl_api_requests_total", Help: "HTTP exchanges with the Engage API, by status code (0: no answer)."}, []string{"tenant", "status"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "engage_etl_api_retries_total", Help: "Engage API requests that were retried."}, []string{"tenant"}),
		budgetWait: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "engage_etl_api_budget_wait_seconds_total",
			Help: "Seconds this process's requests waited for their turn in the tenant's API budget, which every process loading the tenant shares (etl.api_budget): near the wall clock's rate, the budget is in full use."}, []string{"tenant"}),
		budget: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "engage_etl_api_budget_requests_per_second",
			Help: "The tenant's API budget (requests_per_second), which every process loading the tenant shares: the sum over the fleet of rate(engage_etl_api_requests_total) by tenant, divided by it, is how much of it is used."}, []string{"tenant"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "engage_etl_runs_total", Help: "Scheduled runs of a stream group, by result."}, []string{"group", "result"}),
		runDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "engage_etl_run_duration_seconds", Help: "Duration of scheduled runs of a stream group.",
			Buckets: prometheus.ExponentialBuckets(0.5, 2, 12)}, []string{"group"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "engage_etl_webhooks_total", Help: "Webhook deliveries received, by result."}, []string{"result"}),
	}
	m.Registry.MustRegister(m.rowsLoaded, m.rowsWritten, m.windows, m.requests, m.retries, m.budgetWait, m.budget, m.runs, m.runDuration, m.webhooks,
		&lagCollector{store: store}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Budget records a tenant's API budget (0: unpaced, not shown).
func (m *Metrics) Budget(tenant string, requestsPerSecond float64) {
	if requestsPerSecond > 0 {
		m.budget.WithLabelValues(tenant).Set(requestsPerSecond)
	}
}

// Stream records a finished stream (a pipeline.Runner.OnStream).
func (m *Metrics) Stream(r pipeline.StreamResult) {
	m.rowsLoaded.WithLabelValues(r.TenantID, r.Stream).Add(float64(r.RowsReceived))
	m.rowsWritten.WithLabelValues(r.TenantID, r.Stream).Add(float64(r.RowsWritten))
	m.windows.WithLabelValues(r.TenantID, r.Stream, "ok").Add(float64(r.WindowsOK))
	m.windows.WithLabelValues(r.TenantID, r.Stream, "failed").Add(float64(r.WindowsFailed))
}

// APIObserver counts a tenant's API exchanges (an engage.WithObserver).
func (m *Metrics) APIObserver(tenant string) func(engage.Attempt) {
	return func(a engage.Attempt) {
		m.requests.WithLabelValues(tenant, strconv.Itoa(a.Status)).Inc()
		if a.Retry {
			m.retries.WithLabelValues(tenant).Inc()
		}
		if a.Waited > 0 {
			m.budgetWait.WithLabelValues(tenant).Add(a.Waited.Seconds())
		}
	}
}

var (
	lagDesc = prometheus.NewDesc("engage_etl_stream_lag_seconds",
		"Seconds between now and the moment the stream is read through (the later of its cursor and its last successful sync's start; "+
			"an activity log's cursor is the API's newest event): how far the warehouse is behind. "+
			"Absent while engage_etl_warehouse_up is 0: the lag is unknown then.", []string{"tenant", "stream"}, nil)
	reconcileDesc = prometheus.NewDesc("engage_etl_reconciliation_days",
		"Local days of a tenant's reconciled pair (a detail stream against the report that counts the same thing) "+
			"by status: ok, pending (differs within the lookback) or mismatch (differs after it: rows are missing). See bi.reconciliation.",
		[]string{"tenant", "pair", "status"}, nil)
	upDesc = prometheus.NewDesc("engage_etl_warehouse_up",
		"1 when the warehouse answered this scrape's lag query, 0 when it did not (the lag series are left out).", nil, nil)
)

// lagCollector reads the cursors when Prometheus scrapes. A warehouse that
// does not answer must not fail the scrape: the process and API metrics are
// what tells why. It reports engage_etl_warehouse_up 0 and no lag series
// instead (rather than NaN lags, which alert rules on lag would read as
// "not behind").
type lagCollector struct{ store *load.Store }

func (c *lagCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- lagDesc
	ch <- upDesc
	ch <- reconcileDesc
}

func (c *lagCollector) Collect(ch chan<- prometheus.Metric) {
	// Well within Prometheus' default 10 s scrape timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	statuses, err := c.store.Status(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 1)
	now := time.Now()
	for _, s := range statuses {
		if s.Cursor.IsZero() {
			continue
		}
		ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, now.Sub(s.ReadThrough()).Seconds(), s.TenantID, s.Stream)
	}
	reconciled, err := c.store.ReconcileSummaries(ctx)
	if err != nil {
		return // the lag series are out already; up says the warehouse answered the first query
	}
	for _, r := range reconciled {
		for status, n := range map[string]int{load.ReconcileOK: r.OK, load.ReconcilePending: r.Pending, load.ReconcileMismatch: r.Mismatch} {
			ch <- prometheus.MustNewConstMetric(reconcileDesc, prometheus.GaugeValue, float64(n), r.TenantID, r.Pair, status)
		}
	}
}
