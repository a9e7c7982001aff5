// Package gate is how both workflows wait for people: a Keeper opens a gate
// and announces it, reminds while it waits, takes decisions by signal and
// by update through one set of rules (signatures included), records refused
// signals and answers updates once their decision is carried out. The
// cutover and the SCIM token rotation each configure one; neither
// reimplements any of it.
package gate

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/platformguide/ssocutover/workflows"
	"go.temporal.io/sdk/workflow"
)

// Gate is a point where a workflow waits for a person. Every gate works the
// same way (open it with instructions, wait for a decision that passes
// validation, close it); what differs is described here.
type Gate struct {
	Name string
	// Phase is the status phase while the gate is open.
	Phase string
	// Instructions tell the person what to check and which commands to run.
	Instructions string
	// Operations the gate takes, in the order status lists them.
	Operations []string
	// Check refuses a decision this gate cannot take, beyond the rules every
	// gate has (see validate). Nil accepts. It must only read state.
	Check func(op string, d workflows.GateDecision) error
	// RollsBackOnTimeout lets the request's onGateTimeout roll back when
	// the gate waits too long; other gates only remind.
	RollsBackOnTimeout bool
}

// Pending is a decision the workflow accepted and is carrying out.
// An update that carried it waits until done, then answers with the status.
type Pending struct {
	workflows.Decision
	// Input is the decision as sent, with what it carries (metadata, SCIM
	// endpoint); only Decision goes into status.
	Input workflows.GateDecision
	done  bool
	err   error
}

// CarriedOut marks d as done; err says it could not be carried out.
func (d *Pending) CarriedOut(err error) {
	d.done, d.err = true, err
}

// Keeper keeps the gates of one workflow: it opens a gate and announces it,
// reminds while the gate waits, takes decisions by signal and by update
// through one set of rules (signatures included), records refused signals,
// and answers updates once their decision is carried out. The cutover and
// the SCIM token rotation each have one; what differs between them is said
// in the keeper's fields.
type Keeper struct {
	// State is the gate part of the workflow's status.
	State *workflows.GateState
	// SetStep sets the status's phase and step and publishes the status;
	// Publish publishes it as it is.
	SetStep func(ctx workflow.Context, phase, step string)
	Publish func(ctx workflow.Context)
	// Step reads the status's step, for errors that say what goes on.
	Step func() string
	// Kind and IdentityStoreID name the workflow in announcements;
	// Summary is what an announcement says besides the instructions.
	Kind            string
	IdentityStoreID string
	Summary         func() string
	// Signing checks signed decisions; nil refuses every signature.
	Signing *Signing
	// FollowPolicy reads the worker's approval policy again at every gate
	// and applies a stricter one (policy.go); SigningFor makes the signing
	// of a policy where Signing is nil.
	FollowPolicy bool
	SigningFor   func(workflows.ApprovalPolicy) *Signing
	// WithoutGate, when set, takes a decision sent while no gate is open
	// (the cutover's rollback while a step runs): allowed says whether op
	// can be taken now, take records it once accepted.
	WithoutGate *Gateless

	// gate is the gate open now, nil while the workflow works; decision
	// the decision accepted there that the workflow has not picked up yet.
	gate     *Gate
	decision *Pending
}

// NewState is the gate state of a workflow that has just started: no
// gate, and empty lists (which status shows as [], not null).
func NewState() workflows.GateState {
	return workflows.GateState{Decisions: []workflows.Decision{}, Refused: []workflows.RefusedInput{}}
}

