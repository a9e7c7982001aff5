// Package cli is the starter's commands: how a person drives a cutover.
// Start one from a request file, read its status and full preflight report,
// decide at its gates (approve, reject, recheck, ...), and keep the SCIM
// token fresh afterwards (rotation).
//
// It talks to the Temporal server the worker uses (TEMPORAL_ADDRESS, ...);
// report also reads the worker's data directory, where the full reports are
// kept out of workflow history.
package cli

import (
	"cmp"
	"context"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/platformguide/ssocutover/internal/codec"
	"github.com/platformguide/ssocutover/internal/logging"
	"github.com/platformguide/ssocutover/internal/store"
	"github.com/platformguide/ssocutover/internal/temporalclient"
	"github.com/platformguide/ssocutover/workflows"
)

// cli holds what every subcommand shares: where to write, how to reach
// Temporal, how to log and where the worker's data is.
type cli struct {
	stdout, stderr io.Writer
	getenv         func(string) string

	temporal  temporalclient.Options
	codecKeys codec.KeySource
	logs      logging.Flags
	dataDir   string
	store     store.Settings
	uiURL     string
}

// NewRootCommand is the starter command with every subcommand, writing to
// stdout and stderr and reading its environment through getenv.
func NewRootCommand(stdout, stderr io.Writer, getenv func(string) string) *cobra.Command {
	c := &cli{stdout: stdout, stderr: stderr, getenv: getenv, temporal: temporalclient.FromEnv(getenv), codecKeys: codec.KeySourceFromEnv(getenv),
		store: store.SettingsFromEnv(getenv)}
	root := &cobra.Command{
		Use:   "starter",
		Short: "Start, follow and decide a cutover of IAM Identity Center to Entra ID",
		Long: `starter drives the Cutover workflow: start it from a request file, follow its
status, read the full preflight report, and decide at its gates. Afterwards
'starter rotation' keeps the SCIM token fresh (the ScimTokenRotation workflow
on a Temporal Schedule), whose gates take the same commands.

It connects to the same Temporal server as the worker (TEMPORAL_ADDRESS,
TEMPORAL_NAMESPACE, TLS and API key settings as the temporal CLI reads them).
'starter report' also reads the worker's store: its data directory (--data-dir,
SSOCUTOVER_DATA_DIR), so run it where that directory is reachable, or the S3
bucket of --store s3 (with the AWS credentials of the environment).

Payloads in Temporal are encrypted: every command that talks to Temporal
needs the worker's keys (` + codec.EnvKeys + ` or --codec-key-file; without
either, the key file a demo made in the data directory, DATA_DIR/codec-keys).
'starter codec-key' makes a key; 'starter codec-server' lets the Temporal UI
and 'temporal workflow show --codec-endpoint' decrypt them.

'bin/demo' (make demo) runs everything locally: a Temporal dev server, the
sandbox serving a sample organisation, and a worker.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)

	flags := root.PersistentFlags()
	c.temporal.RegisterFlags(flags)
	c.codecKeys.RegisterFlags(flags)
	c.logs.Register(flags, getenv, logging.FormatConsole, "warn")
	flags.StringVar(&c.dataDir, "data-dir", store.DataDirFromEnv(getenv), "the worker's data directory, where full reports are stored unless --store s3 (env "+store.EnvDataDir+")")
	c.store.RegisterFlags(flags)
	flags.StringVar(&c.uiURL, "ui-url", getenv("SSOCUTOVER_UI_URL"), "base URL of the Temporal UI, for links (default: the dev server's, http://HOST:PORT+1000, when --address is on loopback; env SSOCUTOVER_UI_URL)")

	root.AddCommand(
		c.startCommand(),
		c.statusCommand(),
		c.decideCommand(workflows.OpApprove),
		c.decideCommand(workflows.OpReject),
		c.decideCommand(workflows.OpRecheck),
		c.decideCommand(workflows.OpRollback),
		c.decideCommand(workflows.OpRetry),
		c.decideCommand(workflows.OpSkip),
		c.submitSPMetadataCommand(),
		c.metadataCommand(),
		c.submitSCIMCommand(),
		c.rotationCommand(),
		c.reportCommand(),
		c.codecKeyCommand(),
		c.codecServerCommand(),
		c.doctorCommand(),
	)
	return root
}

func (c *cli) logger() (*zap.Logger, error) {
	return c.logs.Logger()
}

// dial connects to Temporal with the payload codec; the error says how to
// start a server, or how to make a key.
func (c *cli) dial(ctx context.Context) (client.Client, error) {
	logger, err := c.logger()
	if err != nil {
		return nil, err
	}
	payloads, err := c.keySource().LoadCodec()
	if err != nil {
		return nil, err
	}
	conn := c.temporal
	conn.Codec = payloads
	return conn.Dial(ctx, logger)
}

// keySource is where the payload keys are: the environment or
// --codec-key-file, else the key file a demo left in the data directory.
func (c *cli) keySource() codec.KeySource {
	if c.codecKeys.Configured() {
		return c.codecKeys
	}
	if _, err := os.Stat(DataDirKeyFile(c.dataDir)); err == nil {
		return codec.KeySource{KeyFile: DataDirKeyFile(c.dataDir)}
	}
	return c.codecKeys
}

// DataDirKeyFile is where the demo keeps its payload key in a data directory.
func DataDirKeyFile(dataDir string) string {
	return filepath.Join(dataDir, "codec-keys")
}

// workflowLink is the Temporal UI page of a workflow, or "" when the UI's
// address is not known.
func (c *cli) workflowLink(workflowID string) string {
	return WorkflowLink(c.uiBase(), c.temporal.Namespace, workflowID)
}

// uiBase is --ui-url, or the dev server's UI when Temporal is on loopback:
// the dev server serves its UI on the gRPC port + 1000 unless told otherwise.
func (c *cli) uiBase() string {
	if c.uiURL != "" {
		return c.uiURL
	}
	host, port, err := net.SplitHostPort(c.temporal.Address)
	if err != nil {
		return ""
	}
	ip := net.ParseIP(host)
	if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return ""
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return ""
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(n+1000))
}

// WorkflowLink is the Temporal UI page of a workflow, or "" when uiBase,
// the UI's address, is not known.
func WorkflowLink(uiBase, namespace, workflowID string) string {
	if uiBase == "" {
		return ""
	}
	return uiBase + "/namespaces/" + url.PathEscape(cmp.Or(namespace, temporalclient.DefaultNamespace)) + "/workflows/" + url.PathEscape(workflowID)
}

// storeDir is where the worker keeps stored documents.
func (c *cli) storeDir() string {
	return store.DirIn(c.dataDir)
}
