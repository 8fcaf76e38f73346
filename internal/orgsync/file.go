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
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
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
//
// Version 2 added the list lengths to the body's meta, version 3 the app
// assignments.
const (
	fileMagic   = "OKTAORG\x00"
	fileVersion = 3
	headerSize  = len(fileMagic) + 4 + 8 + sha256.Size
)

// Limits on what a state file's counts may claim. The counts size the
// slices the lists are decoded into, so a damaged or crafted count must
// neither be believed past what the body can hold nor be allowed to make a
// huge allocation before the elements are read.
const (
	// minElementJSON is the fewest bytes a user or group takes in its list:
	// an object with a one-character id, and a comma.
	minElementJSON = len(`{"id":"x"},`)
	// maxDeflateRatio is the most bytes deflate expands one byte of its
	// stream to (a 258-byte match coded in two bits).
	maxDeflateRatio = 1032
	// minElementGzip is the fewest compressed bytes a user or group is
	// expected to take: an Okta id alone is 20 characters, mostly random.
	// A slice is made at its count only as far as the body's length makes
	// that count plausible by this measure; past it, the slice grows as
	// elements are decoded, so a false count costs no more memory than the
	// elements that are really in the file.
	minElementGzip = 8
)

// fileMeta is the bookkeeping part of a state file's JSON body:
//
//	{"meta": fileMeta, "users": [...], "groups": [...], "members": {...}}
//
// The parts come in that order. The lists are written and read one object
// at a time, so that neither needs the whole encoding in memory.
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
	// UserCount and GroupCount are the lengths of the lists, so that each
	// is decoded into a slice made at its size.
	UserCount  int `json:"userCount"`
	GroupCount int `json:"groupCount"`
	// Apps holds the selected apps' assignments (absent when the selection
	// names no app); AppEvents the app assignment events acted on.
	Apps          map[string]assignment `json:"apps,omitempty"`
	AppEvents     map[string]time.Time  `json:"appEvents,omitempty"`
	AppGroupsOnly bool                  `json:"appGroupsOnly,omitempty"`
}

// Save writes st to path atomically: to a temporary file in the same
// directory, synced, renamed over path, and the directory synced, so that a
// crash leaves either the old file or the new one.
func Save(path string, st *State) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, tempPattern(filepath.Base(path)))
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := writeState(f, st); err != nil {
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

// stateWriter is where writeState writes: a file, or a buffer in memory.
type stateWriter interface {
	io.Writer
	io.WriterAt
	io.Seeker
}

// writeState writes st to w, at its start, in the state file's format.
// The body is compressed straight into w. Its length and checksum are
// known only at the end, so the header is written blank and filled in
// after.
func writeState(w stateWriter, st *State) error {
	if _, err := w.Write(make([]byte, headerSize)); err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	sum := sha256.New()
	zw, err := gzip.NewWriterLevel(io.MultiWriter(bw, sum), gzip.BestSpeed)
	if err != nil {
		return err
	}
	if err := encodeState(zw, st); err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("compress: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	end, err := w.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	header := make([]byte, 0, headerSize)
	header = append(header, fileMagic...)
	header = binary.BigEndian.AppendUint32(header, fileVersion)
	header = binary.BigEndian.AppendUint64(header, uint64(end)-uint64(headerSize))
	header = sum.Sum(header)
	_, err = w.WriteAt(header, 0)
	return err
}

// Marshal returns st in the state file's format, for a store other than a
// file (a database column). Unmarshal reads it back.
func Marshal(st *State) ([]byte, error) {
	var b memFile
	if err := writeState(&b, st); err != nil {
		return nil, fmt.Errorf("marshal state: %w", err)
	}
	return b.buf, nil
}

// Unmarshal reads a state written by Marshal (or the content of a state
// file). Its errors match ErrCorrupt and ErrIncompatible as Load's do.
func Unmarshal(data []byte) (*State, error) {
	st, err := load(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("unmarshal state: %w", err)
	}
	return st, nil
}

// memFile is a stateWriter in memory.
type memFile struct {
	buf []byte
	off int64
}

func (m *memFile) Write(p []byte) (int, error) {
	n, err := m.WriteAt(p, m.off)
	m.off += int64(n)
	return n, err
}

func (m *memFile) WriteAt(p []byte, off int64) (int, error) {
	if end := int(off) + len(p); end > len(m.buf) {
		m.buf = append(m.buf, make([]byte, end-len(m.buf))...)
	}
	return copy(m.buf[off:], p), nil
}

func (m *memFile) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		m.off = offset
	case io.SeekCurrent:
		m.off += offset
	case io.SeekEnd:
		m.off = int64(len(m.buf)) + offset
	}
	return m.off, nil
}

// tempPattern is the os.CreateTemp pattern of Save's temporary files for
// the state file named base.
func tempPattern(base string) string { return base + ".tmp-*" }

