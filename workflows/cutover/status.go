package cutover

import (
	"fmt"
	"slices"
	"time"

	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/gate"
	"github.com/platformguide/ssocutover/workflows/statusview"
	"go.temporal.io/sdk/workflow"
)

// cutover is the workflow's state. status is exactly what the status query
// returns and what the Temporal UI shows (rendered by workflows/statusview); every
// change to it is followed by publish, so the two never disagree.
type cutover struct {
	status workflows.CutoverStatus
	// gates keeps the cutover's gates, in status.GateState.
	gates *gate.Keeper
	// carrying is the accepted decision the workflow is carrying out; the
	// update that sent it answers when the next gate opens (or the
	// cutover ends or fails).
	carrying *gate.Pending
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
	rollbackRequested *gate.Pending
	// retrying is the retry asked for at gate step-failed; its update
	// answers when the step succeeds (or fails again and reopens the gate).
	retrying *gate.Pending
	// onStepFailure, when set, learns from a step's failure before the
	// person decides at gate step-failed (what an attempt created).
	onStepFailure func(ctx workflow.Context, err error)
	// scimTokensCompensated is set once the SCIM tokens' removal is recorded.
	scimTokensCompensated bool
}

func newCutover(ctx workflow.Context, req workflows.CutoverRequest) *cutover {
	info := workflow.GetInfo(ctx).WorkflowExecution
	c := &cutover{status: workflows.CutoverStatus{
		WorkflowID: info.ID,
		RunID:      info.RunID,
		Request:    req,
		Phase:      workflows.PhasePreflight,
		Step:       "starting",
		GateState:  gate.NewState(),
	}}
	c.gates = &gate.Keeper{
		State:           &c.status.GateState,
		SetStep:         c.setStep,
		Publish:         c.publish,
		Step:            func() string { return c.status.Step },
		Kind:            "cutover",
		IdentityStoreID: req.IdentityStoreID,
		Summary:         func() string { return c.status.Step },
		// The worker's policy, if any, replaces this once read (run).
		Signing:      gate.NewSigning(info.ID, info.RunID, req, workflows.ApprovalPolicy{}),
		FollowPolicy: true,
		WithoutGate: &gate.Gateless{
			// A rollback while a step runs, once the cutover has
			// something to undo, and not twice.
			Allowed: func(op string) bool {
				return op == workflows.OpRollback && c.changing && c.rollbackRequested == nil && c.status.Rollback == nil
			},
			Take: func(ctx workflow.Context, d *gate.Pending) {
				c.rollbackRequested = d
				c.setStep(ctx, c.status.Phase, fmt.Sprintf("rollback asked for by %s; it starts when the running step ends (%s)", d.By, c.status.Step))
			},
		},
	}
	return c
}

// waitAtGate opens g and blocks until a decision is accepted there (see
// gate.Keeper.Wait). The decision the cutover was carrying out is done once the
// next gate is open: its update answers with that gate in status.
func (c *cutover) waitAtGate(ctx workflow.Context, g *gate.Gate) (*gate.Pending, error) {
	c.gates.Open(ctx, g)
	if c.carrying != nil {
		c.carrying.CarriedOut(nil)
		c.carrying = nil
	}
	return c.gates.Await(ctx, c.patience(g))
}

// patience is how g waits. With a gate timeout in the request it reminds
// halfway and at the timeout, then rolls back if the request says so and
// the gate allows it, or keeps reminding at every timeout.
func (c *cutover) patience(g *gate.Gate) gate.Patience {
	timeout, _ := c.status.Request.GateTimeoutDuration() // checkRequest validated it
	if timeout == 0 {
		return gate.Patience{}
	}
	return gate.Patience{
		Reminders: []time.Duration{timeout / 2, timeout - timeout/2},
		Again:     timeout,
		GiveUp: func() error {
			if g.RollsBackOnTimeout && c.status.Request.OnGateTimeout == workflows.OnGateTimeoutRollback {
				return &errRollback{trigger: workflows.TriggerGateTimeout}
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
	workflow.SetCurrentDetails(ctx, statusview.CutoverDetails(c.status))
}

// snapshot is a copy of the status that later changes do not reach.
func (c *cutover) snapshot() workflows.CutoverStatus {
	s := c.status
	s.GateState = gate.CopyState(s.GateState)
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

// gateOperations are the decisions a person sends. Each is a signal (for
// `temporal workflow signal` and tctl, which cannot be told no) and an update
// of the same name with a validator (for `starter` and `temporal workflow
// update`, which get an immediate error). Both take a GateDecision as JSON
// and go through the same rules (gate.Keeper).
//
// The order matters when signals reach the workflow in the same workflow
// task: their channels are read in this order, the first valid decision
// closes the gate and the others are refused. So the most cautious decision
// wins: a reject sent together with an approve stops the cutover.
var gateOperations = []string{workflows.OpRollback, workflows.OpReject, workflows.OpSkip, workflows.OpRetry, workflows.OpRecheck, workflows.OpApprove, workflows.OpSubmitSPMetadata, workflows.OpSubmitSCIM}

// listen installs the status query and every gate operation.
func (c *cutover) listen(ctx workflow.Context) error {
	return gate.Listen(ctx, c.gates, "Phase, open gate with what to do, preflight summary, decisions and refused signals", gateOperations, c.snapshot)
}
