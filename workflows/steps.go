package workflows

import (
	"errors"
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
// and errors) and decodes its result into result. A failure that retries
// could not fix opens gate step-failed, where a person retries the step or
// rolls back (errRollback). A rollback asked for earlier stops the cutover
// before the step starts.
func (c *cutover) runStep(ctx workflow.Context, actx workflow.Context, phase, step, name string, input, result any) error {
	return c.runStepExcept(ctx, actx, phase, step, name, input, result)
}

// runStepExcept is runStep returning the errors of the given types as they
// are, for a caller that handles them itself.
func (c *cutover) runStepExcept(ctx workflow.Context, actx workflow.Context, phase, step, name string, input, result any, errorTypes ...string) error {
	for {
		err := c.execute(ctx, actx, phase, step, name, input, result)
		if err == nil || temporal.IsCanceledError(err) || isRollback(err) || hasErrorType(err, errorTypes...) {
			return err
		}
		decision, gateErr := c.waitAtGate(ctx, c.stepFailedGate(step, err))
		if gateErr != nil {
			return gateErr
		}
		if decision.Action == OpRollback {
			return &errRollback{trigger: TriggerStepFailed, decision: decision}
		}
		// Retried: the update that asked answers when the step is done.
		c.retrying = decision
	}
}

// execute is runStep returning the activity's error as it is, for a caller
// that handles some errors itself.
func (c *cutover) execute(ctx workflow.Context, actx workflow.Context, phase, step, name string, input, result any) error {
	if d := c.rollbackRequested; d != nil && c.status.Rollback == nil {
		return &errRollback{trigger: TriggerRollback, decision: d}
	}
	c.setStep(ctx, phase, step)
	err := workflow.ExecuteActivity(actx, name, input).Get(ctx, result)
	if err == nil && c.retrying != nil {
		// A retry asked for at gate step-failed is carried out.
		c.retrying.carriedOut(nil)
		c.retrying = nil
	}
	return err
}

func isRollback(err error) bool {
	var rb *errRollback
	return errors.As(err, &rb)
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
