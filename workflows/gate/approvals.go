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

// Signing is how a workflow checks signed decisions: the approvers (the
// worker's policy's when one is in force, else the request's), how many
// each gate needs, who requested the workflow, and the signatures used so
// far.
type Signing struct {
	workflowID, runID string
	request           workflows.CutoverRequest
	// policy is the worker's approval policy (zero: none in force).
	policy    workflows.ApprovalPolicy
	approvers []approval.Approver
	// used are the approval.UseIDs of the signed decisions accepted so
	// far: a signature counts once.
	used map[string]bool
}

// NewSigning is the signing of the cutover req, run as workflowID/runID,
// under the worker's policy (the zero policy: none). With a policy in
// force its approvers are the only ones, and the request can only ask for
// more approvals (checkRequest refuses a request that names approvers).
func NewSigning(workflowID, runID string, req workflows.CutoverRequest, policy workflows.ApprovalPolicy) *Signing {
	s := &Signing{workflowID: workflowID, runID: runID, request: req, used: map[string]bool{}}
	s.setPolicy(policy)
	return s
}

// NewRotationSigning is the signing of a rotation: the worker's policy
// alone, nil (every signature refused) when it has none.
func NewRotationSigning(workflowID, runID string, policy workflows.ApprovalPolicy) *Signing {
	if !policy.InForce() {
		return nil
	}
	return NewSigning(workflowID, runID, workflows.CutoverRequest{}, policy)
}

func (s *Signing) setPolicy(p workflows.ApprovalPolicy) {
	s.policy = p
	if p.InForce() {
		s.approvers = policyApprovers(p)
		return
	}
	s.approvers, _ = s.request.ParseApprovers() // checkRequest refuses a request whose approvers do not parse
}

// policyApprovers parses a policy's approvers (the worker checked them
// when it read the policy).
func policyApprovers(p workflows.ApprovalPolicy) []approval.Approver {
	var out []approval.Approver
	for _, a := range p.Approvers {
		if parsed, err := approval.ParseApprover(a.Name, a.PublicKey); err == nil {
			out = append(out, parsed)
		}
	}
	return out
}

// Policy is the policy in force (the zero policy: none).
func (s *Signing) Policy() workflows.ApprovalPolicy {
	if s == nil {
		return workflows.ApprovalPolicy{}
	}
	return s.policy
}

// UsePolicy applies a policy read again at a gate when it is at least as
// strict as the one in force (Stricter), and says what happened.
func (s *Signing) UsePolicy(p workflows.ApprovalPolicy) (applied bool) {
	if p.Digest == s.policy.Digest || !Stricter(s.policy, p) {
		return false
	}
	s.setPolicy(p)
	return true
}

// Stricter says whether next asks at least as much as cur: a policy where
// there was none; every gate's count at least cur's; four eyes kept;
// every signed operation still signed; no approver added (removing one,
// a revocation, is stricter).
func Stricter(cur, next workflows.ApprovalPolicy) bool {
	if !next.InForce() {
		return false
	}
	if !cur.InForce() {
		return true
	}
	for gate, n := range cur.RequiredApprovals {
		if next.RequiredApprovals[gate] < n {
			return false
		}
	}
	if cur.FourEyes && !next.FourEyes {
		return false
	}
	for _, op := range cur.SignedOperations {
		if !next.Signs(op) {
			return false
		}
	}
	old := map[string]bool{}
	for _, a := range policyApprovers(cur) {
		old[a.Fingerprint] = true
	}
	for _, a := range policyApprovers(next) {
		if !old[a.Fingerprint] {
			return false
		}
	}
	return true
}

// ApprovalsNeeded is how many distinct approvers must approve at gate (0:
// it takes unsigned decisions): the policy's, or the request's when it
// asks for more.
func (s *Signing) ApprovalsNeeded(gate string) int {
	if s == nil {
		return 0
	}
	return max(s.request.RequiredApprovals[gate], s.policy.RequiredApprovals[gate])
}

// fourEyes says whether the requester may not approve.
func (s *Signing) fourEyes() bool { return s.request.SeparateRequester || s.policy.FourEyes }

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
		switch {
		case needed > 0 && op == workflows.OpApprove:
			return nil, fmt.Errorf("gate %s takes only decisions signed by an approver (%s): sign with `starter %s --key FILE`, "+
				"or sign the statement with ssh-keygen (README, Signed approvals)", in.Gate, s.approverNames(), op)
		case s.policy.Signs(op):
			return nil, fmt.Errorf("the worker's approval policy (%s) requires %s to be signed by an approver (%s), gate open or not: "+
				"sign with `starter %s --key FILE` (README, Signed approvals)", s.policy.Digest, op, s.approverNames(), op)
		case needed > 0 && !s.policy.InForce():
			return nil, fmt.Errorf("gate %s takes only decisions signed by an approver (%s): sign with `starter %s --key FILE`, "+
				"or sign the statement with ssh-keygen (README, Signed approvals)", in.Gate, s.approverNames(), op)
		}
		return nil, nil
	}
	if in.Signature == "" || in.SignedAt == "" {
		return nil, errors.New(`send "signature" and "signedAt" together: signedAt is the time the signed statement names`)
	}
	if len(s.approvers) == 0 {
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
		if s.fourEyes() && req.IsRequester(who) {
			return nil, fmt.Errorf("%s requested this cutover, and four eyes are required (separateRequester or the worker's policy): another approver must approve gate %s", who.Name, in.Gate)
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

// approverNames lists the approvers for an error message.
func (s *Signing) approverNames() string {
	names := make([]string, 0, len(s.approvers))
	for _, a := range s.approvers {
		names = append(names, a.Name)
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
