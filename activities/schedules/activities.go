package schedules

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/platformguide/ssocutover/workflows"
)

// Activities are the schedule activities. The worker registers one value;
// its method is the activity, named by EnsureRotationScheduleName.
type Activities struct {
	// Schedules is the worker's Temporal client's schedule client, so the
	// request goes through the worker's payload codec.
	Schedules client.ScheduleClient
}

// EnsureRotationSchedule creates the identity store's SCIM token rotation
// schedule, or updates the one that exists to the input's request and
// interval. It is idempotent: a retry after an answer lost on the way
// finds the schedule and updates it to the same thing.
//
// An invalid request or interval is ErrInvalidRequest, not retried. A
// server that cannot be reached is retried.
func (a *Activities) EnsureRotationSchedule(ctx context.Context, in EnsureRotationScheduleInput) (EnsureRotationScheduleResult, error) {
	schedule, err := in.schedule()
	if err != nil {
		return EnsureRotationScheduleResult{}, invalid(err)
	}
	if err := schedule.Validate(); err != nil {
		return EnsureRotationScheduleResult{}, invalid(err)
	}
	if a.Schedules == nil {
		return EnsureRotationScheduleResult{}, temporal.NewNonRetryableApplicationError(
			"the schedule activities have no Temporal schedule client: the worker is misconfigured (app.NewWorker sets it)", ErrNoScheduleClient, nil)
	}
	created, err := EnsureRotation(ctx, a.Schedules, schedule)
	if err != nil {
		return EnsureRotationScheduleResult{}, err
	}
	id := workflows.RotationScheduleID(in.Request.IdentityStoreID)
	activity.GetLogger(ctx).Info("The SCIM token rotation is scheduled",
		"scheduleId", id, "created", created, "every", in.Every)
	return EnsureRotationScheduleResult{ScheduleID: id, Created: created}, nil
}

// schedule is the input as a rotation schedule, its interval parsed.
func (in EnsureRotationScheduleInput) schedule() (RotationSchedule, error) {
	s := RotationSchedule{Request: in.Request}
	if in.Every == "" {
		return s, nil
	}
	every, err := time.ParseDuration(in.Every)
	if err != nil || every < 0 {
		return s, fmt.Errorf("every %q: want a duration such as 24h, between %s and %s", in.Every, MinEvery, MaxEvery)
	}
	s.Every = every
	return s, nil
}

func invalid(err error) error {
	return temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("%v. Fix it, then schedule the rotation with `starter rotation schedule`", err), ErrInvalidRequest, nil)
}
