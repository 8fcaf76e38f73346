package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/okta-entity-provider/okta-entity-provider/internal/backstage"
	"github.com/okta-entity-provider/okta-entity-provider/internal/eventhook"
	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
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
	orgSuccess     *prometheus.GaugeVec
	heldBack       prometheus.Gauge
	mismatches     *prometheus.CounterVec
	stateSaveError prometheus.Counter
	logReadError   *prometheus.CounterVec

	connsOpen    prometheus.Gauge
	connsRefused prometheus.Counter

	hookDeliveries   *prometheus.CounterVec
	hookEvents       *prometheus.CounterVec
	hookSyncs        prometheus.Counter
	hintsForwarded   *prometheus.CounterVec
	hintsReceived    prometheus.Counter
	catalogRefreshes *prometheus.CounterVec
	changeLatency    prometheus.Histogram
	haLeader         prometheus.Gauge
	haGen            prometheus.Gauge
	dbUp             prometheus.Gauge
	dbOutage         prometheus.Gauge
	dbOutages        prometheus.Counter
	mu               sync.Mutex // guards outages
	outages          int        // dbOutages's count, as last reported
	buildInfo        *prometheus.GaugeVec
	httpRequests     *prometheus.CounterVec
	httpBytes        *prometheus.CounterVec
	httpDuration     *prometheus.HistogramVec
}

// Label values, one spelling each across the metrics.
var (
	oktaBuckets  = []string{okta.BucketUsers, okta.BucketGroups, okta.BucketLogs, okta.BucketApps, okta.BucketOther}
	oktaOutcomes = []string{okta.OutcomeOK, okta.OutcomeClientError, okta.OutcomeServerError, okta.OutcomeRateLimited,
		okta.OutcomeNetworkError, okta.OutcomeBadResponse}
	syncModes    = []orgsync.Mode{orgsync.ModeFull, orgsync.ModeIncremental}
	syncOutcomes = []provider.Outcome{provider.OutcomeOK, provider.OutcomeFailed, provider.OutcomeHeld}
	// kinds are the entity kinds of entities{kind} and the difference
	// kinds of reconcile_mismatches_total{kind}, lower case as Backstage
	// writes kinds in entity refs.
	kindUser, kindGroup, kindMembership = "user", "group", "membership"
	// kindApp is the difference kind of an app's assignments.
	kindApp = "app"
)

