package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

const chartDir = "../helm/okta-entity-provider"

// helmBin is the helm CLI built once from this module's helm.sh/helm/v4.
var helmBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "chartcheck-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	helmBin = filepath.Join(dir, "helm")
	build := exec.Command("go", "build", "-o", helmBin, "helm.sh/helm/v4/cmd/helm")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "building helm from its module: %v\n", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func newTestHelm(t *testing.T) *helm {
	t.Helper()
	h, err := newHelm(helmBin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.close)
	return h
}

// rendered counts the objects rendered, by kind, and returns the one Deployment.
func rendered(t *testing.T, objs []object) (map[string]int, *appsv1.Deployment) {
	t.Helper()
	kinds := map[string]int{}
	var d *appsv1.Deployment
	for _, o := range objs {
		kinds[o.kind]++
		if v, ok := o.obj.(*appsv1.Deployment); ok {
			d = v
		}
	}
	if d == nil {
		t.Fatal("no Deployment rendered")
	}
	return kinds, d
}

func envOf(c *corev1.Container) map[string]corev1.EnvVar {
	m := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		m[e.Name] = e
	}
	return m
}

// TestChart renders the chart with the configurations a platform team
// would use and checks each passes lint, strict decoding and the rules,
// and renders what it was asked for.
func TestChart(t *testing.T) {
	t.Parallel()
	valuesFile := filepath.Join(t.TempDir(), "values.yaml")
	err := os.WriteFile(valuesFile, []byte(`
okta:
  orgURL: https://example.okta.com
  oauth:
    clientID: 0oa1b2c3d4e5f6g7h8i9
    keyID: key-1
    privateKey:
      existingSecret: okta-service-app
    scopes: okta.users.read okta.groups.read okta.logs.read
entitiesToken:
  existingSecret: okta-entity-provider-tokens
adminToken:
  existingSecret: okta-entity-provider-tokens
settings:
  OKTA_USER_SEARCH: 'profile.department eq "Engineering"'
  USERS_FROM_GROUPS: true
  ENTITY_SHARDS: 8
configFile:
  naming:
    user: slugify-email
  userMappings:
    - attribute: githubUsername
      annotation: github.com/user-login
persistence:
  enabled: true
  existingClaim: provider-state
metrics:
  serviceMonitor:
    enabled: true
  prometheusRule:
    enabled: true
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		values []string
		sets   []string
		kinds  map[string]int
		check  func(t *testing.T, d *appsv1.Deployment, objs []object)
	}{
		{
			name:  "defaults (demo org)",
			kinds: map[string]int{"Deployment": 1, "Service": 1, "ServiceAccount": 1},
			check: func(t *testing.T, d *appsv1.Deployment, _ []object) {
				if v := d.Spec.Template.Spec.Volumes[0]; v.EmptyDir == nil {
					t.Errorf("data volume: got %+v, want an emptyDir", v.VolumeSource)
				}
				if _, ok := envOf(&d.Spec.Template.Spec.Containers[0])["OKTA_ORG_URL"]; ok {
					t.Error("OKTA_ORG_URL set without okta.orgURL")
				}
			},
		},
		{
			name: "API token, PVC and monitoring",
			sets: []string{
				"okta.orgURL=https://example.okta.com", "okta.token.existingSecret=okta-token",
				"persistence.enabled=true", "metrics.serviceMonitor.enabled=true", "metrics.prometheusRule.enabled=true",
			},
			kinds: map[string]int{"Deployment": 1, "Service": 1, "ServiceAccount": 1, "PersistentVolumeClaim": 1, "ServiceMonitor": 1, "PrometheusRule": 1},
			check: func(t *testing.T, d *appsv1.Deployment, objs []object) {
				c := &d.Spec.Template.Spec.Containers[0]
				if got := envOf(c)["OKTA_TOKEN_FILE"].Value; got != "/var/run/secrets/okta/token" {
					t.Errorf("OKTA_TOKEN_FILE: got %q", got)
				}
				if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
					t.Errorf("strategy with a ReadWriteOnce claim: got %q, want Recreate", d.Spec.Strategy.Type)
				}
				var alerts []string
				for _, o := range objs {
					if r, ok := o.obj.(*monitoringv1.PrometheusRule); ok {
						for _, g := range r.Spec.Groups {
							for _, rule := range g.Rules {
								alerts = append(alerts, rule.Alert)
								if !strings.Contains(rule.Expr.String(), `namespace="backstage", service="okta-entity-provider"`) {
									t.Errorf("alert %s: expression %q does not select the release's series", rule.Alert, rule.Expr.String())
								}
							}
						}
					}
				}
				want := "OktaEntityProviderSyncStale OktaEntityProviderOrgSyncStale OktaEntityProviderNoSnapshot OktaEntityProviderSnapshotHeldBack OktaEntityProviderReconcileMismatch OktaEntityProviderStateSaveErrors"
				if got := strings.Join(alerts, " "); got != want {
					t.Errorf("alerts: got %s, want %s", got, want)
				}
			},
		},
		{
			name: "shared mode: three replicas on PostgreSQL",
			sets: []string{
				"okta.orgURL=https://example.okta.com", "okta.token.existingSecret=okta-token",
				"replicaCount=3", "database.url.existingSecret=okta-entity-provider-db",
			},
			kinds: map[string]int{"Deployment": 1, "Service": 1, "ServiceAccount": 1},
			check: func(t *testing.T, d *appsv1.Deployment, _ []object) {
				env := envOf(&d.Spec.Template.Spec.Containers[0])
				if ref := env["DATABASE_URL"].ValueFrom; ref == nil || ref.SecretKeyRef == nil || ref.SecretKeyRef.Name != "okta-entity-provider-db" || ref.SecretKeyRef.Key != "database-url" {
					t.Errorf("DATABASE_URL: got %+v, want a reference to okta-entity-provider-db/database-url", env["DATABASE_URL"])
				}
				if ref := env["REPLICA_ID"].ValueFrom; ref == nil || ref.FieldRef == nil || ref.FieldRef.FieldPath != "metadata.name" {
					t.Errorf("REPLICA_ID: got %+v, want the pod's name", env["REPLICA_ID"])
				}
				if _, ok := env["DATA_DIR"]; ok {
					t.Error("DATA_DIR set in shared mode")
				}
				if d.Spec.Replicas == nil || *d.Spec.Replicas != 3 {
					t.Errorf("replicas: got %v, want 3", d.Spec.Replicas)
				}
			},
		},
		{
			name:   "OAuth, config file, settings, existing claim",
			values: []string{valuesFile},
			kinds:  map[string]int{"Deployment": 1, "Service": 1, "ServiceAccount": 1, "ConfigMap": 1, "ServiceMonitor": 1, "PrometheusRule": 1},
			check: func(t *testing.T, d *appsv1.Deployment, _ []object) {
				env := envOf(&d.Spec.Template.Spec.Containers[0])
				for k, want := range map[string]string{
					"OKTA_CLIENT_ID": "0oa1b2c3d4e5f6g7h8i9", "OKTA_PRIVATE_KEY_FILE": "/var/run/secrets/okta/private-key",
					"OKTA_USER_SEARCH": `profile.department eq "Engineering"`, "USERS_FROM_GROUPS": "true", "ENTITY_SHARDS": "8",
					"CONFIG_FILE": "/etc/okta-entity-provider/config.yaml",
				} {
					if got := env[k].Value; got != want {
						t.Errorf("%s: got %q, want %q", k, got, want)
					}
				}
				if ref := env["ADMIN_TOKEN"].ValueFrom; ref == nil || ref.SecretKeyRef.Name != "okta-entity-provider-tokens" || ref.SecretKeyRef.Key != "admin-token" {
					t.Errorf("ADMIN_TOKEN: got %+v, want a reference to okta-entity-provider-tokens/admin-token", env["ADMIN_TOKEN"])
				}
				if v := d.Spec.Template.Spec.Volumes[0]; v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != "provider-state" {
					t.Errorf("data volume: got %+v, want the claim provider-state", v.VolumeSource)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			objs, err := newTestHelm(t).check(context.Background(), chartDir, tc.values, tc.sets)
			if err != nil {
				t.Fatal(err)
			}
			kinds, d := rendered(t, objs)
			if fmt.Sprint(kinds) != fmt.Sprint(tc.kinds) {
				t.Errorf("kinds: got %v, want %v", kinds, tc.kinds)
			}
			tc.check(t, d, objs)
		})
	}
}

// TestChartRejects checks that broken values fail the check, each at the
// step meant to catch it: helm lint (the values schema), helm template
// (the chart's own checks), strict decoding, or the rules.
func TestChartRejects(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		sets []string
		want string
	}{
		{"typo in a field name", []string{"securityContext.runAsNonRot=true"},
			`unknown field "spec.template.spec.containers[0].securityContext.runAsNonRot"`},
		{"typo in a probe field", []string{"livenessProbe.httpGet.paht=/healthz"},
			`unknown field "spec.template.spec.containers[0].livenessProbe.httpGet.paht"`},
		{"wrong case of a field", []string{"podSecurityContext.RunAsUser=1000"},
			`unknown field "spec.template.spec.securityContext.RunAsUser"`},
		{"typo in a value name", []string{"resorces.limits.memory=1Gi"}, "additional properties 'resorces' not allowed"},
		{"bad quantity", []string{"resources.limits.memory=lots"}, "quantities must match the regular expression"},
		{"org without credentials", []string{"okta.orgURL=https://example.okta.com"}, "okta.orgURL is set without credentials"},
		{"credentials without an org", []string{"okta.token.existingSecret=okta-token"}, "Okta credentials are set without okta.orgURL"},
		{"secret in settings", []string{"settings.OKTA_TOKEN=abc"}, "secrets do not belong in values"},
		{"database URL in settings", []string{"settings.DATABASE_URL=postgres://u:p@db/x"}, "secrets do not belong in values"},
		{"shared database with a volume", []string{"database.url.existingSecret=db", "persistence.enabled=true"}, "disable persistence"},
		{"setting the chart sets", []string{"settings.DATA_DIR=/tmp"}, "DATA_DIR is set twice"},
		{"writable root", []string{"securityContext.readOnlyRootFilesystem=false"}, "readOnlyRootFilesystem must be true"},
		{"root user", []string{"podSecurityContext.runAsNonRoot=false", "securityContext.runAsNonRoot=false"}, "runAsNonRoot must be true"},
		{"probe elsewhere", []string{"readinessProbe.httpGet.path=/healthz"}, "readiness probe on /healthz, want /readyz"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := newTestHelm(t).check(context.Background(), chartDir, nil, tc.sets)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("check with %v: got %v, want an error with %q", tc.sets, err, tc.want)
			}
		})
	}
}

// TestDecodeManifests checks the strict decoding on its own.
func TestDecodeManifests(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"ok", "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  ports:\n    - port: 80\n", ""},
		{"unknown field", "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  portz: []\n", `unknown field "spec.portz"`},
		{"duplicate field", "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  name: t\n", `"name" already set`},
		{"wrong type", "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  ports: 80\n", "cannot unmarshal number"},
		{"unexpected kind", "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\n", `unexpected kind "Job"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			objs, err := decodeManifests("---\n# Source: chart/templates/x.yaml\n" + tc.doc)
			switch {
			case tc.want == "" && (err != nil || len(objs) != 1):
				t.Errorf("got %d objects, %v; want one, no error", len(objs), err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want an error with %q", err, tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), "chart/templates/x.yaml"):
				t.Errorf("error %q does not name the template", err)
			}
		})
	}
}
