package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/okta-entity-provider/okta-entity-provider/internal/asynctest"
	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog"
	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
	"github.com/okta-entity-provider/okta-entity-provider/internal/oktafake"
)

// runPreview runs the preview subcommand with env and returns its JSON
// result and exit code (1 for an error, which it reports).
func runPreview(t *testing.T, env map[string]string, args ...string) (previewResult, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), append([]string{"preview", "-json"}, args...), func(k string) string { return env[k] }, &stdout, &stderr)
	code := 0
	if c, ok := errors.AsType[exitCode](err); ok {
		code = int(c)
	} else if err != nil {
		t.Fatalf("preview %v: %v\nstderr:\n%s", args, err, stderr.String())
	}
	for _, key := range []string{`"added": [`, `"removed": [`, `"renamed": [`} {
		if !strings.Contains(stdout.String(), key) {
			t.Errorf("preview %v: JSON has no list %s", args, key)
		}
	}
	var r previewResult
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("preview %v: output is not JSON: %v\n%s", args, err, stdout.String())
	}
	if r.ExitCode != code {
		t.Errorf("preview %v: JSON exitCode %d, process exit code %d", args, r.ExitCode, code)
	}
	return r, code
}

// dirDigest describes every file under dir: name, mode, size, modification
// time and content hash.
func dirDigest(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		sum := ""
		if !d.IsDir() {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sum = fmt.Sprintf("%x", sha256.Sum256(b))
		}
		files[path] = fmt.Sprintf("%v %d %s %s", info.Mode(), info.Size(), info.ModTime().Format(time.RFC3339Nano), sum)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestPreviewNarrowerSearch previews a narrower OKTA_USER_SEARCH against a
// fake Okta with server errors and a low concurrency limit, compared with
// a running instance and with its saved state: the users it lists as
// removed must be exactly those the fake org holds that the service
// serves now and the new search leaves out, by the fake's own records.
// USERS_FROM_GROUPS is previewed the same way, against the fake's
// memberships.
func TestPreviewNarrowerSearch(t *testing.T) {
	t.Parallel()
	org := oktafake.GenerateOrg(oktafake.OrgOptions{Users: 150, Groups: 14, Seed: 21})
	_, orgURL := startFake(t, org, oktafake.Options{
		Latency: time.Millisecond, ErrorRate: 0.03, ConcurrencyLimit: 3, Seed: 5,
	})
	dataDir := t.TempDir()
	env := map[string]string{
		"OKTA_ORG_URL":         orgURL,
		"OKTA_TOKEN":           "demo-token",
		"OKTA_MAX_CONCURRENCY": "3",
		"ENTITIES_TOKEN":       "entities-secret",
		"DATA_DIR":             dataDir,
	}
	s := startService(t, maps.Clone(env))
	asynctest.WaitFor(t, 30*time.Second, "ready", func() bool { return s.get(t, "/readyz").status == http.StatusOK })
	asynctest.WaitFor(t, 10*time.Second, "the saved state", func() bool {
		_, err := os.Stat(filepath.Join(dataDir, stateFileName))
		return err == nil
	})

	// The fake's truth: every user the default USER_STATUSES emit, and
	// among them those outside the Engineering department.
	const search = `profile.department eq "Engineering"`
	var served, dropped []string
	for _, u := range org.Users() {
		if u.Status == okta.StatusDeprovisioned {
			continue
		}
		served = append(served, u.ID)
		if u.Profile.Department != "Engineering" {
			dropped = append(dropped, u.ID)
		}
	}
	slices.Sort(dropped)
	if len(dropped) == 0 || len(dropped) == len(served) {
		t.Fatalf("the org must have users in and out of Engineering: %d served, %d outside", len(served), len(dropped))
	}

	// A copy of the saved state, so that the instance's own saves cannot
	// touch what the preview must leave alone.
	savedDir := t.TempDir()
	b, err := os.ReadFile(filepath.Join(dataDir, stateFileName))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(savedDir, stateFileName), b, 0o600); err != nil {
		t.Fatal(err)
	}
	before := dirDigest(t, savedDir)

	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		from string
	}{
		{"instance", env, []string{"-instance", s.base}, "instance"},
		{"data-dir", map[string]string{"OKTA_ORG_URL": orgURL, "OKTA_TOKEN": "demo-token", "DATA_DIR": savedDir}, nil, "data-dir"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			same, code := runPreview(t, tc.env, tc.args...)
			if code != 0 || len(same.Added)+len(same.Removed)+len(same.Renamed) != 0 {
				t.Errorf("preview with unchanged settings: got exit %d, %d added, %d removed, %d renamed; want 0 and no changes",
					code, len(same.Added), len(same.Removed), len(same.Renamed))
			}
			if same.Baseline.From != tc.from || same.Baseline.Users != len(served) {
				t.Errorf("baseline: got %s with %d users, want %s with %d", same.Baseline.From, same.Baseline.Users, tc.from, len(served))
			}

			r, code := runPreview(t, tc.env, append(tc.args, "-okta-user-search", search)...)
			if code != int(previewRemovals) {
				t.Errorf("exit code: got %d, want %d", code, previewRemovals)
			}
			var removed []string
			for _, id := range r.Removed {
				if id.Kind != catalog.KindUser {
					t.Errorf("removed %s %s: only users should go", id.Kind, id.Ref)
					continue
				}
				removed = append(removed, id.OktaID)
			}
			slices.Sort(removed)
			if diff := cmp.Diff(dropped, removed); diff != "" {
				t.Errorf("removed users (Okta ids) differ from the fake org's users outside Engineering (-want +got):\n%s", diff)
			}
			if len(r.Added) != 0 {
				t.Errorf("added: got %v, want none", r.Added)
			}
			if got, want := r.Preview.Users, len(served)-len(dropped); got != want {
				t.Errorf("preview users: got %d, want %d", got, want)
			}
			if !r.Guard.WouldHold || !strings.Contains(r.Guard.Reason, "users") {
				t.Errorf("guard: got %+v, want it to hold back a snapshot removing %d of %d users", r.Guard, len(dropped), len(served))
			}
		})
	}
	// USERS_FROM_GROUPS drops the users in no emitted group: by the fake's
	// records, the users no group but Everyone (BUILT_IN, left out) holds.
	inGroup := map[string]bool{}
	for _, g := range org.Groups() {
		if g.Type == okta.GroupTypeBuiltIn {
			continue
		}
		for _, id := range org.Members(g.ID) {
			inGroup[id] = true
		}
	}
	var groupless []string
	for _, id := range served {
		if !inGroup[id] {
			groupless = append(groupless, id)
		}
	}
	slices.Sort(groupless)
	if len(groupless) == 0 {
		t.Fatal("the org must have users in no group")
	}
	r, code := runPreview(t, env, "-instance", s.base, "-users-from-groups")
	var removed []string
	for _, id := range r.Removed {
		removed = append(removed, id.OktaID)
	}
	slices.Sort(removed)
	if diff := cmp.Diff(groupless, removed); diff != "" || code != int(previewRemovals) {
		t.Errorf("-users-from-groups: exit code %d (want %d); removed differ from the fake org's users in no group (-want +got):\n%s", code, previewRemovals, diff)
	}

	if diff := cmp.Diff(before, dirDigest(t, savedDir)); diff != "" {
		t.Errorf("preview changed DATA_DIR (-before +after):\n%s", diff)
	}
}

