package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	oktaentityprovider "github.com/okta-entity-provider/okta-entity-provider"
	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog"
	"github.com/okta-entity-provider/okta-entity-provider/internal/eventhook"
	"github.com/okta-entity-provider/okta-entity-provider/internal/snapshot"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

// serve sends r to h and checks the response against openapi.yaml.
func serve(t *testing.T, s *spec, h http.Handler, r *http.Request) (*http.Response, []byte) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	res := rec.Result()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if s != nil {
		for _, err := range s.check(r.Method, r.URL.Path, res, body) {
			t.Error(err)
		}
	}
	return res, body
}

// metricsStub stands in for the Prometheus handler.
type metricsStub struct{}

func (metricsStub) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, _ = io.WriteString(w, "# TYPE up gauge\nup 1\n")
}

// TestServer drives every endpoint through its documented answers, checks
// each response against openapi.yaml, and finally that every documented
// status was seen.
func TestServer(t *testing.T) {
	spec := loadSpec(t)
	plain := testSnapshot(40, 6, 0)
	sharded := testSnapshot(40, 6, 4)
	usersOnly := testSnapshot(5, 0, 0)
	empty := snapshot.Build(nil, catalog.Map(catalog.DefaultOptions(), catalog.Input{}), plain.BuiltAt, 0)
	status := testStatus(&plain.Report)

	type want struct {
		status int
		header map[string]string // "" asserts the header is absent
		body   []byte            // nil: not compared
	}
	type test struct {
		name    string
		src     *fakeSource
		cfg     Config
		metrics http.Handler
		method  string
		target  string
		header  map[string]string
		body    string
		// repeat sends the request this many times before the one checked.
		repeat int
		want   want
	}
	tests := []test{
		// Before the first snapshot (each entity endpoint's case is made
		// below the table), and with an empty one: 503, never an empty 200.
		{name: "retry after setting", src: &fakeSource{}, cfg: Config{RetryAfter: 1500 * 1e6}, method: "GET", target: "/entities",
			want: want{status: 503, header: map[string]string{"Retry-After": "2"}}},
		{name: "empty snapshot", src: &fakeSource{snap: empty}, method: "GET", target: "/entities",
			want: want{status: 503}},
		{name: "empty snapshot JSON", src: &fakeSource{snap: empty}, method: "GET", target: "/entities",
			header: map[string]string{"Accept": "application/json"}, want: want{status: 503}},
		{name: "no groups", src: &fakeSource{snap: usersOnly}, method: "GET", target: "/entities/groups",
			want: want{status: 503}},
		{name: "users only", src: &fakeSource{snap: usersOnly}, method: "GET", target: "/entities/users",
			want: want{status: 200, body: usersOnly.UsersYAML().Data()}},

		// Entities.
		{name: "all", src: &fakeSource{snap: plain}, method: "GET", target: "/entities",
			want: want{status: 200, body: plain.All.Data(), header: map[string]string{
				"Etag": plain.All.ETag, "Content-Type": "application/yaml", "Vary": "Accept, Accept-Encoding",
				"Cache-Control": "no-cache", "Content-Encoding": "", "Content-Length": strconv.Itoa(len(plain.All.Data())),
			}}},
		{name: "all as Backstage asks", src: &fakeSource{snap: plain}, method: "GET", target: "/entities",
			header: map[string]string{"Accept": "*/*", "User-Agent": "node", "Accept-Encoding": "gzip, deflate"},
			want: want{status: 200, body: plain.All.Gzip, header: map[string]string{
				"Etag": plain.All.GzipETag, "Content-Encoding": "gzip", "Content-Type": "application/yaml",
			}}},
		{name: "all JSON", src: &fakeSource{snap: plain}, method: "GET", target: "/entities",
			header: map[string]string{"Accept": "application/json"},
			want: want{status: 200, body: plain.AllJSON.Data(), header: map[string]string{
				"Etag": plain.AllJSON.ETag, "Content-Type": "application/json",
			}}},
		{name: "all JSON gzip", src: &fakeSource{snap: plain}, method: "GET", target: "/entities",
			header: map[string]string{"Accept": "application/json", "Accept-Encoding": "gzip"},
			want:   want{status: 200, body: plain.AllJSON.Gzip, header: map[string]string{"Etag": plain.AllJSON.GzipETag}}},
		{name: "HEAD", src: &fakeSource{snap: plain}, method: "HEAD", target: "/entities",
			want: want{status: 200, body: []byte{}, header: map[string]string{
				"Etag": plain.All.ETag, "Content-Length": strconv.Itoa(len(plain.All.Data())),
			}}},
		{name: "users", src: &fakeSource{snap: plain}, method: "GET", target: "/entities/users",
			want: want{status: 200, body: plain.UsersYAML().Data(), header: map[string]string{"Etag": plain.UsersYAML().ETag}}},
		{name: "users JSON", src: &fakeSource{snap: plain}, method: "GET", target: "/entities/users",
			header: map[string]string{"Accept": "application/json"},
			want:   want{status: 200, body: plain.UsersJSON().Data()}},
		{name: "users HEAD", src: &fakeSource{snap: plain}, method: "HEAD", target: "/entities/users",
			want: want{status: 200, body: []byte{}}},
		{name: "groups", src: &fakeSource{snap: plain}, method: "GET", target: "/entities/groups",
			want: want{status: 200, body: plain.GroupsYAML().Data(), header: map[string]string{"Etag": plain.GroupsYAML().ETag}}},
		{name: "groups JSON gzip", src: &fakeSource{snap: plain}, method: "GET", target: "/entities/groups",
			header: map[string]string{"Accept": "application/json", "Accept-Encoding": "gzip"},
			want:   want{status: 200, body: plain.GroupsJSON().Gzip}},
		{name: "groups HEAD", src: &fakeSource{snap: plain}, method: "HEAD", target: "/entities/groups",
			want: want{status: 200, body: []byte{}}},

		// Conditional requests.
		{name: "not modified", src: &fakeSource{snap: plain}, method: "GET", target: "/entities",
			header: map[string]string{"If-None-Match": plain.All.ETag},
			want: want{status: 304, body: []byte{}, header: map[string]string{
				"Etag": plain.All.ETag, "Vary": "Accept, Accept-Encoding", "Cache-Control": "no-cache", "Content-Type": "",
			}}},
		{name: "not modified gzip", src: &fakeSource{snap: plain}, method: "GET", target: "/entities",
			header: map[string]string{"If-None-Match": plain.All.GzipETag, "Accept-Encoding": "gzip"},
			want:   want{status: 304, body: []byte{}, header: map[string]string{"Etag": plain.All.GzipETag, "Content-Encoding": ""}}},
		{name: "gzip tag without gzip", src: &fakeSource{snap: plain}, method: "GET", target: "/entities",
			header: map[string]string{"If-None-Match": plain.All.GzipETag},
			want:   want{status: 200, body: plain.All.Data(), header: map[string]string{"Etag": plain.All.ETag}}},
		{name: "plain tag with gzip", src: &fakeSource{snap: plain}, method: "GET", target: "/entities",
			header: map[string]string{"If-None-Match": plain.All.ETag, "Accept-Encoding": "gzip"},
			want:   want{status: 200, body: plain.All.Gzip, header: map[string]string{"Etag": plain.All.GzipETag}}},
		{name: "shard gzip tag without gzip", src: &fakeSource{snap: sharded}, method: "GET", target: "/entities/shards/1",
			header: map[string]string{"If-None-Match": sharded.Shards[1].GzipETag},
			want:   want{status: 200, body: sharded.Shards[1].Data()}},
		{name: "weak tag in a list", src: &fakeSource{snap: plain}, method: "GET", target: "/entities",
			header: map[string]string{"If-None-Match": `"other", W/` + plain.All.ETag},
			want:   want{status: 304}},
		{name: "star", src: &fakeSource{snap: plain}, method: "GET", target: "/entities",
			header: map[string]string{"If-None-Match": "*"}, want: want{status: 304}},
		{name: "stale tag", src: &fakeSource{snap: plain}, method: "GET", target: "/entities",
			header: map[string]string{"If-None-Match": `"0123456789abcdef0123456789abcdef"`},
			want:   want{status: 200, body: plain.All.Data()}},
		{name: "YAML tag does not match JSON", src: &fakeSource{snap: plain}, method: "GET", target: "/entities",
			header: map[string]string{"If-None-Match": plain.All.ETag, "Accept": "application/json"},
			want:   want{status: 200, body: plain.AllJSON.Data()}},

		// Large-org mode (the shard paths that name no shard are made
		// below the table).
		{name: "index", src: &fakeSource{snap: sharded}, method: "GET", target: "/entities",
			want: want{status: 200, body: sharded.Index.Data(), header: map[string]string{"Etag": sharded.Index.ETag}}},
		{name: "index JSON is all entities", src: &fakeSource{snap: sharded}, method: "GET", target: "/entities",
			header: map[string]string{"Accept": "application/json"}, want: want{status: 200, body: sharded.AllJSON.Data()}},
		{name: "sharded users", src: &fakeSource{snap: sharded}, method: "GET", target: "/entities/users",
			want: want{status: 200, body: sharded.UsersYAML().Data()}},
		{name: "shard 0", src: &fakeSource{snap: sharded}, method: "GET", target: "/entities/shards/0",
			want: want{status: 200, body: sharded.Shards[0].Data(), header: map[string]string{
				"Etag": sharded.Shards[0].ETag, "Vary": "Accept-Encoding", "Content-Type": "application/yaml",
			}}},
		{name: "shard 3 gzip", src: &fakeSource{snap: sharded}, method: "GET", target: "/entities/shards/3",
			header: map[string]string{"Accept-Encoding": "gzip"},
			want:   want{status: 200, body: sharded.Shards[3].Gzip, header: map[string]string{"Etag": sharded.Shards[3].GzipETag}}},
		{name: "shard JSON accept is YAML", src: &fakeSource{snap: sharded}, method: "GET", target: "/entities/shards/1",
			header: map[string]string{"Accept": "application/json"},
			want:   want{status: 200, body: sharded.Shards[1].Data(), header: map[string]string{"Content-Type": "application/yaml"}}},
		{name: "shard HEAD", src: &fakeSource{snap: sharded}, method: "HEAD", target: "/entities/shards/2",
			want: want{status: 200, body: []byte{}, header: map[string]string{"Content-Length": strconv.Itoa(len(sharded.Shards[2].Data()))}}},
		{name: "not sharded", src: &fakeSource{snap: plain}, method: "GET", target: "/entities/shards/0",
			want: want{status: 404}},

		// The entities token (each entity endpoint's case without it is
		// made below the table).
		{name: "token missing before snapshot", src: &fakeSource{}, cfg: Config{EntitiesToken: "s3cret"}, method: "GET", target: "/entities",
			want: want{status: 401}},
		{name: "token wrong", src: &fakeSource{snap: plain}, cfg: Config{EntitiesToken: "s3cret"}, method: "GET", target: "/entities?token=s3cre",
			want: want{status: 401}},
		{name: "token query", src: &fakeSource{snap: plain}, cfg: Config{EntitiesToken: "s3cret"}, method: "GET", target: "/entities?token=s3cret",
			want: want{status: 200, body: plain.All.Data()}},
		{name: "token bearer", src: &fakeSource{snap: plain}, cfg: Config{EntitiesToken: "s3cret"}, method: "GET", target: "/entities/users",
			header: map[string]string{"Authorization": "Bearer s3cret"}, want: want{status: 200, body: plain.UsersYAML().Data()}},
		{name: "token bearer lower-case scheme", src: &fakeSource{snap: plain}, cfg: Config{EntitiesToken: "s3cret"}, method: "GET", target: "/entities",
			header: map[string]string{"Authorization": "bearer s3cret"}, want: want{status: 200}},
		{name: "token bearer wrong", src: &fakeSource{snap: plain}, cfg: Config{EntitiesToken: "s3cret"}, method: "GET", target: "/entities/groups",
			header: map[string]string{"Authorization": "Bearer s3cret2"}, want: want{status: 401}},
		{name: "token basic scheme", src: &fakeSource{snap: plain}, cfg: Config{EntitiesToken: "s3cret"}, method: "GET", target: "/entities",
			header: map[string]string{"Authorization": "Basic s3cret"}, want: want{status: 401}},
		{name: "token shard query", src: &fakeSource{snap: sharded}, cfg: Config{EntitiesToken: "s3cret"}, method: "GET", target: "/entities/shards/1?token=s3cret",
			want: want{status: 200, body: sharded.Shards[1].Data()}},
		{name: "token not needed for health", src: &fakeSource{snap: plain}, cfg: Config{EntitiesToken: "s3cret"}, method: "GET", target: "/healthz",
			want: want{status: 200}},

		// Operations.
		{name: "healthz before snapshot", src: &fakeSource{}, method: "GET", target: "/healthz",
			want: want{status: 200, body: []byte("{\"status\":\"ok\"}\n")}},
		{name: "healthz HEAD", src: &fakeSource{}, method: "HEAD", target: "/healthz",
			want: want{status: 200, body: []byte{}, header: map[string]string{"Content-Type": "application/json", "Content-Length": "16"}}},
		{name: "readyz HEAD", src: &fakeSource{snap: plain}, method: "HEAD", target: "/readyz",
			want: want{status: 200, body: []byte{}}},
		{name: "readyz HEAD before snapshot", src: &fakeSource{}, method: "HEAD", target: "/readyz",
			want: want{status: 503, body: []byte{}, header: map[string]string{"Retry-After": "30"}}},
		{name: "status HEAD", src: &fakeSource{snap: plain, status: status}, method: "HEAD", target: "/status",
			want: want{status: 200, body: []byte{}, header: map[string]string{"Cache-Control": "no-store", "Content-Type": "application/json"}}},
		{name: "readyz before snapshot", src: &fakeSource{}, method: "GET", target: "/readyz",
			want: want{status: 503, header: map[string]string{"Retry-After": "30"}, body: []byte(`{"status":"starting",` +
				`"reason":"no sync has finished yet: the first one is starting; if this lasts, see /status and the service's log",` +
				`"error":"no snapshot yet: the first sync has not finished","requestId":"test-request"}` + "\n")}},
		{name: "readyz after a failed sync", src: &fakeSource{notReady: "the first sync has not succeeded yet: 401 E0000011; fix the credentials"},
			method: "GET", target: "/readyz", want: want{status: 503, body: []byte(`{"status":"starting",` +
				`"reason":"the first sync has not succeeded yet: 401 E0000011; fix the credentials",` +
				`"error":"no snapshot yet: the first sync has not finished","requestId":"test-request"}` + "\n")}},
		{name: "readyz empty snapshot", src: &fakeSource{snap: empty}, method: "GET", target: "/readyz",
			want: want{status: 503, body: []byte(`{"status":"unavailable",` +
				`"reason":"the last good sync selected no users or groups, and an empty catalog is never served: check the selection settings (filters, searches, group types, user statuses) against /status's report",` +
				`"error":"the current snapshot holds no entities, so none are served","requestId":"test-request"}` + "\n")}},
		{name: "readyz", src: &fakeSource{snap: plain}, method: "GET", target: "/readyz",
			want: want{status: 200, body: []byte("{\"status\":\"ready\"}\n")}},
		{name: "status", src: &fakeSource{snap: plain, status: status}, method: "GET", target: "/status",
			want: want{status: 200, header: map[string]string{"Cache-Control": "no-store", "Content-Type": "application/json"}}},
		{name: "status before the first sync", src: &fakeSource{status: map[string]any{
			"syncs": map[string]any{"completed": 0, "failed": 0}, "lastSync": nil, "snapshot": nil,
			"heldBack": nil, "report": nil, "rateLimits": map[string]any{}, "snapshotAgeSeconds": nil, "changes": nil,
		}}, method: "GET", target: "/status", want: want{status: 200}},
		{name: "status with an empty report", src: &fakeSource{status: testStatus(&catalog.Report{})}, method: "GET", target: "/status",
			want: want{status: 200}},
		{name: "metrics", src: &fakeSource{}, metrics: metricsStub{}, method: "GET", target: "/metrics",
			want: want{status: 200, body: []byte("# TYPE up gauge\nup 1\n")}},
		{name: "metrics off", src: &fakeSource{}, method: "GET", target: "/metrics",
			want: want{status: 404}},
		{name: "openapi", src: &fakeSource{}, method: "GET", target: "/openapi.yaml",
			want: want{status: 200, body: oktaentityprovider.OpenAPI, header: map[string]string{"Content-Type": "application/yaml"}}},

		// Admin.
		{name: "admin disabled", src: &fakeSource{status: status}, method: "POST", target: "/admin/accept",
			header: map[string]string{"Authorization": "Bearer anything"}, want: want{status: 403}},
		{name: "admin no token", src: &fakeSource{status: status}, cfg: Config{AdminToken: "adm1n"}, method: "POST", target: "/admin/accept",
			want: want{status: 401, header: map[string]string{"Www-Authenticate": `Bearer realm="admin"`}}},
		{name: "admin wrong token", src: &fakeSource{status: status}, cfg: Config{AdminToken: "adm1n"}, method: "POST", target: "/admin/accept",
			header: map[string]string{"Authorization": "Bearer adm1"}, want: want{status: 401}},
		{name: "admin query token refused", src: &fakeSource{status: status}, cfg: Config{AdminToken: "adm1n"}, method: "POST", target: "/admin/accept?token=adm1n",
			want: want{status: 401}},
		{name: "admin entities token refused", src: &fakeSource{status: status}, cfg: Config{AdminToken: "adm1n", EntitiesToken: "s3cret"}, method: "POST", target: "/admin/accept",
			header: map[string]string{"Authorization": "Bearer s3cret"}, want: want{status: 401}},
		{name: "admin nothing held", src: &fakeSource{status: status, none: true},
			cfg: Config{AdminToken: "adm1n"}, method: "POST", target: "/admin/accept",
			header: map[string]string{"Authorization": "Bearer adm1n", "If-Match": testHeldETag}, want: want{status: 412}},
		{name: "admin failure hides details", src: &fakeSource{status: status, acceptErr: errors.New("disk full at /var/lib/x")},
			cfg: Config{AdminToken: "adm1n"}, method: "POST", target: "/admin/accept",
			header: map[string]string{"Authorization": "Bearer adm1n", "If-Match": testHeldETag},
			want:   want{status: 500, body: []byte("{\"error\":\"internal error\",\"requestId\":\"test-request\"}\n")}},
		{name: "admin accept", src: &fakeSource{status: status}, cfg: Config{AdminToken: "adm1n"}, method: "POST", target: "/admin/accept",
			header: map[string]string{"Authorization": "Bearer adm1n", "If-Match": testHeldETag}, want: want{status: 200}},
		{name: "admin accept without If-Match", src: &fakeSource{status: status}, cfg: Config{AdminToken: "adm1n"}, method: "POST", target: "/admin/accept",
			header: map[string]string{"Authorization": "Bearer adm1n"}, want: want{status: 428}},
		{name: "admin accept If-Match star", src: &fakeSource{status: status}, cfg: Config{AdminToken: "adm1n"}, method: "POST", target: "/admin/accept",
			header: map[string]string{"Authorization": "Bearer adm1n", "If-Match": "*"}, want: want{status: 428}},
		{name: "admin accept If-Match weak", src: &fakeSource{status: status}, cfg: Config{AdminToken: "adm1n"}, method: "POST", target: "/admin/accept",
			header: map[string]string{"Authorization": "Bearer adm1n", "If-Match": "W/" + testHeldETag}, want: want{status: 428}},
		{name: "admin accept If-Match malformed", src: &fakeSource{status: status}, cfg: Config{AdminToken: "adm1n"}, method: "POST", target: "/admin/accept",
			header: map[string]string{"Authorization": "Bearer adm1n", "If-Match": "fedcba"}, want: want{status: 400}},
		{name: "admin accept stale", src: &fakeSource{status: status, held: `"0000000000000000000000000000000f"`}, cfg: Config{AdminToken: "adm1n"}, method: "POST", target: "/admin/accept",
			header: map[string]string{"Authorization": "Bearer adm1n", "If-Match": testHeldETag}, want: want{status: 412}},
		{name: "admin form accept", src: &fakeSource{status: status}, cfg: Config{AdminToken: "adm1n"}, method: "POST", target: "/admin/accept",
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": "http://example.com"},
			body:   "token=adm1n&etag=" + url.QueryEscape(testHeldETag),
			want:   want{status: 303, header: map[string]string{"Location": "/?accepted=" + url.QueryEscape(testHeldETag)}}},
		{name: "admin form stale", src: &fakeSource{status: status, held: `"0000000000000000000000000000000f"`}, cfg: Config{AdminToken: "adm1n"}, method: "POST", target: "/admin/accept",
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			body:   "token=adm1n&etag=" + url.QueryEscape(testHeldETag),
			want:   want{status: 412, header: map[string]string{"Content-Type": "text/html; charset=utf-8"}}},
		{name: "admin form wrong token", src: &fakeSource{status: status}, cfg: Config{AdminToken: "adm1n"}, method: "POST", target: "/admin/accept",
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			body:   "token=adm1&etag=" + url.QueryEscape(testHeldETag),
			want:   want{status: 401, header: map[string]string{"Content-Type": "text/html; charset=utf-8"}}},
		{name: "admin form token in the URL refused", src: &fakeSource{status: status}, cfg: Config{AdminToken: "adm1n"}, method: "POST", target: "/admin/accept?token=adm1n",
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			body:   "etag=" + url.QueryEscape(testHeldETag),
			want:   want{status: 401}},
		{name: "admin form from another site", src: &fakeSource{status: status}, cfg: Config{AdminToken: "adm1n"}, method: "POST", target: "/admin/accept",
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://evil.example"},
			body:   "token=adm1n&etag=" + url.QueryEscape(testHeldETag),
			want:   want{status: 403}},
		{name: "admin form cross-site fetch", src: &fakeSource{status: status}, cfg: Config{AdminToken: "adm1n"}, method: "POST", target: "/admin/accept",
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "cross-site"},
			body:   "token=adm1n&etag=" + url.QueryEscape(testHeldETag),
			want:   want{status: 403}},

		// The status page and the held snapshot's lists.
		{name: "page for a browser", src: &fakeSource{snap: plain, status: status}, method: "GET", target: "/",
			header: map[string]string{"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
			want:   want{status: 200, header: map[string]string{"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", "Content-Security-Policy": pageCSP}}},
		{name: "page HEAD", src: &fakeSource{snap: plain, status: status}, method: "HEAD", target: "/",
			header: map[string]string{"Accept": "text/html"}, want: want{status: 200, body: []byte{}, header: map[string]string{"Content-Type": "text/html; charset=utf-8"}}},
		{name: "page for a script is the status", src: &fakeSource{snap: plain, status: status}, method: "GET", target: "/",
			header: map[string]string{"Accept": "*/*"}, want: want{status: 200, header: map[string]string{"Content-Type": "application/json"}}},
		{name: "held removed", src: &fakeSource{status: status, removed: []string{"user:default/a", "user:default/b", "user:default/c"}}, method: "GET", target: "/status/held/removed?offset=1&limit=1",
			want: want{status: 200, body: []byte(`{"etag":"\"fedcba9876543210fedcba9876543210\"","list":"removed","total":3,"offset":1,"limit":1,"items":["user:default/b"],"next":"/status/held/removed?offset=2\u0026limit=1"}` + "\n")}},
		{name: "held added empty", src: &fakeSource{status: status}, method: "GET", target: "/status/held/added",
			want: want{status: 200, body: []byte(`{"etag":"\"fedcba9876543210fedcba9876543210\"","list":"added","total":0,"offset":0,"limit":1000,"items":[]}` + "\n")}},
		{name: "held nothing", src: &fakeSource{status: status, none: true}, method: "GET", target: "/status/held/removed",
			want: want{status: 404}},
		{name: "held bad limit", src: &fakeSource{status: status}, method: "GET", target: "/status/held/removed?limit=0",
			want: want{status: 400}},

		// The Okta event hook.
		{name: "hooks disabled GET", src: &fakeSource{}, method: "GET", target: "/hooks/okta",
			header: map[string]string{"Authorization": hookSecret, eventhook.VerificationHeader: "c"}, want: want{status: 404}},
		{name: "hooks disabled POST", src: &fakeSource{}, method: "POST", target: "/hooks/okta",
			header: map[string]string{"Authorization": hookSecret}, body: hookDelivery, want: want{status: 404}},
		{name: "hook verification", src: &fakeSource{}, cfg: hookConfig(), method: "GET", target: "/hooks/okta",
			header: map[string]string{"Authorization": hookSecret, eventhook.VerificationHeader: "ch4llenge"},
			want:   want{status: 200, body: []byte(`{"verification":"ch4llenge"}`)}},
		{name: "hook verification without a challenge", src: &fakeSource{}, cfg: hookConfig(), method: "GET", target: "/hooks/okta",
			header: map[string]string{"Authorization": hookSecret}, want: want{status: 400}},
		{name: "hook verification wrong secret", src: &fakeSource{}, cfg: hookConfig(), method: "GET", target: "/hooks/okta",
			header: map[string]string{"Authorization": hookSecret + "x", eventhook.VerificationHeader: "c"}, want: want{status: 401}},
		{name: "hook verification rate limited", src: &fakeSource{}, cfg: hookConfig(), method: "GET", target: "/hooks/okta",
			header: map[string]string{"Authorization": hookSecret, eventhook.VerificationHeader: "c"}, repeat: hookRateBurst + 50,
			want: want{status: 429, header: map[string]string{"Retry-After": "1"}}},
		{name: "hook delivery", src: &fakeSource{}, cfg: hookConfig(), method: "POST", target: "/hooks/okta",
			header: map[string]string{"Authorization": hookSecret}, body: hookDelivery, want: want{status: 204}},
		{name: "hook delivery as Bearer", src: &fakeSource{}, cfg: hookConfig(), method: "POST", target: "/hooks/okta",
			header: map[string]string{"Authorization": "Bearer " + hookSecret}, body: hookDelivery, want: want{status: 401}},
		{name: "hook delivery without a secret", src: &fakeSource{}, cfg: hookConfig(), method: "POST", target: "/hooks/okta",
			body: hookDelivery, want: want{status: 401}},
		{name: "hook delivery malformed", src: &fakeSource{}, cfg: hookConfig(), method: "POST", target: "/hooks/okta",
			header: map[string]string{"Authorization": hookSecret}, body: `{"eventType":"something.else","data":{}}`, want: want{status: 400}},
		{name: "hook delivery too large", src: &fakeSource{}, cfg: hookConfig(), method: "POST", target: "/hooks/okta",
			header: map[string]string{"Authorization": hookSecret}, body: strings.Repeat(" ", hookMaxBody+1), want: want{status: 413}},
		{name: "hook delivery rate limited", src: &fakeSource{}, cfg: hookConfig(), method: "POST", target: "/hooks/okta",
			header: map[string]string{"Authorization": hookSecret}, body: hookDelivery, repeat: hookRateBurst + 50, want: want{status: 429}},
	}
	// Every entity endpoint, by GET and by HEAD: 503 before the first
	// snapshot, 304 for its own tag, 401 without the token. And a shard
	// path that names no shard: 404.
	endpoints := []struct {
		target string
		snap   *snapshot.Snapshot // one that serves target
		etag   string             // the ETag of target's YAML in snap
	}{
		{"/entities", plain, plain.All.ETag},
		{"/entities/users", plain, plain.UsersYAML().ETag},
		{"/entities/groups", plain, plain.GroupsYAML().ETag},
		{"/entities/shards/2", sharded, sharded.Shards[2].ETag},
	}
	noShards := []struct{ why, n string }{{"out of range", "4"}, {"negative", "-1"}, {"leading zero", "01"}, {"not a number", "x"}}
	for _, method := range []string{"GET", "HEAD"} {
		var emptyBody []byte // nil: not compared
		if method == "HEAD" {
			emptyBody = []byte{}
		}
		for _, e := range endpoints {
			where := method + " " + e.target
			tests = append(tests,
				test{name: "no snapshot " + where, src: &fakeSource{}, method: method, target: e.target,
					want: want{status: 503, header: map[string]string{"Retry-After": "30", "Etag": ""}, body: emptyBody}},
				test{name: "not modified " + where, src: &fakeSource{snap: e.snap}, method: method, target: e.target,
					header: map[string]string{"If-None-Match": e.etag}, want: want{status: 304, body: []byte{}, header: map[string]string{"Etag": e.etag}}},
				test{name: "token missing " + where, src: &fakeSource{snap: e.snap}, cfg: Config{EntitiesToken: "s3cret"}, method: method, target: e.target,
					want: want{status: 401, header: map[string]string{"Www-Authenticate": `Bearer realm="entities"`}}})
		}
		for _, no := range noShards {
			tests = append(tests, test{name: "shard " + no.why + " " + method, src: &fakeSource{snap: sharded},
				method: method, target: "/entities/shards/" + no.n, want: want{status: 404}})
		}
	}
	// The same calls to the hook of one org of several, and to a name that
	// is no org's.
	for _, tt := range slices.Clone(tests) {
		if tt.target != "/hooks/okta" {
			continue
		}
		tt.name += ", org acme of several"
		tt.target = "/hooks/okta/acme"
		if tt.cfg.Hooks != nil {
			tt.cfg = orgHookConfig()
		}
		tests = append(tests, tt)
		if tt.cfg.OrgHooks != nil && tt.want.status == http.StatusNoContent {
			tt.name, tt.target, tt.want = "hook delivery to no org", "/hooks/okta/initech", want{status: 404}
			tests = append(tests, tt)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewServer(zerolog.Nop(), tt.src, tt.metrics, oktaentityprovider.OpenAPI, tt.cfg)
			request := func() *http.Request {
				r := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
				r.Header.Set("X-Request-Id", "test-request")
				for k, v := range tt.header {
					r.Header.Set(k, v)
				}
				return r
			}
			for range tt.repeat {
				h.ServeHTTP(httptest.NewRecorder(), request())
			}
			r := request()
			res, body := serve(t, spec, h, r)
			if res.StatusCode != tt.want.status {
				t.Fatalf("%s: got status %d, want %d; body %.300s", describe(r), res.StatusCode, tt.want.status, body)
			}
			for k, v := range tt.want.header {
				if got := res.Header.Get(k); got != v {
					t.Errorf("%s: got %s %q, want %q", describe(r), k, got, v)
				}
			}
			if tt.want.body != nil && !bytes.Equal(body, tt.want.body) {
				t.Errorf("%s: got a %d-byte body, want %d bytes:\n%.300s", describe(r), len(body), len(tt.want.body), body)
			}
			if got := res.Header.Get("X-Request-Id"); got != "test-request" {
				t.Errorf("%s: got X-Request-Id %q, want test-request", describe(r), got)
			}
			if res.StatusCode >= 400 && strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
				if !bytes.Contains(body, []byte(`id="error"`)) {
					t.Errorf("%s: HTML error body has no error: %.300s", describe(r), body)
				}
			} else if res.StatusCode >= 400 {
				var e errorBody
				if err := json.Unmarshal(body, &e); tt.method != "HEAD" && (err != nil || e.Error == "" || e.RequestID != "test-request") {
					t.Errorf("%s: error body %q is not {error, requestId}: %v", describe(r), body, err)
				}
			}
		})
	}

	t.Run("every documented status was answered", func(t *testing.T) {
		for _, s := range spec.statuses() {
			if !spec.seen[s] {
				t.Errorf("%s: documented but never answered in this test", s)
			}
		}
	})
}

