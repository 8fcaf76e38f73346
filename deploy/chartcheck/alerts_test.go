package main

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/util/teststorage"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// The alert tests scrape and evaluate once a minute, from start for
// runMinutes minutes: long enough for the defaults' staleAfterSeconds
// (3600) and firstSyncWithin (1h) with their for durations.
const runMinutes = 150

var start = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// at returns the time of a minute of the run.
func at(minute int) time.Time { return start.Add(time.Duration(minute) * time.Minute) }

// A series is a metric's value at each minute of the run.
type series func(minute int) float64

// never is a timestamp or a counter that stays 0.
func never(int) float64 { return 0 }

// syncing is a timestamp that a sync sets every minute.
func syncing(minute int) float64 { return float64(at(minute).Unix()) }

// syncingUntil is a timestamp set every minute up to minute last, then
// no more.
func syncingUntil(last int) series { return func(m int) float64 { return syncing(min(m, last)) } }

// syncingFrom is a timestamp that is 0 until minute first, then set every
// minute.
func syncingFrom(first int) series {
	return func(m int) float64 {
		if m < first {
			return 0
		}
		return syncing(m)
	}
}

// setAt is a timestamp that is 0 until minute first, set then and never
// again.
func setAt(first int) series {
	return func(m int) float64 {
		if m < first {
			return 0
		}
		return syncing(first)
	}
}

// then is first until minute, and next from minute on.
func then(first series, minute int, next series) series {
	return func(m int) float64 {
		if m < minute {
			return first(m)
		}
		return next(m)
	}
}

// oneFrom is a gauge that is 1 from minute from until minute to, else 0.
func oneFrom(from, to int) series {
	return func(m int) float64 {
		if m >= from && m < to {
			return 1
		}
		return 0
	}
}

// counter is a counter at base that grows by n at minute (n 0: flat).
func counter(base, n float64, minute int) series {
	return func(m int) float64 {
		if m >= minute {
			return base + n
		}
		return base
	}
}

// mismatch names a series of reconcile_mismatches_total.
type mismatch struct{ org, kind string }

// replica is what one pod of the service exports of the series the alerts
// select (internal/metrics). A nil field is a replica that syncs every
// minute without trouble.
type replica struct {
	// service is the Service the pod is scraped through; "" is the chart's.
	service string
	// gone is the minute the pod is gone: Prometheus marks its series
	// stale and scrapes it no more. 0: it runs to the end.
	gone int
	// lastSuccess (last_successful_sync_timestamp_seconds) is set each time
	// the replica serves a new snapshot: after its own successful sync, at
	// the start when it serves the saved state, and on a follower in shared
	// mode when it loads a generation with a new ETag. Default: syncing.
	lastSuccess series
	// snapshotBuilt (snapshot_built_timestamp_seconds) is when the served
	// snapshot was built; 0 until one is served. Default: setAt(0).
	snapshotBuilt series
	// heldBack is snapshot_held_back. A held snapshot is not served, so
	// lastSuccess stays while it is held; a held sync is no failed one for
	// the orgs. Default: never.
	heldBack series
	// orgs are org_last_successful_sync_timestamp_seconds by org name,
	// set by each of the org's syncs that did not fail, and when the
	// replica resumes the org from a state it did not sync: the saved one
	// at the start, the shared one as its term as the leader begins; 0
	// before either. A follower runs no syncs: its orgs stay 0. With named
	// orgs, org "" is there too, at 0, as metrics.New makes it. Default: a service without
	// orgs, whose one org "" succeeds with each lastSuccess.
	orgs map[string]series
	// mismatches are reconcile_mismatches_total by org and kind; each
	// other org and kind is there at 0.
	mismatches map[mismatch]series
	// saveErrors is state_save_errors_total. Default: never.
	saveErrors series
}

// follower is what a follower in shared mode exports (internal/provider's
// shared.go): it loaded the leader's generation at the start and, the
// catalog being unchanged since, serves it still; it syncs no org.
func follower(orgs ...string) replica {
	r := replica{lastSuccess: setAt(0), snapshotBuilt: setAt(0), orgs: map[string]series{}}
	for _, o := range orgs {
		r.orgs[o] = never
	}
	return r
}

// mismatchKinds are the kind label's values of reconcile_mismatches_total.
var mismatchKinds = []string{"user", "group", "membership", "app"}

