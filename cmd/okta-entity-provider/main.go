// Command okta-entity-provider keeps a Backstage catalog's User and Group
// entities in sync with Okta: it syncs users and groups from Okta on a
// schedule and serves them as multi-document YAML at /entities, for a
// Backstage url location.
//
// Usage:
//
//	okta-entity-provider [flags]
//	okta-entity-provider healthcheck [-listen-addr addr]
//
// Every setting is an environment variable with an equal flag
// (OKTA_ORG_URL = -okta-org-url); see docs/settings.md. With no Okta
// settings, or with -demo, it serves a built-in demo org.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "okta-entity-provider: %v\n", err)
		os.Exit(1)
	}
}
