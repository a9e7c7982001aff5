// Command demo runs a whole cutover on this machine with nothing to set up:
// a Temporal dev server, the sandbox serving a sample organisation (or a
// world file), a worker pointed at it, and a person played at each gate.
// `make demo` builds and runs it. It is part of the simulator: the
// product's binaries (worker, starter) never link it.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newDemoCommand(os.Stdout, os.Stderr, os.Getenv).ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}
