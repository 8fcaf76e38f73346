// Package fakeadmin drives the admin API of the fake Okta (cmd/fake-okta,
// under /_fake), which the benchmarks use to read the fake's counters and to
// change the org between syncs. The admin API is neither counted nor
// rate-limited.
package fakeadmin

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Client talks to the fake Okta at Base (its org URL).
type Client struct{ Base string }

// Do sends one admin request with body (if not nil) as JSON and returns the
// answer's body; a status of 300 or more is an error.
func (c Client) Do(ctx context.Context, method, path string, body any) ([]byte, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, r)
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

// Org is what the small change is chosen from: the ids of the users a sync
// lists, every group with its type, and the member ids of each group.
type Org struct {
	Users   []string
	Groups  []Group
	Members map[string][]string
}

// Group is a group of an Org.
type Group struct{ ID, Type string }

// Change is what SmallChange did.
type Change struct {
	Profiles         int    `json:"profiles"`
	MembershipsAdded int    `json:"membershipsAdded"`
	GroupsDeleted    int    `json:"groupsDeleted"`
	DeletedGroup     string `json:"deletedGroup"`
	// CallBound is the target for the incremental sync that picks the
	// change up: 5 + the member pages (1000 a page) of the groups whose
	// membership changed.
	CallBound int64 `json:"callBound"`
}

// SmallChange changes 10 user profiles, adds 5 memberships (to 5 different
// median-sized groups) and deletes 1 group, choosing them from o
// deterministically.
func (c Client) SmallChange(ctx context.Context, o Org) (Change, error) {
	users, members := o.Users, o.Members
	if len(users) < 20 || len(o.Groups) < 10 {
		return Change{}, errors.New("the org is too small for the small change")
	}
	// A new title every time, so that each run changes the profiles again.
	stamp := strconv.FormatInt(time.Now().UnixNano(), 36)
	for i := range 10 {
		id := users[(i*7919)%len(users)]
		if _, err := c.Do(ctx, http.MethodPost, "/_fake/users/"+id+"/profile", map[string]any{"title": "Benchmark " + stamp}); err != nil {
			return Change{}, err
		}
	}
	var candidates []string
	for _, g := range o.Groups {
		if g.Type == "OKTA_GROUP" && len(members[g.ID]) > 0 {
			candidates = append(candidates, g.ID)
		}
	}
	slices.SortFunc(candidates, func(a, b string) int { return cmp.Compare(len(members[a]), len(members[b])) })
	if len(candidates) < 6 {
		return Change{}, errors.New("too few non-empty OKTA_GROUPs")
	}
	// Median-sized groups: the common case, neither empty nor the largest.
	mid := len(candidates) / 2
	res := Change{Profiles: 10, MembershipsAdded: 5, GroupsDeleted: 1, CallBound: 5}
	for i, id := range candidates[mid : mid+5] {
		// A user not yet in the group: adding a member again changes nothing.
		k := (i*104729 + 13) % len(users)
		for slices.Contains(members[id], users[k]) {
			k = (k + 1) % len(users)
		}
		if _, err := c.Do(ctx, http.MethodPut, "/_fake/groups/"+id+"/users/"+users[k], nil); err != nil {
			return Change{}, err
		}
		res.CallBound += int64(len(members[id])+1+999) / 1000
	}
	res.DeletedGroup = candidates[mid-1]
	if _, err := c.Do(ctx, http.MethodDelete, "/_fake/groups/"+res.DeletedGroup, nil); err != nil {
		return Change{}, err
	}
	return res, nil
}
