package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"
)

// gate is a point where a workflow waits for a person. Every gate works the
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

// keeper keeps the gates of one workflow: it opens a gate and announces it,
// reminds while the gate waits, takes decisions by signal and by update
// through one set of rules (signatures included), records refused signals,
// and answers updates once their decision is carried out. The cutover and
// the SCIM token rotation each have one; what differs between them is said
// in the keeper's fields.
type keeper struct {
	// state is the gate part of the workflow's status.
	state *GateState
	// setStep sets the status's phase and step and publishes the status;
	// publish publishes it as it is.
	setStep func(ctx workflow.Context, phase, step string)
	publish func(ctx workflow.Context)
	// step reads the status's step, for errors that say what goes on.
	step func() string
	// kind and identityStoreID name the workflow in announcements;
	// summary is what an announcement says besides the instructions.
	kind            string
	identityStoreID string
	summary         func() string
	// signing checks signed decisions; nil refuses every signature.
	signing *signing
	// withoutGate, when set, takes a decision sent while no gate is open
	// (the cutover's rollback while a step runs): allowed says whether op
	// can be taken now, take records it once accepted.
	withoutGate *gatelessDecisions

	// gate is the gate open now, nil while the workflow works; decision
	// the decision accepted there that the workflow has not picked up yet.
	gate     *gate
	decision *pendingDecision
}

// newGateState is the gate state of a workflow that has just started: no
// gate, and empty lists (which status shows as [], not null).
func newGateState() GateState {
	return GateState{Decisions: []Decision{}, Refused: []RefusedInput{}}
}

// clone is a copy of s that later changes do not reach, for the status query.
func (s GateState) clone() GateState {
	if s.Gate != nil {
		g := *s.Gate
		g.Operations = slices.Clone(g.Operations)
		g.Approvals = slices.Clone(g.Approvals)
		s.Gate = &g
	}
	s.Decisions = slices.Clone(s.Decisions)
	s.Refused = slices.Clone(s.Refused)
	return s
}

// gatelessDecisions are the decisions a workflow takes while no gate is open.
type gatelessDecisions struct {
	allowed func(op string) bool
	take    func(ctx workflow.Context, d *pendingDecision)
}

// patience is how a gate waits: it reminds after each of reminders in
// turn, then (if giveUp, called once, does not end the wait) after every
// again; again 0 with no reminders waits without reminding.
type patience struct {
	reminders []time.Duration
	again     time.Duration
	giveUp    func() error
}

// wait opens g and blocks until a decision is accepted there, by signal or
// by update. The gate is already closed when this returns: it closed the
// moment the decision was accepted, so a second decision (sent at the same
// time, or while this one is carried out) is refused rather than queued. A
// decision must be about what the person saw at the open gate.
func (k *keeper) wait(ctx workflow.Context, g *gate, p patience) (*pendingDecision, error) {
	k.open(ctx, g, 0)
	return k.await(ctx, p)
}

// open opens g, where an approve needs approvalsNeeded signed approvals
// (0: unsigned decisions), says so in status and announces it.
func (k *keeper) open(ctx workflow.Context, g *gate, approvalsNeeded int) {
	k.gate = g
	k.state.Gate = &GateStatus{
		Name:            g.name,
		Instructions:    g.instructions,
		Operations:      g.operations,
		OpenedAt:        workflow.Now(ctx),
		ApprovalsNeeded: approvalsNeeded,
	}
	k.setStep(ctx, g.phase, fmt.Sprintf("waiting at gate %s for a person to %s", g.name, orList(g.operations)))
	k.announce(ctx, false)
}

// await waits for a decision at the open gate, reminding as p says.
func (k *keeper) await(ctx workflow.Context, p patience) (*pendingDecision, error) {
	decided := func() bool { return k.decision != nil }
	waits := slices.Clone(p.reminders)
	for {
		var wait time.Duration
		switch {
		case len(waits) > 0:
			wait, waits = waits[0], waits[1:]
		case p.giveUp != nil:
			if err := p.giveUp(); err != nil {
				k.close()
				return nil, err
			}
			p.giveUp = nil
			continue
		case p.again == 0:
			if err := workflow.Await(ctx, decided); err != nil {
				return nil, err
			}
			return k.take(), nil
		default:
			wait = p.again
		}
		ok, err := workflow.AwaitWithTimeout(ctx, wait, decided)
		if err != nil {
			return nil, err
		}
		if ok {
			return k.take(), nil
		}
		k.remind(ctx)
	}
}