// TestPreviewTable checks the table for people and the errors a preview
// gives before it lists Okta.
func TestPreviewTable(t *testing.T) {
	t.Parallel()
	user := func(name, id string) catalog.EntityID {
		return catalog.EntityID{Kind: catalog.KindUser, Ref: "user:default/" + name, OktaID: id}
	}
	group := func(name, id string) catalog.EntityID {
		return catalog.EntityID{Kind: catalog.KindGroup, Ref: "group:default/" + name, OktaID: id}
	}
	r := previewResult{
		Baseline: baselineSummary{From: "instance", Source: "http://provider:8080", Users: 3, Groups: 1},
		Preview:  previewSummary{Users: 2, Groups: 1, OktaCalls: 4},
		Changes: catalog.Compare(
			[]catalog.EntityID{user("ann", "00u1"), user("bob", "00u2"), user("cy", "00u3"), group("eng", "00g1")},
			[]catalog.EntityID{user("ann", "00u1"), user("bob-2", "00u2"), group("eng", "00g1"), group("ops", "00g2")},
		),
	}
	r.Guard = guardEstimate(r, 0.1)
	var out bytes.Buffer
	if err := r.writeTable(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"removed  User   user:default/cy",
		"renamed  User   user:default/bob -> user:default/bob-2  00u2",
		"added    Group  group:default/ops",
		"1 removed, 1 renamed, 1 added.",
		"would hold this snapshot back until accepted: would remove 2 of 3 users (66.7%",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table: got no %q in\n%s", want, out.String())
		}
	}
	if got := r.exitCode(); got != previewRemovals {
		t.Errorf("exit code: got %d, want %d", got, previewRemovals)
	}

	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no baseline", map[string]string{}, nil, "nothing to compare with"},
		{"bad instance", map[string]string{}, []string{"-instance", "provider:8080"}, "invalid -instance"},
		{"bad setting", map[string]string{}, []string{"-instance", "http://127.0.0.1:1", "-user-naming", "nope"}, "invalid USER_NAMING"},
		{"no state", map[string]string{"DATA_DIR": t.TempDir()}, nil, "invalid DATA_DIR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), append([]string{"preview"}, tc.args...), func(k string) string { return tc.env[k] }, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func TestPreviewHelp(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"preview", "-h"}, env(nil), &stdout, &stderr); err != nil {
		t.Fatalf("preview -h: got %v, want nil", err)
	}
	for _, want := range []string{"Exit codes: 0", "  -instance url\n", "  -json\n", "-okta-user-search, OKTA_USER_SEARCH"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("preview usage: got no %q in\n%s", want, stderr.String())
		}
	}
}

