package orgsync

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzLoadState feeds Load arbitrary state files. Each input is tried as a
// whole file and as the JSON body of a file with a good header and
// checksum, so that the fuzzer reaches the decoder rather than stopping at
// the checksum. Load must return a state or an error matching ErrCorrupt or
// ErrIncompatible, never panic (a count the body cannot hold used to make
// a slice of that length); a state it returns must save and load back
// unchanged.
func FuzzLoadState(f *testing.F) {
	dir := f.TempDir()
	for i, st := range []*State{testState(), {members: map[string][]string{}}} {
		path := filepath.Join(dir, "seed"+string(rune('0'+i)))
		if err := Save(path, st); err != nil {
			f.Fatalf("save: %v", err)
		}
		file := readFile(f, path)
		f.Add(file)
		zr, err := gzip.NewReader(bytes.NewReader(file[headerSize:]))
		if err != nil {
			f.Fatal(err)
		}
		body, err := io.ReadAll(zr)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	const rest = `,"users":[{"id":"00u1","status":"ACTIVE","profile":{"login":"a"}}],"groups":[{"id":"00g1"}],"members":{"00g1":["00u1"]}}`
	for _, meta := range []string{
		`{"meta":{"userCount":1,"groupCount":1}`,
		`{"meta":{"userCount":1000000000000,"groupCount":1}`,
		`{"meta":{"userCount":1,"groupCount":300000000}`,
		`{"meta":{"userCount":-1,"groupCount":1}`,
		`{"meta":{}`,
	} {
		f.Add([]byte(meta + rest))
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		for _, file := range [][]byte{data, stateFileOf(t, data)} {
			st, err := load(bytes.NewReader(file))
			if err != nil {
				if st != nil {
					t.Fatalf("got a state with error %v", err)
				}
				if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrIncompatible) {
					t.Fatalf("got error %v, want one matching %v or %v", err, ErrCorrupt, ErrIncompatible)
				}
				continue
			}
			var saved bytes.Buffer
			if err := encodeState(&saved, st); err != nil {
				t.Fatalf("the loaded state does not save: %v", err)
			}
			again, err := load(bytes.NewReader(stateFileOf(t, saved.Bytes())))
			if err != nil {
				t.Fatalf("the loaded state, saved, does not load: %v", err)
			}
			if d := again.Diff(st); d.Total() != 0 {
				t.Fatalf("the loaded state, saved and loaded, differs: %v", d.Examples)
			}
			if diff := cmp.Diff(st.members, again.members); diff != "" {
				t.Fatalf("members differ after saving and loading (-first +second):\n%s", diff)
			}
		}
	})
}

// gzipWriters keeps stateFileOf's compressors, each of which costs more to
// make than a small input takes to load.
var gzipWriters sync.Pool

// stateFileOf returns a state file holding body, gzip-compressed, under a
// header of the current version with the right length and checksum.
func stateFileOf(t *testing.T, body []byte) []byte {
	t.Helper()
	var gz bytes.Buffer
	zw, _ := gzipWriters.Get().(*gzip.Writer)
	if zw == nil {
		var err error
		if zw, err = gzip.NewWriterLevel(&gz, gzip.BestSpeed); err != nil {
			t.Fatal(err)
		}
	}
	defer gzipWriters.Put(zw)
	zw.Reset(&gz)
	if _, err := zw.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	file := []byte(fileMagic)
	file = binary.BigEndian.AppendUint32(file, fileVersion)
	file = binary.BigEndian.AppendUint64(file, uint64(gz.Len()))
	sum := sha256.Sum256(gz.Bytes())
	file = append(file, sum[:]...)
	return append(file, gz.Bytes()...)
}
