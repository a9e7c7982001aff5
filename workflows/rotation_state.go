package workflows

import (
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// rotation is a rotation run's state. status is what the status query
// returns and what the Temporal UI shows.
type rotation struct {
	status ScimTokenRotationStatus
	timing rotationTiming
	// gates keeps the run's gates, in status.GateState.
	gates *keeper
}

func newRotation(ctx workflow.Context, req ScimTokenRotationRequest) *rotation {
	r := &rotation{status: ScimTokenRotationStatus{
		WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID,
		Request:    req,
		Phase:      RotationPhaseChecking,
		Step:       "starting",
		GateState:  newGateState(),
	}}
	r.gates = &keeper{
		state:           &r.status.GateState,
		setStep:         r.setStep,
		publish:         r.publish,
		step:            func() string { return r.status.Step },
		kind:            rotationKind,
		identityStoreID: req.IdentityStoreID,
		summary:         func() string { return r.status.Due },
		// The rotation takes no signed decisions: its gates ask a person
		// to do console work and say so, and the workflow checks the work.
		signing: nil,
	}
	return r
}

// setStep says what the run is doing now.
func (r *rotation) setStep(ctx workflow.Context, phase, step string) {
	r.status.Phase, r.status.Step = phase, step
	r.publish(ctx)
}

// publish shows the status in the Temporal UI.
func (r *rotation) publish(ctx workflow.Context) {
	workflow.SetCurrentDetails(ctx, renderRotationDetails(r.status))
}

// snapshot is a copy of the status that later changes do not reach.
func (r *rotation) snapshot() ScimTokenRotationStatus {
	s := r.status
	s.GateState = s.GateState.clone()
	for _, p := range []**TokenState{&s.Current, &s.New} {
		if *p != nil {
			copied := **p
			*p = &copied
		}
	}
	if s.Job != nil {
		j := *s.Job
		s.Job = &j
	}
	return s
}

// finish ends the run after decision d (nil when no gate opened).
func (r *rotation) finish(ctx workflow.Context, d *pendingDecision, phase, message string) ScimTokenRotationResult {
	r.gates.close()
	r.setStep(ctx, phase, message)
	workflow.GetLogger(ctx).Info("SCIM token rotation run ended", "outcome", phase, "message", message)
	if d != nil {
		d.carriedOut(nil)
	}
	result := ScimTokenRotationResult{Outcome: phase, Message: message, Job: r.status.Job, Decisions: r.status.Decisions}
	if r.status.Current != nil {
		result.Token = *r.status.Current
	}
	if r.status.New != nil {
		result.Token = *r.status.New
	}
	return result
}

// fail records why the run stopped, tells people (a scheduled run that
// fails unnoticed is how a token expires unnoticed), and returns err.
func (r *rotation) fail(ctx workflow.Context, err error) error {
	r.gates.close()
	r.setStep(ctx, RotationPhaseFailed, describeError(err))
	if !temporal.IsCanceledError(err) {
		notifyAttention(ctx, rotationKind, r.status.Request.IdentityStoreID, "A SCIM token rotation run failed", describeError(err))
	}
	return err
}

// rotationKind names the rotation in notifications.
const rotationKind = "SCIM token rotation"

// waitAtGate opens g and blocks until a decision is accepted there (see
// keeper.wait), announcing the gate again every remindEvery with how long
// it has waited.
func (r *rotation) waitAtGate(ctx workflow.Context, g *gate) (*pendingDecision, error) {
	return r.gates.wait(ctx, g, patience{again: r.timing.remindEvery})
}
