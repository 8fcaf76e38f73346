package asynctest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// recorder is a testing.TB that records its failures; Fatalf ends the
// calling goroutine as testing.T's does.
type recorder struct {
	testing.TB
	failures []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

// failures runs f with a recorder in a goroutine of its own, so that a
// Fatalf ends only that goroutine, and returns what f reported.
func failures(f func(t testing.TB)) []string {
	r := &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r.failures
}

func TestBuffer(t *testing.T) {
	t.Parallel()
	var b Buffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				fmt.Fprintln(&b, "line")
			}
		})
	}
	wg.Wait()
	if got := strings.Count(b.String(), "line\n"); got != 800 {
		t.Errorf("got %d lines, want 800", got)
	}
}

func TestWaitFor(t *testing.T) {
	t.Parallel()
	t.Run("holds after a few checks", func(t *testing.T) {
		t.Parallel()
		checks := 0
		got := failures(func(t testing.TB) {
			WaitFor(t, time.Minute, "the third check", func() bool { checks++; return checks == 3 })
		})
		if len(got) != 0 || checks != 3 {
			t.Errorf("got failures %q after %d checks, want none after 3", got, checks)
		}
	})
	t.Run("never holds", func(t *testing.T) {
		t.Parallel()
		got := failures(func(t testing.TB) {
			WaitFor(t, 50*time.Millisecond, "the impossible", func() bool { return false })
			t.Errorf("WaitFor returned")
		})
		want := []string{"timed out after 50ms waiting for the impossible"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("failures (-want +got):\n%s", diff)
		}
	})
}

func TestStop(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		result  func() error // what the goroutine returns once cancelled
		timeout time.Duration
		want    []string
	}{
		{"returns nil", func() error { return nil }, time.Minute, nil},
		{"returns an error", func() error { return errors.New("boom") }, time.Minute, []string{"run after cancel: got boom, want nil"}},
		{"never returns", func() error { select {} }, 50 * time.Millisecond, []string{"run did not return within 50ms of cancel"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				<-ctx.Done()
				done <- tc.result()
			}()
			got := failures(func(t testing.TB) { Stop(t, tc.timeout, "run", cancel, done) })
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("failures (-want +got):\n%s", diff)
			}
			if ctx.Err() == nil {
				t.Error("Stop did not cancel the context")
			}
		})
	}
}
