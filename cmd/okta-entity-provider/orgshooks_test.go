package main

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/asynctest"
	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog"
	"github.com/okta-entity-provider/okta-entity-provider/internal/oktafake"
)

// TestRunOrgsEventHooks serves two orgs made from one seed (the same Okta
// ids in both), each with its event hook at /hooks/okta/<name>, syncing
// on schedule once an hour and unable to read the System Log: a deletion
// reaches the catalog only by its org's hint, checked with that org's
// Okta, and takes nothing of the other org's.
func TestRunOrgsEventHooks(t *testing.T) {
	t.Parallel()
	orgs := startTwinOrgs(t, oktafake.OrgOptions{Users: 40, Groups: 5, Seed: 31},
		oktafake.Options{TokensWithoutLogs: []string{"demo-token"}}, "namespace: globex")
	acme, globex, acmeFake, globexFake := orgs.acme, orgs.globex, orgs.acmeFake, orgs.globexFake
	const secret = "orgs-hook-secret-orgs-hook-secret"
	env := orgs.env
	env["SYNC_INTERVAL"], env["DELETION_CHECK_EVERY"], env["OKTA_EVENT_HOOK_SECRET"] = "1h", "1000", secret
	s := startService(t, env)
	asynctest.WaitFor(t, 30*time.Second, "ready", func() bool { return s.get(t, "/readyz").status == http.StatusOK })
	for _, h := range []struct {
		fake *oktafake.Server
		org  string
	}{{acmeFake, "acme"}, {globexFake, "globex"}} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := h.fake.RegisterEventHook(ctx, oktafake.EventHook{
			URL: s.base + "/hooks/okta/" + h.org, AuthValue: secret,
			Delay: oktafake.Duration(-1), DuplicateRate: -1, ReorderRate: -1,
		})
		cancel()
		if err != nil {
			t.Fatalf("register %s's event hook: %v", h.org, err)
		}
	}
	if r := s.do(t, http.MethodPost, "/hooks/okta", map[string]string{"Authorization": secret}); r.status != http.StatusNotFound {
		t.Errorf("POST /hooks/okta with several orgs: got %d, want 404 (each org's hook has its own path)", r.status)
	}

	// served returns the served entities' orgs by Okta id.
	served := func() map[string][]string {
		t.Helper()
		r := s.do(t, http.MethodGet, "/entities", map[string]string{"Accept": "application/json"})
		var entities []struct {
			Metadata struct {
				Annotations map[string]string `json:"annotations"`
			} `json:"metadata"`
		}
		if r.status != http.StatusOK || json.Unmarshal(r.body, &entities) != nil {
			t.Fatalf("GET /entities: got %d: %.200s", r.status, r.body)
		}
		orgs := map[string][]string{}
		for _, e := range entities {
			a := e.Metadata.Annotations
			orgs[a[catalog.AnnotationID]] = append(orgs[a[catalog.AnnotationID]], a[catalog.AnnotationOrg])
		}
		return orgs
	}
	victim := globex.Users()[0].ID
	if got := served()[victim]; len(got) != 2 {
		t.Fatalf("user %s is served for orgs %v, want acme and globex (one seed)", victim, got)
	}
	if err := globex.DeleteUser(victim); err != nil {
		t.Fatal(err)
	}
	asynctest.WaitFor(t, 10*time.Second, "globex's deletion, told by its hook", func() bool {
		got := served()[victim]
		return len(got) == 1 && got[0] == "acme"
	})

	addUser(acme, "hooked")
	asynctest.WaitFor(t, 10*time.Second, "acme's new user, told by its hook", func() bool {
		for _, u := range acme.Users() {
			if u.Profile.Login == "hooked@example.com" {
				got := served()[u.ID]
				return len(got) == 1 && got[0] == "acme"
			}
		}
		return false
	})

	var st struct {
		Syncs struct {
			HookTriggered int64 `json:"hookTriggered"`
		} `json:"syncs"`
		EventHook  any `json:"eventHook"`
		EventHooks map[string]struct {
			Verified   bool           `json:"verified"`
			Deliveries map[string]int `json:"deliveries"`
		} `json:"eventHooks"`
	}
	if err := json.Unmarshal(s.get(t, "/status").body, &st); err != nil {
		t.Fatal(err)
	}
	for _, org := range []string{"acme", "globex"} {
		h := st.EventHooks[org]
		if !h.Verified || h.Deliveries["accepted"] == 0 {
			t.Errorf("/status eventHooks[%s]: got %+v, want verified with accepted deliveries", org, h)
		}
	}
	if st.EventHook != nil || st.Syncs.HookTriggered == 0 {
		t.Errorf("/status: got eventHook %v and %d hook-triggered syncs, want null and some", st.EventHook, st.Syncs.HookTriggered)
	}
}