// TestPreviewSeveralOrgs previews a change to a service serving two orgs
// made from one seed: the same Okta ids in both, so that each org's
// entities are told apart by their org, against a running instance and
// against the states it saved.
func TestPreviewSeveralOrgs(t *testing.T) {
	t.Parallel()
	orgs := startTwinOrgs(t, oktafake.OrgOptions{Users: 120, Groups: 12, Seed: 23}, oktafake.Options{}, "namePrefix: gx-")
	acme, globex := orgs.acme, orgs.globex
	dataDir := t.TempDir()
	env := orgs.env
	env["DATA_DIR"] = dataDir
	s := startService(t, maps.Clone(env))
	asynctest.WaitFor(t, 30*time.Second, "ready", func() bool { return s.get(t, "/readyz").status == http.StatusOK })
	asynctest.WaitFor(t, 10*time.Second, "both orgs' saved states", func() bool {
		for _, org := range []string{"acme", "globex"} {
			if _, err := os.Stat(orgStatePath(dataDir, org)); err != nil {
				return false
			}
		}
		return true
	})

	// The fake's truth: the users the default selection serves, and those
	// in no group but Everyone, whom USERS_FROM_GROUPS drops; in each org.
	var served int
	var groupless []string
	for _, org := range []struct {
		name string
		o    *oktafake.Org
	}{{"acme", acme}, {"globex", globex}} {
		inGroup := map[string]bool{}
		for _, g := range org.o.Groups() {
			if g.Type != okta.GroupTypeBuiltIn {
				for _, id := range org.o.Members(g.ID) {
					inGroup[id] = true
				}
			}
		}
		for _, u := range org.o.Users() {
			if u.Status == okta.StatusDeprovisioned {
				continue
			}
			served++
			if !inGroup[u.ID] {
				groupless = append(groupless, org.name+"/"+u.ID)
			}
		}
	}
	slices.Sort(groupless)
	if len(groupless) < 2 {
		t.Fatalf("the orgs must have users in no group: %d", len(groupless))
	}

	for _, tc := range []struct {
		name string
		args []string
		from string
	}{
		{"instance", []string{"-instance", s.base}, "instance"},
		{"data-dir", nil, "data-dir"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			same, code := runPreview(t, env, tc.args...)
			if code != 0 || len(same.Added)+len(same.Removed)+len(same.Renamed) != 0 {
				t.Errorf("preview with unchanged settings: got exit %d, %d added, %d removed, %d renamed; want 0 and no changes",
					code, len(same.Added), len(same.Removed), len(same.Renamed))
			}
			if same.Baseline.From != tc.from || same.Baseline.Users != served || same.Preview.Users != served {
				t.Errorf("got baseline %s with %d users and a preview of %d, want %s and %d in both", same.Baseline.From, same.Baseline.Users, same.Preview.Users, tc.from, served)
			}
			r, code := runPreview(t, env, append(tc.args, "-users-from-groups")...)
			var removed []string
			for _, id := range r.Removed {
				removed = append(removed, id.Org+"/"+id.OktaID)
			}
			slices.Sort(removed)
			if diff := cmp.Diff(groupless, removed); diff != "" || code != int(previewRemovals) {
				t.Errorf("-users-from-groups: exit code %d (want %d); removed differ from both fake orgs' users in no group (-want +got):\n%s", code, previewRemovals, diff)
			}
		})
	}
}
