package workflows

import (
	"slices"

	"go.temporal.io/sdk/workflow"
)

// cutover is the workflow's state. status is exactly what the status query
// returns and what the Temporal UI shows (rendered by details.go); every
// change to it is followed by publish, so the two never disagree.
type cutover struct {
	status CutoverStatus
	// gate is the gate open now, nil while the workflow works.
	gate *gate
	// decision is the decision accepted at the gate that the workflow has
	// not picked up yet.
	decision *pendingDecision
	// carrying is the accepted decision the workflow is carrying out; the
	// update that sent it answers when the next gate opens (or the
	// cutover ends or fails).
	carrying *pendingDecision
	// onDemandGroups are the Entra groups to provision on demand when the
	// job starts (a few; the job's cycle provisions every assigned group).
	onDemandGroups []string
	// changing is set once the cutover starts changing things (after the
	// preflight gate): from then on a cancellation rolls back.
	changing bool
	// compensations undo the steps done so far (newest last).
	compensations []compensation
	// rollbackRequested is a rollback asked for while no gate was open; it
	// takes effect when the running step ends.
	rollbackRequested *pendingDecision
	// retrying is the retry asked for at gate step-failed; its update
	// answers when the step succeeds (or fails again and reopens the gate).
	retrying *pendingDecision
	// scimTokensCompensated is set once the SCIM tokens' removal is recorded.
	scimTokensCompensated bool
	// usedSignatures are the approval.UseIDs of the signed decisions
	// accepted so far: a signature counts once.
	usedSignatures map[string]bool
}

func newCutover(ctx workflow.Context, req CutoverRequest) *cutover {
	return &cutover{status: CutoverStatus{
		WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID,
		RunID:      workflow.GetInfo(ctx).WorkflowExecution.RunID,
		Request:    req,
		Phase:      PhasePreflight,
		Step:       "starting",
		Decisions:  []Decision{},
		Refused:    []RefusedInput{},
	}}
}

// setStep says what the workflow is doing now.
func (c *cutover) setStep(ctx workflow.Context, phase, step string) {
	c.status.Phase = phase
	c.status.Step = step
	c.publish(ctx)
}

// publish shows the status in the Temporal UI. Current details are not
// recorded in history, so calling it is always safe, on replay too.
func (c *cutover) publish(ctx workflow.Context) {
	// What a rollback would undo follows the compensations recorded.
	c.status.PendingCompensations = c.status.PendingCompensations[:0]
	for _, comp := range c.compensations {
		c.status.PendingCompensations = append(c.status.PendingCompensations, comp.undoes)
	}
	workflow.SetCurrentDetails(ctx, renderDetails(c.status))
}

// snapshot is a copy of the status that later changes do not reach.
func (c *cutover) snapshot() CutoverStatus {
	s := c.status
	if s.Gate != nil {
		g := *s.Gate
		g.Operations = slices.Clone(g.Operations)
		g.Approvals = slices.Clone(g.Approvals)
		s.Gate = &g
	}
	if s.Preflight != nil {
		p := *s.Preflight
		s.Preflight = &p
	}
	if s.Resources != nil {
		r := *s.Resources
		s.Resources = &r
	}
	if s.Rollback != nil {
		r := *s.Rollback
		r.Steps = slices.Clone(r.Steps)
		r.ByHand = slices.Clone(r.ByHand)
		s.Rollback = &r
	}
	s.PendingCompensations = slices.Clone(s.PendingCompensations)
	s.Decisions = slices.Clone(s.Decisions)
	s.Refused = slices.Clone(s.Refused)
	return s
}
