package snapshot

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// wireVersion is the version of the encoding MarshalBinary writes; a
// snapshot of another version is not decoded (Unmarshal's error matches
// ErrIncompatible), and its reader builds its own from the sync state.
// Version 2 keeps the entity refs themselves, not their hashes, for the
// deletion guard's lists.
const wireVersion = 2

// ErrIncompatible is matched (with errors.Is) by Unmarshal's error for a
// snapshot encoded in another version.
var ErrIncompatible = errors.New("snapshot encoded in an incompatible version")

// wire is a Snapshot as MarshalBinary encodes it: the compressed bodies
// with their ETags as they are, so that a snapshot read back serves the
// same bytes under the same ETags.
type wire struct {
	Version                 int
	BuiltAt                 time.Time
	Entities, Users, Groups int
	All, AllJSON, Index     Body
	Shards                  []Body
	// Report is the mapping report as JSON: gob would read its empty
	// lists back as nil, which /status shows as null rather than [].
	Report                      []byte
	UserRefs, GroupRefs         []string
	UsersYAML, GroupsYAML       [2]int64
	UsersJSON, GroupsJSON       [2]int64
	HasUsersJSON, HasGroupsJSON bool
}

// MarshalBinary encodes the snapshot whole, for replicas that serve what
// another one built. Unmarshal reads it back.
func (s *Snapshot) MarshalBinary() ([]byte, error) {
	report, err := json.Marshal(&s.Report)
	if err != nil {
		return nil, fmt.Errorf("encode snapshot: %w", err)
	}
	w := wire{
		Version: wireVersion, BuiltAt: s.BuiltAt,
		Entities: s.Entities, Users: s.Users, Groups: s.Groups,
		All: s.All, AllJSON: s.AllJSON, Index: s.Index, Shards: s.Shards,
		Report: report, UserRefs: s.userRefs, GroupRefs: s.groupRefs,
		UsersYAML:    [2]int64{s.usersYAML.from, s.usersYAML.to},
		GroupsYAML:   [2]int64{s.groupsYAML.from, s.groupsYAML.to},
		UsersJSON:    [2]int64{s.usersJSON.from, s.usersJSON.to},
		GroupsJSON:   [2]int64{s.groupsJSON.from, s.groupsJSON.to},
		HasUsersJSON: s.usersJSON.src != nil, HasGroupsJSON: s.groupsJSON.src != nil,
	}
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(&w); err != nil {
		return nil, fmt.Errorf("encode snapshot: %w", err)
	}
	return b.Bytes(), nil
}

// Unmarshal decodes a snapshot encoded by MarshalBinary.
func Unmarshal(data []byte) (*Snapshot, error) {
	var w wire
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&w); err != nil {
		return nil, fmt.Errorf("decode snapshot: %w", err)
	}
	if w.Version != wireVersion {
		return nil, fmt.Errorf("decode snapshot: %w: version %d, want %d", ErrIncompatible, w.Version, wireVersion)
	}
	s := &Snapshot{
		BuiltAt: w.BuiltAt, Entities: w.Entities, Users: w.Users, Groups: w.Groups,
		All: w.All, AllJSON: w.AllJSON, Index: w.Index, Shards: w.Shards,
		userRefs: w.UserRefs, groupRefs: w.GroupRefs,
	}
	if err := json.Unmarshal(w.Report, &s.Report); err != nil {
		return nil, fmt.Errorf("decode snapshot: report: %w", err)
	}
	runs := []struct {
		l     *lazyBody
		src   *Body
		run   [2]int64
		array bool
		has   bool
	}{
		{&s.usersYAML, &s.All, w.UsersYAML, false, true},
		{&s.groupsYAML, &s.All, w.GroupsYAML, false, true},
		{&s.usersJSON, &s.AllJSON, w.UsersJSON, true, w.HasUsersJSON},
		{&s.groupsJSON, &s.AllJSON, w.GroupsJSON, true, w.HasGroupsJSON},
	}
	for _, r := range runs {
		if r.run[0] < 0 || r.run[0] > r.run[1] || r.run[1] > r.src.Size {
			return nil, fmt.Errorf("decode snapshot: a run [%d, %d) outside its body of %d bytes", r.run[0], r.run[1], r.src.Size)
		}
		r.l.array = r.array
		if r.has {
			r.l.src, r.l.from, r.l.to = r.src, r.run[0], r.run[1]
		}
	}
	return s, nil
}