// scrapedSeries is one series of a replica, with its labels as scraped.
type scrapedSeries struct {
	labels labels.Labels
	values series
}

// scraped returns the replica's series as the chart's ServiceMonitor
// scrapes them: with the target's labels, pod its pod's name, release the
// namespace and service of the release.
func (r replica) scraped(release labels.Labels, pod string) []scrapedSeries {
	or := func(s, def series) series {
		if s == nil {
			return def
		}
		return s
	}
	target := labels.NewBuilder(release).Set("pod", pod)
	if r.service != "" {
		target.Set("service", r.service)
	}
	base := target.Labels()
	var out []scrapedSeries
	add := func(name string, s series, extra ...string) {
		lb := labels.NewBuilder(base).Set(model.MetricNameLabel, "okta_entity_provider_"+name)
		for i := 0; i < len(extra); i += 2 {
			lb.Set(extra[i], extra[i+1])
		}
		out = append(out, scrapedSeries{lb.Labels(), s})
	}
	last := or(r.lastSuccess, syncing)
	add("last_successful_sync_timestamp_seconds", last)
	add("snapshot_built_timestamp_seconds", or(r.snapshotBuilt, setAt(0)))
	add("snapshot_held_back", or(r.heldBack, never))
	add("state_save_errors_total", or(r.saveErrors, never))
	orgs := map[string]series{"": last}
	if r.orgs != nil {
		orgs = map[string]series{"": never}
		maps.Copy(orgs, r.orgs)
	}
	for org, s := range orgs {
		add("org_last_successful_sync_timestamp_seconds", s, "org", org)
		for _, kind := range mismatchKinds {
			add("reconcile_mismatches_total", or(r.mismatches[mismatch{org, kind}], never), "org", org, "kind", kind)
		}
	}
	return out
}

// firing is an alert expected to fire: its labels beyond the release's
// and the rule's own, and the minute it first fires.
type firing struct {
	alert  string
	labels string
	minute int
}

// alertRule is one alerting rule of the rendered PrometheusRule.
type alertRule struct {
	rule       monitoringv1.Rule
	expr       parser.Expr
	hold, keep time.Duration // for and keep_firing_for
}

// renderedAlerts renders the chart with its PrometheusRule and returns its
// alerting rules, the labels the ServiceMonitor gives the release's
// series (namespace and service), and the Deployment's name.
func renderedAlerts(t *testing.T) ([]alertRule, labels.Labels, string) {
	t.Helper()
	objs, err := newTestHelm(t).check(context.Background(), chartDir, nil,
		[]string{"metrics.serviceMonitor.enabled=true", "metrics.prometheusRule.enabled=true"})
	if err != nil {
		t.Fatal(err)
	}
	var (
		alerts  []alertRule
		service string
		deploy  string
	)
	for _, o := range objs {
		switch v := o.obj.(type) {
		case *corev1.Service:
			service = v.Name
		case *appsv1.Deployment:
			deploy = v.Name
		case *monitoringv1.PrometheusRule:
			for _, g := range v.Spec.Groups {
				for _, r := range g.Rules {
					if r.Alert == "" {
						continue
					}
					a := alertRule{rule: r}
					if a.expr, err = parser.NewParser(parser.Options{}).ParseExpr(r.Expr.String()); err != nil {
						t.Fatalf("alert %s: %v", r.Alert, err)
					}
					if a.hold, err = ruleDuration(r.For); err != nil {
						t.Fatalf("alert %s: for: %v", r.Alert, err)
					}
					if a.keep, err = ruleDuration(r.KeepFiringFor); err != nil {
						t.Fatalf("alert %s: keep_firing_for: %v", r.Alert, err)
					}
					alerts = append(alerts, a)
				}
			}
		}
	}
	if len(alerts) == 0 || service == "" || deploy == "" {
		t.Fatalf("rendered %d alerts, Service %q, Deployment %q; want all three", len(alerts), service, deploy)
	}
	return alerts, labels.FromStrings("namespace", releaseNamespace, "service", service), deploy
}

// ruleDuration parses a rule's duration as Prometheus does; nil is 0.
func ruleDuration[D ~string](d *D) (time.Duration, error) {
	if d == nil {
		return 0, nil
	}
	v, err := model.ParseDuration(string(*d))
	return time.Duration(v), err
}

