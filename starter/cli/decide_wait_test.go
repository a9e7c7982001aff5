package cli

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"

	"github.com/platformguide/ssocutover/internal/activitytest"
	"github.com/platformguide/ssocutover/sandbox/devserver"
	"github.com/platformguide/ssocutover/workflows"
)

// slowDecisionWorkflow accepts an approve at once and carries it out only
// when signalled "carried-out", as a cutover whose worker died in the
// activity that carries a decision out.
func slowDecisionWorkflow(ctx workflow.Context) (string, error) {
	carried := false
	if err := workflow.SetUpdateHandler(ctx, workflows.OpApprove, func(ctx workflow.Context, _ workflows.GateDecision) (string, error) {
		workflow.GetSignalChannel(ctx, "carried-out").Receive(ctx, nil)
		carried = true
		return "carried out", nil
	}); err != nil {
		return "", err
	}
	return "done", workflow.Await(ctx, func() bool { return carried })
}

func TestSendDecisionSaysWhenItIsStillBeingCarriedOut(t *testing.T) {
	cliPath, err := devserver.FindTemporalCLI("", os.Getenv)
	require.NoError(t, err, "the Temporal CLI is built by `make test` into bin/temporal")
	ctx := context.Background()
	server, err := devserver.Start(ctx, devserver.Options{CLIPath: cliPath, Headless: true,
		DBFile: filepath.Join(t.TempDir(), "temporal.db"), Log: &activitytest.SyncBuffer{}}, zap.NewNop())
	require.NoError(t, err)
	t.Cleanup(func() { _ = server.Stop() })
	tc, err := client.Dial(client.Options{HostPort: server.Address})
	require.NoError(t, err)
	t.Cleanup(tc.Close)
	w := worker.New(tc, "decide-wait", worker.Options{})
	w.RegisterWorkflow(slowDecisionWorkflow)
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "slow-decision", TaskQueue: "decide-wait"}, slowDecisionWorkflow)
	require.NoError(t, err)

	defer func(wait time.Duration) { DecisionWait = wait }(DecisionWait)
	DecisionWait = 300 * time.Millisecond
	_, err = SendDecision[string](ctx, tc, "slow-decision", workflows.OpApprove, workflows.GateDecision{Gate: "g", By: "alice"})
	require.ErrorIs(t, err, ErrStillCarryingOut)
	require.ErrorContains(t, err, "approve was accepted by slow-decision")
	require.ErrorContains(t, err, "starter status --workflow-id slow-decision")

	// Carried out later: the workflow ends having taken it once.
	require.NoError(t, tc.SignalWorkflow(ctx, "slow-decision", "", "carried-out", nil))
	var result string
	require.NoError(t, run.Get(ctx, &result))
	require.Equal(t, "done", result)
}

func TestAnUpdateThatNeverReachedTheWorkflowIsSentAgain(t *testing.T) {
	require.True(t, updateNotDelivered(errors.New("Unable to perform workflow execution update due to unexpected workflow task failure.")))
	require.True(t, updateNotDelivered(serviceerror.NewUnavailable("frontend restarting")))
	require.True(t, updateNotDelivered(serviceerror.NewAborted("update aborted")))
	require.False(t, updateNotDelivered(temporal.NewApplicationError("approve refused: no gate is open", "Refused")), "a refusal is final")
	require.False(t, updateNotDelivered(serviceerror.NewNotFound("workflow not found")))
	require.False(t, updateNotDelivered(context.DeadlineExceeded))
}
