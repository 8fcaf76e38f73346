package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	oktaentityprovider "github.com/okta-entity-provider/okta-entity-provider"
	"github.com/okta-entity-provider/okta-entity-provider/api"
	"github.com/okta-entity-provider/okta-entity-provider/internal/backstage"
	"github.com/okta-entity-provider/okta-entity-provider/internal/eventhook"
	"github.com/okta-entity-provider/okta-entity-provider/internal/metrics"
	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
	"github.com/okta-entity-provider/okta-entity-provider/internal/oktafake"
	"github.com/okta-entity-provider/okta-entity-provider/internal/orgsync"
	"github.com/okta-entity-provider/okta-entity-provider/internal/pgstore"
	"github.com/okta-entity-provider/okta-entity-provider/internal/provider"
)

// demoToken is the API token the built-in demo org accepts.
const demoToken = "demo-token"

// run is the whole program: it loads the configuration, wires the Okta
// client, the provider and the HTTP server, and runs until ctx is
// cancelled, then shuts down gracefully. Only invalid configuration (or a
// listen address that cannot be bound) makes it return an error; Okta
// being unreachable is reported on /status and retried.
//
// Once the server listens, run logs "listening" with the bound address in
// the field "addr" (useful with LISTEN_ADDR=127.0.0.1:0).
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	build := currentBuild()
	if len(args) > 0 {
		switch args[0] {
		case "healthcheck":
			return healthcheck(ctx, args[1:], getenv, stdout)
		case "preview":
			return preview(ctx, args[1:], getenv, stdout, stderr)
		case "version":
			return printVersion(stdout, build)
		}
	}
	cfg, err := loadConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if cfg.printVersion {
		return printVersion(stdout, build)
	}
	log := newLogger(cfg, stdout)
	log.Info().Str("version", build.Version).Str("revision", build.Revision).Bool("modified", build.Modified).
		Dict("config", cfg.logDict()).Msg("starting")
	if limit, from := containerMemoryLimit(getenv, os.ReadFile); limit > 0 {
		debug.SetMemoryLimit(limit)
		log.Info().Int64("bytes", limit).Float64("share", memoryLimitShare).Str("from", from).
			Msg("soft memory limit set from the container's memory limit; set GOMEMLIMIT to choose another")
	}
	shared, err := openShared(cfg, log)
	if err != nil {
		return err
	}
	if shared != nil {
		// Closed last, after the sync and the server that use it.
		defer shared.Close()
	}
	// In shared mode the state is in the database, not in DATA_DIR.
	stateDir, statePath := "", ""
	if shared == nil {
		stateDir = cfg.DataDir
		if statePath, err = stateFile(cfg.DataDir); err != nil {
			return err
		}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := metrics.New(reg)
	m.Build(build.Version, build.Revision, build.GoVersion)

	// With the orgs list, each org has its client in pcfg.Orgs and New
	// takes none.
	pcfg := cfg.providerConfig(statePath)
	client, stopDemo, err := cfg.oktaSources(log, m, &pcfg, stateDir)
	if err != nil {
		return err
	}
	// Stopped last, after the sync that reads from it.
	defer stopDemo()
	if len(cfg.Orgs) > 0 {
		log.Info().Int("orgs", len(pcfg.Orgs)).Msg("serving the orgs of CONFIG_FILE in one catalog")
	}
	removeTemporary(log, &pcfg)
	var notifier *backstage.Notifier
	pcfg.Shared = shared
	if cfg.BackstageURL != "" {
		bc, err := backstage.NewClient(cfg.BackstageURL, cfg.BackstageToken, cfg.BackstageTarget, nil)
		if err != nil {
			return fmt.Errorf("invalid BACKSTAGE_URL, BACKSTAGE_TOKEN or BACKSTAGE_LOCATION_TARGET: %w", err)
		}
		notifier = backstage.NewNotifier(log.With().Str("component", "backstage").Logger(), bc, m)
		pcfg.Changed = notifier.Notify
	}
	prov := provider.New(log.With().Str("component", "sync").Logger(), client, pcfg, m)
	src := &statusSource{Provider: prov, notifier: notifier}
	apiCfg := api.Config{EntitiesToken: cfg.EntitiesToken, AdminToken: cfg.AdminToken, WriteTimeout: writeTimeout, Observer: m}
	switch {
	case cfg.EventHookSecret != "" && len(cfg.Orgs) > 0:
		// Each org's hook at /hooks/okta/<name>, with the one secret.
		apiCfg.EventHookSecret, apiCfg.OrgHooks = cfg.EventHookSecret, map[string]api.HookReceiver{}
		src.orgHooks = map[string]*eventhook.Receiver{}
		for _, o := range cfg.Orgs {
			target, _ := prov.OrgHints(o.Name)
			h := eventhook.NewReceiver(log.With().Str("component", "hooks").Str("org", o.Name).Logger(), target, m.OrgHooks(o.Name))
			src.orgHooks[o.Name], apiCfg.OrgHooks[o.Name] = h, h
		}
	case cfg.EventHookSecret != "":
		src.hooks = eventhook.NewReceiver(log.With().Str("component", "hooks").Logger(), prov, m)
		apiCfg.EventHookSecret, apiCfg.Hooks = cfg.EventHookSecret, src.hooks
	}

	handler := api.NewServer(log.With().Str("component", "http").Logger(), src,
		promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}), oktaentityprovider.OpenAPI, apiCfg)

	tcp, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("cannot listen on LISTEN_ADDR %s: %w; choose a free address such as :8080", cfg.ListenAddr, err)
	}
	ln := newLimitListener(tcp, cfg.MaxConnections, connectionWait, m)
	srv := newHTTPServer(handler, log)
	log.Info().Str("addr", ln.Addr().String()).Int("maxConnections", cfg.MaxConnections).Msg("listening")

	var wg sync.WaitGroup
	serveErr := make(chan error, 1)
	wg.Go(func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			serveErr <- err
		}
	})
	syncCtx, stopSync := context.WithCancel(ctx)
	defer stopSync()
	wg.Go(func() { _ = prov.Run(syncCtx) })
	if notifier != nil {
		wg.Go(func() { _ = notifier.Run(syncCtx) })
	}

	select {
	case <-ctx.Done():
		log.Info().Msg("shutting down: finishing in-flight requests")
	case err = <-serveErr:
		err = fmt.Errorf("http server: %w", err)
		log.Error().Err(err).Msg("shutting down")
	}
	stopSync()
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if serr := srv.Shutdown(shutdownCtx); serr != nil {
		log.Warn().Err(serr).Msg("in-flight requests did not finish within SHUTDOWN_TIMEOUT; closing them")
		srv.Close()
	}
	wg.Wait()
	log.Info().Msg("stopped")
	return err
}

