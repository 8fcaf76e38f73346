package eventhook

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const delivery = `{"eventType":"com.okta.event_hook","eventTypeVersion":"1.0","cloudEventsVersion":"0.1",
"source":"https://example.okta.com/api/v1/eventHooks/who1","eventId":"id-1","eventTime":"2026-01-02T03:04:05.000Z",
"contentType":"application/json","data":{"events":[
{"uuid":"a","published":"2026-01-02T03:04:04.000Z","eventType":"user.lifecycle.delete.initiated","target":[{"id":"00u1","type":"User"}]},
{"uuid":"b","published":"2026-01-02T03:04:04.100Z","eventType":"group.lifecycle.delete","target":[{"id":"00g1","type":"UserGroup"}]},
{"uuid":"c","published":"2026-01-02T03:04:04.200Z","eventType":"group.user_membership.remove","target":[{"id":"00u2","type":"User"},{"id":"00g2","type":"UserGroup"}]},
{"uuid":"d","published":"2026-01-02T03:04:04.300Z","eventType":"user.session.start","target":[{"id":"00u3","type":"User"}]},
{"uuid":"e","published":"2026-01-02T03:04:04.400Z","eventType":"group.lifecycle.delete","target":[{"id":"00u4","type":"User"}]}]}}`

func TestHintOf(t *testing.T) {
	t.Parallel()
	d, err := Parse([]byte(delivery))
	if err != nil {
		t.Fatal(err)
	}
	h := HintOf(d)
	// The session event is not relevant; a deletion's target of the wrong
	// type is not a suspect.
	want := Hint{Events: 4, DeletedUsers: []string{"00u1"}, DeletedGroups: []string{"00g1"}}
	if diff := cmp.Diff(want, h, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Published" }, cmp.Ignore())); diff != "" {
		t.Errorf("hint (-want +got):\n%s", diff)
	}
	if len(h.Published) != 4 || !h.Published[0].Equal(time.Date(2026, 1, 2, 3, 4, 4, 0, time.UTC)) {
		t.Errorf("got published %v, want the 4 relevant events' times", h.Published)
	}
}

func TestParseRefuses(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"not JSON":        `<html>`,
		"other eventType": `{"eventType":"com.okta.oauth2.tokens.transform","eventId":"x","data":{"events":[]}}`,
		"no eventId":      `{"eventType":"com.okta.event_hook","data":{"events":[]}}`,
		"no events":       `{"eventType":"com.okta.event_hook","eventId":"x","data":{}}`,
		"events not list": `{"eventType":"com.okta.event_hook","eventId":"x","data":{"events":{}}}`,
		"empty":           ``,
	} {
		if _, err := Parse([]byte(body)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
		}
	}
}

func TestSeenForgetsTheOldest(t *testing.T) {
	t.Parallel()
	s := NewSeen(2)
	for _, step := range []struct {
		id   string
		want bool
	}{{"a", true}, {"a", false}, {"b", true}, {"c", true}, {"a", true}, {"c", false}} {
		if got := s.Add(step.id); got != step.want {
			t.Errorf("Add(%q): got %v, want %v", step.id, got, step.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(delivery))
	f.Add([]byte(`{"eventType":"com.okta.event_hook","eventId":"x","data":{"events":[null,{}]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := Parse(body)
		if err != nil {
			return
		}
		h := HintOf(d)
		if h.Events > len(d.Data.Events) {
			t.Fatalf("got %d relevant events of %d", h.Events, len(d.Data.Events))
		}
		targets := map[string]bool{}
		for _, e := range d.Data.Events {
			for _, tg := range e.Target {
				targets[tg.ID] = true
			}
		}
		for _, id := range append(h.DeletedUsers, h.DeletedGroups...) {
			if id == "" || !targets[id] {
				t.Fatalf("suspect %q is no event's target", id)
			}
		}
	})
}
