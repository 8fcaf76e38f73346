package orgsync

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{users: 90, groups: 14, seed: 11})
	ctx := context.Background()
	s, st := f.fullSynced(ctx, t, Options{UserSearch: `profile.firstName eq "Ada" or status eq "ACTIVE"`})
	// An incremental sync fills the record of objects outside the selection.
	f.clock.Advance(time.Hour)
	u := f.org.Users()[0]
	_ = f.org.UpdateUser(u.ID, func(u *okta.User) { u.Profile.FirstName = "Bob" })
	_ = f.org.SetUserStatus(u.ID, okta.StatusSuspended)
	st = mustIncremental(ctx, t, s, st)

	got, path := saveLoad(t, st)
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

// saveLoad saves st to a new file, loads it back and checks that the
// loaded state holds the same data; it returns the loaded state and the
// file's path.
func saveLoad(t *testing.T, st *State) (*State, string) {
	t.Helper()
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
	return got, path
}

// testState is a small state with every kind of value a file holds:
// custom attributes of each JSON type, members outside the state, and nil
// and empty member lists.
func testState() *State {
	at := func(day int) time.Time { return time.Date(2024, 3, day, 10, 30, 0, 123e6, time.UTC) }
	staff := &okta.TypeRef{ID: "oty1"}
	return &State{
		users: []okta.User{
			{ID: "00u1", Status: okta.StatusActive, Created: at(1), Activated: at(2), StatusChanged: at(2), LastUpdated: at(3), Type: staff,
				Profile: okta.UserProfile{Login: "ada@example.com", Email: "ada@example.com", FirstName: "Ada", LastName: "Lovelace", Department: "Engineering", Title: "Engineer",
					Custom: okta.AttrsOf(map[string]any{"githubUsername": "ada", "level": 3.0, "admin": true, "skills": []any{"go", "k8s"}, "address": map[string]any{"city": "London"}})}},
			{ID: "00u2", Status: okta.StatusSuspended, Created: at(4), LastUpdated: at(5), Type: &okta.TypeRef{ID: "oty1"},
				Profile: okta.UserProfile{Login: "bob", Email: "bob@example.com", DisplayName: "Bob <B> & \"Co\"", Department: "Engineering", ManagerID: "00u1"}},
			{ID: "00u3", Status: okta.StatusActive, LastUpdated: at(6), Profile: okta.UserProfile{Login: "josé@example.com", LastName: "Müller"}},
		},
		groups: []okta.Group{
			{ID: "00g1", Type: okta.GroupTypeOkta, Created: at(1), LastUpdated: at(2), LastMembershipUpdated: at(7), ObjectClass: []string{"okta:user_group"},
				Profile: okta.GroupProfile{Name: "Engineering", Description: "Builds"}},
			{ID: "00g2", Type: okta.GroupTypeApp, Source: &okta.TypeRef{ID: "0oa1"},
				Profile: okta.GroupProfile{Name: "ad-eng", Custom: okta.AttrsOf(map[string]any{"samAccountName": "eng", "dn": "CN=eng"})}},
			{ID: "00g3", Type: okta.GroupTypeOkta, Profile: okta.GroupProfile{Name: "Empty"}},
			{ID: "00g4", Type: okta.GroupTypeOkta, Profile: okta.GroupProfile{Name: "Unlisted"}},
			{ID: "00gE", Type: okta.GroupTypeBuiltIn, Profile: okta.GroupProfile{Name: "Everyone"}},
		},
		members: map[string][]string{
			"00g1": {"00u1", "00u2", "00u3"},
			"00g2": {"00u0-outside", "00u2", "00u9-outside"},
			"00g3": {},
			"00g4": nil,
		},
		userMark: at(8), groupMark: at(9), logMark: at(10),
		logReadable: true, selection: `{"US":"status eq \"ACTIVE\""}`, syncsSinceCheck: 2,
		outside: map[string]time.Time{"u00u7": at(5), "g00g9": at(6)},
		fullAt:  at(1),
	}
}