// openShared opens the shared store when DATABASE_URL is set (shared
// mode); nil otherwise. It does not connect: the database may be down at
// start, and the provider retries.
func openShared(cfg *config, log zerolog.Logger) (*pgstore.Store, error) {
	if cfg.DatabaseURL == "" {
		return nil, nil
	}
	id := cfg.ReplicaID
	if id == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "replica"
		}
		id = host + "-" + strconv.FormatUint(rand.Uint64()&0xffffff, 16)
	}
	store, err := pgstore.Open(cfg.DatabaseURL, pgstore.Options{Replica: id, LeaseTTL: cfg.LeaseTTL})
	if err != nil {
		return nil, fmt.Errorf("invalid DATABASE_URL: %w; give a PostgreSQL URL such as postgres://user:password@host:5432/database", err)
	}
	if cfg.DataDir != "" {
		log.Warn().Msg("DATA_DIR is not used in shared mode: the state is kept in the database at DATABASE_URL")
	}
	log.Info().Str("replicaId", id).Dur("leaseTTL", store.LeaseTTL()).
		Msg("shared mode: replicas share the state in PostgreSQL; the lease holder syncs, all serve its generations")
	return store, nil
}

// stateFile returns the sync state file under dataDir, "" when dataDir is
// empty, after making sure the directory exists and is writable, so that a
// volume mounted read-only or owned by another user fails at start rather
// than at the first save.
func stateFile(dataDir string) (string, error) {
	if dataDir == "" {
		return "", nil
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", fmt.Errorf("invalid DATA_DIR: %w; give a writable directory (in a container, mount a volume there) or leave DATA_DIR empty", err)
	}
	f, err := os.CreateTemp(dataDir, ".write-check-*")
	if err != nil {
		return "", fmt.Errorf("invalid DATA_DIR: %s is not writable: %w; make it writable by the service's user or leave DATA_DIR empty", dataDir, err)
	}
	f.Close()
	os.Remove(f.Name())
	return filepath.Join(dataDir, stateFileName), nil
}