// RemoveTemporary removes the temporary files that Save left next to path
// when the process stopped before it renamed one over path. It removes
// only regular files named as Save names its own for path (path's name,
// ".tmp-" and digits), and returns the names of those it removed. It must
// not run while a Save of path may be in progress.
func RemoveTemporary(path string) (removed []string, err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("remove temporary state files: %w", err)
	}
	prefix := strings.TrimSuffix(tempPattern(base), "*")
	var errs []error
	for _, e := range entries {
		suffix, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || suffix == "" || strings.Trim(suffix, "0123456789") != "" || !e.Type().IsRegular() {
			continue
		}
		name := filepath.Join(dir, e.Name())
		if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove temporary state file: %w", err))
			continue
		}
		removed = append(removed, name)
	}
	return removed, errors.Join(errs...)
}

// Load reads a state written by Save. A missing file gives an error
// matching fs.ErrNotExist; a damaged one ErrCorrupt; one of another format
// version ErrIncompatible. The caller then runs a full sync.
func Load(path string) (*State, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load state: %w", err)
	}
	defer f.Close()
	st, err := load(f)
	if err != nil {
		return nil, fmt.Errorf("load state %s: %w", path, err)
	}
	return st, nil
}

// load reads a state file from f: the header, the checksum over the whole
// body, then the body itself, hashed again as it is decoded.
func load(f io.ReadSeeker) (*State, error) {
	header := make([]byte, headerSize)
	_, err := io.ReadFull(f, header)
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), err == nil && string(header[:len(fileMagic)]) != fileMagic:
		return nil, fmt.Errorf("%w: no state file header", ErrCorrupt)
	case err != nil:
		return nil, err
	}
	h := header[len(fileMagic):]
	if v := binary.BigEndian.Uint32(h); v != fileVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrIncompatible, v, fileVersion)
	}
	n := int64(binary.BigEndian.Uint64(h[4:]))
	want := h[12 : 12+sha256.Size]

	// The body holds the lengths its slices are made at, so it is checked
	// whole before it is decoded: a damaged length must not make a huge
	// allocation.
	sum := sha256.New()
	got, err := io.Copy(sum, f)
	switch {
	case err != nil:
		return nil, err
	case got != n:
		return nil, fmt.Errorf("%w: body is %d bytes, header says %d", ErrCorrupt, got, n)
	case !bytes.Equal(sum.Sum(nil), want):
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}

	// It is hashed again as it is decoded, so that the state returned is
	// the one checked even if the file changed in between.
	if _, err := f.Seek(int64(headerSize), io.SeekStart); err != nil {
		return nil, err
	}
	sum.Reset()
	body := bufio.NewReaderSize(io.TeeReader(io.LimitReader(f, n), sum), 64<<10)
	zr, err := gzip.NewReader(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	st, err := decodeState(zr, n)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	// Reading to the end checks gzip's own length and checksum.
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if _, err := io.Copy(io.Discard, body); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if !bytes.Equal(sum.Sum(nil), want) {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	for i := range st.users {
		normalizeUser(&st.users[i])
	}
	for i := range st.groups {
		normalizeGroup(&st.groups[i])
	}
	shareStrings(st.users)
	return st, nil
}

// shareStrings gives the users one string for each value of the
// attributes that many of them hold alike (status, user type, department,
// title, manager and the like) and one TypeRef for each type, and lets an
// email that is the login share the login's string. Each was decoded as a
// string of its own, which for a state of many users is much of its
// strings' memory.
func shareStrings(users []okta.User) {
	strs := make(map[string]string)
	share := func(s *string) {
		if *s == "" {
			return
		}
		if c, ok := strs[*s]; ok {
			*s = c
			return
		}
		strs[*s] = *s
	}
	types := make(map[string]*okta.TypeRef)
	for i := range users {
		u := &users[i]
		share(&u.Status)
		if u.Type != nil {
			if t, ok := types[u.Type.ID]; ok {
				u.Type = t
			} else {
				types[u.Type.ID] = u.Type
			}
		}
		p := &u.Profile
		for _, s := range [...]*string{&p.UserType, &p.Department, &p.Division, &p.Organization, &p.CostCenter, &p.Title, &p.Manager, &p.ManagerID} {
			share(s)
		}
		if p.Email == p.Login {
			p.Email = p.Login
		}
		if p.SecondEmail == p.Email {
			p.SecondEmail = p.Email
		}
	}
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
		UserCount:       len(st.users),
		GroupCount:      len(st.groups),
		Apps:            st.apps,
		AppEvents:       st.appEvents,
		AppGroupsOnly:   st.appGroupsOnly,
	}); err != nil {
		return err
	}
	// Users are appended by hand: encoding/json would allocate for each
	// of them, about as much again as the whole state at 100,000 users.
	bw.WriteString(`,"users":[`)
	var buf []byte
	for i := range st.users {
		if i > 0 {
			bw.WriteByte(',')
		}
		var err error
		if buf, err = st.users[i].AppendJSON(buf[:0]); err != nil {
			return err
		}
		bw.Write(buf)
	}
	bw.WriteByte(']')
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