func TestSaveLoadSaveIsIdentical(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{users: 120, groups: 15, seed: 5})
	synced := mustFull(context.Background(), t, f.syncer(Options{}))
	for _, tc := range []struct {
		name string
		st   *State
	}{
		{"hand-made", testState()},
		{"synced", synced},
		{"empty", &State{members: map[string][]string{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			first, second := filepath.Join(dir, "first"), filepath.Join(dir, "second")
			if err := Save(first, tc.st); err != nil {
				t.Fatalf("save: %v", err)
			}
			got, err := Load(first)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			if err := Save(second, got); err != nil {
				t.Fatalf("save the loaded state: %v", err)
			}
			a := readFile(t, first)
			b := readFile(t, second)
			if !bytes.Equal(a, b) {
				t.Errorf("the loaded state saves to %d bytes that differ from the %d saved", len(b), len(a))
			}
			if diff := cmp.Diff(tc.st.users, got.users); diff != "" {
				t.Errorf("users differ (-saved +loaded):\n%s", diff)
			}
			if diff := cmp.Diff(tc.st.groups, got.groups); diff != "" {
				t.Errorf("groups differ (-saved +loaded):\n%s", diff)
			}
			if diff := cmp.Diff(tc.st.members, got.members); diff != "" {
				t.Errorf("members differ (-saved +loaded):\n%s", diff)
			}
			if d := got.Diff(tc.st); d.Total() != 0 {
				t.Errorf("loaded state differs: %v", d.Examples)
			}
		})
	}
}

func TestLoadSharesStrings(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state")
	saveTestState(t, path)
	st, err := Load(path)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	same := func(a, b string) bool { return unsafe.StringData(a) == unsafe.StringData(b) }
	users := map[string]*okta.User{}
	for i := range st.users {
		users[st.users[i].ID] = &st.users[i]
	}
	for group, ids := range st.members {
		if len(ids) != cap(ids) {
			t.Errorf("members of %s: got capacity %d for %d ids, want them equal", group, cap(ids), len(ids))
		}
		for _, id := range ids {
			if u, ok := users[id]; ok && !same(id, u.ID) {
				t.Errorf("members of %s: %s is not the user's own id string", group, id)
			}
		}
	}
	if got := st.members["00g2"]; !slices.Equal(got, []string{"00u0-outside", "00u2", "00u9-outside"}) {
		t.Errorf("members of 00g2: got %v, want the members outside the state kept", got)
	}
	ada, bob := users["00u1"], users["00u2"]
	if !same(ada.Profile.Department, bob.Profile.Department) || !same(ada.Status, users["00u3"].Status) {
		t.Errorf("equal departments or statuses are separate strings")
	}
	if ada.Type != bob.Type {
		t.Errorf("equal user types are separate values")
	}
	if !same(ada.Profile.Login, ada.Profile.Email) {
		t.Errorf("an email that is the login is a separate string")
	}
}

// writeStateFile writes body under a header of the given version, with the
// body's true length and checksum.
func writeStateFile(t *testing.T, path string, version uint32, body []byte) {
	t.Helper()
	header := []byte(fileMagic)
	header = binary.BigEndian.AppendUint32(header, version)
	header = binary.BigEndian.AppendUint64(header, uint64(len(body)))
	sum := sha256.Sum256(body)
	header = append(header, sum[:]...)
	if err := os.WriteFile(path, append(header, body...), 0o600); err != nil {
		t.Fatal(err)
	}
}

