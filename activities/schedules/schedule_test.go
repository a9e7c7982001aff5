package schedules_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/platformguide/ssocutover/activities/schedules"
	"github.com/platformguide/ssocutover/activities/schedules/schedulestest"
	"github.com/platformguide/ssocutover/internal/codec"
	"github.com/platformguide/ssocutover/internal/temporalclient"
	"github.com/platformguide/ssocutover/workflows"
)

// server is the dev server all tests share; each test uses its own
// identity store, so its own schedule.

// finishSignal lets a fake rotation run end.
const finishSignal = "finish"

// fakeRotation stands in for the rotation: it waits, as a real run waits
// at a gate, until told to finish, and returns the request it was given.
func fakeRotation(ctx workflow.Context, req workflows.ScimTokenRotationRequest) (workflows.ScimTokenRotationRequest, error) {
	workflow.GetSignalChannel(ctx, finishSignal).Receive(ctx, nil)
	return req, nil
}

// startFakeWorker runs a worker with fakeRotation under the rotation's name.
func startFakeWorker(t *testing.T) {
	t.Helper()
	w := worker.New(server.Client, temporalclient.TaskQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(fakeRotation, workflow.RegisterOptions{Name: workflows.RotationWorkflowName})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
}

func TestEnsureRotationCreatesADailyScheduleWithTheRequestEncrypted(t *testing.T) {
	ctx := context.Background()
	const store = "d-1000000001"
	deleteSchedule(t, store)
	req := schedulestest.Request(store)

	created, err := schedules.EnsureRotation(ctx, server.Client.ScheduleClient(), schedules.RotationSchedule{Request: req})
	require.NoError(t, err)
	require.True(t, created)

	info, err := schedules.DescribeRotation(ctx, server.Client.ScheduleClient(), server.DataConverter, store)
	require.NoError(t, err)
	require.Equal(t, workflows.RotationScheduleID(store), info.ScheduleID)
	require.Equal(t, schedules.DefaultEvery, info.Every)
	require.Equal(t, req, info.Request)
	require.False(t, info.Paused)
	require.Empty(t, info.Running)
	require.Empty(t, info.Recent)
	require.NotEmpty(t, info.NextRuns)
	require.WithinDuration(t, time.Now().Add(schedules.DefaultEvery/2), info.NextRuns[0], schedules.DefaultEvery/2+time.Minute,
		"the first run is within a day")
	for i := 1; i < len(info.NextRuns); i++ {
		require.Equal(t, schedules.DefaultEvery, info.NextRuns[i].Sub(info.NextRuns[i-1]))
	}

	raw, err := server.Client.WorkflowService().DescribeSchedule(ctx, &workflowservice.DescribeScheduleRequest{
		Namespace: temporalclient.DefaultNamespace, ScheduleId: info.ScheduleID,
	})
	require.NoError(t, err)
	start := raw.Schedule.Action.GetStartWorkflow()
	require.Equal(t, workflows.RotationWorkflowName, start.WorkflowType.Name)
	require.Equal(t, temporalclient.TaskQueue, start.TaskQueue.Name)
	require.Equal(t, info.ScheduleID, start.WorkflowId)
	require.Equal(t, enumspb.SCHEDULE_OVERLAP_POLICY_SKIP, raw.Schedule.Policies.OverlapPolicy)
	require.Equal(t, "SCIM token rotation of "+store, raw.Schedule.State.Notes)
	require.Len(t, start.Input.Payloads, 1)
	payload := start.Input.Payloads[0]
	require.True(t, codec.IsEncrypted(payload), "the server stores the request encrypted")
	require.NotContains(t, string(payload.Data), req.JobID)

	_, err = schedules.DescribeRotation(ctx, server.Client.ScheduleClient(), nil, store)
	require.ErrorContains(t, err, "payload keys", "without the key the request cannot be read, and the error says what to give")
}

func TestEnsureRotationUpdatesTheScheduleThatExists(t *testing.T) {
	ctx := context.Background()
	const store = "d-1000000002"
	deleteSchedule(t, store)
	sc := server.Client.ScheduleClient()
	first := schedulestest.Request(store)
	created, err := schedules.EnsureRotation(ctx, sc, schedules.RotationSchedule{Request: first})
	require.NoError(t, err)
	require.True(t, created)
	// A person paused it; an update must not start it again behind their back.
	require.NoError(t, sc.GetHandle(ctx, workflows.RotationScheduleID(store)).Pause(ctx, client.SchedulePauseOptions{Note: "holiday"}))

	changed := first
	changed.JobID = "AWSSCIM.aaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbb"
	changed.WarningWindow = "1000h"
	for range 2 {
		created, err = schedules.EnsureRotation(ctx, sc, schedules.RotationSchedule{Request: changed, Every: 6 * time.Hour})
		require.NoError(t, err)
		require.False(t, created)
	}

	info, err := schedules.DescribeRotation(ctx, sc, server.DataConverter, store)
	require.NoError(t, err)
	require.Equal(t, changed, info.Request)
	require.Equal(t, 6*time.Hour, info.Every)
	require.True(t, info.Paused)

	// Only one schedule runs the identity store's rotation.
	require.Eventually(t, func() bool {
		it, err := sc.List(ctx, client.ScheduleListOptions{})
		if err != nil {
			return false
		}
		n := 0
		for it.HasNext() {
			entry, err := it.Next()
			if err != nil {
				return false
			}
			if strings.Contains(entry.ID, store) {
				n++
			}
		}
		return n == 1
	}, 10*time.Second, 200*time.Millisecond)
}

func TestEnsureRotationRefusesAnInvalidScheduleAndCreatesNothing(t *testing.T) {
	ctx := context.Background()
	const store = "d-1000000003"
	deleteSchedule(t, store)
	valid := schedulestest.Request(store)
	noJob := valid
	noJob.JobID = ""
	shortWindow := valid
	shortWindow.WarningWindow = "2h"

	for _, tc := range []struct {
		name     string
		schedule schedules.RotationSchedule
		want     string
	}{
		{"invalid request", schedules.RotationSchedule{Request: noJob}, "jobId"},
		{"too often", schedules.RotationSchedule{Request: valid, Every: time.Second}, "between 1m0s and 168h0m0s"},
		{"too rarely", schedules.RotationSchedule{Request: valid, Every: 30 * 24 * time.Hour}, "between 1m0s and 168h0m0s"},
		{"longer than the warning window", schedules.RotationSchedule{Request: shortWindow, Every: 3 * time.Hour}, "widen warningWindow"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := schedules.EnsureRotation(ctx, server.Client.ScheduleClient(), tc.schedule)
			require.ErrorContains(t, err, tc.want)
			require.ErrorContains(t, err, store)
		})
	}
	_, err := schedules.DescribeRotation(ctx, server.Client.ScheduleClient(), server.DataConverter, store)
	require.ErrorIs(t, err, schedules.ErrNoSchedule)
}

