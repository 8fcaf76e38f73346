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
// It applies the same change as bench/syncbench's small mode
// (fakeadmin.SmallChange), chosen from the fake's /_fake/truth instead of a
// saved sync state, so that a script can change the org under the real
// service.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/okta-entity-provider/okta-entity-provider/bench/internal/command"
	"github.com/okta-entity-provider/okta-entity-provider/bench/internal/fakeadmin"
)

func main() { command.Main("orgchange", run) }

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
	fake := fakeadmin.Client{Base: strings.TrimSuffix(*oktaURL, "/")}
	o, err := org(ctx, fake)
	if err != nil {
		return err
	}
	res, err := fake.SmallChange(ctx, o)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(res)
}

// org reads the org from GET /_fake/truth?members=1: the users a sync lists
// (a plain listing leaves DEPROVISIONED users out), the groups and their
// members.
func org(ctx context.Context, fake fakeadmin.Client) (fakeadmin.Org, error) {
	body, err := fake.Do(ctx, http.MethodGet, "/_fake/truth?members=1", nil)
	if err != nil {
		return fakeadmin.Org{}, err
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
		return fakeadmin.Org{}, fmt.Errorf("GET /_fake/truth: %w", err)
	}
	o := fakeadmin.Org{Members: make(map[string][]string, len(truth.GroupList))}
	for _, u := range truth.UserList {
		if u.Status != "DEPROVISIONED" {
			o.Users = append(o.Users, u.ID)
		}
	}
	for _, g := range truth.GroupList {
		o.Groups = append(o.Groups, fakeadmin.Group{ID: g.ID, Type: g.Type})
		if len(g.Members) > 0 {
			o.Members[g.ID] = g.Members
		}
	}
	return o, nil
}
