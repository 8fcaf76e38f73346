package eventhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// EnvelopeType is the eventType of every event hook delivery.
const EnvelopeType = "com.okta.event_hook"

// Delivery is one event hook call's body.
//
// See https://developer.okta.com/docs/concepts/event-hooks/
type Delivery struct {
	EventType          string    `json:"eventType"`
	EventTypeVersion   string    `json:"eventTypeVersion"`
	CloudEventsVersion string    `json:"cloudEventsVersion"`
	Source             string    `json:"source"`
	EventID            string    `json:"eventId"`
	EventTime          time.Time `json:"eventTime"`
	ContentType        string    `json:"contentType"`
	Data               struct {
		Events []okta.LogEvent `json:"events"`
	} `json:"data"`
}

// ErrMalformed is wrapped by Parse's errors.
var ErrMalformed = errors.New("not an Okta event hook delivery")

// Parse reads a delivery. A body that is not Okta's envelope (another
// eventType, no eventId, no data.events array) is an error wrapping
// ErrMalformed.
func Parse(body []byte) (Delivery, error) {
	var d Delivery
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&d); err != nil {
		return Delivery{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	var raw struct {
		Data struct {
			Events json.RawMessage `json:"events"`
		} `json:"data"`
	}
	_ = json.Unmarshal(body, &raw)
	switch {
	case d.EventType != EnvelopeType:
		return Delivery{}, fmt.Errorf("%w: eventType %q, want %q", ErrMalformed, d.EventType, EnvelopeType)
	case d.EventID == "":
		return Delivery{}, fmt.Errorf("%w: no eventId", ErrMalformed)
	case !bytes.HasPrefix(bytes.TrimSpace(raw.Data.Events), []byte("[")):
		return Delivery{}, fmt.Errorf("%w: no data.events array", ErrMalformed)
	}
	return d, nil
}

// Event types to subscribe, as the README lists them. A delivery of any
// other type is acknowledged and ignored.
var (
	// UserEvents change a user, or whether the catalog has them.
	UserEvents = []string{
		"user.lifecycle.create", "user.lifecycle.activate", "user.lifecycle.reactivate",
		"user.lifecycle.deactivate", "user.lifecycle.suspend", "user.lifecycle.unsuspend",
		"user.lifecycle.delete.initiated", "user.account.update_profile",
		"user.account.lock", "user.account.unlock",
	}
	// GroupEvents change a group or its members.
	GroupEvents = []string{
		"group.lifecycle.create", "group.lifecycle.delete", "group.profile.update",
		"group.user_membership.add", "group.user_membership.remove",
	}
	// AppEvents change an app assignment, which can add users to or
	// remove them from APP_GROUP groups, and decides who is emitted when
	// the selection is by app.
	AppEvents = []string{
		"application.user_membership.add", "application.user_membership.remove",
		"group.application_assignment.add", "group.application_assignment.remove",
	}
)

// Deletion event types: their User or UserGroup targets are checked with
// Okta. user.lifecycle.delete.completed is not hook-eligible; a deletion
// arrives as delete.initiated.
const (
	userDeleted  = "user.lifecycle.delete.initiated"
	groupDeleted = "group.lifecycle.delete"
)

var relevant = func() map[string]bool {
	m := map[string]bool{}
	for _, t := range slices.Concat(UserEvents, GroupEvents, AppEvents) {
		m[t] = true
	}
	return m
}()

// Relevant reports whether an event of this type can change the catalog.
func Relevant(eventType string) bool { return relevant[eventType] }

// Hint is what a delivery asks of the sync.
type Hint struct {
	// Events is the number of relevant events; 0 asks for nothing.
	Events int
	// DeletedUsers and DeletedGroups are the targets of deletion events,
	// to be checked with Okta.
	DeletedUsers, DeletedGroups []string
	// Published are the relevant events' publication times (Okta's
	// clock), for the change-to-publish latency.
	Published []time.Time
}

// HintOf returns what d's events ask for.
func HintOf(d Delivery) Hint {
	var h Hint
	for _, e := range d.Data.Events {
		if !Relevant(e.EventType) {
			continue
		}
		h.Events++
		if !e.Published.IsZero() {
			h.Published = append(h.Published, e.Published)
		}
		for _, t := range e.Target {
			switch {
			case e.EventType == userDeleted && t.Type == "User" && t.ID != "":
				h.DeletedUsers = append(h.DeletedUsers, t.ID)
			case e.EventType == groupDeleted && t.Type == "UserGroup" && t.ID != "":
				h.DeletedGroups = append(h.DeletedGroups, t.ID)
			}
		}
	}
	return h
}

// Seen remembers the eventIds of the latest deliveries, so that a
// delivery Okta sends again is recognised. It is safe for concurrent use.
type Seen struct {
	mu    sync.Mutex
	ids   map[string]bool
	order []string
	max   int
}

// NewSeen remembers up to n eventIds.
func NewSeen(n int) *Seen { return &Seen{ids: make(map[string]bool, n), max: n} }

// Add records id and reports whether it is new.
func (s *Seen) Add(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ids[id] {
		return false
	}
	if len(s.order) >= s.max {
		delete(s.ids, s.order[0])
		s.order = s.order[1:]
	}
	s.ids[id] = true
	s.order = append(s.order, id)
	return true
}

// VerificationHeader is the header of Okta's one-time verification GET.
const VerificationHeader = "X-Okta-Verification-Challenge"

// VerificationAnswer is the body that verifies a hook: the challenge
// echoed as {"verification": "<challenge>"}.
func VerificationAnswer(challenge string) []byte {
	b, _ := json.Marshal(map[string]string{"verification": challenge})
	return b
}

// SubscribedTypes lists every event type to subscribe, one string.
func SubscribedTypes() string {
	return strings.Join(slices.Concat(UserEvents, GroupEvents, AppEvents), ", ")
}
