package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/okta-entity-provider/okta-entity-provider/internal/asynctest"
	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
	"github.com/okta-entity-provider/okta-entity-provider/internal/oktafake"
	"github.com/okta-entity-provider/okta-entity-provider/internal/provider"
)

// logSink collects the service's JSON log lines and reports the address
// of its "listening" line.
type logSink struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	lines  []string
	addr   chan string
	posted bool
}

func newLogSink() *logSink { return &logSink{addr: make(chan string, 1)} }

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for {
		line, err := l.buf.ReadString('\n')
		if err != nil {
			l.buf.Reset()
			l.buf.WriteString(line)
			break
		}
		l.lines = append(l.lines, line)
		var e struct{ Message, Addr string }
		if !l.posted && json.Unmarshal([]byte(line), &e) == nil && e.Message == "listening" {
			l.posted = true
			l.addr <- e.Addr
		}
	}
	return len(p), nil
}

func (l *logSink) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "")
}

// service is a running run().
type service struct {
	base   string
	cancel context.CancelFunc
	done   chan error
	logs   *logSink
}

// startService runs run() with env on a loopback port and waits until it
// listens.
func startService(t *testing.T, env map[string]string) *service {
	t.Helper()
	env["LISTEN_ADDR"] = "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	s := &service{cancel: cancel, done: make(chan error, 1), logs: newLogSink()}
	go func() { s.done <- run(ctx, nil, func(k string) string { return env[k] }, s.logs, io.Discard) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-s.done:
			if err != nil {
				t.Logf("run returned: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("run did not return 20s after cancel")
		}
		if t.Failed() {
			t.Logf("service log:\n%s", s.logs)
		}
	})
	select {
	case addr := <-s.logs.addr:
		s.base = "http://" + addr
	case err := <-s.done:
		t.Fatalf("run returned before listening: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not listen within 10s")
	}
	return s
}

// plainTransport asks for no compression, so responses come as the plain
// representation (and its ETag) unless a test sets Accept-Encoding itself.
var plainTransport = &http.Transport{DisableCompression: true}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (s *service) do(t *testing.T, method, path string, header map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := plainTransport.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return response{resp.StatusCode, resp.Header, body}
}

func (s *service) get(t *testing.T, path string) response {
	t.Helper()
	return s.do(t, http.MethodGet, path, nil)
}

func (s *service) status(t *testing.T) provider.Status {
	t.Helper()
	r := s.get(t, "/status")
	var st provider.Status
	if r.status != http.StatusOK {
		t.Fatalf("GET /status: got %d, want 200", r.status)
	}
	if err := json.Unmarshal(r.body, &st); err != nil {
		t.Fatalf("GET /status: %v", err)
	}
	return st
}

// entityRefs parses a multi-document YAML body into kind:namespace/name refs.
func entityRefs(t *testing.T, body []byte) []string {
	t.Helper()
	var refs []string
	dec := yaml.NewDecoder(bytes.NewReader(body))
	for {
		var e struct {
			Kind     string `yaml:"kind"`
			Metadata struct {
				Name      string `yaml:"name"`
				Namespace string `yaml:"namespace"`
			} `yaml:"metadata"`
			Spec struct {
				Target string `yaml:"target"`
			} `yaml:"spec"`
		}
		err := dec.Decode(&e)
		if errors.Is(err, io.EOF) {
			return refs
		}
		if err != nil {
			t.Fatalf("entities are not multi-document YAML: %v", err)
		}
		ns := e.Metadata.Namespace
		if ns == "" {
			ns = "default"
		}
		ref := strings.ToLower(e.Kind + ":" + ns + "/" + e.Metadata.Name)
		if e.Kind == "Location" {
			ref = "location:" + e.Spec.Target
		}
		refs = append(refs, ref)
	}
}

func startFake(t *testing.T, org *oktafake.Org, opts oktafake.Options) (*oktafake.Server, string) {
	t.Helper()
	opts.Prefix = "/okta-prefix"
	fake := oktafake.NewServer(org, opts)
	ts := httptest.NewServer(fake)
	t.Cleanup(ts.Close)
	return fake, ts.URL + opts.Prefix
}

