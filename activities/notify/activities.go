package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// DefaultTimeout bounds one POST to the webhook when Activities.HTTPClient
// is nil.
const DefaultTimeout = 10 * time.Second

// maxAnswerBytes bounds what is read of the webhook's answer: Slack and
// Teams answer a word or a line.
const maxAnswerBytes = 4 << 10

// Activities are the notification activities. The worker registers one
// value; its methods are the activities, named by the constants in types.go.
type Activities struct {
	// Webhook receives the messages; nil means the log only.
	Webhook *Webhook
	// HTTPClient posts to the webhook; nil means a client with
	// DefaultTimeout. Give it a timeout: a webhook that never answers must
	// fail the attempt, not hang the activity.
	HTTPClient *http.Client
}

// NotifyGateOpened tells people that a workflow waits at a gate: the log
// always gets the gate with its instructions, and the webhook, when there
// is one, a message with them. Posting twice (a retry after a lost answer)
// shows the message twice, which is harmless: it changes nothing.
//
// A webhook that refuses the message (3xx, 4xx but 408 and 429) is
// ErrWebhookRefused, not retried: only a person can fix its URL. Network
// errors, 408, 429 and 5xx are retried. No error, result or log holds the
// webhook's path.
func (a *Activities) NotifyGateOpened(ctx context.Context, in GateOpened) (NotifyGateOpenedResult, error) {
	logger := activity.GetLogger(ctx)
	logger.Info("A workflow waits for a person at a gate",
		"workflow", in.Workflow, "workflowId", in.WorkflowID, "identityStoreId", in.IdentityStoreID,
		"gate", in.Gate, "reminder", in.Reminder, "summary", in.Summary, "instructions", in.Instructions)
	return a.send(ctx, in.note())
}

// NotifyAttention tells people of a problem no gate waits for, as
// NotifyGateOpened does: the log (as a warning) and the webhook.
func (a *Activities) NotifyAttention(ctx context.Context, in Attention) (NotifyGateOpenedResult, error) {
	activity.GetLogger(ctx).Warn("A workflow needs attention",
		"workflow", in.Workflow, "workflowId", in.WorkflowID, "identityStoreId", in.IdentityStoreID,
		"problem", in.Problem, "detail", in.Detail)
	return a.send(ctx, in.note())
}

// send posts n to the webhook, when there is one.
func (a *Activities) send(ctx context.Context, n note) (NotifyGateOpenedResult, error) {
	if a.Webhook == nil {
		return NotifyGateOpenedResult{}, nil
	}
	if err := a.post(ctx, messagePayload(n)); err != nil {
		return NotifyGateOpenedResult{}, err
	}
	activity.GetLogger(ctx).Info("Sent the message to the chat webhook", "headline", n.headline, "destination", a.Webhook.Host())
	return NotifyGateOpenedResult{Sent: true, Destination: a.Webhook.Host()}, nil
}

// post sends body to the webhook and turns any failure into an error that
// names the host only.
func (a *Activities) post(ctx context.Context, body []byte) error {
	w := a.Webhook
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil { // NewWebhook checked the URL; its error would quote it
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("cannot make a request to the chat webhook on %s: check %s on the worker", w.Host(), EnvWebhookURL), ErrWebhookRefused, nil)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.httpClient().Do(req)
	if err != nil {
		return fmt.Errorf("post to the chat webhook on %s (the activity is retried): %s", w.Host(), w.scrub(withoutURL(err).Error()))
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	return w.check(resp.StatusCode, answer)
}

// check turns the webhook's answer into nil or an error.
func (w *Webhook) check(status int, answer []byte) error {
	if status >= 200 && status < 300 {
		status = teamsHiddenStatus(answer, status)
	}
	detail := w.detail(answer)
	switch {
	case status >= 200 && status < 300:
		return nil
	case status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500:
		return fmt.Errorf("the chat webhook on %s answered %d%s (the activity is retried)", w.Host(), status, detail)
	}
	return temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("the chat webhook on %s refused the message (%d%s): the webhook was deleted or disabled, or %s or %s on the worker is wrong. "+
			"Make a new incoming webhook for the channel, set it on the workers and restart them. "+
			"The gate still waits: its instructions are in the workflow's status (starter status) and the worker's log",
			w.Host(), status, detail, EnvWebhookURL, EnvWebhookURLFile),
		ErrWebhookRefused, nil)
}

// teamsHidden finds the status a Microsoft 365 connector reports inside a
// 200 answer ("... returned HTTP error 429 ..."), as Teams has done for
// throttling and oversize messages.
var teamsHidden = regexp.MustCompile(`returned HTTP error (\d{3})`)

func teamsHiddenStatus(answer []byte, status int) int {
	m := teamsHidden.FindSubmatch(answer)
	if m == nil {
		return status
	}
	hidden, _ := strconv.Atoi(string(m[1]))
	return hidden
}

// detail is the webhook's answer as ": <answer>" (Slack says why it
// refuses, e.g. "no_service"), on one line, clipped, and scrubbed.
func (w *Webhook) detail(answer []byte) string {
	text := strings.Join(strings.FieldsFunc(string(answer), func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
	if text == "" {
		return ""
	}
	return ": " + clip(w.scrub(text), 200)
}

// withoutURL drops the *url.Error layer, which quotes the whole URL, and
// keeps the reason beneath it.
func withoutURL(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err
	}
	return err
}

// httpClient is the client that posts: the configured one or one with
// DefaultTimeout, in both cases without following redirects, so that the
// message goes to the URL as configured and nowhere else.
func (a *Activities) httpClient() *http.Client {
	c := http.Client{Timeout: DefaultTimeout}
	if a.HTTPClient != nil {
		c = *a.HTTPClient
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// SendTest posts a test message to the webhook, outside any workflow:
// `starter doctor --send-test-notification` proves the URL works. The
// error names the host only.
func (a *Activities) SendTest(ctx context.Context) error {
	if a.Webhook == nil {
		return nil
	}
	return a.post(ctx, messagePayload(note{headline: "ssocutover: test notification",
		summary: "starter doctor sent this to check the chat webhook; gate notifications will arrive here."}))
}
