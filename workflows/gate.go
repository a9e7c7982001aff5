package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"
)

// gate is a point where the cutover waits for a person. Every gate works the
// same way (open it with instructions, wait for a decision that passes
// validation, close it); what differs is described here.
type gate struct {
	name string
	// phase is the status phase while the gate is open.
	phase string
	// instructions tell the person what to check and which commands to run.
	instructions string
	// operations the gate takes, in the order status lists them.
	operations []string
	// check refuses a decision this gate cannot take, beyond the rules every
	// gate has (see validate). Nil accepts. It must only read state.
	check func(op string, d GateDecision) error
	// rollsBackOnTimeout lets the request's onGateTimeout roll back when
	// the gate waits too long; other gates only remind.
	rollsBackOnTimeout bool
}

// pendingDecision is a decision the workflow accepted and is carrying out.
// An update that carried it waits until done, then answers with the status.
type pendingDecision struct {
	Decision
	// input is the decision as sent, with what it carries (metadata, SCIM
	// endpoint); only Decision goes into status.
	input GateDecision
	done  bool
	err   error
}

// carriedOut marks d as done; err says it could not be carried out.
func (d *pendingDecision) carriedOut(err error) {
	d.done, d.err = true, err
}

// Limits on what a person types, so no decision can grow history or status.
const (
	maxByLength     = 200
	maxReasonLength = 2000
)

// waitAtGate opens g and blocks until a decision is accepted there, by
// signal or by update. The gate is already closed when this returns: it
// closed the moment the decision was accepted, so a second decision (sent at
// the same time, or while this one is carried out) is refused rather than
// queued. A decision must be about what the person saw at the open gate.
func (c *cutover) waitAtGate(ctx workflow.Context, g *gate) (*pendingDecision, error) {
	c.gate = g
	c.status.Gate = &GateStatus{
		Name:         g.name,
		Instructions: g.instructions,
		Operations:   g.operations,
		OpenedAt:     workflow.Now(ctx),
		// Signed approvals count at this opening of the gate only.
		ApprovalsNeeded: c.status.Request.RequiredApprovals[g.name],
	}
	c.setStep(ctx, g.phase, fmt.Sprintf("waiting at gate %s for a person to %s", g.name, orList(g.operations)))
	c.announce(ctx, g, false)
	if c.carrying != nil {
		c.carrying.carriedOut(nil)
		c.carrying = nil
	}

	if err := c.awaitDecision(ctx, g); err != nil {
		return nil, err
	}
	d := c.decision
	c.decision = nil
	return d, nil
}

// awaitDecision waits for a decision at g. With a gate timeout in the
// request it reminds halfway and at the timeout, then rolls back if the
// request says so and the gate allows it, or keeps waiting.
func (c *cutover) awaitDecision(ctx workflow.Context, g *gate) error {
	decided := func() bool { return c.decision != nil }
	timeout, _ := c.status.Request.gateTimeout() // checkRequest validated it
	if timeout == 0 {
		return workflow.Await(ctx, decided)
	}
	for _, wait := range []time.Duration{timeout / 2, timeout - timeout/2} {
		ok, err := workflow.AwaitWithTimeout(ctx, wait, decided)
		if err != nil || ok {
			return err
		}
		c.remind(ctx, g, timeout)
	}
	if g.rollsBackOnTimeout && c.status.Request.OnGateTimeout == OnGateTimeoutRollback {
		c.gate, c.status.Gate = nil, nil
		return &errRollback{trigger: TriggerGateTimeout}
	}
	for {
		ok, err := workflow.AwaitWithTimeout(ctx, timeout, decided)
		if err != nil || ok {
			return err
		}
		c.remind(ctx, g, timeout)
	}
}

// remind says, in the log, status and the UI, that g still waits.
func (c *cutover) remind(ctx workflow.Context, g *gate, timeout time.Duration) {
	waited := workflow.Now(ctx).Sub(c.status.Gate.OpenedAt)
	workflow.GetLogger(ctx).Warn("A gate waits for a person", "gate", g.name, "waited", waited.String(), "timeout", timeout.String())
	c.status.Gate.RemindedAt = workflow.Now(ctx)
	c.setStep(ctx, g.phase, fmt.Sprintf("REMINDER: gate %s has waited %s for a person to %s", g.name, waited.Round(time.Minute), orList(g.operations)))
	c.announce(ctx, g, true)
}

// announce sends the gate's instructions to the people who act on it.
func (c *cutover) announce(ctx workflow.Context, g *gate, reminder bool) {
	notifyGate(ctx, gateAnnouncement{
		workflow:        "cutover",
		identityStoreID: c.status.Request.IdentityStoreID,
		gate:            g,
		summary:         c.status.Step,
		reminder:        reminder,
	})
}

