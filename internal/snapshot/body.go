package snapshot

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"sync"
)

// Body is one response body, encoded once when its snapshot is built and
// kept compressed only: a snapshot is held for a whole sync interval, and at
// 100,000 users its content is over 100 MiB uncompressed, about a fifth of
// that compressed. Clients that accept gzip (Backstage's URL reader does)
// get Gzip as is; the others get the content decompressed as it is sent.
type Body struct {
	// Gzip is the content compressed with gzip. It may share memory with
	// other snapshots: never modify it.
	Gzip []byte
	// Size is the length of the content, uncompressed.
	Size int64
	// ETag is the strong entity tag of the content: a hash of it, quoted, so
	// it changes exactly when the content changes.
	ETag string
	// GzipETag is the strong entity tag of Gzip: ETag with a "-gzip" suffix,
	// since a strong validator must differ between content codings.
	GzipETag string
}

// WriteTo writes the content, uncompressed, to w.
func (b *Body) WriteTo(w io.Writer) (int64, error) {
	if b.Size == 0 {
		return 0, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(b.Gzip))
	if err != nil {
		return 0, fmt.Errorf("decompress body: %w", err)
	}
	return io.Copy(w, zr)
}

// Data returns the content, uncompressed, in a new slice on every call. It is
// for tests and small bodies; serving streams with WriteTo instead.
func (b *Body) Data() []byte {
	var buf bytes.Buffer
	buf.Grow(int(b.Size))
	if _, err := b.WriteTo(&buf); err != nil {
		// This package wrote the bytes; they cannot fail to decode.
		panic(err)
	}
	return buf.Bytes()
}

// lazyBody is a Body cut from a run of another body's content the first time
// it is asked for, then kept for the life of its snapshot.
type lazyBody struct {
	once     sync.Once
	src      *Body
	from, to int64 // the run of src's content
	array    bool  // the run is JSON array elements, to be wrapped in brackets
	body     Body
}

func (l *lazyBody) get() *Body {
	l.once.Do(func() {
		zw, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression)
		hint := 64
		if l.src != nil && l.src.Size > 0 {
			hint += int(int64(len(l.src.Gzip)) * (l.to - l.from) / l.src.Size)
		}
		w := newBodyWriter(zw, hint)
		if err := l.copyRun(w); err != nil {
			// This package wrote the source; it cannot fail to decode.
			panic(err)
		}
		l.body = w.body()
	})
	return &l.body
}

// copyRun writes the run to w, wrapped in brackets for an array. Only
// decompressing the source can fail.
func (l *lazyBody) copyRun(w *bodyWriter) error {
	if l.from >= l.to {
		if l.array {
			w.Write([]byte("[]\n"))
		}
		return nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(l.src.Gzip))
	if err != nil {
		return fmt.Errorf("decompress body: %w", err)
	}
	if _, err := io.CopyN(io.Discard, zr, l.from); err != nil {
		return fmt.Errorf("decompress body: %w", err)
	}
	if l.array {
		w.Write([]byte("[\n"))
	}
	if _, err := io.CopyN(w, zr, l.to-l.from); err != nil {
		return fmt.Errorf("decompress body: %w", err)
	}
	if l.array {
		w.Write([]byte("\n]\n"))
	}
	return nil
}
