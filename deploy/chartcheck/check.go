package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/prometheus/promql/parser"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// helm runs the helm CLI with its homes in a temporary directory, so that
// neither the machine's repositories nor a cluster are used.
type helm struct {
	cmd  []string
	home string
}

// newHelm returns a helm that runs the binary at path, or go tool helm
// when path is empty.
func newHelm(path string) (*helm, error) {
	home, err := os.MkdirTemp("", "chartcheck-helm-")
	if err != nil {
		return nil, err
	}
	cmd := []string{"go", "tool", "helm"}
	if path != "" {
		cmd = []string{path}
	}
	return &helm{cmd: cmd, home: home}, nil
}

func (h *helm) close() { os.RemoveAll(h.home) }

// run runs helm with args and returns its standard output; a failure
// carries what helm wrote.
func (h *helm) run(ctx context.Context, args ...string) (string, error) {
	c := exec.CommandContext(ctx, h.cmd[0], append(h.cmd[1:], args...)...)
	c.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(h.home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(h.home, "config"),
		"HELM_DATA_HOME="+filepath.Join(h.home, "data"),
		"KUBECONFIG="+filepath.Join(h.home, "no-kubeconfig"),
		"HELM_NO_PLUGINS=1",
	)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		return "", fmt.Errorf("helm %s: %w\n%s%s", args[0], err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// releaseNamespace is the namespace the chart is rendered in.
const releaseNamespace = "backstage"

// object is one rendered manifest, decoded into its API type.
type object struct {
	source string // the template it came from
	kind   string
	name   string
	obj    any
}

// check lints the chart with the values files and --set values given,
// renders it, decodes every manifest strictly and holds the result to the
// chart's rules. It returns the decoded objects.
func (h *helm) check(ctx context.Context, chart string, values, sets []string) ([]object, error) {
	var args []string
	for _, f := range values {
		args = append(args, "--values", f)
	}
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	if _, err := h.run(ctx, append([]string{"lint", "--strict", chart}, args...)...); err != nil {
		return nil, err
	}
	out, err := h.run(ctx, append([]string{"template", "okta-entity-provider", chart, "--namespace", releaseNamespace}, args...)...)
	if err != nil {
		return nil, err
	}
	objs, err := decodeManifests(out)
	if err != nil {
		return nil, err
	}
	return objs, checkRules(objs)
}

// chartScheme returns a scheme of the API types the chart may render,
// registered one by one so that any other kind is unexpected.
func chartScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	s.AddKnownTypes(appsv1.SchemeGroupVersion, &appsv1.Deployment{})
	s.AddKnownTypes(corev1.SchemeGroupVersion,
		&corev1.Service{}, &corev1.ServiceAccount{}, &corev1.PersistentVolumeClaim{}, &corev1.ConfigMap{})
	s.AddKnownTypes(monitoringv1.SchemeGroupVersion, &monitoringv1.ServiceMonitor{}, &monitoringv1.PrometheusRule{})
	return s
}

var sourceLine = regexp.MustCompile(`(?m)^# Source: (\S+)`)

// decodeManifests splits helm template's output into its documents and
// decodes each strictly into its API type: an unknown or duplicated field
// is an error, as is a kind the chart is not expected to render.
func decodeManifests(out string) ([]object, error) {
	scheme := chartScheme()
	r := k8syaml.NewYAMLReader(bufio.NewReader(strings.NewReader(out)))
	var objs []object
	var errs []error
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("helm template output is not a YAML stream: %w", err)
		}
		source := "(unknown template)"
		if m := sourceLine.FindSubmatch(doc); m != nil {
			source = string(m[1])
		}
		js, err := yaml.YAMLToJSONStrict(doc)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", source, err))
			continue
		}
		if s := strings.TrimSpace(string(js)); s == "null" || s == "" {
			continue // a template that rendered nothing
		}
		var tm metav1.TypeMeta
		if _, err := sigsjson.UnmarshalStrict(js, &tm); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", source, err))
			continue
		}
		obj, err := scheme.New(schema.FromAPIVersionAndKind(tm.APIVersion, tm.Kind))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: unexpected kind %q of apiVersion %q: add its API type to chartcheck's chartScheme", source, tm.Kind, tm.APIVersion))
			continue
		}
		strict, err := sigsjson.UnmarshalStrict(js, obj, sigsjson.DisallowUnknownFields, sigsjson.DisallowDuplicateFields)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %s: %w", source, tm.Kind, err))
			continue
		}
		for _, e := range strict {
			errs = append(errs, fmt.Errorf("%s: %s: %w", source, tm.Kind, e))
		}
		name := ""
		if m, ok := obj.(metav1.Object); ok {
			name = m.GetName()
		}
		objs = append(objs, object{source: source, kind: tm.Kind, name: name, obj: obj})
	}
	return objs, errors.Join(errs...)
}

