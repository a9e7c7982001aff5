package cli

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"

	"github.com/platformguide/ssocutover/internal/approval"
	"github.com/platformguide/ssocutover/workflows"
)

var testStatement = approval.Statement{
	WorkflowID: "cutover-d-1234567890", RunID: "run-1", Gate: workflows.GatePreflight,
	Decision: workflows.OpApprove, SignedAt: time.Date(2026, 5, 1, 9, 30, 0, 0, time.UTC),
}

func TestSignDecisionSignsTheStatementOfTheDecision(t *testing.T) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	signer, err := ssh.NewSignerFromKey(key)
	require.NoError(t, err)
	alice, err := approval.ParseApprover("alice", string(ssh.MarshalAuthorizedKey(signer.PublicKey())))
	require.NoError(t, err)

	input, err := signDecision(workflows.GateDecision{Gate: workflows.GatePreflight, By: "alice"}, testStatement, signer)
	require.NoError(t, err)
	require.Equal(t, "2026-05-01T09:30:00Z", input.SignedAt)
	text, err := testStatement.Text()
	require.NoError(t, err)
	who, err := approval.Verify(input.Signature, text, []approval.Approver{alice})
	require.NoError(t, err)
	require.Equal(t, "alice", who.Name)
}

func TestPrintStatementWritesTheStatementAndHowToSignIt(t *testing.T) {
	var stdout, stderr bytes.Buffer
	c := &cli{stdout: &stdout, stderr: &stderr}
	d := decision{gate: workflows.GatePreflight, by: "alice", reason: "CHG-42"}
	require.NoError(t, c.printStatement("cutover-d-1234567890", workflows.OpApprove, d, testStatement))

	text, err := testStatement.Text()
	require.NoError(t, err)
	require.Equal(t, string(text), stdout.String(), "stdout is the statement alone, ready for ssh-keygen")
	require.Contains(t, stderr.String(), "ssh-keygen -Y sign -f ~/.ssh/id_ed25519 -n ssocutover statement.txt")
	require.Contains(t, stderr.String(), "temporal workflow update execute --workflow-id cutover-d-1234567890 --name approve")
	require.Contains(t, stderr.String(), `{gate: "preflight", by: "alice", signedAt: "2026-05-01T09:30:00Z", signature: $sig, reason: "CHG-42"}`)
}
