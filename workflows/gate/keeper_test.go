package gate

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/platformguide/ssocutover/activities/notify"
	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/workflowtest"
)

// The keeper on its own, in a workflow that has one gate: what both real
// workflows rely on, tested once here.

// keeperStatus is the test workflow's status: a phase, a step and the gate
// state, as the real statuses have them.
type keeperStatus struct {
	Phase string `json:"phase"`
	Step  string `json:"step"`
	workflows.GateState
	Reminders int `json:"reminders"`
}

// keeperResult is how the wait at the test gate ended.
type keeperResult struct {
	Decision  *workflows.Decision `json:"decision,omitempty"`
	Error     string              `json:"error,omitempty"`
	Reminders int                 `json:"reminders"`
}

const testGate = "test-gate"

// keeperWorkflow waits once at testGate, reminding after an hour twice,
// then (if giveUp) giving up or reminding every two hours.
func keeperWorkflow(ctx workflow.Context, giveUp bool) (keeperResult, error) {
	st := &keeperStatus{GateState: NewState()}
	k := &Keeper{
		State: &st.GateState,
		SetStep: func(_ workflow.Context, phase, step string) {
			st.Phase, st.Step = phase, step
			if strings.HasPrefix(step, "REMINDER") {
				st.Reminders++
			}
		},
		Publish:         func(workflow.Context) {},
		Step:            func() string { return st.Step },
		Kind:            "test",
		IdentityStoreID: workflowtest.IdentityStoreID,
		Summary:         func() string { return "a test" },
	}
	snapshot := func() keeperStatus { s := *st; s.GateState = CopyState(s.GateState); return s }
	if err := Listen(ctx, k, "test status", []string{workflows.OpReject, workflows.OpApprove}, snapshot); err != nil {
		return keeperResult{}, err
	}
	p := Patience{Reminders: []time.Duration{time.Hour, time.Hour}, Again: 2 * time.Hour}
	if giveUp {
		p.GiveUp = func() error { return errors.New("nobody answered") }
	}
	d, err := k.Wait(ctx, &Gate{
		Name: testGate, Phase: "waiting", Instructions: "Decide.",
		Operations: []string{workflows.OpApprove, workflows.OpReject},
	}, p)
	if err != nil {
		// The workflow goes on after a give-up (the cutover rolls back);
		// announcements do not hold it up, so they need the time to go out.
		_ = workflow.Sleep(ctx, time.Minute)
		return keeperResult{Error: err.Error(), Reminders: st.Reminders}, nil
	}
	d.CarriedOut(nil)
	AwaitAnswers(ctx)
	return keeperResult{Decision: &d.Decision, Reminders: st.Reminders}, nil
}

func newKeeperEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, *atomic.Int32) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: "keeper-test"})
	env.RegisterWorkflow(keeperWorkflow)
	announcements := new(atomic.Int32)
	env.RegisterActivityWithOptions(func(context.Context, notify.GateOpened) (notify.NotifyGateOpenedResult, error) {
		announcements.Add(1)
		return notify.NotifyGateOpenedResult{}, nil
	}, activity.RegisterOptions{Name: notify.NotifyGateOpenedName})
	return env, announcements
}

func TestKeeperRemindsThenGivesUpAndClosesTheGate(t *testing.T) {
	env, announcements := newKeeperEnv(t)
	env.ExecuteWorkflow(keeperWorkflow, true)

	res := workflowtest.ResultAs[keeperResult](t, env)
	require.Equal(t, "nobody answered", res.Error)
	require.Equal(t, 2, res.Reminders, "a reminder after each of the two waits, then the give-up")
	require.EqualValues(t, 3, announcements.Load(), "the opening and each reminder are announced")
	st := workflowtest.StatusAs[keeperStatus](t, env)
	require.Nil(t, st.Gate, "a gate that gave up is closed")
}

func TestKeeperKeepsRemindingUntilADecision(t *testing.T) {
	env, _ := newKeeperEnv(t)
	env.RegisterDelayedCallback(func() {
		st := workflowtest.StatusAs[keeperStatus](t, env)
		require.NotNil(t, st.Gate)
		require.False(t, st.Gate.RemindedAt.IsZero(), "the status says when it last reminded")
		env.SignalWorkflow(workflows.OpApprove, workflows.GateDecision{Gate: testGate, By: "alice"})
	}, 7*time.Hour)
	env.ExecuteWorkflow(keeperWorkflow, false)

	res := workflowtest.ResultAs[keeperResult](t, env)
	require.Empty(t, res.Error)
	require.Equal(t, 4, res.Reminders, "reminders at 1h and 2h, then every 2h: 4h and 6h")
	require.Equal(t, workflows.OpApprove, res.Decision.Action)
	require.Equal(t, "alice", res.Decision.By)
}

// One set of rules for signals and updates: a signal the gate cannot take
// is recorded as refused and changes nothing; an update is refused to its
// sender before it enters history; the first valid decision closes the gate.
func TestKeeperTakesOnlyWhatTheOpenGateTakes(t *testing.T) {
	env, _ := newKeeperEnv(t)
	var wrongGate, signed, accepted *updateResult
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.OpApprove, workflows.GateDecision{Gate: "elsewhere", By: "mallory"})
		env.SignalWorkflow(workflows.OpReject, workflows.GateDecision{Gate: testGate, By: "bob"}) // no reason
		wrongGate = sendUpdate(env, workflows.OpApprove, workflows.GateDecision{Gate: "elsewhere", By: "mallory"})
		signed = sendUpdate(env, workflows.OpApprove, workflows.GateDecision{Gate: testGate, By: "eve", SignedAt: "2026-01-01T00:00:00Z", Signature: "x"})
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		accepted = sendUpdate(env, workflows.OpApprove, workflows.GateDecision{Gate: testGate, By: "alice", Reason: "fine"})
	}, 2*time.Minute)
	env.ExecuteWorkflow(keeperWorkflow, false)

	res := workflowtest.ResultAs[keeperResult](t, env)
	require.Equal(t, "alice", res.Decision.By)
	require.ErrorContains(t, wrongGate.rejected, `gate "elsewhere" is not open; the open gate is "test-gate"`)
	require.ErrorContains(t, signed.rejected, "takes no signed decisions", "without Signing every signature is refused")
	require.True(t, accepted.completed)
	require.NoError(t, accepted.err)

	st := workflowtest.StatusAs[keeperStatus](t, env)
	require.Len(t, st.Decisions, 1, "refused decisions are not decisions")
	require.Equal(t, 2, st.RefusedTotal, "the two refused signals, not the updates (their senders were told)")
	require.Equal(t, "mallory", st.Refused[0].By)
	require.Contains(t, st.Refused[1].Error, `reject needs a "reason"`)
}

// updateResult is how the workflow answered one update.
type updateResult struct {
	rejected  error
	completed bool
	err       error
}

func sendUpdate(env *testsuite.TestWorkflowEnvironment, op string, in workflows.GateDecision) *updateResult {
	out := &updateResult{}
	env.UpdateWorkflow(op, "", &testsuite.TestUpdateCallback{
		OnAccept:   func() {},
		OnReject:   func(err error) { out.rejected = err },
		OnComplete: func(_ any, err error) { out.completed, out.err = true, err },
	}, in)
	return out
}
