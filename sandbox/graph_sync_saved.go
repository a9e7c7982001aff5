package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"time"
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

// ProvisioningJobHealth is what a provisioning job reports of its health,
// for tests: whether it is quarantined and how its last cycle went.
type ProvisioningJobHealth struct {
	Quarantined        bool
	LastCycleState     string // Succeeded, Failed or EntryLevelErrors; "" before the first
	LastCycleEnded     time.Time
	LastCycleErrorCode string
}

// ProvisioningJobHealth reports the health of job jobID of a service
// principal; ok is false when there is no such job.
func (s *Sandbox) ProvisioningJobHealth(servicePrincipalID, jobID string) (health ProvisioningJobHealth, ok bool) {
	sync := s.graph.sync
	job := sync.job(servicePrincipalID, jobID)
	if job == nil {
		return ProvisioningJobHealth{}, false
	}
	sync.mu.Lock()
	defer sync.mu.Unlock()
	health.Quarantined = job.status.quarantine != nil
	if last := job.status.lastExecution; last != nil {
		health.LastCycleState, health.LastCycleEnded = last.state, last.ended
		if last.err != nil {
			health.LastCycleErrorCode = last.err.code
		}
	}
	return health, true
}
