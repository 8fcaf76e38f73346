package pgstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/pgtest"
)

func TestHints(t *testing.T) {
	pg := pgtest.Start(t)
	ctx := context.Background()
	url := pg.CreateDatabase(t, "hints")
	follower, leader := open(t, url, "f", time.Second), open(t, url, "l", time.Second)
	if _, err := follower.Migrate(ctx); err != nil {
		t.Fatal(err)
	}

	t.Run("forwarded hints are drained once, merged, and notify", func(t *testing.T) {
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		ch := make(chan struct{}, 1)
		go leader.Watch(wctx, ch, 100*time.Millisecond)
		<-ch // listening
		at := time.Now().UTC().Truncate(time.Microsecond)
		for i, h := range []Hint{{Users: []string{"u1"}, Published: []time.Time{at}}, {Groups: []string{"g1"}}} {
			if ok, err := follower.ForwardHint(ctx, h); err != nil || !ok {
				t.Fatalf("forward %d: got %v, %v; want stored", i, ok, err)
			}
		}
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
			t.Fatal("no notification of a forwarded hint")
		}
		h, n, err := leader.DrainHints(ctx)
		if err != nil || n != 2 || len(h.Users) != 1 || len(h.Groups) != 1 || len(h.Published) != 1 || !h.Published[0].Equal(at) || h.Truncated {
			t.Errorf("drain: got %+v, %d, %v; want u1, g1, one time, 2 rows", h, n, err)
		}
		if _, n, err := leader.DrainHints(ctx); err != nil || n != 0 {
			t.Errorf("second drain: got %d, %v; want 0 rows", n, err)
		}
	})

	t.Run("a flood is bounded", func(t *testing.T) {
		many := make([]string, MaxHintTargets+1)
		for i := range many {
			many[i] = fmt.Sprint("u", i)
		}
		times := make([]time.Time, MaxHintTimes+5)
		if ok, err := follower.ForwardHint(ctx, Hint{Users: many, Published: times}); err != nil || !ok {
			t.Fatalf("forward: got %v, %v; want stored", ok, err)
		}
		for range MaxHintRows - 1 {
			if ok, err := follower.ForwardHint(ctx, Hint{}); err != nil || !ok {
				t.Fatalf("forward: got %v, %v; want stored", ok, err)
			}
		}
		if ok, err := follower.ForwardHint(ctx, Hint{Users: []string{"x"}}); err != nil || ok {
			t.Errorf("forward to a full table: got %v, %v; want dropped", ok, err)
		}
		h, n, err := leader.DrainHints(ctx)
		if err != nil || n != MaxHintRows || len(h.Users) != 0 || !h.Truncated || len(h.Published) != MaxHintTimes {
			t.Errorf("drain: got %d users, %d times, truncated %v, %d rows, %v; want 0, %d, true, %d",
				len(h.Users), len(h.Published), h.Truncated, n, err, MaxHintTimes, MaxHintRows)
		}
	})
}
