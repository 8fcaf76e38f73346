package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"

	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog"
	"github.com/okta-entity-provider/okta-entity-provider/internal/orgsync"
	"github.com/okta-entity-provider/okta-entity-provider/internal/provider"
)

// Exit codes of preview. A failed preview exits 1, like every failed run.
const (
	// previewNoRemovals: nothing would be removed or renamed (entities may
	// be added).
	previewNoRemovals exitCode = 0
	// previewRemovals: entities would be removed.
	previewRemovals exitCode = 2
	// previewRenames: nothing would be removed, but entities would be
	// renamed, which Backstage sees as the old ref deleted.
	previewRenames exitCode = 3
)

// exitCode is returned by run for a command that succeeded and tells its
// result by the exit code; main exits with it and prints nothing more.
type exitCode int

func (c exitCode) Error() string { return fmt.Sprintf("exit code %d", int(c)) }

// preview lists Okta with the current settings (the environment and the
// config file, as the service reads them) changed by the settings given
// on the command line, and prints what the catalog would gain, lose and
// see renamed compared with a running instance (-instance) or the state
// saved in DATA_DIR. It writes nothing: no state file, nothing in
// DATA_DIR. Its exit code tells whether anything would be removed.
func preview(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("preview", flag.ContinueOnError)
	instance := fs.String("instance", "", "The `url` of a running instance to compare with, e.g. http://okta-entity-provider:8080; its /entities is read (with ENTITIES_TOKEN when set). Default: the state saved in DATA_DIR.")
	asJSON := fs.Bool("json", false, "Print the result as JSON.")
	flags, err := parseSettingFlags(fs, args, stderr, func(w io.Writer, table []setting) { printPreviewUsage(w, fs, table) })
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("preview: unexpected argument %q; settings are flags such as -okta-user-search, see preview -help", fs.Arg(0))
	}
	next, err := resolveConfig(flags, getenv)
	if err != nil {
		return err
	}
	// The listing logs from many goroutines; stderr may be any writer.
	log := newLogger(next, zerolog.SyncWriter(stderr))
	if next.LogLevel == zerolog.InfoLevel {
		// The table or JSON is the output: the log tells only what went wrong.
		log = log.Level(zerolog.WarnLevel)
	}

	// The baseline first: it is cheap and may fail on a typo.
	var base baseline
	switch {
	case *instance != "":
		base, err = instanceBaseline(ctx, *instance, next.EntitiesToken)
	case next.DataDir != "":
		base, err = savedBaseline(next.DataDir, getenv)
	default:
		err = errors.New("preview: nothing to compare with: give -instance with the URL of a running instance, or set DATA_DIR to the directory holding its saved state")
	}
	if err != nil {
		return err
	}

	pcfg := next.providerConfig("")
	client, stopDemo, err := next.oktaSources(log, nil, &pcfg, "")
	if err != nil {
		return err
	}
	defer stopDemo()
	t0 := time.Now()
	res, stats, err := provider.Preview(ctx, log.With().Str("component", "sync").Logger(), client, pcfg)
	if err != nil {
		return fmt.Errorf("preview: listing Okta: %w", err)
	}
	ids := make([]catalog.EntityID, len(res.Entities))
	for i := range res.Entities {
		ids[i] = catalog.IDOf(&res.Entities[i])
	}
	r := previewResult{
		Baseline: base.summary,
		Preview: previewSummary{
			Users: res.Report.Users, Groups: res.Report.Groups,
			OktaCalls: stats.Calls, DurationSeconds: time.Since(t0).Seconds(),
			Renames: res.Report.RenamesTotal,
		},
		Changes: catalog.Compare(base.ids, ids),
	}
	for _, f := range stats.ShortListings {
		r.Preview.ShortListings = append(r.Preview.ShortListings, f.String())
	}
	r.Guard = guardEstimate(r, next.MaxDeleteShare)
	r.ExitCode = int(r.exitCode())
	if *asJSON {
		// Lists, never null, for scripts.
		if r.Added == nil {
			r.Added = []catalog.EntityID{}
		}
		if r.Removed == nil {
			r.Removed = []catalog.EntityID{}
		}
		if r.Renamed == nil {
			r.Renamed = []catalog.RefChange{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else if err := r.writeTable(stdout); err != nil {
		return err
	}
	if c := r.exitCode(); c != previewNoRemovals {
		return c
	}
	return nil
}

// baseline is what a preview compares with.
type baseline struct {
	ids     []catalog.EntityID
	summary baselineSummary
}

type baselineSummary struct {
	// From is "instance" or "data-dir".
	From string `json:"from"`
	// Source is the instance's URL or the state file.
	Source string `json:"source"`
	Users  int    `json:"users"`
	Groups int    `json:"groups"`
}

// previewSummary is what the listing found.
type previewSummary struct {
	Users           int     `json:"users"`
	Groups          int     `json:"groups"`
	OktaCalls       int64   `json:"oktaCalls"`
	DurationSeconds float64 `json:"durationSeconds"`
	// Renames is the number of names the mapping changed (collisions,
	// invalid characters), as /status reports them.
	Renames int `json:"mappingRenames"`
	// ShortListings are member listings far shorter than their group's
	// count: the deletion guard would hold the snapshot back.
	ShortListings []string `json:"shortListings,omitempty"`
}

// previewGuard is what the deletion guard would make of the change, by
// users and groups (the guard also counts memberships, which a preview
// against an instance cannot see).
type previewGuard struct {
	MaxDeleteShare float64 `json:"maxDeleteShare"`
	// RemovedUsers and RemovedGroups count refs that go away: removals
	// and renames.
	RemovedUsers  int    `json:"removedUsers"`
	RemovedGroups int    `json:"removedGroups"`
	WouldHold     bool   `json:"wouldHold"`
	Reason        string `json:"reason,omitempty"`
}

type previewResult struct {
	Baseline baselineSummary `json:"baseline"`
	Preview  previewSummary  `json:"preview"`
	catalog.Changes
	Guard    previewGuard `json:"guard"`
	ExitCode int          `json:"exitCode"`
}

func (r *previewResult) exitCode() exitCode {
	switch {
	case len(r.Removed) > 0:
		return previewRemovals
	case len(r.Renamed) > 0:
		return previewRenames
	}
	return previewNoRemovals
}

// guardEstimate tells whether the deletion guard would hold the previewed
// snapshot back, by the share of the served users or groups whose refs go
// away.
func guardEstimate(r previewResult, maxShare float64) previewGuard {
	g := previewGuard{MaxDeleteShare: maxShare}
	count := func(kind string) int {
		n := 0
		for _, id := range r.Removed {
			if id.Kind == kind {
				n++
			}
		}
		for _, c := range r.Renamed {
			if c.Kind == kind {
				n++
			}
		}
		return n
	}
	g.RemovedUsers, g.RemovedGroups = count(catalog.KindUser), count(catalog.KindGroup)
	over := func(n, of int, what string) bool {
		if n == 0 || float64(n) <= maxShare*float64(of) {
			return false
		}
		g.Reason = fmt.Sprintf("would remove %d of %d %s (%.1f%%, limit %g%% by MAX_DELETE_SHARE)",
			n, of, what, 100*float64(n)/float64(of), 100*maxShare)
		return true
	}
	g.WouldHold = over(g.RemovedUsers, r.Baseline.Users, "users") || over(g.RemovedGroups, r.Baseline.Groups, "groups")
	if !g.WouldHold && len(r.Preview.ShortListings) > 0 {
		g.WouldHold, g.Reason = true, "member listings far shorter than their groups' counts: "+strings.Join(r.Preview.ShortListings, "; ")
	}
	return g
}

// writeTable prints r for people: a table of the changes and a summary.
func (r *previewResult) writeTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Compared with:\t%s (%s): %d users, %d groups\n", r.Baseline.Source, r.Baseline.From, r.Baseline.Users, r.Baseline.Groups)
	fmt.Fprintf(tw, "Preview:\t%d users, %d groups, from %d Okta calls in %.1fs\n", r.Preview.Users, r.Preview.Groups, r.Preview.OktaCalls, r.Preview.DurationSeconds)
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Removed)+len(r.Renamed)+len(r.Added) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CHANGE\tKIND\tENTITY\tOKTA ID")
		for _, id := range r.Removed {
			fmt.Fprintf(tw, "removed\t%s\t%s\t%s\n", id.Kind, id.Ref, orgID(id.Org, id.OktaID))
		}
		for _, c := range r.Renamed {
			fmt.Fprintf(tw, "renamed\t%s\t%s -> %s\t%s\n", c.Kind, c.From, c.To, orgID(c.Org, c.OktaID))
		}
		for _, id := range r.Added {
			fmt.Fprintf(tw, "added\t%s\t%s\t%s\n", id.Kind, id.Ref, orgID(id.Org, id.OktaID))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "\n%d removed, %d renamed, %d added.\n", len(r.Removed), len(r.Renamed), len(r.Added))
	if r.Guard.WouldHold {
		fmt.Fprintf(w, "The deletion guard would hold this snapshot back until accepted: %s.\n", r.Guard.Reason)
	}
	return nil
}

