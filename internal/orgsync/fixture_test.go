package orgsync

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
	"github.com/okta-entity-provider/okta-entity-provider/internal/oktafake"
)

const (
	testToken       = "test-token"
	testTokenNoLogs = "test-token-without-logs"
	testPrefix      = "/okta-prefix"
)

// clock is a settable clock for the fake org, so that tests decide how far
// apart changes are.
// Its time is kept in UTC as nanoseconds since the Unix epoch.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *clock) Now() time.Time { return time.Unix(0, c.ns.Load()).UTC() }

func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// fixture is a generated fake org served over HTTP under a path prefix and
// a real Okta client for it.
type fixture struct {
	org    *oktafake.Org
	srv    *oktafake.Server
	clock  *clock
	client *okta.Client
}

type fixtureOptions struct {
	users, groups int
	seed          int64
	noLogs        bool // the client's token may not read the System Log
	server        oktafake.Options
}

// orgSize is the size of a generated org.
type orgSize struct{ users, groups int }

// eachSize runs test in a parallel subtest a size, each on a fixture of
// that size generated with seed 7.
func eachSize(t *testing.T, sizes []orgSize, test func(t *testing.T, size orgSize, f *fixture)) {
	t.Helper()
	for _, size := range sizes {
		t.Run(fmt.Sprintf("%d users %d groups", size.users, size.groups), func(t *testing.T) {
			t.Parallel()
			test(t, size, newFixture(t, fixtureOptions{users: size.users, groups: size.groups, seed: 7}))
		})
	}
}

func newFixture(t *testing.T, fo fixtureOptions) *fixture {
	t.Helper()
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := newClock(start)
	org := oktafake.GenerateOrg(oktafake.OrgOptions{Users: fo.users, Groups: fo.groups, Seed: fo.seed, Start: start, Now: clk.Now})
	so := fo.server
	if so.LogDelay == 0 {
		// The org's clock stands still unless a test moves it, so events
		// must be visible at once; tests of the delay set their own.
		so.LogDelay = -1
	}
	so.Prefix = testPrefix
	so.Tokens = []string{testToken}
	so.TokensWithoutLogs = []string{testTokenNoLogs}
	srv := oktafake.NewServer(org, so)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	token := testToken
	if fo.noLogs {
		token = testTokenNoLogs
	}
	client, err := okta.NewClient(hs.URL+testPrefix, okta.NewTokenAuth(token), okta.Options{
		RetryBaseDelay: time.Millisecond,
		MaxConcurrency: 8,
		Logger:         zerolog.Nop(),
	})
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	return &fixture{org: org, srv: srv, clock: clk, client: client}
}

// mustFull runs a full sync with s and fails the test if it fails.
func mustFull(ctx context.Context, t *testing.T, s *Syncer) *State {
	t.Helper()
	st, _, err := s.Full(ctx)
	if err != nil {
		t.Fatalf("full sync: %v", err)
	}
	return st
}

// fullSynced makes a syncer over the fixture with opts and returns it with
// the state of a first full sync.
func (f *fixture) fullSynced(ctx context.Context, t *testing.T, opts Options) (*Syncer, *State) {
	t.Helper()
	s := f.syncer(opts)
	return s, mustFull(ctx, t, s)
}

// mustIncremental runs an incremental sync from st with s and fails the
// test if it fails.
func mustIncremental(ctx context.Context, t *testing.T, s *Syncer, st *State) *State {
	t.Helper()
	next, _, err := s.Incremental(ctx, st)
	if err != nil {
		t.Fatalf("incremental sync: %v", err)
	}
	return next
}

// deleteLastGroup deletes the last group of st from the fake org and
// returns its id.
func (f *fixture) deleteLastGroup(t *testing.T, st *State) string {
	t.Helper()
	id := st.Groups()[len(st.Groups())-1].ID
	if err := f.org.DeleteGroup(id); err != nil {
		t.Fatal(err)
	}
	return id
}

func (f *fixture) syncer(opts Options) *Syncer {
	return New(f.client, opts, zerolog.Nop())
}
