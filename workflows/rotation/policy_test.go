package rotation

import (
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"

	"github.com/platformguide/ssocutover/internal/approval"
	"github.com/platformguide/ssocutover/workflows"
)

// Under the worker's policy the rotation takes signed decisions: an
// unsigned reject that the policy requires signed is refused as update and
// as signal; one signed by an approver is taken, and names its signer.
func TestUnderAPolicyTheRotationTakesOnlySignedDecisions(t *testing.T) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	bob, err := ssh.NewSignerFromKey(key)
	require.NoError(t, err)

	w := newFakeTokenWorld(cutoverDay)
	w.policy = workflows.ApprovalPolicy{Digest: "sha256:rotation", Source: "policy.yaml",
		Approvers:        []workflows.Approver{{Name: "bob", PublicKey: string(ssh.MarshalAuthorizedKey(bob.PublicKey()))}},
		SignedOperations: []string{workflows.OpReject}}
	env := newRotationEnv(w, cutoverDay.Add(340*24*time.Hour))
	var unsigned error
	var atGate workflows.ScimTokenRotationStatus
	env.RegisterDelayedCallback(func() {
		unsignedReject := workflows.GateDecision{Gate: workflows.GateNewSCIMToken, By: "sre", Reason: "not now"}
		env.UpdateWorkflow(workflows.OpReject, "", updateCallback(func(err error) { unsigned = err }), unsignedReject)
		env.SignalWorkflow(workflows.OpReject, unsignedReject)
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		atGate = rotationStatus(t, env)
		text, err := approval.Statement{WorkflowID: atGate.WorkflowID, RunID: "default-test-run-id",
			Gate: workflows.GateNewSCIMToken, Decision: workflows.OpReject, SignedAt: env.Now()}.Text()
		require.NoError(t, err)
		sig, err := approval.Sign(text, bob)
		require.NoError(t, err)
		env.UpdateWorkflow(workflows.OpReject, "", updateCallback(nil), workflows.GateDecision{Gate: workflows.GateNewSCIMToken, By: "sre",
			Reason: "change freeze", Signature: sig, SignedAt: approval.FormatSignedAt(env.Now())})
	}, 2*time.Minute)
	env.ExecuteWorkflow(workflows.RotationWorkflowName, testRotationRequest())

	require.ErrorContains(t, unsigned, "the worker's approval policy (sha256:rotation) requires reject to be signed")
	require.Len(t, atGate.Refused, 1, "the unsigned signal is listed as refused")
	require.Equal(t, "sha256:rotation", atGate.ApprovalPolicy.Digest)
	res := rotationResult(t, env)
	require.Equal(t, workflows.RotationPhasePostponed, res.Outcome)
	last := res.Decisions[len(res.Decisions)-1]
	require.Equal(t, "bob", last.By)
	require.NotNil(t, last.Signer)
}