// TestAlerts evaluates the chart's alerts, as rendered with the default
// values, with Prometheus's rule engine over series shaped as the service
// exports them: once a minute for runMinutes, so that each rule's for
// counts. Each case lists every alert that fires, with its labels and the
// minute it starts firing; every other alert must stay silent.
func TestAlerts(t *testing.T) {
	t.Parallel()
	alerts, release, deploy := renderedAlerts(t)
	cases := []struct {
		name     string
		replicas []replica
		fire     []firing
	}{
		{
			name:     "one replica syncing: silent",
			replicas: []replica{{}},
		},
		{
			name:     "syncs fail from 20m: SyncStale fires once the last success is over 3600s old (81m), for 5m",
			replicas: []replica{{lastSuccess: syncingUntil(20)}},
			fire:     []firing{{"OktaEntityProviderSyncStale", "{}", 86}},
		},
		{
			name: "restart serving the saved state, then no sync succeeds: SyncStale fires 3600s and 5m after the restart",
			replicas: []replica{{
				lastSuccess:   setAt(0),
				snapshotBuilt: func(int) float64 { return float64(start.Add(-24 * time.Hour).Unix()) },
			}},
			fire: []firing{{"OktaEntityProviderSyncStale", "{}", 66}},
		},
		{
			name: "no snapshot served (the first sync of two orgs has not succeeded): NoSnapshot fires after firstSyncWithin, the stale alerts stay silent",
			replicas: []replica{{
				lastSuccess: never, snapshotBuilt: never,
				orgs: map[string]series{"acme": never, "globex": never},
			}},
			fire: []firing{{"OktaEntityProviderNoSnapshot", "{}", 60}},
		},
		{
			name:     "first snapshot at 50m, before firstSyncWithin: silent",
			replicas: []replica{{lastSuccess: syncingFrom(50), snapshotBuilt: setAt(50)}},
		},
		{
			name: "two orgs syncing: silent (org \"\" at 0 is no org of the config file)",
			replicas: []replica{{
				orgs: map[string]series{"acme": syncing, "globex": syncing},
			}},
		},
		{
			name: "restart serving the saved states, acme syncing, no sync of globex succeeds: OrgSyncStale fires for globex only, 3600s and 5m after the restart",
			replicas: []replica{{
				orgs: map[string]series{"acme": syncing, "globex": setAt(0)},
			}},
			fire: []firing{{"OktaEntityProviderOrgSyncStale", `{org="globex"}`, 66}},
		},
		{
			name: "acme syncing, globex failing from 20m: OrgSyncStale fires for globex only, at 86m",
			replicas: []replica{{
				orgs: map[string]series{"acme": syncing, "globex": syncingUntil(20)},
			}},
			fire: []firing{{"OktaEntityProviderOrgSyncStale", `{org="globex"}`, 86}},
		},
		{
			name: "shared mode: the leader syncs two orgs, the follower serves its generation and syncs none: silent",
			replicas: []replica{
				{orgs: map[string]series{"acme": syncing, "globex": syncing}},
				follower("acme", "globex"),
			},
		},
		{
			name: "shared mode: the leader syncs, the follower's series are all 0 (it has loaded nothing yet): silent",
			replicas: []replica{
				{orgs: map[string]series{"acme": syncing, "globex": syncing}},
				{lastSuccess: never, snapshotBuilt: never, orgs: map[string]series{"acme": never, "globex": never}},
			},
		},
		{
			name: "shared mode: the leader's pod goes at 40m, the follower takes the lease and syncs both orgs from 40m: silent",
			replicas: []replica{
				{gone: 40, orgs: map[string]series{"acme": syncing, "globex": syncing}},
				{
					lastSuccess: then(setAt(0), 40, syncing), snapshotBuilt: setAt(0),
					orgs: map[string]series{"acme": then(never, 40, syncing), "globex": then(never, 40, syncing)},
				},
			},
		},
		{
			name: "shared mode: the leader's pod goes at 40m, the new leader resumes both orgs then and globex's syncs fail: OrgSyncStale fires for globex 3600s and 5m after the takeover",
			replicas: []replica{
				{gone: 40, orgs: map[string]series{"acme": syncing, "globex": syncing}},
				{
					lastSuccess: then(setAt(0), 40, syncing), snapshotBuilt: setAt(0),
					orgs: map[string]series{"acme": then(never, 40, syncing), "globex": setAt(40)},
				},
			},
			fire: []firing{{"OktaEntityProviderOrgSyncStale", `{org="globex"}`, 106}},
		},
		{
			name: "shared mode: the leader's syncs fail from 20m: each stale alert fires once for the service, not per replica",
			replicas: []replica{
				{lastSuccess: syncingUntil(20), orgs: map[string]series{"acme": syncingUntil(20), "globex": syncingUntil(20)}},
				follower("acme", "globex"),
			},
			fire: []firing{
				{"OktaEntityProviderSyncStale", "{}", 86},
				{"OktaEntityProviderOrgSyncStale", `{org="acme"}`, 86},
				{"OktaEntityProviderOrgSyncStale", `{org="globex"}`, 86},
			},
		},
		{
			name:     "a snapshot held back 30m to 44m, less than heldFor: silent",
			replicas: []replica{{heldBack: oneFrom(30, 44), lastSuccess: then(syncingUntil(30), 44, syncing)}},
		},
		{
			name:     "a snapshot held back from 30m to 60m: SnapshotHeldBack fires after heldFor (45m)",
			replicas: []replica{{heldBack: oneFrom(30, 60), lastSuccess: then(syncingUntil(30), 60, syncing)}},
			fire:     []firing{{"OktaEntityProviderSnapshotHeldBack", "{}", 45}},
		},
		{
			name: "shared mode: a snapshot held back from 30m on, on the leader and the follower: SnapshotHeldBack fires once at 45m, and SyncStale at 96m as nothing is published",
			replicas: []replica{
				{
					heldBack: oneFrom(30, runMinutes+1), lastSuccess: syncingUntil(30),
					orgs: map[string]series{"acme": syncing, "globex": syncing},
				},
				func() replica { r := follower("acme", "globex"); r.heldBack = oneFrom(30, runMinutes+1); return r }(),
			},
			fire: []firing{
				{"OktaEntityProviderSnapshotHeldBack", "{}", 45},
				{"OktaEntityProviderSyncStale", "{}", 96},
			},
		},
		{
			name: "a full reconciliation finds 2 membership differences at 30m: ReconcileMismatch fires at once for that kind and pod (the single org's empty org label is no label in Prometheus)",
			replicas: []replica{{
				mismatches: map[mismatch]series{{"", "membership"}: counter(0, 2, 30)},
			}},
			fire: []firing{{"OktaEntityProviderReconcileMismatch", fmt.Sprintf(`{kind="membership", pod="%s-0"}`, deploy), 30}},
		},
		{
			name: "shared mode: the leader's reconciliation finds a globex user differing at 30m: ReconcileMismatch fires for globex on the leader's pod",
			replicas: []replica{
				{
					orgs:       map[string]series{"acme": syncing, "globex": syncing},
					mismatches: map[mismatch]series{{"globex", "user"}: counter(0, 1, 30)},
				},
				follower("acme", "globex"),
			},
			fire: []firing{{"OktaEntityProviderReconcileMismatch", fmt.Sprintf(`{kind="user", org="globex", pod="%s-0"}`, deploy), 30}},
		},
		{
			name:     "reconcile mismatches counted before the run, flat since: silent",
			replicas: []replica{{mismatches: map[mismatch]series{{"", "group"}: counter(3, 0, 0)}}},
		},
		{
			name:     "a state save fails at 30m: StateSaveErrors fires at once",
			replicas: []replica{{saveErrors: counter(0, 1, 30)}},
			fire:     []firing{{"OktaEntityProviderStateSaveErrors", fmt.Sprintf(`{pod="%s-0"}`, deploy), 30}},
		},
		{
			name:     "state save errors counted before the run, flat since: silent",
			replicas: []replica{{saveErrors: counter(1, 0, 0)}},
		},
		{
			name: "another release's replica failing in every way while this one syncs: silent",
			replicas: []replica{{}, {
				service:     "okta-entity-provider-eu",
				lastSuccess: syncingUntil(0), heldBack: oneFrom(0, runMinutes+1),
				orgs:       map[string]series{"acme": never},
				mismatches: map[mismatch]series{{"acme", "user"}: counter(0, 1, 30)},
				saveErrors: counter(0, 1, 30),
			}},
		},
	}
	// Each alert of the chart fires in some case, and no case expects an
	// alert the chart does not have.
	fires := map[string]bool{}
	for _, tc := range cases {
		for _, f := range tc.fire {
			fires[f.alert] = true
		}
	}
	for _, a := range alerts {
		if !fires[a.rule.Alert] {
			t.Errorf("alert %s of the chart fires in no case: add a case where it must fire", a.rule.Alert)
		}
		delete(fires, a.rule.Alert)
	}
	for name := range fires {
		t.Errorf("a case expects alert %s, which the chart does not have", name)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := evaluate(t, alerts, release, deploy, tc.replicas)
			want := map[string]int{}
			for _, f := range tc.fire {
				want[f.alert+" "+f.labels] = f.minute
			}
			for _, k := range slices.Sorted(maps.Keys(got)) {
				w, ok := want[k]
				switch {
				case !ok:
					t.Errorf("alert %s: fires from %dm, want silent", k, got[k])
				case got[k] != w:
					t.Errorf("alert %s: fires from %dm, want from %dm", k, got[k], w)
				}
			}
			for _, k := range slices.Sorted(maps.Keys(want)) {
				if _, ok := got[k]; !ok {
					t.Errorf("alert %s: silent, want firing from %dm", k, want[k])
				}
			}
		})
	}
}

