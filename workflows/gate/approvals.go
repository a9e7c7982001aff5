package gate

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/platformguide/ssocutover/internal/approval"
	"github.com/platformguide/ssocutover/workflows"
)

// Signed decisions (README, Signed approvals). A request that names
// approvers and the gates that need them turns those gates into ones that
// take only decisions signed by an approver, over a statement naming this
// workflow, this run, the gate, the operation and when it was signed.
//
// Which clock says "too old": the workflow's. accept reads workflow.Now,
// and so does the update validator: reading the time is not a command, the
// SDK allows it while a validator runs (read-only), and validators never run
// on replay (history already says the update was accepted), so nothing can
// replay differently. Validator and handler of one update run in the same
// workflow task and so see the same time. A signature must also be younger
// than the gate's opening, so one made at an earlier opening of the same
// gate (before a recheck, say) is refused whatever its age.
const (
	// signatureClockSkew is how far the signer's clock may be ahead of the
	// workflow's.
	signatureClockSkew = 2 * time.Minute
)

// Signing is how a workflow checks signed decisions: the approvers its
// request names, who requested it, and the signatures used so far.
type Signing struct {
	workflowID, runID string
	request           workflows.CutoverRequest
	approvers         []approval.Approver
	// used are the approval.UseIDs of the signed decisions accepted so
	// far: a signature counts once.
	used map[string]bool
}

// NewSigning is the signing of the cutover req, run as workflowID/runID.
func NewSigning(workflowID, runID string, req workflows.CutoverRequest) *Signing {
	approvers, _ := req.ParseApprovers() // checkRequest refuses a request whose approvers do not parse
	return &Signing{workflowID: workflowID, runID: runID, request: req, approvers: approvers, used: map[string]bool{}}
}

// ApprovalsNeeded is how many distinct approvers must approve at gate (0:
// it takes unsigned decisions).
func (s *Signing) ApprovalsNeeded(gate string) int {
	if s == nil {
		return 0
	}
	return s.request.RequiredApprovals[gate]
}

// signedDecision is a decision whose signature the workflow verified.
type signedDecision struct {
	signer workflows.Signer
	// useID marks the signature as used once the decision is accepted.
	useID string
}

// check verifies the signature of a decision at the open gate g (nil: no
// gate is open), if the gate needs one or one was sent (a signature is
// never ignored). It returns nil for an unsigned decision where that is
// allowed. It only reads state. Without signing (the SCIM token
// rotation), every signature is refused.
func (s *Signing) check(now time.Time, op string, in workflows.GateDecision, g *workflows.GateStatus) (*signedDecision, error) {
	if s == nil {
		if in.Signature != "" || in.SignedAt != "" {
			return nil, errors.New("the SCIM token rotation takes no signed decisions: send it without signature and signedAt")
		}
		return nil, nil
	}
	req := s.request
	needed := 0
	if g != nil {
		needed = g.ApprovalsNeeded
	}
	if in.Signature == "" && in.SignedAt == "" {
		if needed > 0 {
			return nil, fmt.Errorf("gate %s takes only decisions signed by an approver (%s): sign with `starter %s --key FILE`, "+
				"or sign the statement with ssh-keygen (README, Signed approvals)", in.Gate, approverNames(req), op)
		}
		return nil, nil
	}
	if in.Signature == "" || in.SignedAt == "" {
		return nil, errors.New(`send "signature" and "signedAt" together: signedAt is the time the signed statement names`)
	}
	if len(req.Approvers) == 0 {
		return nil, errors.New(`this cutover's request names no approvers, so no signature can be checked: send the decision without "signature" and "signedAt"`)
	}
	signedAt, err := approval.ParseSignedAt(in.SignedAt)
	if err != nil {
		return nil, err
	}
	statement, err := approval.Statement{
		WorkflowID: s.workflowID, RunID: s.runID,
		Gate: in.Gate, Decision: op, Override: in.Override, SignedAt: signedAt,
	}.Text()
	if err != nil {
		return nil, fmt.Errorf("no statement can be made of this decision: %w", err)
	}
	who, err := approval.Verify(in.Signature, statement, s.approvers)
	if errors.Is(err, approval.ErrMismatch) {
		return nil, fmt.Errorf("%w: sign exactly this statement (a signature for another workflow, run, gate, decision or time does not count here):\n%s", err, statement)
	}
	if err != nil {
		return nil, err
	}
	if err := checkFreshness(now, signedAt, g); err != nil {
		return nil, err
	}
	useID := approval.UseID(statement, who)
	if s.used[useID] {
		return nil, fmt.Errorf("%s's signature of this statement was already used: a signature counts once; sign a new statement (with a new signedAt)", who.Name)
	}
	if op == workflows.OpApprove && needed > 0 {
		if req.SeparateRequester && req.IsRequester(who) {
			return nil, fmt.Errorf("%s requested this cutover and the request says separateRequester: another approver must approve gate %s", who.Name, in.Gate)
		}
		if slices.ContainsFunc(g.Approvals, func(s workflows.Signer) bool { return s.Fingerprint == who.Fingerprint }) {
			return nil, fmt.Errorf("%s already approved gate %s (%d of %d approvals): another approver must approve",
				who.Name, in.Gate, len(g.Approvals), needed)
		}
	}
	return &signedDecision{
		signer: workflows.Signer{Name: who.Name, Fingerprint: who.Fingerprint, SignedAt: signedAt},
		useID:  useID,
	}, nil
}

