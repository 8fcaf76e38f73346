package provider

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"
	yaml "go.yaml.in/yaml/v3"

	"github.com/okta-entity-provider/okta-entity-provider/internal/asynctest"
	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog"
	"github.com/okta-entity-provider/okta-entity-provider/internal/eventhook"
	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
	"github.com/okta-entity-provider/okta-entity-provider/internal/oktafake"
	"github.com/okta-entity-provider/okta-entity-provider/internal/orgsync"
)

// servedEntity is an entity as the served YAML has it: what Backstage
// reads, not what the provider meant to write.
type servedEntity struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name        string            `yaml:"name"`
		Namespace   string            `yaml:"namespace"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"metadata"`
	Spec struct {
		MemberOf []string `yaml:"memberOf"`
	} `yaml:"spec"`
}

// ref is the entity's reference, lower-cased as Backstage compares them.
func (e *servedEntity) ref() string {
	ns := e.Metadata.Namespace
	if ns == "" {
		ns = catalog.DefaultNamespace
	}
	return strings.ToLower(e.Kind + ":" + ns + "/" + e.Metadata.Name)
}

// orgView is one org's part of a served catalog, by Okta id: its users
// with the Okta ids of the groups they are members of, and its groups.
type orgView struct {
	Users  map[string][]string
	Groups []string
}

// servedByOrg parses the served catalog and splits it by the entities'
// okta.com/org annotation. It fails the test when two entities have the
// same reference, when an entity has no org or an unknown one, or when a
// user's memberOf names a group that is not served or is another org's.
func servedByOrg(t *testing.T, body []byte, orgs ...string) map[string]orgView {
	t.Helper()
	var all []servedEntity
	dec := yaml.NewDecoder(bytes.NewReader(body))
	for {
		var e servedEntity
		if err := dec.Decode(&e); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("the served catalog is not YAML: %v", err)
		}
		all = append(all, e)
	}
	byRef := make(map[string]*servedEntity, len(all))
	views := make(map[string]orgView)
	for _, org := range orgs {
		views[org] = orgView{Users: map[string][]string{}}
	}
	for i := range all {
		e := &all[i]
		if _, dup := byRef[e.ref()]; dup {
			t.Fatalf("two entities are served as %s", e.ref())
		}
		byRef[e.ref()] = e
		org := e.Metadata.Annotations[catalog.AnnotationOrg]
		v, known := views[org]
		if !known {
			t.Fatalf("%s has %s %q, want one of %q", e.ref(), catalog.AnnotationOrg, org, orgs)
		}
		if e.Kind == catalog.KindGroup {
			v.Groups = append(v.Groups, e.Metadata.Annotations[catalog.AnnotationID])
			views[org] = v
		}
	}
	for i := range all {
		e := &all[i]
		if e.Kind != catalog.KindUser {
			continue
		}
		org := e.Metadata.Annotations[catalog.AnnotationOrg]
		groups := []string{}
		for _, name := range e.Spec.MemberOf {
			ns := e.Metadata.Namespace
			if ns == "" {
				ns = catalog.DefaultNamespace
			}
			g, ok := byRef[strings.ToLower("group:"+ns+"/"+name)]
			switch {
			case !ok:
				t.Fatalf("%s is a member of %s, which is not served", e.ref(), name)
			case g.Metadata.Annotations[catalog.AnnotationOrg] != org:
				t.Fatalf("%s of org %s is a member of %s of org %s", e.ref(), org, g.ref(), g.Metadata.Annotations[catalog.AnnotationOrg])
			}
			groups = append(groups, g.Metadata.Annotations[catalog.AnnotationID])
		}
		slices.Sort(groups)
		views[org].Users[e.Metadata.Annotations[catalog.AnnotationID]] = groups
	}
	for org, v := range views {
		slices.Sort(v.Groups)
		views[org] = v
	}
	return views
}

// truthView is what the default mapping emits of the fake org, read from
// the org itself: its users not DEPROVISIONED with the groups (not
// BUILT_IN) they are in, and those groups.
func truthView(org *oktafake.Org) orgView {
	v := orgView{Users: map[string][]string{}}
	for _, u := range org.Users() {
		if u.Status != okta.StatusDeprovisioned {
			v.Users[u.ID] = []string{}
		}
	}
	for _, g := range org.Groups() {
		if g.Type == okta.GroupTypeBuiltIn {
			continue
		}
		v.Groups = append(v.Groups, g.ID)
		for _, u := range org.Members(g.ID) {
			if groups, ok := v.Users[u]; ok {
				v.Users[u] = append(groups, g.ID)
			}
		}
	}
	slices.Sort(v.Groups)
	for u := range v.Users {
		slices.Sort(v.Users[u])
	}
	return v
}

