package snapshot

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestMarshalRoundTrip(t *testing.T) {
	t.Parallel()
	users, groups := numbered("user-%02d", 40), numbered("group-%d", 7)
	for _, tc := range []struct {
		name          string
		users, groups []string
		shards        int
	}{
		{"plain", users, groups, 0},
		{"sharded", users, groups, 4},
		{"groups only", nil, groups, 0},
		{"users only", users, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := build(org(tc.users, tc.groups), time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC), tc.shards)
			data, err := s.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			got, err := Unmarshal(data)
			if err != nil {
				t.Fatal(err)
			}
			bodies := func(s *Snapshot) []*Body {
				b := []*Body{&s.All, &s.AllJSON, &s.Index, s.UsersYAML(), s.GroupsYAML(), s.UsersJSON(), s.GroupsJSON()}
				for i := range s.Shards {
					b = append(b, &s.Shards[i])
				}
				return b
			}
			want := bodies(s)
			for i, b := range bodies(got) {
				if b.ETag != want[i].ETag || b.GzipETag != want[i].GzipETag || b.Size != want[i].Size ||
					!bytes.Equal(b.Gzip, want[i].Gzip) {
					t.Errorf("body %d: got ETag %s (%d bytes), want %s (%d bytes), byte-identical", i, b.ETag, b.Size, want[i].ETag, want[i].Size)
				}
			}
			if !got.BuiltAt.Equal(s.BuiltAt) || got.Users != s.Users || got.Groups != s.Groups || got.Entities != s.Entities {
				t.Errorf("got %v, %d users, %d groups; want %v, %d, %d", got.BuiltAt, got.Users, got.Groups, s.BuiltAt, s.Users, s.Groups)
			}
			if diff := cmp.Diff(s.Report, got.Report); diff != "" {
				t.Errorf("report (-want +got):\n%s", diff)
			}
			// Removed compares the refs, which must come back too.
			smaller := build(org(tc.users[min(1, len(tc.users)):], tc.groups), time.Time{}, tc.shards)
			gu, gg := smaller.Removed(got)
			wu, wg := smaller.Removed(s)
			if gu != wu || gg != wg {
				t.Errorf("Removed against the decoded snapshot: got %d, %d; want %d, %d", gu, gg, wu, wg)
			}
		})
	}
}

func TestUnmarshalRejects(t *testing.T) {
	t.Parallel()
	if _, err := Unmarshal([]byte("not a snapshot")); err == nil {
		t.Error("got no error for garbage, want one")
	}
	s := build(testInput(), time.Time{}, 0)
	s.usersYAML.to = s.All.Size + 1
	data, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Unmarshal(data); err == nil {
		t.Error("got no error for a run past its body, want one")
	}
	if errors.Is(err, ErrIncompatible) {
		t.Error("a bad run reads as an incompatible version")
	}
}