// New creates the metrics and registers them on reg.
func New(reg prometheus.Registerer) *Metrics {
	f := factory{reg}
	m := &Metrics{
		oktaRequests: f.counterVec("okta_requests_total",
			"HTTP requests sent to Okta, by rate-limit bucket and outcome (ok, client_error, server_error, rate_limited, network_error, bad_response: an answer refused for a body over the size limit).",
			"org", "bucket", "outcome"),
		oktaDuration: f.histogramVec("okta_request_duration_seconds",
			"Duration of Okta HTTP requests, by rate-limit bucket.",
			[]float64{0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}, "org", "bucket"),
		oktaRetries: f.counterVec("okta_retries_total",
			"Okta requests sent again after a failure, by rate-limit bucket.", "org", "bucket"),
		oktaRateLimited: f.counterVec("okta_rate_limited_total",
			"429 answers received from Okta, by rate-limit bucket.", "org", "bucket"),
		oktaRateWait: f.counterVec("okta_rate_wait_seconds_total",
			"Time spent waiting for rate-limit budget (pacing and 429 back-off), by bucket.", "org", "bucket"),
		oktaRemaining: f.gaugeVec("okta_rate_limit_remaining",
			"Requests remaining in the current Okta rate-limit window, as last reported, by bucket.", "org", "bucket"),
		oktaLimit: f.gaugeVec("okta_rate_limit_limit",
			"Okta rate limit of the window, as last reported, by bucket.", "org", "bucket"),
		syncs: f.counterVec("syncs_total",
			"Finished syncs of each org, by mode (full, incremental) and outcome (ok, failed, held).", "org", "mode", "outcome"),
		syncDuration: f.histogramVec("sync_duration_seconds", "Duration of each org's syncs, by mode.",
			[]float64{0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800}, "org", "mode"),
		syncCalls: f.gaugeVec("last_sync_okta_calls",
			"Okta requests made by each org's last sync of each mode, retries included.", "org", "mode"),
		entities: f.gaugeVec("entities", "Entities in the served snapshot, by kind (user, group).", "kind"),
		snapshotTime: f.gauge("snapshot_built_timestamp_seconds",
			"When the served snapshot was built, as a Unix time."),
		lastSuccess: f.gauge("last_successful_sync_timestamp_seconds",
			"When a sync last published a snapshot, as a Unix time."),
		orgSuccess: f.gaugeVec("org_last_successful_sync_timestamp_seconds",
			"When each org's sync last succeeded, or this process resumed the org from a saved or shared state, as a Unix time (0 before either): an org whose syncs fail keeps its last good entities served while this ages.",
			"org"),
		heldBack: f.gauge("snapshot_held_back",
			"1 while the deletion guard holds back a snapshot awaiting acceptance, else 0."),
		mismatches: f.counterVec("reconcile_mismatches_total",
			"Differences a full reconciliation found against the incrementally synced state, by org and kind (user, group, membership, app). Should stay 0.",
			"org", "kind"),
		stateSaveError: f.counter("state_save_errors_total",
			"Failures to persist the sync state to the data directory."),
		logReadError: f.counterVec("system_log_read_errors_total",
			"Syncs that could not read an org's System Log although the credentials may read it (deletions then come from the periodic check).",
			"org"),
		connsOpen: f.gauge("http_connections_open", "HTTP connections open, up to the service's connection limit."),
		connsRefused: f.counter("http_connections_refused_total",
			"HTTP connections closed unanswered because the connection limit was reached."),
		hookDeliveries: f.counterVec("hook_deliveries_total",
			"Okta event hook calls, by org (empty for a single-org service) and outcome (accepted, duplicate, ignored, malformed, unauthorized, too_large, rate_limited).",
			"org", "outcome"),
		hookEvents: f.counterVec("hook_events_total",
			"Events in accepted Okta event hook deliveries, by org and event type (types the service does not act on are counted as other).",
			"org", "type"),
		hookSyncs: f.counter("hook_syncs_total",
			"Syncs started because an Okta event hook delivery asked for one."),
		hintsForwarded: f.counterVec("hook_hints_forwarded_total",
			"Event hook hints a follower forwarded to the leader through the shared database, by outcome (stored; dropped: the table of forwarded hints was full; failed: the database could not be written, the hint is kept and retried).",
			"outcome"),
		hintsReceived: f.counter("hook_hints_received_total",
			"Event hook hints forwarded by followers that the leader took up."),
		catalogRefreshes: f.counterVec("catalog_refreshes_total",
			"Requests to Backstage's catalog to re-read this service's locations, by outcome (ok, failed, no_location).",
			"outcome"),
		changeLatency: f.histogram("change_to_publish_seconds",
			"Time from a change's event in Okta (its published time, by Okta's clock) to a snapshot holding it being served, for changes an event hook told of.",
			[]float64{0.5, 1, 2, 3, 5, 10, 15, 30, 60, 300, 900}),
		haLeader: f.gauge("ha_leader",
			"In shared mode (replicas sharing a database), 1 while this replica holds the lease and syncs, else 0."),
		haGen: f.gauge("ha_generation",
			"In shared mode, the generation this replica serves; equal on all replicas once they caught up."),
		dbUp: f.gauge("database_up", "In shared mode, 1 while the shared database answers this replica, else 0."),
		dbOutage: f.gauge("database_outage_seconds",
			"In shared mode, how long the current outage of the shared database has lasted; 0 when it is up."),
		dbOutages: f.counter("database_outages_total", "In shared mode, outages of the shared database seen by this replica."),
		buildInfo: f.gaugeVec("build_info",
			"Always 1; the labels say which build runs: the module version, the VCS commit and the Go version.",
			"version", "revision", "goversion"),
		httpRequests: f.counterVec("http_requests_total",
			"HTTP requests answered, by route pattern (other: no route), method and status code (304s included).",
			"route", "method", "code"),
		httpBytes: f.counterVec("http_response_bytes_total",
			"Bytes of HTTP response bodies sent (compressed, as sent), by route pattern.", "route"),
		httpDuration: f.histogramVec("http_request_duration_seconds",
			"Time from a request's arrival to its answer's last byte, by route pattern.",
			[]float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}, "route"),
	}
	// Every labelled series that counts exists from the start, at 0, so
	// that rate() and increase() see its first events.
	m.orgSeries("")
	for _, o := range []string{backstage.OutcomeOK, backstage.OutcomeFailed, backstage.OutcomeNoLocation} {
		m.catalogRefreshes.WithLabelValues(o)
	}
	return m
}

