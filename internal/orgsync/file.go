package orgsync

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// ErrCorrupt is matched (with errors.Is) by Load's error for a state file
// that is truncated, damaged or not a state file at all.
var ErrCorrupt = errors.New("state file is corrupt")

// ErrIncompatible is matched by Load's error for a state file written in
// another format version.
var ErrIncompatible = errors.New("state file has an incompatible format version")

// The file holds a header and a gzip-compressed JSON body:
//
//	magic (8 bytes) | version (uint32, big endian) | body length (uint64) | SHA-256 of the body (32 bytes) | body
const (
	fileMagic   = "OKTAORG\x00"
	fileVersion = 1
	headerSize  = len(fileMagic) + 4 + 8 + sha256.Size
)

// fileMeta is the bookkeeping part of a state file's JSON body:
//
//	{"meta": fileMeta, "users": [...], "groups": [...], "members": {...}}
//
// The lists are written and read one object at a time, so that neither
// needs the whole encoding in memory.
type fileMeta struct {
	Selection       string               `json:"selection"`
	UsersFromGroups bool                 `json:"usersFromGroups"`
	LogReadable     bool                 `json:"logReadable"`
	UserMark        time.Time            `json:"userMark"`
	GroupMark       time.Time            `json:"groupMark"`
	LogMark         time.Time            `json:"logMark"`
	SyncsSinceCheck int                  `json:"syncsSinceCheck"`
	Outside         map[string]time.Time `json:"outside,omitempty"`
	FullSyncAt      time.Time            `json:"fullSyncAt,omitzero"`
}

// Save writes st to path atomically: to a temporary file in the same
// directory, synced, renamed over path, and the directory synced, so that a
// crash leaves either the old file or the new one.
func Save(path string, st *State) (err error) {
	var body bytes.Buffer
	zw, err := gzip.NewWriterLevel(&body, gzip.BestSpeed)
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	if err := encodeState(zw, st); err != nil {
		return fmt.Errorf("save state: encode: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("save state: compress: %w", err)
	}
	header := make([]byte, 0, headerSize)
	header = append(header, fileMagic...)
	header = binary.BigEndian.AppendUint32(header, fileVersion)
	header = binary.BigEndian.AppendUint64(header, uint64(body.Len()))
	sum := sha256.Sum256(body.Bytes())
	header = append(header, sum[:]...)

	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err := f.Write(header); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	if _, err := body.WriteTo(f); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		// Make the rename itself durable; not every filesystem supports it.
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// Load reads a state written by Save. A missing file gives an error
// matching fs.ErrNotExist; a damaged one ErrCorrupt; one of another format
// version ErrIncompatible. The caller then runs a full sync.
func Load(path string) (*State, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load state: %w", err)
	}
	if len(data) < headerSize || string(data[:len(fileMagic)]) != fileMagic {
		return nil, fmt.Errorf("load state %s: %w: no state file header", path, ErrCorrupt)
	}
	h := data[len(fileMagic):]
	if v := binary.BigEndian.Uint32(h); v != fileVersion {
		return nil, fmt.Errorf("load state %s: %w: version %d, want %d", path, ErrIncompatible, v, fileVersion)
	}
	n := binary.BigEndian.Uint64(h[4:])
	body := data[headerSize:]
	if uint64(len(body)) != n {
		return nil, fmt.Errorf("load state %s: %w: body is %d bytes, header says %d", path, ErrCorrupt, len(body), n)
	}
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:], h[12:12+sha256.Size]) {
		return nil, fmt.Errorf("load state %s: %w: checksum mismatch", path, ErrCorrupt)
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("load state %s: %w: %v", path, ErrCorrupt, err)
	}
	st, err := decodeState(zr)
	if err != nil {
		return nil, fmt.Errorf("load state %s: %w: %v", path, ErrCorrupt, err)
	}
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return nil, fmt.Errorf("load state %s: %w: %v", path, ErrCorrupt, err)
	}
	for i := range st.users {
		normalizeUser(&st.users[i])
	}
	for i := range st.groups {
		normalizeGroup(&st.groups[i])
	}
	intern := sortedIntern(st.users)
	for _, ids := range st.members {
		for i, id := range ids {
			ids[i] = intern(id)
		}
	}
	return st, nil
}

