package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "chartcheck: %v\n", err)
		os.Exit(1)
	}
}

// listFlag is a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("chartcheck", flag.ContinueOnError)
	chart := fs.String("chart", "../helm/okta-entity-provider", "the chart's directory")
	helmPath := fs.String("helm", "", "a helm binary; default: go tool helm (built from this module's helm.sh/helm/v4)")
	var values, sets listFlag
	fs.Var(&values, "f", "a values file (repeatable)")
	fs.Var(&sets, "set", "a value, key=value as helm --set takes it (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q; see -help", fs.Arg(0))
	}
	h, err := newHelm(*helmPath)
	if err != nil {
		return err
	}
	defer h.close()
	objs, err := h.check(ctx, *chart, values, sets)
	if err != nil {
		return err
	}
	for _, o := range objs {
		fmt.Printf("ok  %s %s\n", o.kind, o.name)
	}
	return nil
}
