package e2e

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"

	"github.com/platformguide/ssocutover/internal/codec"
	"github.com/platformguide/ssocutover/internal/temporalclient"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/world"
)

// secretShaped looks like a token an SDK error might quote.
const secretShaped = "scim-token-Zx81qLmW0pTbV3nRyE6u"

func failingActivity(context.Context) error {
	return temporal.NewNonRetryableApplicationError("the endpoint refused the token "+secretShaped, "Refused", nil)
}

func failingWorkflow(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	return workflow.ExecuteActivity(ctx, "failingActivity").Get(ctx, nil)
}

// Failures travel through the codec as payloads do: the message of a failed
// activity and of the failed workflow is not in the history without the
// keys, and is through the codec server.
func TestFailuresAreEncryptedInHistory(t *testing.T) {
	e := startEnv(t, world.Sample(), sandbox.Faults{})
	keys, err := codec.KeySource{Keys: e2eCodecKeys}.LoadCodec()
	require.NoError(t, err)
	c, err := temporalclient.Options{Address: e.server.Address, Namespace: "default", Codec: keys}.Dial(context.Background(), zap.NewNop())
	require.NoError(t, err)
	defer c.Close()

	w := worker.New(c, "failure-codec-test", worker.Options{})
	w.RegisterWorkflowWithOptions(failingWorkflow, workflow.RegisterOptions{Name: "failingWorkflow"})
	w.RegisterActivityWithOptions(failingActivity, activity.RegisterOptions{Name: "failingActivity"})
	require.NoError(t, w.Start())
	defer w.Stop()

	run, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: "failure-codec-test", TaskQueue: "failure-codec-test"}, "failingWorkflow")
	require.NoError(t, err)
	err = run.Get(context.Background(), nil)
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app), "%v", err)
	require.Contains(t, app.Error(), secretShaped, "the worker and the starter read the message")

	raw := e.temporal(t, "workflow", "show", "--workflow-id", "failure-codec-test", "--output", "json")
	require.NotContains(t, raw, secretShaped)
	require.Contains(t, raw, "Encoded failure")
	for _, p := range historyPayloads(t, raw) {
		require.NotContains(t, string(p.data), secretShaped, p.path)
	}

	endpoint := e.startCodecServer(t)
	decoded := e.temporal(t, "workflow", "show", "--workflow-id", "failure-codec-test", "--output", "json", "--codec-endpoint", endpoint)
	var attributes []string
	for _, p := range historyPayloads(t, decoded) {
		if strings.Contains(p.path, "encodedAttributes") {
			attributes = append(attributes, string(p.data))
		}
	}
	require.NotEmpty(t, attributes)
	require.Contains(t, strings.Join(attributes, "\n"), secretShaped, "the codec server decodes the failure's message")
}
