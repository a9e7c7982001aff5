package cutover

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/platformguide/ssocutover/internal/words"
	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/gate"
	"github.com/platformguide/ssocutover/workflows/step"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// A rollback undoes what the cutover did, newest first. Each step that
// changes something records its compensation (an activity, or a gate where
// a person undoes a console step) when it starts to matter; a rollback runs
// them in reverse and ends in a report of what was undone and what a person
// must still do. The break-glass user stays: it is the way in if anything
// goes wrong, and a person removes it when no longer needed.

// compensation undoes one step of the cutover.
type compensation struct {
	// undoes names what is undone, for status and the report.
	undoes string
	// undo runs the activity that undoes it (built by undoWith); or gate
	// asks a person to.
	undo func(ctx, actx workflow.Context, doing string) error
	gate *gate.Gate
}

// undoWith is an undo of c: activity with input in, run as the rollback's
// step doing. Compensations live in the workflow's memory only, so a
// closure is safe: a replay rebuilds them as it replays the steps.
func undoWith[I, O any](c *cutover, activity func(context.Context, I) (O, error), in I) func(ctx, actx workflow.Context, doing string) error {
	return func(ctx, actx workflow.Context, doing string) error {
		_, err := execute(c, ctx, actx, workflows.PhaseRollingBack, doing, activity, in)
		return err
	}
}

// errRollback stops the cutover's forward steps because decision asked for
// a rollback (reject or rollback at a gate, or rollback while a step ran),
// or because the workflow was cancelled (decision nil).
type errRollback struct {
	trigger  string
	decision *gate.Pending
}

func (e *errRollback) Error() string { return "rollback requested: " + e.trigger }

// compensate records how to undo a step, when the step starts to matter.
func (c *cutover) compensate(ctx workflow.Context, comp compensation) {
	c.compensations = append(c.compensations, comp)
	c.publish(ctx)
}

// rollBack runs the recorded compensations newest first and returns the
// result the cutover ends with. It runs to the end even when the workflow
// was cancelled; a compensation that keeps failing becomes a gate where a
// person retries it or takes it over.
func (c *cutover) rollBack(ctx workflow.Context, why *errRollback) workflows.CutoverResult {
	if why.trigger == workflows.TriggerCancelled {
		// Cancelling the workflow asks for the rollback; it must still run.
		ctx, _ = workflow.NewDisconnectedContext(ctx)
	}
	c.gates.Close()
	report := &workflows.RollbackReport{Trigger: why.trigger, StartedAt: workflow.Now(ctx), Steps: []workflows.CompensationOutcome{}}
	if d := why.decision; d != nil {
		report.RequestedBy, report.Reason = d.By, d.Reason
	}
	c.status.Rollback = report
	c.setStep(ctx, workflows.PhaseRollingBack, fmt.Sprintf("rolling back (%s): %d steps to undo", why.trigger, len(c.compensations)))
	if why.decision != nil {
		why.decision.CarriedOut(nil)
	}

	for len(c.compensations) > 0 {
		comp := c.compensations[len(c.compensations)-1]
		outcome := c.runCompensation(ctx, comp)
		report.Steps = append(report.Steps, outcome)
		if outcome.Outcome == workflows.OutcomeSkipped {
			report.ByHand = append(report.ByHand, comp.undoes+": "+outcome.Detail)
		}
		c.compensations = c.compensations[:len(c.compensations)-1]
		c.publish(ctx)
	}
	if b := c.resources().BreakGlass; b != nil {
		report.ByHand = append(report.ByHand, fmt.Sprintf("when no longer needed, delete the break-glass IAM user %s and the secret %s",
			b.UserName, b.Password.ARN))
	}
	report.FinishedAt = workflow.Now(ctx)

	message := fmt.Sprintf("The cutover was rolled back (%s", why.trigger)
	if why.decision != nil {
		message += fmt.Sprintf(" at gate %s by %s: %s", why.decision.Gate, why.decision.By, why.decision.Reason)
	}
	message += fmt.Sprintf("). %s undone.", words.Count(len(report.Steps), "step"))
	if len(report.ByHand) > 0 {
		message += " Still to do by hand: " + strings.Join(report.ByHand, "; ") + "."
	}
	c.status.Phase, c.status.Step = workflows.PhaseRolledBack, message
	c.publish(ctx)
	return workflows.CutoverResult{
		Outcome:   workflows.PhaseRolledBack,
		Message:   message,
		Preflight: c.status.Preflight,
		Decisions: c.status.Decisions,
		Resources: c.status.Resources,
		Rollback:  report,
	}
}