// orgID is an Okta id as the table shows it: org/id for an object of a
// named org.
func orgID(org, id string) string {
	if org == "" {
		return id
	}
	return org + "/" + id
}

// instanceBaseline reads the entities a running instance serves:
// GET <base>/entities as JSON, which is never sharded.
func instanceBaseline(ctx context.Context, instance, token string) (baseline, error) {
	u, err := url.Parse(strings.TrimRight(instance, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" {
		return baseline{}, fmt.Errorf("preview: invalid -instance %q: want the instance's base URL such as http://okta-entity-provider:8080, without credentials or query (the entities token comes from ENTITIES_TOKEN)", instance)
	}
	u.Path = strings.TrimSuffix(u.Path, "/entities")
	shown := u.String()
	u.Path += "/entities"
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return baseline{}, fmt.Errorf("preview: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return baseline{}, fmt.Errorf("preview: cannot read the instance's entities: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		hint := ""
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			hint = "; set ENTITIES_TOKEN to the instance's entities token"
		}
		return baseline{}, fmt.Errorf("preview: GET %s/entities: %s: %s%s", shown, resp.Status, strings.TrimSpace(string(msg)), hint)
	}
	var entities []struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name        string            `json:"name"`
			Namespace   string            `json:"namespace"`
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&entities); err != nil {
		return baseline{}, fmt.Errorf("preview: GET %s/entities: cannot decode the entities: %w", shown, err)
	}
	b := baseline{summary: baselineSummary{From: "instance", Source: shown}}
	for _, e := range entities {
		id := catalog.EntityID{Kind: e.Kind, OktaID: e.Metadata.Annotations[catalog.AnnotationID], Org: e.Metadata.Annotations[catalog.AnnotationOrg]}
		ent := catalog.Entity{Kind: e.Kind, Metadata: catalog.Metadata{Name: e.Metadata.Name, Namespace: e.Metadata.Namespace}}
		id.Ref = ent.Ref()
		b.add(id)
	}
	return b, nil
}

