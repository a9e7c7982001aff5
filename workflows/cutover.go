// Package workflows holds the deterministic part of the cutover: the order of
// the runbook's steps, the gates where a person decides, and the status they
// read. It does no I/O: everything that touches AWS or Microsoft is an
// activity, called by name, and everything large stays in the store.
package workflows

import (
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
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
func Cutover(ctx workflow.Context, req CutoverRequest) (CutoverResult, error) {
	c := newCutover(ctx, req)
	if err := c.listen(ctx); err != nil {
		return CutoverResult{}, err
	}

	result, err := c.run(ctx)

	// An update (approve, reject or recheck sent by `starter`) answers its
	// sender only once the workflow has carried the decision out. Let those
	// answers go out before the workflow ends, or the sender gets an error
	// for a decision that was in fact taken.
	_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
	return result, err
}

// run is the cutover, step by step, as the runbook has it.
func (c *cutover) run(ctx workflow.Context) (CutoverResult, error) {
	if err := checkRequest(ctx, c.status.Request); err != nil {
		return CutoverResult{}, c.fail(ctx, err)
	}

	// Runbook steps 1 to 3: inventory both sides and analyse them (read-only).
	if err := c.runPreflight(ctx); err != nil {
		return CutoverResult{}, c.fail(ctx, err)
	}

	// Gate G1: a person reviews the findings, rechecking as often as needed.
	decision, err := c.reviewPreflight(ctx)
	if err != nil {
		return CutoverResult{}, c.fail(ctx, err)
	}
	if decision.Action == OpReject {
		return c.finish(ctx, decision, PhaseRejected, fmt.Sprintf(
			"The cutover was rejected at gate %s by %s: %s. Nothing was changed in AWS or Entra.",
			decision.Gate, decision.By, decision.Reason)), nil
	}

	// Histories recorded before the second half existed ended here.
	if workflow.GetVersion(ctx, versionSecondHalf, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return c.finish(ctx, decision, PhasePreflightApproved, fmt.Sprintf(
			"The preflight was approved by %s. The next phases (break-glass user, enterprise app, provisioning) "+
				"come with the next release, so nothing was changed in AWS or Entra.", decision.By)), nil
	}
	c.carrying = decision

	final, err := c.secondHalf(ctx)
	if rb, ok := c.asRollback(err); ok {
		if workflow.GetVersion(ctx, versionRollback, workflow.DefaultVersion, 1) != workflow.DefaultVersion {
			return c.rollBack(ctx, rb), nil
		}
		// Before rollbacks existed, a cancelled cutover just ended, and a
		// reject ended it with a list of what to undo by hand.
		if rb.decision == nil {
			return CutoverResult{}, err
		}
		return c.finish(ctx, rb.decision, PhaseRejected, rejectedMessage(rb.decision, c.status.Resources)), nil
	}
	if err != nil {
		return CutoverResult{}, c.fail(ctx, err)
	}
	scheduled := c.scheduleTokenRotation(ctx)
	return c.finish(ctx, final, PhaseCompleted, completedMessage(final, c.status.Resources)+scheduled), nil
}

// secondHalf carries out runbook steps 4 to 10 and gates G2 to G4 and
// returns the approval at gate confirm-sign-in. A reject or rollback at a
// gate, or a rollback asked for while a step ran, comes back as errRollback.
func (c *cutover) secondHalf(ctx workflow.Context) (*pendingDecision, error) {
	c.changing = true
	// Runbook step 4: a way into AWS that does not depend on single sign-on.
	if err := c.ensureBreakGlassUser(ctx); err != nil {
		return nil, err
	}

	// Gate G2, then runbook steps 5 to 7: the enterprise app in Entra.
	decision, err := c.collectSPMetadata(ctx)
	if err != nil {
		return nil, err
	}
	if rb := rollbackRequestedAt(decision); rb != nil {
		return nil, rb
	}
	if err := c.setUpEnterpriseApp(ctx); err != nil {
		return nil, err
	}

	// Gate G3, then runbook steps 8 to 10: provisioning and its verification.
	if decision, err = c.provision(ctx); err != nil {
		return nil, err
	}
	if decision != nil {
		return nil, rollbackRequestedAt(decision)
	}

	// Gate G4: a person confirms that signing in works.
	if decision, err = c.confirmSignIn(ctx); err != nil {
		return nil, err
	}
	if rb := rollbackRequestedAt(decision); rb != nil {
		return nil, rb
	}
	return decision, nil
}

// versionSecondHalf marks the workflow change that added runbook steps 4 to
// 10 after the preflight gate.
const versionSecondHalf = "second-half"

// checkRequest refuses a request the cutover cannot run, saying what to fix.
// It also insists on the workflow ID derived from the identity store: that ID
// is what stops a second cutover of the same instance while one runs.
func checkRequest(ctx workflow.Context, req CutoverRequest) error {
	if err := req.Validate(); err != nil {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("the cutover request is invalid; fix the request file and start the cutover again:\n%v", err),
			ErrInvalidRequest, nil)
	}
	want := CutoverWorkflowID(req.IdentityStoreID)
	if got := workflow.GetInfo(ctx).WorkflowExecution.ID; got != want {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("this cutover runs as workflow %q, but a cutover of %s must run as %q so that a second one "+
				"cannot start while it runs: start it again with --workflow-id %s (starter start does this)",
				got, req.IdentityStoreID, want, want),
			ErrInvalidRequest, nil)
	}
	return nil
}

// finish ends the cutover after the decision d, and lets the update that
// carried d (if any) answer with the final status.
func (c *cutover) finish(ctx workflow.Context, d *pendingDecision, phase, message string) CutoverResult {
	c.status.Phase = phase
	c.status.Step = message
	c.publish(ctx)
	d.carriedOut(nil)
	return CutoverResult{
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
	c.status.Phase = PhaseFailed
	c.status.Gate = nil
	c.gate = nil
	c.status.Step = describeError(err)
	c.publish(ctx)
	if c.carrying != nil {
		c.carrying.carriedOut(err)
		c.carrying = nil
	}
	// Histories recorded before notifications existed end without one.
	if !temporal.IsCanceledError(err) && workflow.GetVersion(ctx, versionFailureNotice, workflow.DefaultVersion, 1) != workflow.DefaultVersion {
		notifyAttention(ctx, "cutover", c.status.Request.IdentityStoreID, "The cutover stopped", c.status.Step)
	}
	return err
}

// versionFailureNotice marks the workflow change that announces a cutover
// that stops on an error (log, webhook).
const versionFailureNotice = "failure-notice"
