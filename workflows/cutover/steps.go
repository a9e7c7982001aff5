package cutover

import (
	"context"
	"errors"

	"github.com/platformguide/ssocutover/activities/analysis"
	"github.com/platformguide/ssocutover/activities/identitycenter"
	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/step"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// The activities only the cutover calls, as method values of nil pointers
// (see workflows/step): identityCenter.EnsureBreakGlassUser names the
// activity and fixes its input and result types. The worker registers the
// real structs (worker/app).
var (
	identityCenter *identitycenter.Activities
	analyzer       *analysis.Activities
)

// retryFailedAgainChange versions answering a retry whose step fails
// again (before it, the retry's update waited until its sender gave up).
const retryFailedAgainChange = "retry-answered-when-step-fails-again"

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
		if err == nil || temporal.IsCanceledError(err) || isRollback(err) || step.HasErrorType(err, handled...) {
			return out, err
		}
		if c.onStepFailure != nil {
			c.onStepFailure(ctx, err)
		}
		if c.retrying != nil && workflow.GetVersion(ctx, retryFailedAgainChange, workflow.DefaultVersion, 1) == 1 {
			// The retried step failed again: the retry is carried out, and
			// its update answers once the gate reopens, with the status that
			// shows why. (No other decision is being carried out here: the
			// gate step-failed that took the retry answered it.)
			c.carrying, c.retrying = c.retrying, nil
		}
		decision, gateErr := c.waitAtGate(ctx, c.stepFailedGate(doing, err))
		if gateErr != nil {
			return out, gateErr
		}
		if decision.Action == workflows.OpRollback {
			return out, &errRollback{trigger: workflows.TriggerStepFailed, decision: decision}
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
		return none, &errRollback{trigger: workflows.TriggerRollback, decision: d}
	}
	c.setStep(ctx, phase, doing)
	out, err := step.Run(actx, activity, in)
	if err == nil && c.retrying != nil {
		// A retry asked for at gate step-failed is carried out.
		c.retrying.CarriedOut(nil)
		c.retrying = nil
	}
	return out, err
}

func isRollback(err error) bool {
	var rb *errRollback
	return errors.As(err, &rb)
}

// resources returns the cutover's resource list, creating it on first use.
func (c *cutover) resources() *workflows.Resources {
	if c.status.Resources == nil {
		c.status.Resources = &workflows.Resources{}
	}
	return c.status.Resources
}