// multiOrgFixture holds the fakes and the provider orgs of a test: acme
// and globex, generated from different seeds, and twin, the same org as
// acme (the same logins, names and even ids) in the same namespace, so
// that every one of its names collides with one of acme's.
type multiOrgFixture struct {
	fakes map[string]*oktafake.Server
	orgs  []Org
}

func newMultiOrgFixture(t *testing.T, dir string) multiOrgFixture {
	t.Helper()
	return newMultiOrgFixtureWith(t, dir, oktafake.Options{})
}

// newMultiOrgFixtureWith is newMultiOrgFixture with the fakes' options.
func newMultiOrgFixtureWith(t *testing.T, dir string, fopts oktafake.Options) multiOrgFixture {
	t.Helper()
	f := multiOrgFixture{fakes: map[string]*oktafake.Server{}}
	for _, o := range []struct {
		name   string
		seed   int64
		prefix string
	}{{"acme", 11, ""}, {"globex", 12, "globex-"}, {"twin", 11, ""}} {
		fake, client := fakeOrgOf(t, oktafake.GenerateOrg(oktafake.OrgOptions{Users: 150, Groups: 15, Seed: o.seed}), fopts,
			// An org that is down fails its sync within a second.
			okta.Options{MaxConcurrency: 4, RetryBaseDelay: 10 * time.Millisecond})
		opts := catalog.DefaultOptions()
		opts.NamePrefix = o.prefix
		state := ""
		if dir != "" {
			state = filepath.Join(dir, "state-"+o.name+".bin")
		}
		f.fakes[o.name] = fake
		f.orgs = append(f.orgs, Org{Name: o.name, Client: client, Catalog: opts, StatePath: state})
	}
	return f
}

// check compares the served catalog with every fake org's truth.
func (f multiOrgFixture) check(t *testing.T, p *Provider, what string) {
	t.Helper()
	snap := p.Snapshot()
	if snap == nil {
		t.Fatalf("%s: no catalog is served", what)
	}
	got := servedByOrg(t, snap.All.Data(), slices.Collect(maps.Keys(f.fakes))...)
	for name, fake := range f.fakes {
		if diff := cmp.Diff(truthView(fake.Org()), got[name]); diff != "" {
			t.Fatalf("%s: org %s's served entities differ from the fake org's (-want +got):\n%s", what, name, diff)
		}
	}
}

func TestOrgsMergeExactly(t *testing.T) {
	t.Parallel()
	f := newMultiOrgFixture(t, t.TempDir())
	cfg := syncConfig(func(c *Config) { c.Orgs = f.orgs })
	p := New(zerolog.Nop(), nil, cfg, nil)
	mustSync(t, p, "first sync")
	f.check(t, p, "first sync")
	rep := p.Snapshot().Report
	if len(rep.Orgs) != 3 {
		t.Fatalf("the report has %d orgs, want 3", len(rep.Orgs))
	}
	collisions := 0
	for _, r := range rep.Renames {
		// acme and globex have collisions of their own, as one org does.
		if r.Reason == catalog.ReasonCollision && r.Org == "twin" {
			collisions++
		}
	}
	twin := truthView(f.fakes["twin"].Org())
	if want := len(twin.Users) + len(twin.Groups); collisions != want {
		t.Errorf("twin, a copy of acme, has %d names renamed for a collision, want all its %d users and groups", collisions, want)
	}

	// Changes in every org flow in incrementally.
	for i, name := range []string{"acme", "globex", "twin"} {
		if _, err := f.fakes[name].Org().ApplyChanges(oktafake.Changes{Seed: int64(i + 1), UserAdds: 2, UserUpdates: 3,
			UserDeactivations: 1, GroupRenames: 1, GroupDeletions: 1, MemberAdds: 3, MemberRemoves: 2}); err != nil {
			t.Fatal(err)
		}
	}
	mustSync(t, p, "sync after changes")
	if m := p.status().LastSync.Mode; m != orgsync.ModeIncremental {
		t.Errorf("sync after changes: mode %s, want incremental", m)
	}
	f.check(t, p, "sync after changes")

	// A new provider from the saved states serves the same bytes before
	// any sync.
	before := p.Snapshot().All.Data()
	rec := &recorder{}
	q := New(zerolog.Nop(), nil, cfg, rec)
	q.LoadState()
	if q.Snapshot() == nil || !bytes.Equal(q.Snapshot().All.Data(), before) {
		t.Fatalf("a provider started from the saved states does not serve what the last one served")
	}
	// Each org's age, for the alert on one failing org, counts from now.
	if want := []string{"acme", "globex", "twin"}; !slices.Equal(rec.resumed, want) {
		t.Errorf("orgs resumed from their saved states: got %v, want %v", rec.resumed, want)
	}
}

