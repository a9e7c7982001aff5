package e2e

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"

	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/world"
	"github.com/platformguide/ssocutover/workflows"
)

// An undo that fails for good opens gate compensation-failed; a person
// who cleaned up by hand skips it, and the rest of the rollback runs. The
// history is kept for the replay tests (step failed, then skipped), and
// nothing of the break-glass password shows anywhere on this failed path.
func TestACompensationThatFailsIsSkippedAndTheRestUndone(t *testing.T) {
	// The worker's Entra app may create the app but not delete it.
	e := startEnvWith(t, world.Sample(), sandbox.Options{Graph: sandbox.GraphOptions{
		ForbiddenPaths: []string{"DELETE /applications/*"},
	}})
	id := e.startAndApprove(t, e.request(t))
	e.passSPMetadataGate(t, id)
	e.waitForGate(t, id, workflows.GateSCIMCredentials)
	e.starter(t, "reject", "--workflow-id", id, "--gate", workflows.GateSCIMCredentials, "--by", "e2e-operator", "--reason", "not today")

	st := e.waitForGate(t, id, workflows.GateCompensationFailed)
	require.Contains(t, st.Gate.Instructions, "Authorization_RequestDenied")
	e.starter(t, "skip", "--workflow-id", id, "--gate", workflows.GateCompensationFailed, "--by", "e2e-operator",
		"--reason", "deleted the app by hand in the Entra admin center")
	e.revertIdentitySource(t, id)

	st = e.waitForEnd(t, id)
	require.Equal(t, workflows.PhaseRolledBack, st.Phase)
	var skipped []string
	for _, s := range st.Rollback.Steps {
		if strings.Contains(strings.ToLower(s.Outcome), "skip") {
			skipped = append(skipped, s.Undoes)
		}
	}
	require.Len(t, skipped, 1, "%+v", st.Rollback.Steps)
	require.Contains(t, skipped[0], "enterprise app")
	e.recordHistory(t, id, "cutover-compensation-skipped.json")
	e.requireNoLeak(t, id, st)
}

// approverKey writes an ed25519 private key in OpenSSH's format, as
// ssh-keygen makes one, and returns its file and the authorized_keys line.
func approverKey(t *testing.T, dir, name string) (file, publicKey string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	block, err := ssh.MarshalPrivateKey(priv, name)
	require.NoError(t, err)
	file = filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(file, pem.EncodeToMemory(block), 0o600))
	sshPub, err := ssh.NewPublicKey(pub)
	require.NoError(t, err)
	return file, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub)))
}

// Under the worker's approval policy (two approvals at the preflight gate,
// signed rollbacks), a request cannot lower the count, an unsigned
// approval and an unsigned rollback are refused, and two approvers sign
// with starter --key. The history is kept for the replay tests.
func TestSignedApprovalsUnderTheWorkersPolicy(t *testing.T) {
	dir := t.TempDir()
	samKey, samPub := approverKey(t, dir, "sam")
	anaKey, anaPub := approverKey(t, dir, "ana")
	policyFile := filepath.Join(dir, "policy.yaml")
	require.NoError(t, os.WriteFile(policyFile, []byte(`approvers:
  - {name: sam.lee, publicKey: "`+samPub+`"}
  - {name: ana.ruiz, publicKey: "`+anaPub+`"}
requiredApprovals: {preflight: 2}
fourEyes: true
signedOperations: [approve, rollback]
`), 0o600))
	e := startEnv(t, world.Sample(), sandbox.Faults{}, "SSOCUTOVER_APPROVAL_POLICY="+policyFile)
	id := workflows.CutoverWorkflowID(e.world.AWS.IdentityStoreID)

	e.starter(t, "start", "-f", e.requestWith(t, "verifyInterval: 2s\nverifyDeadline: 2m\nrequiredApprovals: {preflight: 1}\n"))
	st := e.waitForGate(t, id, workflows.GatePreflight)
	require.Equal(t, 2, st.Gate.ApprovalsNeeded, "the request cannot lower the policy's count")
	require.True(t, strings.HasPrefix(st.ApprovalPolicy.Digest, "sha256:"))
	require.Regexp(t, `Approvals\s+the worker's policy `+st.ApprovalPolicy.Digest, e.starter(t, "status", "--workflow-id", id))

	refused := e.run(t, false, filepath.Join(binDir, "starter"), "approve", "--workflow-id", id, "--gate", workflows.GatePreflight,
		"--by", "e2e-approver", "--override", "--reason", "unsigned")
	require.Contains(t, refused, "takes only decisions signed by an approver")
	for _, key := range []string{samKey, anaKey} {
		e.starter(t, "approve", "--workflow-id", id, "--gate", workflows.GatePreflight, "--by", "whoever", "--override",
			"--reason", "blockers accepted by CHG-1", "--key", key)
	}
	st = e.waitForGate(t, id, workflows.GateAWSSPMetadata)
	approved := st.Decisions[len(st.Decisions)-1]
	require.Equal(t, []string{"sam.lee", "ana.ruiz"}, approved.ApprovedBy)

	// A rollback, even at a gate that takes unsigned decisions, must be
	// signed: the policy says so.
	refused = e.run(t, false, filepath.Join(binDir, "starter"), "rollback", "--workflow-id", id, "--gate", workflows.GateAWSSPMetadata,
		"--by", "e2e-operator", "--reason", "unsigned")
	require.Contains(t, refused, "requires rollback to be signed")
	e.starter(t, "reject", "--workflow-id", id, "--gate", workflows.GateAWSSPMetadata, "--by", "e2e-operator", "--reason", "test over")
	st = e.waitForEnd(t, id)
	require.Equal(t, workflows.PhaseRolledBack, st.Phase)
	e.recordHistory(t, id, "cutover-signed-approvals.json")
}
