package schedules_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/platformguide/ssocutover/activities/schedules"
	"github.com/platformguide/ssocutover/activities/schedules/schedulestest"
	"github.com/platformguide/ssocutover/workflows"
)

var server *schedulestest.Server

func TestMain(m *testing.M) { schedulestest.Main(m, &server) }

// run executes the activity once, as a worker would, by its name.
func run(t *testing.T, acts *schedules.Activities, in schedules.EnsureRotationScheduleInput) (schedules.EnsureRotationScheduleResult, error) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	val, err := env.ExecuteActivity(schedules.EnsureRotationScheduleName, in)
	if err != nil {
		return schedules.EnsureRotationScheduleResult{}, err
	}
	var res schedules.EnsureRotationScheduleResult
	require.NoError(t, val.Get(&res))
	return res, nil
}

func deleteSchedule(t *testing.T, identityStoreID string) {
	t.Cleanup(func() {
		_ = server.Client.ScheduleClient().GetHandle(context.Background(), workflows.RotationScheduleID(identityStoreID)).Delete(context.Background())
	})
}

func describe(t *testing.T, identityStoreID string) schedules.RotationInfo {
	t.Helper()
	info, err := schedules.DescribeRotation(context.Background(), server.Client.ScheduleClient(), server.DataConverter, identityStoreID)
	require.NoError(t, err)
	return info
}

func TestEnsureRotationScheduleCreatesThenUpdates(t *testing.T) {
	const store = "d-2000000001"
	deleteSchedule(t, store)
	acts := &schedules.Activities{Schedules: server.Client.ScheduleClient()}
	req := schedulestest.Request(store)

	res, err := run(t, acts, schedules.EnsureRotationScheduleInput{Request: req})
	require.NoError(t, err)
	require.Equal(t, schedules.EnsureRotationScheduleResult{ScheduleID: workflows.RotationScheduleID(store), Created: true}, res)
	require.Equal(t, schedules.DefaultEvery, describe(t, store).Every)

	req.NotificationEmail = "ops@corp.example"
	res, err = run(t, acts, schedules.EnsureRotationScheduleInput{Request: req, Every: "12h"})
	require.NoError(t, err)
	require.Equal(t, schedules.EnsureRotationScheduleResult{ScheduleID: workflows.RotationScheduleID(store), Created: false}, res)
	info := describe(t, store)
	require.Equal(t, 12*time.Hour, info.Every)
	require.Equal(t, req, info.Request)
}

// lostAnswer creates the schedule on the server, then fails as if the
// answer had been lost on the way back.
type lostAnswer struct {
	client.ScheduleClient
}

func (l lostAnswer) Create(ctx context.Context, options client.ScheduleOptions) (client.ScheduleHandle, error) {
	if _, err := l.ScheduleClient.Create(ctx, options); err != nil {
		return nil, err
	}
	return nil, serviceerror.NewUnavailable("connection reset after the schedule was created")
}

func TestEnsureRotationScheduleRetriedAfterALostAnswerFindsTheSchedule(t *testing.T) {
	const store = "d-2000000002"
	deleteSchedule(t, store)
	req := schedulestest.Request(store)
	in := schedules.EnsureRotationScheduleInput{Request: req, Every: "6h"}

	_, err := run(t, &schedules.Activities{Schedules: lostAnswer{server.Client.ScheduleClient()}}, in)
	require.Error(t, err)
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		require.False(t, appErr.NonRetryable(), "a lost answer is retried: %v", err)
	}

	// The retry (here with the client that works) finds the schedule.
	res, err := run(t, &schedules.Activities{Schedules: server.Client.ScheduleClient()}, in)
	require.NoError(t, err)
	require.False(t, res.Created)
	info := describe(t, store)
	require.Equal(t, req, info.Request)
	require.Equal(t, 6*time.Hour, info.Every)
}

func TestEnsureRotationScheduleRefusesBadInputForGood(t *testing.T) {
	const store = "d-2000000003"
	deleteSchedule(t, store)
	acts := &schedules.Activities{Schedules: server.Client.ScheduleClient()}
	valid := schedulestest.Request(store)
	badEndpoint := valid
	badEndpoint.SCIMEndpoint = "http://scim.example.com/x/scim/v2"

	for _, tc := range []struct {
		name string
		in   schedules.EnsureRotationScheduleInput
		want string
	}{
		{"invalid request", schedules.EnsureRotationScheduleInput{Request: badEndpoint}, "scimEndpoint"},
		{"every not a duration", schedules.EnsureRotationScheduleInput{Request: valid, Every: "daily"}, `every "daily"`},
		{"every negative", schedules.EnsureRotationScheduleInput{Request: valid, Every: "-1h"}, `every "-1h"`},
		{"every too short", schedules.EnsureRotationScheduleInput{Request: valid, Every: "10s"}, "between 1m0s and 168h0m0s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := run(t, acts, tc.in)
			var appErr *temporal.ApplicationError
			require.True(t, errors.As(err, &appErr), "want an application error, got %v", err)
			require.True(t, appErr.NonRetryable(), "retrying cannot fix %v", err)
			require.Equal(t, schedules.ErrInvalidRequest, appErr.Type())
			require.ErrorContains(t, err, tc.want)
			require.ErrorContains(t, err, "starter rotation schedule")
		})
	}
	_, err := schedules.DescribeRotation(context.Background(), server.Client.ScheduleClient(), server.DataConverter, store)
	require.ErrorIs(t, err, schedules.ErrNoSchedule, "nothing was created")
}

func TestEnsureRotationScheduleWithoutAClientSaysTheWorkerIsMisconfigured(t *testing.T) {
	_, err := run(t, &schedules.Activities{}, schedules.EnsureRotationScheduleInput{Request: schedulestest.Request("d-2000000004")})
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "want an application error, got %v", err)
	require.True(t, appErr.NonRetryable())
	require.Equal(t, schedules.ErrNoScheduleClient, appErr.Type())
}
