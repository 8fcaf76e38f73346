package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/okta-entity-provider/okta-entity-provider/internal/asynctest"
	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
	"github.com/okta-entity-provider/okta-entity-provider/internal/oktafake"
	"github.com/okta-entity-provider/okta-entity-provider/internal/pgtest"
	"github.com/okta-entity-provider/okta-entity-provider/internal/provider"
)

// sharedEnv is the environment of replica id in shared mode on dbURL.
func sharedEnv(orgURL, dbURL, id string) map[string]string {
	return map[string]string{
		"OKTA_ORG_URL":     orgURL,
		"OKTA_TOKEN":       "demo-token",
		"SYNC_INTERVAL":    "1s",
		"ADMIN_TOKEN":      "admin-secret",
		"MAX_DELETE_SHARE": "0.2",
		"DATABASE_URL":     dbURL,
		"REPLICA_ID":       id,
		"HA_LEASE_TTL":     "2s",
	}
}

// startReplicas starts a replica of each id, with the environment env
// gives for it, and waits until every one is ready and all serve the same
// generation, whose ETag it returns.
func startReplicas(t *testing.T, env func(id string) map[string]string, ids ...string) ([]*service, string) {
	t.Helper()
	var replicas []*service
	for _, id := range ids {
		replicas = append(replicas, startService(t, env(id)))
	}
	for _, s := range replicas {
		asynctest.WaitFor(t, 30*time.Second, "every replica ready", func() bool { return s.get(t, "/readyz").status == http.StatusOK })
	}
	return replicas, converged(t, replicas, "")
}

// leaderOf returns the replicas' leader and followers, failing unless
// exactly one leads.
func leaderOf(t *testing.T, replicas []*service) (leader *service, followers []*service) {
	t.Helper()
	for _, s := range replicas {
		if st := s.status(t); st.HA != nil && st.HA.Role == provider.RoleLeader {
			if leader != nil {
				t.Fatal("two replicas lead")
			}
			leader = s
		} else {
			followers = append(followers, s)
		}
	}
	if leader == nil {
		t.Fatal("no replica leads")
	}
	return leader, followers
}

// converged waits until every replica serves the same entities, byte for
// byte, under the same ETag, other than old, and returns that ETag.
func converged(t *testing.T, replicas []*service, old string) string {
	t.Helper()
	var etag string
	asynctest.WaitFor(t, 20*time.Second, "every replica to serve the same new generation", func() bool {
		var body []byte
		for i, s := range replicas {
			r := s.get(t, "/entities")
			if r.status != http.StatusOK || r.header.Get("ETag") == old {
				return false
			}
			if i == 0 {
				etag, body = r.header.Get("ETag"), r.body
			} else if r.header.Get("ETag") != etag || !bytes.Equal(r.body, body) {
				return false
			}
		}
		return true
	})
	return etag
}

// addUser adds an active user named name to org: a change every sync
// serves.
func addUser(org *oktafake.Org, name string) {
	org.AddUser(okta.User{Profile: okta.UserProfile{Login: name + "@example.com", Email: name + "@example.com", FirstName: name, LastName: "Test"}})
}

