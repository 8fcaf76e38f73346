// Command orgchange makes the small change of the sync benchmarks in a
// running fake Okta (cmd/fake-okta) through its admin API: 10 user profiles
// changed, 5 memberships added (to 5 different groups) and 1 group deleted,
// chosen deterministically from the org as the fake holds it. It prints one
// JSON line: what it changed and the call bound of the target for the
// incremental sync that picks the change up (5 + the member pages, 1000 a
// page, of the groups whose membership changed).
//
//	orgchange -okta-url http://127.0.0.1:18481
//
// It applies the same change as bench/syncbench's small mode, from the
// fake's /_fake/truth instead of a saved sync state, so that a script can
// change the org under the real service.
package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "orgchange:", err)
		os.Exit(1)
	}
}

// result is the line printed for one change.
type result struct {
	Profiles         int    `json:"profiles"`
	MembershipsAdded int    `json:"membershipsAdded"`
	GroupsDeleted    int    `json:"groupsDeleted"`
	DeletedGroup     string `json:"deletedGroup"`
	CallBound        int64  `json:"callBound"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	oktaURL := fs.String("okta-url", "http://127.0.0.1:18080", "the fake Okta's URL")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	fake := fakeAdmin{base: strings.TrimSuffix(*oktaURL, "/")}
	o, err := fake.org(ctx)
	if err != nil {
		return err
	}
	res, err := fake.smallChange(ctx, o)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(res)
}

// org is what the small change is chosen from: the users a sync lists (a
// plain listing leaves DEPROVISIONED users out), every group with its type,
// and the member ids of each group.
type org struct {
	users   []string
	groups  []group
	members map[string][]string
}

type group struct {
	ID   string
	Type string
}

// fakeAdmin talks to the fake Okta's admin API, which is neither counted
// nor rate-limited.
type fakeAdmin struct{ base string }

// org reads the org from GET /_fake/truth?members=1.
func (f fakeAdmin) org(ctx context.Context) (org, error) {
	body, err := f.do(ctx, http.MethodGet, "/_fake/truth?members=1", nil)
	if err != nil {
		return org{}, err
	}
	var truth struct {
		UserList []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"userList"`
		GroupList []struct {
			ID      string   `json:"id"`
			Type    string   `json:"type"`
			Members []string `json:"members"`
		} `json:"groupList"`
	}
	if err := json.Unmarshal(body, &truth); err != nil {
		return org{}, fmt.Errorf("GET /_fake/truth: %w", err)
	}
	o := org{members: make(map[string][]string, len(truth.GroupList))}
	for _, u := range truth.UserList {
		if u.Status != "DEPROVISIONED" {
			o.users = append(o.users, u.ID)
		}
	}
	for _, g := range truth.GroupList {
		o.groups = append(o.groups, group{ID: g.ID, Type: g.Type})
		if len(g.Members) > 0 {
			o.members[g.ID] = g.Members
		}
	}
	return o, nil
}

func (f fakeAdmin) do(ctx context.Context, method, path string, body any) ([]byte, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, f.base+path, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		return nil, fmt.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode, out)
	}
	return out, nil
}

// smallChange changes 10 user profiles, adds 5 memberships (to 5
// different median-sized groups) and deletes 1 group, choosing them from o
// deterministically, as bench/syncbench's small mode does.
func (f fakeAdmin) smallChange(ctx context.Context, o org) (result, error) {
	users, groups, members := o.users, o.groups, o.members
	if len(users) < 20 || len(groups) < 10 {
		return result{}, errors.New("the org is too small for the small change")
	}
	// A new title every time, so that each run changes the profiles again.
	stamp := strconv.FormatInt(time.Now().UnixNano(), 36)
	for i := range 10 {
		id := users[(i*7919)%len(users)]
		if _, err := f.do(ctx, http.MethodPost, "/_fake/users/"+id+"/profile", map[string]any{"title": "Benchmark " + stamp}); err != nil {
			return result{}, err
		}
	}
	var candidates []string
	for _, g := range groups {
		if g.Type == "OKTA_GROUP" && len(members[g.ID]) > 0 {
			candidates = append(candidates, g.ID)
		}
	}
	slices.SortFunc(candidates, func(a, b string) int { return cmp.Compare(len(members[a]), len(members[b])) })
	if len(candidates) < 6 {
		return result{}, errors.New("too few non-empty OKTA_GROUPs")
	}
	// Median-sized groups: the common case, neither empty nor the largest.
	mid := len(candidates) / 2
	res := result{Profiles: 10, MembershipsAdded: 5, GroupsDeleted: 1, CallBound: 5}
	for i, id := range candidates[mid : mid+5] {
		// A user not yet in the group: adding a member again changes nothing.
		k := (i*104729 + 13) % len(users)
		for slices.Contains(members[id], users[k]) {
			k = (k + 1) % len(users)
		}
		if _, err := f.do(ctx, http.MethodPut, "/_fake/groups/"+id+"/users/"+users[k], nil); err != nil {
			return result{}, err
		}
		res.CallBound += int64(len(members[id])+1+999) / 1000
	}
	res.DeletedGroup = candidates[mid-1]
	if _, err := f.do(ctx, http.MethodDelete, "/_fake/groups/"+res.DeletedGroup, nil); err != nil {
		return result{}, err
	}
	return res, nil
}
