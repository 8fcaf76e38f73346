package metrics_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/okta-entity-provider/okta-entity-provider/internal/metrics"
	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
	"github.com/okta-entity-provider/okta-entity-provider/internal/provider"
)

var (
	_ okta.Observer     = (*metrics.Metrics)(nil)
	_ provider.Observer = (*metrics.Metrics)(nil)
)

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)

	m.Request("groups", "ok", 120*time.Millisecond)
	m.Request("groups", "ok", 80*time.Millisecond)
	m.Request("groups", "rate_limited", 10*time.Millisecond)
	m.Retry("groups")
	m.RateLimited("groups")
	m.RateWait("groups", 1500*time.Millisecond)
	m.Remaining("groups", 240, 500)
	m.SyncDone("", "full", "ok", 3*time.Second, 42)
	m.SyncDone("", "full", "failed", time.Second, 7)
	m.Published(60, 15, time.Unix(1700000000, 0))
	m.Held(true)
	m.Mismatch("", "membership", 2)
	m.StateSaveFailed()
	m.ConnectionOpened()
	m.ConnectionOpened()
	m.ConnectionClosed()
	m.ConnectionRefused()

	checkSeries(t, reg, []series{
		{"okta_entity_provider_okta_requests_total", map[string]string{"org": "", "bucket": "groups", "outcome": "ok"}, 2},
		{"okta_entity_provider_okta_requests_total", map[string]string{"org": "", "bucket": "groups", "outcome": "rate_limited"}, 1},
		{"okta_entity_provider_okta_request_duration_seconds", map[string]string{"org": "", "bucket": "groups"}, 3},
		{"okta_entity_provider_okta_retries_total", map[string]string{"org": "", "bucket": "groups"}, 1},
		{"okta_entity_provider_okta_rate_limited_total", map[string]string{"org": "", "bucket": "groups"}, 1},
		{"okta_entity_provider_okta_rate_wait_seconds_total", map[string]string{"org": "", "bucket": "groups"}, 1.5},
		{"okta_entity_provider_okta_rate_limit_remaining", map[string]string{"org": "", "bucket": "groups"}, 240},
		{"okta_entity_provider_okta_rate_limit_limit", map[string]string{"org": "", "bucket": "groups"}, 500},
		{"okta_entity_provider_syncs_total", map[string]string{"org": "", "mode": "full", "outcome": "ok"}, 1},
		{"okta_entity_provider_syncs_total", map[string]string{"org": "", "mode": "full", "outcome": "failed"}, 1},
		{"okta_entity_provider_sync_duration_seconds", map[string]string{"org": "", "mode": "full"}, 2},
		{"okta_entity_provider_last_sync_okta_calls", map[string]string{"org": "", "mode": "full"}, 7},
		{"okta_entity_provider_entities", map[string]string{"kind": "user"}, 60},
		{"okta_entity_provider_entities", map[string]string{"kind": "group"}, 15},
		{"okta_entity_provider_snapshot_built_timestamp_seconds", nil, 1.7e9},
		{"okta_entity_provider_snapshot_held_back", nil, 1},
		{"okta_entity_provider_reconcile_mismatches_total", map[string]string{"org": "", "kind": "membership"}, 2},
		{"okta_entity_provider_reconcile_mismatches_total", map[string]string{"org": "", "kind": "user"}, 0},
		{"okta_entity_provider_state_save_errors_total", nil, 1},
		{"okta_entity_provider_http_connections_open", nil, 1},
		{"okta_entity_provider_http_connections_refused_total", nil, 1},
	})
	if got := value(t, reg, "okta_entity_provider_last_successful_sync_timestamp_seconds", nil); got < 1.7e9 {
		t.Errorf("last successful sync: got %v, want a current Unix time", got)
	}

	m.Held(false)
	if got := value(t, reg, "okta_entity_provider_snapshot_held_back", nil); got != 0 {
		t.Errorf("held back after Held(false): got %v, want 0", got)
	}
}