// orgSeries makes an org's counting series exist at 0: its Okta requests
// and its syncs. The one org of a single-org service is org "".
func (m *Metrics) orgSeries(org string) {
	for _, b := range oktaBuckets {
		for _, o := range oktaOutcomes {
			m.oktaRequests.WithLabelValues(org, b, o)
		}
		m.oktaDuration.WithLabelValues(org, b)
		m.oktaRetries.WithLabelValues(org, b)
		m.oktaRateLimited.WithLabelValues(org, b)
		m.oktaRateWait.WithLabelValues(org, b)
	}
	for _, mode := range syncModes {
		for _, o := range syncOutcomes {
			m.syncs.WithLabelValues(org, string(mode), string(o))
		}
		m.syncDuration.WithLabelValues(org, string(mode))
	}
	for _, k := range []string{kindUser, kindGroup, kindMembership, kindApp} {
		m.mismatches.WithLabelValues(org, k)
	}
	m.logReadError.WithLabelValues(org)
	m.orgSuccess.WithLabelValues(org) // 0: nothing of the org served yet
	for _, o := range []string{eventhook.OutcomeAccepted, eventhook.OutcomeDuplicate, eventhook.OutcomeIgnored,
		eventhook.OutcomeMalformed, eventhook.OutcomeUnauthorized, eventhook.OutcomeTooLarge, eventhook.OutcomeRateLimited} {
		m.hookDeliveries.WithLabelValues(org, o)
	}
}

// factory creates metrics in the service's namespace and registers each on
// reg as it is made.
type factory struct{ reg prometheus.Registerer }

func (f factory) register(c prometheus.Collector) { f.reg.MustRegister(c) }

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, labels)
	f.register(c)
	return c
}

func (f factory) gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help}, labels)
	f.register(g)
	return g
}

func (f factory) histogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: name, Help: help, Buckets: buckets,
	}, labels)
	f.register(h)
	return h
}

func (f factory) histogram(name, help string, buckets []float64) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: name, Help: help, Buckets: buckets})
	f.register(h)
	return h
}

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help})
	f.register(c)
	return c
}

func (f factory) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help})
	f.register(g)
	return g
}

// Build records which build runs, in build_info.
func (m *Metrics) Build(version, revision, goVersion string) {
	m.buildInfo.Reset()
	m.buildInfo.WithLabelValues(version, revision, goVersion).Set(1)
}

// Route makes the HTTP series of a route exist at 0 (api.Observer): 200
// for every route, and 304 for the conditional GETs Backstage sends to
// the entity endpoints.
func (m *Metrics) Route(method, pattern string) {
	m.httpRequests.WithLabelValues(pattern, method, "200")
	if method == http.MethodGet && strings.HasPrefix(pattern, "/entities") {
		m.httpRequests.WithLabelValues(pattern, method, "304")
	}
	m.httpBytes.WithLabelValues(pattern)
	m.httpDuration.WithLabelValues(pattern)
}

