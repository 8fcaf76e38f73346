package eventhook

import (
	"errors"
	"maps"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Delivery outcomes, as counted by the Observer and shown on /status.
const (
	OutcomeAccepted     = "accepted"     // a new delivery, acknowledged and handed on
	OutcomeDuplicate    = "duplicate"    // an eventId seen before, acknowledged, ignored
	OutcomeIgnored      = "ignored"      // no relevant event in it
	OutcomeMalformed    = "malformed"    // not Okta's envelope: 400
	OutcomeUnauthorized = "unauthorized" // a missing or wrong secret: 401
	OutcomeTooLarge     = "too_large"    // over the body limit: 413
	OutcomeRateLimited  = "rate_limited" // over the rate limit: 429
)

// Target receives the hints; the provider implements it. Hint must not
// block: the delivery is acknowledged only after it returns.
type Target interface {
	Hint(h Hint)
}

// Observer counts deliveries and events, for metrics.
type Observer interface {
	HookDelivery(outcome string)
	HookEvent(eventType string)
}

// Receiver takes verified, authenticated delivery bodies (package api
// checks the secret and bounds the body) and hands their hints to the
// target. It is safe for concurrent use.
type Receiver struct {
	log    zerolog.Logger
	target Target
	obs    Observer
	seen   *Seen

	mu     sync.Mutex
	status Status
}

// Status is what /status shows of the event hook.
type Status struct {
	// Verified reports whether, since the service started, Okta's
	// verification request was answered or an authenticated delivery came
	// (Okta delivers only to verified hooks, and does not verify again
	// after a restart); VerifiedAt is when the verification was answered,
	// null when it was not since start.
	Verified   bool       `json:"verified"`
	VerifiedAt *time.Time `json:"verifiedAt"`
	// LastDelivery describes the latest delivery, null before the first.
	LastDelivery *DeliveryInfo `json:"lastDelivery"`
	// Deliveries counts deliveries since start by outcome.
	Deliveries map[string]int64 `json:"deliveries"`
}

// DeliveryInfo describes one delivery.
type DeliveryInfo struct {
	At      time.Time `json:"at"`
	Outcome string    `json:"outcome"`
	EventID string    `json:"eventId,omitempty"`
	Events  int       `json:"events"`
}

// NewReceiver returns a receiver handing hints to target. obs may be nil.
func NewReceiver(log zerolog.Logger, target Target, obs Observer) *Receiver {
	if obs == nil {
		obs = nopObserver{}
	}
	return &Receiver{log: log, target: target, obs: obs, seen: NewSeen(4096),
		status: Status{Deliveries: map[string]int64{}}}
}

// Verify answers Okta's verification request and records it.
func (r *Receiver) Verify(challenge string) []byte {
	now := time.Now().UTC()
	r.mu.Lock()
	first := !r.status.Verified
	r.status.Verified, r.status.VerifiedAt = true, &now
	r.mu.Unlock()
	if first {
		r.log.Info().Msg("Okta event hook verified")
	}
	return VerificationAnswer(challenge)
}

// Deliver takes one delivery body. It returns an error wrapping
// ErrMalformed for a body that is not a delivery; the caller answers 400.
func (r *Receiver) Deliver(body []byte) error {
	d, err := Parse(body)
	if err != nil {
		r.Refused(OutcomeMalformed)
		return err
	}
	if !r.seen.Add(d.EventID) {
		r.record(OutcomeDuplicate, d.EventID, len(d.Data.Events))
		return nil
	}
	for _, e := range d.Data.Events {
		r.obs.HookEvent(e.EventType)
	}
	h := HintOf(d)
	if h.Events == 0 {
		r.record(OutcomeIgnored, d.EventID, len(d.Data.Events))
		return nil
	}
	r.target.Hint(h)
	r.record(OutcomeAccepted, d.EventID, len(d.Data.Events))
	return nil
}

// Refused records a delivery refused before its body was read.
func (r *Receiver) Refused(outcome string) { r.record(outcome, "", 0) }

func (r *Receiver) record(outcome, eventID string, events int) {
	r.obs.HookDelivery(outcome)
	r.mu.Lock()
	switch outcome {
	case OutcomeAccepted, OutcomeDuplicate, OutcomeIgnored:
		r.status.Verified = true
	}
	r.status.Deliveries[outcome]++
	r.status.LastDelivery = &DeliveryInfo{At: time.Now().UTC(), Outcome: outcome, EventID: eventID, Events: events}
	r.mu.Unlock()
}

// Status returns a copy of the receiver's status.
func (r *Receiver) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.status
	st.Deliveries = maps.Clone(r.status.Deliveries)
	if st.LastDelivery != nil {
		d := *st.LastDelivery
		st.LastDelivery = &d
	}
	return st
}

// IsMalformed reports whether err is Deliver refusing a body.
func IsMalformed(err error) bool { return errors.Is(err, ErrMalformed) }

type nopObserver struct{}

func (nopObserver) HookDelivery(string) {}
func (nopObserver) HookEvent(string)    {}
