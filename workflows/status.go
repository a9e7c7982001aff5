package workflows

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"
)

// cutover is the workflow's state. status is exactly what the status query
// returns and what the Temporal UI shows (rendered by details.go); every
// change to it is followed by publish, so the two never disagree.
type cutover struct {
	status CutoverStatus
	// gates keeps the cutover's gates, in status.GateState.
	gates *keeper
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
}

func newCutover(ctx workflow.Context, req CutoverRequest) *cutover {
	info := workflow.GetInfo(ctx).WorkflowExecution
	c := &cutover{status: CutoverStatus{
		WorkflowID: info.ID,
		RunID:      info.RunID,
		Request:    req,
		Phase:      PhasePreflight,
		Step:       "starting",
		GateState:  newGateState(),
	}}
	c.gates = &keeper{
		state:           &c.status.GateState,
		setStep:         c.setStep,
		publish:         c.publish,
		step:            func() string { return c.status.Step },
		kind:            "cutover",
		identityStoreID: req.IdentityStoreID,
		summary:         func() string { return c.status.Step },
		signing:         newSigning(info.ID, info.RunID, req),
		withoutGate: &gatelessDecisions{
			// A rollback while a step runs, once the cutover has
			// something to undo, and not twice.
			allowed: func(op string) bool {
				return op == OpRollback && c.changing && c.rollbackRequested == nil && c.status.Rollback == nil
			},
			take: func(ctx workflow.Context, d *pendingDecision) {
				c.rollbackRequested = d
				c.setStep(ctx, c.status.Phase, fmt.Sprintf("rollback asked for by %s; it starts when the running step ends (%s)", d.By, c.status.Step))
			},
		},
	}
	return c
}

// waitAtGate opens g and blocks until a decision is accepted there (see
// keeper.wait). The decision the cutover was carrying out is done once the
// next gate is open: its update answers with that gate in status.
func (c *cutover) waitAtGate(ctx workflow.Context, g *gate) (*pendingDecision, error) {
	c.gates.open(ctx, g, c.gates.signing.approvalsNeeded(g.name))
	if c.carrying != nil {
		c.carrying.carriedOut(nil)
		c.carrying = nil
	}
	return c.gates.await(ctx, c.patience(g))
}

// patience is how g waits. With a gate timeout in the request it reminds
// halfway and at the timeout, then rolls back if the request says so and
// the gate allows it, or keeps reminding at every timeout.
func (c *cutover) patience(g *gate) patience {
	timeout, _ := c.status.Request.gateTimeout() // checkRequest validated it
	if timeout == 0 {
		return patience{}
	}
	return patience{
		reminders: []time.Duration{timeout / 2, timeout - timeout/2},
		again:     timeout,
		giveUp: func() error {
			if g.rollsBackOnTimeout && c.status.Request.OnGateTimeout == OnGateTimeoutRollback {
				return &errRollback{trigger: TriggerGateTimeout}
			}
			return nil
		},
	}
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
	s.GateState = s.GateState.clone()
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
	return s
}