// checkFreshness refuses a signature made before the open gate g opened,
// too long ago, or in the future by the workflow's clock.
func checkFreshness(now, signedAt time.Time, g *workflows.GateStatus) error {
	at := approval.FormatSignedAt(signedAt)
	if g != nil && signedAt.Before(g.OpenedAt.Add(-signatureClockSkew)) {
		return fmt.Errorf("signed at %s, before gate %s opened (%s): a signature is for one opening of a gate; sign a new statement now",
			at, g.Name, approval.FormatSignedAt(g.OpenedAt))
	}
	if now.Sub(signedAt) > workflows.MaxSignatureAge {
		return fmt.Errorf("signed at %s, more than %s before the workflow took it (%s): sign a new statement and send it at once",
			at, workflows.MaxSignatureAge, approval.FormatSignedAt(now))
	}
	if signedAt.After(now.Add(signatureClockSkew)) {
		return fmt.Errorf("signed at %s, later than the workflow's time (%s): check the clock of the machine that signed (date -u)",
			at, approval.FormatSignedAt(now))
	}
	return nil
}

// approverNames lists the request's approvers for an error message.
func approverNames(req workflows.CutoverRequest) string {
	names := make([]string, 0, len(req.Approvers))
	for _, a := range req.Approvers {
		names = append(names, strings.TrimSpace(a.Name))
	}
	return strings.Join(names, ", ")
}

// record marks d's signature used and names its signer in d. An approve at
// the open gate g that needs several approvals is counted there; it
// reports whether the gate has all it needs (always true for other
// decisions, and for unsigned ones).
func (s *Signing) record(d *Pending, signed *signedDecision, g *workflows.GateStatus) (complete bool) {
	if signed == nil {
		return true
	}
	s.used[signed.useID] = true
	d.By = signed.signer.Name
	d.Signer = &signed.signer
	if d.Action != workflows.OpApprove || g == nil || g.ApprovalsNeeded == 0 {
		return true
	}
	g.Approvals = append(g.Approvals, signed.signer)
	if g.ApprovalsNeeded > 1 {
		d.Approval = fmt.Sprintf("%d of %d", len(g.Approvals), g.ApprovalsNeeded)
	}
	if len(g.Approvals) < g.ApprovalsNeeded {
		return false
	}
	for _, s := range g.Approvals {
		d.ApprovedBy = append(d.ApprovedBy, s.Name)
	}
	return true
}
