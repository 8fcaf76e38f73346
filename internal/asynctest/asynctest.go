// Package asynctest helps tests of code that runs in its own goroutines:
// a buffer such code may log to while the test reads it, a wait for a
// condition to come true, and a stop that cancels a goroutine and checks
// what it returns.
//
// Its timeouts bound how long a test waits for something that must
// happen; they are not measurements. It must not be imported by anything
// but tests and benchmarks.
package asynctest

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"
)

// Buffer is a bytes.Buffer safe for concurrent use, for the logs of code
// under test that writes from several goroutines. Its zero value is an
// empty buffer ready to use.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p to the buffer.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what has been written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// pollInterval is how often WaitFor checks its condition.
const pollInterval = 20 * time.Millisecond

// WaitFor checks cond until it holds, and fails t if it does not hold
// within timeout. what names the awaited state for the failure message,
// as in "waiting for <what>".
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(pollInterval)
	}
}

// Stop cancels the context of a goroutine that sends its result to done
// when it returns, and checks that it returns nil within timeout. what
// names the goroutine's function for the failure messages.
func Stop(t testing.TB, timeout time.Duration, what string, cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("%s after cancel: got %v, want nil", what, err)
		}
	case <-time.After(timeout):
		t.Fatalf("%s did not return within %s of cancel", what, timeout)
	}
}
