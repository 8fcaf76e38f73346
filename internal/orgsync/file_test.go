package orgsync

import (
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{users: 90, groups: 14, seed: 11})
	s := f.syncer(Options{UserSearch: `profile.firstName eq "Ada" or status eq "ACTIVE"`})
	ctx := context.Background()
	st, _, err := s.Full(ctx)
	if err != nil {
		t.Fatalf("full sync: %v", err)
	}
	// An incremental sync fills the record of objects outside the selection.
	f.clock.Advance(time.Hour)
	u := f.org.Users()[0]
	_ = f.org.UpdateUser(u.ID, func(u *okta.User) { u.Profile.FirstName = "Bob" })
	_ = f.org.SetUserStatus(u.ID, okta.StatusSuspended)
	if st, _, err = s.Incremental(ctx, st); err != nil {
		t.Fatalf("incremental sync: %v", err)
	}

	path := filepath.Join(t.TempDir(), "state")
	if err := Save(path, st); err != nil {
		t.Fatalf("save: %v", err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if d := got.Diff(st); d.Total() != 0 {
		t.Errorf("loaded state differs: %v", d.Examples)
	}
	type book struct {
		UserMark, GroupMark, LogMark time.Time
		LogReadable, FromGroups      bool
		Selection                    string
		Outside                      map[string]time.Time
		Members                      map[string][]string
	}
	bookOf := func(s *State) book {
		return book{s.userMark, s.groupMark, s.logMark, s.logReadable, s.usersFromGroups, s.selection, s.outside, s.members}
	}
	if diff := cmp.Diff(bookOf(st), bookOf(got)); diff != "" {
		t.Errorf("loaded bookkeeping differs (-want +got):\n%s", diff)
	}

	// A restarted syncer resumes incrementally from the loaded state.
	next, stats, err := s.Incremental(ctx, got)
	if err != nil {
		t.Fatalf("incremental sync from the loaded state: %v", err)
	}
	if stats.Mode != ModeIncremental {
		t.Errorf("got mode %q (%s), want incremental", stats.Mode, stats.Reason)
	}
	assertConverged(t, s, next)

	// No temporary files are left behind.
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("got %d files in the directory, want 1", len(entries))
	}
}

func TestLoadRejectsBadFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	st := &State{
		users:   []okta.User{{ID: "00u1", Status: okta.StatusActive, Profile: okta.UserProfile{Login: "a@example.com"}}},
		groups:  []okta.Group{{ID: "00g1", Type: okta.GroupTypeOkta, Profile: okta.GroupProfile{Name: "A"}}},
		members: map[string][]string{"00g1": {"00u1"}},
	}
	if err := Save(good, st); err != nil {
		t.Fatalf("save: %v", err)
	}
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		b := append([]byte(nil), data...)
		b[i] ^= 0xff
		return b
	}
	version := append([]byte(nil), data...)
	binary.BigEndian.PutUint32(version[len(fileMagic):], fileVersion+1)

	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrCorrupt},
		{"not a state file", []byte("{\"users\":[]}"), ErrCorrupt},
		{"truncated header", data[:10], ErrCorrupt},
		{"truncated body", data[:len(data)-5], ErrCorrupt},
		{"flipped byte in the body", flip(len(data) - 20), ErrCorrupt},
		{"flipped byte in the checksum", flip(headerSize - 1), ErrCorrupt},
		{"trailing garbage", append(append([]byte(nil), data...), "xyz"...), ErrCorrupt},
		{"other version", version, ErrIncompatible},
		{"missing", nil, fs.ErrNotExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(dir, tc.name)
			if tc.want != fs.ErrNotExist {
				if err := os.WriteFile(path, tc.data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := Load(path)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got error %v, want %v", err, tc.want)
			}
			if got != nil {
				t.Errorf("got a state with the error")
			}
		})
	}
}
