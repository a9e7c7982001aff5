// Command starter is how a person drives a cutover: start one from a request
// file, read its status and full preflight report, decide at its gates, and
// rotate the SCIM token afterwards. Its commands are in starter/cli; the
// local demo is a binary of its own (sandbox/cmd/demo), so this one never
// links the simulator.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/platformguide/ssocutover/starter/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := cli.NewRootCommand(os.Stdout, os.Stderr, os.Getenv)
	if err := root.ExecuteContext(ctx); err != nil {
		// doctor's report already said what is missing.
		if !errors.Is(err, cli.ErrNotReady) {
			fmt.Fprintln(os.Stderr, "error:", err)
		}
		os.Exit(1)
	}
}
