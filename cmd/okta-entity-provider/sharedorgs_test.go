package main

import (
	"context"
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/asynctest"
	"github.com/okta-entity-provider/okta-entity-provider/internal/oktafake"
	"github.com/okta-entity-provider/okta-entity-provider/internal/orgsync"
	"github.com/okta-entity-provider/okta-entity-provider/internal/pgtest"
)

// TestRunSharedModeOrgs runs two replicas serving two orgs on one
// PostgreSQL: the same bytes on both, each org's state shared so that a
// new leader resumes every org incrementally, and an org's hint told to
// the follower checked in that org by the leader.
func TestRunSharedModeOrgs(t *testing.T) {
	t.Parallel()
	pg := pgtest.Start(t)
	dbURL := pg.CreateDatabase(t, "orgs")
	// No System Log: a deletion reaches the catalog through a hint's check.
	orgs := startTwinOrgs(t, oktafake.OrgOptions{Users: 30, Groups: 4, Seed: 41},
		oktafake.Options{Latency: time.Millisecond, TokensWithoutLogs: []string{"demo-token"}}, "namePrefix: gx-")
	acme, globex, globexFake := orgs.acme, orgs.globex, orgs.globexFake
	const secret = "shared-orgs-hook-secret"
	replicas, etag := startReplicas(t, func(id string) map[string]string {
		env := maps.Clone(orgs.env)
		maps.Copy(env, map[string]string{"SYNC_INTERVAL": "1h", "DELETION_CHECK_EVERY": "1000", "DATABASE_URL": dbURL,
			"REPLICA_ID": id, "HA_LEASE_TTL": "2s", "OKTA_EVENT_HOOK_SECRET": secret, "OKTA_MAX_RETRIES": "1"})
		return env
	}, "a", "b")
	leader, followers := leaderOf(t, replicas)
	if st := leader.status(t); len(st.Orgs) != 2 || st.Snapshot == nil {
		t.Fatalf("leader's status: got %d orgs, want 2", len(st.Orgs))
	}

	// globex deletes a user its twin in acme keeps; only globex's hook,
	// told to the follower, says so.
	victim := globex.Users()[0].ID
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := globexFake.RegisterEventHook(ctx, oktafake.EventHook{
		URL: followers[0].base + "/hooks/okta/globex", AuthValue: secret,
		Delay: oktafake.Duration(-1), DuplicateRate: -1, ReorderRate: -1,
	}); err != nil {
		t.Fatal(err)
	}
	users := leader.status(t).Snapshot.Users
	if err := globex.DeleteUser(victim); err != nil {
		t.Fatal(err)
	}
	etag = convergedWithin(t, replicas, etag, 10*time.Second)
	if got := leader.status(t).Snapshot.Users; got != users-1 {
		t.Errorf("after globex's deletion told to the follower: got %d users, want %d (acme keeps its twin)", got, users-1)
	}

	// The leader shuts down: the follower takes over, and every org's
	// next sync is incremental, from the shared state. globex answers 503
	// from then on: its age, which the org alert watches, counts from the
	// takeover, not from no success at all.
	if got := orgLastSuccess(t, followers[0], "globex"); got != 0 {
		t.Errorf("the follower's globex last success: got %v, want 0 (it syncs nothing)", got)
	}
	takeover := float64(time.Now().Unix())
	globexFake.SetFaults(oktafake.Faults{FailPathPrefix: "/api/v1/"})
	addUser(acme, "failover")
	leader.cancel()
	if err := <-leader.done; err != nil {
		t.Errorf("the leader's run returned %v", err)
	}
	leader.done <- nil // for the cleanup
	converged(t, followers, etag)
	// The new leader serves its first generation a moment before it
	// records its orgs' part of that sync.
	asynctest.WaitFor(t, 10*time.Second, "the new leader's orgs' syncs on /status", func() bool {
		for _, o := range followers[0].status(t).Orgs {
			if o.LastSync == nil {
				return false
			}
		}
		return true
	})
	st := followers[0].status(t)
	if st.HA == nil || st.HA.Role != "leader" {
		t.Fatalf("the follower does not lead after the leader stopped: %+v", st.HA)
	}
	for _, o := range st.Orgs {
		if o.LastSync == nil || o.LastSync.Mode != orgsync.ModeIncremental {
			t.Errorf("org %s's sync on the new leader: got %+v, want incremental from the shared state", o.Name, o.LastSync)
		}
		if o.Name == "globex" && o.LastSync != nil && o.LastSync.Outcome != "failed" {
			t.Errorf("globex's sync on the new leader: got %s, want failed (it answers 503)", o.LastSync.Outcome)
		}
	}
	if got := orgLastSuccess(t, followers[0], "globex"); got < takeover {
		t.Errorf("the new leader's globex last success: got %v, want the takeover's time (%v) or later", got, takeover)
	}
}

// orgLastSuccess is the org's okta_entity_provider_org_last_successful_sync_timestamp_seconds
// on r's /metrics.
func orgLastSuccess(t *testing.T, r *service, org string) float64 {
	t.Helper()
	prefix := `okta_entity_provider_org_last_successful_sync_timestamp_seconds{org="` + org + `"} `
	for line := range strings.Lines(string(r.get(t, "/metrics").body)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), prefix); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("/metrics: %s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("/metrics has no %s series", prefix)
	return 0
}
