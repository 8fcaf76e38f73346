// Package metrics holds the service's Prometheus metrics. It registers them
// on a registry it is given and receives measurements through the Okta
// client's observer and the provider's hooks.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/okta-entity-provider/okta-entity-provider/internal/orgsync"
	"github.com/okta-entity-provider/okta-entity-provider/internal/provider"
)

const namespace = "okta_entity_provider"

// Metrics records the service's measurements. It implements okta.Observer
// and provider.Observer; its methods are safe for concurrent use.
type Metrics struct {
	oktaRequests    *prometheus.CounterVec
	oktaDuration    *prometheus.HistogramVec
	oktaRetries     *prometheus.CounterVec
	oktaRateLimited *prometheus.CounterVec
	oktaRateWait    *prometheus.CounterVec
	oktaRemaining   *prometheus.GaugeVec
	oktaLimit       *prometheus.GaugeVec

	syncs          *prometheus.CounterVec
	syncDuration   *prometheus.HistogramVec
	syncCalls      *prometheus.GaugeVec
	entities       *prometheus.GaugeVec
	snapshotTime   prometheus.Gauge
	lastSuccess    prometheus.Gauge
	heldBack       prometheus.Gauge
	mismatches     *prometheus.CounterVec
	stateSaveError prometheus.Counter
	logReadError   prometheus.Counter

	connsOpen    prometheus.Gauge
	connsRefused prometheus.Counter
}

// New creates the metrics and registers them on reg.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		oktaRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "okta_requests_total",
			Help: "HTTP requests sent to Okta, by rate-limit bucket and outcome (ok, client_error, server_error, rate_limited, network_error, bad_response: an answer refused for a body over the size limit).",
		}, []string{"bucket", "outcome"}),
		oktaDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "okta_request_duration_seconds",
			Help:    "Duration of Okta HTTP requests, by rate-limit bucket.",
			Buckets: []float64{0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
		}, []string{"bucket"}),
		oktaRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "okta_retries_total",
			Help: "Okta requests sent again after a failure, by rate-limit bucket.",
		}, []string{"bucket"}),
		oktaRateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "okta_rate_limited_total",
			Help: "429 answers received from Okta, by rate-limit bucket.",
		}, []string{"bucket"}),
		oktaRateWait: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "okta_rate_wait_seconds_total",
			Help: "Time spent waiting for rate-limit budget (pacing and 429 back-off), by bucket.",
		}, []string{"bucket"}),
		oktaRemaining: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "okta_rate_limit_remaining",
			Help: "Requests remaining in the current Okta rate-limit window, as last reported, by bucket.",
		}, []string{"bucket"}),
		oktaLimit: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "okta_rate_limit_limit",
			Help: "Okta rate limit of the window, as last reported, by bucket.",
		}, []string{"bucket"}),
		syncs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "syncs_total",
			Help: "Finished syncs, by mode (full, incremental) and outcome (ok, failed, held).",
		}, []string{"mode", "outcome"}),
		syncDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "sync_duration_seconds",
			Help:    "Duration of syncs, by mode.",
			Buckets: []float64{0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800},
		}, []string{"mode"}),
		syncCalls: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "last_sync_okta_calls",
			Help: "Okta requests made by the last sync of each mode, retries included.",
		}, []string{"mode"}),
		entities: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "entities",
			Help: "Entities in the served snapshot, by kind.",
		}, []string{"kind"}),
		snapshotTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "snapshot_built_timestamp_seconds",
			Help: "When the served snapshot was built, as a Unix time.",
		}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "last_successful_sync_timestamp_seconds",
			Help: "When a sync last published a snapshot, as a Unix time.",
		}),
		heldBack: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "snapshot_held_back",
			Help: "1 while the deletion guard holds back a snapshot awaiting acceptance, else 0.",
		}),
		mismatches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "reconcile_mismatches_total",
			Help: "Differences a full reconciliation found against the incrementally synced state, by kind (user, group, membership). Should stay 0.",
		}, []string{"kind"}),
		stateSaveError: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "state_save_errors_total",
			Help: "Failures to persist the sync state to the data directory.",
		}),
		logReadError: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "system_log_read_errors_total",
			Help: "Syncs that could not read the System Log although the credentials may read it (deletions then come from the periodic check).",
		}),
		connsOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "http_connections_open",
			Help: "HTTP connections open, up to MAX_CONNECTIONS.",
		}),
		connsRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "http_connections_refused_total",
			Help: "HTTP connections closed unanswered because MAX_CONNECTIONS were open.",
		}),
	}
	reg.MustRegister(m.oktaRequests, m.oktaDuration, m.oktaRetries, m.oktaRateLimited, m.oktaRateWait,
		m.oktaRemaining, m.oktaLimit, m.syncs, m.syncDuration, m.syncCalls, m.entities,
		m.snapshotTime, m.lastSuccess, m.heldBack, m.mismatches, m.stateSaveError, m.logReadError,
		m.connsOpen, m.connsRefused)
	for _, k := range []string{"user", "group", "membership"} {
		m.mismatches.WithLabelValues(k)
	}
	return m
}

