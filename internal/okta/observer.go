package okta

import (
	"net/http"
	"time"
)

// Observer receives the client's measurements, for metrics. Calls come from
// many goroutines at once; implementations must be safe for concurrent use
// and quick.
type Observer interface {
	// Request is called once per HTTP request sent, with its bucket, its
	// outcome (ok, client_error, server_error, rate_limited,
	// network_error, bad_response) and its duration.
	Request(bucket, outcome string, d time.Duration)
	// Retry is called whenever a request is sent again.
	Retry(bucket string)
	// RateLimited is called when Okta answers 429.
	RateLimited(bucket string)
	// RateWait is called with the time spent waiting for a bucket's budget:
	// pacing, and waiting out a 429.
	RateWait(bucket string, d time.Duration)
	// Remaining is called with a bucket's remaining budget after every
	// response that reports one.
	Remaining(bucket string, remaining, limit int)
}

// Request outcomes reported to Observer.Request.
const (
	OutcomeOK           = "ok"
	OutcomeClientError  = "client_error"
	OutcomeServerError  = "server_error"
	OutcomeRateLimited  = "rate_limited"
	OutcomeNetworkError = "network_error"
	// OutcomeBadResponse is an answer the client refused: a body over
	// Options.MaxResponseBytes.
	OutcomeBadResponse = "bad_response"
)

func outcomeOf(status int) string {
	switch {
	case status == http.StatusTooManyRequests:
		return OutcomeRateLimited
	case status >= 500:
		return OutcomeServerError
	case status >= 400:
		return OutcomeClientError
	}
	return OutcomeOK
}

type nopObserver struct{}

func (nopObserver) Request(string, string, time.Duration) {}
func (nopObserver) Retry(string)                          {}
func (nopObserver) RateLimited(string)                    {}
func (nopObserver) RateWait(string, time.Duration)        {}
func (nopObserver) Remaining(string, int, int)            {}
