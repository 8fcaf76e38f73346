// Command chartcheck checks the Helm chart of okta-entity-provider offline:
// helm lint --strict, helm template, and every rendered manifest decoded
// strictly into its Kubernetes API type (k8s.io/api, and the Prometheus
// Operator's types for ServiceMonitor and PrometheusRule), so that a field
// name no Kubernetes type has, a duplicated field or a value of the wrong
// type fails the check instead of being dropped by the API server. On top
// of the types it holds the chart to what the service needs: a non-root
// container with a read-only root file system, probes on /healthz and
// /readyz, resources, and DATA_DIR on a volume; and it parses each alert's
// expression with Prometheus's PromQL parser.
//
// Usage (from this directory):
//
//	go run . [-chart dir] [-helm path] [-f values.yaml]... [-set key=value]...
//
// It runs the helm CLI built from helm's Go module (helm.sh/helm/v4, a tool
// of this module: go tool helm), with its cache, config and data homes in
// a temporary directory: no repository, cluster or schema is fetched.
//
// It is a module of its own, so that helm's and Kubernetes' large
// dependency trees stay out of the service's go.mod.
package main
