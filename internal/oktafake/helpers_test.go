package oktafake

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

const testPrefix = "/okta-prefix"

// newTestServer serves org under testPrefix and returns the server and its
// org URL.
func newTestServer(t *testing.T, org *Org, opts Options) (*Server, string) {
	t.Helper()
	if opts.Prefix == "" {
		opts.Prefix = testPrefix
	}
	srv := NewServer(org, opts)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return srv, ts.URL + opts.Prefix
}

// get sends an SSWS-authenticated GET and returns the response with its
// body read.
func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	return do(t, url, "SSWS demo-token")
}

func do(t *testing.T, url, authorization string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

var linkRE = regexp.MustCompile(`^<([^>]*)>; rel="([a-z]+)"$`)

// links returns the Link header lines by rel, failing on a malformed one.
func links(t *testing.T, h http.Header) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, l := range h.Values("Link") {
		m := linkRE.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("malformed Link header %q", l)
		}
		out[m[2]] = m[1]
	}
	return out
}

// listAll follows next links from url and decodes every page into T,
// returning the items and the number of pages.
func listAll[T any](t *testing.T, url string) ([]T, int) {
	t.Helper()
	var all []T
	pages := 0
	for url != "" {
		resp, body := get(t, url)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: got status %d, want 200: %s", url, resp.StatusCode, body)
		}
		var page []T
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatalf("GET %s: decode: %v", url, err)
		}
		all = append(all, page...)
		pages++
		if pages > 10000 {
			t.Fatal("too many pages")
		}
		url = links(t, resp.Header)["next"]
	}
	return all, pages
}

// errorBody decodes an Okta error body.
func errorBody(t *testing.T, body []byte) oktaError {
	t.Helper()
	var e oktaError
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("decode error body %s: %v", body, err)
	}
	return e
}

func userIDs(us []okta.User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.ID
	}
	return out
}