// runCompensation runs one compensation to an outcome: an activity with
// retries, then a person's choice at gate compensation-failed; or a gate
// where a person confirms they did it.
func (c *cutover) runCompensation(ctx workflow.Context, comp compensation) workflows.CompensationOutcome {
	outcome := workflows.CompensationOutcome{Undoes: comp.undoes}
	if comp.gate != nil {
		outcome.Kind = "person"
		d, err := c.waitAtGate(ctx, comp.gate)
		if err != nil { // only a workflow that is ending gets here
			outcome.Outcome, outcome.Detail = workflows.OutcomeSkipped, step.DescribeError(err)
		} else {
			outcome.Outcome, outcome.By = workflows.OutcomeConfirmed, d.By
			d.CarriedOut(nil)
		}
		outcome.At = workflow.Now(ctx)
		return outcome
	}
	outcome.Kind = "automated"
	for {
		err := comp.undo(ctx, compensationOptions(ctx, comp.undoes), "undoing: "+comp.undoes)
		if err == nil {
			outcome.Outcome, outcome.At = workflows.OutcomeDone, workflow.Now(ctx)
			return outcome
		}
		d, gateErr := c.waitAtGate(ctx, c.compensationFailedGate(comp, err))
		if gateErr != nil {
			outcome.Outcome, outcome.Detail, outcome.At = workflows.OutcomeSkipped, step.DescribeError(err), workflow.Now(ctx)
			return outcome
		}
		d.CarriedOut(nil)
		if d.Action == workflows.OpSkip {
			outcome.Outcome, outcome.By, outcome.Detail, outcome.At = workflows.OutcomeSkipped, d.By, step.DescribeError(err)+" ("+d.Reason+")", workflow.Now(ctx)
			return outcome
		}
	}
}

// compensationOptions retry a compensation for up to half an hour before
// asking a person: compensations are idempotent, so retrying is safe.
func compensationOptions(ctx workflow.Context, undoes string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		Summary:                "Rollback: " + undoes,
		StartToCloseTimeout:    10 * time.Minute,
		ScheduleToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:       2 * time.Minute,
		RetryPolicy:            step.RetryPolicy,
	})
}

func (c *cutover) compensationFailedGate(comp compensation, err error) *gate.Gate {
	id := c.status.WorkflowID
	args := []string{"--gate", workflows.GateCompensationFailed, "--by", "NAME"}
	return &gate.Gate{
		Name:  workflows.GateCompensationFailed,
		Phase: workflows.PhaseRollingBack,
		Instructions: fmt.Sprintf("The rollback could not undo %s: %s\n\nFix the cause and retry:\n\n    %s\n\n"+
			"Or undo it by hand and tell the rollback to go on (recorded as done by hand):\n\n    %s\n",
			comp.undoes, step.DescribeError(err),
			gate.StarterCommand(workflows.OpRetry, id, args...),
			gate.StarterCommand(workflows.OpSkip, id, append(args, "--reason", `"WHAT WAS DONE"`)...)),
		Operations: []string{workflows.OpRetry, workflows.OpSkip},
	}
}

// stepFailedGate asks a person what to do about a step that failed in a way
// retries could not fix: retry it (after fixing the cause) or roll back.
func (c *cutover) stepFailedGate(doing string, err error) *gate.Gate {
	id := c.status.WorkflowID
	args := []string{"--gate", workflows.GateStepFailed, "--by", "NAME"}
	return &gate.Gate{
		Name:  workflows.GateStepFailed,
		Phase: workflows.PhaseStepFailed,
		Instructions: fmt.Sprintf("The cutover stopped while %s: %s\n\nFix the cause, then retry the step:\n\n    %s\n\n"+
			"Or undo everything the cutover did so far:\n\n    %s\n",
			doing, step.ActivityFailure(err),
			gate.StarterCommand(workflows.OpRetry, id, args...),
			gate.StarterCommand(workflows.OpRollback, id, append(args, "--reason", `"WHY"`)...)),
		Operations:         []string{workflows.OpRetry, workflows.OpRollback},
		RollsBackOnTimeout: true,
	}
}

// rollbackRequestedAt turns a decision at a gate into the rollback it asks
// for, or nil when it does not ask for one.
func rollbackRequestedAt(d *gate.Pending) *errRollback {
	switch d.Action {
	case workflows.OpReject:
		return &errRollback{trigger: workflows.TriggerReject, decision: d}
	case workflows.OpRollback:
		return &errRollback{trigger: workflows.TriggerRollback, decision: d}
	}
	return nil
}

// orRollback is err, else the rollback that the decision d taken at a gate
// asks for, else nil: the cutover goes on.
func orRollback(d *gate.Pending, err error) error {
	if err != nil {
		return err
	}
	if d == nil {
		return nil
	}
	if rb := rollbackRequestedAt(d); rb != nil {
		return rb
	}
	return nil
}

// asRollback reports whether err stops the cutover for a rollback: asked
// for, or the workflow cancelled once something was changed.
func (c *cutover) asRollback(err error) (*errRollback, bool) {
	var rb *errRollback
	if errors.As(err, &rb) {
		return rb, true
	}
	if temporal.IsCanceledError(err) && c.changing {
		return &errRollback{trigger: workflows.TriggerCancelled}, true
	}
	return nil, false
}
