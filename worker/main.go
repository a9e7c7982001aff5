// Command worker runs the cutover's workflows and activities on the
// ssocutover task queue.
//
// It needs a Temporal server (TEMPORAL_ADDRESS, default the local dev server
// 127.0.0.1:7233), AWS credentials that can read IAM Identity Center (the
// SDK's usual chain: AWS_PROFILE, AWS_ACCESS_KEY_ID, ...; AWS_REGION), an
// Entra app registration that can read users and groups (AZURE_TENANT_ID,
// AZURE_CLIENT_ID, AZURE_CLIENT_SECRET), and a data directory shared by every
// worker and by `starter report` (SSOCUTOVER_DATA_DIR, default .data).
//
// Every payload it writes to Temporal is encrypted (internal/codec): it
// refuses to start without a key (SSOCUTOVER_CODEC_KEYS or
// SSOCUTOVER_CODEC_KEY_FILE; `starter codec-key` makes one).
//
// It stops on SIGINT or SIGTERM, letting running activities finish first.
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/platformguide/ssocutover/activities/checks"
	"github.com/platformguide/ssocutover/internal/codec"
	"github.com/platformguide/ssocutover/internal/logging"
	"github.com/platformguide/ssocutover/internal/metrics"
	"github.com/platformguide/ssocutover/internal/temporalclient"
	"github.com/platformguide/ssocutover/worker/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd, err := newCommand(os.Stderr, os.Getenv)
	if err == nil {
		err = cmd.ExecuteContext(ctx)
	}
	if err != nil {
		if !errors.Is(err, errNotReady) {
			fmt.Fprintln(os.Stderr, "error:", err)
		}
		os.Exit(1)
	}
}

func newCommand(stderr io.Writer, getenv func(string) string) (*cobra.Command, error) {
	conn := temporalclient.FromEnv(getenv)
	keys := codec.KeySourceFromEnv(getenv)
	cfg, err := app.ConfigFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	var logs logging.Flags
	var check struct {
		enabled, json bool
		target        checks.CheckReadinessInput
	}
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run the ssocutover worker (workflows and activities on task queue " + temporalclient.TaskQueue + ")",
		Long: `Run the ssocutover worker: the Cutover workflow and the activities that read
AWS IAM Identity Center and Microsoft Entra ID, on task queue ` + temporalclient.TaskQueue + `.

Every flag has an environment variable; AWS settings come from the AWS SDK's
usual chain (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, ...), Entra's from
AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (the secret has no
flag: flags show in the process list). Stop it with Ctrl-C or SIGTERM: running
activities get time to finish.

Every payload it writes to Temporal is encrypted with AES-256-GCM; it refuses
to start without a key: ` + codec.EnvKeys + `=id:base64key[,older keys] or a
key file (` + codec.EnvKeyFile + `, --codec-key-file). 'starter codec-key'
makes a key; every worker and starter of a namespace needs the same keys.
A start or a decision that arrives as plain JSON (the temporal CLI without
--codec-endpoint) is refused, saying how to send it, unless
` + codec.EnvAllowPlaintext + `=1.

With --check it runs nothing: it makes the readiness checks with its own
configuration and identity (Temporal, the payload keys, AWS, Entra, the data
directory, the webhook), prints one line each, and exits 1 when something is
missing. 'starter doctor' makes the same checks on a running worker.`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := logs.Logger()
			if err != nil {
				return err
			}
			defer func() { _ = logger.Sync() }()
			if check.enabled {
				check.target.Region = cmp.Or(cfg.AWS.Region, getenv("AWS_REGION"))
				return runCheck(cmd, conn, keys, cfg, check.target, check.json, logger)
			}
			payloads, err := keys.LoadCodec()
			if err != nil {
				return err
			}
			// Plain JSON from outside (a start or a decision sent without
			// the keys) is refused unless the operator allows it.
			if getenv(codec.EnvAllowPlaintext) == "1" {
				logger.Warn("Plain JSON payloads are taken: anyone who reaches Temporal can start a cutover or send a decision without the keys", zap.String("setting", codec.EnvAllowPlaintext))
			} else {
				payloads = payloads.RefusingPlaintext()
			}
			return run(cmd.Context(), conn, cfg, payloads, logger)
		},
	}
	cmd.SetErr(stderr)
	flags := cmd.Flags()
	conn.RegisterFlags(flags)
	cfg.RegisterFlags(flags)
	keys.RegisterFlags(flags)
	logs.Register(flags, getenv, logging.FormatJSON, "info")
	flags.BoolVar(&check.enabled, "check", false, "make the readiness checks and exit (1 when something is missing) instead of running")
	flags.BoolVar(&check.json, "json", false, "with --check, print the report as JSON")
	flags.StringVar(&check.target.IdentityStoreID, "identity-store", "", "with --check, the identity store ID (d-...) of the instance to cut over")
	return cmd, nil
}

