package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

const slackURL = "https://hooks.slack.com" + secretPath

func TestNewWebhookTakesHTTPSAndLoopbackHTTP(t *testing.T) {
	for _, raw := range []string{
		slackURL,
		"https://contoso.webhook.office.com/webhookb2/abc@def/IncomingWebhook/" + secretPart + "/ghi",
		"https://prod-01.westus.logic.azure.com:443/workflows/x/triggers/manual/paths/invoke?api-version=2016-06-01&" + secretQuery,
		"http://127.0.0.1:8080" + secretPath,
		"http://localhost" + secretPath,
		"http://[::1]:9" + secretPath,
		"  " + slackURL + "\n",
	} {
		w, err := NewWebhook(raw)
		require.NoError(t, err, raw)
		require.NotEmpty(t, w.Host())
	}
}

func TestNewWebhookRefusesWhatIsNotAWebhookURL(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{"http://hooks.slack.com" + secretPath, `"http", not https`},
		{"http://10.0.0.1" + secretPath, "not https"},
		{"ftp://hooks.slack.com" + secretPath, "not https"},
		{"hooks.slack.com" + secretPath, "not an absolute URL"},
		{secretPath, "not an absolute URL"},
		{"https://user:" + secretPart + "@hooks.slack.com/x", "user information"},
		{"https://hooks.slack.com" + secretPath + "#frag", "fragment"},
		{"https://hooks.slack.com/ " + secretPart, "spaces"},
		{"https://hooks.slack.com/%zz" + secretPart, "not an absolute URL"},
		{"", "empty"},
	} {
		_, err := NewWebhook(tc.raw)
		require.ErrorContains(t, err, tc.want, tc.raw)
		require.ErrorContains(t, err, "https://<host>/<path>", "the error says what form is expected")
		requireNoSecret(t, err.Error())
	}
}

func TestAWebhookNeverShowsItsPath(t *testing.T) {
	w, err := NewWebhook(slackURL + "?" + secretQuery)
	require.NoError(t, err)
	const want = "https://hooks.slack.com/[redacted]"

	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		require.Equal(t, want, fmt.Sprintf(format, w), format)
		require.Equal(t, want, fmt.Sprintf(format, *w), format)
	}
	require.Equal(t, want, w.String())

	holder := struct {
		Webhook *Webhook
		ByValue Webhook
	}{w, *w}
	encoded, err := json.Marshal(holder)
	require.NoError(t, err)
	requireNoSecret(t, string(encoded))
	require.Contains(t, string(encoded), `"Webhook":"`+want+`"`)
	requireNoSecret(t, fmt.Sprintf("%+v %#v", holder, holder))

	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("configured", "webhook", w, "value", *w)
	requireNoSecret(t, logged.String())
	require.Contains(t, logged.String(), want)
}

func TestWebhookFromEnv(t *testing.T) {
	env := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}

	w, err := WebhookFromEnv(env(nil))
	require.NoError(t, err)
	require.Nil(t, w, "no variable: no webhook, the log only")

	w, err = WebhookFromEnv(env(map[string]string{EnvWebhookURL: slackURL}))
	require.NoError(t, err)
	require.Equal(t, "hooks.slack.com", w.Host())

	_, err = WebhookFromEnv(env(map[string]string{EnvWebhookURL: "http://hooks.slack.com" + secretPath}))
	require.ErrorContains(t, err, EnvWebhookURL+": ")
	require.ErrorContains(t, err, "not https")
	requireNoSecret(t, err.Error())

	dir := t.TempDir()
	file := filepath.Join(dir, "webhook")
	require.NoError(t, os.WriteFile(file, []byte(slackURL+"\n"), 0o600))
	w, err = WebhookFromEnv(env(map[string]string{EnvWebhookURLFile: file}))
	require.NoError(t, err, "the file's line break is not part of the URL")
	require.Equal(t, "hooks.slack.com", w.Host())
	require.Equal(t, slackURL, w.url)

	_, err = WebhookFromEnv(env(map[string]string{EnvWebhookURL: slackURL, EnvWebhookURLFile: file}))
	require.ErrorContains(t, err, "set one")

	open := filepath.Join(dir, "open")
	require.NoError(t, os.WriteFile(open, []byte(slackURL), 0o644))
	_, err = WebhookFromEnv(env(map[string]string{EnvWebhookURLFile: open}))
	require.ErrorContains(t, err, EnvWebhookURLFile+"="+open)
	require.ErrorContains(t, err, "chmod 600")

	_, err = WebhookFromEnv(env(map[string]string{EnvWebhookURLFile: filepath.Join(dir, "missing")}))
	require.ErrorContains(t, err, EnvWebhookURLFile)
	require.ErrorContains(t, err, "no such file")

	bad := filepath.Join(dir, "bad")
	require.NoError(t, os.WriteFile(bad, []byte("http://example.com"+secretPath), 0o600))
	_, err = WebhookFromEnv(env(map[string]string{EnvWebhookURLFile: bad}))
	require.ErrorContains(t, err, EnvWebhookURLFile+"="+bad)
	require.ErrorContains(t, err, "not https")
	requireNoSecret(t, err.Error())
}
