// Package command runs the bench commands' main: it cancels the run's
// context on SIGINT or SIGTERM, and prints a failed run's error after the
// command's name and exits 1. It owns no flags and no output of its own.
package command

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Main calls run with the process's arguments and standard output and error
// under a context cancelled by SIGINT or SIGTERM, and exits 1 when run fails.
func Main(name string, run func(ctx context.Context, args []string, stdout, stderr io.Writer) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}
