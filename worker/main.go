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
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/platformguide/ssocutover/internal/codec"
	"github.com/platformguide/ssocutover/internal/logging"
	"github.com/platformguide/ssocutover/internal/store"
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
		fmt.Fprintln(os.Stderr, "error:", err)
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
makes a key; every worker and starter of a namespace needs the same keys.`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := logs.Logger()
			if err != nil {
				return err
			}
			defer func() { _ = logger.Sync() }()
			payloads, err := keys.LoadCodec()
			if err != nil {
				return err
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
	return cmd, nil
}

func run(ctx context.Context, conn temporalclient.Options, cfg app.Config, payloads *codec.Codec, logger *zap.Logger) error {
	logger.Info("Connecting to Temporal", zap.Stringer("temporal", conn), zap.String("payloadKeyID", payloads.CurrentKeyID()))
	conn.Codec = payloads
	c, err := conn.Dial(ctx, logger)
	if err != nil {
		return err
	}
	defer c.Close()

	acts, err := app.NewActivities(ctx, cfg)
	if err != nil {
		return err
	}
	notifications := "log only (set " + app.EnvWebhookURL + " to post them to chat)"
	if cfg.Webhook != nil {
		notifications = "log and webhook on " + cfg.Webhook.Host()
	}
	logger.Info("Worker configured", zap.String("dataDir", cfg.DataDir), zap.String("store", store.DirIn(cfg.DataDir)),
		zap.String("gateNotifications", notifications))
	return app.RunWorker(ctx, app.NewWorker(c, acts, cfg), logger)
}