// Every labelled counter exists from the start, at 0, and the build and
// HTTP series once Build and Route are called.
func TestSeriesAtZeroFromStart(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	m.Build("v1.2.3", "0123abc", "go1.26.0")
	m.Route("GET", "/entities")
	m.Route("GET", "/status")
	checkSeries(t, reg, []series{
		{"okta_entity_provider_build_info", map[string]string{"version": "v1.2.3", "revision": "0123abc", "goversion": "go1.26.0"}, 1},
		{"okta_entity_provider_okta_requests_total", map[string]string{"org": "", "bucket": "users", "outcome": "rate_limited"}, 0},
		{"okta_entity_provider_okta_requests_total", map[string]string{"org": "", "bucket": "other", "outcome": "bad_response"}, 0},
		{"okta_entity_provider_okta_retries_total", map[string]string{"org": "", "bucket": "logs"}, 0},
		{"okta_entity_provider_okta_rate_limited_total", map[string]string{"org": "", "bucket": "groups"}, 0},
		{"okta_entity_provider_okta_rate_wait_seconds_total", map[string]string{"org": "", "bucket": "users"}, 0},
		{"okta_entity_provider_syncs_total", map[string]string{"org": "", "mode": "incremental", "outcome": "held"}, 0},
		{"okta_entity_provider_reconcile_mismatches_total", map[string]string{"org": "", "kind": "group"}, 0},
		{"okta_entity_provider_http_requests_total", map[string]string{"route": "/entities", "method": "GET", "code": "304"}, 0},
		{"okta_entity_provider_http_requests_total", map[string]string{"route": "/status", "method": "GET", "code": "200"}, 0},
		{"okta_entity_provider_http_response_bytes_total", map[string]string{"route": "/entities"}, 0},
		{"okta_entity_provider_hook_deliveries_total", map[string]string{"org": "", "outcome": "unauthorized"}, 0},
		{"okta_entity_provider_catalog_refreshes_total", map[string]string{"outcome": "no_location"}, 0},
	})
	m.Served("/entities", "GET", 304, 0, time.Millisecond)
	m.Served("/entities", "GET", 200, 5000, time.Millisecond)
	if got := value(t, reg, "okta_entity_provider_http_requests_total", map[string]string{"route": "/entities", "method": "GET", "code": "304"}); got != 1 {
		t.Errorf("304s: got %v, want 1", got)
	}
	if got := value(t, reg, "okta_entity_provider_http_response_bytes_total", map[string]string{"route": "/entities"}); got != 5000 {
		t.Errorf("bytes: got %v, want 5000", got)
	}
	if got := value(t, reg, "okta_entity_provider_http_request_duration_seconds", map[string]string{"route": "/entities"}); got != 2 {
		t.Errorf("duration samples: got %v, want 2", got)
	}
}