// checkRules holds the rendered objects to what the service needs and
// what the chart promises, beyond what the API types check.
func checkRules(objs []object) error {
	var (
		errs     []error
		deploys  []*appsv1.Deployment
		services []*corev1.Service
		monitors []*monitoringv1.ServiceMonitor
		rules    []*monitoringv1.PrometheusRule
		maps     = map[string]bool{}
	)
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	for _, o := range objs {
		switch v := o.obj.(type) {
		case *appsv1.Deployment:
			deploys = append(deploys, v)
		case *corev1.Service:
			services = append(services, v)
		case *monitoringv1.ServiceMonitor:
			monitors = append(monitors, v)
		case *monitoringv1.PrometheusRule:
			rules = append(rules, v)
		case *corev1.ConfigMap:
			maps[v.Name] = true
		}
	}
	if len(deploys) != 1 {
		return fmt.Errorf("want one Deployment, got %d", len(deploys))
	}
	d := deploys[0]
	pod := &d.Spec.Template.Spec
	if sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector); err != nil || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
		fail("Deployment %s: its selector does not match its pod labels", d.Name)
	}
	if len(pod.Containers) != 1 {
		return errors.Join(append(errs, fmt.Errorf("the Deployment %s: want one container, got %d", d.Name, len(pod.Containers)))...)
	}
	c := &pod.Containers[0]
	psc, sc := pod.SecurityContext, c.SecurityContext
	nonRoot := func() bool {
		if sc != nil && sc.RunAsNonRoot != nil {
			return *sc.RunAsNonRoot
		}
		return psc != nil && psc.RunAsNonRoot != nil && *psc.RunAsNonRoot
	}
	switch {
	case !nonRoot():
		fail("container %s: runAsNonRoot must be true", c.Name)
	case sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		fail("container %s: readOnlyRootFilesystem must be true", c.Name)
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		fail("container %s: allowPrivilegeEscalation must be false", c.Name)
	case sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL"):
		fail("container %s: capabilities must drop ALL", c.Name)
	}
	if sc != nil && sc.RunAsUser != nil && *sc.RunAsUser == 0 || psc != nil && psc.RunAsUser != nil && *psc.RunAsUser == 0 {
		fail("container %s: runAsUser 0 is root", c.Name)
	}
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	probe := func(what string, p *corev1.Probe, path string) {
		switch {
		case p == nil || p.HTTPGet == nil:
			fail("container %s: want an HTTP %s probe on %s", c.Name, what, path)
		case p.HTTPGet.Path != path:
			fail("container %s: %s probe on %s, want %s", c.Name, what, p.HTTPGet.Path, path)
		case p.HTTPGet.Port.StrVal != "" && ports[p.HTTPGet.Port.StrVal] == 0:
			fail("container %s: %s probe port %q is no container port", c.Name, what, p.HTTPGet.Port.StrVal)
		}
	}
	probe("liveness", c.LivenessProbe, "/healthz")
	probe("readiness", c.ReadinessProbe, "/readyz")
	if _, ok := c.Resources.Requests[corev1.ResourceMemory]; !ok {
		fail("container %s: want a memory request", c.Name)
	}
	if _, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok {
		fail("container %s: want a memory limit", c.Name)
	}
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		if _, dup := env[e.Name]; dup {
			fail("container %s: environment variable %s is set twice (a settings entry the chart sets itself?)", c.Name, e.Name)
		}
		env[e.Name] = e
		if r := e.ValueFrom; r != nil && r.SecretKeyRef != nil && (r.SecretKeyRef.Name == "" || r.SecretKeyRef.Key == "") {
			fail("container %s: %s refers to a Secret without a name or key", c.Name, e.Name)
		}
	}
	volumes := map[string]*corev1.Volume{}
	for i := range pod.Volumes {
		v := &pod.Volumes[i]
		volumes[v.Name] = v
		switch {
		case v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == "":
			fail("volume %s: no claim name", v.Name)
		case v.Secret != nil && v.Secret.SecretName == "":
			fail("volume %s: no Secret name", v.Name)
		case v.ConfigMap != nil && !maps[v.ConfigMap.Name]:
			fail("volume %s: ConfigMap %s is not rendered", v.Name, v.ConfigMap.Name)
		}
	}
	dataDir := env["DATA_DIR"].Value
	dataOK := false
	for _, m := range c.VolumeMounts {
		v := volumes[m.Name]
		if v == nil {
			fail("container %s: mount %s names no volume", c.Name, m.Name)
			continue
		}
		if m.MountPath == dataDir && !m.ReadOnly && (v.EmptyDir != nil || v.PersistentVolumeClaim != nil) {
			dataOK = true
		}
	}
	// In shared mode (DATABASE_URL) the state is in the database: no
	// DATA_DIR is needed, but one that is set must still be writable.
	_, shared := env["DATABASE_URL"]
	_, hasDataDir := env["DATA_DIR"]
	if !dataOK && (hasDataDir || !shared) {
		fail("container %s: DATA_DIR %q is not a writable emptyDir or PersistentVolumeClaim mount (the root file system is read-only)", c.Name, dataDir)
	}
	podLabels := labels.Set(d.Spec.Template.Labels)
	var serviceLabels []labels.Set
	for _, s := range services {
		if len(s.Spec.Selector) == 0 || !labels.SelectorFromSet(s.Spec.Selector).Matches(podLabels) {
			fail("Service %s: its selector does not match the pod's labels", s.Name)
		}
		for _, p := range s.Spec.Ports {
			if p.TargetPort.StrVal != "" && ports[p.TargetPort.StrVal] == 0 {
				fail("Service %s: target port %q is no container port", s.Name, p.TargetPort.StrVal)
			}
		}
		serviceLabels = append(serviceLabels, s.Labels)
	}
	for _, m := range monitors {
		sel, err := metav1.LabelSelectorAsSelector(&m.Spec.Selector)
		if err != nil || !slices.ContainsFunc(serviceLabels, func(l labels.Set) bool { return sel.Matches(l) }) {
			fail("ServiceMonitor %s: its selector matches no Service of the chart", m.Name)
		}
		for _, e := range m.Spec.Endpoints {
			if e.Path != "/metrics" {
				fail("ServiceMonitor %s: scrapes %s, want /metrics", m.Name, e.Path)
			}
		}
	}
	for _, r := range rules {
		for _, g := range r.Spec.Groups {
			for _, rule := range g.Rules {
				if err := checkExpr(rule.Expr.String()); err != nil {
					fail("PrometheusRule %s: alert %s: %v", r.Name, rule.Alert, err)
				}
			}
		}
	}
	return errors.Join(errs...)
}

// checkExpr parses a rule's PromQL expression as Prometheus does, and
// holds each series it selects to the service's metrics.
func checkExpr(expr string) error {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return fmt.Errorf("expression %q: %w", expr, err)
	}
	var errs []error
	for _, vs := range parser.ExtractSelectors(e) {
		for _, m := range vs {
			if m.Name == "__name__" && !strings.HasPrefix(m.Value, "okta_entity_provider_") {
				errs = append(errs, fmt.Errorf("expression %q selects %s, which is not the service's", expr, m.Value))
			}
		}
	}
	return errors.Join(errs...)
}
