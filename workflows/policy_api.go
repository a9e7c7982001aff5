package workflows

import "slices"

// ApprovalPolicy is the approval policy the worker owns (README, Signed
// approvals): who may sign decisions, how many distinct approvers each
// gate needs, four eyes, and which operations must be signed. A workflow
// reads it when it starts (its digest is then in history) and again at
// each gate, where a changed policy is applied only if it is stricter. A
// request may ask for more approvals, never fewer, and names no keys.
type ApprovalPolicy struct {
	// Digest is "sha256:..." of the policy as resolved (approvers, keys and
	// rules); empty when the worker has none.
	Digest string `json:"digest,omitempty"`
	// Source is where the worker read it.
	Source            string         `json:"source,omitempty"`
	Approvers         []Approver     `json:"approvers,omitempty"`
	RequiredApprovals map[string]int `json:"requiredApprovals,omitempty"`
	// FourEyes: the person who requested the cutover cannot approve at the
	// gates of RequiredApprovals.
	FourEyes bool `json:"fourEyes,omitempty"`
	// SignedOperations must be signed by an approver wherever they are
	// sent, with a gate open or not, as signal or update.
	SignedOperations []string `json:"signedOperations,omitempty"`
}

// InForce holds when the worker has a policy.
func (p ApprovalPolicy) InForce() bool { return p.Digest != "" }

// Signs says whether op must be signed.
func (p ApprovalPolicy) Signs(op string) bool { return slices.Contains(p.SignedOperations, op) }

// SignableOperations are the operations a policy may require signed.
var SignableOperations = []string{OpApprove, OpReject, OpRollback, OpRetry, OpSkip}

// PolicyGates are the gates a policy may name: the cutover's and the
// rotation's.
func PolicyGates() []string {
	return slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(allGates), GateNewSCIMToken, GateDeleteOldToken))))
}