// Request records one Okta HTTP request (okta.Observer).
func (m *Metrics) Request(bucket, outcome string, d time.Duration) {
	m.oktaRequests.WithLabelValues(bucket, outcome).Inc()
	m.oktaDuration.WithLabelValues(bucket).Observe(d.Seconds())
}

// Retry records a retried Okta request (okta.Observer).
func (m *Metrics) Retry(bucket string) { m.oktaRetries.WithLabelValues(bucket).Inc() }

// RateLimited records a 429 from Okta (okta.Observer).
func (m *Metrics) RateLimited(bucket string) { m.oktaRateLimited.WithLabelValues(bucket).Inc() }

// RateWait records time spent waiting for rate-limit budget (okta.Observer).
func (m *Metrics) RateWait(bucket string, d time.Duration) {
	m.oktaRateWait.WithLabelValues(bucket).Add(d.Seconds())
}

// Remaining records a bucket's reported budget (okta.Observer).
func (m *Metrics) Remaining(bucket string, remaining, limit int) {
	m.oktaRemaining.WithLabelValues(bucket).Set(float64(remaining))
	m.oktaLimit.WithLabelValues(bucket).Set(float64(limit))
}

// SyncDone records a finished sync (provider.Observer).
func (m *Metrics) SyncDone(mode orgsync.Mode, outcome provider.Outcome, d time.Duration, oktaCalls int64) {
	m.syncs.WithLabelValues(string(mode), string(outcome)).Inc()
	m.syncDuration.WithLabelValues(string(mode)).Observe(d.Seconds())
	m.syncCalls.WithLabelValues(string(mode)).Set(float64(oktaCalls))
}

// Published records a snapshot now being served (provider.Observer).
func (m *Metrics) Published(users, groups int, builtAt time.Time) {
	m.entities.WithLabelValues("User").Set(float64(users))
	m.entities.WithLabelValues("Group").Set(float64(groups))
	m.snapshotTime.Set(float64(builtAt.UnixNano()) / 1e9)
	m.lastSuccess.SetToCurrentTime()
}

// Held records whether a snapshot is held back (provider.Observer).
func (m *Metrics) Held(held bool) {
	if held {
		m.heldBack.Set(1)
	} else {
		m.heldBack.Set(0)
	}
}

// Mismatch records differences a full reconciliation found against the
// incremental state, kind being user, group or membership
// (provider.Observer).
func (m *Metrics) Mismatch(kind string, n int) {
	m.mismatches.WithLabelValues(kind).Add(float64(n))
}

// StateSaveFailed records a failure to persist the sync state
// (provider.Observer).
func (m *Metrics) StateSaveFailed() { m.stateSaveError.Inc() }

// LogReadFailed records a sync that could not read a readable System Log.
func (m *Metrics) LogReadFailed() { m.logReadError.Inc() }

// ConnectionOpened records an HTTP connection admitted by the server.
func (m *Metrics) ConnectionOpened() { m.connsOpen.Inc() }

// ConnectionClosed records an admitted HTTP connection closed.
func (m *Metrics) ConnectionClosed() { m.connsOpen.Dec() }

// ConnectionRefused records an HTTP connection closed unanswered because
// the server had as many open as it admits.
func (m *Metrics) ConnectionRefused() { m.connsRefused.Inc() }