// stateFileName is the sync state file's name in DATA_DIR.
const stateFileName = "sync-state.bin"

// writeTimeout is how long an answer may take to write. Entity bodies can
// be many megabytes: their answers extend it by the time the body takes at
// a slow reader's rate (api.Config.MinWriteRate), so that a normal read of
// a large catalog finishes and a client that stops reading is cut off.
const writeTimeout = 30 * time.Second

// newHTTPServer returns the server with its timeouts: slow or idle clients
// are cut off by them.
func newHTTPServer(h http.Handler, log zerolog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          stdLogger(log.With().Str("component", "http").Logger()),
	}
}

// startDemo serves the built-in demo org on a loopback port and returns its
// URL and a function that stops it and waits for its goroutine. Only the
// Okta API is served: the fake's admin API (org changes, fault injection)
// is left out, since anything that reaches the loopback port could use it.
func startDemo(log zerolog.Logger) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("demo mode: cannot listen on a loopback port: %w", err)
	}
	fake := oktafake.NewServer(oktafake.DemoOrg(), oktafake.Options{Tokens: []string{demoToken}, NoAdmin: true})
	srv := &http.Server{Handler: fake, ReadHeaderTimeout: 10 * time.Second}
	var wg sync.WaitGroup
	wg.Go(func() { _ = srv.Serve(ln) })
	url := "http://" + ln.Addr().String()
	log.Warn().Str("oktaOrgURL", url).
		Msg("DEMO MODE: serving the built-in demo org from a fake Okta, not a real one; set OKTA_ORG_URL and OKTA_TOKEN (or OKTA_CLIENT_ID and OKTA_PRIVATE_KEY) to sync your org")
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		wg.Wait()
	}
	return url, stop, nil
}

// oktaOrg returns the URL of the Okta org and the credentials for it, and
// a function that stops the built-in demo org when that is the org (it
// does nothing otherwise).
func (c *config) oktaOrg(log zerolog.Logger) (string, okta.Authenticator, func(), error) {
	if c.demo {
		url, stop, err := startDemo(log)
		if err != nil {
			return "", nil, nil, err
		}
		return url, okta.NewTokenAuth(demoToken), stop, nil
	}
	auth, err := c.authenticator()
	if err != nil {
		return "", nil, nil, err
	}
	return c.OrgURL, auth, func() {}, nil
}

// removeTemporary removes the temporary state files an earlier run left
// when it stopped while saving, of the one org or of each org in pcfg.
// It runs before the provider reads the state: none of its saves runs yet.
func removeTemporary(log zerolog.Logger, pcfg *provider.Config) {
	paths := []string{pcfg.StatePath}
	if len(pcfg.Orgs) > 0 {
		paths = paths[:0]
		for _, o := range pcfg.Orgs {
			paths = append(paths, o.StatePath)
		}
	}
	for _, path := range paths {
		if path == "" {
			continue
		}
		removed, err := orgsync.RemoveTemporary(path)
		if len(removed) > 0 {
			log.Info().Strs("files", removed).Msg("removed temporary state files left by an earlier run that stopped while saving")
		}
		if err != nil {
			log.Warn().Err(err).Msg("cannot remove temporary state files left by an earlier run; remove them by hand")
		}
	}
}

// oktaSources returns what the provider reads Okta through: with the
// config file's orgs, each org's client in pcfg.Orgs, its state file in
// stateDir ("" keeps none), and a nil client; else the client of the one
// org (the demo org, started, when no Okta settings are given), with the
// function that stops the demo org. m may be nil.
func (c *config) oktaSources(log zerolog.Logger, m *metrics.Metrics, pcfg *provider.Config, stateDir string) (provider.Okta, func(), error) {
	if len(c.Orgs) > 0 {
		orgs, err := c.providerOrgs(log, m, stateDir)
		pcfg.Orgs = orgs
		return nil, func() {}, err
	}
	orgURL, auth, stopDemo, err := c.oktaOrg(log)
	if err != nil {
		return nil, nil, err
	}
	var obs okta.Observer
	if m != nil {
		obs = m
	}
	client, err := c.oktaClient(orgURL, auth, log, obs)
	if err != nil {
		stopDemo()
		return nil, nil, err
	}
	return client, stopDemo, nil
}