// CopyState is a copy of s that later changes do not reach, for the status
// query.
func CopyState(s workflows.GateState) workflows.GateState {
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

// Gateless are the decisions a workflow takes while no gate is open.
type Gateless struct {
	Allowed func(op string) bool
	Take    func(ctx workflow.Context, d *Pending)
}

// Patience is how a gate waits: it reminds after each of reminders in
// turn, then (if giveUp, called once, does not end the wait) after every
// again; again 0 with no reminders waits without reminding.
type Patience struct {
	Reminders []time.Duration
	Again     time.Duration
	GiveUp    func() error
}

// Wait opens g and blocks until a decision is accepted there, by signal or
// by update. The gate is already closed when this returns: it closed the
// moment the decision was accepted, so a second decision (sent at the same
// time, or while this one is carried out) is refused rather than queued. A
// decision must be about what the person saw at the open gate.
func (k *Keeper) Wait(ctx workflow.Context, g *Gate, p Patience) (*Pending, error) {
	k.Open(ctx, g)
	return k.Await(ctx, p)
}

// Open opens g, says so in status and announces it. An approve there needs
// as many signed approvals as the keeper's Signing asks for g (none
// without Signing).
func (k *Keeper) Open(ctx workflow.Context, g *Gate) {
	opened := *g
	opened.Instructions = CommandsAsCode(g.Instructions)
	g = &opened
	k.gate = g
	k.State.Gate = &workflows.GateStatus{
		Name:            g.Name,
		Instructions:    g.Instructions,
		Operations:      g.Operations,
		OpenedAt:        workflow.Now(ctx),
		ApprovalsNeeded: k.Signing.ApprovalsNeeded(g.Name),
	}
	k.SetStep(ctx, g.Phase, fmt.Sprintf("waiting at gate %s for a person to %s", g.Name, OrList(g.Operations)))
	if k.FollowPolicy {
		// The gate reads the worker's policy again beside its wait: the
		// opening is not held up, and a stricter policy applies as soon
		// as it is read (a decision taken before was valid under the
		// policy then in force, which a stricter one only narrows).
		workflow.Go(ctx, func(ctx workflow.Context) {
			k.followPolicy(ctx)
			if k.gate == g && k.State.Gate != nil {
				k.State.Gate.ApprovalsNeeded = k.Signing.ApprovalsNeeded(g.Name)
				k.Publish(ctx)
			}
		})
	}
	k.announce(ctx, false)
}

// Await waits for a decision at the open gate, reminding as p says.
func (k *Keeper) Await(ctx workflow.Context, p Patience) (*Pending, error) {
	decided := func() bool { return k.decision != nil }
	waits := slices.Clone(p.Reminders)
	for {
		var wait time.Duration
		switch {
		case len(waits) > 0:
			wait, waits = waits[0], waits[1:]
		case p.GiveUp != nil:
			if err := p.GiveUp(); err != nil {
				k.Close()
				return nil, err
			}
			p.GiveUp = nil
			continue
		case p.Again == 0:
			if err := workflow.Await(ctx, decided); err != nil {
				return nil, err
			}
			return k.take(), nil
		default:
			wait = p.Again
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

// WaitMetric is the timer of how long a gate waited for the decision that
// closed it, tagged with the gate and the decision's action; the worker's
// Prometheus endpoint shows it as ssocutover_gate_wait_seconds. The SDK
// records nothing while it replays, so each wait counts once.
const WaitMetric = "ssocutover_gate_wait"

// take hands the accepted decision to the workflow.
func (k *Keeper) take() *Pending {
	d := k.decision
	k.decision = nil
	return d
}

// recordWait records how long the open gate waited for d, which closes it.
func (k *Keeper) recordWait(ctx workflow.Context, d *Pending) {
	if g := k.State.Gate; g != nil {
		workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"gate": g.Name, "action": d.Action}).
			Timer(WaitMetric).Record(workflow.Now(ctx).Sub(g.OpenedAt))
	}
}

// Close closes the open gate, if any, without a decision (the workflow
// ends, or rolls back on its own).
func (k *Keeper) Close() {
	k.gate, k.State.Gate = nil, nil
}

// remind says, in the log, status and the UI, that the open gate still waits.
func (k *Keeper) remind(ctx workflow.Context) {
	g, st := k.gate, k.State.Gate
	waited := workflow.Now(ctx).Sub(st.OpenedAt)
	workflow.GetLogger(ctx).Warn("A gate waits for a person", "gate", g.Name, "waited", waited.String())
	st.RemindedAt = workflow.Now(ctx)
	k.SetStep(ctx, g.Phase, fmt.Sprintf("REMINDER: gate %s has waited %s for a person to %s", g.Name, waited.Round(time.Minute), OrList(g.Operations)))
	k.announce(ctx, true)
}

// announce sends the open gate's instructions to the people who act on it.
func (k *Keeper) announce(ctx workflow.Context, reminder bool) {
	notifyGate(ctx, gateAnnouncement{
		workflow:        k.Kind,
		identityStoreID: k.IdentityStoreID,
		gate:            k.gate,
		summary:         k.Summary(),
		reminder:        reminder,
	})
}

// accept validates a decision and, if it is valid, records it and closes the
// gate. Signals and updates both come through here. A signed approve at a
// gate that needs more approvers is recorded and leaves the gate open.
func (k *Keeper) accept(ctx workflow.Context, op string, in workflows.GateDecision) (*Pending, error) {
	signed, err := k.validate(workflow.Now(ctx), op, in)
	if err != nil {
		return nil, err
	}
	d := &Pending{Input: in, Decision: workflows.Decision{
		Gate:     in.Gate,
		Action:   op,
		By:       strings.TrimSpace(in.By),
		Reason:   strings.TrimSpace(in.Reason),
		Override: in.Override,
		At:       workflow.Now(ctx),
	}}
	complete := k.Signing.record(d, signed, k.State.Gate)
	k.State.Decisions = append(k.State.Decisions, d.Decision)
	if !complete {
		d.CarriedOut(nil) // its update answers now, with the gate still open
		g := k.State.Gate
		k.SetStep(ctx, k.gate.Phase, fmt.Sprintf("approve at gate %s by %s recorded (%s); the gate waits for %d more approver(s) to approve",
			in.Gate, d.By, d.Approval, g.ApprovalsNeeded-len(g.Approvals)))
		workflow.GetLogger(ctx).Info("Signed approval recorded", "gate", in.Gate, "by", d.By, "approval", d.Approval)
		return d, nil
	}
	if k.gate == nil { // validate let it through: a decision for no gate
		k.WithoutGate.Take(ctx, d)
		return d, nil
	}
	phase := k.gate.Phase
	k.decision = d
	k.recordWait(ctx, d)
	k.Close()
	k.SetStep(ctx, phase, fmt.Sprintf("%s at gate %s by %s accepted; carrying it out", op, in.Gate, d.By))
	workflow.GetLogger(ctx).Info("Gate decision accepted", "gate", in.Gate, "operation", op, "by", d.By, "override", in.Override)
	return d, nil
}

// validate is the one set of rules for a decision, whether it came as a
// signal or an update (whose validator calls it before the update is
// accepted). It only reads state, and now, the workflow's time (see
// approvals.go for why a validator may read it). Each error says what to
// send instead. A signed decision comes back verified.
func (k *Keeper) validate(now time.Time, op string, in workflows.GateDecision) (*signedDecision, error) {
	if in.RefusedPlaintext != "" {
		return nil, fmt.Errorf("%s refused: %s", op, in.RefusedPlaintext)
	}
	g := k.gate
	switch {
	case g == nil && k.WithoutGate != nil && k.WithoutGate.Allowed(op):
		// Taken while no gate is open; it names no gate.
	case g == nil:
		return nil, fmt.Errorf("%s refused: no gate is open now (%s); wait until status shows an open gate, read what it says, then decide",
			op, k.Step())
	default:
		if err := atOpenGate(g, op, in); err != nil {
			return nil, err
		}
	}

	problems := decisionProblems(op, in)
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s refused: %w", op, errors.Join(problems...))
	}
	signed, err := k.Signing.check(now, op, in, k.State.Gate)
	if err != nil {
		return nil, fmt.Errorf("%s refused: %w", op, err)
	}
	if g != nil && g.Check != nil {
		if err := g.Check(op, in); err != nil {
			return nil, fmt.Errorf("%s refused: %w", op, err)
		}
	}
	return signed, nil
}

// validateDecision is validate for the operations' handlers.
func (k *Keeper) validateDecision(now time.Time, op string, in workflows.GateDecision) error {
	_, err := k.validate(now, op, in)
	return err
}

// atOpenGate refuses a decision that is not for the open gate g or that g
// does not take.
func atOpenGate(g *Gate, op string, in workflows.GateDecision) error {
	switch {
	case in.Gate != g.Name:
		return fmt.Errorf("%s refused: gate %q is not open; the open gate is %q: send \"gate\": %q",
			op, workflows.Clip(in.Gate, 100), g.Name, g.Name)
	case !slices.Contains(g.Operations, op):
		return fmt.Errorf("%s refused: gate %q takes %s", op, g.Name, OrList(g.Operations))
	}
	return nil
}

// decisionProblems are the rules every decision follows, at any gate of
// any workflow: who decides, why, and what the operation may carry.
func decisionProblems(op string, in workflows.GateDecision) []error {
	var problems []error
	by, reason := strings.TrimSpace(in.By), strings.TrimSpace(in.Reason)
	switch {
	case by == "":
		problems = append(problems, errors.New(`"by" is required: name the person deciding`))
	case len(by) > workflows.MaxByLength:
		problems = append(problems, fmt.Errorf(`"by" is longer than %d characters`, workflows.MaxByLength))
	}
	if len(reason) > workflows.MaxReasonLength {
		problems = append(problems, fmt.Errorf(`"reason" is longer than %d characters: link to a ticket instead`, workflows.MaxReasonLength))
	}
	if (op == workflows.OpReject || op == workflows.OpRollback) && reason == "" {
		problems = append(problems, fmt.Errorf(`%s needs a "reason": say why the cutover stops`, op))
	}
	if op == workflows.OpSkip && reason == "" {
		problems = append(problems, errors.New(`skip needs a "reason": say what you did by hand instead`))
	}
	if in.Override && op != workflows.OpApprove {
		problems = append(problems, fmt.Errorf(`"override" applies to approve only, not to %s`, op))
	}
	if in.Override && reason == "" {
		problems = append(problems, errors.New(`"override" needs a "reason": say why going on despite the blockers is safe`))
	}
	if in.SPMetadataXML != "" && op != workflows.OpSubmitSPMetadata {
		problems = append(problems, fmt.Errorf(`"spMetadataXml" belongs to %s, not to %s`, workflows.OpSubmitSPMetadata, op))
	}
	if (in.SCIMEndpoint != "" || in.SCIMToken != nil) && op != workflows.OpSubmitSCIM {
		problems = append(problems, fmt.Errorf(`"scimEndpoint" and "scimToken" belong to %s, not to %s`, workflows.OpSubmitSCIM, op))
	}
	return problems
}

// OrList spells a list of operations as "a, b or c".
func OrList(ops []string) string {
	if len(ops) <= 1 {
		return strings.Join(ops, "")
	}
	return strings.Join(ops[:len(ops)-1], ", ") + " or " + ops[len(ops)-1]
}
