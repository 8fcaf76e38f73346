package orgsync

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
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

// fileState is the JSON body of a state file.
type fileState struct {
	Selection       string               `json:"selection"`
	UsersFromGroups bool                 `json:"usersFromGroups"`
	LogReadable     bool                 `json:"logReadable"`
	UserMark        time.Time            `json:"userMark"`
	GroupMark       time.Time            `json:"groupMark"`
	LogMark         time.Time            `json:"logMark"`
	SyncsSinceCheck int                  `json:"syncsSinceCheck"`
	Outside         map[string]time.Time `json:"outside,omitempty"`
	Users           []okta.User          `json:"users"`
	Groups          []okta.Group         `json:"groups"`
	Members         map[string][]string  `json:"members"`
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
	if err := json.NewEncoder(zw).Encode(fileState{
		Selection:       st.selection,
		UsersFromGroups: st.usersFromGroups,
		LogReadable:     st.logReadable,
		UserMark:        st.userMark,
		GroupMark:       st.groupMark,
		LogMark:         st.logMark,
		SyncsSinceCheck: st.syncsSinceCheck,
		Outside:         st.outside,
		Users:           st.users,
		Groups:          st.groups,
		Members:         st.members,
	}); err != nil {
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
	var fs fileState
	dec := json.NewDecoder(zr)
	if err := dec.Decode(&fs); err != nil {
		return nil, fmt.Errorf("load state %s: %w: %v", path, ErrCorrupt, err)
	}
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return nil, fmt.Errorf("load state %s: %w: %v", path, ErrCorrupt, err)
	}
	st := &State{
		users:           sortByID(fs.Users, userID),
		groups:          sortByID(fs.Groups, groupID),
		members:         fs.Members,
		userMark:        fs.UserMark.UTC(),
		groupMark:       fs.GroupMark.UTC(),
		logMark:         fs.LogMark.UTC(),
		logReadable:     fs.LogReadable,
		usersFromGroups: fs.UsersFromGroups,
		selection:       fs.Selection,
		outside:         fs.Outside,
		syncsSinceCheck: fs.SyncsSinceCheck,
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
	if st.members == nil {
		st.members = map[string][]string{}
	}
	return st, nil
}