// errNotReady makes --check exit 1 after its report said why.
var errNotReady = errors.New("not ready")

func runCheck(cmd *cobra.Command, conn temporalclient.Options, keys codec.KeySource, cfg app.Config, target checks.CheckReadinessInput, asJSON bool, logger *zap.Logger) error {
	if target.IdentityStoreID == "" {
		return errors.New("--check needs --identity-store: the identity store ID (d-...) of the instance to cut over")
	}
	if target.Region == "" {
		return errors.New("--check needs the instance's Region: --aws-region or AWS_REGION")
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), 3*time.Minute)
	defer cancel()
	report := app.CheckEnvironment(ctx, conn, keys, cfg, target, logger)
	out := cmd.OutOrStdout()
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			return err
		}
	} else if err := report.Write(out); err != nil {
		return err
	}
	if !report.Ready() {
		return errNotReady
	}
	return nil
}

func run(ctx context.Context, conn temporalclient.Options, cfg app.Config, payloads *codec.Codec, logger *zap.Logger) error {
	// Metrics and probes first, so that a worker that cannot reach
	// Temporal is alive but not ready.
	var probes *metrics.Server
	if cfg.MetricsAddress != "" {
		m, err := metrics.New()
		if err != nil {
			return err
		}
		if probes, err = metrics.Serve(cfg.MetricsAddress, m); err != nil {
			return err
		}
		defer probes.Close()
		conn.MetricsHandler = m.TemporalHandler()
		cfg.AWS.Observer, cfg.Graph.Observer = m, m
		logger.Info("Serving Prometheus metrics and probes", zap.String("address", probes.Addr),
			zap.Strings("paths", []string{"/metrics", "/livez", "/readyz"}))
	}

	memoryLimit := app.ApplyMemoryLimit(os.Getenv)
	logger.Info("Connecting to Temporal", zap.Stringer("temporal", conn), zap.String("payloadKeyID", payloads.CurrentKeyID()),
		zap.Int64("memoryLimitMiB", memoryLimit>>20))
	conn.Codec = payloads
	c, err := conn.Dial(ctx, logger)
	if err != nil {
		return err
	}
	defer c.Close()

	// Stored documents are sealed with the payload keys: inventories hold
	// every user's name and e-mail.
	cfg.Sealer = payloads
	acts, err := app.NewActivities(ctx, cfg)
	if err != nil {
		return err
	}
	notifications := "log only (set " + app.EnvWebhookURL + " to post them to chat)"
	if cfg.Webhook != nil {
		notifications = "log and webhook on " + cfg.Webhook.Host()
	}
	logger.Info("Worker configured", zap.String("dataDir", cfg.DataDir), zap.String("store", cfg.Store.Location(cfg.DataDir)),
		zap.String("gateNotifications", notifications))
	var polling func()
	if probes != nil {
		polling = func() { probes.SetReady(true) }
	}
	return app.RunWorker(ctx, app.NewWorker(c, acts, cfg), logger, polling)
}