func TestTriggerRotationStartsOneRunAndNoTwinWhileItRuns(t *testing.T) {
	ctx := context.Background()
	const store = "d-1000000004"
	deleteSchedule(t, store)
	startFakeWorker(t)
	sc := server.Client.ScheduleClient()
	req := schedulestest.Request(store)
	_, err := schedules.EnsureRotation(ctx, sc, schedules.RotationSchedule{Request: req})
	require.NoError(t, err)

	require.NoError(t, schedules.TriggerRotation(ctx, sc, store))
	var info schedules.RotationInfo
	require.Eventually(t, func() bool {
		info, err = schedules.DescribeRotation(ctx, sc, server.DataConverter, store)
		return err == nil && len(info.Running) == 1 && len(info.Recent) == 1
	}, 20*time.Second, 200*time.Millisecond, "a triggered run starts")
	running := info.Running[0]
	require.True(t, strings.HasPrefix(running.WorkflowID, workflows.RotationScheduleID(store)+"-"), running.WorkflowID)
	require.NotEmpty(t, running.RunID)
	recent := info.Recent[0]
	require.Equal(t, running.WorkflowID, recent.WorkflowID)
	require.Equal(t, running.RunID, recent.RunID)
	require.WithinDuration(t, time.Now(), recent.ActualAt, time.Minute)
	require.False(t, recent.ScheduledAt.IsZero())

	// A second trigger while the first run waits is skipped.
	require.NoError(t, schedules.TriggerRotation(ctx, sc, store))
	require.Eventually(t, func() bool {
		desc, err := sc.GetHandle(ctx, info.ScheduleID).Describe(ctx)
		return err == nil && desc.Info.NumActionsSkippedOverlap == 1
	}, 20*time.Second, 200*time.Millisecond, "the second trigger is skipped")
	info, err = schedules.DescribeRotation(ctx, sc, server.DataConverter, store)
	require.NoError(t, err)
	require.Equal(t, []schedules.Run{running}, info.Running)
	require.Len(t, info.Recent, 1)

	// The run got the request, decrypted by the worker.
	require.NoError(t, server.Client.SignalWorkflow(ctx, running.WorkflowID, running.RunID, finishSignal, nil))
	var got workflows.ScimTokenRotationRequest
	require.NoError(t, server.Client.GetWorkflow(ctx, running.WorkflowID, running.RunID).Get(ctx, &got))
	require.Equal(t, req, got)

	// Once it is over, a trigger starts the next run, shown newest last.
	require.Eventually(t, func() bool {
		info, err = schedules.DescribeRotation(ctx, sc, server.DataConverter, store)
		return err == nil && len(info.Running) == 0
	}, 20*time.Second, 200*time.Millisecond)
	require.NoError(t, schedules.TriggerRotation(ctx, sc, store))
	require.Eventually(t, func() bool {
		info, err = schedules.DescribeRotation(ctx, sc, server.DataConverter, store)
		return err == nil && len(info.Recent) == 2
	}, 20*time.Second, 200*time.Millisecond)
	require.Equal(t, running.WorkflowID, info.Recent[0].WorkflowID)
	// Triggered in the same second, the run may have the same workflow ID
	// (Temporal appends the time to the second): it is another run.
	require.NotEqual(t, running.RunID, info.Recent[1].RunID)
	require.False(t, info.Recent[1].ActualAt.Before(info.Recent[0].ActualAt))
	for _, r := range info.Running {
		require.NoError(t, server.Client.SignalWorkflow(ctx, r.WorkflowID, r.RunID, finishSignal, nil))
	}
}

func TestNoScheduleSaysHowToCreateIt(t *testing.T) {
	ctx := context.Background()
	const store = "d-1000000005"
	_, err := schedules.DescribeRotation(ctx, server.Client.ScheduleClient(), server.DataConverter, store)
	require.ErrorIs(t, err, schedules.ErrNoSchedule)
	require.ErrorContains(t, err, "starter rotation schedule")
	require.ErrorContains(t, err, store)

	err = schedules.TriggerRotation(ctx, server.Client.ScheduleClient(), store)
	require.ErrorIs(t, err, schedules.ErrNoSchedule)
}
