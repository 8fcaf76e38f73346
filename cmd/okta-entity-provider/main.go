package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// version and revision are set at build time with -ldflags
// "-X main.version=... -X main.revision=...": the Dockerfile does, as a
// container build has no repository for Go to read the commit from.
var (
	version  = "dev"
	revision = ""
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	if code, ok := errors.AsType[exitCode](err); ok {
		// A result told by the exit code (preview), not a failure.
		stop()
		os.Exit(int(code))
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "okta-entity-provider: %v\n", err)
		os.Exit(1)
	}
}