// evaluate stores the replicas' series, scraped once a minute, and
// evaluates each alert once a minute over them, as Prometheus's rule
// manager does. It returns the minute each alert first fired, by alert
// name and labels beyond the release's and the rule's own.
func evaluate(t *testing.T, alerts []alertRule, release labels.Labels, deploy string, replicas []replica) map[string]int {
	t.Helper()
	ctx := context.Background()
	st := teststorage.New(t)
	app := st.Appender(ctx)
	for i, r := range replicas {
		for _, s := range r.scraped(release, fmt.Sprintf("%s-%d", deploy, i)) {
			for m := 0; m <= runMinutes; m++ {
				v := s.values(m)
				if m == r.gone && m > 0 {
					v = math.Float64frombits(value.StaleNaN)
				}
				if _, err := app.Append(0, s.labels, at(m).UnixMilli(), v); err != nil {
					t.Fatal(err)
				}
				if m == r.gone && m > 0 {
					break
				}
			}
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	engine := promql.NewEngine(promql.EngineOpts{MaxSamples: 1_000_000, Timeout: time.Minute})
	t.Cleanup(func() { _ = engine.Close() })
	query := rules.EngineQueryFunc(engine, st)

	got := map[string]int{}
	for _, a := range alerts {
		rule := rules.NewAlertingRule(a.rule.Alert, a.expr, a.hold, a.keep,
			labels.FromMap(a.rule.Labels), labels.FromMap(a.rule.Annotations), labels.EmptyLabels(), "", false, nil)
		for m := 0; m <= runMinutes; m++ {
			if _, err := rule.Eval(ctx, 0, at(m), query, nil, 0); err != nil {
				t.Fatalf("alert %s at %dm: %v", a.rule.Alert, m, err)
			}
			for _, al := range rule.ActiveAlerts() {
				if al.State != rules.StateFiring {
					continue
				}
				key := a.rule.Alert + " " + beyond(al.Labels, release, a.rule.Labels)
				if _, seen := got[key]; !seen {
					got[key] = m
					al.Annotations.Range(func(l labels.Label) {
						if strings.Contains(l.Value, "<error expanding template") {
							t.Errorf("alert %s: annotation %s: %s", key, l.Name, l.Value)
						}
					})
				}
			}
		}
	}
	return got
}

// beyond formats an alert's labels without its name, the rule's own
// labels and the release's labels; a release label the alert lacks or
// changed stays, as "(absent)" when it lacks it.
func beyond(ls, release labels.Labels, own map[string]string) string {
	lb := labels.NewBuilder(ls).Del(labels.AlertName)
	for k, v := range own {
		if ls.Get(k) == v {
			lb.Del(k)
		}
	}
	release.Range(func(l labels.Label) {
		switch ls.Get(l.Name) {
		case l.Value:
			lb.Del(l.Name)
		case "":
			lb.Set(l.Name, "(absent)")
		}
	})
	return lb.Labels().String()
}
