package snapshot

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"runtime"
	"sync"

	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog"
)

// docSep starts every YAML document.
const docSep = "---\n"

// appendDoc appends e's YAML document, separator first.
func appendDoc(dst []byte, e *catalog.Entity) []byte {
	dst = append(dst, docSep...)
	dst = catalog.AppendYAML(dst, e)
	if dst[len(dst)-1] != '\n' {
		dst = append(dst, '\n')
	}
	return dst
}

// runTasks runs the encoding tasks on one worker per CPU, each with its own
// encoder, in the order given (the largest first).
func runTasks(tasks []func(*encoder)) {
	work := make(chan func(*encoder))
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(tasks)) {
		wg.Go(func() {
			enc := newEncoder()
			for task := range work {
				task(enc)
			}
		})
	}
	for _, t := range tasks {
		work <- t
	}
	close(work)
	wg.Wait()
}

// flushAt is how much encoded content an encoder gathers before it hands it
// to the compressor.
const flushAt = 64 << 10

// encoder is one worker's reusable state: a compressor and a piece of
// content waiting to be compressed.
type encoder struct {
	zw  *gzip.Writer
	buf []byte
}

func newEncoder() *encoder {
	zw, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression)
	return &encoder{zw: zw, buf: make([]byte, 0, 2*flushAt)}
}

// body starts a body compressed by the encoder's compressor.
func (enc *encoder) body(hint int) *bodyWriter { return newBodyWriter(enc.zw, hint) }

// yaml adds e's document to the piece bound for w.
func (enc *encoder) yaml(w *bodyWriter, e *catalog.Entity) {
	enc.buf = appendDoc(enc.buf, e)
	enc.maybeFlush(w)
}

func (enc *encoder) maybeFlush(w *bodyWriter) {
	if len(enc.buf) >= flushAt {
		enc.flush(w)
	}
}

func (enc *encoder) flush(w *bodyWriter) {
	w.Write(enc.buf)
	enc.buf = enc.buf[:0]
}

// sealSmall hashes data, a small body's whole content, and compresses it
// unless reuse holds the gzip encoding of that content already.
func (enc *encoder) sealSmall(data []byte, reuse map[string][]byte) Body {
	sum := sha256.Sum256(data)
	if gz, ok := reuse[etag(sum)]; ok {
		return newBody(gz, int64(len(data)), sum)
	}
	w := enc.body(len(data)/4 + 64)
	w.Write(data)
	return w.body()
}

// bodyWriter hashes and compresses a body's content as it is written.
type bodyWriter struct {
	sum hash.Hash
	zw  *gzip.Writer
	out bytes.Buffer
	n   int64
}

func newBodyWriter(zw *gzip.Writer, hint int) *bodyWriter {
	w := &bodyWriter{sum: sha256.New(), zw: zw}
	w.out.Grow(hint + hint/16 + 64)
	zw.Reset(&w.out)
	return w
}

// Write never fails: it writes to a hash and to memory.
func (w *bodyWriter) Write(p []byte) (int, error) {
	w.sum.Write(p)
	w.n += int64(len(p))
	_, _ = w.zw.Write(p)
	return len(p), nil
}

// body finishes the compression and returns the body, its gzip encoding
// kept at its exact size.
func (w *bodyWriter) body() Body {
	_ = w.zw.Close()
	var sum [sha256.Size]byte
	w.sum.Sum(sum[:0])
	gz := w.out.Bytes()
	if cap(gz)-len(gz) > len(gz)/16 {
		gz = bytes.Clone(gz)
	} else {
		gz = gz[:len(gz):len(gz)]
	}
	return newBody(gz, w.n, sum)
}

// newBody returns the body of size bytes whose SHA-256 is sum and whose
// gzip encoding is gz.
func newBody(gz []byte, size int64, sum [sha256.Size]byte) Body {
	tag := etag(sum)
	return Body{Gzip: gz, Size: size, ETag: tag, GzipETag: tag[:len(tag)-1] + `-gzip"`}
}

// etag is the ETag of content whose SHA-256 is sum: its first half in hex,
// quoted.
func etag(sum [sha256.Size]byte) string { return `"` + hex.EncodeToString(sum[:16]) + `"` }
