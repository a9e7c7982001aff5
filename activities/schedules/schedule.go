package schedules

// This file keeps the Temporal Schedule that runs an identity store's SCIM
// token rotation: one schedule per identity store, whose runs check the
// token and, when it is due, rotate it. The activity (activities.go) and
// the starter's `rotation` commands both use it.
//
// The schedule's action holds the rotation request as a payload that went
// through the client's data converter, so with the payload codec it is
// stored encrypted, like every other workflow input.

import (
	"context"
	"errors"
	"fmt"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/platformguide/ssocutover/internal/temporalclient"
	"github.com/platformguide/ssocutover/workflows"
)

// DefaultEvery is how often a rotation run checks the token when the
// schedule does not say.
const DefaultEvery = 24 * time.Hour

// Bounds of a schedule's interval. Checking more often than MinEvery only
// loads the APIs; checking less often than MaxEvery leaves a token's expiry
// unnoticed for too long.
const (
	MinEvery = time.Minute
	MaxEvery = 7 * 24 * time.Hour
)

// CatchupWindow is how late a run may still start after the schedule could
// not start it on time (the server was down): a missed daily check runs
// when the server is back, within a day.
const CatchupWindow = 24 * time.Hour

// ErrNoSchedule is returned (wrapped) when an identity store has no
// rotation schedule.
var ErrNoSchedule = errors.New("no SCIM token rotation schedule: create it with `starter rotation schedule`")

// RotationSchedule is the schedule of one identity store's SCIM token rotation.
type RotationSchedule struct {
	Request workflows.ScimTokenRotationRequest
	// Every is how often a run checks the token; 0 means DefaultEvery (24h).
	Every time.Duration
}

// every is the schedule's interval, the default filled in.
func (s RotationSchedule) every() time.Duration {
	if s.Every == 0 {
		return DefaultEvery
	}
	return s.Every
}

// Validate says what is wrong with the schedule: its request, or an
// interval out of bounds or longer than the request's warning window (the
// token could then expire between two checks).
func (s RotationSchedule) Validate() error {
	var errs []error
	if err := s.Request.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("the rotation request: %w", err))
	}
	every := s.every()
	if every < MinEvery || every > MaxEvery {
		errs = append(errs, fmt.Errorf("interval %s: want one between %s and %s, such as 24h", every, MinEvery, MaxEvery))
	} else if window, err := warningWindow(s.Request); err == nil && every > window {
		errs = append(errs, fmt.Errorf("interval %s is longer than the warning window %s: the token could expire between two checks; check more often or widen warningWindow", every, window))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("the SCIM token rotation schedule of %s is not valid: %w", s.Request.IdentityStoreID, err)
	}
	return nil
}

// warningWindow is the request's warning window, its default filled in.
// A malformed one is reported by the request's Validate.
func warningWindow(r workflows.ScimTokenRotationRequest) (time.Duration, error) {
	if r.WarningWindow == "" {
		return workflows.DefaultWarningWindow, nil
	}
	return time.ParseDuration(r.WarningWindow)
}

// EnsureRotation creates the schedule, or updates the request and interval
// of the one that exists (created=false). Idempotent. An update keeps the
// schedule's state: a paused schedule stays paused.
func EnsureRotation(ctx context.Context, c client.ScheduleClient, s RotationSchedule) (created bool, err error) {
	if err := s.Validate(); err != nil {
		return false, err
	}
	id := workflows.RotationScheduleID(s.Request.IdentityStoreID)
	// Creating first, and updating when it exists, leaves no window in
	// which two callers both see no schedule.
	_, err = c.Create(ctx, client.ScheduleOptions{
		ID:            id,
		Spec:          spec(s),
		Action:        action(s),
		Overlap:       policies().Overlap,
		CatchupWindow: policies().CatchupWindow,
		Note:          note(s.Request.IdentityStoreID),
	})
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return false, fmt.Errorf("create the SCIM token rotation schedule %s: %w", id, err)
	}
	err = c.GetHandle(ctx, id).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			schedule := in.Description.Schedule
			schedule.Action = action(s)
			sp := spec(s)
			schedule.Spec = &sp
			schedule.Policy = policies()
			return &client.ScheduleUpdate{Schedule: &schedule}, nil
		},
	})
	if err != nil {
		return false, fmt.Errorf("update the SCIM token rotation schedule %s: %w", id, noSchedule(err, s.Request.IdentityStoreID))
	}
	return false, nil
}

// spec runs the rotation every s.Every, without jitter: the runs are at
// predictable times.
func spec(s RotationSchedule) client.ScheduleSpec {
	return client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: s.every()}}}
}

// action starts the rotation workflow with the request. The workflow ID is
// the schedule's ID, to which Temporal appends the scheduled time.
func action(s RotationSchedule) *client.ScheduleWorkflowAction {
	id := workflows.RotationScheduleID(s.Request.IdentityStoreID)
	return &client.ScheduleWorkflowAction{
		ID:        id,
		Workflow:  workflows.RotationWorkflowName,
		Args:      []any{s.Request},
		TaskQueue: temporalclient.TaskQueue,
	}
}

