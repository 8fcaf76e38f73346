package api

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/okta-entity-provider/okta-entity-provider/internal/snapshot"
)

// bigSnapshot is a snapshot whose whole catalog is a gzip body of size
// random bytes. The bytes are only sent, never decoded.
func bigSnapshot(size int) *snapshot.Snapshot {
	gz := make([]byte, size)
	rng := rand.NewChaCha8([32]byte{1})
	_, _ = rng.Read(gz)
	return &snapshot.Snapshot{Entities: 1, Users: 1, All: snapshot.Body{
		Gzip: gz, Size: int64(size), ETag: `"0123456789abcdef0123456789abcdef"`, GzipETag: `"0123456789abcdef0123456789abcdef-gzip"`,
	}}
}

func TestWriteTimeoutAllowsForTheBody(t *testing.T) {
	t.Parallel()
	cfg := Config{WriteTimeout: 30 * time.Second, MinWriteRate: 1 << 20}
	for _, tt := range []struct {
		size int64
		want time.Duration
	}{
		{0, 30 * time.Second},
		{1 << 20, 31 * time.Second},
		{60 << 20, 90 * time.Second},
		{512 << 10, 30*time.Second + 500*time.Millisecond},
	} {
		if got := cfg.writeTimeout(tt.size); got != tt.want {
			t.Errorf("writeTimeout(%d) = %v, want %v", tt.size, got, tt.want)
		}
	}
}

// TestStalledReaderIsCutOff: a client that asks for the entities and reads
// nothing holds its request only until the write deadline the body's size
// gives, not for as long as it likes.
func TestStalledReaderIsCutOff(t *testing.T) {
	t.Parallel()
	done := make(chan struct{})
	h := NewServer(zerolog.Nop(), &fakeSource{snap: bigSnapshot(32 << 20)}, nil, nil,
		Config{WriteTimeout: 200 * time.Millisecond, MinWriteRate: 64 << 20})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /entities HTTP/1.1\r\nHost: test\r\nAccept-Encoding: gzip\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	// 32 MiB is more than the sockets buffer, so the handler blocks in its
	// write until the deadline (0.7 s here) ends it.
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the handler still writes to a client that reads nothing after 30s, want it cut off at its write deadline")
	}
	// What was sent before the deadline is a cut-off answer.
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, res.Body)
	if err == nil || n >= 32<<20 {
		t.Errorf("got %d bytes and error %v, want the body cut off", n, err)
	}
}

// TestNormalReaderGetsALargeBody reads a 60 MiB catalog at 16 MiB/s with
// the default deadlines: the whole body arrives.
func TestNormalReaderGetsALargeBody(t *testing.T) {
	t.Parallel()
	const size = 60 << 20
	srv := httptest.NewUnstartedServer(NewServer(zerolog.Nop(), &fakeSource{snap: bigSnapshot(size)}, nil, nil, Config{}))
	// As the service runs it: a server-wide write timeout that the entity
	// answers extend.
	srv.Config.WriteTimeout = defaultWriteTimeout
	srv.Start()
	t.Cleanup(srv.Close)

	req, err := http.NewRequestWithContext(t.Context(), "GET", srv.URL+"/entities", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept-Encoding", "gzip")
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if got := res.Header.Get("Content-Length"); got != strconv.Itoa(size) {
		t.Fatalf("got Content-Length %s, want %d", got, size)
	}
	n, err := paced(res.Body, 16<<20)
	if err != nil || n != size {
		t.Fatalf("got %d of %d bytes, error %v", n, size, err)
	}
}

// paced reads r to its end at about rate bytes per second.
func paced(r io.Reader, rate int) (int64, error) {
	start := time.Now()
	buf := make([]byte, 256<<10)
	var n int64
	for {
		k, err := r.Read(buf)
		n += int64(k)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("after %d bytes: %w", n, err)
		}
		if ahead := time.Duration(n)*time.Second/time.Duration(rate) - time.Since(start); ahead > 0 {
			time.Sleep(ahead)
		}
	}
}
