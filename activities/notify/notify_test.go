package notify

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/platformguide/ssocutover/internal/activitytest"
	"github.com/platformguide/ssocutover/internal/logging"
)

// Every webhook of these tests has this path and query: the secret part
// of an incoming webhook URL, which no error, result or log may hold.
const (
	secretPath  = "/services/T0SECRET/B0SECRET/hUnTeR2xyzzy"
	secretQuery = "sig=QuerySecretSig"
	secretPart  = "hUnTeR2xyzzy"
)

// hook is a local webhook that records what it was sent and answers as
// told.
type hook struct {
	server *httptest.Server
	mu     sync.Mutex
	posts  []post
}

type post struct {
	method, path, query, contentType string
	body                             []byte
}

// startHook serves answer on a local webhook.
func startHook(t *testing.T, answer http.HandlerFunc) *hook {
	t.Helper()
	h := &hook{}
	h.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.posts = append(h.posts, post{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Content-Type"), body})
		h.mu.Unlock()
		answer(w, r)
	}))
	t.Cleanup(h.server.Close)
	return h
}

// answerWith answers status and text; the text may echo the request's
// path, as a careless server might, to prove that errors scrub it.
func answerWith(status int, text string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, strings.ReplaceAll(text, "PATH", r.URL.Path))
	}
}

func (h *hook) webhook(t *testing.T) *Webhook {
	t.Helper()
	w, err := NewWebhook(h.server.URL + secretPath + "?" + secretQuery)
	require.NoError(t, err)
	return w
}

func (h *hook) received(t *testing.T) []post {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]post(nil), h.posts...)
}

// run runs the activity as Temporal runs it, with the worker's zap logger
// observed.
func run(t *testing.T, a *Activities, in GateOpened) (NotifyGateOpenedResult, *observer.ObservedLogs, error) {
	t.Helper()
	return runActivity(t, a, NotifyGateOpenedName, in)
}

// runActivity executes activity name of a with input in.
func runActivity(t *testing.T, a *Activities, name string, in any) (NotifyGateOpenedResult, *observer.ObservedLogs, error) {
	t.Helper()
	core, logs := observer.New(zap.DebugLevel)
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(logging.SDKLogger(zap.New(core)))
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	var res NotifyGateOpenedResult
	val, err := env.ExecuteActivity(name, in)
	if err == nil {
		require.NoError(t, val.Get(&res))
	}
	return res, logs, err
}

// logText is every log entry, message and fields, as one string.
func logText(logs *observer.ObservedLogs) string {
	var b strings.Builder
	for _, e := range logs.All() {
		fmt.Fprintf(&b, "%s %v\n", e.Message, e.ContextMap())
	}
	return b.String()
}

// requireNoSecret checks that nothing of the URL's path or query is in s.
func requireNoSecret(t *testing.T, s string) {
	t.Helper()
	for _, secret := range []string{secretPart, "T0SECRET", "B0SECRET", "QuerySecretSig"} {
		require.NotContains(t, s, secret)
	}
}

func gate() GateOpened {
	return GateOpened{
		Workflow:        "SCIM token rotation",
		WorkflowID:      "rotate-scim-d-1234567890",
		IdentityStoreID: "d-1234567890",
		Gate:            "new-scim-token",
		Summary:         "A new SCIM access token is needed <now> & soon",
		Instructions: "1. In the console, generate a new access token.\n" +
			"2. Send it:\n\n" +
			"    starter submit-scim --workflow-id rotate-scim-d-1234567890 --token-file FILE --by NAME\n\n" +
			"Without the starter:\n\n" +
			"    temporal workflow signal --workflow-id rotate-scim-d-1234567890 --name submit --input '{\"gate\":\"new-scim-token\",\"by\":\"NAME\"}' && echo done > /tmp/x\n",
	}
}

func TestTheMessageGoesToTheWebhookAndTheLog(t *testing.T) {
	h := startHook(t, answerWith(http.StatusOK, "ok"))
	res, logs, err := run(t, &Activities{Webhook: h.webhook(t)}, gate())
	require.NoError(t, err)
	host := strings.TrimPrefix(h.server.URL, "http://")
	require.Equal(t, NotifyGateOpenedResult{Sent: true, Destination: host}, res)

	posts := h.received(t)
	require.Len(t, posts, 1)
	p := posts[0]
	require.Equal(t, http.MethodPost, p.method)
	require.Equal(t, secretPath, p.path, "the message goes to the URL as configured")
	require.Equal(t, secretQuery, p.query)
	require.Equal(t, "application/json", p.contentType)

	// One JSON object with one field, "text": what Slack and Teams take.
	var body map[string]any
	require.NoError(t, json.Unmarshal(p.body, &body))
	require.Len(t, body, 1)
	text, ok := body["text"].(string)
	require.True(t, ok, "text is a string")

	lines := strings.Split(text, "\n")
	require.Equal(t, "*ssocutover: SCIM token rotation d-1234567890 waits at gate new-scim-token*", lines[0])
	require.Contains(t, text, "\n\nA new SCIM access token is needed &lt;now&gt; &amp; soon\n\n", "Slack's control characters are entities")
	require.Contains(t, text, "```\n1. In the console, generate a new access token.\n", "the instructions are a code block")
	require.Contains(t, text, "\n    starter submit-scim --workflow-id rotate-scim-d-1234567890 --token-file FILE --by NAME\n", "commands stay as they are")
	require.Contains(t, text, `--input '{"gate":"new-scim-token","by":"NAME"}' &amp;&amp; echo done &gt; /tmp/x`)
	require.Equal(t, 2, strings.Count(text, "```"), "the code block is closed")
	require.True(t, strings.HasSuffix(text, "\n\nWorkflow ID: `rotate-scim-d-1234567890`"), text)
	require.NotContains(t, text, "(cut;")

	logged := logText(logs)
	require.Contains(t, logged, gate().Instructions, "the log has the instructions as they are")
	require.Contains(t, logged, "new-scim-token")
	require.Contains(t, logged, host)
	requireNoSecret(t, logged)
	requireNoSecret(t, fmt.Sprintf("%+v", res))
}

