package orgsync

import (
	"context"
	"strings"
	"testing"
)

// TestAppEventsReadOnce checks that an app assignment event makes one
// sync list the app again, not every sync that reads it in the log's
// overlap window.
func TestAppEventsReadOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{users: 60, groups: 8, seed: 21})
	app := f.org.AddApp("Backstage")
	users := f.org.Users()
	ctx := context.Background()
	s, st := f.fullSynced(ctx, t, Options{AppIDs: []string{app}})
	if u, _, _ := st.Assigned(); len(u) != 0 {
		t.Fatalf("got %d users assigned, want none", len(u))
	}
	if err := f.org.AssignUser(app, users[5].ID); err != nil {
		t.Fatal(err)
	}
	// The org's clock stands still: every read sees the event again.
	for i, want := range []int64{2, 0, 0} {
		next, stats, err := s.Incremental(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		if stats.AppCalls != want {
			t.Errorf("sync %d after the assignment: got %d app calls, want %d", i+1, stats.AppCalls, want)
		}
		if u, _, _ := next.Assigned(); !u[users[5].ID] || len(u) != 1 {
			t.Errorf("sync %d: got %v assigned, want %s alone", i+1, u, users[5].ID)
		}
		st = next
	}
}

func TestUnknownAppFailsTheSync(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{users: 20, groups: 4, seed: 22})
	_, _, err := f.syncer(Options{AppIDs: []string{"0oaNoSuchApp"}}).Full(context.Background())
	if err == nil || !strings.Contains(err.Error(), "0oaNoSuchApp") || !strings.Contains(err.Error(), "the org has no such app") {
		t.Errorf("got %v, want an error naming the app and saying the org has none", err)
	}
}
