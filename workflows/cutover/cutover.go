// Package cutover is the Cutover workflow: the order of the runbook's steps,
// the gates where a person decides, the rollback, and the status people
// read. It does no I/O: everything that touches AWS or Microsoft is an
// activity (called through workflows/step), and everything large stays in
// the store. cutover.go reads as the runbook; each step lives in the file
// named after it.
package cutover

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/gate"
	"github.com/platformguide/ssocutover/workflows/step"
)

// Cutover moves an Identity Center instance from its built-in directory to
// Entra ID, following the runbook in DESIGN.md section 2.
//
// The preflight (runbook steps 1 to 3) only reads; a person reviews it at
// gate preflight. Then the cutover creates the break-glass user, waits for
// the person's console steps in AWS (gates aws-sp-metadata and
// scim-credentials) around the enterprise app it sets up in Entra, starts
// provisioning, verifies every account assignment against the snapshot and
// waits for the person to confirm that signing in works.
func Cutover(ctx workflow.Context, req workflows.CutoverRequest) (workflows.CutoverResult, error) {
	c := newCutover(ctx, req)
	if err := c.listen(ctx); err != nil {
		return workflows.CutoverResult{}, err
	}

	result, err := c.run(ctx)

	gate.AwaitAnswers(ctx)
	return result, err
}

// run is the cutover, step by step, as the runbook has it. Every step after
// the preflight gate is a rollback point: an error there, a reject or
// rollback at a gate, or a cancellation undoes what was done (stop).
func (c *cutover) run(ctx workflow.Context) (workflows.CutoverResult, error) {
	// Who may approve is the worker's to say, when it has a policy: read
	// it before anything, so its digest is in history from the start.
	policy, _ := gate.ReadPolicy(ctx)
	if policy.InForce() {
		info := workflow.GetInfo(ctx).WorkflowExecution
		c.gates.Signing = gate.NewSigning(info.ID, info.RunID, c.status.Request, policy)
		c.status.ApprovalPolicy = &policy
	}
	if err := checkRequest(ctx, c.status.Request, policy); err != nil {
		return c.stop(ctx, err)
	}

	// Runbook steps 1 to 3: inventory both sides and analyse them (read-only).
	if err := c.runPreflight(ctx); err != nil {
		return c.stop(ctx, err)
	}
	// Gate G1: a person reviews the findings, rechecking as often as needed.
	decision, err := c.reviewPreflight(ctx)
	if err != nil {
		return c.stop(ctx, err)
	}
	if decision.Action == workflows.OpReject {
		return c.finish(ctx, decision, workflows.PhaseRejected, fmt.Sprintf(
			"The cutover was rejected at gate %s by %s: %s. Nothing was changed in AWS or Entra.",
			decision.Gate, decision.By, decision.Reason)), nil
	}
	c.carrying, c.changing = decision, true

	// Runbook step 4: a way into AWS that does not depend on single sign-on.
	if err := c.ensureBreakGlassUser(ctx); err != nil {
		return c.stop(ctx, err)
	}
	// Gate G2, then runbook steps 5 to 7: the enterprise app in Entra.
	if err := orRollback(c.collectSPMetadata(ctx)); err != nil {
		return c.stop(ctx, err)
	}
	if err := c.setUpEnterpriseApp(ctx); err != nil {
		return c.stop(ctx, err)
	}
	// Gate G3, then runbook steps 8 to 10: provisioning and its verification.
	if err := orRollback(c.provision(ctx)); err != nil {
		return c.stop(ctx, err)
	}
	// Gate G4: a person confirms that signing in works.
	final, err := c.confirmSignIn(ctx)
	if err := orRollback(final, err); err != nil {
		return c.stop(ctx, err)
	}
	scheduled := c.scheduleTokenRotation(ctx)
	return c.finish(ctx, final, workflows.PhaseCompleted, completedMessage(final, c.status.Resources)+scheduled), nil
}

// stop ends the cutover after err: a rollback asked for (or a cancellation
// once something was changed) undoes what was done; anything else fails it.
func (c *cutover) stop(ctx workflow.Context, err error) (workflows.CutoverResult, error) {
	if rb, ok := c.asRollback(err); ok {
		return c.rollBack(ctx, rb), nil
	}
	return workflows.CutoverResult{}, c.fail(ctx, err)
}

// checkRequest refuses a request the cutover cannot run, saying what to fix.
// It also insists on the workflow ID derived from the identity store: that ID
// is what stops a second cutover of the same instance while one runs.
func checkRequest(ctx workflow.Context, req workflows.CutoverRequest, policy workflows.ApprovalPolicy) error {
	if err := errors.Join(req.Validate(), req.CheckApprovals(policy)); err != nil {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("the cutover request is invalid; fix the request file and start the cutover again:\n%v", err),
			workflows.ErrInvalidRequest, nil)
	}
	want := workflows.CutoverWorkflowID(req.IdentityStoreID)
	if got := workflow.GetInfo(ctx).WorkflowExecution.ID; got != want {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("this cutover runs as workflow %q, but a cutover of %s must run as %q so that a second one "+
				"cannot start while it runs: start it again with --workflow-id %s (starter start does this)",
				got, req.IdentityStoreID, want, want),
			workflows.ErrInvalidRequest, nil)
	}
	return nil
}

// finish ends the cutover after the decision d, and lets the update that
// carried d (if any) answer with the final status.
func (c *cutover) finish(ctx workflow.Context, d *gate.Pending, phase, message string) workflows.CutoverResult {
	c.status.Phase = phase
	c.status.Step = message
	c.publish(ctx)
	d.CarriedOut(nil)
	return workflows.CutoverResult{
		Outcome:   phase,
		Message:   message,
		Preflight: c.status.Preflight,
		Decisions: c.status.Decisions,
		Resources: c.status.Resources,
	}
}

// fail records why the cutover stopped, so status (which still answers
// after the workflow failed) says it, and returns err.
func (c *cutover) fail(ctx workflow.Context, err error) error {
	c.status.Phase = workflows.PhaseFailed
	c.gates.Close()
	c.status.Step = step.DescribeError(err)
	c.publish(ctx)
	if c.carrying != nil {
		c.carrying.CarriedOut(err)
		c.carrying = nil
	}
	if !temporal.IsCanceledError(err) {
		gate.NotifyAttention(ctx, "cutover", c.status.Request.IdentityStoreID, "The cutover stopped", c.status.Step)
	}
	return err
}

// Register registers the Cutover workflow under the name clients start it by.
func Register(r worker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(Cutover, workflow.RegisterOptions{Name: workflows.CutoverWorkflowName})
}
