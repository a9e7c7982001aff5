package sandbox

import (
	"net/http"
	"sync"
)

// syncState holds the service principals' provisioning (synchronization)
// jobs and secrets, and runs the provisioning engine.
type syncState struct {
	graph *graphServer
	mu    sync.Mutex
}

func newSyncState(g *graphServer) *syncState {
	return &syncState{graph: g}
}

// serve answers /servicePrincipals/{id}/synchronization/{rest...}.
func (s *syncState) serve(w http.ResponseWriter, r *http.Request, servicePrincipalID string, rest []string) {
	writeGraphError(w, graphNotFound(servicePrincipalID))
}

// close stops the provisioning engine.
func (s *syncState) close() {}
