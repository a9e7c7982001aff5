package cutover

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"

	"github.com/platformguide/ssocutover/activities/notify"
	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/step"
)

// A recheck runs the three activities again and comes back to the gate with
// the new report. Decisions sent while it runs are refused, not queued: they
// would be about a report nobody has seen yet.
func TestRecheckRunsThePreflightAgain(t *testing.T) {
	env := newEnv(t)
	f := &fakePreflight{summaries: []preflight.Summary{blockedSummary, cleanSummary}, delay: 10 * time.Minute}
	f.install(env)

	var recheck, approveDuringRecheck *updateOutcome
	var duringRecheck, afterRecheck workflows.CutoverStatus
	at(env, 15*time.Minute, func() {
		recheck = sendUpdate(t, env, workflows.OpRecheck, decision("bob", "fixed the duplicate e-mails", false))
	})
	at(env, 20*time.Minute, func() {
		env.SignalWorkflow(workflows.OpApprove, decision("alice", "go", true))
		approveDuringRecheck = sendUpdate(t, env, workflows.OpApprove, decision("alice", "go", true))
	})
	at(env, 21*time.Minute, func() { duringRecheck = queryStatus(t, env) })
	at(env, 30*time.Minute, func() { afterRecheck = queryStatus(t, env) })
	at(env, 31*time.Minute, func() { env.SignalWorkflow(workflows.OpApprove, decision("alice", "", false)) })

	env.ExecuteWorkflow(workflows.CutoverWorkflowName, testRequest())

	require.Equal(t, [3]int{2, 2, 2}, f.runs(), "each preflight activity ran once per run")
	require.Equal(t, runRef("aws-inventory", 2), f.entraInputs[1].AWSInventory)
	require.Equal(t, runRef("entra-inventory", 2), f.analysisInputs[1].EntraInventory)

	// While the recheck runs: no gate, the previous report still shown.
	require.Equal(t, workflows.PhasePreflight, duringRecheck.Phase)
	require.Nil(t, duringRecheck.Gate)
	require.Contains(t, duringRecheck.Step, "preflight run 2")
	require.Equal(t, 1, duringRecheck.Preflight.Run)
	require.ErrorContains(t, approveDuringRecheck.rejected, "approve refused: no gate is open now (preflight run 2")
	require.Len(t, duringRecheck.Refused, 1)
	require.Contains(t, duringRecheck.Refused[0].Error, "no gate is open now")

	// The recheck update answers once the gate is open again, with the new report.
	require.True(t, recheck.completed)
	require.NoError(t, recheck.err)
	require.Equal(t, workflows.PhaseAwaitingPreflight, recheck.status.Phase)
	require.NotNil(t, recheck.status.Gate)
	require.Equal(t, 2, recheck.status.Preflight.Run)
	require.Equal(t, cleanSummary, recheck.status.Preflight.Summary)
	require.Equal(t, recheck.status.Preflight, afterRecheck.Preflight)
	require.Contains(t, afterRecheck.Gate.Instructions, "The preflight (run 2)")
	require.Contains(t, afterRecheck.Gate.Instructions, "found 0 blockers")

	// Without blockers now, a plain approval goes through.
	res := passedPreflight(t, env)
	require.Equal(t, 2, res.Preflight.Run)
	require.Equal(t, runRef("preflight-report", 2), res.Preflight.Report)
	require.Len(t, res.Decisions, 2)
	require.Equal(t, workflows.OpRecheck, res.Decisions[0].Action)
	require.Equal(t, "bob", res.Decisions[0].By)
	require.Equal(t, workflows.OpApprove, res.Decisions[1].Action)
}

func TestRecheckBySignal(t *testing.T) {
	env := newEnv(t)
	f := &fakePreflight{summaries: []preflight.Summary{blockedSummary, blockedSummary, cleanSummary}}
	f.install(env)
	at(env, 1*time.Minute, func() { env.SignalWorkflow(workflows.OpRecheck, decision("bob", "", false)) })
	at(env, 2*time.Minute, func() { env.SignalWorkflow(workflows.OpRecheck, decision("bob", "second try", false)) })
	var third workflows.CutoverStatus
	at(env, 3*time.Minute, func() {
		third = queryStatus(t, env)
		env.SignalWorkflow(workflows.OpApprove, decision("alice", "", false))
	})

	env.ExecuteWorkflow(workflows.CutoverWorkflowName, testRequest())

	require.Equal(t, [3]int{3, 3, 3}, f.runs())
	require.Equal(t, 3, third.Preflight.Run)
	require.Equal(t, cleanSummary, third.Preflight.Summary)
	require.Empty(t, third.Refused)
	passedPreflight(t, env)
}

