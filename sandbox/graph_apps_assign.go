package sandbox

// App role assignments of groups to an enterprise app:
// /servicePrincipals/{id}/appRoleAssignedTo. The provisioning engine
// provisions the groups assigned here (assignedGroupIDs).

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// appRoleAssignment is a group's assignment to an app role of a service
// principal.
type appRoleAssignment struct {
	ID                   string
	AppRoleID            string
	PrincipalID          string
	PrincipalDisplayName string
	Created              time.Time
	sp                   *entraServicePrincipal
}

var appRoleAssignmentProperties = []string{
	"id", "appRoleId", "createdDateTime", "deletedDateTime", "principalDisplayName",
	"principalId", "principalType", "resourceDisplayName", "resourceId",
}

// assignee is what an assignment needs to know of its group.
type assignee struct {
	ID              string
	DisplayName     string
	SecurityEnabled bool
}

// serveAssign answers POST /servicePrincipals/{id}/appRoleAssignedTo
// {principalId, resourceId, appRoleId}.
func (a *appState) serveAssign(w http.ResponseWriter, r *http.Request, servicePrincipalID string) *graphError {
	var body struct {
		PrincipalID string `json:"principalId"`
		ResourceID  string `json:"resourceId"`
		AppRoleID   string `json:"appRoleId"`
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody))
	if err != nil {
		return graphBadRequest("The request body could not be read.")
	}
	if err := json.Unmarshal(data, &body); err != nil {
		return graphBadRequest("Unable to read JSON request payload: %v.", err)
	}
	if body.PrincipalID == "" || body.ResourceID == "" || body.AppRoleID == "" {
		return graphBadRequest("An app role assignment needs principalId, resourceId and appRoleId.")
	}
	group, gerr := a.assignee(body.PrincipalID)
	if gerr != nil {
		return gerr
	}

	a.mu.Lock()
	defer a.mu.Unlock()
	sp := a.servicePrincipal(servicePrincipalID)
	if sp == nil {
		return graphNotFound(servicePrincipalID)
	}
	if !strings.EqualFold(body.ResourceID, sp.ID) {
		return graphBadRequest("The resourceId '%s' must be the service principal the assignment is posted to ('%s').", body.ResourceID, sp.ID)
	}
	if !slices.ContainsFunc(sp.App.AppRoles, func(role appRole) bool { return strings.EqualFold(role.ID, body.AppRoleID) }) {
		return graphBadRequest("Permission being assigned was not found on application '%s'.", sp.App.AppID)
	}
	key := strings.ToLower(group.ID + "/" + body.AppRoleID)
	if sp.assigned[key] {
		return graphBadRequest("Permission being assigned already exists on the object")
	}
	as := &appRoleAssignment{
		ID:                   newAssignmentID(),
		AppRoleID:            strings.ToLower(body.AppRoleID),
		PrincipalID:          group.ID,
		PrincipalDisplayName: group.DisplayName,
		Created:              time.Now(),
		sp:                   sp,
	}
	sp.assignments = append(sp.assignments, as)
	sp.assigned[key] = true

	out := renderProperties(as, appRoleAssignmentProperties)
	out["@odata.context"] = graphServiceRoot(r) + "/$metadata#servicePrincipals('" + sp.ID + "')/appRoleAssignedTo/$entity"
	writeGraphJSON(w, http.StatusCreated, out)
	return nil
}

// assignee looks the principal up among the tenant's groups. The sandbox
// assigns groups only (the cutover assigns nothing else); Entra refuses a
// group that is not security-enabled (the sandbox has no Microsoft 365
// groups, the other kind Entra accepts).
func (a *appState) assignee(principalID string) (assignee, *graphError) {
	state := a.graph.state
	state.mu.RLock()
	defer state.mu.RUnlock()
	g := state.groupByID[principalID]
	if g == nil {
		if state.userByID[principalID] != nil {
			return assignee{}, graphBadRequest("The sandbox assigns groups only; '%s' is a user.", principalID)
		}
		return assignee{}, graphNotFound(principalID)
	}
	if !g.SecurityEnabled {
		return assignee{}, graphBadRequest("Group '%s' (%s) is not security-enabled, and only security groups can be assigned to an application.", g.DisplayName, g.ID)
	}
	return assignee{ID: g.ID, DisplayName: g.DisplayName, SecurityEnabled: g.SecurityEnabled}, nil
}

// serveAssignments answers GET .../appRoleAssignedTo and GET and DELETE
// .../appRoleAssignedTo/{id}. The caller holds a.mu.
func (a *appState) serveAssignments(w http.ResponseWriter, r *http.Request, sp *entraServicePrincipal, rest []string) *graphError {
	if len(rest) == 0 {
		if r.Method != http.MethodGet {
			return methodNotAllowed(r)
		}
		all := make([]graphObject, len(sp.assignments))
		for i, as := range sp.assignments {
			all[i] = as
		}
		return serveAppCollection(w, r, "servicePrincipals('"+sp.ID+"')/appRoleAssignedTo", appRoleAssignmentProperties, all)
	}
	i := slices.IndexFunc(sp.assignments, func(as *appRoleAssignment) bool { return as.ID == rest[0] })
	if i < 0 {
		return graphNotFound(rest[0])
	}
	as := sp.assignments[i]
	switch r.Method {
	case http.MethodGet:
		return serveAppEntity(w, r, "servicePrincipals('"+sp.ID+"')/appRoleAssignedTo/$entity", appRoleAssignmentProperties, as)
	case http.MethodDelete:
		sp.assignments = slices.Delete(sp.assignments, i, i+1)
		delete(sp.assigned, strings.ToLower(as.PrincipalID+"/"+as.AppRoleID))
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return methodNotAllowed(r)
}

// newAssignmentID returns an ID in the shape Entra gives assignments: 43
// characters of URL-safe base64.
func newAssignmentID() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
