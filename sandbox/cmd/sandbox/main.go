// Command sandbox serves a world (an organisation's AWS and Entra sides)
// over the real wire protocols, and plays the IAM Identity Center console
// steps that no public AWS API offers:
//
//	sandbox serve --world world.json      # prints its endpoints and a worker's environment
//	sandbox console switch-identity-source -o sp.xml
//
// It is the simulator: the product's binaries (worker, starter) never link it.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCommand(os.Stdout, os.Stderr, os.Getenv).ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func newRootCommand(stdout, stderr io.Writer, getenv func(string) string) *cobra.Command {
	root := &cobra.Command{
		Use:   "sandbox",
		Short: "The simulated AWS and Microsoft side of a cutover: serve a world, play the console steps",
		Long: `sandbox serves an organisation (a world file, or the sample) over the real
AWS (identitystore, sso-admin, IAM, Secrets Manager, SCIM) and Microsoft Graph
protocols, so that the worker and the starter run unchanged against it with
only their endpoints changed; and it plays the IAM Identity Center console
steps of a cutover, which have no public API, against a running sandbox.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(serveCommand(stdout), consoleCommand(stdout, getenv))
	return root
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
