package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/rs/zerolog"
)

// healthcheck asks the running service on this machine whether it is alive
// (GET /healthz on the port of LISTEN_ADDR) and returns an error unless it
// answers 200. The container image has no shell, so its HEALTHCHECK runs
// the binary itself: okta-entity-provider healthcheck.
func healthcheck(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	addr := fs.String("listen-addr", "", "the service's LISTEN_ADDR (default from LISTEN_ADDR, else :8080)")
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait for the answer")
	fs.SetOutput(stdout)
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("healthcheck: unexpected argument %q; it takes only -listen-addr and -timeout", fs.Arg(0))
	}
	if *addr == "" {
		*addr = getenv("LISTEN_ADDR")
	}
	if *addr == "" {
		*addr = ":8080"
	}
	host, port, err := net.SplitHostPort(*addr)
	if err != nil {
		return fmt.Errorf("healthcheck: invalid LISTEN_ADDR %q: want host:port or :port", *addr)
	}
	if ip := net.ParseIP(host); host == "" || host == "localhost" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	url := "http://" + net.JoinHostPort(host, port) + "/healthz"
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	// The service is on this machine: never through HTTP_PROXY, which a
	// container may set for reaching Okta.
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: GET %s: %s", url, resp.Status)
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}

// stdLogger adapts zerolog for net/http's error log.
func stdLogger(l zerolog.Logger) *log.Logger {
	return log.New(l, "", 0)
}
