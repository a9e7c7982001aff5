package cutover

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/model"
	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/workflows"
)

// policyOf is a worker policy with these approvers, two approvals at the
// preflight gate, four eyes and signed rollbacks.
func policyOf(approvers ...person) workflows.ApprovalPolicy {
	p := workflows.ApprovalPolicy{Digest: "sha256:cutover", Source: "/etc/ssocutover/policy.yaml",
		RequiredApprovals: map[string]int{workflows.GatePreflight: 2}, FourEyes: true,
		SignedOperations: []string{workflows.OpApprove, workflows.OpRollback}}
	for _, a := range approvers {
		p.Approvers = append(p.Approvers, a.approver())
	}
	return p
}

// Under the worker's policy a request that names approvers (its own keys)
// is refused before anything runs.
func TestUnderAPolicyARequestNamingApproversIsRefused(t *testing.T) {
	alice, bob, mallory := newPerson(t, "alice"), newPerson(t, "bob"), newPerson(t, "mallory")
	env := newEnvWithPolicy(t, &workerPolicy{policy: policyOf(alice, bob)})
	f := &fakePreflight{summaries: []preflight.Summary{cleanSummary}}
	f.install(env)
	env.ExecuteWorkflow(workflows.CutoverWorkflowName, signedRequest(1, mallory))
	require.ErrorContains(t, env.GetWorkflowError(), "the worker's approval policy (sha256:cutover) names who may approve; a request cannot")
	require.Equal(t, [3]int{0, 0, 0}, f.runs(), "nothing ran")
}

// A request that asks for fewer approvals than the policy gets the
// policy's; status names the policy from the start.
func TestUnderAPolicyARequestCannotLowerTheCount(t *testing.T) {
	alice, bob := newPerson(t, "alice"), newPerson(t, "bob")
	env := newEnvWithPolicy(t, &workerPolicy{policy: policyOf(alice, bob)})
	(&fakePreflight{summaries: []preflight.Summary{cleanSummary}}).install(env)
	req := testRequest()
	req.RequiredApprovals = map[string]int{workflows.GatePreflight: 1}
	var atGate workflows.CutoverStatus
	var unsigned *updateOutcome
	at(env, time.Minute, func() {
		atGate = queryStatus(t, env)
		unsigned = sendUpdate(t, env, workflows.OpApprove, decision("ops", "fine", false))
	})
	at(env, 2*time.Minute, func() {
		sendUpdate(t, env, workflows.OpApprove, alice.sign(t, preflightStatement(t, env)))
		sendUpdate(t, env, workflows.OpApprove, bob.sign(t, preflightStatement(t, env)))
	})
	env.ExecuteWorkflow(workflows.CutoverWorkflowName, req)

	require.Equal(t, "sha256:cutover", atGate.ApprovalPolicy.Digest)
	require.Equal(t, 2, atGate.Gate.ApprovalsNeeded)
	require.ErrorContains(t, unsigned.rejected, "takes only decisions signed by an approver (alice, bob)")
	res := passedPreflight(t, env)
	require.Equal(t, []string{"alice", "bob"}, res.Decisions[len(res.Decisions)-1].ApprovedBy)
}

// Under a policy that signs rollback, a rollback sent while provisioning is
// verified (no gate open) is refused unsigned, as update and as signal, with
// the reason; signed by an approver, it is taken.
func TestUnderAPolicyAnUnsignedRollbackDuringVerificationIsRefused(t *testing.T) {
	bob := newPerson(t, "bob")
	p := policyOf(bob)
	p.RequiredApprovals, p.FourEyes, p.SignedOperations = nil, false, []string{workflows.OpRollback}
	env, f := newCutoverEnvWithPolicy(t, &workerPolicy{policy: p})
	f.jobStatuses = []model.ProvisioningJobStatus{notRunYet}
	var unsigned, signed *updateOutcome
	var afterSignal workflows.CutoverStatus
	at(env, time.Minute, func() { approvePreflight(env) })
	at(env, 2*time.Minute, func() { submitSPMetadata(env, testSPMetadata(t)) })
	at(env, 3*time.Minute, func() { submitSCIM(env) })
	at(env, 6*time.Minute, func() {
		unsigned = sendUpdate(t, env, workflows.OpRollback, workflows.GateDecision{By: "alice", Reason: "wrong tenant"})
		env.SignalWorkflow(workflows.OpRollback, workflows.GateDecision{By: "alice", Reason: "wrong tenant"})
	})
	at(env, 7*time.Minute, func() {
		afterSignal = queryStatus(t, env)
		st := statement{WorkflowID: afterSignal.WorkflowID, RunID: afterSignal.RunID, Decision: workflows.OpRollback, SignedAt: env.Now()}
		d := bob.sign(t, st)
		d.Gate, d.Reason = "", "wrong tenant"
		signed = sendUpdate(t, env, workflows.OpRollback, d)
	})
	at(env, 8*time.Minute, func() { confirmGate(env, workflows.GateDeleteSCIMTokens) })
	at(env, 9*time.Minute, func() { confirmGate(env, workflows.GateRevertIdentitySource) })

	env.ExecuteWorkflow(workflows.CutoverWorkflowName, testRequest())

	require.ErrorContains(t, unsigned.rejected, "the worker's approval policy (sha256:cutover) requires rollback to be signed")
	require.Nil(t, afterSignal.Gate, "no gate was open: verification ran")
	require.Len(t, afterSignal.Refused, 1)
	require.Contains(t, afterSignal.Refused[0].Error, "requires rollback to be signed")
	require.True(t, signed.accepted, "%v", signed.rejected)
	res := result(t, env)
	require.Equal(t, workflows.PhaseRolledBack, res.Outcome)
	require.Equal(t, workflows.TriggerRollback, res.Rollback.Trigger)
}
