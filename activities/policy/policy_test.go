package policy

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"

	"github.com/platformguide/ssocutover/workflows"
)

func newKey(t *testing.T) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	key, err := ssh.NewPublicKey(pub)
	require.NoError(t, err)
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))
}

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

// A policy names approvers inline and through ssh-keygen's allowed_signers
// file; a key named twice counts once.
func TestLoadReadsApproversFromBothPlaces(t *testing.T) {
	dir := t.TempDir()
	alice, carol := newKey(t), newKey(t)
	write(t, dir, "allowed_signers", "# who signs\ncarol,carol@corp.example namespaces=\"ssocutover\" "+carol+" carol's laptop\n")
	path := write(t, dir, "policy.yaml", `approvers:
  - name: alice
    publicKey: `+alice+`
allowedSigners: allowed_signers
requiredApprovals: {preflight: 2, new-scim-token: 1}
fourEyes: true
signedOperations: [rollback, approve]
`)
	p, err := Load(path)
	require.NoError(t, err)
	require.True(t, p.InForce())
	require.True(t, strings.HasPrefix(p.Digest, "sha256:"), p.Digest)
	var names []string
	for _, a := range p.Approvers {
		names = append(names, a.Name)
	}
	require.Equal(t, []string{"alice", "carol", "carol@corp.example"}, names)
	require.Equal(t, []string{"approve", "rollback"}, p.SignedOperations)
	require.True(t, p.Signs(workflows.OpRollback))

	again, err := Load(path)
	require.NoError(t, err)
	require.Equal(t, p.Digest, again.Digest, "the same policy, the same digest")
	write(t, dir, "allowed_signers", "carol "+newKey(t)+"\n")
	changed, err := Load(path)
	require.NoError(t, err)
	require.NotEqual(t, p.Digest, changed.Digest, "a changed key changes the digest")

	// Through the activity, as the workflows read it.
	read, err := (&Activities{Path: path}).LoadApprovalPolicy(context.Background(), struct{}{})
	require.NoError(t, err)
	require.Equal(t, changed.Digest, read.Digest)
	none, err := (&Activities{}).LoadApprovalPolicy(context.Background(), struct{}{})
	require.NoError(t, err)
	require.False(t, none.InForce())
}

func TestLoadRefusesWhatCannotBeEnforced(t *testing.T) {
	dir := t.TempDir()
	alice := newKey(t)
	for name, tc := range map[string]struct{ body, want string }{
		"one key under two names counts once": {"approvers:\n  - {name: alice, publicKey: " + alice + "}\n  - {name: alice2, publicKey: " + alice + "}\nrequiredApprovals: {preflight: 2}\n",
			"only 1 distinct keys"},
		"not a gate":       {"approvers:\n  - {name: alice, publicKey: " + alice + "}\nrequiredApprovals: {prefligth: 1}\n", `"prefligth" is not a gate`},
		"not an operation": {"approvers:\n  - {name: alice, publicKey: " + alice + "}\nsignedOperations: [submit-scim]\n", `"submit-scim" is not one of`},
		"no approvers":     {"requiredApprovals: {preflight: 1}\n", "names no approvers"},
		"a bad key":        {"approvers:\n  - {name: alice, publicKey: ssh-ed25519 nope}\n", "approvers[0]"},
		"an unknown field": {"approvers:\n  - {name: alice, publicKey: " + alice + "}\nrequiredApprovalls: {preflight: 1}\n", "requiredApprovalls"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Load(write(t, dir, "policy.yaml", tc.body))
			require.ErrorContains(t, err, tc.want)
		})
	}
	_, err := Load(filepath.Join(dir, "missing.yaml"))
	require.ErrorContains(t, err, "missing.yaml")
}