// take hands the accepted decision to the workflow.
func (k *keeper) take() *pendingDecision {
	d := k.decision
	k.decision = nil
	return d
}

// close closes the open gate, if any, without a decision (the workflow
// ends, or rolls back on its own).
func (k *keeper) close() {
	k.gate, k.state.Gate = nil, nil
}

// remind says, in the log, status and the UI, that the open gate still waits.
func (k *keeper) remind(ctx workflow.Context) {
	g, st := k.gate, k.state.Gate
	waited := workflow.Now(ctx).Sub(st.OpenedAt)
	workflow.GetLogger(ctx).Warn("A gate waits for a person", "gate", g.name, "waited", waited.String())
	st.RemindedAt = workflow.Now(ctx)
	k.setStep(ctx, g.phase, fmt.Sprintf("REMINDER: gate %s has waited %s for a person to %s", g.name, waited.Round(time.Minute), orList(g.operations)))
	k.announce(ctx, true)
}

// announce sends the open gate's instructions to the people who act on it.
func (k *keeper) announce(ctx workflow.Context, reminder bool) {
	notifyGate(ctx, gateAnnouncement{
		workflow:        k.kind,
		identityStoreID: k.identityStoreID,
		gate:            k.gate,
		summary:         k.summary(),
		reminder:        reminder,
	})
}

// accept validates a decision and, if it is valid, records it and closes the
// gate. Signals and updates both come through here. A signed approve at a
// gate that needs more approvers is recorded and leaves the gate open.
func (k *keeper) accept(ctx workflow.Context, op string, in GateDecision) (*pendingDecision, error) {
	signed, err := k.validate(workflow.Now(ctx), op, in)
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
	complete := k.signing.record(d, signed, k.state.Gate)
	k.state.Decisions = append(k.state.Decisions, d.Decision)
	if !complete {
		d.carriedOut(nil) // its update answers now, with the gate still open
		g := k.state.Gate
		k.setStep(ctx, k.gate.phase, fmt.Sprintf("approve at gate %s by %s recorded (%s); the gate waits for %d more approver(s) to approve",
			in.Gate, d.By, d.Approval, g.ApprovalsNeeded-len(g.Approvals)))
		workflow.GetLogger(ctx).Info("Signed approval recorded", "gate", in.Gate, "by", d.By, "approval", d.Approval)
		return d, nil
	}
	if k.gate == nil { // validate let it through: a decision for no gate
		k.withoutGate.take(ctx, d)
		return d, nil
	}
	phase := k.gate.phase
	k.decision = d
	k.close()
	k.setStep(ctx, phase, fmt.Sprintf("%s at gate %s by %s accepted; carrying it out", op, in.Gate, d.By))
	workflow.GetLogger(ctx).Info("Gate decision accepted", "gate", in.Gate, "operation", op, "by", d.By, "override", in.Override)
	return d, nil
}

// validate is the one set of rules for a decision, whether it came as a
// signal or an update (whose validator calls it before the update is
// accepted). It only reads state, and now, the workflow's time (see
// approvals.go for why a validator may read it). Each error says what to
// send instead. A signed decision comes back verified.
func (k *keeper) validate(now time.Time, op string, in GateDecision) (*signedDecision, error) {
	g := k.gate
	switch {
	case g == nil && k.withoutGate != nil && k.withoutGate.allowed(op):
		// Taken while no gate is open; it names no gate.
	case g == nil:
		return nil, fmt.Errorf("%s refused: no gate is open now (%s); wait until status shows an open gate, read what it says, then decide",
			op, k.step())
	default:
		if err := atOpenGate(g, op, in); err != nil {
			return nil, err
		}
	}

	problems := decisionProblems(op, in)
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s refused: %w", op, errors.Join(problems...))
	}
	signed, err := k.signing.check(now, op, in, k.state.Gate)
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

// validateDecision is validate for the operations' handlers.
func (k *keeper) validateDecision(now time.Time, op string, in GateDecision) error {
	_, err := k.validate(now, op, in)
	return err
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