// policies skip a run while one is going on: a run can wait days at a gate
// for a person, and a twin would ask the same person the same thing again.
func policies() *client.SchedulePolicies {
	return &client.SchedulePolicies{
		Overlap:       enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		CatchupWindow: CatchupWindow,
	}
}

func note(identityStoreID string) string {
	return "SCIM token rotation of " + identityStoreID
}

// TriggerRotation starts a run now. The schedule's overlap policy applies:
// nothing starts while a run is going on.
func TriggerRotation(ctx context.Context, c client.ScheduleClient, identityStoreID string) error {
	id := workflows.RotationScheduleID(identityStoreID)
	if err := c.GetHandle(ctx, id).Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
		return fmt.Errorf("trigger the SCIM token rotation schedule %s: %w", id, noSchedule(err, identityStoreID))
	}
	return nil
}

// RotationInfo describes the schedule.
type RotationInfo struct {
	ScheduleID string
	Every      time.Duration
	Paused     bool
	Request    workflows.ScimTokenRotationRequest
	NextRuns   []time.Time
	// Running lists the runs going on now.
	Running []Run
	// Recent are the last runs started, newest last.
	Recent []RecentRun
}

// Run is one workflow run the schedule started.
type Run struct {
	WorkflowID string
	RunID      string
}

// RecentRun is a run the schedule started: when it was due, when it started.
type RecentRun struct {
	ScheduledAt time.Time
	ActualAt    time.Time
	WorkflowID  string
	RunID       string
}

// DescribeRotation describes the schedule; ErrNoSchedule (wrapped) when
// there is none. dc decodes the request: it must be the data converter the
// schedule was written with (the codec's, when payloads are encrypted);
// nil means the SDK's default.
func DescribeRotation(ctx context.Context, c client.ScheduleClient, dc converter.DataConverter, identityStoreID string) (RotationInfo, error) {
	id := workflows.RotationScheduleID(identityStoreID)
	desc, err := c.GetHandle(ctx, id).Describe(ctx)
	if err != nil {
		return RotationInfo{}, fmt.Errorf("describe the SCIM token rotation schedule %s: %w", id, noSchedule(err, identityStoreID))
	}
	request, err := scheduledRequest(desc.Schedule.Action, dc)
	if err != nil {
		return RotationInfo{}, fmt.Errorf("the SCIM token rotation schedule %s: %w", id, err)
	}
	info := RotationInfo{
		ScheduleID: id,
		Request:    request,
		NextRuns:   desc.Info.NextActionTimes,
	}
	if sp := desc.Schedule.Spec; sp != nil && len(sp.Intervals) > 0 {
		info.Every = sp.Intervals[0].Every
	}
	if st := desc.Schedule.State; st != nil {
		info.Paused = st.Paused
	}
	for _, r := range desc.Info.RunningWorkflows {
		info.Running = append(info.Running, Run{WorkflowID: r.WorkflowID, RunID: r.FirstExecutionRunID})
	}
	for _, a := range desc.Info.RecentActions {
		recent := RecentRun{ScheduledAt: a.ScheduleTime, ActualAt: a.ActualTime}
		if started := a.StartWorkflowResult; started != nil {
			recent.WorkflowID, recent.RunID = started.WorkflowID, started.FirstExecutionRunID
		}
		info.Recent = append(info.Recent, recent)
	}
	return info, nil
}

// scheduledRequest decodes the rotation request from the schedule's
// action, whose arguments the SDK hands over as payloads still encoded.
func scheduledRequest(a client.ScheduleAction, dc converter.DataConverter) (workflows.ScimTokenRotationRequest, error) {
	var request workflows.ScimTokenRotationRequest
	start, ok := a.(*client.ScheduleWorkflowAction)
	if !ok || start.Workflow != workflows.RotationWorkflowName || len(start.Args) != 1 {
		return request, fmt.Errorf("its action is not a %s run with one request (it was changed outside ssocutover): run `starter rotation schedule` to set it again", workflows.RotationWorkflowName)
	}
	payload, ok := start.Args[0].(*commonpb.Payload)
	if !ok {
		return request, fmt.Errorf("its request is a %T, not a payload", start.Args[0])
	}
	if dc == nil {
		dc = converter.GetDefaultDataConverter()
	}
	if err := dc.FromPayload(payload, &request); err != nil {
		return request, fmt.Errorf("cannot read its request (%w): give the starter the payload keys the worker uses", err)
	}
	return request, nil
}

// noSchedule wraps ErrNoSchedule around the server's "not found".
func noSchedule(err error, identityStoreID string) error {
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return fmt.Errorf("%w for %s", ErrNoSchedule, identityStoreID)
	}
	return err
}