// Served records an answered HTTP request (api.Observer).
func (m *Metrics) Served(route, method string, status int, bytes int64, d time.Duration) {
	m.httpRequests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.httpBytes.WithLabelValues(route).Add(float64(bytes))
	m.httpDuration.WithLabelValues(route).Observe(d.Seconds())
}

// Request records one Okta HTTP request of the single org
// (okta.Observer); Org's observer records those of a named org.
func (m *Metrics) Request(bucket, outcome string, d time.Duration) {
	orgObserver{m, ""}.Request(bucket, outcome, d)
}

// Retry records a retried Okta request (okta.Observer).
func (m *Metrics) Retry(bucket string) { orgObserver{m, ""}.Retry(bucket) }

// RateLimited records a 429 from Okta (okta.Observer).
func (m *Metrics) RateLimited(bucket string) { orgObserver{m, ""}.RateLimited(bucket) }

// RateWait records time spent waiting for rate-limit budget (okta.Observer).
func (m *Metrics) RateWait(bucket string, d time.Duration) { orgObserver{m, ""}.RateWait(bucket, d) }

// Remaining records a bucket's reported budget (okta.Observer).
func (m *Metrics) Remaining(bucket string, remaining, limit int) {
	orgObserver{m, ""}.Remaining(bucket, remaining, limit)
}

// Org returns the okta.Observer of the client of one of several orgs:
// it records the org's requests under org=name, whose series it makes
// exist at 0.
func (m *Metrics) Org(name string) okta.Observer {
	m.orgSeries(name)
	return orgObserver{m, name}
}

// orgObserver records the Okta requests of one org.
type orgObserver struct {
	m   *Metrics
	org string
}

func (o orgObserver) Request(bucket, outcome string, d time.Duration) {
	o.m.oktaRequests.WithLabelValues(o.org, bucket, outcome).Inc()
	o.m.oktaDuration.WithLabelValues(o.org, bucket).Observe(d.Seconds())
}

func (o orgObserver) Retry(bucket string) { o.m.oktaRetries.WithLabelValues(o.org, bucket).Inc() }

func (o orgObserver) RateLimited(bucket string) {
	o.m.oktaRateLimited.WithLabelValues(o.org, bucket).Inc()
}

func (o orgObserver) RateWait(bucket string, d time.Duration) {
	o.m.oktaRateWait.WithLabelValues(o.org, bucket).Add(d.Seconds())
}

func (o orgObserver) Remaining(bucket string, remaining, limit int) {
	o.m.oktaRemaining.WithLabelValues(o.org, bucket).Set(float64(remaining))
	o.m.oktaLimit.WithLabelValues(o.org, bucket).Set(float64(limit))
}

// SyncDone records an org's finished sync (provider.Observer).
func (m *Metrics) SyncDone(org string, mode orgsync.Mode, outcome provider.Outcome, d time.Duration, oktaCalls int64) {
	m.syncs.WithLabelValues(org, string(mode), string(outcome)).Inc()
	m.syncDuration.WithLabelValues(org, string(mode)).Observe(d.Seconds())
	m.syncCalls.WithLabelValues(org, string(mode)).Set(float64(oktaCalls))
	if outcome != provider.OutcomeFailed {
		m.orgSuccess.WithLabelValues(org).SetToCurrentTime()
	}
}

// Resumed records an org resumed from a state this process did not sync
// (provider.Observer): its age counts from now, as the service's does from
// the snapshot a restart serves.
func (m *Metrics) Resumed(org string) { m.orgSuccess.WithLabelValues(org).SetToCurrentTime() }