// A recheck whose preflight fails ends the cutover like a first run would;
// the recheck update answers with that error before the workflow ends.
func TestARecheckThatFailsEndsTheCutoverAndAnswersTheUpdate(t *testing.T) {
	env := newEnv(t)
	f := &fakePreflight{
		summaries:     []preflight.Summary{blockedSummary},
		awsErr:        temporal.NewNonRetryableApplicationError("ResourceNotFoundException: identity store d-1234567890 not found", "NotFound", nil),
		awsErrFromRun: 2,
	}
	f.install(env)
	var recheck *updateOutcome
	at(env, time.Minute, func() { recheck = sendUpdate(t, env, workflows.OpRecheck, decision("bob", "", false)) })

	env.ExecuteWorkflow(workflows.CutoverWorkflowName, testRequest())

	var appErr *temporal.ApplicationError
	require.True(t, errors.As(env.GetWorkflowError(), &appErr))
	require.Equal(t, workflows.ErrPreflightFailed, appErr.Type())
	require.Contains(t, appErr.Message(), "identity store d-1234567890 not found")
	require.True(t, recheck.accepted)
	require.True(t, recheck.completed, "the update answers before the workflow ends")
	require.ErrorContains(t, recheck.err, "identity store d-1234567890 not found")
	require.Equal(t, [3]int{2, 1, 1}, f.runs())
}

func TestAPreflightFailureEndsTheCutoverSayingWhatToDo(t *testing.T) {
	env := newEnv(t)
	f := &fakePreflight{
		summaries: []preflight.Summary{cleanSummary},
		awsErr: temporal.NewNonRetryableApplicationError(
			"AccessDeniedException: the worker's role may not call sso:ListInstances; grant it", "AccessDenied", nil),
	}
	f.install(env)
	var told []notify.Attention
	env.OnActivity(notify.NotifyAttentionName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in notify.Attention) (notify.NotifyGateOpenedResult, error) {
			told = append(told, in)
			return notify.NotifyGateOpenedResult{}, nil
		})

	env.ExecuteWorkflow(workflows.CutoverWorkflowName, testRequest())

	require.True(t, env.IsWorkflowCompleted())
	err := env.GetWorkflowError()
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "%v", err)
	require.Equal(t, workflows.ErrPreflightFailed, appErr.Type())
	require.True(t, appErr.NonRetryable())
	require.Len(t, told, 1, "people hear that the cutover stopped")
	require.Equal(t, "The cutover stopped", told[0].Problem)
	require.Contains(t, told[0].Detail, "sso:ListInstances")
	require.Equal(t,
		"the preflight failed while taking the inventory of Identity Center d-1234567890: "+
			"AccessDeniedException: the worker's role may not call sso:ListInstances; grant it. "+
			"Nothing was changed in AWS or Entra: fix this and start the cutover again.",
		appErr.Message())
	require.Equal(t, [3]int{1, 0, 0}, f.runs(), "a non-retryable error is not retried, and nothing after it runs")

	st := queryStatus(t, env)
	require.Equal(t, workflows.PhaseFailed, st.Phase)
	require.Equal(t, appErr.Message(), st.Step)
}

func TestAPreflightThatKeepsFailingStopsWithTheLastError(t *testing.T) {
	env := newEnv(t)
	f := &fakePreflight{
		summaries: []preflight.Summary{cleanSummary},
		awsErr:    temporal.NewApplicationError("identitystore ListUsers: 503 Service Unavailable", "ServiceUnavailable"),
	}
	f.install(env)

	env.ExecuteWorkflow(workflows.CutoverWorkflowName, testRequest())

	var appErr *temporal.ApplicationError
	require.True(t, errors.As(env.GetWorkflowError(), &appErr))
	require.Equal(t, workflows.ErrPreflightFailed, appErr.Type())
	require.Contains(t, appErr.Message(), "the preflight failed while taking the inventory of Identity Center d-1234567890: ")
	require.Contains(t, appErr.Message(), "identitystore ListUsers: 503 Service Unavailable. Nothing was changed")
	runs := f.runs()
	require.Greater(t, runs[0], 1, "a retryable error is retried")
	require.Zero(t, runs[1])
}

