package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/asynctest"
)

// connCounts is a connObserver that counts.
type connCounts struct{ opened, closed, refused atomic.Int64 }

func (c *connCounts) ConnectionOpened()  { c.opened.Add(1) }
func (c *connCounts) ConnectionClosed()  { c.closed.Add(1) }
func (c *connCounts) ConnectionRefused() { c.refused.Add(1) }

func TestLimitListener(t *testing.T) {
	t.Parallel()
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var counts connCounts
	ln := newLimitListener(tcp, 2, 200*time.Millisecond, &counts)
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	dial := func() net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", tcp.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	next := func(what string) net.Conn {
		t.Helper()
		select {
		case c := <-accepted:
			return c
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: not accepted within 10s", what)
			return nil
		}
	}

	dial()
	first := next("the first connection")
	dial()
	next("the second connection")

	// Over the limit: closed unanswered once the wait is over.
	third := dial()
	_ = third.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := third.Read(make([]byte, 1)); !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !isReset(err) {
		t.Fatalf("the connection over the limit: got read error %v, want it closed", err)
	}
	if got := counts.refused.Load(); got != 1 {
		t.Errorf("refused: got %d, want 1", got)
	}

	// A closed connection gives its slot back, once however often it is
	// closed; a connection waiting for one gets it.
	fourth := dial()
	first.Close()
	first.Close()
	next("the connection waiting when one closed")
	if _, err := io.WriteString(fourth, "x"); err != nil {
		t.Errorf("the admitted connection: %v", err)
	}
	if got, want := counts.opened.Load()-counts.closed.Load(), int64(2); got != want {
		t.Errorf("open: got %d, want %d", got, want)
	}

	// Closing the listener refuses a connection waiting for a slot at once.
	dial()
	time.Sleep(50 * time.Millisecond) // let Accept start waiting
	ln.Close()
	select {
	case _, ok := <-accepted:
		if ok {
			t.Error("a connection was admitted after the listener closed")
		}
	case <-time.After(10 * time.Second):
		t.Error("Accept did not return within 10s of Close")
	}
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

// TestRunLimitsConnections runs the service with MAX_CONNECTIONS=2: while
// two keep-alive connections are open a third is refused, and counted;
// once one closes, requests are answered again.
func TestRunLimitsConnections(t *testing.T) {
	t.Parallel()
	s := startService(t, map[string]string{"MAX_CONNECTIONS": "2", "SYNC_INTERVAL": "1h"})
	addr := strings.TrimPrefix(s.base, "http://")
	hold := func() net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("a held connection: %v", err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return c
	}
	first := hold()
	hold()

	client := &http.Transport{DisableKeepAlives: true}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.base+"/healthz", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := client.RoundTrip(req); err == nil {
		res.Body.Close()
		t.Fatalf("a third connection: got status %d, want it refused", res.StatusCode)
	}

	first.Close()
	get := func(path string) (int, string, error) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := client.RoundTrip(req)
		if err != nil {
			return 0, "", err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		return res.StatusCode, string(b), err
	}
	asynctest.WaitFor(t, 10*time.Second, "an answer after a connection closed", func() bool {
		status, _, err := get("/healthz")
		return err == nil && status == http.StatusOK
	})
	status, metrics, err := get("/metrics")
	if err != nil || status != http.StatusOK {
		t.Fatalf("GET /metrics: got %d, %v", status, err)
	}
	for _, want := range []string{"okta_entity_provider_http_connections_refused_total 1\n", "okta_entity_provider_http_connections_open 2\n"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics: got no %q in\n%s", want, metrics)
		}
	}
}
