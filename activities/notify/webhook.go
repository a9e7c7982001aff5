package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"runtime"
	"strings"
	"unicode"
)

// Where the worker finds its chat webhook. The URL is a secret (whoever has
// it can post to the channel), so it lives on the worker only: never in a
// workflow's input or history, never in a flag (flags show in the process
// list).
const (
	// EnvWebhookURL holds the incoming webhook URL itself.
	EnvWebhookURL = "SSOCUTOVER_WEBHOOK_URL"
	// EnvWebhookURLFile names a file that holds the URL, which keeps it out
	// of the process's environment listing. Only its owner may read it.
	EnvWebhookURLFile = "SSOCUTOVER_WEBHOOK_URL_FILE"
)

// webhookURLForm is what a webhook URL looks like, for errors.
const webhookURLForm = "an incoming webhook URL as the chat shows it, https://<host>/<path> " +
	"(Slack: https://hooks.slack.com/services/..., Microsoft Teams: https://<tenant>.webhook.office.com/webhookb2/...); " +
	"plain http only to localhost, for tests"

// Webhook is a chat incoming webhook (Slack or Microsoft Teams). The path
// and query of its URL are its credential: a Webhook prints, formats,
// marshals and logs as its scheme and host only, and the URL leaves this
// package only as the target of the POST.
type Webhook struct {
	url    string // the whole URL; never printed
	scheme string
	host   string
}

// NewWebhook checks an incoming webhook URL: absolute, https (or http to
// a loopback host), without user information or fragment. Its errors name
// at most the scheme and host, never the path or query.
func NewWebhook(rawURL string) (*Webhook, error) {
	rawURL = strings.TrimSpace(rawURL) // a line break copied along with it
	if rawURL == "" {
		return nil, fmt.Errorf("the chat webhook URL is empty: want %s", webhookURLForm)
	}
	if strings.ContainsFunc(rawURL, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return nil, fmt.Errorf("the chat webhook URL has spaces or line breaks inside: want %s", webhookURLForm)
	}
	// url.Parse's errors quote the URL, so they are not passed on.
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, fmt.Errorf("the chat webhook URL is not an absolute URL: want %s", webhookURLForm)
	}
	switch {
	case u.User != nil || u.Fragment != "":
		return nil, fmt.Errorf("the chat webhook URL on %s has user information or a fragment: want %s", u.Host, webhookURLForm)
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return nil, fmt.Errorf("the chat webhook URL on %s is %q, not https (the URL is a secret and goes only over https): want %s",
			u.Host, u.Scheme, webhookURLForm)
	}
	return &Webhook{url: u.String(), scheme: u.Scheme, host: u.Host}, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// WebhookFromEnv is the webhook the environment configures
// (EnvWebhookURL or EnvWebhookURLFile), or nil when neither is set. Its
// errors say which variable is wrong and what it should hold, without the
// URL's path.
func WebhookFromEnv(getenv func(string) string) (*Webhook, error) {
	raw, file := getenv(EnvWebhookURL), getenv(EnvWebhookURLFile)
	switch {
	case raw != "" && file != "":
		return nil, fmt.Errorf("both %s and %s are set: set one (the file keeps the URL out of the environment)", EnvWebhookURL, EnvWebhookURLFile)
	case raw != "":
		w, err := NewWebhook(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvWebhookURL, err)
		}
		return w, nil
	case file != "":
		text, err := readURLFile(file)
		if err != nil {
			return nil, fmt.Errorf("%s=%s: %w", EnvWebhookURLFile, file, err)
		}
		w, err := NewWebhook(text)
		if err != nil {
			return nil, fmt.Errorf("%s=%s: %w", EnvWebhookURLFile, file, err)
		}
		return w, nil
	}
	return nil, nil
}

// readURLFile reads a file that only its owner can read, as the payload
// key file (internal/codec) is read.
func readURLFile(path string) (string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("cannot read the webhook URL file (%w): put %s in it, or unset the variable to only log the gates", pathCause(err), webhookURLForm)
	}
	if runtime.GOOS != "windows" && info.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("the webhook URL file has mode %#o: others than its owner can read the secret URL; run `chmod 600 %s`", info.Mode().Perm(), path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("cannot read the webhook URL file (%w)", pathCause(err))
	}
	return string(data), nil
}

// pathCause is why a file operation failed, without the operation and
// path the caller's message already names.
func pathCause(err error) error {
	var pathErr *os.PathError
	if errors.As(err, &pathErr) {
		return pathErr.Err
	}
	return err
}

// Host is the webhook's host (and port, if the URL has one): what results
// and logs may say about where a message went.
func (w Webhook) Host() string { return w.host }

// redacted is how a Webhook shows: where it goes, not its credential.
func (w Webhook) redacted() string { return w.scheme + "://" + w.host + "/[redacted]" }

// scrub replaces the URL, its path and its query in s, should an error
// from below (net/http, a server's answer) ever quote them.
func (w Webhook) scrub(s string) string {
	u, err := url.Parse(w.url)
	if err != nil { // NewWebhook parsed it
		return s
	}
	secrets := []string{w.url, u.EscapedPath(), u.Path, u.RawQuery}
	for _, secret := range secrets {
		if len(secret) > 1 { // a bare "/" is no secret
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return s
}

func (w Webhook) String() string               { return w.redacted() }
func (w Webhook) GoString() string             { return w.redacted() }
func (w Webhook) Format(f fmt.State, _ rune)   { _, _ = f.Write([]byte(w.redacted())) }
func (w Webhook) MarshalJSON() ([]byte, error) { return json.Marshal(w.redacted()) }
func (w Webhook) MarshalText() ([]byte, error) { return []byte(w.redacted()), nil }
func (w Webhook) LogValue() slog.Value         { return slog.StringValue(w.redacted()) }