func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestLoadRejectsBadBodies(t *testing.T) {
	t.Parallel()
	const (
		meta  = `{"meta":{"userCount":1,"groupCount":1}`
		users = `,"users":[{"id":"00u1","status":"ACTIVE","profile":{"login":"a"}}]`
		group = `,"groups":[{"id":"00g1","type":"OKTA_GROUP","profile":{"name":"A"}}]`
		membs = `,"members":{"00g1":["00u1"]}}`
	)
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	writeStateFile(t, good, fileVersion, gzipped(t, meta+users+group+membs))
	if st, err := Load(good); err != nil || len(st.users) != 1 || len(st.groups) != 1 || len(st.members["00g1"]) != 1 {
		t.Fatalf("the well-formed body: got error %v, want a state of one user, group and member", err)
	}

	twoGroups := gzipped(t, meta+users+`,"groups":[{"id":"00g1"},{"id":"00g2"}]`+membs)
	for _, tc := range []struct {
		name string
		body []byte
	}{
		{"not gzip", []byte(meta + users + group + membs)},
		{"not JSON", gzipped(t, "OKTAORG")},
		{"fewer users than counted", gzipped(t, `{"meta":{"userCount":2,"groupCount":1}`+users+group+membs)},
		{"more groups than counted", twoGroups},
		{"negative count", gzipped(t, `{"meta":{"userCount":-1,"groupCount":1}`+users+group+membs)},
		{"no counts (version 1 meta)", gzipped(t, `{"meta":{}`+users+group+membs)},
		{"parts out of order", gzipped(t, meta+group+users+membs)},
		{"no members", gzipped(t, meta+users+group+"}")},
		{"unknown part", gzipped(t, meta+users+group+`,"extra":1`+membs)},
		{"bad member list", gzipped(t, meta+users+group+`,"members":{"00g1":"00u1"}}`)},
		{"bad profile", gzipped(t, meta+`,"users":[{"id":"00u1","profile":{"login":1}}]`+group+membs)},
		{"truncated JSON", gzipped(t, meta+users+group)},
		{"truncated gzip", gzipped(t, meta+users+group+membs)[:40]},
		{"gzip followed by garbage", append(gzipped(t, meta+users+group+membs), "xyz"...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			checkCorrupt(t, filepath.Join(dir, tc.name), tc.body)
		})
	}
}

// checkCorrupt writes body as a state file of the current version at path
// and fails unless Load refuses it as corrupt, with no state.
func checkCorrupt(t *testing.T, path string, body []byte) {
	t.Helper()
	writeStateFile(t, path, fileVersion, body)
	got, err := Load(path)
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("got error %v, want %v", err, ErrCorrupt)
	}
	if got != nil {
		t.Errorf("got a state with the error")
	}
}

// readFile returns the content of the file at path and fails the test if
// it cannot be read.
func readFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// saveTestState saves testState at path and fails the test if that fails.
func saveTestState(t *testing.T, path string) {
	t.Helper()
	if err := Save(path, testState()); err != nil {
		t.Fatalf("save: %v", err)
	}
}

func TestLoadRejectsEveryDamage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	saveTestState(t, good)
	data := readFile(t, good)
	path := filepath.Join(dir, "damaged")
	load := func(data []byte) (*State, error) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return Load(path)
	}
	for n := range len(data) {
		if st, err := load(data[:n]); !errors.Is(err, ErrCorrupt) || st != nil {
			t.Fatalf("truncated to %d of %d bytes: got error %v, want %v", n, len(data), err, ErrCorrupt)
		}
	}
	versionAt := len(fileMagic)
	for i := range data {
		for _, bit := range []byte{0x01, 0x80} {
			damaged := bytes.Clone(data)
			damaged[i] ^= bit
			want := ErrCorrupt
			if i >= versionAt && i < versionAt+4 {
				want = ErrIncompatible
			}
			if st, err := load(damaged); !errors.Is(err, want) || st != nil {
				t.Fatalf("byte %d of %d flipped by %#x: got error %v, want %v", i, len(data), bit, err, want)
			}
		}
	}
}

