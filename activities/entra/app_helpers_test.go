package entra_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/platformguide/ssocutover/activities/entra"
	"github.com/platformguide/ssocutover/internal/graphclient"
	"github.com/platformguide/ssocutover/internal/store"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/world"
)

const appName = "AWS IAM Identity Center d-1234567890"

// appFixture is a sandbox, a fault proxy in front of its Graph listener,
// and the Entra activities pointed at the proxy.
type appFixture struct {
	sb    *sandbox.Sandbox
	proxy *faultProxy
	acts  *entra.Activities
	store store.Dir
	world *world.World
}

// newAppFixture serves w (handMadeWorld when nil) with the given instantiate
// delay; wait is the activities' AppVisibilityWait.
func newAppFixture(t *testing.T, w *world.World, delay, wait time.Duration) *appFixture {
	t.Helper()
	if w == nil {
		w = handMadeWorld()
	}
	sb, err := sandbox.Start(w, sandbox.Options{Graph: sandbox.GraphOptions{InstantiateDelay: delay}})
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	proxy := newFaultProxy(t, sb.GraphURL)
	graph, err := graphclient.New(graphclient.Config{BaseURL: proxy.URL, StaticToken: "sandbox-token", RequestsPerSecond: -1})
	require.NoError(t, err)
	st := store.Dir{Path: t.TempDir()}
	return &appFixture{
		sb:    sb,
		proxy: proxy,
		acts: &entra.Activities{
			Graph: graph, Store: st, AppVisibilityWait: wait,
			// The sandbox serves login.microsoftonline.com's metadata on
			// its Graph listener.
			LoginBaseURL: proxy.URL,
		},
		store: st,
		world: w,
	}
}

// activityEnv runs activities as Temporal runs them, heartbeats included.
func activityEnv(acts *entra.Activities) *testsuite.TestActivityEnvironment {
	suite := &testsuite.WorkflowTestSuite{}
	suite.SetLogger(quietLogger())
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	return env
}

// quietLogger keeps warnings: the SDK logs every heartbeat at debug level.
func quietLogger() log.Logger {
	return log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
}

// execute runs one activity once and decodes its result into out.
func execute(t *testing.T, acts *entra.Activities, name string, in, out any) error {
	t.Helper()
	encoded, err := activityEnv(acts).ExecuteActivity(name, in)
	if err != nil {
		return err
	}
	require.NoError(t, encoded.Get(out))
	return nil
}

// retryWorkflow runs one activity with Temporal's retries (up to three
// attempts, heartbeat details carried from one to the next), as the
// cutover workflow does; TestActivityEnvironment runs a single attempt.
func retryWorkflow(ctx workflow.Context, name string, in entra.EnsureEnterpriseAppInput) (entra.EnsureEnterpriseAppResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		HeartbeatTimeout:    30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 10 * time.Millisecond, MaximumAttempts: 3},
	})
	var res entra.EnsureEnterpriseAppResult
	err := workflow.ExecuteActivity(ctx, name, in).Get(ctx, &res)
	return res, err
}

// ensureWithRetries runs EnsureEnterpriseApp with retries and returns its
// result and the attempts the activity made.
func ensureWithRetries(t *testing.T, f *appFixture, in entra.EnsureEnterpriseAppInput) (entra.EnsureEnterpriseAppResult, []int32) {
	t.Helper()
	suite := &testsuite.WorkflowTestSuite{}
	suite.SetLogger(quietLogger())
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(retryWorkflow)
	env.RegisterActivity(f.acts)
	var mu sync.Mutex
	var attempts []int32
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		mu.Lock()
		attempts = append(attempts, info.Attempt)
		mu.Unlock()
	})
	env.ExecuteWorkflow(retryWorkflow, entra.EnsureEnterpriseAppName, in)
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res entra.EnsureEnterpriseAppResult
	require.NoError(t, env.GetWorkflowResult(&res))
	return res, attempts
}

// faultProxy passes requests to the sandbox and can fail chosen ones: after
// the sandbox has carried the request out (the answer is lost), or before
// (Graph refuses it).
type faultProxy struct {
	URL    string
	target *httputil.ReverseProxy

	mu    sync.Mutex
	rules []*faultRule
	// seen counts requests by method and path.
	seen map[string]int
}

// faultRule fails the next times requests whose "METHOD path" ends with
// match: lose drops the answer after the sandbox acted (status 0: the
// connection is closed; else that status); refuse answers with a Graph
// error instead of passing the request on.
type faultRule struct {
	match  string
	times  int
	lose   bool
	status int
	body   string
	// then, when set, runs after the sandbox carried a lost request out.
	then func()
}

func newFaultProxy(t *testing.T, graphURL string) *faultProxy {
	t.Helper()
	target, err := url.Parse(graphURL)
	require.NoError(t, err)
	p := &faultProxy{target: httputil.NewSingleHostReverseProxy(target), seen: map[string]int{}}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// loseAnswer makes the next times requests matching match be carried out
// and their answers lost: the connection is closed (status 0) or the
// answer replaced by status, as a gateway that timed out.
func (p *faultProxy) loseAnswer(match string, times, status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append(p.rules, &faultRule{match: match, times: times, lose: true, status: status})
}

// loseAnswerThen loses the next answer to a request matching match and
// calls then (to stop the worker, say) before closing the connection.
func (p *faultProxy) loseAnswerThen(match string, then func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append(p.rules, &faultRule{match: match, times: 1, lose: true, then: then})
}

// refuse makes requests matching match fail with a Graph error.
func (p *faultProxy) refuse(match string, status int, code, message string) {
	p.answer(match, status, `{"error":{"code":"`+code+`","message":"`+message+`"}}`)
}

// answer makes the proxy answer requests matching match itself, with
// status and a JSON body.
func (p *faultProxy) answer(match string, status int, body string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append(p.rules, &faultRule{match: match, times: -1, status: status, body: body})
}

func (p *faultProxy) count(match string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for k, v := range p.seen {
		if strings.HasSuffix(k, match) {
			n += v
		}
	}
	return n
}

func (p *faultProxy) rule(r *http.Request) *faultRule {
	p.mu.Lock()
	defer p.mu.Unlock()
	key := r.Method + " " + r.URL.Path
	p.seen[key]++
	for _, rule := range p.rules {
		if rule.times != 0 && strings.HasSuffix(key, rule.match) {
			if rule.times > 0 {
				rule.times--
			}
			return rule
		}
	}
	return nil
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rule := p.rule(r)
	switch {
	case rule == nil:
		p.target.ServeHTTP(w, r)
	case rule.lose:
		p.target.ServeHTTP(httptest.NewRecorder(), r)
		if rule.then != nil {
			rule.then()
		}
		if rule.status != 0 {
			w.WriteHeader(rule.status)
			return
		}
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rule.status)
		_, _ = w.Write([]byte(rule.body))
	}
}

func ptr[T any](v T) *T { return &v }

// requireRetryable checks that err is an error Temporal retries.
