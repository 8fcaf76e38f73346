package pgstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/pgtest"
)

// open returns a store of replica id on url, closed when the test ends.
func open(t *testing.T, url, id string, ttl time.Duration) *Store {
	t.Helper()
	s, err := Open(url, Options{Replica: id, LeaseTTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestStore(t *testing.T) {
	pg := pgtest.Start(t)
	ctx := context.Background()

	t.Run("migrations run once when replicas start together", func(t *testing.T) {
		url := pg.CreateDatabase(t, "migrate")
		var wg sync.WaitGroup
		applied := make([][]string, 4)
		errs := make([]error, 4)
		for i := range applied {
			s := open(t, url, fmt.Sprint("r", i), time.Second)
			wg.Go(func() { applied[i], errs[i] = s.Migrate(ctx) })
		}
		wg.Wait()
		total := 0
		for i, err := range errs {
			if err != nil {
				t.Fatalf("replica %d: %v", i, err)
			}
			total += len(applied[i])
		}
		if ms, _ := loadMigrations(); total != len(ms) {
			t.Errorf("got %d migrations applied in all, want %d (each once)", total, len(ms))
		}
	})

	t.Run("one leader, fenced writes, stale bases and acceptance", func(t *testing.T) {
		url := pg.CreateDatabase(t, "lead")
		const ttl = 2 * time.Second
		a, b := open(t, url, "a", ttl), open(t, url, "b", ttl)
		if _, err := a.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		la, err := a.Campaign(ctx, 0)
		if err != nil || !la.Mine || la.Epoch != 1 {
			t.Fatalf("a's campaign: got %+v, %v; want the lease at epoch 1", la, err)
		}
		lb, err := b.Campaign(ctx, 0)
		if err != nil || lb.Mine || lb.Holder != "a" {
			t.Fatalf("b's campaign: got %+v, %v; want a to hold the lease", lb, err)
		}
		gen, err := a.Publish(ctx, la.Epoch, 0, &Record{State: []byte("s1"), Snapshot: []byte("snap1")})
		if err != nil || gen != 1 {
			t.Fatalf("publish: got %d, %v; want generation 1", gen, err)
		}
		if _, err := b.Publish(ctx, la.Epoch, 1, &Record{Snapshot: []byte("x")}); !errors.Is(err, ErrFenced) {
			t.Errorf("a non-holder's publish: got %v, want ErrFenced", err)
		}
		if _, err := a.Publish(ctx, la.Epoch, 0, &Record{Snapshot: []byte("x")}); !errors.Is(err, ErrStale) {
			t.Errorf("a publish from an old base: got %v, want ErrStale", err)
		}
		// A held snapshot, accepted through the follower.
		// Info is the caller's: here the ETag itself.
		held := &Held{State: []byte("s2"), Snapshot: []byte("snap2"), Info: []byte(`"e2"`), Since: time.Now()}
		if gen, err = a.Publish(ctx, la.Epoch, 1, &Record{State: []byte("s1"), Snapshot: []byte("snap1"), Held: held}); err != nil || gen != 2 {
			t.Fatalf("publish with a hold: got %d, %v", gen, err)
		}
		etagOf := func(info []byte) string { return string(info) }
		if h, _, err := b.Accept(ctx, `"e1"`, etagOf); h != `"e2"` || err != nil {
			t.Fatalf("accept of another snapshot: got %s, %v; want the held \"e2\" and nothing accepted", h, err)
		}
		h, gen, err := b.Accept(ctx, `"e2"`, etagOf)
		if err != nil || h != `"e2"` || gen != 3 {
			t.Fatalf("accept: got %s, %d, %v; want \"e2\" accepted at generation 3", h, gen, err)
		}
		r, err := b.Load(ctx, 0)
		if err != nil || r == nil || string(r.Snapshot) != "snap2" || string(r.State) != "s2" || r.Held != nil {
			t.Fatalf("after accept: got %+v, %v; want snap2 and s2 served, nothing held", r, err)
		}
		if h, _, err := b.Accept(ctx, `"e2"`, etagOf); h != "" || err != nil {
			t.Errorf("accept with nothing held: got %q, %v; want \"\", nil", h, err)
		}
		if r, err := b.Load(ctx, 3); r != nil || err != nil {
			t.Errorf("load after the latest: got %+v, %v; want nil", r, err)
		}
		// The leader's write from before the acceptance is stale.
		if err := a.SaveState(ctx, la.Epoch, 2, []byte("old")); !errors.Is(err, ErrStale) {
			t.Errorf("save from a base before the acceptance: got %v, want ErrStale", err)
		}

		// a stops renewing: after the TTL, b takes over at a new epoch, and
		// a's writes are fenced.
		deadline := time.Now().Add(5 * ttl)
		for {
			lb, err = b.Campaign(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			if lb.Mine || time.Now().After(deadline) {
				break
			}
			time.Sleep(ttl / 4)
		}
		if !lb.Mine || lb.Epoch != 2 {
			t.Fatalf("b's campaign after a's lease expired: got %+v, want the lease at epoch 2", lb)
		}
		if _, err := a.Publish(ctx, la.Epoch, 3, &Record{Snapshot: []byte("late")}); !errors.Is(err, ErrFenced) {
			t.Errorf("the old leader's publish: got %v, want ErrFenced", err)
		}
		if l, err := a.Campaign(ctx, la.Epoch); err != nil || l.Mine {
			t.Errorf("the old leader's renewal: got %+v, %v; want b to hold the lease", l, err)
		}
		// A release hands over at once.
		if err := b.Release(ctx, lb.Epoch); err != nil {
			t.Fatal(err)
		}
		if l, err := a.Campaign(ctx, 0); err != nil || !l.Mine || l.Epoch != 3 {
			t.Errorf("campaign after a release: got %+v, %v; want the lease at epoch 3", l, err)
		}
		if h := a.Health(); !h.Up || h.Outages != 0 {
			t.Errorf("health: got %+v, want up with no outage", h)
		}
	})

	t.Run("watch signals publications and outages are seen", func(t *testing.T) {
		url := pg.CreateDatabase(t, "watch")
		a, b := open(t, url, "a", time.Second), open(t, url, "b", time.Second)
		if _, err := a.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		ch := make(chan struct{}, 1)
		done := make(chan struct{})
		go func() { b.Watch(wctx, ch, 100*time.Millisecond); close(done) }()
		defer func() { cancel(); <-done }()
		wait := func(what string) {
			t.Helper()
			select {
			case <-ch:
			case <-time.After(10 * time.Second):
				t.Fatalf("no signal for %s", what)
			}
		}
		wait("the first connection")
		l, err := a.Campaign(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Publish(ctx, l.Epoch, 0, &Record{Snapshot: []byte("s")}); err != nil {
			t.Fatal(err)
		}
		wait("a publication")

		if err := pg.Stop(); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Head(ctx); err == nil {
			t.Fatal("got a head from a stopped database")
		}
		if h := a.Health(); h.Up || h.DownSince.IsZero() || h.Outages != 1 {
			t.Errorf("health while stopped: got %+v, want down since now, one outage", h)
		}
		if err := pg.Start(); err != nil {
			t.Fatal(err)
		}
		wait("the reconnection")
		if _, err := a.Head(ctx); err != nil {
			t.Fatal(err)
		}
		if h := a.Health(); !h.Up || h.LastOutage <= 0 {
			t.Errorf("health after the restart: got %+v, want up, with the outage's length", h)
		}
	})
}