func TestAcceptCallsSource(t *testing.T) {
	t.Parallel()
	src := &fakeSource{status: testStatus(&catalog.Report{})}
	h := NewServer(zerolog.Nop(), src, nil, nil, Config{AdminToken: "adm1n"})
	r := httptest.NewRequest("POST", "/admin/accept", nil)
	r.Header.Set("Authorization", "Bearer adm1n")
	r.Header.Set("If-Match", testHeldETag)
	res, body := serve(t, nil, h, r)
	if res.StatusCode != 200 || src.accepted != 1 {
		t.Fatalf("got status %d and %d accepts, want 200 and 1", res.StatusCode, src.accepted)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(testStatus(&catalog.Report{}))
	var wantMap map[string]any
	_ = json.Unmarshal(want, &wantMap)
	if diff := cmp.Diff(wantMap, got); diff != "" {
		t.Errorf("accept body is not the status (-want +got):\n%s", diff)
	}

	for _, bad := range []string{"", "Bearer adm1", "Bearer adm1nn", "adm1n"} {
		r := httptest.NewRequest("POST", "/admin/accept", nil)
		r.Header.Set("Authorization", bad)
		if res, _ := serve(t, nil, h, r); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("Authorization %q: got status %d, want 401", bad, res.StatusCode)
		}
	}
	if src.accepted != 1 {
		t.Errorf("got %d accepts after refused calls, want 1", src.accepted)
	}
}

