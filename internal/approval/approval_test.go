package approval

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hiddeco/sshsig"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
)

// vectorStatement is the statement testdata/statement.txt holds.
var vectorStatement = Statement{
	WorkflowID: "cutover-d-1234567890",
	RunID:      "0f6e2a4c-9b1d-4c3e-8a57-2d9f1b6c7e80",
	Gate:       "preflight",
	Decision:   "approve",
	SignedAt:   time.Date(2026, 5, 1, 9, 30, 0, 0, time.UTC),
}

func readTestdata(t testing.TB, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return string(data)
}

// testdataApprovers are the approvers whose keys signed the vectors.
func testdataApprovers(t testing.TB) []Approver {
	t.Helper()
	var approvers []Approver
	for _, name := range []string{"ed25519", "ecdsa", "rsa"} {
		a, err := ParseApprover(name, readTestdata(t, name+"-key.pub"))
		require.NoError(t, err)
		approvers = append(approvers, a)
	}
	return approvers
}

func TestStatementTextIsTheOneInTestdata(t *testing.T) {
	text, err := vectorStatement.Text()
	require.NoError(t, err)
	require.Equal(t, readTestdata(t, "statement.txt"), string(text))
}

func TestStatementRefusesControlCharacters(t *testing.T) {
	forged := vectorStatement
	forged.Gate = "preflight\ndecision: approve"
	_, err := forged.Text()
	require.ErrorContains(t, err, "control character")

	empty := vectorStatement
	empty.RunID = ""
	_, err = empty.Text()
	require.ErrorContains(t, err, "run ID")
}

func TestSignedAtHasOneSpelling(t *testing.T) {
	at, err := ParseSignedAt("2026-05-01T09:30:00Z")
	require.NoError(t, err)
	require.Equal(t, vectorStatement.SignedAt, at)
	for _, other := range []string{"2026-05-01T10:30:00+01:00", "2026-05-01T09:30:00.5Z", "2026-05-01 09:30:00Z", "yesterday", ""} {
		_, err := ParseSignedAt(other)
		require.ErrorContains(t, err, "want UTC to the second", other)
	}
	require.Equal(t, "2026-05-01T09:30:00Z", FormatSignedAt(time.Date(2026, 5, 1, 11, 30, 0, 999, time.FixedZone("CEST", 2*3600))))
}

// Signatures made by ssh-keygen -Y sign verify, and name the approver
// whose key made them.
func TestVerifyAcceptsSshKeygenSignatures(t *testing.T) {
	approvers := testdataApprovers(t)
	statement := []byte(readTestdata(t, "statement.txt"))
	for _, name := range []string{"ed25519", "ecdsa", "rsa"} {
		t.Run(name, func(t *testing.T) {
			a, err := Verify(readTestdata(t, "statement-"+name+".txt.sig"), statement, approvers)
			require.NoError(t, err)
			require.Equal(t, name, a.Name)
			require.True(t, strings.HasPrefix(a.Fingerprint, "SHA256:"))
		})
	}
}

func TestVerifyRefuses(t *testing.T) {
	approvers := testdataApprovers(t)
	statement := []byte(readTestdata(t, "statement.txt"))
	sig := readTestdata(t, "statement-ed25519.txt.sig")

	otherRun := vectorStatement
	otherRun.RunID = "another-run"
	otherRunText, err := otherRun.Text()
	require.NoError(t, err)

	cases := map[string]struct {
		sig       string
		statement []byte
		approvers []Approver
		want      error
	}{
		"another statement":  {sig, otherRunText, approvers, ErrMismatch},
		"a key of nobody":    {sig, statement, approvers[1:], ErrUnknownKey},
		"another namespace":  {readTestdata(t, "statement-ed25519-namespace-git.txt.sig"), statement, approvers, ErrNamespace},
		"no signature":       {"", statement, approvers, ErrNotASignature},
		"not armored":        {"U1NIU0lHAAAAAQ", statement, approvers, ErrNotASignature},
		"text after it":      {sig + "and more", statement, approvers, ErrNotASignature},
		"two signatures":     {sig + sig, statement, approvers, ErrNotASignature},
		"too long":           {sig + strings.Repeat(" ", MaxSignatureLength), statement, approvers, ErrNotASignature},
		"another PEM block":  {strings.ReplaceAll(sig, "SSH SIGNATURE", "PGP SIGNATURE"), statement, approvers, ErrNotASignature},
		"a damaged body":     {strings.Replace(sig, "U1NIU0lH", "U1NIU0lI", 1), statement, approvers, ErrNotASignature},
		"approvers are none": {sig, statement, nil, ErrUnknownKey},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Verify(tc.sig, tc.statement, tc.approvers)
			require.ErrorIs(t, err, tc.want)
		})
	}
}

