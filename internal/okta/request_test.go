package okta

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestRedactQuery(t *testing.T) {
	t.Parallel()
	// Each raw query and what the trace log shows of it.
	tests := map[string]string{
		"": "",
		// nothing to redact
		"limit=200&filter=status%20eq%20%22ACTIVE%22&after=00u1": "limit=200&filter=status%20eq%20%22ACTIVE%22&after=00u1",
		"limit=1&token=abc": "limit=1&token=REDACTED",
		// every listed name
		"access_token=a&id_token=b&client_secret=c&secret=d&password=e&api_key=f&apikey=g&key=h&signature=i&sig=j&assertion=k&code=l": "access_token=REDACTED&id_token=REDACTED&client_secret=REDACTED&secret=REDACTED&password=REDACTED&api_key=REDACTED&apikey=REDACTED&key=REDACTED&signature=REDACTED&sig=REDACTED&assertion=REDACTED&code=REDACTED",
		// case-insensitive
		"Access_Token=a&X-Amz-Signature=b&PASSWORD=c": "Access_Token=REDACTED&X-Amz-Signature=REDACTED&PASSWORD=REDACTED",
		// percent-encoded name
		"client%5Fsecret=a&q=b": "client%5Fsecret=REDACTED&q=b",
		// repeated
		"key=a&key=b&limit=2": "key=REDACTED&key=REDACTED&limit=2",
		// empty value
		"token=&limit=2": "token=REDACTED&limit=2",
		// no value
		"token&limit=2": "token&limit=2",
		// look-alikes kept
		"expand=stats&sortOrder=ASCENDING&since=2024": "expand=stats&sortOrder=ASCENDING&since=2024",
	}
	for raw, want := range tests {
		if got := redactQuery(raw); got != want {
			t.Errorf("redactQuery(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestTraceLogRedactsQuery(t *testing.T) {
	t.Parallel()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "[]")
	}))
	t.Cleanup(ts.Close)
	c, logs := newTestClient(t, ts.URL, nil, Options{})
	u := c.endpoint("/api/v1/users", url.Values{"limit": {"1"}, "access_token": {"s3cret-value"}})
	if _, err := c.get(context.Background(), u, expression{}, nil); err != nil {
		t.Fatal(err)
	}
	got := logs.String()
	if strings.Contains(got, "s3cret-value") || !strings.Contains(got, `"query":"access_token=REDACTED&limit=1"`) {
		t.Errorf("trace log = %s, want the query with access_token redacted", got)
	}
}