func TestLoadOfADirectoryIsNotCorrupt(t *testing.T) {
	t.Parallel()
	_, err := Load(t.TempDir())
	if err == nil || errors.Is(err, ErrCorrupt) || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("got error %v, want a read error that is neither corrupt nor missing", err)
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
	data := readFile(t, good)
	flip := func(i int) []byte {
		b := append([]byte(nil), data...)
		b[i] ^= 0xff
		return b
	}
	version := append([]byte(nil), data...)
	binary.BigEndian.PutUint32(version[len(fileMagic):], fileVersion+1)
	version1 := append([]byte(nil), data...)
	binary.BigEndian.PutUint32(version1[len(fileMagic):], 1)

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
		{"version 1", version1, ErrIncompatible},
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

// TestLoadRejectsCountsTheBodyCannotHold loads files whose meta claims more
// users or groups than their body could hold: each is refused as corrupt,
// without making a slice of the claimed length.
func TestLoadRejectsCountsTheBodyCannotHold(t *testing.T) {
	t.Parallel()
	const (
		users = `,"users":[{"id":"00u1","status":"ACTIVE","profile":{"login":"a"}}]`
		group = `,"groups":[{"id":"00g1","type":"OKTA_GROUP","profile":{"name":"A"}}]`
		membs = `,"members":{"00g1":["00u1"]}}`
	)
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		meta string
	}{
		{"a trillion users", `{"meta":{"userCount":1000000000000,"groupCount":1}`},
		{"300 million users", `{"meta":{"userCount":300000000,"groupCount":1}`},
		{"300 million groups", `{"meta":{"userCount":1,"groupCount":300000000}`},
		{"largest int", `{"meta":{"userCount":9223372036854775807,"groupCount":1}`},
		{"a million users in 200 bytes", `{"meta":{"userCount":1000000,"groupCount":1}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			checkCorrupt(t, filepath.Join(dir, tc.name), gzipped(t, tc.meta+users+group+membs))
		})
	}
}

// TestLoadDoesNotAllocateAFalseCount loads a file whose user count is one
// its body's length allows but whose list holds one user: the slice is
// not made at the claimed length first. Not parallel, so that the bytes
// allocated are this test's.
func TestLoadDoesNotAllocateAFalseCount(t *testing.T) {
	// Incompressible padding gives the body room, by length, for the count.
	rng := rand.New(rand.NewPCG(1, 2))
	pad := make([]byte, 4000)
	for i := range pad {
		pad[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[rng.IntN(36)]
	}
	const count = 250_000 // about 110 MiB of users, were the slice made at it
	body := gzipped(t, fmt.Sprintf(`{"meta":{"selection":%q,"userCount":%d,"groupCount":0}`, pad, count)+
		`,"users":[{"id":"00u1"}],"groups":[],"members":{}}`)
	if most := int64(len(body)) * maxDeflateRatio / int64(minElementJSON); most < count {
		t.Fatalf("the %d-byte body holds at most %d users by length, want the count of %d allowed", len(body), most, count)
	}
	path := filepath.Join(t.TempDir(), "state")
	writeStateFile(t, path, fileVersion, body)

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	st, err := Load(path)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrCorrupt) || st != nil {
		t.Fatalf("got error %v, want %v", err, ErrCorrupt)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 8<<20 {
		t.Errorf("loading allocated %d bytes, want the claimed count not allocated (under 8 MiB)", got)
	}
}

// TestLoadGrowsToTheCount loads a state whose users compress to fewer bytes
// each than a slice is made for in advance: the list still loads whole,
// into a slice of exactly its length.
func TestLoadGrowsToTheCount(t *testing.T) {
	t.Parallel()
	st := &State{members: map[string][]string{}}
	for i := range 5000 {
		st.users = append(st.users, okta.User{ID: fmt.Sprintf("u%06d", i)})
	}
	path := filepath.Join(t.TempDir(), "state")
	if err := Save(path, st); err != nil {
		t.Fatalf("save: %v", err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if per := (info.Size() - int64(headerSize)) / int64(len(st.users)); per >= minElementGzip {
		t.Fatalf("users take %d compressed bytes each, want fewer than %d for the slice to grow", per, minElementGzip)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if len(got.users) != len(st.users) || cap(got.users) != len(st.users) {
		t.Errorf("got %d users in a slice of capacity %d, want %d in one of exactly that", len(got.users), cap(got.users), len(st.users))
	}
	if diff := cmp.Diff(st.users, got.users); diff != "" {
		t.Errorf("users differ (-saved +loaded):\n%s", diff)
	}
}

// TestLoadRejectsListsOutOfOrder: the state finds users and groups by
// binary search on their ids, so a list out of order, with a duplicate or
// an object without id is corrupt.
func TestLoadRejectsListsOutOfOrder(t *testing.T) {
	t.Parallel()
	const (
		group = `,"groups":[{"id":"00g1"}]`
		membs = `,"members":{}}`
		users = `,"users":[{"id":"00u1"}]`
	)
	dir := t.TempDir()
	for _, tc := range []struct{ name, body string }{
		{"users out of order", `{"meta":{"userCount":2,"groupCount":1},"users":[{"id":"00u2"},{"id":"00u1"}]` + group + membs},
		{"duplicate user", `{"meta":{"userCount":2,"groupCount":1},"users":[{"id":"00u1"},{"id":"00u1"}]` + group + membs},
		{"user without id", `{"meta":{"userCount":1,"groupCount":1},"users":[{"status":"ACTIVE"}]` + group + membs},
		{"groups out of order", `{"meta":{"userCount":1,"groupCount":2}` + users + `,"groups":[{"id":"00g2"},{"id":"00g1"}]` + membs},
		{"group with an empty id", `{"meta":{"userCount":1,"groupCount":1}` + users + `,"groups":[{"id":""}]` + membs},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(dir, tc.name)
			writeStateFile(t, path, fileVersion, gzipped(t, tc.body))
			if got, err := Load(path); !errors.Is(err, ErrCorrupt) || got != nil {
				t.Fatalf("got error %v, want %v", err, ErrCorrupt)
			}
		})
	}
}

func TestRemoveTemporaryFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "sync-state.bin")
	saveTestState(t, path)
	// What a crash during Save leaves, and what must stay.
	leftovers := []string{"sync-state.bin.tmp-123456", "sync-state.bin.tmp-9"}
	kept := []string{
		"sync-state.bin",
		"sync-state.bin.tmp-",           // no digits: not Save's
		"sync-state.bin.tmp-12x",        // not Save's
		"other-state.bin.tmp-123",       // another state file's
		"sync-state.bin.tmp-777.backup", // not Save's
		"notes.txt",
	}
	for _, name := range append(slices.Clone(leftovers), kept[1:]...) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sync-state.bin.tmp-42"), 0o700); err != nil {
		t.Fatal(err)
	}
	kept = append(kept, "sync-state.bin.tmp-42") // a directory is not Save's

	removed, err := RemoveTemporary(path)
	if err != nil {
		t.Fatalf("remove: %v", err)
	}
	var want []string
	for _, name := range leftovers {
		want = append(want, filepath.Join(dir, name))
	}
	slices.Sort(removed)
	if diff := cmp.Diff(want, removed); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	slices.Sort(kept)
	if diff := cmp.Diff(kept, left); diff != "" {
		t.Errorf("files left (-want +got):\n%s", diff)
	}
	if _, err := Load(path); err != nil {
		t.Errorf("the state file itself: %v", err)
	}

	if removed, err := RemoveTemporary(path); err != nil || len(removed) != 0 {
		t.Errorf("a second run: got %v, %v, want nothing removed", removed, err)
	}
	if _, err := RemoveTemporary(filepath.Join(dir, "missing", "sync-state.bin")); err == nil {
		t.Errorf("a missing directory: got no error")
	}
}

func TestSaveLoadKeepsAppAssignments(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{users: 60, groups: 8, seed: 13})
	app := f.org.AddApp("Backstage")
	users, groups := f.org.Users(), f.org.Groups()
	if err := f.org.AssignUser(app, users[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := f.org.AssignGroup(app, groups[1].ID); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, st := f.fullSynced(ctx, t, Options{AppIDs: []string{app}, AppGroupsOnly: true})
	got, path := saveLoad(t, st)
	wantUsers, wantGroups, _ := st.Assigned()
	gotUsers, gotGroups, byApp := got.Assigned()
	if !byApp || !got.AppGroupsOnly() || !cmp.Equal(wantUsers, gotUsers) || !cmp.Equal(wantGroups, gotGroups) || len(gotUsers) < 2 {
		t.Errorf("loaded assignments: got %v %v (by app %v, groups only %v), want %v %v", gotUsers, gotGroups, byApp, got.AppGroupsOnly(), wantUsers, wantGroups)
	}
	next, stats, err := s.Incremental(ctx, got)
	if err != nil || stats.Mode != ModeIncremental || stats.AppCalls != 0 {
		t.Errorf("incremental sync from the loaded state: got %v, mode %s, %d app calls; want incremental with none", err, stats.Mode, stats.AppCalls)
	}
	if d := next.Diff(st); d.Total() != 0 {
		t.Errorf("after the incremental sync: %v", d.Examples)
	}

	// A file of the format before app assignments counts as incompatible:
	// the next sync is full.
	data := readFile(t, path)
	binary.BigEndian.PutUint32(data[len(fileMagic):], 2)
	old := filepath.Join(t.TempDir(), "state-v2")
	if err := os.WriteFile(old, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(old); !errors.Is(err, ErrIncompatible) {
		t.Errorf("version 2: got %v, want ErrIncompatible", err)
	}
}
