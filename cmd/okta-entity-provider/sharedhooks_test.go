package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/asynctest"
	"github.com/okta-entity-provider/okta-entity-provider/internal/oktafake"
	"github.com/okta-entity-provider/okta-entity-provider/internal/pgtest"
)

// TestRunSharedModeHooksThroughFollowers delivers event hooks to the
// followers of three replicas whose schedule never comes (an hour): the
// leader syncs on the hints the followers forward, every replica serves
// the change (a deletion too, without System Log access), and a burst
// across the replicas costs a few syncs.
func TestRunSharedModeHooksThroughFollowers(t *testing.T) {
	t.Parallel()
	pg := pgtest.Start(t)
	dbURL := pg.CreateDatabase(t, "hooks")
	org := oktafake.GenerateOrg(oktafake.OrgOptions{Users: 30, Groups: 4, Seed: 7})
	// The token may not read the System Log: a deletion reaches the
	// catalog through a hint's check with Okta, or a full sync.
	fake, orgURL := startFake(t, org, oktafake.Options{Latency: time.Millisecond, TokensWithoutLogs: []string{"demo-token"}})
	const secret = "hook-secret-hook-secret"
	replicas, etag := startReplicas(t, func(id string) map[string]string {
		env := sharedEnv(orgURL, dbURL, id)
		env["SYNC_INTERVAL"] = "1h"
		env["OKTA_EVENT_HOOK_SECRET"] = secret
		return env
	}, "a", "b", "c")
	leader, followers := leaderOf(t, replicas)
	register := func(s *service) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := fake.RegisterEventHook(ctx, oktafake.EventHook{
			URL: s.base + "/hooks/okta", AuthValue: secret,
			Delay: oktafake.Duration(-1), DuplicateRate: -1, ReorderRate: -1,
		}); err != nil {
			t.Fatal(err)
		}
	}
	register(followers[0])

	// One change, told to a follower only: the leader syncs on it well
	// before its schedule, and every replica serves it.
	before := leader.status(t).Syncs.Completed
	addUser(org, "hinted")
	changed := time.Now()
	etag = convergedWithin(t, replicas, etag, 10*time.Second)
	t.Logf("a change told to a follower was served by every replica after %v", time.Since(changed).Round(10*time.Millisecond))
	st := leader.status(t)
	if st.Syncs.HookTriggered == 0 || st.Syncs.Completed <= before {
		t.Errorf("leader's syncs: got %+v, want a hook-triggered one", st.Syncs)
	}
	if fs := followers[0].status(t); fs.HA.Hints.Forwarded == 0 || fs.Syncs.Completed != 0 {
		t.Errorf("follower: got hints %+v, %d syncs; want some forwarded, no sync", fs.HA.Hints, fs.Syncs.Completed)
	}
	if st.HA.Hints.Received == 0 {
		t.Errorf("leader: got hints %+v, want some received", st.HA.Hints)
	}

	// A deletion named by a hint to a follower is checked with Okta and
	// served by all.
	victim := org.Users()[0]
	if err := org.DeleteUser(victim.ID); err != nil {
		t.Fatal(err)
	}
	users := st.Snapshot.Users
	etag = convergedWithin(t, replicas, etag, 10*time.Second)
	if got := leader.status(t).Snapshot.Users; got != users-1 {
		t.Errorf("after a deletion told to a follower: got %d users, want %d", got, users-1)
	}

	// A burst delivered to all three replicas costs a few syncs.
	register(followers[1])
	register(leader)
	time.Sleep(time.Second) // the hooks verified and idle
	hookSyncs := leader.status(t).Syncs.HookTriggered
	if _, err := org.ApplyChanges(oktafake.Changes{Seed: 3, UserUpdates: 200, MemberAdds: 50}); err != nil {
		t.Fatal(err)
	}
	convergedWithin(t, replicas, etag, 15*time.Second)
	time.Sleep(3 * time.Second) // the last deliveries' syncs, if any
	if got := leader.status(t).Syncs.HookTriggered - hookSyncs; got < 1 || got > 3 {
		t.Errorf("hook-triggered syncs for a burst across three replicas: got %d, want 1 to 3", got)
	}
}

// convergedWithin is converged with a timeout shorter than any schedule.
func convergedWithin(t *testing.T, replicas []*service, old string, timeout time.Duration) string {
	t.Helper()
	var etag string
	asynctest.WaitFor(t, timeout, "every replica to serve the change the hook told of", func() bool {
		etag = ""
		for _, s := range replicas {
			r := s.get(t, "/entities")
			if r.status != http.StatusOK || r.header.Get("ETag") == old || (etag != "" && r.header.Get("ETag") != etag) {
				return false
			}
			etag = r.header.Get("ETag")
		}
		return true
	})
	return etag
}
