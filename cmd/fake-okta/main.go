package main

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/oktafake"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "fake-okta:", err)
		os.Exit(1)
	}
}

// run parses the flags, generates or builds the org, and serves it until
// ctx is cancelled.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	defaultAddr := getenv("FAKE_OKTA_ADDR")
	if defaultAddr == "" {
		defaultAddr = "127.0.0.1:9999"
	}
	var (
		addr        = fs.String("addr", defaultAddr, "listen address (env FAKE_OKTA_ADDR)")
		demo        = fs.Bool("demo", false, "serve the small demo org instead of a generated one")
		users       = fs.Int("users", 1000, "generated users")
		groups      = fs.Int("groups", 100, "generated groups, Everyone included")
		perUser     = fs.Int("memberships", 3, "average group memberships per user, Everyone not counted")
		seed        = fs.Int64("seed", 1, "generator and fault seed")
		prefix      = fs.String("prefix", "", "serve under this path prefix")
		tokens      = fs.String("tokens", "demo-token", "accepted API tokens, comma-separated")
		latency     = fs.Duration("latency", 0, "delay added to every API response")
		concurrency = fs.Int("concurrency", 0, "concurrent API request limit (0: none; Okta's default is 75)")
		errorRate   = fs.Float64("error-rate", 0, "share of API requests answered 500")
		rateUsers   = fs.Int("rate-users", 0, "requests per window for /api/v1/users (0: unlimited)")
		rateGroups  = fs.Int("rate-groups", 0, "requests per window for /api/v1/groups (0: unlimited)")
		rateLogs    = fs.Int("rate-logs", 0, "requests per window for /api/v1/logs (0: unlimited)")
		rateApps    = fs.Int("rate-apps", 0, "requests per window for /api/v1/apps (0: unlimited; Okta's Workforce limit is 100)")
		rateOther   = fs.Int("rate-other", 0, "requests per window for other endpoints (0: unlimited)")
		rateWindow  = fs.Duration("rate-window", time.Minute, "rate-limit window")
		oauthClient = fs.String("oauth-client-id", "", "register an OAuth service app with this client id")
		oauthKey    = fs.String("oauth-public-key", "", "PEM file with the OAuth app's public key (PKIX or certificate)")
		oauthDPoP   = fs.Bool("oauth-dpop", true, "require DPoP for the OAuth app")
		clockOffset = fs.Duration("clock-offset", 0, "run the fake's clock this far ahead of the wall clock (negative: behind)")
		logDelay    = fs.Duration("log-delay", oktafake.DefaultLogDelay, "how long an event takes to appear in the System Log (0: at once)")
		failPath    = fs.String("fail-path", "", "answer 500 to every API request whose path starts with this, e.g. /api/v1/logs")
		logError    = fs.String("log-error", "", "answer every System Log request with this error, STATUS or STATUS:CODE, e.g. 400:E0000053 or 500")
		fullLast    = fs.Bool("full-last-page-next", false, "give an exactly full last page a next link to an empty page")
		pastReset   = fs.Bool("past-reset", false, "send an X-Rate-Limit-Reset ten seconds before Date")
		badBodyRate = fs.Float64("bad-body-rate", 0, "share of 200 responses whose JSON body is cut in half")
		hostile     = fs.String("hostile", "", "misbehave as a broken or hostile Okta: "+hostileModes()+" (empty: behave)")
		hookURL     = fs.String("event-hook-url", "", "register an event hook delivering to this URL once it answers Okta's verification (retried every second)")
		hookHeader  = fs.String("event-hook-header", "Authorization", "the event hook's authentication header")
		hookSecret  = fs.String("event-hook-secret", "", "the event hook's authentication secret (env FAKE_OKTA_EVENT_HOOK_SECRET)")
		hookDelay   = fs.Duration("event-hook-delay", oktafake.DefaultHookDelay, "how long after an event its delivery is sent")
		hookDups    = fs.Float64("event-hook-duplicates", 0.1, "share of deliveries sent twice (0: never)")
		hookReorder = fs.Float64("event-hook-reorder", 0.1, "share of deliveries held back so that later ones overtake them (0: never)")
	)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *hookSecret == "" {
		*hookSecret = getenv("FAKE_OKTA_EVENT_HOOK_SECRET")
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	logErr, err := parseLogError(*logError)
	if err != nil {
		return fmt.Errorf("-log-error: %w", err)
	}
	faults := oktafake.Faults{FailPathPrefix: *failPath, FullLastPageNext: *fullLast, PastReset: *pastReset,
		BadBodyRate: *badBodyRate, LogError: logErr}
	if err := faults.Validate(); err != nil {
		return err
	}
	if *logDelay <= 0 {
		*logDelay = -1 // Options.LogDelay's "at once"
	}

	var hostileMode oktafake.HostileMode
	if *hostile != "" {
		if hostileMode, err = oktafake.ParseHostileMode(*hostile); err != nil {
			return fmt.Errorf("-hostile: %w", err)
		}
	}

	started := time.Now()
	var org *oktafake.Org
	if *demo {
		org = oktafake.DemoOrg()
	} else {
		org = oktafake.GenerateOrg(oktafake.OrgOptions{Users: *users, Groups: *groups, Seed: *seed, MembershipsPerUser: *perUser})
	}
	u, g, m := org.Counts()
	fmt.Fprintf(stdout, "fake-okta: org of %d users, %d groups, %d memberships in %s\n", u, g, m, time.Since(started).Round(time.Millisecond))

	srv := oktafake.NewServer(org, oktafake.Options{
		Prefix:           *prefix,
		Tokens:           splitList(*tokens),
		Latency:          *latency,
		ErrorRate:        *errorRate,
		ConcurrencyLimit: *concurrency,
		RateLimits:       map[string]int{"users": *rateUsers, "groups": *rateGroups, "logs": *rateLogs, "apps": *rateApps, "other": *rateOther},
		RateWindow:       *rateWindow,
		ClockOffset:      *clockOffset,
		LogDelay:         *logDelay,
		Faults:           faults,
		Seed:             *seed,
	})
	if *oauthClient != "" {
		key, err := readPublicKey(*oauthKey)
		if err != nil {
			return fmt.Errorf("-oauth-public-key: %w", err)
		}
		srv.RegisterOAuthClient(*oauthClient, key, *oauthDPoP)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	var handler http.Handler = srv
	if hostileMode != "" {
		handler = oktafake.NewHostile(srv, hostileMode)
		fmt.Fprintf(stdout, "fake-okta: hostile mode %s\n", hostileMode)
	}
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "fake-okta: listening on http://%s%s\n", ln.Addr(), *prefix)

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	defer srv.Close()
	if *hookURL != "" {
		hook := oktafake.EventHook{URL: *hookURL, AuthHeader: *hookHeader, AuthValue: *hookSecret, Delay: oktafake.Duration(*hookDelay),
			DuplicateRate: negativeIfZero(*hookDups), ReorderRate: negativeIfZero(*hookReorder)}
		go registerHook(ctx, srv, hook, stdout)
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// registerHook registers the event hook once its URL answers the
// verification, trying every second until ctx ends, as an admin clicks
// Verify until the endpoint is up.
func registerHook(ctx context.Context, srv *oktafake.Server, h oktafake.EventHook, stdout io.Writer) {
	for {
		id, err := srv.RegisterEventHook(ctx, h)
		if err == nil {
			fmt.Fprintf(stdout, "fake-okta: event hook %s verified, delivering to %s\n", id, h.URL)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// negativeIfZero maps a flag's 0 ("never") to EventHook's negative.
func negativeIfZero(f float64) float64 {
	if f == 0 {
		return -1
	}
	return f
}

// parseLogError reads -log-error: empty, STATUS or STATUS:CODE.
func parseLogError(s string) (oktafake.ErrorResponse, error) {
	if s == "" {
		return oktafake.ErrorResponse{}, nil
	}
	status, code, _ := strings.Cut(s, ":")
	n, err := strconv.Atoi(status)
	if err != nil || n < 400 || n > 599 {
		return oktafake.ErrorResponse{}, fmt.Errorf("%q: want STATUS or STATUS:CODE with a 4xx or 5xx status, e.g. 400:E0000053", s)
	}
	return oktafake.ErrorResponse{Status: n, Code: code}, nil
}

// hostileModes lists the modes of -hostile, comma-separated.
func hostileModes() string {
	var names []string
	for _, m := range oktafake.HostileModes() {
		names = append(names, string(m))
	}
	return strings.Join(names, ", ")
}

func splitList(s string) []string {
	var out []string
	for v := range strings.SplitSeq(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// readPublicKey reads a PEM public key (PKIX) or certificate.
func readPublicKey(path string) (crypto.PublicKey, error) {
	if path == "" {
		return nil, errors.New("required with -oauth-client-id")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	switch block.Type {
	case "CERTIFICATE":
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse certificate: %w", err)
		}
		return cert.PublicKey, nil
	case "RSA PUBLIC KEY":
		return x509.ParsePKCS1PublicKey(block.Bytes)
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	return key, nil
}
