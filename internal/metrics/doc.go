// Package metrics holds the service's Prometheus metrics. It registers them
// on a registry it is given and receives measurements through the Okta
// client's observer and the provider's hooks.
//
// It owns the metric names, help texts and label values, and nothing else:
// it must not decide anything the service does (no thresholds, no state the
// provider reads back). It implements the Okta client's and the provider's
// observer interfaces; they must not import it.
package metrics
