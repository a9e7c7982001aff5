package sandbox

import (
	"net/http"
	"sync"
)

// appState holds the tenant's enterprise applications: applications,
// service principals and their app role assignments.
type appState struct {
	graph *graphServer
	mu    sync.Mutex
}

func newAppState(g *graphServer) *appState {
	return &appState{graph: g}
}

// serve answers /applicationTemplates, /applications and /servicePrincipals
// (but not .../synchronization, which syncState serves).
func (a *appState) serve(w http.ResponseWriter, r *http.Request, seg []string) {
	writeGraphError(w, graphNotFound(seg[len(seg)-1]))
}

// serveFederationMetadata answers
// /{tenant}/federationmetadata/2007-06/federationmetadata.xml?appid={appId}
// and reports whether r was that request.
func (a *appState) serveFederationMetadata(w http.ResponseWriter, r *http.Request) bool {
	return false
}

// servicePrincipalExists reports whether a service principal with this ID
// exists and is readable.
func (a *appState) servicePrincipalExists(id string) bool {
	return false
}

// assignedGroupIDs returns the IDs of the groups assigned to any app role of
// the service principal, sorted. The provisioning engine provisions these.
func (a *appState) assignedGroupIDs(servicePrincipalID string) []string {
	return nil
}