func TestOrgFailureKeepsItsEntities(t *testing.T) {
	t.Parallel()
	f := newMultiOrgFixture(t, "")
	cfg := syncConfig(func(c *Config) { c.Orgs = f.orgs })
	p := New(zerolog.Nop(), nil, cfg, nil)
	ctx := context.Background()
	if got := p.SyncOnce(ctx); got != OutcomeOK {
		t.Fatalf("first sync: got %s: %s", got, p.status().LastSync.Error)
	}
	acme := f.fakes["acme"]
	acmeServed := servedByOrg(t, p.Snapshot().All.Data(), "acme", "globex", "twin")["acme"]
	orgStatus := func(name string) OrgStatus {
		t.Helper()
		for _, o := range p.status().Orgs {
			if o.Name == name {
				return o
			}
		}
		t.Fatalf("/status has no org %s", name)
		return OrgStatus{}
	}

	// acme goes down, and changes that its sync cannot see are made in it
	// while globex changes: globex's changes are served, acme's entities
	// stay as they were.
	acme.SetFaults(oktafake.Faults{Down: true})
	if _, err := acme.Org().ApplyChanges(oktafake.Changes{Seed: 5, UserAdds: 3, GroupDeletions: 1}); err != nil {
		t.Fatal(err)
	}
	for round := range 4 {
		if _, err := f.fakes["globex"].Org().ApplyChanges(oktafake.Changes{Seed: int64(10 + round), UserAdds: 1, UserUpdates: 2, MemberAdds: 2, MemberRemoves: 1}); err != nil {
			t.Fatal(err)
		}
		if round == 2 {
			// Whether acme's sync started at the last step is still
			// running or not, its result is the next step's.
			p.behind.Wait()
		}
		if got := p.SyncOnce(ctx); got != OutcomeOK {
			t.Fatalf("round %d: got %s, want ok with acme down: %s", round, got, p.status().LastSync.Error)
		}
		served := servedByOrg(t, p.Snapshot().All.Data(), "acme", "globex", "twin")
		if diff := cmp.Diff(acmeServed, served["acme"]); diff != "" {
			t.Fatalf("round %d: acme's served entities changed while it is down (-before +now):\n%s", round, diff)
		}
		if diff := cmp.Diff(truthView(f.fakes["globex"].Org()), served["globex"]); diff != "" {
			t.Fatalf("round %d: globex's changes are not served while acme is down (-want +got):\n%s", round, diff)
		}
		if e := p.status().LastSync.Error; !strings.Contains(e, "1 of 3 orgs failed or are still retrying") || !strings.Contains(e, "org acme:") {
			t.Errorf("round %d: the last sync's error is %q, want it to name acme", round, e)
		}
		a := orgStatus("acme")
		if a.FailuresInARow < 1 || a.LastSync == nil || a.LastSync.Outcome != OutcomeFailed {
			t.Errorf("round %d: /status has acme with %d failures in a row and last sync %+v, want at least 1 and failed", round, a.FailuresInARow, a.LastSync)
		}
		if round == 2 && a.FailuresInARow < 2 {
			t.Errorf("round %d: acme has %d failures in a row after its second sync had finished, want at least 2", round, a.FailuresInARow)
		}
		if g := orgStatus("globex"); g.FailuresInARow != 0 || g.LastSync.Outcome != OutcomeOK {
			t.Errorf("round %d: /status has globex with %d failures in a row and outcome %s, want 0 and ok", round, g.FailuresInARow, g.LastSync.Outcome)
		}
	}

	// acme is back: its changes are served once a sync of it has run
	// since, which takes a step or two.
	acme.SetFaults(oktafake.Faults{})
	for range 3 {
		p.behind.Wait()
		if got := p.SyncOnce(ctx); got != OutcomeOK {
			t.Fatalf("after acme is back: got %s: %s", got, p.status().LastSync.Error)
		}
		if orgStatus("acme").FailuresInARow == 0 {
			break
		}
	}
	f.check(t, p, "after acme is back")
	for _, o := range p.status().Orgs {
		if o.FailuresInARow != 0 {
			t.Errorf("after acme is back: org %s has %d failures in a row, want 0", o.Name, o.FailuresInARow)
		}
	}
	if e := p.status().LastSync.Error; e != "" {
		t.Errorf("after acme is back: the last sync's error is %q, want none", e)
	}
}

