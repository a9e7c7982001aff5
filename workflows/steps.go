package workflows

import (
	"context"
	"errors"
	"time"

	"github.com/platformguide/ssocutover/activities/analysis"
	"github.com/platformguide/ssocutover/activities/entra"
	"github.com/platformguide/ssocutover/activities/identitycenter"
	"github.com/platformguide/ssocutover/activities/notify"
	"github.com/platformguide/ssocutover/activities/scim"
	"github.com/platformguide/ssocutover/workflows/step"
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

// The activities the workflows call, as method values of nil pointers (see
// workflows/step): identityCenter.EnsureBreakGlassUser names the activity
// and fixes its input and result types. The worker registers the real
// structs (worker/app).
var (
	identityCenter *identitycenter.Activities
	entraID        *entra.Activities
	scimEndpoint   *scim.Activities
	analyzer       *analysis.Activities
	notifier       *notify.Activities
)

// runStep runs activity with input in as the cutover's step doing (for
// status and errors) in phase, under the activity options of actx. A
// failure that retries could not fix opens gate step-failed, where a person
// retries the step or rolls back (errRollback); an error of one of the
// handled types comes back as it is, for a caller that handles it itself.
// A rollback asked for earlier stops the cutover before the step starts.
func runStep[I, O any](c *cutover, ctx, actx workflow.Context, phase, doing string,
	activity func(context.Context, I) (O, error), in I, handled ...string) (O, error) {
	for {
		out, err := execute(c, ctx, actx, phase, doing, activity, in)
		if err == nil || temporal.IsCanceledError(err) || isRollback(err) || hasErrorType(err, handled...) {
			return out, err
		}
		decision, gateErr := c.waitAtGate(ctx, c.stepFailedGate(doing, err))
		if gateErr != nil {
			return out, gateErr
		}
		if decision.Action == OpRollback {
			return out, &errRollback{trigger: TriggerStepFailed, decision: decision}
		}
		// Retried: the update that asked answers when the step is done.
		c.retrying = decision
	}
}

// execute is runStep returning the activity's error as it is, for a caller
// that handles every error itself (a compensation).
func execute[I, O any](c *cutover, ctx, actx workflow.Context, phase, doing string, activity func(context.Context, I) (O, error), in I) (O, error) {
	if d := c.rollbackRequested; d != nil && c.status.Rollback == nil {
		var none O
		return none, &errRollback{trigger: TriggerRollback, decision: d}
	}
	c.setStep(ctx, phase, doing)
	out, err := step.Run(actx, activity, in)
	if err == nil && c.retrying != nil {
		// A retry asked for at gate step-failed is carried out.
		c.retrying.carriedOut(nil)
		c.retrying = nil
	}
	return out, err
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
