package provider

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/okta-entity-provider/okta-entity-provider/internal/asynctest"
	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog"
	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
	"github.com/okta-entity-provider/okta-entity-provider/internal/oktafake"
	"github.com/okta-entity-provider/okta-entity-provider/internal/orgsync"
)

// fakeOrg serves a generated org from the fake Okta, mounted under a path
// prefix, and returns it with a client for it.
func fakeOrg(t *testing.T, users, groups int, opts oktafake.Options) (*oktafake.Server, *okta.Client) {
	t.Helper()
	return fakeOrgOf(t, oktafake.GenerateOrg(oktafake.OrgOptions{Users: users, Groups: groups, Seed: 11}), opts, okta.Options{MaxConcurrency: 4})
}

// fakeOrgOf serves org as fakeOrg does, to a client with copts.
func fakeOrgOf(t *testing.T, org *oktafake.Org, opts oktafake.Options, copts okta.Options) (*oktafake.Server, *okta.Client) {
	t.Helper()
	opts.Prefix = "/okta"
	if opts.LogDelay == 0 {
		// These tests compare with a full sync right after each change:
		// events must be visible at once (the delay has its own tests).
		opts.LogDelay = -1
	}
	fake := oktafake.NewServer(org, opts)
	ts := httptest.NewServer(fake)
	t.Cleanup(ts.Close)
	token := "demo-token"
	if len(opts.TokensWithoutLogs) > 0 {
		token = opts.TokensWithoutLogs[0]
	}
	client, err := okta.NewClient(ts.URL+opts.Prefix, okta.NewTokenAuth(token), copts)
	if err != nil {
		t.Fatal(err)
	}
	return fake, client
}

// mismatches is an Observer that counts reconciliation mismatches.
type mismatches struct {
	recorder
	mu    sync.Mutex
	calls int
	total int
}

func (m *mismatches) Mismatch(_, _ string, n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	m.total += n
}

func syncConfig(mod func(*Config)) Config {
	cfg := Config{
		Interval: time.Hour, Timeout: time.Minute, FullInterval: 24 * time.Hour,
		Catalog: catalog.DefaultOptions(), MaxDeleteShare: 0.5, MemberConcurrency: 4,
	}
	if mod != nil {
		mod(&cfg)
	}
	return cfg
}

// freshBody is what a new provider's first (full) sync serves for the org
// behind client: the reference an incrementally kept snapshot must equal.
func freshBody(t *testing.T, client *okta.Client, cfg Config) []byte {
	t.Helper()
	cfg.StatePath = ""
	p := New(zerolog.Nop(), client, cfg, nil)
	if got := p.SyncOnce(context.Background()); got != OutcomeOK {
		t.Fatalf("fresh full sync: got %s, want ok: %s", got, p.status().LastSync.Error)
	}
	return p.Snapshot().All.Data()
}

// mustSync runs one sync of p and fails the test, naming what, unless it
// is ok; it returns the sync as /status has it.
func mustSync(t *testing.T, p *Provider, what string) *SyncInfo {
	t.Helper()
	if got := p.SyncOnce(context.Background()); got != OutcomeOK {
		t.Fatalf("%s: got %s: %s", what, got, p.status().LastSync.Error)
	}
	return p.status().LastSync
}

// eachLogMode runs f as parallel subtests against a fake org of users
// and groups, with and without System Log access (logs): the two ways a
// sync finds what no change listing shows.
func eachLogMode(t *testing.T, users, groups int, f func(t *testing.T, logs bool, fake *oktafake.Server, client *okta.Client)) {
	for _, mode := range []struct {
		name string
		logs bool
		opts oktafake.Options
	}{
		{"system log", true, oktafake.Options{}},
		{"no system log", false, oktafake.Options{TokensWithoutLogs: []string{"token-without-logs"}}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			fake, client := fakeOrg(t, users, groups, mode.opts)
			f(t, mode.logs, fake, client)
		})
	}
}

func TestIncrementalSyncFollowsChanges(t *testing.T) {
	t.Parallel()
	eachLogMode(t, 300, 30, func(t *testing.T, logs bool, fake *oktafake.Server, client *okta.Client) {
		cfg := syncConfig(func(c *Config) { c.DeletionCheckEvery = 1 })
		obs := &mismatches{}
		p := New(zerolog.Nop(), client, cfg, obs)
		ctx := context.Background()
		if got := p.SyncOnce(ctx); got != OutcomeOK {
			t.Fatalf("first sync: got %s: %s", got, p.status().LastSync.Error)
		}
		first := p.Snapshot()

		// Nothing changed: a handful of calls, the same snapshot.
		if got := p.SyncOnce(ctx); got != OutcomeOK {
			t.Fatalf("no-change sync: got %s: %s", got, p.status().LastSync.Error)
		}
		st := p.status()
		if st.LastSync.Mode != orgsync.ModeIncremental || (logs && st.LastSync.OktaCalls > 5) {
			t.Errorf("no-change sync: got mode %s with %d Okta calls, want incremental with at most 5", st.LastSync.Mode, st.LastSync.OktaCalls)
		}
		if p.Snapshot() != first {
			t.Error("no-change sync: got a new snapshot, want the same one served")
		}
		wantFrom := "system-log"
		if !logs {
			wantFrom = "periodic-check"
		}
		if c := st.Changes; c == nil || c.DeletionsFrom != wantFrom || c.Watermarks.Users.IsZero() || c.NextFullSyncAt == nil ||
			!c.NextFullSyncAt.Equal(c.LastFullSyncAt.Add(24*time.Hour)) {
			t.Errorf("status changes: got %+v, want deletions from %s, watermarks and the next full sync a day after the last", c, wantFrom)
		}

		for round := range 3 {
			if _, err := fake.Org().ApplyChanges(oktafake.Changes{
				Seed: int64(round), UserAdds: 2, UserUpdates: 3, UserDeactivations: 1, UserDeletions: 1,
				GroupAdds: 1, GroupRenames: 1, GroupDeletions: 1, MemberAdds: 3, MemberRemoves: 2,
			}); err != nil {
				t.Fatal(err)
			}
			if got := p.SyncOnce(ctx); got != OutcomeOK {
				t.Fatalf("round %d: got %s: %s", round, got, p.status().LastSync.Error)
			}
			if mode := p.status().LastSync.Mode; mode != orgsync.ModeIncremental {
				t.Errorf("round %d: got mode %s, want incremental", round, mode)
			}
			if want := freshBody(t, client, cfg); !bytes.Equal(p.Snapshot().All.Data(), want) {
				t.Fatalf("round %d: the incrementally kept entities differ from a fresh full sync's", round)
			}
		}

		// A full reconciliation finds nothing to fix.
		p.cfg.Now = func() time.Time { return time.Now().Add(25 * time.Hour) }
		if got := p.SyncOnce(ctx); got != OutcomeOK {
			t.Fatalf("reconciliation: got %s: %s", got, p.status().LastSync.Error)
		}
		if mode := p.status().LastSync.Mode; mode != orgsync.ModeFull {
			t.Errorf("reconciliation: got mode %s, want full", mode)
		}
		if obs.calls != 4 || obs.total != 0 {
			t.Errorf("reconciliation: got %d mismatch reports totalling %d, want 4 reports of 0", obs.calls, obs.total)
		}
	})
}