func TestGoldenBodies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		src    *fakeSource
		cfg    Config
		target string
	}{
		{"index.yaml.golden", &fakeSource{snap: testSnapshot(10, 2, 3)}, Config{}, "/entities"},
		{"no-snapshot.json.golden", &fakeSource{}, Config{}, "/entities"},
		{"empty-snapshot.json.golden", &fakeSource{snap: snapshot.Build(nil, catalog.Map(catalog.DefaultOptions(), catalog.Input{}), testSnapshot(1, 0, 0).BuiltAt, 0)}, Config{}, "/entities/users"},
		{"unauthorized.json.golden", &fakeSource{}, Config{EntitiesToken: "x"}, "/entities"},
		{"no-shard.json.golden", &fakeSource{snap: testSnapshot(10, 2, 3)}, Config{}, "/entities/shards/3"},
		{"not-found.json.golden", &fakeSource{}, Config{}, "/nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := NewServer(zerolog.Nop(), tt.src, nil, nil, tt.cfg)
			r := httptest.NewRequest("GET", tt.target, nil)
			r.Header.Set("X-Request-Id", "golden")
			_, body := serve(t, nil, h, r)
			golden(t, tt.name, body)
		})
	}
}

func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	h := NewServer(zerolog.Nop(), &fakeSource{}, nil, nil, Config{})
	for _, tt := range []struct {
		method, target, allow string
	}{
		{"POST", "/entities", "GET, HEAD"},
		{"DELETE", "/entities/users", "GET, HEAD"},
		{"PUT", "/entities/shards/3", "GET, HEAD"},
		{"POST", "/status", "GET, HEAD"},
		{"POST", "/healthz", "GET, HEAD"},
		{"POST", "/readyz", "GET, HEAD"},
		{"POST", "/metrics", "GET"},
		{"HEAD", "/openapi.yaml", "GET"},
		{"GET", "/admin/accept", "POST"},
	} {
		r := httptest.NewRequest(tt.method, tt.target, nil)
		res, body := serve(t, nil, h, r)
		if res.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s: got status %d, want 405", describe(r), res.StatusCode)
		}
		if got := res.Header.Get("Allow"); got != tt.allow {
			t.Errorf("%s: got Allow %q, want %q", describe(r), got, tt.allow)
		}
		if tt.method != "HEAD" && !strings.Contains(string(body), `"error"`) {
			t.Errorf("%s: got body %s, want a JSON error", describe(r), body)
		}
	}
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	h := NewServer(zerolog.New(&logs), &fakeSource{}, nil, nil, Config{})
	long := strings.Repeat("a", maxRequestIDLen)
	tests := []struct {
		name, sent string
		kept       bool
	}{
		{"none", "", false},
		{"a uuid", "0f8fad5b-d9cb-469f-a165-70867728950e", true},
		{"every allowed character", "AZaz09._:-", true},
		{"longest kept", long, true},
		{"too long", long + "a", false},
		{"a space", "abc def", false},
		{"a quote", `abc"def`, false},
		{"a newline", "abc\ndef", false},
		{"a slash", "host/abc-000001", false},
		{"not ASCII", "abc\u00e9", false},
		{"a control character", "abc\x1b[31m", false},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs.Reset()
			r := httptest.NewRequest("GET", "/healthz", nil)
			if tt.sent != "" {
				r.Header["X-Request-Id"] = []string{tt.sent}
			}
			res, _ := serve(t, nil, h, r)
			got := res.Header.Get("X-Request-Id")
			if tt.kept {
				if got != tt.sent {
					t.Errorf("got X-Request-Id %q, want the client's %q", got, tt.sent)
				}
				return
			}
			if got == tt.sent || !validRequestID(got) || seen[got] {
				t.Errorf("got X-Request-Id %q, want a new id of the server's own", got)
			}
			seen[got] = true
			var line struct {
				RequestID string `json:"request_id"`
			}
			if err := json.Unmarshal(logs.Bytes(), &line); err != nil || line.RequestID != got {
				t.Errorf("got log %s, want one line with request_id %q", logs.Bytes(), got)
			}
		})
	}
}

// TestEntitiesOverHTTP reads through a real server and client: gzip is
// negotiated and decoded transparently, and a conditional request answers
// 304.
func TestEntitiesOverHTTP(t *testing.T) {
	t.Parallel()
	snap := testSnapshot(30, 4, 0)
	srv := httptest.NewServer(NewServer(zerolog.Nop(), &fakeSource{snap: snap}, nil, nil, Config{}))
	t.Cleanup(srv.Close)

	res, err := srv.Client().Get(srv.URL + "/entities")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !res.Uncompressed || !bytes.Equal(body, snap.All.Data()) {
		t.Errorf("got uncompressed=%v and %d bytes, want a gzip answer decoding to the %d bytes of All", res.Uncompressed, len(body), len(snap.All.Data()))
	}

	req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL+"/entities", nil)
	req.Header.Set("If-None-Match", snap.All.GzipETag)
	res, err = srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotModified {
		t.Errorf("got status %d, want 304", res.StatusCode)
	}

	req, _ = http.NewRequestWithContext(t.Context(), "HEAD", srv.URL+"/entities", nil)
	res, err = srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Etag") == "" {
		t.Errorf("HEAD: got status %d, ETag %q", res.StatusCode, res.Header.Get("Etag"))
	}
}
