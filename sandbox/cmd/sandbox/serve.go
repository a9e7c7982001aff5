package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/sandboxworker"
	"github.com/platformguide/ssocutover/sandbox/world"
)

// endpoints is what `sandbox serve` prints: where each side listens, and
// the environment that points a worker or a starter at it.
type endpoints struct {
	AWSURL   string   `json:"awsUrl"`
	GraphURL string   `json:"graphUrl"`
	SCIMURL  string   `json:"scimUrl"`
	Env      []string `json:"env"`
}

// serveCommand serves a world until Ctrl-C, for a worker run by hand (or
// under a debugger) instead of inside the demo.
func serveCommand(stdout io.Writer) *cobra.Command {
	var worldFile string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "serve [--world FILE] [--json]",
		Short: "Serve a world (default: the sample organisation) until Ctrl-C; prints the endpoints and a worker's environment",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := world.Sample()
			if worldFile != "" {
				var err error
				if w, err = world.Load(worldFile); err != nil {
					return err
				}
			}
			sb, err := sandbox.Start(w, sandbox.Options{})
			if err != nil {
				return err
			}
			defer sb.Close()
			e := endpoints{AWSURL: sb.AWSURL, GraphURL: sb.GraphURL, SCIMURL: sb.SCIMURL, Env: sandboxworker.Env(sb, w)}
			if asJSON {
				if err := writeJSON(stdout, e); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(stdout, "The sandbox serves identity store %s and tenant %s:\n  AWS   %s\n  Graph %s\n  SCIM  %s\n\n"+
					"Point a worker (and the starter) at it with this environment, besides Temporal's and the payload keys:\n\n  %s\n\nCtrl-C stops it.\n",
					w.AWS.IdentityStoreID, w.Entra.TenantID, e.AWSURL, e.GraphURL, e.SCIMURL, strings.Join(e.Env, " \\\n  "))
			}
			<-cmd.Context().Done()
			return nil
		},
	}
	cmd.Flags().StringVar(&worldFile, "world", "", "world file (JSON) to serve (default: the built-in sample organisation)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the endpoints and the environment as JSON")
	return cmd
}