// gatedOkta is an org's client whose change listings wait while its gate
// is closed, as a hung Okta does, and counts the syncs that reached them.
type gatedOkta struct {
	*okta.Client
	mu      sync.Mutex
	gate    chan struct{} // nil: open
	waiting atomic.Int32
}

func (g *gatedOkta) close() { g.mu.Lock(); g.gate = make(chan struct{}); g.mu.Unlock() }
func (g *gatedOkta) open()  { g.mu.Lock(); close(g.gate); g.gate = nil; g.mu.Unlock() }

// wait blocks while the gate is closed; false when ctx ended first.
func (g *gatedOkta) wait(ctx context.Context) bool {
	g.mu.Lock()
	gate := g.gate
	g.mu.Unlock()
	if gate == nil {
		return true
	}
	g.waiting.Add(1)
	defer g.waiting.Add(-1)
	select {
	case <-gate:
		return true
	case <-ctx.Done():
		return false
	}
}

func (g *gatedOkta) ListGroupsChangedSince(ctx context.Context, since time.Time, opts okta.GroupListOptions) iter.Seq2[okta.Group, error] {
	if !g.wait(ctx) {
		return func(yield func(okta.Group, error) bool) { yield(okta.Group{}, ctx.Err()) }
	}
	return g.Client.ListGroupsChangedSince(ctx, since, opts)
}

func TestHungOrgDoesNotHoldOthersBack(t *testing.T) {
	t.Parallel()
	f := newMultiOrgFixture(t, "")
	acme := &gatedOkta{Client: f.orgs[0].Client.(*okta.Client)}
	f.orgs[0].Client = acme
	cfg := syncConfig(func(c *Config) { c.Orgs = f.orgs })
	p := New(zerolog.Nop(), nil, cfg, nil)
	globexChange := func(seed int64) {
		t.Helper()
		if _, err := f.fakes["globex"].Org().ApplyChanges(oktafake.Changes{Seed: seed, UserAdds: 1, MemberAdds: 1}); err != nil {
			t.Fatal(err)
		}
	}
	mustSync(t, p, "first sync")

	// acme fails once: the step waits for it, as for any org that was
	// syncing well.
	f.fakes["acme"].SetFaults(oktafake.Faults{Down: true})
	mustSync(t, p, "acme down")
	f.fakes["acme"].SetFaults(oktafake.Faults{})

	// Then acme hangs. Its next sync waits at the gate, and the steps go
	// on without it: each serves globex's change, none starts a second
	// sync of acme, and /status shows acme's sync running.
	acme.close()
	if _, err := f.fakes["acme"].Org().ApplyChanges(oktafake.Changes{Seed: 3, UserAdds: 2}); err != nil {
		t.Fatal(err)
	}
	acmeServed := servedByOrg(t, p.Snapshot().All.Data(), "acme", "globex", "twin")["acme"]
	for round := range 3 {
		globexChange(int64(20 + round))
		mustSync(t, p, fmt.Sprintf("round %d with acme hung", round))
		served := servedByOrg(t, p.Snapshot().All.Data(), "acme", "globex", "twin")
		if diff := cmp.Diff(truthView(f.fakes["globex"].Org()), served["globex"]); diff != "" {
			t.Fatalf("round %d: globex's change is not served while acme hangs (-want +got):\n%s", round, diff)
		}
		if diff := cmp.Diff(acmeServed, served["acme"]); diff != "" {
			t.Fatalf("round %d: acme's served entities changed while it hangs (-before +now):\n%s", round, diff)
		}
		if n := acme.waiting.Load(); n != 1 {
			t.Fatalf("round %d: %d syncs of acme wait at its gate, want 1", round, n)
		}
		var progress *Progress
		for _, o := range p.status().Orgs {
			if o.Name == "acme" {
				progress = o.Progress
			}
		}
		if progress == nil {
			t.Errorf("round %d: /status shows no sync of acme in progress", round)
		}
		if e := p.status().LastSync.Error; !strings.Contains(e, "org acme: its sync started at") || !strings.Contains(e, "is still running") {
			t.Errorf("round %d: the last sync's error is %q, want it to say acme's sync is still running", round, e)
		}
	}

	// acme answers again: the step after its sync is done serves its
	// changes.
	acme.open()
	p.behind.Wait()
	mustSync(t, p, "acme answering again")
	f.check(t, p, "acme answering again")
}