// A named org's Okta requests and syncs are series of their own, apart
// from the single org's, and exist at 0 once the org's observer is made.
func TestOrgSeries(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	globex := m.Org("globex")
	if got := value(t, reg, "okta_entity_provider_okta_requests_total", map[string]string{"org": "globex", "bucket": "apps", "outcome": "ok"}); got != 0 {
		t.Errorf("globex's requests before any: got %v, want 0", got)
	}
	globex.Request("users", "ok", time.Millisecond)
	globex.Remaining("users", 10, 600)
	m.Org("initech").Request("users", "ok", time.Millisecond)
	m.SyncDone("globex", "incremental", "ok", time.Second, 3)
	m.SyncDone("initech", "incremental", "failed", time.Second, 1)
	m.Mismatch("initech", "user", 4)
	m.LogReadFailed("globex")
	m.OrgHooks("globex").HookDelivery("accepted")
	m.OrgHooks("globex").HookEvent("user.lifecycle.create")
	m.HookDelivery("unauthorized")
	checkSeries(t, reg, []series{
		{"okta_entity_provider_hook_deliveries_total", map[string]string{"org": "globex", "outcome": "accepted"}, 1},
		{"okta_entity_provider_hook_deliveries_total", map[string]string{"org": "initech", "outcome": "accepted"}, 0},
		{"okta_entity_provider_hook_deliveries_total", map[string]string{"org": "", "outcome": "accepted"}, 0},
		{"okta_entity_provider_hook_deliveries_total", map[string]string{"org": "", "outcome": "unauthorized"}, 1},
		{"okta_entity_provider_hook_events_total", map[string]string{"org": "globex", "type": "user.lifecycle.create"}, 1},
		{"okta_entity_provider_okta_requests_total", map[string]string{"org": "globex", "bucket": "users", "outcome": "ok"}, 1},
		{"okta_entity_provider_okta_requests_total", map[string]string{"org": "initech", "bucket": "users", "outcome": "ok"}, 1},
		{"okta_entity_provider_okta_requests_total", map[string]string{"org": "", "bucket": "users", "outcome": "ok"}, 0},
		{"okta_entity_provider_okta_rate_limit_remaining", map[string]string{"org": "globex", "bucket": "users"}, 10},
		{"okta_entity_provider_syncs_total", map[string]string{"org": "globex", "mode": "incremental", "outcome": "ok"}, 1},
		{"okta_entity_provider_syncs_total", map[string]string{"org": "initech", "mode": "incremental", "outcome": "failed"}, 1},
		{"okta_entity_provider_syncs_total", map[string]string{"org": "initech", "mode": "incremental", "outcome": "ok"}, 0},
		{"okta_entity_provider_reconcile_mismatches_total", map[string]string{"org": "initech", "kind": "user"}, 4},
		{"okta_entity_provider_system_log_read_errors_total", map[string]string{"org": "globex"}, 1},
		{"okta_entity_provider_system_log_read_errors_total", map[string]string{"org": "initech"}, 0},
	})
	if got := value(t, reg, "okta_entity_provider_org_last_successful_sync_timestamp_seconds", map[string]string{"org": "globex"}); got < 1.7e9 {
		t.Errorf("globex's last success: got %v, want a current Unix time", got)
	}
	if got := value(t, reg, "okta_entity_provider_org_last_successful_sync_timestamp_seconds", map[string]string{"org": "initech"}); got != 0 {
		t.Errorf("initech, whose only sync failed, has a last success time %v, want 0 (none yet)", got)
	}
	// Resumed from a saved or shared state, initech ages from now.
	m.Resumed("initech")
	if got := value(t, reg, "okta_entity_provider_org_last_successful_sync_timestamp_seconds", map[string]string{"org": "initech"}); got < 1.7e9 {
		t.Errorf("initech resumed from a state: got %v, want a current Unix time", got)
	}
}

func TestNewTwiceOnOneRegistryPanics(t *testing.T) {
	reg := prometheus.NewRegistry()
	metrics.New(reg)
	defer func() {
		if recover() == nil {
			t.Error("second New on the same registry: got no panic, want a duplicate registration panic")
		}
	}()
	metrics.New(reg)
}

// series is one series a test expects: name{labels} at want.
type series struct {
	name   string
	labels map[string]string
	want   float64
}

// checkSeries checks that each series in want has its value in reg.
func checkSeries(t *testing.T, reg *prometheus.Registry, want []series) {
	t.Helper()
	for _, s := range want {
		if got := value(t, reg, s.name, s.labels); got != s.want {
			t.Errorf("%s%v: got %v, want %v", s.name, s.labels, got, s.want)
		}
	}
}

// value gathers reg and returns the value of the series name{labels}: a
// counter's or gauge's value, a histogram's sample count. It fails the test
// when the series does not exist.
func value(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if !matches(m.GetLabel(), labels) {
				continue
			}
			switch {
			case m.Counter != nil:
				return m.GetCounter().GetValue()
			case m.Gauge != nil:
				return m.GetGauge().GetValue()
			case m.Histogram != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	t.Fatalf("series %s%v: not found", name, labels)
	return 0
}

func matches(pairs []*dto.LabelPair, want map[string]string) bool {
	if len(pairs) != len(want) {
		return false
	}
	for _, p := range pairs {
		if want[p.GetName()] != p.GetValue() {
			return false
		}
	}
	return true
}
