package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Activities after the preflight change things, but each finds what it would
// create before creating it, so retrying them is safe. They retry transient
// failures for a bounded time; an error that retrying cannot fix (refused
// input, missing permission) stops at once.
var stepRetryPolicy = &temporal.RetryPolicy{
	InitialInterval:    2 * time.Second,
	BackoffCoefficient: 2,
	MaximumInterval:    time.Minute,
}

// stepOptions are the activity options of a step that takes at most
// startToClose per attempt; steps that run long heartbeat, so a lost worker
// is noticed within heartbeat (0: the step does not heartbeat).
func stepOptions(ctx workflow.Context, summary string, startToClose, heartbeat time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		Summary:                summary,
		StartToCloseTimeout:    startToClose,
		ScheduleToCloseTimeout: 4 * startToClose,
		HeartbeatTimeout:       heartbeat,
		RetryPolicy:            stepRetryPolicy,
	})
}

// runStep runs activity name as the step described by step (for status
// and errors) and decodes its result into result.
func (c *cutover) runStep(ctx workflow.Context, actx workflow.Context, phase, step, name string, input, result any) error {
	if err := c.execute(ctx, actx, phase, step, name, input, result); err != nil {
		return stepFailed(step, err)
	}
	return nil
}

// execute is runStep returning the activity's error as it is, for a caller
// that handles some errors itself.
func (c *cutover) execute(ctx workflow.Context, actx workflow.Context, phase, step, name string, input, result any) error {
	c.setStep(ctx, phase, step)
	return workflow.ExecuteActivity(actx, name, input).Get(ctx, result)
}

// stepFailed turns an activity failure into the error that ends the cutover.
// What was created so far stays in status (resources): every step finds
// what exists before creating, so a new cutover of the same instance picks
// up where this one stopped.
func stepFailed(step string, err error) error {
	if temporal.IsCanceledError(err) {
		return err
	}
	return temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("the cutover stopped while %s: %s. What it created so far is listed in status under resources. "+
			"Fix the cause and start the cutover again: each step finds what already exists and goes on from there.",
			step, activityFailure(err)),
		ErrStepFailed, nil)
}

// hasErrorType reports whether err is an activity's application error of
// one of the types.
func hasErrorType(err error, types ...string) bool {
	var app *temporal.ApplicationError
	if !errors.As(err, &app) {
		return false
	}
	for _, t := range types {
		if app.Type() == t {
			return true
		}
	}
	return false
}

// resources returns the cutover's resource list, creating it on first use.
func (c *cutover) resources() *Resources {
	if c.status.Resources == nil {
		c.status.Resources = &Resources{}
	}
	return c.status.Resources
}