// TestFirstHangDoesNotHoldOthersBack hangs an org that was syncing well:
// the step stops waiting for it once its patience is out and serves the
// other orgs' changes, and its sync, once it answers, asks for the step
// that serves its changes.
func TestFirstHangDoesNotHoldOthersBack(t *testing.T) {
	t.Parallel()
	f := newMultiOrgFixture(t, "")
	acme := &gatedOkta{Client: f.orgs[0].Client.(*okta.Client)}
	f.orgs[0].Client = acme
	cfg := syncConfig(func(c *Config) { c.Orgs = f.orgs; c.OrgPatience = 200 * time.Millisecond })
	p := New(zerolog.Nop(), nil, cfg, nil)
	mustSync(t, p, "first sync")
	mustSync(t, p, "a second, incremental sync")

	acme.close()
	if _, err := f.fakes["acme"].Org().ApplyChanges(oktafake.Changes{Seed: 5, UserAdds: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.fakes["globex"].Org().ApplyChanges(oktafake.Changes{Seed: 6, UserAdds: 1, MemberAdds: 1}); err != nil {
		t.Fatal(err)
	}
	acmeServed := servedByOrg(t, p.Snapshot().All.Data(), "acme", "globex", "twin")["acme"]
	mustSync(t, p, "acme hung for the first time")
	if n := acme.waiting.Load(); n != 1 {
		t.Fatalf("%d syncs of acme wait at its gate after the step, want 1 (the step waited for it)", n)
	}
	served := servedByOrg(t, p.Snapshot().All.Data(), "acme", "globex", "twin")
	if diff := cmp.Diff(truthView(f.fakes["globex"].Org()), served["globex"]); diff != "" {
		t.Fatalf("globex's change is not served while acme hangs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(acmeServed, served["acme"]); diff != "" {
		t.Fatalf("acme's served entities changed while it hangs (-before +now):\n%s", diff)
	}
	st := p.status()
	if e := st.LastSync.Error; !strings.Contains(e, "org acme: its sync started at") || !strings.Contains(e, "longer than it usually takes") {
		t.Errorf("the last sync's error is %q, want it to say acme's sync is still running", e)
	}
	for _, o := range st.Orgs {
		if o.Name == "acme" && o.Progress == nil {
			t.Error("/status shows no sync of acme in progress")
		}
	}
	select {
	case <-p.caughtUp:
		t.Fatal("a sync was asked for while acme's still hangs")
	default:
	}

	// The schedule runs (its first step finds acme's sync still running),
	// then acme answers: its sync succeeds and asks for a step at once,
	// which serves acme's changes though the interval is an hour.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	completed := st.Syncs.Completed
	asynctest.WaitFor(t, 30*time.Second, "the schedule's first step", func() bool { return p.status().Syncs.Completed > completed })
	if n := acme.waiting.Load(); n != 1 {
		t.Fatalf("%d syncs of acme wait at its gate, want 1", n)
	}
	acme.open()
	acmeTruth := truthView(f.fakes["acme"].Org())
	asynctest.WaitFor(t, 30*time.Second, "acme's changes served", func() bool {
		return cmp.Equal(acmeTruth, servedByOrg(t, p.Snapshot().All.Data(), "acme", "globex", "twin")["acme"])
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	f.check(t, p, "acme's sync taken")
	for _, o := range p.status().Orgs {
		if o.Name == "acme" && o.LastSync.Outcome != OutcomeOK {
			t.Errorf("acme's last sync: %s, want ok", o.LastSync.Outcome)
		}
	}
}

func TestOrgWithoutStateHoldsTheFirstCatalog(t *testing.T) {
	t.Parallel()
	f := newMultiOrgFixture(t, "")
	f.fakes["globex"].SetFaults(oktafake.Faults{Down: true})
	cfg := syncConfig(func(c *Config) { c.Orgs = f.orgs })
	p := New(zerolog.Nop(), nil, cfg, nil)
	ctx := context.Background()
	if got := p.SyncOnce(ctx); got != OutcomeFailed {
		t.Fatalf("first sync with globex down: got %s, want failed", got)
	}
	if p.Snapshot() != nil {
		t.Fatal("a catalog without globex's entities is served")
	}
	msg := p.NotReady()
	for _, want := range []string{"every org has synced once", "org globex:"} {
		if !strings.Contains(msg, want) {
			t.Errorf("NotReady is %q, want it to contain %q", msg, want)
		}
	}
	f.fakes["globex"].SetFaults(oktafake.Faults{})
	if got := p.SyncOnce(ctx); got != OutcomeOK {
		t.Fatalf("with globex back: got %s: %s", got, p.status().LastSync.Error)
	}
	f.check(t, p, "with globex back")
	if msg := p.NotReady(); msg != "" {
		t.Errorf("NotReady is %q once the catalog is served, want empty", msg)
	}
}

func TestOrgHintsCheckTheirOrg(t *testing.T) {
	t.Parallel()
	// No System Log: a deletion is found only by a hint's check (the
	// periodic check never comes in this test).
	f := newMultiOrgFixtureWith(t, "", oktafake.Options{TokensWithoutLogs: []string{"token-without-logs"}})
	gated := &gatedOkta{Client: f.orgs[0].Client.(*okta.Client)}
	f.orgs[0].Client = gated
	cfg := syncConfig(func(c *Config) { c.Orgs = f.orgs; c.DeletionCheckEvery = 1000 })
	p := New(zerolog.Nop(), nil, cfg, nil)
	mustSync(t, p, "first sync")
	acme, ok := p.OrgHints("acme")
	if _, none := p.OrgHints("initech"); !ok || none {
		t.Fatalf("OrgHints: got %v for acme and %v for initech, want true and false", ok, none)
	}
	served := func() map[string]orgView {
		return servedByOrg(t, p.Snapshot().All.Data(), "acme", "globex", "twin")
	}

	// acme fails once, then hangs. A user of it is deleted and its hook
	// tells of it while its background sync hangs: the steps that cannot
	// sync acme keep the hint, and once acme answers, a sync of it checks
	// the deletion. twin, a copy of acme, has the same user and keeps it.
	f.fakes["acme"].SetFaults(oktafake.Faults{Down: true})
	mustSync(t, p, "acme down")
	f.fakes["acme"].SetFaults(oktafake.Faults{})
	gated.close()
	mustSync(t, p, "acme hung")
	victim := f.fakes["acme"].Org().Users()[0].ID
	if _, ok := served()["twin"].Users[victim]; !ok {
		t.Fatalf("twin does not serve %s, the copy of acme's user", victim)
	}
	if err := f.fakes["acme"].Org().DeleteUser(victim); err != nil {
		t.Fatal(err)
	}
	acme.Hint(eventhook.Hint{Events: 1, DeletedUsers: []string{victim}})
	for round := range 2 {
		mustSync(t, p, fmt.Sprintf("round %d with acme hung", round))
		if n := gated.waiting.Load(); n != 1 {
			t.Fatalf("round %d: %d syncs of acme wait at its gate, want 1", round, n)
		}
	}
	if _, ok := served()["acme"].Users[victim]; !ok {
		t.Fatalf("acme's deleted user %s left the catalog while acme hangs", victim)
	}
	gated.open()
	p.behind.Wait()
	for round := 0; ; round++ {
		mustSync(t, p, fmt.Sprintf("round %d with acme answering", round))
		p.behind.Wait()
		if _, ok := served()["acme"].Users[victim]; !ok {
			break
		}
		if round == 3 {
			t.Fatalf("acme's user %s, deleted and hinted while acme hung, is still served %d syncs after it answers", victim, round+1)
		}
	}
	if _, ok := served()["twin"].Users[victim]; !ok {
		t.Errorf("twin's user %s left the catalog with acme's hint", victim)
	}
	f.check(t, p, "after the hinted deletion")
}

// syncedOrgs returns a provider of the multi-org fixture's orgs after its
// first sync.
func syncedOrgs(t *testing.T) *Provider {
	t.Helper()
	f := newMultiOrgFixture(t, "")
	p := New(zerolog.Nop(), nil, syncConfig(func(c *Config) { c.Orgs = f.orgs }), nil)
	mustSync(t, p, "first sync")
	return p
}

// TestLateResultMeasuredAgainstServed takes the result of an org's sync
// in the background that started from a state no longer served (a new
// leader's term adopted the shared generation meanwhile, or a held
// snapshot was accepted): a failed one keeps what is served, not the
// state it started from, and either is measured against what is served.
func TestLateResultMeasuredAgainstServed(t *testing.T) {
	t.Parallel()
	p := syncedOrgs(t)
	o := p.orgs[0]
	served, started := o.latest, p.orgs[1].latest // two distinct states
	for _, failed := range []bool{true, false} {
		r := &orgResult{o: o, prev: started, next: started, start: time.Unix(1, 0)}
		if failed {
			r.err = errors.New("okta unavailable")
		} else {
			r.next = p.orgs[2].latest
		}
		o.behind = make(chan *orgResult, 1)
		o.behind <- r
		rs := []*orgResult{o.stillRunning(time.Unix(2, 0))}
		if !p.takeBehind(rs, 0, false) {
			t.Fatal("takeBehind: the result waiting on the channel was not taken")
		}
		got := rs[0]
		if got.prev != served {
			t.Errorf("failed=%v: the result is measured against the state it started from, want the served one", failed)
		}
		switch {
		case failed && got.next != served:
			t.Error("a failed sync that started from a state no longer served would serve that state again")
		case !failed && got.next != p.orgs[2].latest:
			t.Error("a good sync's result was replaced")
		}
		if !got.earlier || o.behind != nil {
			t.Errorf("the result is not marked as an earlier step's (earlier %v) or the org still waits for one", got.earlier)
		}
	}
}

func TestOrgPatience(t *testing.T) {
	t.Parallel()
	f := newMultiOrgFixture(t, "")
	p := New(zerolog.Nop(), nil, syncConfig(func(c *Config) { c.Orgs = f.orgs }), nil)
	o := p.orgs[0]
	for _, tc := range []struct {
		mode orgsync.Mode
		took time.Duration // of the org's last good sync of mode; 0: none yet
		want time.Duration
	}{
		{orgsync.ModeIncremental, 0, defaultOrgPatience},
		{orgsync.ModeIncremental, 300 * time.Millisecond, defaultOrgPatience},
		{orgsync.ModeIncremental, 4 * time.Second, 8 * time.Second},
		{orgsync.ModeFull, 3 * time.Minute, maxOrgPatience},
	} {
		clear(o.took)
		if tc.took > 0 {
			o.took[tc.mode] = tc.took
		}
		o.took[otherMode(tc.mode)] = time.Hour // another mode's does not count
		if got := p.patience(&orgResult{o: o, mode: tc.mode}); got != tc.want {
			t.Errorf("%s sync, last one took %s: patience %s, want %s", tc.mode, tc.took, got, tc.want)
		}
	}
}

func otherMode(m orgsync.Mode) orgsync.Mode {
	if m == orgsync.ModeFull {
		return orgsync.ModeIncremental
	}
	return orgsync.ModeFull
}

// TestDropBehindGivesHintsBack ends a leader's term with an org's sync in
// the background that was checking hints: its result is dropped, and its
// hints are given back and asked to be forwarded.
func TestDropBehindGivesHintsBack(t *testing.T) {
	t.Parallel()
	p := syncedOrgs(t)
	o := p.orgs[1]
	hint := orgsync.Suspects{Users: []string{"00uHINTED"}}
	o.behind = make(chan *orgResult, 1)
	o.behind <- &orgResult{o: o, prev: o.latest, next: o.latest, suspects: hint, err: context.Canceled}
	p.dropBehind()
	if o.behind != nil {
		t.Fatal("the org still waits for a sync of the ended term")
	}
	pd := p.takePending()
	if got := pd.of(1).Users; !slices.Equal(got, hint.Users) {
		t.Errorf("hints of org 1 after the term: got %v, want %v given back", got, hint.Users)
	}
	select {
	case <-p.trigger:
	default:
		t.Error("the hints given back were not asked to be forwarded")
	}
}
