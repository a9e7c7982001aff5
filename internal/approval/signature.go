package approval

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"
)

// MaxSignatureLength bounds an armored signature, so a decision cannot grow
// history: a 16384-bit RSA key and its signature armor to about 6 KiB.
const MaxSignatureLength = 16 << 10

// Why Verify refused a signature; its error wraps one of these.
var (
	// ErrNotASignature: not one armored SSH signature.
	ErrNotASignature = errors.New("not an armored SSH signature")
	// ErrNamespace: signed for another program (ssh-keygen -n).
	ErrNamespace = errors.New("signed for another namespace")
	// ErrUnknownKey: signed by a key no approver has.
	ErrUnknownKey = errors.New("signed by a key of no approver")
	// ErrMismatch: by an approver's key, but not over this statement.
	ErrMismatch = errors.New("the signature is not over this statement")
)

// Sign signs statement with signer as `ssh-keygen -Y sign -n ssocutover`
// does (SHA-512) and returns the armored signature.
func Sign(statement []byte, signer ssh.Signer) (string, error) {
	sig, err := sshsig.Sign(bytes.NewReader(statement), signer, sshsig.HashSHA512, Namespace)
	if err != nil {
		return "", fmt.Errorf("sign the statement: %w", err)
	}
	return string(sshsig.Armor(sig)), nil
}

// Verify checks that armored is a signature over statement by one of
// approvers, and returns that approver. It reads no clock: the same input
// gives the same answer, which a workflow needs.
func Verify(armored string, statement []byte, approvers []Approver) (Approver, error) {
	sig, err := parseArmored(armored)
	if err != nil {
		return Approver{}, err
	}
	if sig.Namespace != Namespace {
		return Approver{}, fmt.Errorf("%w %q, not %q: sign with ssh-keygen -Y sign -n %s", ErrNamespace, clip(sig.Namespace), Namespace, Namespace)
	}
	fingerprint := ssh.FingerprintSHA256(sig.PublicKey)
	for _, a := range approvers {
		if a.Fingerprint != fingerprint {
			continue
		}
		if err := sshsig.Verify(bytes.NewReader(statement), sig, a.Key, sig.HashAlgorithm, Namespace); err != nil {
			return Approver{}, fmt.Errorf("%w (signed by %s's key %s)", ErrMismatch, a.Name, fingerprint)
		}
		return a, nil
	}
	return Approver{}, fmt.Errorf("%w: key %s is not the key of an approver the cutover request names", ErrUnknownKey, fingerprint)
}

// parseArmored reads exactly one armored SSH signature, and nothing around it.
func parseArmored(armored string) (*sshsig.Signature, error) {
	if len(armored) > MaxSignatureLength {
		return nil, fmt.Errorf("%w: it is longer than %d bytes", ErrNotASignature, MaxSignatureLength)
	}
	block, rest := pem.Decode([]byte(armored))
	if block == nil || block.Type != sshsig.PEMType || len(bytes.TrimSpace(rest)) > 0 {
		return nil, fmt.Errorf("%w: send the whole file ssh-keygen wrote, from -----BEGIN SSH SIGNATURE----- to -----END SSH SIGNATURE-----", ErrNotASignature)
	}
	sig, err := sshsig.ParseSignature(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrNotASignature, err)
	}
	if err := sig.HashAlgorithm.Supported(); err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrNotASignature, err)
	}
	return sig, nil
}

// UseID names one approver's signature of one statement. A cutover keeps
// the IDs it accepted and refuses them the second time: the same signature
// sent again, or another signature of the same statement by the same key
// (an ECDSA signature can be re-encoded into different bytes).
func UseID(statement []byte, a Approver) string {
	sum := sha256.Sum256(append([]byte(a.Fingerprint+"\n"), statement...))
	return hex.EncodeToString(sum[:])
}

// LoadSigner reads an OpenSSH private key file without a passphrase.
func LoadSigner(path string) (ssh.Signer, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the private key: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(pem)
	var protected *ssh.PassphraseMissingError
	if errors.As(err, &protected) {
		return nil, fmt.Errorf("the key %s is protected by a passphrase, which starter does not ask for: "+
			"print the statement with --print-statement and sign it with ssh-keygen -Y sign -f %s -n %s (README, Signed approvals)",
			path, path, Namespace)
	}
	if err != nil {
		return nil, fmt.Errorf("the file %s is not an SSH private key (%v): give the private key, such as ~/.ssh/id_ed25519", path, err)
	}
	return signer, nil
}
