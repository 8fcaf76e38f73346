package api

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rs/zerolog"
)

// discardWriter is a ResponseWriter that keeps the status and the header and
// drops the body, so the handler benchmarks measure the server, not a
// recorder copying tens of megabytes.
type discardWriter struct {
	header http.Header
	status int
	n      int64
}

func (w *discardWriter) Header() http.Header { return w.header }

func (w *discardWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *discardWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += int64(len(p))
	return len(p), nil
}

// BenchmarkEntities serves GET /entities for an org of 20,000 users and 2,000
// groups (40,000 memberships, members listed on groups) from a snapshot held
// in memory: the full YAML body plain and gzipped, and the 304 a conditional
// request gets, first through the handler alone (ns/op and allocs/op per
// request; the body is handed over, not copied), then over loopback HTTP with
// a real client (MB/s of body read).
//
//	go test -run '^$' -bench Entities -benchmem ./api/
func BenchmarkEntities(b *testing.B) {
	users, groups := 20000, 2000
	if testing.Short() {
		users, groups = 2000, 200
	}
	snap := testSnapshot(users, groups, 0)
	h := NewServer(zerolog.Nop(), &fakeSource{snap: snap}, nil, nil, Config{})
	b.Logf("%d users, %d groups: body %.1f MiB, gzip %.1f MiB", snap.Users, snap.Groups, mb(int(snap.All.Size)), mb(len(snap.All.Gzip)))

	cases := []struct {
		name         string
		gzip         bool
		ifNoneMatch  string
		wantStatus   int
		wantBodySize int
	}{
		{"full", false, "", http.StatusOK, int(snap.All.Size)},
		{"full-gzip", true, "", http.StatusOK, len(snap.All.Gzip)},
		{"304", false, snap.All.ETag, http.StatusNotModified, 0},
		{"304-gzip", true, snap.All.GzipETag, http.StatusNotModified, 0},
	}
	for _, tc := range cases {
		b.Run("handler/"+tc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/entities", nil)
			if tc.gzip {
				req.Header.Set("Accept-Encoding", "gzip")
			}
			if tc.ifNoneMatch != "" {
				req.Header.Set("If-None-Match", tc.ifNoneMatch)
			}
			w := &discardWriter{header: make(http.Header)}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.header)
				w.status, w.n = 0, 0
				h.ServeHTTP(w, req)
			}
			if w.status != tc.wantStatus || w.n != int64(tc.wantBodySize) {
				b.Fatalf("got status %d and %d bytes, want %d and %d", w.status, w.n, tc.wantStatus, tc.wantBodySize)
			}
		})
	}

	srv := httptest.NewServer(h)
	defer srv.Close()
	client := srv.Client()
	// Accept-Encoding is always set: gzip explicitly, so the transport hands
	// over the compressed bytes instead of decoding them (the benchmark measures
	// serving, not gunzip), and identity otherwise, since the transport would
	// ask for gzip itself.
	for _, tc := range cases {
		b.Run("http/"+tc.name, func(b *testing.B) {
			b.SetBytes(int64(tc.wantBodySize))
			b.ReportAllocs()
			var status int
			var n int64
			for b.Loop() {
				req, err := http.NewRequestWithContext(b.Context(), http.MethodGet, srv.URL+"/entities", nil)
				if err != nil {
					b.Fatal(err)
				}
				if tc.gzip {
					req.Header.Set("Accept-Encoding", "gzip")
				} else {
					req.Header.Set("Accept-Encoding", "identity")
				}
				if tc.ifNoneMatch != "" {
					req.Header.Set("If-None-Match", tc.ifNoneMatch)
				}
				res, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				n, err = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if err != nil {
					b.Fatal(err)
				}
				status = res.StatusCode
			}
			if status != tc.wantStatus || n != int64(tc.wantBodySize) {
				b.Fatalf("got status %d and %d bytes, want %d and %d", status, n, tc.wantStatus, tc.wantBodySize)
			}
		})
	}
}

func mb(n int) float64 { return float64(n) / (1 << 20) }
