package oktafake

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// hookReceiver is an event hook endpoint that verifies as Okta expects
// (or not, with wrongAnswer) and keeps the deliveries.
type hookReceiver struct {
	mu          sync.Mutex
	wrongAnswer bool
	auth        []string
	bodies      [][]byte
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.auth = append(h.auth, r.Header.Get("Authorization"))
	if r.Method == http.MethodGet {
		c := r.Header.Get("X-Okta-Verification-Challenge")
		if h.wrongAnswer {
			c += "x"
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"verification": c})
		return
	}
	b, _ := io.ReadAll(r.Body)
	h.bodies = append(h.bodies, b)
	w.WriteHeader(http.StatusNoContent)
}

func TestEventHookDelivers(t *testing.T) {
	t.Parallel()
	org := GenerateOrg(OrgOptions{Users: 20, Groups: 4, Seed: 3})
	srv := NewServer(org, Options{})
	t.Cleanup(srv.Close)
	recv := &hookReceiver{}
	ts := httptest.NewServer(recv)
	t.Cleanup(ts.Close)

	bad := &hookReceiver{wrongAnswer: true}
	badTS := httptest.NewServer(bad)
	t.Cleanup(badTS.Close)
	if _, err := srv.RegisterEventHook(context.Background(), EventHook{URL: badTS.URL, AuthValue: "s3cret"}); err == nil {
		t.Fatal("a hook whose verification answer is wrong was registered; want an error")
	}
	if _, err := srv.RegisterEventHook(context.Background(), EventHook{URL: ts.URL, Events: []string{"user.lifecycle.delete.completed"}}); err == nil {
		t.Fatal("a hook subscribing to user.lifecycle.delete.completed was registered; Okta refuses it")
	}
	_, err := srv.RegisterEventHook(context.Background(), EventHook{URL: ts.URL, AuthValue: "s3cret",
		Delay: Duration(10 * time.Millisecond), DuplicateRate: 1, ReorderRate: -1, Events: []string{"user.lifecycle.delete.initiated"}})
	if err != nil {
		t.Fatal(err)
	}
	user := org.Users()[0].ID
	if err := org.DeleteUser(user); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		recv.mu.Lock()
		n := len(recv.bodies)
		recv.mu.Unlock()
		if n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d deliveries within 10s, want 2 (DuplicateRate 1)", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	recv.mu.Lock()
	bodies, auth := slices.Clone(recv.bodies), slices.Clone(recv.auth)
	recv.mu.Unlock()
	var first, second struct {
		EventType, EventTypeVersion, CloudEventsVersion, Source, EventID, EventTime, ContentType string
		Data                                                                                     struct {
			Events []struct {
				UUID, EventType, Published string
				Target                     []struct{ ID, Type string }
			}
		}
	}
	if err := json.Unmarshal(bodies[0], &first); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(bodies[1], &second); err != nil {
		t.Fatal(err)
	}
	if first.EventType != "com.okta.event_hook" || first.EventTypeVersion != "1.0" || first.CloudEventsVersion != "0.1" ||
		first.ContentType != "application/json" || first.EventID == "" || !strings.Contains(first.Source, "/api/v1/eventHooks/") || first.EventTime == "" {
		t.Errorf("got envelope %+v, want Okta's", first)
	}
	if first.EventID != second.EventID {
		t.Errorf("got eventIds %q and %q for a duplicate, want the same", first.EventID, second.EventID)
	}
	// Only the subscribed type: the deactivation DeleteUser logs first is left out.
	if len(first.Data.Events) != 1 || first.Data.Events[0].EventType != "user.lifecycle.delete.initiated" ||
		len(first.Data.Events[0].Target) != 1 || first.Data.Events[0].Target[0].ID != user || first.Data.Events[0].Target[0].Type != "User" {
		t.Errorf("got events %+v, want the one user.lifecycle.delete.initiated of %s", first.Data.Events, user)
	}
	for i, a := range auth {
		if a != "s3cret" {
			t.Errorf("call %d: got Authorization %q, want the secret", i, a)
		}
	}
	// The fake counts an answer after the receiver has it.
	var hooks []RegisteredHook
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if hooks = srv.EventHooks(); len(hooks) == 1 && hooks[0].Stats.ByStatus["204"] >= 2 {
			break
		}
	}
	if len(hooks) != 1 || hooks[0].Stats.Duplicates == 0 || hooks[0].Stats.ByStatus["204"] < 2 {
		t.Errorf("got hooks %+v, want one with a duplicate and two 204s", hooks)
	}
}