// Published records a snapshot now being served (provider.Observer).
func (m *Metrics) Published(users, groups int, builtAt time.Time) {
	m.entities.WithLabelValues(kindUser).Set(float64(users))
	m.entities.WithLabelValues(kindGroup).Set(float64(groups))
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

// Mismatch records differences a full reconciliation of an org found
// against its incremental state, kind being user, group, membership or
// app (provider.Observer).
func (m *Metrics) Mismatch(org, kind string, n int) {
	m.mismatches.WithLabelValues(org, kind).Add(float64(n))
}

// StateSaveFailed records a failure to persist the sync state
// (provider.Observer).
func (m *Metrics) StateSaveFailed() { m.stateSaveError.Inc() }

// LogReadFailed records a sync that could not read an org's readable
// System Log (provider.Observer).
func (m *Metrics) LogReadFailed(org string) { m.logReadError.WithLabelValues(org).Inc() }

// Replica records a replica's part in shared mode (provider.Observer).
func (m *Metrics) Replica(leader bool, generation int64, dbUp bool, outageSeconds float64, outages int) {
	m.haLeader.Set(b2f(leader))
	m.haGen.Set(float64(generation))
	m.dbUp.Set(b2f(dbUp))
	m.dbOutage.Set(outageSeconds)
	m.mu.Lock()
	if outages > m.outages {
		m.dbOutages.Add(float64(outages - m.outages))
		m.outages = outages
	}
	m.mu.Unlock()
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// ConnectionOpened records an HTTP connection admitted by the server.
func (m *Metrics) ConnectionOpened() { m.connsOpen.Inc() }

// ConnectionClosed records an admitted HTTP connection closed.
func (m *Metrics) ConnectionClosed() { m.connsOpen.Dec() }

// ConnectionRefused records an HTTP connection closed unanswered because
// the server had as many open as it admits.
func (m *Metrics) ConnectionRefused() { m.connsRefused.Inc() }

// HookDelivery records an Okta event hook call by outcome
// (eventhook.Observer).
func (m *Metrics) HookDelivery(outcome string) { orgObserver{m, ""}.HookDelivery(outcome) }

// HookEvent records one event of an accepted delivery
// (eventhook.Observer). Types the service does not act on are counted as
// "other", so that the label's values stay few.
func (m *Metrics) HookEvent(eventType string) { orgObserver{m, ""}.HookEvent(eventType) }

// OrgHooks returns the eventhook.Observer of the event hook of the org of
// several named name: it records its calls and events under org=name. The
// org's series exist once Org has been called for it.
func (m *Metrics) OrgHooks(name string) eventhook.Observer { return orgObserver{m, name} }

func (o orgObserver) HookDelivery(outcome string) {
	o.m.hookDeliveries.WithLabelValues(o.org, outcome).Inc()
}

func (o orgObserver) HookEvent(eventType string) {
	if !eventhook.Relevant(eventType) {
		eventType = "other"
	}
	o.m.hookEvents.WithLabelValues(o.org, eventType).Inc()
}

// HookSync records a sync an event hook asked for (provider.Observer).
func (m *Metrics) HookSync() { m.hookSyncs.Inc() }

// HintForwarded records a hint forwarded to the leader, by outcome
// (provider.Observer).
func (m *Metrics) HintForwarded(outcome string) { m.hintsForwarded.WithLabelValues(outcome).Inc() }

// HintsReceived records n forwarded hints the leader took up
// (provider.Observer).
func (m *Metrics) HintsReceived(n int) { m.hintsReceived.Add(float64(n)) }

// ChangeLatency records the time from a change's event to its snapshot
// being served (provider.Observer).
func (m *Metrics) ChangeLatency(d time.Duration) { m.changeLatency.Observe(d.Seconds()) }

// CatalogRefresh records a request to the catalog to re-read, by outcome
// (backstage.Observer).
func (m *Metrics) CatalogRefresh(outcome string) { m.catalogRefreshes.WithLabelValues(outcome).Inc() }