// decodeState decodes a state file's JSON body, which came from size bytes
// of gzip.
func decodeState(r io.Reader, size int64) (*State, error) {
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return nil, err
	}
	if err := expectKey(dec, "meta"); err != nil {
		return nil, err
	}
	var m fileMeta
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	st := &State{
		selection:       m.Selection,
		usersFromGroups: m.UsersFromGroups,
		logReadable:     m.LogReadable,
		userMark:        m.UserMark.UTC(),
		groupMark:       m.GroupMark.UTC(),
		logMark:         m.LogMark.UTC(),
		syncsSinceCheck: m.SyncsSinceCheck,
		outside:         m.Outside,
		fullAt:          m.FullSyncAt,
		apps:            m.Apps,
		appEvents:       m.AppEvents,
		appGroupsOnly:   m.AppGroupsOnly,
	}
	for id, a := range st.apps {
		if !slices.IsSorted(a.Users) || !slices.IsSorted(a.Groups) {
			return nil, fmt.Errorf("meta: the assignments of app %s are not sorted", id)
		}
	}
	var err error
	if err = expectKey(dec, "users"); err != nil {
		return nil, err
	}
	if st.users, err = decodeList(dec, m.UserCount, size, userID); err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	if err = expectKey(dec, "groups"); err != nil {
		return nil, err
	}
	if st.groups, err = decodeList(dec, m.GroupCount, size, groupID); err != nil {
		return nil, fmt.Errorf("groups: %w", err)
	}
	if err = expectKey(dec, "members"); err != nil {
		return nil, err
	}
	if st.members, err = decodeMembers(dec, len(st.groups), st.users); err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	if err := expectDelim(dec, '}'); err != nil {
		return nil, err
	}
	return st, nil
}

// decodeList decodes an array of n elements from a body of size gzip
// bytes, into a slice of length n. n must fit in the body, and the
// elements' ids must be set and strictly increasing, as Save writes them
// and as the state's lookups by id need.
func decodeList[T any](dec *json.Decoder, n int, size int64, id func(*T) string) ([]T, error) {
	if n < 0 {
		return nil, fmt.Errorf("length %d", n)
	}
	if most := size * maxDeflateRatio / int64(minElementJSON); int64(n) > most {
		return nil, fmt.Errorf("length %d, but a %d-byte body holds at most %d", n, size, most)
	}
	if err := expectDelim(dec, '['); err != nil {
		return nil, err
	}
	var out []T // an empty list stays nil
	if n > 0 {
		out = make([]T, 0, min(int64(n), 1+size/minElementGzip))
	}
	for i := range n {
		if !dec.More() {
			return nil, fmt.Errorf("got %d elements, want %d", i, n)
		}
		if len(out) == cap(out) {
			// Grown at most to n, so that a true count ends in a slice of
			// exactly its length.
			grown := make([]T, len(out), min(n, 2*cap(out)))
			copy(grown, out)
			out = grown
		}
		out = out[:i+1]
		if err := dec.Decode(&out[i]); err != nil {
			return nil, err
		}
		switch cur := id(&out[i]); {
		case cur == "":
			return nil, fmt.Errorf("element %d has no id", i)
		case i > 0 && cur <= id(&out[i-1]):
			return nil, fmt.Errorf("element %d: id %q does not follow %q", i, cur, id(&out[i-1]))
		}
	}
	if dec.More() {
		return nil, fmt.Errorf("more than %d elements", n)
	}
	return out, expectDelim(dec, ']')
}

// decodeMembers decodes the member lists, each into a slice of its length
// holding the users' own id strings, so that a member costs no string of
// its own unless it is outside the state.
func decodeMembers(dec *json.Decoder, groups int, users []okta.User) (map[string][]string, error) {
	if err := expectDelim(dec, '{'); err != nil {
		return nil, err
	}
	userIDs := make(map[string]string, len(users))
	for i := range users {
		userIDs[users[i].ID] = users[i].ID
	}
	members := make(map[string][]string, groups)
	var listed []string // reused: only the copy with the users' strings is kept
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		group, _ := tok.(string)
		if err := dec.Decode(&listed); err != nil {
			return nil, fmt.Errorf("members of %s: %w", group, err)
		}
		var ids []string
		if listed != nil { // a null list stays nil, an empty one empty
			ids = make([]string, len(listed))
		}
		for i, id := range listed {
			if s, ok := userIDs[id]; ok {
				id = s
			}
			ids[i] = id
		}
		clear(listed)
		members[group] = ids
	}
	return members, expectDelim(dec, '}')
}

// expectKey reads the next object key, which must be want.
func expectKey(dec *json.Decoder, want string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if key, ok := tok.(string); !ok || key != want {
		return fmt.Errorf("got %v, want key %q", tok, want)
	}
	return nil
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
