package api

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog"
	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
	"github.com/okta-entity-provider/okta-entity-provider/internal/snapshot"
)

// fakeSource is a hand-written Source whose answers the test sets.
type fakeSource struct {
	mu        sync.Mutex
	snap      *snapshot.Snapshot
	status    any
	acceptErr error
	none      bool   // AcceptHeld finds nothing held
	held      string // the held snapshot's ETag; testHeldETag when empty
	removed   []string
	added     []string
	accepted  int
	panicMsg  string // Snapshot panics with it when set
	notReady  string
}

func (f *fakeSource) Snapshot() *snapshot.Snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.panicMsg != "" {
		panic(f.panicMsg)
	}
	return f.snap
}

func (f *fakeSource) Status() any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status
}

func (f *fakeSource) NotReady() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.snap != nil {
		return ""
	}
	return f.notReady
}

func (f *fakeSource) AcceptHeld(ctx context.Context, etag string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if f.acceptErr != nil {
		return "", f.acceptErr
	}
	if f.none {
		return "", nil
	}
	if etag != f.heldETag() {
		return f.heldETag(), nil
	}
	f.accepted++
	return etag, nil
}

func (f *fakeSource) HeldChanges() (string, []string, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.none {
		return "", nil, nil
	}
	return f.heldETag(), f.removed, f.added
}

// heldETag is the ETag of the snapshot the fake holds: testHeldETag
// unless the test set another. f.mu must be held.
func (f *fakeSource) heldETag() string {
	if f.held != "" {
		return f.held
	}
	return testHeldETag
}

// testHeldETag is the ETag of testStatus's held snapshot.
const testHeldETag = `"fedcba9876543210fedcba9876543210"`

// testStatus is a /status body as the provider reports it, shaped by the
// Status schema of openapi.yaml.
func testStatus(report *catalog.Report) map[string]any {
	return map[string]any{
		"syncs": map[string]any{"completed": 3, "failed": 1},
		"lastSync": map[string]any{
			"startedAt":       "2026-01-02T03:04:05Z",
			"finishedAt":      "2026-01-02T03:04:07.5Z",
			"durationSeconds": 2.5,
			"outcome":         "held",
			"error":           "would remove 40% of users (limit 10%)",
			"oktaCalls":       12,
			"mode":            "incremental",
		},
		"lastSuccessAt": "2026-01-02T02:04:07Z",
		"snapshot": map[string]any{
			"users": 20, "groups": 5, "etag": `"0123456789abcdef0123456789abcdef"`,
			"builtAt": "2026-01-02T02:04:07Z", "shards": 0,
		},
		"heldBack": map[string]any{
			"users": 12, "groups": 5, "reason": "would remove 40% of users (limit 10%)",
			"since": "2026-01-02T03:04:07Z", "etag": testHeldETag,
			"removedUsers": 8, "removedGroups": 0, "removedMemberships": 8,
			"removed": []string{"user:default/alice"}, "removedTotal": 1, "added": []string{}, "addedTotal": 0,
		},
		"report": report,
		"rateLimits": map[string]any{
			"users": map[string]any{"limit": 600, "remaining": 597, "reset": "2026-01-02T03:05:00Z"},
		},
		"snapshotAgeSeconds": 3600.0,
		"ha": map[string]any{
			"role": "follower", "replicaId": "web-7f9c-2", "leaderId": "web-7f9c-1", "epoch": 0,
			"generation": 41, "lag": 1, "lastLeadershipChange": "2026-01-02T01:00:00Z",
			"database": map[string]any{
				"available": false, "unavailableSince": "2026-01-02T03:04:00Z", "outageSeconds": 7.5,
				"error": "dial tcp 10.0.0.5:5432: connect: connection refused", "outages": 2, "lastOutageSeconds": 31.2,
			},
			"hints": map[string]any{"forwarded": 12, "dropped": 0, "failed": 1, "received": 0},
		},
		"changes": map[string]any{
			"lastFullSyncAt": "2026-01-01T03:00:00Z", "nextFullSyncAt": "2026-01-02T03:00:00Z",
			"deletionsFrom": "system-log",
			"watermarks": map[string]any{
				"users": "2026-01-02T03:01:00Z", "groups": "2026-01-02T03:00:30Z", "log": "2026-01-02T03:01:10Z",
			},
		},
	}
}

// testInput generates an Okta org of the given size: users with full
// profiles, OKTA_GROUP groups, each user in two groups, and a few names
// Backstage would reject as they are.
func testInput(users, groups int) catalog.Input {
	created := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	in := catalog.Input{Members: make(map[string][]string, groups)}
	first := []string{"Alice", "Bob", "Chloé", "Dmitri", "Eve", "Fatima", "Gustavo", "Hiroshi", "Ines", "José"}
	last := []string{"Smith", "O'Brien", "Müller", "Nakamura", "García", "Kowalski", "Nguyen", "Dubois"}
	depts := []string{"Engineering", "Sales", "Finance", "Support", "Security"}
	for i := range users {
		f, l := first[i%len(first)], last[(i/len(first))%len(last)]
		login := fmt.Sprintf("%s.%s%d@example.com", f, l, i)
		in.Users = append(in.Users, okta.User{
			ID:          fmt.Sprintf("00u%07d", i),
			Status:      okta.StatusActive,
			Created:     created,
			LastUpdated: created.Add(time.Duration(i) * time.Minute),
			Profile: okta.UserProfile{
				Login:       login,
				Email:       login,
				FirstName:   f,
				LastName:    l,
				DisplayName: f + " " + l,
				Title:       "Engineer",
				Department:  depts[i%len(depts)],
			},
		})
	}
	for g := range groups {
		name := fmt.Sprintf("Team %d %s", g, depts[g%len(depts)])
		if g == 0 {
			name = "Équipe Sécurité & Ops"
		}
		in.Groups = append(in.Groups, okta.Group{
			ID:          fmt.Sprintf("00g%06d", g),
			Type:        okta.GroupTypeOkta,
			Created:     created,
			LastUpdated: created,
			Profile:     okta.GroupProfile{Name: name, Description: "The " + name + " team"},
		})
	}
	if groups > 0 {
		for i := range users {
			for _, g := range []int{i % groups, (i*7 + 3) % groups} {
				id := fmt.Sprintf("00g%06d", g)
				in.Members[id] = append(in.Members[id], fmt.Sprintf("00u%07d", i))
			}
		}
	}
	return in
}

// testSnapshot builds a snapshot of a generated org.
func testSnapshot(users, groups, shards int) *snapshot.Snapshot {
	opts := catalog.DefaultOptions()
	opts.IncludeMembers = true
	return snapshot.Build(nil, catalog.Map(opts, testInput(users, groups)), time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), shards)
}