// TestRunSharedMode runs three replicas on one PostgreSQL: one full sync
// at start, one replica syncing, the same bytes everywhere after each
// change, acceptance of a held snapshot through a follower, a leader's
// shutdown handing over to an incremental sync, and the database stopped
// and started again.
func TestRunSharedMode(t *testing.T) {
	t.Parallel()
	pg := pgtest.Start(t)
	dbURL := pg.CreateDatabase(t, "shared")
	org := oktafake.GenerateOrg(oktafake.OrgOptions{Users: 60, Groups: 8, Seed: 5})
	fake, orgURL := startFake(t, org, oktafake.Options{Latency: time.Millisecond})

	replicas, etag := startReplicas(t, func(id string) map[string]string { return sharedEnv(orgURL, dbURL, id) }, "a", "b", "c")
	leader, followers := leaderOf(t, replicas)

	// One full sync for all three: the Okta calls are the leader's first
	// sync's, and no follower synced.
	st := leader.status(t)
	for _, f := range followers {
		if fs := f.status(t); fs.Syncs.Completed+fs.Syncs.Failed != 0 || fs.HA.LeaderID != st.HA.ReplicaID || fs.HA.Generation != st.HA.Generation {
			t.Errorf("follower %s: got %+v syncs, leader %q, generation %d; want none, %q, %d",
				fs.HA.ReplicaID, fs.Syncs, fs.HA.LeaderID, fs.HA.Generation, st.HA.ReplicaID, st.HA.Generation)
		}
	}
	if first := st.LastSync; st.Syncs.Completed == 1 && first.Mode == "full" && fake.Stats().Calls != first.OktaCalls {
		t.Errorf("Okta calls at start: got %d, want the one full sync's %d", fake.Stats().Calls, first.OktaCalls)
	}

	// A change is served by all, the same bytes, gzip included.
	if _, err := org.ApplyChanges(oktafake.Changes{Seed: 1, UserUpdates: 3, MemberAdds: 2}); err != nil {
		t.Fatal(err)
	}
	etag = converged(t, replicas, etag)
	var gz []byte
	for i, s := range replicas {
		r := s.do(t, http.MethodGet, "/entities", map[string]string{"Accept-Encoding": "gzip"})
		if i == 0 {
			gz = r.body
		} else if !bytes.Equal(r.body, gz) {
			t.Errorf("replica %d's gzip body differs from replica 0's", i)
		}
	}

	// A mass deletion is held on every replica and accepted through a
	// follower (the member listings may show it before the user listing
	// does: then it is held, and accepted, twice).
	served := leader.status(t).Snapshot.Users
	for _, u := range org.Users()[:20] {
		if err := org.DeleteUser(u.ID); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range replicas {
		asynctest.WaitFor(t, 20*time.Second, "the hold on every replica", func() bool { return s.status(t).HeldBack != nil })
	}
	asynctest.WaitFor(t, 30*time.Second, "the deletion accepted through a follower", func() bool {
		if h := followers[0].status(t).HeldBack; h != nil {
			// By the held snapshot's ETag, as the follower shows it; 412
			// when another one was held meanwhile (then it is accepted
			// on the next turn).
			r := followers[0].do(t, http.MethodPost, "/admin/accept", map[string]string{"Authorization": "Bearer admin-secret", "If-Match": h.ETag})
			if r.status != http.StatusOK && r.status != http.StatusPreconditionFailed {
				t.Fatalf("accept through a follower: got %d %s, want 200 (or 412 for a hold replaced meanwhile)", r.status, r.body)
			}
		}
		st := leader.status(t)
		return st.HeldBack == nil && st.LastSync.Outcome == provider.OutcomeOK && st.Snapshot.Users < served-10
	})
	etag = converged(t, replicas, etag)
	for _, s := range replicas {
		if st := s.status(t); st.HeldBack != nil {
			t.Errorf("after accept: %s still shows a hold", st.HA.ReplicaID)
		}
	}

	// The leader shuts down: a follower takes over and resumes
	// incrementally.
	addUser(org, "failover")
	leader.cancel()
	if err := <-leader.done; err != nil {
		t.Errorf("the leader's run returned %v", err)
	}
	leader.done <- nil // for the cleanup
	etag = converged(t, followers, etag)
	next, rest := leaderOf(t, followers)
	if st := next.status(t); st.LastSync == nil || st.LastSync.Mode != "incremental" || st.Syncs.Completed == 0 {
		t.Errorf("the new leader's syncs: got %+v, want incremental ones only", st.LastSync)
	} else if st.HA.LastLeadershipChange == nil {
		t.Error("no leadership change on /status")
	}

	// The database stops: every replica serves and stays ready; a change
	// after it is back is served by all.
	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, s := range followers {
		asynctest.WaitFor(t, 10*time.Second, "the outage on /status", func() bool { return !s.status(t).HA.Database.Available })
	}
	for range 3 {
		for _, s := range followers {
			if r := s.get(t, "/entities"); r.status != http.StatusOK || r.header.Get("ETag") != etag {
				t.Fatalf("during the outage: got %d, ETag %s; want 200 with %s", r.status, r.header.Get("ETag"), etag)
			}
			if r := s.get(t, "/readyz"); r.status != http.StatusOK {
				t.Errorf("readyz during the outage: got %d, want 200", r.status)
			}
		}
		time.Sleep(time.Second)
	}
	if r := rest[0].get(t, "/metrics"); !bytes.Contains(r.body, []byte("okta_entity_provider_database_up 0")) {
		t.Error("metrics: database_up is not 0 during the outage")
	}
	if err := pg.Start(); err != nil {
		t.Fatal(err)
	}
	addUser(org, "recovered")
	converged(t, followers, etag)
	for _, s := range followers {
		if db := s.status(t).HA.Database; !db.Available || db.Outages == 0 || db.LastOutageSeconds <= 0 {
			t.Errorf("after the outage: got %+v, want available, with the outage counted", db)
		}
	}
}

// TestRunSharedModePartition cuts the leader off the database while it
// syncs: another replica takes over, and the old leader publishes nothing
// once the lease is lost, not even when the partition heals.
func TestRunSharedModePartition(t *testing.T) {
	t.Parallel()
	pg := pgtest.Start(t)
	dbURL := pg.CreateDatabase(t, "partition")
	org := oktafake.GenerateOrg(oktafake.OrgOptions{Users: 40, Groups: 6, Seed: 9})
	_, orgURL := startFake(t, org, oktafake.Options{Latency: 5 * time.Millisecond})
	proxy := pgtest.NewProxy(t, pg.Addr())

	a := startService(t, sharedEnv(orgURL, strings.Replace(dbURL, pg.Addr(), proxy.Addr(), 1), "a"))
	asynctest.WaitFor(t, 30*time.Second, "a to lead", func() bool {
		st := a.status(t)
		return st.HA.Role == provider.RoleLeader && st.Snapshot != nil
	})
	b := startService(t, sharedEnv(orgURL, dbURL, "b"))
	etag := converged(t, []*service{a, b}, "")

	// A change, then the partition while a's sync of it runs.
	addUser(org, "partition")
	proxy.Partition(true)
	asynctest.WaitFor(t, 20*time.Second, "b to lead", func() bool { return b.status(t).HA.Role == provider.RoleLeader })
	etag = converged(t, []*service{b}, etag)
	asynctest.WaitFor(t, 10*time.Second, "a to step down", func() bool { return a.status(t).HA.Role == provider.RoleFollower })
	proxy.Partition(false)
	converged(t, []*service{a, b}, "")

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var writer string
	var epoch, leaseEpoch int64
	if err := conn.QueryRow(ctx, "SELECT p.writer, p.epoch, l.epoch FROM published p, leader_lease l").Scan(&writer, &epoch, &leaseEpoch); err != nil {
		t.Fatal(err)
	}
	if writer != "b" || epoch != leaseEpoch {
		t.Errorf("the latest generation: written by %s at epoch %d (the lease's is %d); want b at the lease's epoch", writer, epoch, leaseEpoch)
	}
	if got := a.get(t, "/entities").header.Get("ETag"); got != etag {
		t.Errorf("a serves %s after the partition, want b's %s", got, etag)
	}
	if logs := a.logs.String(); strings.Count(logs, "generation published") != 1 {
		t.Errorf("a published %d generations, want 1 (the first, before the partition)", strings.Count(logs, "generation published"))
	}
}
