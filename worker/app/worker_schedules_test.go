package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"

	"github.com/platformguide/ssocutover/activities/analysis"
	"github.com/platformguide/ssocutover/activities/entra"
	"github.com/platformguide/ssocutover/activities/identitycenter"
	"github.com/platformguide/ssocutover/activities/notify"
	"github.com/platformguide/ssocutover/activities/schedules"
	"github.com/platformguide/ssocutover/activities/schedules/schedulestest"
	"github.com/platformguide/ssocutover/activities/scim"
	"github.com/platformguide/ssocutover/internal/temporalclient"
	"github.com/platformguide/ssocutover/worker/app"
	"github.com/platformguide/ssocutover/workflows"
)

// scheduleRotation calls the schedule activity by name, as the cutover does.
func scheduleRotation(ctx workflow.Context, in schedules.EnsureRotationScheduleInput) (schedules.EnsureRotationScheduleResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	var res schedules.EnsureRotationScheduleResult
	err := workflow.ExecuteActivity(ctx, schedules.EnsureRotationScheduleName, in).Get(ctx, &res)
	return res, err
}

func TestNewWorkerRegistersTheScheduleActivityOnItsClient(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	server, err := schedulestest.Start(ctx)
	require.NoError(t, err, "build the Temporal CLI with `make tools`")
	t.Cleanup(server.Stop)

	// The other activities are registered but never called here.
	acts := app.Activities{
		IdentityCenter: &identitycenter.Activities{},
		Entra:          &entra.Activities{},
		SCIM:           &scim.Activities{},
		Analysis:       &analysis.Activities{},
		Notify:         &notify.Activities{},
	}
	w := app.NewWorker(server.Client, acts, app.Config{})
	w.RegisterWorkflow(scheduleRotation)
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)

	const store = "d-3000000001"
	in := schedules.EnsureRotationScheduleInput{Request: schedulestest.Request(store), Every: "12h"}
	run, err := server.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: temporalclient.TaskQueue}, scheduleRotation, in)
	require.NoError(t, err)
	var res schedules.EnsureRotationScheduleResult
	require.NoError(t, run.Get(ctx, &res))
	require.Equal(t, schedules.EnsureRotationScheduleResult{ScheduleID: workflows.RotationScheduleID(store), Created: true}, res)

	// The worker's client wrote it, with the worker's codec: the starter's
	// data converter reads it back.
	info, err := schedules.DescribeRotation(ctx, server.Client.ScheduleClient(), server.DataConverter, store)
	require.NoError(t, err)
	require.Equal(t, in.Request, info.Request)
	require.Equal(t, 12*time.Hour, info.Every)
}