func TestAProblemWithoutAGateIsAnnouncedToo(t *testing.T) {
	h := startHook(t, answerWith(http.StatusOK, "ok"))
	in := Attention{
		Workflow: "SCIM token rotation", WorkflowID: "scim-token-rotation-d-1234567890-2027-01-01T00:00:00Z", IdentityStoreID: "d-1234567890",
		Problem: "The rotation run failed: the token's secret does not exist",
		Detail:  "Store the token, then run:\n\n    starter rotation run --identity-store d-1234567890\n",
	}
	res, logs, err := runActivity(t, &Activities{Webhook: h.webhook(t)}, NotifyAttentionName, in)
	require.NoError(t, err)
	require.True(t, res.Sent)
	posts := h.received(t)
	require.Len(t, posts, 1)
	var body struct{ Text string }
	require.NoError(t, json.Unmarshal(posts[0].body, &body))
	require.True(t, strings.HasPrefix(body.Text, "*ssocutover: SCIM token rotation d-1234567890 needs attention*\n\nThe rotation run failed"), body.Text)
	require.Contains(t, body.Text, "```\nStore the token, then run:\n\n    starter rotation run --identity-store d-1234567890\n```")
	require.Contains(t, logText(logs), "A workflow needs attention")
	requireNoSecret(t, logText(logs))
}

func TestWithoutAWebhookOnlyTheLogHasTheMessage(t *testing.T) {
	res, logs, err := run(t, &Activities{}, gate())
	require.NoError(t, err)
	require.Equal(t, NotifyGateOpenedResult{Sent: false}, res)
	require.Contains(t, logText(logs), gate().Instructions)
}

func TestAReminderSaysSo(t *testing.T) {
	g := gate()
	g.Reminder = true
	text := messageText(g.note(), g.Instructions, false)
	require.True(t, strings.HasPrefix(text, "*Reminder: ssocutover: SCIM token rotation d-1234567890 still waits at gate new-scim-token*\n\n"), text)

	g = GateOpened{WorkflowID: "cutover-x", Gate: "preflight"}
	text = messageText(g.note(), "", false)
	require.Equal(t, "*ssocutover: workflow waits at gate preflight*\n\nWorkflow ID: `cutover-x`", text, "no empty block for missing parts")
}

func TestInstructionsWithAFenceKeepTheCodeBlockClosed(t *testing.T) {
	g := gate()
	g.Instructions = "run ```x``` now"
	text := messageText(g.note(), g.Instructions, false)
	require.Equal(t, 2, strings.Count(text, "```"))
	require.Contains(t, text, "run '''x''' now")
}

func TestLongInstructionsAreCutToFitTheWebhook(t *testing.T) {
	var long strings.Builder
	for i := 0; long.Len() < 3*maxPayloadBytes; i++ {
		// Entities and JSON escapes make the message bigger than the text.
		fmt.Fprintf(&long, "step %d: run `a && b <c> \"d\"` ünïcödé\n", i)
	}
	g := gate()
	g.Instructions = long.String()
	g.Summary = strings.Repeat("s", 5*maxSummaryRunes)

	payload := messagePayload(g.note())
	require.LessOrEqual(t, len(payload), maxPayloadBytes)
	require.Greater(t, len(payload), maxPayloadBytes*9/10, "the cut keeps what fits")
	var body message
	require.NoError(t, json.Unmarshal(payload, &body))
	text := body.Text

	require.Contains(t, text, "(cut; see status: starter status --workflow-id rotate-scim-d-1234567890)")
	require.Equal(t, 2, strings.Count(text, "```"), "the code block is closed")
	require.True(t, strings.HasSuffix(text, "Workflow ID: `rotate-scim-d-1234567890`"))
	require.Contains(t, text, strings.Repeat("s", maxSummaryRunes-1)+"…\n")
	// The cut is at a line end: the last line in the block is whole.
	block := text[strings.Index(text, "```\n")+4 : strings.LastIndex(text, "\n```")]
	lastLine := block[strings.LastIndex(block, "\n")+1:]
	require.Regexp(t, "^step [0-9]+: run `a &amp;&amp; b &lt;c&gt; \"d\"` ünïcödé$", lastLine)
	// No entity is cut in half.
	require.NotContains(t, strings.NewReplacer("&amp;", "", "&lt;", "", "&gt;", "").Replace(text), "&")
}

