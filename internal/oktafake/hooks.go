package oktafake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// EventHook is an event hook as an admin registers one (Workflow › Event
// Hooks in the Admin Console): the URL Okta calls, the authentication
// header it sends on every call, and the event types it delivers. The
// rest says how the fake delivers, as Okta does: at least once, not in
// order, late.
type EventHook struct {
	// URL is where deliveries are POSTed.
	URL string `json:"url"`
	// AuthHeader and AuthValue are the header sent on every call, as
	// Okta's "Authentication field" and "Authentication secret". Default
	// header: Authorization.
	AuthHeader string `json:"authHeader,omitempty"`
	AuthValue  string `json:"authValue,omitempty"`
	// Events are the subscribed event types; empty subscribes every type
	// the fake logs that Okta lets a hook subscribe to.
	Events []string `json:"events,omitempty"`
	// Delay is how long after an event is published its delivery is sent.
	// Default DefaultHookDelay; negative: at once.
	Delay Duration `json:"delay,omitzero"`
	// DuplicateRate is the share of deliveries sent twice (the same
	// eventId); ReorderRate the share held back a further Delay plus up
	// to a second, so that later ones overtake them. Defaults 0.1 each;
	// negative: never.
	DuplicateRate float64 `json:"duplicateRate,omitempty"`
	ReorderRate   float64 `json:"reorderRate,omitempty"`
}

// Duration is a time.Duration written in JSON as a string such as "1s".
type Duration time.Duration

// MarshalJSON writes d as a duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a duration string such as "500ms".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration string such as \"1s\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want a duration string such as \"1s\": %w", err)
	}
	*d = Duration(v)
	return nil
}

// DefaultHookDelay is EventHook.Delay's default: Okta delivers within
// seconds.
const DefaultHookDelay = time.Second

// hookTimeout is how long Okta waits for a delivery's answer before it
// retries it, once.
const hookTimeout = 3 * time.Second

// maxHookBatch is the most events the fake puts in one delivery.
const maxHookBatch = 50

// hookIneligible are event types Okta's event-types.json marks as not
// eligible for event hooks: a subscription to one is refused.
var hookIneligible = map[string]bool{"user.lifecycle.delete.completed": true}

// HookStats count what an event hook was sent.
type HookStats struct {
	// Deliveries is the number of delivery POSTs sent, retries and
	// duplicates included; Events the events they held.
	Deliveries int64 `json:"deliveries"`
	Events     int64 `json:"events"`
	// ByStatus counts answers by HTTP status, "timeout" and "error" for
	// none.
	ByStatus map[string]int64 `json:"byStatus"`
	// Duplicates and Reordered count deliveries sent twice and held back.
	Duplicates int64 `json:"duplicates"`
	Reordered  int64 `json:"reordered"`
	// Retries counts second tries after a timeout or a 5xx.
	Retries int64 `json:"retries"`
}

// hook is a verified event hook and its delivery loop.
type hook struct {
	id     string
	cfg    EventHook
	events map[string]bool
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	stats HookStats
}

// RegisteredHook is an event hook with its id and what it was sent.
type RegisteredHook struct {
	ID string `json:"id"`
	EventHook
	Stats HookStats `json:"stats"`
}

// RegisterEventHook registers h, verifies it as Okta does (one GET with
// X-Okta-Verification-Challenge, which must be answered 200 with
// {"verification": <the challenge>}) and, once verified, delivers the
// subscribed events logged from now on. A hook that fails verification
// is not registered: Okta sends events only to verified hooks.
func (s *Server) RegisterEventHook(ctx context.Context, h EventHook) (string, error) {
	if err := h.validate(); err != nil {
		return "", err
	}
	if h.AuthHeader == "" {
		h.AuthHeader = "Authorization"
	}
	if h.Delay == 0 {
		h.Delay = Duration(DefaultHookDelay)
	}
	if h.DuplicateRate == 0 {
		h.DuplicateRate = 0.1
	}
	if h.ReorderRate == 0 {
		h.ReorderRate = 0.1
	}
	if err := s.verifyHook(ctx, h); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", errors.New("the server is closed")
	}
	s.hookSeq++
	hctx, cancel := context.WithCancel(context.Background())
	k := &hook{
		id: "who" + strconv.FormatUint(s.hookSeq, 10) + "fakehook", cfg: h, cancel: cancel, done: make(chan struct{}),
		stats: HookStats{ByStatus: map[string]int64{}},
	}
	if len(h.Events) > 0 {
		k.events = map[string]bool{}
		for _, t := range h.Events {
			k.events[t] = true
		}
	}
	s.hooks = append(s.hooks, k)
	go s.deliver(hctx, k, s.org.eventCount())
	return k.id, nil
}

func (h EventHook) validate() error {
	u, err := url.Parse(h.URL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("url %q: want an absolute http or https URL", h.URL)
	case h.DuplicateRate > 1 || h.ReorderRate > 1:
		return errors.New("duplicateRate, reorderRate: want shares of at most 1")
	}
	for _, t := range h.Events {
		if hookIneligible[t] {
			return fmt.Errorf("event type %s is not eligible for event hooks", t)
		}
	}
	return nil
}

