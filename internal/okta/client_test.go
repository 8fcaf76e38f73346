package okta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/okta-entity-provider/okta-entity-provider/internal/asynctest"
)

func TestNewClientValidatesTheOrgURL(t *testing.T) {
	t.Parallel()
	auth := NewTokenAuth("t0k")
	tests := []struct {
		url     string
		wantErr string // substring; "" = valid
		want    string // the org URL kept
	}{
		{"https://example.okta.com", "", "https://example.okta.com"},
		{"https://example.okta.com/", "", "https://example.okta.com"},
		{"  HTTPS://Example.Okta.com  ", "", "https://example.okta.com"},
		{"https://example.okta.com:8443", "", "https://example.okta.com:8443"},
		{"http://127.0.0.1:8080", "", "http://127.0.0.1:8080"},
		{"http://localhost:8080/okta-prefix/", "", "http://localhost:8080/okta-prefix"},
		{"http://[::1]:9/p", "", "http://[::1]:9/p"},
		{"", "empty", ""},
		{"example.okta.com", "not absolute", ""},
		{"http://example.okta.com", "uses http", ""},
		{"ftp://example.okta.com", "scheme", ""},
		{"https://example.okta.com/api/v1", "no path", ""},
		{"https://example.okta.com?x=1", "no query", ""},
		{"https://user:pw@example.okta.com", "credentials", ""},
		{"https://example-admin.okta.com", "Admin Console", ""},
		{"https://exa mple.okta.com", "not a URL", ""},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			c, err := NewClient(tt.url, auth, Options{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("NewClient(%q) error = %v, want one containing %q", tt.url, err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "pw") {
					t.Errorf("error %q quotes the password", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewClient(%q): %v", tt.url, err)
			}
			if got := c.base.String(); got != tt.want {
				t.Errorf("org URL = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNewClientValidatesOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, wantErr string
		auth          Authenticator
		opts          Options
	}{
		{"no authenticator", "no authenticator", nil, Options{}},
		{"empty token", "token is empty", NewTokenAuth("  "), Options{}},
		{"page too big", "UserPageSize", NewTokenAuth("x"), Options{UserPageSize: 500}},
		{"negative concurrency", "MaxConcurrency", NewTokenAuth("x"), Options{MaxConcurrency: -1}},
		{"share above 1", "RateShare", NewTokenAuth("x"), Options{RateShare: 1.5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewClient("https://example.okta.com", tt.auth, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
	c, err := NewClient("https://example.okta.com", NewTokenAuth("SSWS abc "), Options{})
	if err != nil {
		t.Fatal(err)
	}
	o := c.opts
	got := fmt.Sprintf("%d %d %d %d %d %g %s", o.UserPageSize, o.GroupPageSize, o.MemberPageSize, o.MaxConcurrency, o.MaxRetries, o.RateShare, o.UserAgent)
	if want := "200 200 1000 20 4 0.5 okta-entity-provider/dev"; got != want {
		t.Errorf("defaults = %s, want %s", got, want)
	}
	if a := fmt.Sprintf("%v %+v %#v", NewTokenAuth("abc123"), NewTokenAuth("abc123"), NewTokenAuth("abc123")); strings.Contains(a, "abc123") {
		t.Errorf("formatting the authenticator shows the token: %s", a)
	}
}

func TestErrorMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		err   *Error
		want  []string
		check func(error) bool
	}{
		{
			"invalid token",
			&Error{StatusCode: 401, Code: "E0000011", Summary: "Invalid token provided", ID: "oae1", Method: "GET", Path: "/api/v1/users"},
			[]string{"API token", "OAuth app", "E0000011", "Invalid token provided", "oae1"},
			IsInvalidToken,
		},
		{
			"forbidden on groups",
			&Error{StatusCode: 403, Code: "E0000006", Summary: "You do not have permission to perform the requested action", Method: "GET", Path: "/api/v1/groups"},
			[]string{"permission", "okta.groups.read", "Read-Only Administrator"},
			IsForbidden,
		},
		{
			"forbidden on logs",
			&Error{StatusCode: 403, Code: "E0000006", Method: "GET", Path: "/api/v1/logs"},
			[]string{"okta.logs.read"},
			IsForbidden,
		},
		{
			"bad filter",
			&Error{StatusCode: 400, Code: "E0000031", Summary: "Invalid search criteria.", Expression: `profile.title eq "x"`, ExpressionKind: "filter", Causes: []string{"unsupported attribute"}},
			[]string{"filter expression `profile.title eq \"x\"`", "E0000031", "unsupported attribute"},
			IsBadExpression,
		},
		{
			"server error after retries",
			&Error{StatusCode: 503, Method: "GET", Path: "/api/v1/users", Attempts: 5},
			[]string{"okta unavailable", "503", "after 5 attempts"},
			IsUnavailable,
		},
		{
			"oauth invalid client",
			&Error{StatusCode: 401, Code: "invalid_client", Summary: "The client_assertion signature is invalid.", Method: "POST", Path: "/oauth2/v1/token"},
			[]string{"OAuth app", "invalid_client", "signature is invalid"},
			IsInvalidToken,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := tt.err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("Error() = %q, want it to contain %q", msg, w)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("Error() = %q spans lines", msg)
			}
			wrapped := fmt.Errorf("sync: %w", tt.err)
			if !tt.check(wrapped) {
				t.Errorf("helper does not recognise %q", msg)
			}
		})
	}
	if IsInvalidToken(errors.New("x")) || IsForbidden(nil) || IsBadExpression(&Error{StatusCode: 400, Code: "E0000001"}) {
		t.Error("helpers match unrelated errors")
	}
}

// testServer is an httptest server mounted under a path prefix, so that an
// absolute-URL mistake in the client fails.
type testServer struct {
	*httptest.Server
	prefix string
	calls  atomic.Int64
}

func newTestServer(t *testing.T, h http.HandlerFunc) *testServer {
	t.Helper()
	ts := &testServer{prefix: "/okta-prefix"}
	mux := http.NewServeMux()
	mux.Handle(ts.prefix+"/", http.StripPrefix(ts.prefix, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.calls.Add(1)
		h(w, r)
	})))
	ts.Server = httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

func (ts *testServer) orgURL() string { return ts.URL + ts.prefix }

// newTestClient returns a client of ts with fast retries and a logger
// writing to the returned buffer at trace level.
func newTestClient(t *testing.T, orgURL string, auth Authenticator, opts Options) (*Client, *asynctest.Buffer) {
	t.Helper()
	logs := &asynctest.Buffer{}
	opts.Logger = zerolog.New(logs).Level(zerolog.TraceLevel)
	if opts.RetryBaseDelay == 0 {
		opts.RetryBaseDelay = time.Millisecond
	}
	if auth == nil {
		auth = NewTokenAuth("test-token")
	}
	c, err := NewClient(orgURL, auth, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c, logs
}

// NewTestClient is newTestClient for the tests of package okta_test.
var NewTestClient = newTestClient

// testUsers returns users with the given ids and a login each, the fields
// a listing requires.
func testUsers(ids ...string) []User {
	users := make([]User, len(ids))
	for i, id := range ids {
		users[i] = User{ID: id, Profile: UserProfile{Login: id + "@example.com"}}
	}
	return users
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func oktaError(w http.ResponseWriter, status int, code, summary string) {
	writeJSON(w, status, map[string]any{"errorCode": code, "errorSummary": summary, "errorLink": code, "errorId": "oae-test", "errorCauses": []any{}})
}

// collect drains an iterator, stopping at the first error.
func collect[T any](seq func(func(T, error) bool)) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Collect is collect for the tests of package okta_test.
func Collect[T any](seq func(func(T, error) bool)) ([]T, error) { return collect(seq) }

func TestListingFollowsLinksAndEncodesExpressions(t *testing.T) {
	t.Parallel()
	var queries []string
	var ts *testServer
	ts = newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Authorization"); got != "SSWS test-token" {
			t.Errorf("Authorization = %q, want the SSWS token", got)
		}
		queries = append(queries, r.URL.RawQuery)
		base := ts.orgURL() + r.URL.Path
		w.Header().Add("Link", fmt.Sprintf(`<%s?%s>; rel="self"`, base, r.URL.RawQuery))
		switch r.URL.Query().Get("after") {
		case "":
			w.Header().Add("Link", fmt.Sprintf(`<%s?after=p2&limit=200>; rel="next"`, base))
			writeJSON(w, 200, testUsers("u1", "u2"))
		case "p2":
			w.Header().Add("Link", fmt.Sprintf(`<%s?after=p3&limit=200>; rel="next"`, base))
			writeJSON(w, 200, testUsers("u3"))
		default:
			writeJSON(w, 200, testUsers("u4"))
		}
	})
	c, _ := newTestClient(t, ts.orgURL(), nil, Options{})
	users, err := collect(c.ListUsers(context.Background(), UserListOptions{Search: `profile.department eq "R&D" and profile.login sw "a+b"`}))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, u := range users {
		ids = append(ids, u.ID)
	}
	if got, want := strings.Join(ids, ","), "u1,u2,u3,u4"; got != want {
		t.Errorf("users = %s, want %s", got, want)
	}
	wantFirst := "limit=200&search=profile.department%20eq%20%22R%26D%22%20and%20profile.login%20sw%20%22a%2Bb%22"
	if len(queries) != 3 || queries[0] != wantFirst {
		t.Errorf("queries = %q, want 3 starting with %q", queries, wantFirst)
	}
	if got := c.Calls(); got != 3 {
		t.Errorf("Calls() = %d, want 3", got)
	}
}