// accept validates a decision and, if it is valid, records it and closes the
// gate. Signals and updates both come through here. A signed approve at a
// gate that needs more approvers is recorded and leaves the gate open.
func (c *cutover) accept(ctx workflow.Context, op string, in GateDecision) (*pendingDecision, error) {
	signed, err := c.validate(workflow.Now(ctx), op, in)
	if err != nil {
		return nil, err
	}
	d := &pendingDecision{input: in, Decision: Decision{
		Gate:     in.Gate,
		Action:   op,
		By:       strings.TrimSpace(in.By),
		Reason:   strings.TrimSpace(in.Reason),
		Override: in.Override,
		At:       workflow.Now(ctx),
	}}
	complete := c.recordSignature(d, signed)
	c.status.Decisions = append(c.status.Decisions, d.Decision)
	if !complete {
		d.carriedOut(nil) // its update answers now, with the gate still open
		g := c.status.Gate
		c.setStep(ctx, c.status.Phase, fmt.Sprintf("approve at gate %s by %s recorded (%s); the gate waits for %d more approver(s) to approve",
			in.Gate, d.By, d.Approval, g.ApprovalsNeeded-len(g.Approvals)))
		workflow.GetLogger(ctx).Info("Signed approval recorded", "gate", in.Gate, "by", d.By, "approval", d.Approval)
		return d, nil
	}
	if c.gate == nil { // a rollback while a step runs (validate allowed it)
		c.rollbackRequested = d
		c.setStep(ctx, c.status.Phase, fmt.Sprintf("rollback asked for by %s; it starts when the running step ends (%s)", d.By, c.status.Step))
		return d, nil
	}
	c.decision = d
	c.gate = nil
	c.status.Gate = nil
	c.setStep(ctx, c.status.Phase, fmt.Sprintf("%s at gate %s by %s accepted; carrying it out", op, in.Gate, d.By))
	workflow.GetLogger(ctx).Info("Gate decision accepted", "gate", in.Gate, "operation", op, "by", d.By, "override", in.Override)
	return d, nil
}

// validate is the one set of rules for a decision, whether it came as a
// signal or an update (whose validator calls it before the update is
// accepted). It only reads state, and now, the workflow's time (see
// approvals.go for why a validator may read it). Each error says what to
// send instead. A signed decision comes back verified.
func (c *cutover) validate(now time.Time, op string, in GateDecision) (*signedDecision, error) {
	g := c.gate
	switch {
	case g == nil && op == OpRollback && c.canRollBackNow():
		// A rollback while a step runs; it names no gate.
	case g == nil:
		return nil, fmt.Errorf("%s refused: no gate is open now (%s); wait until status shows an open gate, read what it says, then decide",
			op, c.status.Step)
	default:
		if err := atOpenGate(g, op, in); err != nil {
			return nil, err
		}
	}

	problems := decisionProblems(op, in)
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s refused: %w", op, errors.Join(problems...))
	}
	signed, err := c.checkSignature(now, op, in)
	if err != nil {
		return nil, fmt.Errorf("%s refused: %w", op, err)
	}
	if g != nil && g.check != nil {
		if err := g.check(op, in); err != nil {
			return nil, fmt.Errorf("%s refused: %w", op, err)
		}
	}
	return signed, nil
}

// atOpenGate refuses a decision that is not for the open gate g or that g
// does not take.
func atOpenGate(g *gate, op string, in GateDecision) error {
	switch {
	case in.Gate != g.name:
		return fmt.Errorf("%s refused: gate %q is not open; the open gate is %q: send \"gate\": %q",
			op, clip(in.Gate, 100), g.name, g.name)
	case !slices.Contains(g.operations, op):
		return fmt.Errorf("%s refused: gate %q takes %s", op, g.name, orList(g.operations))
	}
	return nil
}

// decisionProblems are the rules every decision follows, at any gate of
// any workflow: who decides, why, and what the operation may carry.
func decisionProblems(op string, in GateDecision) []error {
	var problems []error
	by, reason := strings.TrimSpace(in.By), strings.TrimSpace(in.Reason)
	switch {
	case by == "":
		problems = append(problems, errors.New(`"by" is required: name the person deciding`))
	case len(by) > maxByLength:
		problems = append(problems, fmt.Errorf(`"by" is longer than %d characters`, maxByLength))
	}
	if len(reason) > maxReasonLength {
		problems = append(problems, fmt.Errorf(`"reason" is longer than %d characters: link to a ticket instead`, maxReasonLength))
	}
	if (op == OpReject || op == OpRollback) && reason == "" {
		problems = append(problems, fmt.Errorf(`%s needs a "reason": say why the cutover stops`, op))
	}
	if op == OpSkip && reason == "" {
		problems = append(problems, errors.New(`skip needs a "reason": say what you did by hand instead`))
	}
	if in.Override && op != OpApprove {
		problems = append(problems, fmt.Errorf(`"override" applies to approve only, not to %s`, op))
	}
	if in.Override && reason == "" {
		problems = append(problems, errors.New(`"override" needs a "reason": say why going on despite the blockers is safe`))
	}
	if in.SPMetadataXML != "" && op != OpSubmitSPMetadata {
		problems = append(problems, fmt.Errorf(`"spMetadataXml" belongs to %s, not to %s`, OpSubmitSPMetadata, op))
	}
	if (in.SCIMEndpoint != "" || in.SCIMToken != nil) && op != OpSubmitSCIM {
		problems = append(problems, fmt.Errorf(`"scimEndpoint" and "scimToken" belong to %s, not to %s`, OpSubmitSCIM, op))
	}
	return problems
}

// orList spells a list of operations as "a, b or c".
func orList(ops []string) string {
	if len(ops) <= 1 {
		return strings.Join(ops, "")
	}
	return strings.Join(ops[:len(ops)-1], ", ") + " or " + ops[len(ops)-1]
}

// clip shortens text a person sent, at a character boundary, before it is
// echoed in an error or in status.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	end := 0
	for i := range s {
		if i > n {
			break
		}
		end = i
	}
	return s[:end] + "..."
}

// canRollBackNow reports whether a rollback sent while no gate is open can
// be taken: once the cutover has something to undo, and not twice.
func (c *cutover) canRollBackNow() bool {
	return c.changing && c.rollbackRequested == nil && c.status.Rollback == nil
}

// validateDecision is validate for the operations' handlers.
func (c *cutover) validateDecision(now time.Time, op string, in GateDecision) error {
	_, err := c.validate(now, op, in)
	return err
}