func TestAShortMessageIsNotCut(t *testing.T) {
	g := gate()
	payload := messagePayload(g.note())
	var body message
	require.NoError(t, json.Unmarshal(payload, &body))
	require.Equal(t, messageText(g.note(), g.Instructions, false), body.Text)
}

func TestAWebhookThatMayRecoverIsRetried(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		answer string
		want   string
	}{
		{"server error", http.StatusInternalServerError, "oops at PATH", "answered 500"},
		{"unavailable", http.StatusServiceUnavailable, "", "answered 503"},
		{"throttled", http.StatusTooManyRequests, "rate_limited", "answered 429: rate_limited"},
		{"timeout", http.StatusRequestTimeout, "", "answered 408"},
		{"Teams hides its status in a 200", http.StatusOK,
			"Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 429 with ContextId abc", "answered 429"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := startHook(t, answerWith(tc.status, tc.answer))
			res, logs, err := run(t, &Activities{Webhook: h.webhook(t)}, gate())
			activitytest.RequireRetryable(t, err, tc.want, strings.TrimPrefix(h.server.URL, "http://"), "retried")
			require.Zero(t, res)
			requireNoSecret(t, fmt.Sprintf("%v %+v %#v", err, err, err))
			requireNoSecret(t, logText(logs))
		})
	}
}

func TestAWebhookThatRefusesIsNotRetried(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		answer string
		want   string
	}{
		{"bad request", http.StatusBadRequest, "invalid_payload", "400: invalid_payload"},
		{"deleted", http.StatusNotFound, "no_service for PATH", "404: no_service for [redacted]"},
		{"forbidden", http.StatusForbidden, "action_prohibited", "403"},
		{"gone", http.StatusGone, "channel_is_archived", "410"},
		{"too large", http.StatusRequestEntityTooLarge, "", "413"},
		{"redirect", http.StatusMovedPermanently, "", "301"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := startHook(t, answerWith(tc.status, tc.answer))
			_, logs, err := run(t, &Activities{Webhook: h.webhook(t)}, gate())
			activitytest.RequireNonRetryable(t, err, ErrWebhookRefused, tc.want, strings.TrimPrefix(h.server.URL, "http://"),
				EnvWebhookURL, "Make a new incoming webhook", "starter status")
			requireNoSecret(t, fmt.Sprintf("%v %+v %#v", err, err, err))
			requireNoSecret(t, logText(logs))
		})
	}
}

func TestAWebhookThatIsNotThereIsRetried(t *testing.T) {
	h := startHook(t, answerWith(http.StatusOK, "ok"))
	w := h.webhook(t)
	h.server.Close()
	_, logs, err := run(t, &Activities{Webhook: w}, gate())
	activitytest.RequireRetryable(t, err, "post to the chat webhook on "+w.Host(), "retried")
	requireNoSecret(t, fmt.Sprintf("%v %+v %#v", err, err, err))
	requireNoSecret(t, logText(logs))
}

func TestAWebhookThatDoesNotAnswerTimesOut(t *testing.T) {
	release := make(chan struct{})
	h := startHook(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	client := &http.Client{Timeout: 100 * time.Millisecond}
	_, _, err := run(t, &Activities{Webhook: h.webhook(t), HTTPClient: client}, gate())
	activitytest.RequireRetryable(t, err, "Client.Timeout exceeded", "retried")
	requireNoSecret(t, fmt.Sprintf("%v %+v %#v", err, err, err))
}

func TestTheDefaultClientHasATimeoutAndFollowsNoRedirect(t *testing.T) {
	c := (&Activities{}).httpClient()
	require.Equal(t, DefaultTimeout, c.Timeout)
	require.ErrorIs(t, c.CheckRedirect(nil, nil), http.ErrUseLastResponse)

	mine := &http.Client{Timeout: time.Second}
	c = (&Activities{HTTPClient: mine}).httpClient()
	require.Equal(t, time.Second, c.Timeout)
	require.NotNil(t, c.CheckRedirect)
	require.Nil(t, mine.CheckRedirect, "the configured client is not changed")
}

// A gate's commands come fenced (workflows/gate.CommandsAsCode); in chat
// the whole message is one code block, so their fences go and the commands
// stay as they are typed.
func TestFencedCommandsStayCommandsInTheCodeBlock(t *testing.T) {
	g := gate()
	g.Instructions = "Read the report:\n\n```sh\nstarter report --workflow-id cutover-d-1234567890\n```\n\nThen decide."
	text := messageText(g.note(), g.Instructions, false)
	require.Equal(t, 2, strings.Count(text, "```"), "one code block, closed")
	require.Contains(t, text, "Read the report:\n\nstarter report --workflow-id cutover-d-1234567890\n\nThen decide.")
	require.NotContains(t, text, "'''")
}
