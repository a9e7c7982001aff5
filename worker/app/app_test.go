package app

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/platformguide/ssocutover/internal/store"
	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestConfigFromEnvAndFlags(t *testing.T) {
	cfg, err := ConfigFromEnv(env(map[string]string{
		store.EnvDataDir:        "/var/lib/ssocutover",
		EnvGraphURL:             "http://127.0.0.1:9000",
		EnvGraphToken:           "sandbox",
		EnvAzureTenantID:        "tenant",
		EnvAzureClientSecret:    "s3cr3t-value",
		EnvAWSRequestsPerSecond: "5",
		EnvAppVisibilityWait:    "10m",
	}))
	require.NoError(t, err)
	require.Equal(t, "/var/lib/ssocutover", cfg.DataDir)
	require.Equal(t, "/var/lib/ssocutover/store", store.DirIn(cfg.DataDir))
	require.Equal(t, "http://127.0.0.1:9000", cfg.Graph.BaseURL)
	require.Equal(t, "sandbox", cfg.Graph.StaticToken)
	require.Equal(t, "s3cr3t-value", cfg.Graph.ClientSecret)
	require.InDelta(t, 5, cfg.AWS.RequestsPerSecond, 0)
	require.Equal(t, 10*time.Minute, cfg.AppVisibilityWait)

	fs := pflag.NewFlagSet("worker", pflag.ContinueOnError)
	cfg.RegisterFlags(fs)
	require.NoError(t, fs.Parse([]string{"--data-dir", "/tmp/x", "--aws-region", "eu-central-1"}))
	require.Equal(t, "/tmp/x", cfg.DataDir, "a flag beats the environment")
	require.Equal(t, "eu-central-1", cfg.AWS.Region)
	require.Equal(t, "tenant", cfg.Graph.TenantID, "the environment stays where no flag is given")
	require.NotContains(t, fs.FlagUsages(), "s3cr3t-value", "secrets have no flag and do not show in help")

	cfg, err = ConfigFromEnv(env(nil))
	require.NoError(t, err)
	require.Equal(t, store.DefaultDataDir, cfg.DataDir)

	_, err = ConfigFromEnv(env(map[string]string{EnvGraphRequestsPerSecond: "fast"}))
	require.ErrorContains(t, err, `SSOCUTOVER_GRAPH_RPS="fast"`)
	_, err = ConfigFromEnv(env(map[string]string{EnvAppVisibilityWait: "600"}))
	require.ErrorContains(t, err, `SSOCUTOVER_APP_VISIBILITY_WAIT="600": want a positive duration`)
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

// Federation metadata comes from the login host of the cloud whose Graph
// the worker calls, unless one is configured.
func TestLoginBaseURLFollowsTheGraphCloud(t *testing.T) {
	for graphURL, want := range map[string]string{
		"":                               "",
		"https://graph.microsoft.com":    "https://login.microsoftonline.com",
		"https://graph.microsoft.us":     "https://login.microsoftonline.us",
		"https://dod-graph.microsoft.us": "https://login.microsoftonline.us",
		"https://microsoftgraph.chinacloudapi.cn": "https://login.chinacloudapi.cn",
		"http://127.0.0.1:8443":                   "",
	} {
		c := Config{}
		c.Graph.BaseURL = graphURL
		require.Equal(t, want, c.LoginBaseURL(), graphURL)
	}
	c := Config{LoginURL: "http://127.0.0.1:9000"}
	c.Graph.BaseURL = "https://graph.microsoft.us"
	require.Equal(t, "http://127.0.0.1:9000", c.LoginBaseURL())
}