// savedBaseline maps the state saved in dataDir with the current settings
// (the environment and the config file, without the command line's
// changes): the catalog the instance that saved it serves.
func savedBaseline(dataDir string, getenv func(string) string) (baseline, error) {
	current, err := resolveConfig(nil, getenv)
	if err != nil {
		return baseline{}, fmt.Errorf("preview: the current settings (without the command line's) are invalid: %w", err)
	}
	path := filepath.Join(dataDir, stateFileName)
	var res *catalog.Result
	if len(current.Orgs) > 0 {
		path = dataDir
		res, err = provider.SavedCatalogs(current.savedOrgs())
	} else {
		res, err = provider.SavedCatalog(path, current.catalogOptions())
	}
	switch {
	case errors.Is(err, orgsync.ErrCorrupt), errors.Is(err, orgsync.ErrIncompatible), errors.Is(err, provider.ErrNoSavedUsers):
		return baseline{}, fmt.Errorf("preview: invalid DATA_DIR: %w; an instance ignores it too: compare with the instance itself (-instance)", err)
	case err != nil:
		return baseline{}, fmt.Errorf("preview: invalid DATA_DIR: %w; give the directory an instance saves its state in, or compare with the instance itself (-instance)", err)
	}
	b := baseline{summary: baselineSummary{From: "data-dir", Source: path}}
	for i := range res.Entities {
		b.add(catalog.IDOf(&res.Entities[i]))
	}
	return b, nil
}

func (b *baseline) add(id catalog.EntityID) {
	b.ids = append(b.ids, id)
	switch id.Kind {
	case catalog.KindUser:
		b.summary.Users++
	case catalog.KindGroup:
		b.summary.Groups++
	}
}
