package workflows

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// rotation is a rotation run's state. status is what the status query
// returns and what the Temporal UI shows.
type rotation struct {
	status ScimTokenRotationStatus
	timing rotationTiming
	// gate is the gate open now; decision the decision accepted there that
	// the run has not picked up yet.
	gate     *gate
	decision *pendingDecision
}

func newRotation(ctx workflow.Context, req ScimTokenRotationRequest) *rotation {
	return &rotation{status: ScimTokenRotationStatus{
		WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID,
		Request:    req,
		Phase:      RotationPhaseChecking,
		Step:       "starting",
		Decisions:  []Decision{},
		Refused:    []RefusedInput{},
	}}
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
	if s.Gate != nil {
		g := *s.Gate
		g.Operations = slices.Clone(g.Operations)
		s.Gate = &g
	}
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
	s.Decisions = slices.Clone(s.Decisions)
	s.Refused = slices.Clone(s.Refused)
	return s
}

// finish ends the run after decision d (nil when no gate opened).
func (r *rotation) finish(ctx workflow.Context, d *pendingDecision, phase, message string) ScimTokenRotationResult {
	r.status.Gate, r.gate = nil, nil
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
	r.status.Gate, r.gate = nil, nil
	r.setStep(ctx, RotationPhaseFailed, describeError(err))
	if !temporal.IsCanceledError(err) {
		notifyAttention(ctx, rotationKind, r.status.Request.IdentityStoreID, "A SCIM token rotation run failed", describeError(err))
	}
	return err
}

// rotationKind names the rotation in notifications.
const rotationKind = "SCIM token rotation"

// waitAtGate opens g, announces it, and blocks until a decision is
// accepted there. While it waits it announces the gate again every
// remindEvery, with how long it has waited.
func (r *rotation) waitAtGate(ctx workflow.Context, g *gate) (*pendingDecision, error) {
	r.gate = g
	r.status.Gate = &GateStatus{Name: g.name, Instructions: g.instructions, Operations: g.operations, OpenedAt: workflow.Now(ctx)}
	r.setStep(ctx, g.phase, fmt.Sprintf("waiting at gate %s for a person to %s", g.name, orList(g.operations)))
	r.announce(ctx, g, false)
	for {
		decided, err := workflow.AwaitWithTimeout(ctx, r.timing.remindEvery, func() bool { return r.decision != nil })
		if err != nil {
			return nil, err
		}
		if decided {
			break
		}
		waited := workflow.Now(ctx).Sub(r.status.Gate.OpenedAt)
		r.status.Gate.RemindedAt = workflow.Now(ctx)
		r.setStep(ctx, g.phase, fmt.Sprintf("REMINDER: gate %s has waited %s for a person to %s", g.name, waited.Round(time.Minute), orList(g.operations)))
		r.announce(ctx, g, true)
	}
	d := r.decision
	r.decision = nil
	return d, nil
}

// announce sends the gate's instructions to the people who act on it.
func (r *rotation) announce(ctx workflow.Context, g *gate, reminder bool) {
	notifyGate(ctx, gateAnnouncement{
		workflow:        rotationKind,
		identityStoreID: r.status.Request.IdentityStoreID,
		gate:            g,
		summary:         r.status.Due,
		reminder:        reminder,
	})
}

// accept validates a decision and, if it is valid, records it and closes
// the gate.
func (r *rotation) accept(ctx workflow.Context, op string, in GateDecision) (*pendingDecision, error) {
	if err := r.validateDecision(workflow.Now(ctx), op, in); err != nil {
		return nil, err
	}
	d := &pendingDecision{input: in, Decision: Decision{
		Gate: in.Gate, Action: op, By: strings.TrimSpace(in.By), Reason: strings.TrimSpace(in.Reason),
		Override: in.Override, At: workflow.Now(ctx),
	}}
	r.status.Decisions = append(r.status.Decisions, d.Decision)
	r.decision = d
	r.gate, r.status.Gate = nil, nil
	r.setStep(ctx, r.status.Phase, fmt.Sprintf("%s at gate %s by %s accepted; carrying it out", op, in.Gate, d.By))
	workflow.GetLogger(ctx).Info("Gate decision accepted", "gate", in.Gate, "operation", op, "by", d.By, "override", in.Override)
	return d, nil
}

// validateDecision refuses a decision the open gate cannot take. The
// rotation takes no signed decisions: the gates ask a person to do console
// work and say so, and the workflow checks the work itself.
func (r *rotation) validateDecision(_ time.Time, op string, in GateDecision) error {
	if r.gate == nil {
		return fmt.Errorf("%s refused: no gate is open now (%s); wait until status shows an open gate", op, r.status.Step)
	}
	if err := atOpenGate(r.gate, op, in); err != nil {
		return err
	}
	problems := decisionProblems(op, in)
	if in.Signature != "" || in.SignedAt != "" {
		problems = append(problems, errors.New("the SCIM token rotation takes no signed decisions: send it without signature and signedAt"))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s refused: %w", op, errors.Join(problems...))
	}
	if r.gate.check != nil {
		if err := r.gate.check(op, in); err != nil {
			return fmt.Errorf("%s refused: %w", op, err)
		}
	}
	return nil
}

// refuse records a signal the rotation ignored.
func (r *rotation) refuse(ctx workflow.Context, op string, input json.RawMessage, reason error) {
	r.status.Refused = keepNewest(r.status.Refused, refusedInput(ctx, op, input, reason))
	r.status.RefusedTotal++
	r.publish(ctx)
}