func TestSavedStateServesAtOnceAndResumes(t *testing.T) {
	t.Parallel()
	fake, client := fakeOrg(t, 200, 20, oktafake.Options{})
	path := filepath.Join(t.TempDir(), "sync-state.bin")
	cfg := syncConfig(func(c *Config) { c.StatePath = path })
	ctx := context.Background()

	a := New(zerolog.Nop(), client, cfg, nil)
	a.LoadState() // no file yet: nothing served
	if a.Snapshot() != nil {
		t.Fatal("no state file: got a snapshot before the first sync")
	}
	if got := a.SyncOnce(ctx); got != OutcomeOK {
		t.Fatalf("first sync: got %s: %s", got, a.status().LastSync.Error)
	}
	served := a.Snapshot()

	// A restart serves the same bytes before any sync, then resumes
	// incrementally.
	b := New(zerolog.Nop(), client, cfg, nil)
	b.LoadState()
	if b.Snapshot() == nil || b.Snapshot().All.ETag != served.All.ETag {
		t.Fatalf("restart: got %v, want the saved snapshot served at once with ETag %s", b.Snapshot(), served.All.ETag)
	}
	if _, err := fake.Org().ApplyChanges(oktafake.Changes{Seed: 9, UserUpdates: 2, MemberAdds: 2, GroupDeletions: 1}); err != nil {
		t.Fatal(err)
	}
	if got := b.SyncOnce(ctx); got != OutcomeOK {
		t.Fatalf("sync after restart: got %s: %s", got, b.status().LastSync.Error)
	}
	if mode := b.status().LastSync.Mode; mode != orgsync.ModeIncremental {
		t.Errorf("sync after restart: got mode %s, want incremental", mode)
	}
	if want := freshBody(t, client, cfg); !bytes.Equal(b.Snapshot().All.Data(), want) {
		t.Error("sync after restart: the entities differ from a fresh full sync's")
	}

	// The change was saved: a second restart serves it.
	c := New(zerolog.Nop(), client, cfg, nil)
	c.LoadState()
	if c.Snapshot() == nil || c.Snapshot().All.ETag != b.Snapshot().All.ETag {
		t.Error("second restart: the saved state is not the last served one")
	}
}

func TestBadStateFileMeansFullSync(t *testing.T) {
	t.Parallel()
	_, client := fakeOrg(t, 100, 10, oktafake.Options{})
	dir := t.TempDir()
	good := filepath.Join(dir, "good.bin")
	p := New(zerolog.Nop(), client, syncConfig(func(c *Config) { c.StatePath = good }), nil)
	if got := p.SyncOnce(context.Background()); got != OutcomeOK {
		t.Fatalf("first sync: got %s", got)
	}
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(data)
	flipped[len(flipped)-10] ^= 0xff
	versioned := bytes.Clone(data)
	versioned[11] = 99 // the big-endian format version's low byte

	for name, content := range map[string][]byte{
		"empty":        {},
		"garbage":      []byte("not a state file at all, just some text"),
		"truncated":    data[:len(data)/2],
		"flipped byte": flipped,
		"other format": versioned,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(dir, name+".bin")
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			logs := &asynctest.Buffer{}
			log := zerolog.New(logs)
			q := New(log, client, syncConfig(func(c *Config) { c.StatePath = path }), nil)
			q.LoadState()
			if q.Snapshot() != nil {
				t.Fatal("a bad state file was served")
			}
			if !strings.Contains(logs.String(), `"level":"warn"`) {
				t.Errorf("no warning logged for a bad state file: %s", logs)
			}
			if got := q.SyncOnce(context.Background()); got != OutcomeOK {
				t.Fatalf("sync: got %s", got)
			}
			if mode := q.status().LastSync.Mode; mode != orgsync.ModeFull {
				t.Errorf("sync after a bad state file: got mode %s, want full", mode)
			}
			if !bytes.Equal(q.Snapshot().All.Data(), p.Snapshot().All.Data()) {
				t.Error("sync after a bad state file: the entities differ from a full sync's")
			}
		})
	}
}