// oktaClient returns the Okta client for the org of OKTA_ORG_URL (or the
// demo org) at orgURL; obs may be nil.
func (c *config) oktaClient(orgURL string, auth okta.Authenticator, log zerolog.Logger, obs okta.Observer) (*okta.Client, error) {
	client, err := c.newOktaClient(orgURL, auth, log, obs)
	if err != nil {
		return nil, fmt.Errorf("invalid OKTA_ORG_URL: %w", err)
	}
	return client, nil
}

// newOktaClient returns an Okta client with the client settings, which
// apply to every org's client; obs may be nil.
func (c *config) newOktaClient(orgURL string, auth okta.Authenticator, log zerolog.Logger, obs okta.Observer) (*okta.Client, error) {
	client, err := okta.NewClient(orgURL, auth, okta.Options{
		MaxConcurrency: c.MaxConcurrency,
		MaxRetries:     c.MaxRetries,
		RequestTimeout: c.RequestTimeout,
		RateShare:      c.RateShare,
		UserAgent:      "okta-entity-provider/" + currentBuild().Version,
		Logger:         log.With().Str("component", "okta").Logger(),
		Observer:       obs,
	})
	if err != nil {
		return nil, errors.New(strings.TrimPrefix(err.Error(), "okta: "))
	}
	return client, nil
}

// providerConfig returns the provider's configuration, with the sync state
// kept in statePath ("" for none).
func (c *config) providerConfig(statePath string) provider.Config {
	settings := c.settings()
	return provider.Config{
		Interval:           c.SyncInterval,
		Timeout:            c.SyncTimeout,
		FullInterval:       c.FullSyncInterval,
		DeletionCheckEvery: c.DeletionCheck,
		AppIDs:             c.AppIDs,
		AppGroupsOnly:      c.AppGroupsOnly,
		StatePath:          statePath,
		Users:              okta.UserListOptions{Filter: c.UserFilter, Search: c.UserSearch},
		Groups:             okta.GroupListOptions{Filter: c.GroupFilter, Search: c.GroupSearch},
		Catalog:            c.catalogOptions(),
		Shards:             c.EntityShards,
		MemberConcurrency:  c.MaxConcurrency,
		MaxDeleteShare:     c.MaxDeleteShare,
		AcceptDeletions:    c.AcceptDeletions,
		SettingName:        func(knob string) string { return settingName(settings, knob) },
	}
}

// authenticator returns the Okta credentials: an API token, or an OAuth
// service app whose key is parsed here so a bad key fails at start.
func (c *config) authenticator() (okta.Authenticator, error) {
	if c.ClientID == "" {
		return okta.NewTokenAuth(c.Token), nil
	}
	auth, err := okta.NewOAuth(okta.OAuthConfig{
		ClientID:   c.ClientID,
		PrivateKey: []byte(c.PrivateKey),
		KeyID:      c.KeyID,
		Scopes:     c.Scopes,
	})
	if err != nil {
		name := "OKTA_PRIVATE_KEY"
		if c.PrivateKeyFile != "" {
			name = "OKTA_PRIVATE_KEY_FILE"
		}
		return nil, fmt.Errorf("invalid %s: %s; give the service app's private key as PEM (PKCS#1, PKCS#8, SEC1) or JWK", name,
			strings.TrimPrefix(err.Error(), "okta: "))
	}
	return auth, nil
}

// newLogger returns the service's logger, writing JSON or console lines to w.
func newLogger(cfg *config, w io.Writer) zerolog.Logger {
	if cfg.LogFormat == "console" {
		w = zerolog.ConsoleWriter{Out: w, NoColor: true, TimeFormat: time.RFC3339}
	}
	return zerolog.New(w).Level(cfg.LogLevel).With().Timestamp().Logger()
}