// verifyHook sends Okta's one-time verification request.
func (s *Server) verifyHook(ctx context.Context, h EventHook) error {
	challenge := strconv.FormatUint(rand.Uint64(), 36) + strconv.FormatUint(rand.Uint64(), 36)
	ctx, cancel := context.WithTimeout(ctx, hookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.URL, nil)
	if err != nil {
		return fmt.Errorf("verify %s: %w", h.URL, err)
	}
	req.Header.Set("X-Okta-Verification-Challenge", challenge)
	req.Header.Set(h.AuthHeader, h.AuthValue)
	req.Header.Set("User-Agent", "Okta Google Web Hook Service")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("verify %s: %w", h.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("verify %s: answered %d, want 200", h.URL, resp.StatusCode)
	}
	var v struct {
		Verification string `json:"verification"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.Verification != challenge {
		return fmt.Errorf(`verify %s: answered %.200q, want {"verification": %q}`, h.URL, body, challenge)
	}
	return nil
}

// EventHooks returns the registered hooks with their counters.
func (s *Server) EventHooks() []RegisteredHook {
	s.mu.Lock()
	hooks := slices.Clone(s.hooks)
	s.mu.Unlock()
	out := make([]RegisteredHook, 0, len(hooks))
	for _, h := range hooks {
		h.mu.Lock()
		st := h.stats
		st.ByStatus = maps.Clone(h.stats.ByStatus)
		h.mu.Unlock()
		out = append(out, RegisteredHook{ID: h.id, EventHook: h.cfg, Stats: st})
	}
	return out
}

// Close stops delivering event hooks and waits for the deliveries in
// flight. The server keeps answering API requests.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	hooks := s.hooks
	s.hooks = nil
	s.mu.Unlock()
	for _, h := range hooks {
		h.cancel()
		<-h.done
	}
}

// deliver watches the org's events from index next on and sends each
// batch of subscribed ones after the hook's delay, until ctx ends.
func (s *Server) deliver(ctx context.Context, h *hook, next int) {
	defer close(h.done)
	var wg sync.WaitGroup
	defer wg.Wait()
	rng := rand.New(rand.NewPCG(uint64(s.opts.Seed), uint64(len(h.id))))
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		var events []event
		events, next = s.org.eventsFrom(next)
		events = slices.DeleteFunc(events, func(e event) bool { return h.events != nil && !h.events[e.eventType] })
		for len(events) > 0 {
			batch := events[:min(len(events), maxHookBatch)]
			events = events[len(batch):]
			body := s.hookBody(h, batch)
			delay := max(time.Duration(h.cfg.Delay), 0)
			times := 1
			if rng.Float64() < h.cfg.DuplicateRate {
				times = 2
				h.count(func(st *HookStats) { st.Duplicates++ })
			}
			if rng.Float64() < h.cfg.ReorderRate {
				delay += max(time.Duration(h.cfg.Delay), 0) + time.Duration(rng.Int64N(int64(time.Second)))
				h.count(func(st *HookStats) { st.Reordered++ })
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				t := time.NewTimer(delay)
				defer t.Stop()
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				for range times {
					s.post(ctx, h, body, len(batch))
				}
			}()
		}
	}
}

// post sends one delivery, and once more after a timeout or a 5xx, as
// Okta retries once; a 4xx is not retried.
func (s *Server) post(ctx context.Context, h *hook, body []byte, events int) {
	for try := range 2 {
		if try > 0 {
			h.count(func(st *HookStats) { st.Retries++ })
		}
		outcome := s.postOnce(ctx, h, body)
		h.count(func(st *HookStats) {
			st.Deliveries++
			st.Events += int64(events)
			st.ByStatus[outcome]++
		})
		if ctx.Err() != nil || (outcome != "timeout" && outcome != "error" && outcome[0] != '5') {
			return
		}
	}
}

func (s *Server) postOnce(ctx context.Context, h *hook, body []byte) string {
	ctx, cancel := context.WithTimeout(ctx, hookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return "error"
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(h.cfg.AuthHeader, h.cfg.AuthValue)
	req.Header.Set("User-Agent", "Okta Google Web Hook Service")
	resp, err := http.DefaultClient.Do(req)
	switch {
	case err != nil && errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case err != nil:
		return "error"
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	return strconv.Itoa(resp.StatusCode)
}

func (h *hook) count(f func(*HookStats)) {
	h.mu.Lock()
	f(&h.stats)
	h.mu.Unlock()
}

// hookBody is a delivery in Okta's envelope, the events as the System Log
// writes them.
func (s *Server) hookBody(h *hook, events []event) []byte {
	b := []byte(`{"eventType":"com.okta.event_hook","eventTypeVersion":"1.0","cloudEventsVersion":"0.1","source":`)
	b = okta.AppendJSONString(b, "https://fake.okta.example/api/v1/eventHooks/"+h.id)
	b = append(b, `,"eventId":`...)
	b = okta.AppendJSONString(b, eventUUID(rand.Uint64(), rand.Uint64()))
	b = append(b, `,"eventTime":`...)
	b = appendTime(b, timeMS(s.now()))
	b = append(b, `,"contentType":"application/json","data":{"events":[`...)
	for i := range events {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendEvent(b, &events[i])
	}
	return append(b, "]}}"...)
}

// eventCount is the number of events logged so far.
func (o *Org) eventCount() int {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return len(o.events)
}

// eventsFrom returns the events logged from index i on, and the index
// after them. Events are never changed once logged.
func (o *Org) eventsFrom(i int) ([]event, int) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return slices.Clone(o.events[min(i, len(o.events)):]), len(o.events)
}

// Events returns the System Log events logged from index from on, as the
// log and event hooks deliver them, and the index after them.
func (o *Org) Events(from int) ([]okta.LogEvent, int) {
	events, next := o.eventsFrom(from)
	out := make([]okta.LogEvent, len(events))
	for i, e := range events {
		out[i] = okta.LogEvent{UUID: e.uuid, Published: msTime(e.published), EventType: e.eventType}
		for _, t := range e.targets {
			out[i].Target = append(out[i].Target, okta.LogTarget{ID: t.id, Type: t.typ, DisplayName: t.displayName, AlternateID: t.alternateID})
		}
	}
	return out, next
}
