package app

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/platformguide/ssocutover/internal/temporalclient"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestConfigFromEnvAndFlags(t *testing.T) {
	cfg, err := ConfigFromEnv(env(map[string]string{
		EnvDataDir:              "/var/lib/ssocutover",
		EnvGraphURL:             "http://127.0.0.1:9000",
		EnvGraphToken:           "sandbox",
		EnvAzureTenantID:        "tenant",
		EnvAzureClientSecret:    "s3cr3t-value",
		EnvAWSRequestsPerSecond: "5",
	}))
	require.NoError(t, err)
	require.Equal(t, "/var/lib/ssocutover", cfg.DataDir)
	require.Equal(t, "/var/lib/ssocutover/store", StoreDir(cfg.DataDir))
	require.Equal(t, "http://127.0.0.1:9000", cfg.Graph.BaseURL)
	require.Equal(t, "sandbox", cfg.Graph.StaticToken)
	require.Equal(t, "s3cr3t-value", cfg.Graph.ClientSecret)
	require.InDelta(t, 5, cfg.AWS.RequestsPerSecond, 0)

	fs := pflag.NewFlagSet("worker", pflag.ContinueOnError)
	cfg.RegisterFlags(fs)
	require.NoError(t, fs.Parse([]string{"--data-dir", "/tmp/x", "--aws-region", "eu-central-1"}))
	require.Equal(t, "/tmp/x", cfg.DataDir, "a flag beats the environment")
	require.Equal(t, "eu-central-1", cfg.AWS.Region)
	require.Equal(t, "tenant", cfg.Graph.TenantID, "the environment stays where no flag is given")
	require.NotContains(t, fs.FlagUsages(), "s3cr3t-value", "secrets have no flag and do not show in help")

	cfg, err = ConfigFromEnv(env(nil))
	require.NoError(t, err)
	require.Equal(t, DefaultDataDir, cfg.DataDir)

	_, err = ConfigFromEnv(env(map[string]string{EnvGraphRequestsPerSecond: "fast"}))
	require.ErrorContains(t, err, `SSOCUTOVER_GRAPH_RPS="fast"`)
}

func TestWorkerConfigHasTheChatWebhook(t *testing.T) {
	const secret = "/services/T000/B000/s3cr3t-webhook-path"
	cfg, err := ConfigFromEnv(env(map[string]string{EnvWebhookURL: "https://hooks.slack.com" + secret}))
	require.NoError(t, err)
	require.NotNil(t, cfg.Webhook)
	require.Equal(t, "hooks.slack.com", cfg.Webhook.Host())

	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	acts, err := NewActivities(context.Background(), cfg)
	require.NoError(t, err)
	require.Same(t, cfg.Webhook, acts.Notify.Webhook, "the notifications go to the configured webhook")

	cfg, err = ConfigFromEnv(env(nil))
	require.NoError(t, err)
	require.Nil(t, cfg.Webhook, "without a webhook the gates go to the log only")
	acts, err = NewActivities(context.Background(), cfg)
	require.NoError(t, err)
	require.NotNil(t, acts.Notify, "the activity is there to log the gates")

	// A bad URL stops the worker before it starts, saying which variable
	// and what form, without the secret path.
	_, err = ConfigFromEnv(env(map[string]string{EnvWebhookURL: "http://hooks.slack.com" + secret}))
	require.ErrorContains(t, err, EnvWebhookURL)
	require.ErrorContains(t, err, "https://<host>/<path>")
	require.NotContains(t, err.Error(), "s3cr3t")

	file := filepath.Join(t.TempDir(), "webhook")
	require.NoError(t, os.WriteFile(file, []byte("https://example.webhook.office.com"+secret+"\n"), 0o600))
	cfg, err = ConfigFromEnv(env(map[string]string{EnvWebhookURLFile: file}))
	require.NoError(t, err)
	require.Equal(t, "example.webhook.office.com", cfg.Webhook.Host())
}

func TestFindTemporalCLI(t *testing.T) {
	_, err := FindTemporalCLI(filepath.Join(t.TempDir(), "temporal"), env(nil))
	require.ErrorContains(t, err, "make tools")

	fake := filepath.Join(t.TempDir(), "temporal")
	require.NoError(t, os.WriteFile(fake, []byte("#!/bin/sh\n"), 0o755))
	got, err := FindTemporalCLI("", env(map[string]string{EnvTemporalCLI: fake}))
	require.NoError(t, err)
	require.Equal(t, fake, got)

	// Without a setting, bin/temporal of the repository is found from a
	// folder inside it (tests run in the package's folder).
	got, err = FindTemporalCLI("", env(nil))
	require.NoError(t, err, "build the CLI with `make tools`")
	require.Equal(t, "temporal", filepath.Base(got))
}

func TestDevServerReportsAPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port

	_, err = StartDevServer(context.Background(), DevServerOptions{CLIPath: "/bin/true", Port: port, Headless: true}, nil)
	require.ErrorContains(t, err, "port "+strconv.Itoa(port)+" on 127.0.0.1 is in use")
	require.ErrorContains(t, err, "--port")
}

func TestDevServerThatExitsEarlyShowsItsOutput(t *testing.T) {
	fake := filepath.Join(t.TempDir(), "temporal")
	require.NoError(t, os.WriteFile(fake, []byte("#!/bin/sh\necho 'database is locked' >&2\nexit 3\n"), 0o755))
	start := time.Now()
	_, err := StartDevServer(context.Background(), DevServerOptions{CLIPath: fake, Headless: true}, nil)
	require.Error(t, err)
	require.Less(t, time.Since(start), 10*time.Second, "an exited server is noticed without waiting for the start timeout")
	require.Contains(t, err.Error(), "exited before it was ready")
	require.Contains(t, err.Error(), "database is locked")
}

func TestDevServerStartsAndStops(t *testing.T) {
	cli, err := FindTemporalCLI("", os.Getenv)
	require.NoError(t, err, "build the CLI with `make tools`")
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	server, err := StartDevServer(ctx, DevServerOptions{CLIPath: cli, DBFile: filepath.Join(dir, "temporal.db")}, nil)
	require.NoError(t, err)
	require.NotEmpty(t, server.UIURL)

	c, err := temporalclient.Options{Address: server.Address}.Dial(ctx, nil)
	require.NoError(t, err)
	_, err = c.CheckHealth(ctx, &client.CheckHealthRequest{})
	require.NoError(t, err)
	c.Close()

	require.NoError(t, server.Stop())
	require.FileExists(t, filepath.Join(dir, "temporal.db"))
	ln, err := net.Listen("tcp", server.Address)
	require.NoError(t, err, "the port is free again once the server stopped")
	ln.Close()
}