// ed25519 signatures are deterministic, so Sign must make the very
// signature ssh-keygen made of the same statement with the same key.
func TestSignMakesWhatSshKeygenMakes(t *testing.T) {
	signer, err := LoadSigner(filepath.Join("testdata", "ed25519-key"))
	require.NoError(t, err)
	armored, err := Sign([]byte(readTestdata(t, "statement.txt")), signer)
	require.NoError(t, err)

	ours, err := sshsig.Unarmor([]byte(armored))
	require.NoError(t, err)
	theirs, err := sshsig.Unarmor([]byte(readTestdata(t, "statement-ed25519.txt.sig")))
	require.NoError(t, err)
	require.Equal(t, theirs.Marshal(), ours.Marshal())
}

func TestSignedByAGeneratedKeyVerifies(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	signer, err := ssh.NewSignerFromKey(priv)
	require.NoError(t, err)
	alice, err := ParseApprover("alice", string(ssh.MarshalAuthorizedKey(signer.PublicKey())))
	require.NoError(t, err)

	text, err := vectorStatement.Text()
	require.NoError(t, err)
	sig, err := Sign(text, signer)
	require.NoError(t, err)
	a, err := Verify(sig, text, []Approver{alice})
	require.NoError(t, err)
	require.Equal(t, "alice", a.Name)

	// The use ID is the same for every signature of one statement by one
	// key, and differs for another statement.
	again, err := Sign(text, signer)
	require.NoError(t, err)
	require.Equal(t, sig, again, "ed25519 signs deterministically")
	other := vectorStatement
	other.Decision = "reject"
	otherText, err := other.Text()
	require.NoError(t, err)
	require.NotEqual(t, UseID(text, alice), UseID(otherText, alice))
}

func TestParseApprover(t *testing.T) {
	ed := readTestdata(t, "ed25519-key.pub")
	a, err := ParseApprover("  alice ", `no-pty,command="true" `+ed)
	require.NoError(t, err, "options before the key are allowed")
	require.Equal(t, "alice", a.Name)

	_, err = ParseApprover("", ed)
	require.ErrorContains(t, err, "needs a name")
	_, err = ParseApprover("bob", "ssh-ed25519 not-base64")
	require.ErrorContains(t, err, "not an authorized_keys line")
	_, err = ParseApprover("bob", ed+"\n"+readTestdata(t, "rsa-key.pub"))
	require.ErrorContains(t, err, "more than one key")

	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	smallPub, err := ssh.NewPublicKey(&small.PublicKey)
	require.NoError(t, err)
	_, err = ParseApprover("carol", string(ssh.MarshalAuthorizedKey(smallPub)))
	require.ErrorContains(t, err, "shorter than 2048 bits")
}

func TestLoadSignerSaysWhatToDoWithAPassphrase(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	block, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte("secret"))
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "id_ed25519")
	require.NoError(t, os.WriteFile(path, pemEncode(block), 0o600))

	_, err = LoadSigner(path)
	require.ErrorContains(t, err, "protected by a passphrase")
	require.ErrorContains(t, err, "ssh-keygen -Y sign -f "+path+" -n ssocutover")

	_, err = LoadSigner(filepath.Join("testdata", "ed25519-key.pub"))
	require.ErrorContains(t, err, "not an SSH private key")
	_, err = LoadSigner(filepath.Join(t.TempDir(), "missing"))
	require.True(t, errors.Is(err, os.ErrNotExist))
}
