package api

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// recordingObserver is an Observer that keeps what it is told.
type recordingObserver struct {
	mu     sync.Mutex
	routes []string
	served []string
}

func (o *recordingObserver) Route(method, pattern string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.routes = append(o.routes, method+" "+pattern)
}

func (o *recordingObserver) Served(route, method string, status int, bytes int64, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.served = append(o.served, method+" "+route+" "+http.StatusText(status))
}

// Every route is announced at start, and every answer is observed under
// its route's pattern, 304s included, unknown paths as "other".
func TestObserver(t *testing.T) {
	t.Parallel()
	snap := testSnapshot(10, 2, 4)
	obs := &recordingObserver{}
	h := NewServer(zerolog.Nop(), &fakeSource{snap: snap}, nil, nil, Config{Observer: obs})
	for _, want := range []string{"GET /entities", "HEAD /entities", "GET /entities/shards/{n}", "GET /", "GET /status/held/{list}", "POST /admin/accept"} {
		if !slices.Contains(obs.routes, want) {
			t.Errorf("routes announced: %v lack %s", obs.routes, want)
		}
	}
	get := func(path string, header ...string) {
		r := httptest.NewRequest("GET", path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	get("/entities/shards/2")
	get("/entities", "If-None-Match", snap.Index.ETag) // sharded: /entities is the index
	get("/no/such/path")
	want := []string{"GET /entities/shards/{n} OK", "GET /entities Not Modified", "GET other Not Found"}
	if !slices.Equal(obs.served, want) {
		t.Errorf("served: got %v, want %v", obs.served, want)
	}
}
