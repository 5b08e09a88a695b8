// Command herd runs the reference stateless service and the tools that
// prove it: herd serve, herd migrate, herd cluster and herd prove.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/herdhq/herd/cluster"
	"github.com/herdhq/herd/prove"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "herd:", err)
		os.Exit(1)
	}
}

const usage = `herd runs a service as many identical, stateless replicas.

Usage:
  herd serve     run the reference service (herd serve --help lists every setting)
  herd migrate   apply the database migrations and exit
  herd cluster   run replicas behind HAProxy (up, status, rollout, kill, down)
  herd prove     prove a deployment stateless under restarts, crashes and outages
`

// run is herd's whole program, testable: ctx ends on SIGINT or SIGTERM.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("a command is required")
	}
	switch cmd, rest := args[1], args[2:]; cmd {
	case "serve":
		return serve(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		return migrate(ctx, rest, getenv, stdout, stderr)
	case "cluster":
		return cluster.Main(ctx, rest, getenv, stdout, stderr)
	case "prove":
		return prove.Main(ctx, rest, getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}
