package backstage

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"
)

// fakeCatalog serves the two catalog endpoints the client calls, under a
// path prefix, in two pages; failures makes the next refreshes answer 503.
type fakeCatalog struct {
	mu        sync.Mutex
	refreshed []string
	failures  int
	auth      []string
}

func (f *fakeCatalog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/backstage/api/catalog/entities/by-query":
		loc := func(name, target string, targets ...string) map[string]any {
			return map[string]any{"kind": "Location", "metadata": map[string]any{"name": name, "namespace": "default"},
				"spec": map[string]any{"target": target, "targets": targets}}
		}
		if r.URL.Query().Get("cursor") == "" {
			if r.URL.Query().Get("filter") != "kind=location" {
				http.Error(w, "want filter=kind=location", http.StatusBadRequest)
				return
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"items": []any{
				loc("generated-abc", "http://svc:8080/entities?token=x"),
				loc("other", "https://github.com/org/repo/blob/main/catalog-info.yaml"),
			}, "pageInfo": map[string]any{"nextCursor": "c2"}})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"items": []any{
			loc("shard-0", "./entities/shards/0"),
			loc("elsewhere", "http://svc:8080/entitiesx"),
		}, "pageInfo": map[string]any{}})
	case r.Method == http.MethodPost && r.URL.Path == "/backstage/api/catalog/refresh":
		if f.failures > 0 {
			f.failures--
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		var body struct{ EntityRef string }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.refreshed = append(f.refreshed, body.EntityRef)
	default:
		http.NotFound(w, r)
	}
}

type outcomes struct {
	mu  sync.Mutex
	got []string
}

func (o *outcomes) CatalogRefresh(outcome string) {
	o.mu.Lock()
	o.got = append(o.got, outcome)
	o.mu.Unlock()
}

func TestNotifierRefreshesThisServicesLocations(t *testing.T) {
	t.Parallel()
	cat := &fakeCatalog{failures: 2}
	ts := httptest.NewServer(cat)
	t.Cleanup(ts.Close)
	c, err := NewClient(ts.URL+"/backstage/", "tok", "http://svc:8080/entities", nil)
	if err != nil {
		t.Fatal(err)
	}
	obs := &outcomes{}
	n := NewNotifier(zerolog.Nop(), c, obs)
	n.MinBackoff, n.MaxBackoff = time.Millisecond, 4*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = n.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	n.Notify()
	n.Notify() // joins the first
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := n.Status()
		if st.Refreshes[OutcomeOK] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("got status %+v within 10s, want one ok refresh after the failures", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cat.mu.Lock()
	defer cat.mu.Unlock()
	want := []string{"location:default/generated-abc", "location:default/shard-0"}
	if diff := cmp.Diff(want, cat.refreshed); diff != "" {
		t.Errorf("refreshed (-want +got):\n%s", diff)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if diff := cmp.Diff([]string{OutcomeFailed, OutcomeFailed, OutcomeOK}, obs.got); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if slices.ContainsFunc(cat.auth, func(a string) bool { return a != "Bearer tok" }) {
		t.Errorf("got Authorization headers %v, want Bearer tok on every call", cat.auth)
	}
}

func TestNewClientRefusesBadSettings(t *testing.T) {
	t.Parallel()
	for name, args := range map[string][3]string{
		"relative base": {"backstage:7007", "t", "http://svc/entities"},
		"no token":      {"http://backstage:7007", "", "http://svc/entities"},
		"bad target":    {"http://backstage:7007", "t", "/entities"},
	} {
		if _, err := NewClient(args[0], args[1], args[2], nil); err == nil {
			t.Errorf("%s: got no error, want one", name)
		}
	}
}