func encodeState(w io.Writer, st *State) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	bw.WriteString(`{"meta":`)
	if err := enc.Encode(fileMeta{
		Selection:       st.selection,
		UsersFromGroups: st.usersFromGroups,
		LogReadable:     st.logReadable,
		UserMark:        st.userMark,
		GroupMark:       st.groupMark,
		LogMark:         st.logMark,
		SyncsSinceCheck: st.syncsSinceCheck,
		Outside:         st.outside,
		FullSyncAt:      st.fullAt,
	}); err != nil {
		return err
	}
	if err := encodeList(bw, enc, `,"users":`, st.users); err != nil {
		return err
	}
	if err := encodeList(bw, enc, `,"groups":`, st.groups); err != nil {
		return err
	}
	bw.WriteString(`,"members":{`)
	for i, id := range slices.Sorted(maps.Keys(st.members)) {
		if i > 0 {
			bw.WriteByte(',')
		}
		if err := enc.Encode(id); err != nil {
			return err
		}
		bw.WriteByte(':')
		if err := enc.Encode(st.members[id]); err != nil {
			return err
		}
	}
	bw.WriteString("}}\n")
	return bw.Flush()
}

func encodeList[T any](bw *bufio.Writer, enc *json.Encoder, key string, items []T) error {
	bw.WriteString(key)
	bw.WriteByte('[')
	for i := range items {
		if i > 0 {
			bw.WriteByte(',')
		}
		if err := enc.Encode(&items[i]); err != nil {
			return err
		}
	}
	bw.WriteByte(']')
	return nil
}

func decodeState(r io.Reader) (*State, error) {
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return nil, err
	}
	st := &State{members: map[string][]string{}}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		seen[key] = true
		switch key {
		case "meta":
			var m fileMeta
			if err := dec.Decode(&m); err != nil {
				return nil, fmt.Errorf("meta: %w", err)
			}
			st.selection, st.usersFromGroups, st.logReadable = m.Selection, m.UsersFromGroups, m.LogReadable
			st.userMark, st.groupMark, st.logMark = m.UserMark.UTC(), m.GroupMark.UTC(), m.LogMark.UTC()
			st.syncsSinceCheck, st.outside, st.fullAt = m.SyncsSinceCheck, m.Outside, m.FullSyncAt
		case "users":
			if st.users, err = decodeList[okta.User](dec); err != nil {
				return nil, fmt.Errorf("users: %w", err)
			}
		case "groups":
			if st.groups, err = decodeList[okta.Group](dec); err != nil {
				return nil, fmt.Errorf("groups: %w", err)
			}
		case "members":
			if err := expectDelim(dec, '{'); err != nil {
				return nil, fmt.Errorf("members: %w", err)
			}
			for dec.More() {
				tok, err := dec.Token()
				if err != nil {
					return nil, fmt.Errorf("members: %w", err)
				}
				id, _ := tok.(string)
				var ids []string
				if err := dec.Decode(&ids); err != nil {
					return nil, fmt.Errorf("members of %s: %w", id, err)
				}
				st.members[id] = ids
			}
			if err := expectDelim(dec, '}'); err != nil {
				return nil, fmt.Errorf("members: %w", err)
			}
		default:
			return nil, fmt.Errorf("unknown key %q", key)
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return nil, err
	}
	for _, key := range []string{"meta", "users", "groups", "members"} {
		if !seen[key] {
			return nil, fmt.Errorf("no %s", key)
		}
	}
	return st, nil
}

func decodeList[T any](dec *json.Decoder) ([]T, error) {
	if err := expectDelim(dec, '['); err != nil {
		return nil, err
	}
	var out []T
	for dec.More() {
		var v T
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return slices.Clip(out), expectDelim(dec, ']')
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("got %v, want %v", tok, want)
	}
	return nil
}
