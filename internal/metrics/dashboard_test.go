package metrics_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/okta-entity-provider/okta-entity-provider/internal/metrics"
)

// TestDashboardAndAlertsNameKnownMetrics holds the Grafana dashboard and
// the Helm chart's alerts to the metrics the service exports: a metric
// renamed or removed here must be renamed or removed there too.
func TestDashboardAndAlertsNameKnownMetrics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	// Every vector gets a series, so that every family is gathered.
	m.Request("users", "ok", time.Millisecond)
	m.Retry("users")
	m.RateLimited("users")
	m.RateWait("users", time.Millisecond)
	m.Remaining("users", 1, 2)
	m.SyncDone("", "full", "ok", time.Second, 1)
	m.Published(1, 1, time.Now())
	m.Held(false)
	m.Mismatch("", "user", 0)
	m.StateSaveFailed()
	m.LogReadFailed("")
	m.ConnectionOpened()
	m.ConnectionRefused()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, f := range families {
		known[f.GetName()] = true
	}

	name := regexp.MustCompile(`okta_entity_provider_[a-z0-9_]+`)
	for _, file := range []string{
		"../../deploy/grafana/okta-entity-provider.json",
		"../../deploy/helm/okta-entity-provider/templates/prometheusrule.yaml",
	} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		used := 0
		for _, n := range name.FindAllString(string(b), -1) {
			if n == "okta_entity_provider_" {
				continue
			}
			used++
			base := n
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if b := strings.TrimSuffix(n, suffix); b != n && known[b] {
					base = b
				}
			}
			if !known[base] {
				t.Errorf("%s: names %s, which the service does not export", file, n)
			}
		}
		if used == 0 {
			t.Errorf("%s: names no metric of the service", file)
		}
	}
}