// How each way an activity can fail is told to the person. The failures are
// built as the server sends them.
func TestActivityFailureSaysWhyWithoutTheSDKWrapping(t *testing.T) {
	lastAttempt := &failurepb.Failure{
		Message: "identitystore ListUsers: 503 Service Unavailable",
		FailureInfo: &failurepb.Failure_ApplicationFailureInfo{ApplicationFailureInfo: &failurepb.ApplicationFailureInfo{
			Type: "ServiceUnavailable",
		}},
	}
	activityFailed := func(state enumspb.RetryState, cause *failurepb.Failure) error {
		return temporal.GetDefaultFailureConverter().FailureToError(&failurepb.Failure{
			Message: "activity error",
			Cause:   cause,
			FailureInfo: &failurepb.Failure_ActivityFailureInfo{ActivityFailureInfo: &failurepb.ActivityFailureInfo{
				ActivityType: &commonpb.ActivityType{Name: "InventoryAWS"},
				RetryState:   state,
			}},
		})
	}
	withCause := proto.Clone(lastAttempt).(*failurepb.Failure)
	withCause.Message = "cannot list users; check the worker's AWS credentials"
	withCause.Cause = &failurepb.Failure{Message: "ExpiredTokenException: the security token included in the request is expired"}

	cases := []struct {
		name string
		err  error
		want string
	}{
		{"non-retryable", activityFailed(enumspb.RETRY_STATE_NON_RETRYABLE_FAILURE, lastAttempt),
			"identitystore ListUsers: 503 Service Unavailable"},
		{"retried until its time ran out", activityFailed(enumspb.RETRY_STATE_TIMEOUT, lastAttempt),
			"it kept failing until its retries ran out of time; the last error: identitystore ListUsers: 503 Service Unavailable"},
		{"an attempt timed out", activityFailed(enumspb.RETRY_STATE_TIMEOUT, &failurepb.Failure{
			Message: "activity timeout",
			Cause:   lastAttempt,
			FailureInfo: &failurepb.Failure_TimeoutFailureInfo{TimeoutFailureInfo: &failurepb.TimeoutFailureInfo{
				TimeoutType: enumspb.TIMEOUT_TYPE_HEARTBEAT,
			}},
		}), "it kept failing until its retries ran out of time; an attempt timed out (Heartbeat); " +
			"the last error: identitystore ListUsers: 503 Service Unavailable"},
		{"with its cause", activityFailed(enumspb.RETRY_STATE_NON_RETRYABLE_FAILURE, withCause),
			"cannot list users; check the worker's AWS credentials: ExpiredTokenException: the security token included in the request is expired"},
	}
	for _, c := range cases {
		require.Equal(t, c.want, step.ActivityFailure(c.err), c.name)
	}
}

func TestAnInvalidRequestIsRefusedBeforeAnythingRuns(t *testing.T) {
	env := newEnv(t)
	f := &fakePreflight{summaries: []preflight.Summary{cleanSummary}}
	f.install(env)
	req := testRequest()
	req.Region = "Ireland"
	req.RequestedBy = ""

	env.ExecuteWorkflow(workflows.CutoverWorkflowName, req)

	var appErr *temporal.ApplicationError
	require.True(t, errors.As(env.GetWorkflowError(), &appErr))
	require.Equal(t, workflows.ErrInvalidRequest, appErr.Type())
	require.Contains(t, appErr.Message(), "fix the request file and start the cutover again")
	require.Contains(t, appErr.Message(), `region "Ireland": want an AWS region such as eu-west-1`)
	require.Contains(t, appErr.Message(), "requestedBy: name the person starting the cutover")
	require.Equal(t, [3]int{0, 0, 0}, f.runs())
	require.Equal(t, workflows.PhaseFailed, queryStatus(t, env).Phase)
}

func TestACutoverMustRunUnderTheWorkflowIDOfItsIdentityStore(t *testing.T) {
	env := newEnv(t)
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: "my-cutover"})
	f := &fakePreflight{summaries: []preflight.Summary{cleanSummary}}
	f.install(env)

	env.ExecuteWorkflow(workflows.CutoverWorkflowName, testRequest())

	var appErr *temporal.ApplicationError
	require.True(t, errors.As(env.GetWorkflowError(), &appErr))
	require.Equal(t, workflows.ErrInvalidRequest, appErr.Type())
	require.Contains(t, appErr.Message(), `this cutover runs as workflow "my-cutover"`)
	require.Contains(t, appErr.Message(), "--workflow-id cutover-d-1234567890")
	require.Equal(t, [3]int{0, 0, 0}, f.runs())
}
