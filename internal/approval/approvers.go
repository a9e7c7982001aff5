package approval

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"
)

// Approver is a person who may sign gate decisions, and their key.
type Approver struct {
	Name string
	Key  ssh.PublicKey
	// Fingerprint is the key's SHA256 fingerprint as ssh-keygen -l shows
	// it (SHA256:...), which status and history record.
	Fingerprint string
}

// minRSABits refuses RSA keys short enough to be broken.
const minRSABits = 2048

// ParseApprover reads one approver: a name and an authorized_keys line
// ("ssh-ed25519 AAAA... comment", options before the key allowed and
// ignored). Certificates and DSA keys are refused, as are RSA keys shorter
// than 2048 bits.
func ParseApprover(name, authorizedKey string) (Approver, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return Approver{}, errors.New("an approver needs a name: the person's name as they sign decisions (\"by\")")
	}
	key, _, _, rest, err := ssh.ParseAuthorizedKey([]byte(authorizedKey))
	if err != nil {
		return Approver{}, fmt.Errorf("approver %q: publicKey is not an authorized_keys line (%v): paste the person's ~/.ssh/id_ed25519.pub", name, err)
	}
	if len(strings.TrimSpace(string(rest))) > 0 {
		return Approver{}, fmt.Errorf("approver %q: publicKey holds more than one key: give one key per approver", name)
	}
	if err := checkKeyType(key); err != nil {
		return Approver{}, fmt.Errorf("approver %q: %w", name, err)
	}
	return Approver{Name: name, Key: key, Fingerprint: ssh.FingerprintSHA256(key)}, nil
}

// checkKeyType refuses keys that should not sign a production change.
func checkKeyType(key ssh.PublicKey) error {
	switch key.Type() {
	case ssh.KeyAlgoED25519, ssh.KeyAlgoSKED25519,
		ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521, ssh.KeyAlgoSKECDSA256:
		return nil
	case ssh.KeyAlgoRSA:
		crypto, ok := key.(ssh.CryptoPublicKey)
		if !ok {
			return errors.New("the RSA key cannot be read")
		}
		if pub, ok := crypto.CryptoPublicKey().(*rsa.PublicKey); !ok || pub.N.BitLen() < minRSABits {
			return fmt.Errorf("the RSA key is shorter than %d bits: use an ed25519 key (ssh-keygen -t ed25519)", minRSABits)
		}
		return nil
	}
	return fmt.Errorf("key type %s is not accepted (certificates and DSA keys are not): use an ed25519 key (ssh-keygen -t ed25519)", key.Type())
}
