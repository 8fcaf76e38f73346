package api

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/okta-entity-provider/okta-entity-provider/internal/eventhook"
)

const hookSecret = "hook-secret-0123456789abcdef"

// hookDelivery is a delivery in Okta's envelope with a user deletion and a
// membership change.
const hookDelivery = `{"eventType":"com.okta.event_hook","eventTypeVersion":"1.0","cloudEventsVersion":"0.1",
"source":"https://example.okta.com/api/v1/eventHooks/who1","eventId":"b5a188b9-5ece-4636-b041-482ffda96311",
"eventTime":"2026-01-02T03:04:05.000Z","contentType":"application/json","data":{"events":[
{"uuid":"e1","published":"2026-01-02T03:04:04.000Z","eventType":"user.lifecycle.delete.initiated",
 "target":[{"id":"00u1","type":"User","alternateId":"a@example.com","displayName":"A"}]},
{"uuid":"e2","published":"2026-01-02T03:04:04.500Z","eventType":"group.user_membership.add",
 "target":[{"id":"00u2","type":"User"},{"id":"00g1","type":"UserGroup"}]}]}}`

// hintRecorder is an eventhook.Target that keeps the hints.
type hintRecorder struct {
	mu    sync.Mutex
	hints []eventhook.Hint
}

func (h *hintRecorder) Hint(x eventhook.Hint) {
	h.mu.Lock()
	h.hints = append(h.hints, x)
	h.mu.Unlock()
}

func hookConfig() Config {
	return Config{EventHookSecret: hookSecret, Hooks: eventhook.NewReceiver(zerolog.Nop(), &hintRecorder{}, nil)}
}

// orgHookConfig enables the event hooks of two orgs, acme and globex.
func orgHookConfig() Config {
	return Config{EventHookSecret: hookSecret, OrgHooks: map[string]HookReceiver{
		"acme":   eventhook.NewReceiver(zerolog.Nop(), &hintRecorder{}, nil),
		"globex": eventhook.NewReceiver(zerolog.Nop(), &hintRecorder{}, nil),
	}}
}

// readCounter is a body that counts the bytes read from it.
type readCounter struct {
	r    io.Reader
	read int
}

func (c *readCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += n
	return n, err
}

// TestHookRefusesWithoutTheSecret checks that a delivery with a wrong or
// missing secret gets 401 before its body is read and changes nothing.
func TestHookRefusesWithoutTheSecret(t *testing.T) {
	t.Parallel()
	for name, auth := range map[string]string{
		"missing": "", "wrong": "hook-secret-0123456789abcdeX", "prefix": hookSecret[:10], "longer": hookSecret + "0",
		"bearer": "Bearer " + hookSecret, "empty header value": " ",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			target := &hintRecorder{}
			recv := eventhook.NewReceiver(zerolog.Nop(), target, nil)
			h := NewServer(zerolog.Nop(), &fakeSource{}, nil, nil, Config{EventHookSecret: hookSecret, Hooks: recv})
			body := &readCounter{r: strings.NewReader(hookDelivery)}
			r := httptest.NewRequest(http.MethodPost, "/hooks/okta", body)
			if auth != "" {
				r.Header.Set("Authorization", auth)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusUnauthorized {
				t.Fatalf("got status %d, want 401", w.Code)
			}
			if body.read != 0 {
				t.Errorf("got %d bytes of the body read, want 0: refuse before reading", body.read)
			}
			if len(target.hints) != 0 {
				t.Errorf("got %d hints, want none", len(target.hints))
			}
			st := recv.Status()
			if st.Verified || st.Deliveries[eventhook.OutcomeUnauthorized] != 1 || st.Deliveries[eventhook.OutcomeAccepted] != 0 {
				t.Errorf("got status %+v, want one unauthorized call and nothing else", st)
			}
		})
	}
}

// TestHookDelivery checks that a delivery hands on its hint once: the
// deletion targets, the relevant events, and nothing for a repeat.
func TestHookDelivery(t *testing.T) {
	t.Parallel()
	target := &hintRecorder{}
	recv := eventhook.NewReceiver(zerolog.Nop(), target, nil)
	h := NewServer(zerolog.Nop(), &fakeSource{}, nil, nil, Config{EventHookSecret: hookSecret, Hooks: recv})
	for range 2 {
		r := httptest.NewRequest(http.MethodPost, "/hooks/okta", strings.NewReader(hookDelivery))
		r.Header.Set("Authorization", hookSecret)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusNoContent {
			t.Fatalf("got status %d (%s), want 204", w.Code, w.Body)
		}
	}
	if len(target.hints) != 1 {
		t.Fatalf("got %d hints for a delivery sent twice, want 1", len(target.hints))
	}
	got := target.hints[0]
	if got.Events != 2 || len(got.Published) != 2 {
		t.Errorf("got %d events with %d published times, want 2 and 2", got.Events, len(got.Published))
	}
	if diff := cmp.Diff([]string{"00u1"}, got.DeletedUsers); diff != "" || len(got.DeletedGroups) != 0 {
		t.Errorf("deleted users (-want +got):\n%s; deleted groups %v, want none", diff, got.DeletedGroups)
	}
	st := recv.Status()
	if st.Deliveries[eventhook.OutcomeAccepted] != 1 || st.Deliveries[eventhook.OutcomeDuplicate] != 1 {
		t.Errorf("got deliveries %v, want 1 accepted and 1 duplicate", st.Deliveries)
	}
}
