package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
)

// SavedProvisioningSecrets returns the provisioning secrets saved for a
// service principal (PUT .../synchronization/secrets), which Graph never
// returns, for tests to see what was saved. The SecretToken is replaced by
// SecretTokenFingerprint of it, so no token leaves the sandbox. Nil when
// nothing is saved.
func (s *Sandbox) SavedProvisioningSecrets(servicePrincipalID string) map[string]string {
	sync := s.graph.sync
	sync.mu.Lock()
	defer sync.mu.Unlock()
	saved, ok := sync.secrets[servicePrincipalID]
	if !ok {
		return nil
	}
	out := maps.Clone(saved)
	if token, ok := out["SecretToken"]; ok {
		out["SecretToken"] = SecretTokenFingerprint(token)
	}
	return out
}

// SecretTokenFingerprint stands for a token in SavedProvisioningSecrets:
// "sha256:" and the first 16 hex digits of its SHA-256.
func SecretTokenFingerprint(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "sha256:" + hex.EncodeToString(sum[:8])
}