// TestRunEndToEnd runs the service against a fake Okta with latency,
// server errors and concurrency 429s, and walks it through its life:
// not ready, first snapshot, conditional requests, changes, a failing
// member listing, the deletion guard, and a graceful shutdown.
func TestRunEndToEnd(t *testing.T) {
	t.Parallel()
	org := oktafake.GenerateOrg(oktafake.OrgOptions{Users: 80, Groups: 12, Seed: 3})
	fake, orgURL := startFake(t, org, oktafake.Options{
		Latency: 2 * time.Millisecond, ErrorRate: 0.03, ConcurrencyLimit: 3, Seed: 11,
	})
	fake.SetFaults(oktafake.Faults{Down: true})
	s := startService(t, map[string]string{
		"OKTA_ORG_URL":         orgURL,
		"OKTA_TOKEN":           "demo-token",
		"SYNC_INTERVAL":        "1s",
		"OKTA_MAX_CONCURRENCY": "4",
		"OKTA_MAX_RETRIES":     "2",
		"ADMIN_TOKEN":          "admin-secret",
		"MAX_DELETE_SHARE":     "0.2",
	})

	// Okta is down: the service is alive but serves no entities.
	if r := s.get(t, "/healthz"); r.status != http.StatusOK {
		t.Errorf("healthz while Okta is down: got %d, want 200", r.status)
	}
	for _, path := range []string{"/entities", "/entities/users", "/readyz"} {
		r := s.get(t, path)
		if r.status != http.StatusServiceUnavailable || (path != "/readyz" && r.header.Get("Retry-After") == "") {
			t.Errorf("GET %s before the first sync: got %d, Retry-After %q, want 503 with Retry-After", path, r.status, r.header.Get("Retry-After"))
		}
	}
	fake.SetFaults(oktafake.Faults{})
	asynctest.WaitFor(t, 20*time.Second, "ready", func() bool { return s.get(t, "/readyz").status == http.StatusOK })

	r := s.get(t, "/entities")
	etag := r.header.Get("ETag")
	st := s.status(t)
	refs := entityRefs(t, r.body)
	if r.status != http.StatusOK || etag == "" || len(refs) != st.Snapshot.Users+st.Snapshot.Groups || len(refs) == 0 {
		t.Fatalf("GET /entities: got %d, ETag %q, %d entities, want 200 with %d+%d", r.status, etag, len(refs), st.Snapshot.Users, st.Snapshot.Groups)
	}
	if st.Snapshot.ETag != etag {
		t.Errorf("status etag: got %s, want %s", st.Snapshot.ETag, etag)
	}
	if r := s.do(t, http.MethodGet, "/entities", map[string]string{"If-None-Match": etag}); r.status != http.StatusNotModified {
		t.Errorf("If-None-Match: got %d, want 304", r.status)
	}

	// A sync that finds no change keeps the ETag.
	completed := st.Syncs.Completed
	asynctest.WaitFor(t, 10*time.Second, "another good sync", func() bool {
		st := s.status(t)
		return st.Syncs.Completed > completed+1 && st.LastSync.Outcome == provider.OutcomeOK
	})
	if got := s.get(t, "/entities").header.Get("ETag"); got != etag {
		t.Errorf("ETag after a sync without changes: got %s, want %s", got, etag)
	}

	// A change in Okta changes the ETag.
	var groups []okta.Group
	for _, g := range org.Groups() {
		if g.Type == okta.GroupTypeOkta && len(org.Members(g.ID)) > 0 {
			groups = append(groups, g)
		}
	}
	if err := org.RenameGroup(groups[0].ID, "Renamed Platform Team"); err != nil {
		t.Fatal(err)
	}
	asynctest.WaitFor(t, 10*time.Second, "the rename to be served", func() bool {
		return s.get(t, "/entities").header.Get("ETag") != etag
	})
	r = s.get(t, "/entities")
	etag, body := r.header.Get("ETag"), r.body
	if !bytes.Contains(body, []byte("renamed-platform-team")) {
		t.Error("renamed group not served")
	}

	// One group's member listing fails: nothing is published, the last good
	// snapshot stays, and the failure shows on /status. Its membership
	// changes, so that an incremental sync must list it.
	failing := groups[1].ID
	fake.SetFaults(oktafake.Faults{FailPathPrefix: "/api/v1/groups/" + failing + "/users"})
	if err := org.RenameGroup(groups[2].ID, "Renamed During Outage"); err != nil {
		t.Fatal(err)
	}
	for _, u := range org.Users() {
		if u.Status == okta.StatusActive && !slices.Contains(org.Members(failing), u.ID) {
			if err := org.AddMember(failing, u.ID); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	failed := s.status(t).Syncs.Failed
	asynctest.WaitFor(t, 15*time.Second, "a failed sync", func() bool {
		st := s.status(t)
		return st.Syncs.Failed > failed && st.LastSync.Outcome == provider.OutcomeFailed
	})
	st = s.status(t)
	if !strings.Contains(st.LastSync.Error, failing) {
		t.Errorf("lastSync.error: got %q, want the failing group %s named", st.LastSync.Error, failing)
	}
	if r := s.get(t, "/entities"); r.header.Get("ETag") != etag || !bytes.Equal(r.body, body) {
		t.Error("a failed sync changed the served entities")
	}
	fake.SetFaults(oktafake.Faults{})
	asynctest.WaitFor(t, 10*time.Second, "the change after the outage", func() bool {
		return bytes.Contains(s.get(t, "/entities").body, []byte("renamed-during-outage"))
	})
	r = s.get(t, "/entities")
	etag, body = r.header.Get("ETag"), r.body

	// Deleting 30% of the users is held back until accepted.
	users := org.Users()
	served := s.status(t).Snapshot.Users
	for _, u := range users[:len(users)*3/10] {
		if err := org.DeleteUser(u.ID); err != nil {
			t.Fatal(err)
		}
	}
	// A sync that ran while the users were deleted one by one may hold
	// only part of it: wait for one that started after the last.
	completed = s.status(t).Syncs.Completed
	asynctest.WaitFor(t, 10*time.Second, "the whole shrunken snapshot to be held", func() bool {
		st := s.status(t)
		return st.HeldBack != nil && st.Syncs.Completed >= completed+2
	})
	st = s.status(t)
	if st.HeldBack.Users >= served || !strings.Contains(st.HeldBack.Reason, "users") {
		t.Errorf("heldBack: got %+v, want fewer users than the %d served and a reason", st.HeldBack, served)
	}
	if r := s.get(t, "/entities"); r.header.Get("ETag") != etag || !bytes.Equal(r.body, body) {
		t.Error("the held snapshot is served")
	}
	if r := s.do(t, http.MethodPost, "/admin/accept", nil); r.status != http.StatusUnauthorized && r.status != http.StatusForbidden {
		t.Errorf("accept without the admin token: got %d, want 401 or 403", r.status)
	}
	// Accepting is bound to the reviewed snapshot: If-Match is required,
	// and must name the held one.
	admin := map[string]string{"Authorization": "Bearer admin-secret"}
	if r := s.do(t, http.MethodPost, "/admin/accept", admin); r.status != http.StatusPreconditionRequired {
		t.Errorf("accept without If-Match: got %d %s, want 428", r.status, r.body)
	}
	admin["If-Match"] = etag // the served snapshot's, not the held one's
	if r := s.do(t, http.MethodPost, "/admin/accept", admin); r.status != http.StatusPreconditionFailed {
		t.Errorf("accept with a stale ETag: got %d %s, want 412", r.status, r.body)
	}
	if r := s.get(t, "/entities"); r.header.Get("ETag") != etag {
		t.Error("a refused accept changed what is served")
	}
	admin["If-Match"] = st.HeldBack.ETag
	if r := s.do(t, http.MethodPost, "/admin/accept", admin); r.status != http.StatusOK {
		t.Fatalf("accept: got %d %s, want 200", r.status, r.body)
	}
	st = s.status(t)
	if st.HeldBack != nil || st.Snapshot.Users >= served {
		t.Errorf("after accept: heldBack %+v, %d users, want none held and fewer than %d", st.HeldBack, st.Snapshot.Users, served)
	}
	if got := s.get(t, "/entities").header.Get("ETag"); got == etag || got != st.Snapshot.ETag || got != admin["If-Match"] {
		t.Errorf("ETag after accept: got %s, want the accepted snapshot's %s", got, admin["If-Match"])
	}
	s.get(t, "/no-such-path") // counted under route "other"
	m := s.get(t, "/metrics").body
	if !bytes.Contains(m, []byte(`okta_entity_provider_syncs_total{mode="incremental",org="",outcome="held"}`)) {
		t.Error("metrics: no held sync counted")
	}
	for _, series := range []string{`okta_entity_provider_build_info{goversion="go`,
		`okta_entity_provider_http_requests_total{code="200",method="GET",route="/entities"}`,
		`okta_entity_provider_http_requests_total{code="412",method="POST",route="/admin/accept"} 1`,
		`okta_entity_provider_http_requests_total{code="404",method="GET",route="other"}`,
		`okta_entity_provider_http_response_bytes_total{route="/entities"}`} {
		if !bytes.Contains(m, []byte(series)) {
			t.Errorf("metrics: no series %s", series)
		}
	}
	if stats := fake.Stats(); stats.MaxInFlight > 4 {
		t.Errorf("Okta requests in flight: got %d, want at most OKTA_MAX_CONCURRENCY 4", stats.MaxInFlight)
	}

	// Cancellation drains: a response being read when the context is
	// cancelled is delivered whole, new connections are refused, and run
	// returns nil.
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /entities HTTP/1.1\r\nHost: test\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	if _, err := br.Peek(1); err != nil { // the handler has started answering
		t.Fatalf("in-flight request: %v", err)
	}
	s.cancel()
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("in-flight request: %v", err)
	}
	inflight, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || len(entityRefs(t, inflight)) != st.Snapshot.Users+st.Snapshot.Groups {
		t.Errorf("in-flight request: got %d with %d bytes (%v), want 200 with every entity", resp.StatusCode, len(inflight), err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("run after cancel: got %v, want nil", err)
		}
		s.done <- err // for the cleanup
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after the in-flight request finished")
	}
}

// TestRunLargeOrgMode checks that in large-org mode the index's Location
// targets, resolved as Backstage resolves them, cover every entity exactly
// once, with the entities token carried over in the query.
func TestRunLargeOrgMode(t *testing.T) {
	t.Parallel()
	org := oktafake.GenerateOrg(oktafake.OrgOptions{Users: 300, Groups: 30, Seed: 5})
	_, orgURL := startFake(t, org, oktafake.Options{})
	s := startService(t, map[string]string{
		"OKTA_ORG_URL":   orgURL,
		"OKTA_TOKEN":     "demo-token",
		"SYNC_INTERVAL":  "1h",
		"ENTITY_SHARDS":  "7",
		"ENTITIES_TOKEN": "entities-secret",
	})
	asynctest.WaitFor(t, 20*time.Second, "ready", func() bool { return s.get(t, "/readyz").status == http.StatusOK })
	st := s.status(t)

	if r := s.get(t, "/entities"); r.status != http.StatusUnauthorized && r.status != http.StatusForbidden {
		t.Errorf("GET /entities without the token: got %d, want 401 or 403", r.status)
	}
	base, err := url.Parse(s.base + "/entities?token=entities-secret")
	if err != nil {
		t.Fatal(err)
	}
	r := s.get(t, "/entities?token=entities-secret")
	index := entityRefs(t, r.body)
	if r.status != http.StatusOK || len(index) != 7 {
		t.Fatalf("index: got %d with %v, want 200 with 7 Locations", r.status, index)
	}
	seen := make(map[string]int)
	for _, loc := range index {
		target, err := url.Parse(strings.TrimPrefix(loc, "location:"))
		if err != nil {
			t.Fatal(err)
		}
		// Backstage: new URL(target, base), then the base's query replaces
		// the target's.
		u := base.ResolveReference(target)
		u.RawQuery = base.RawQuery
		r := s.get(t, strings.TrimPrefix(u.String(), s.base))
		if r.status != http.StatusOK {
			t.Fatalf("shard %s: got %d, want 200", u, r.status)
		}
		for _, ref := range entityRefs(t, r.body) {
			seen[ref]++
		}
	}
	var want []string
	for _, path := range []string{"/entities/users?token=entities-secret", "/entities/groups?token=entities-secret"} {
		want = append(want, entityRefs(t, s.get(t, path).body)...)
	}
	if len(want) != st.Snapshot.Users+st.Snapshot.Groups {
		t.Fatalf("users and groups: got %d entities, want %d", len(want), st.Snapshot.Users+st.Snapshot.Groups)
	}
	for _, ref := range want {
		if seen[ref] != 1 {
			t.Errorf("%s: in %d shards, want exactly 1", ref, seen[ref])
		}
	}
	if len(seen) != len(want) {
		got := slices.Sorted(func(yield func(string) bool) {
			for k := range seen {
				if !yield(k) {
					return
				}
			}
		})
		t.Errorf("shards hold %d distinct entities, want %d: %v", len(seen), len(want), got[:min(5, len(got))])
	}
	if st.Snapshot.Shards != 7 {
		t.Errorf("status shards: got %d, want 7", st.Snapshot.Shards)
	}
	fmt.Fprint(io.Discard) // keep fmt for ad-hoc debugging
}

// TestRunRemovesTemporaryStateFiles starts the service on a data
// directory where an earlier run stopped while saving its state: the
// temporary files are removed, and said so in the log, before the state is
// read; other files stay.
func TestRunRemovesTemporaryStateFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	leftovers := []string{"sync-state.bin.tmp-1234567", "sync-state.bin.tmp-42"}
	for _, name := range append([]string{"notes.txt", "sync-state.bin.tmp-old.bak"}, leftovers...) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s := startService(t, map[string]string{"DATA_DIR": dir, "SYNC_INTERVAL": "1h"})
	for _, name := range leftovers {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: got %v, want it removed", name, err)
		}
		if !strings.Contains(s.logs.String(), name) {
			t.Errorf("the log does not name the removed %s", name)
		}
	}
	for _, name := range []string{"notes.txt", "sync-state.bin.tmp-old.bak"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v, want it kept", name, err)
		}
	}
	logs := s.logs.String()
	if removedAt, loadedAt := strings.Index(logs, "removed temporary state files"), strings.Index(logs, "sync state"); removedAt < 0 || (loadedAt >= 0 && loadedAt < removedAt) {
		t.Errorf("got log\n%s\nwant the removal logged before the state is read", logs)
	}
}
