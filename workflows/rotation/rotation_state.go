package rotation

import (
	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/gate"
	"github.com/platformguide/ssocutover/workflows/statusview"
	"github.com/platformguide/ssocutover/workflows/step"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// rotation is a rotation run's state. status is what the status query
// returns and what the Temporal UI shows.
type rotation struct {
	status workflows.ScimTokenRotationStatus
	timing workflows.RotationTiming
	// gates keeps the run's gates, in status.GateState.
	gates *gate.Keeper
}

func newRotation(ctx workflow.Context, req workflows.ScimTokenRotationRequest) *rotation {
	r := &rotation{status: workflows.ScimTokenRotationStatus{
		WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID,
		Request:    req,
		Phase:      workflows.RotationPhaseChecking,
		Step:       "starting",
		GateState:  gate.NewState(),
	}}
	r.gates = &gate.Keeper{
		State:           &r.status.GateState,
		SetStep:         r.setStep,
		Publish:         r.publish,
		Step:            func() string { return r.status.Step },
		Kind:            rotationKind,
		IdentityStoreID: req.IdentityStoreID,
		Summary:         func() string { return r.status.Due },
		// Without a policy of the worker the rotation takes no signed
		// decisions: its gates ask a person to do console work, and the
		// workflow checks the work. With one, its signed operations must
		// be signed here too (run reads it; every gate reads it again).
		Signing:      nil,
		FollowPolicy: true,
		SigningFor: func(p workflows.ApprovalPolicy) *gate.Signing {
			info := workflow.GetInfo(ctx).WorkflowExecution
			return gate.NewRotationSigning(info.ID, info.RunID, p)
		},
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
	workflow.SetCurrentDetails(ctx, statusview.RotationDetails(r.status))
}

// snapshot is a copy of the status that later changes do not reach.
func (r *rotation) snapshot() workflows.ScimTokenRotationStatus {
	s := r.status
	s.GateState = gate.CopyState(s.GateState)
	for _, p := range []**workflows.TokenState{&s.Current, &s.New} {
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
func (r *rotation) finish(ctx workflow.Context, d *gate.Pending, phase, message string) workflows.ScimTokenRotationResult {
	r.gates.Close()
	r.setStep(ctx, phase, message)
	workflow.GetLogger(ctx).Info("SCIM token rotation run ended", "outcome", phase, "message", message)
	if d != nil {
		d.CarriedOut(nil)
	}
	result := workflows.ScimTokenRotationResult{Outcome: phase, Message: message, Job: r.status.Job, Decisions: r.status.Decisions}
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
	r.gates.Close()
	r.setStep(ctx, workflows.RotationPhaseFailed, step.DescribeError(err))
	if !temporal.IsCanceledError(err) {
		gate.NotifyAttention(ctx, rotationKind, r.status.Request.IdentityStoreID, "A SCIM token rotation run failed", step.DescribeError(err))
	}
	return err
}

// rotationKind names the rotation in notifications.
const rotationKind = "SCIM token rotation"

// waitAtGate opens g and blocks until a decision is accepted there (see
// gate.Keeper.Wait), announcing the gate again every remindEvery with how long
// it has waited.
func (r *rotation) waitAtGate(ctx workflow.Context, g *gate.Gate) (*gate.Pending, error) {
	return r.gates.Wait(ctx, g, gate.Patience{Again: r.timing.RemindEvery})
}
