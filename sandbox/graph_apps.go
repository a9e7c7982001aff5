package sandbox

// Enterprise applications, as Microsoft Graph v1.0 serves them: the gallery
// (applicationTemplates) and its instantiate action, the application and
// service principal pairs it creates, their SAML settings and token signing
// certificates, the app role assignments of groups, and the federation
// metadata Entra publishes for each app on login.microsoftonline.com.
//
// What Entra does and the sandbox copies, because the cutover must cope
// with it:
//   - a new application and its service principal are not readable for a
//     while after instantiate answers (GraphOptions.InstantiateDelay);
//   - deleting an application deletes its service principal;
//   - identifierUris are unique in the tenant;
//   - assigning the same app role to the same principal twice is refused;
//   - the federation metadata names the active signing certificate (the
//     service principal's preferredTokenSigningKeyThumbprint).
//
// The files: graph_apps.go (state, routing, reads, PATCH and DELETE),
// graph_apps_templates.go (gallery, instantiate), graph_apps_certs.go
// (signing certificates, federation metadata), graph_apps_assign.go
// (appRoleAssignedTo), graph_apps_info.go (what tests read).

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/platformguide/ssocutover/sandbox/world"
)

// appState holds the tenant's enterprise applications: applications,
// service principals and their app role assignments.
type appState struct {
	graph    *graphServer
	tenantID string
	// delay is how long instantiated objects stay invisible.
	delay time.Duration

	mu sync.Mutex
	// applications are in creation order; deleted ones are removed.
	applications []*entraApplication
	// policy is the tenant's default app management policy (graph_policy.go).
	policy appManagementPolicy
}

func newAppState(g *graphServer, w *world.World) *appState {
	return &appState{graph: g, tenantID: strings.ToLower(w.Entra.TenantID), delay: g.opts.instantiateDelay(),
		policy: appManagementPolicy{restrictIdentifierURIs: w.Entra.RestrictIdentifierURIs}}
}

// entraApplication is an application object and, through SP, its service
// principal (the enterprise app).
type entraApplication struct {
	ID          string
	AppID       string
	DisplayName string
	TemplateID  string
	// ownerTenant is the tenant that owns the app (appOwnerOrganizationId).
	ownerTenant string
	Created     time.Time
	// visibleAt is when GET, lists and filters start to see the
	// application and its service principal.
	visibleAt      time.Time
	IdentifierURIs []string
	RedirectURIs   []string
	AppRoles       []appRole
	// SP is nil once the service principal was deleted on its own.
	SP *entraServicePrincipal
}

// entraServicePrincipal is the enterprise app of an application.
type entraServicePrincipal struct {
	ID                                 string
	App                                *entraApplication
	PreferredSingleSignOnMode          string
	PreferredTokenSigningKeyThumbprint string
	KeyCredentials                     []keyCredential
	// certificates are the signing certificates added, by thumbprint.
	certificates map[string]*signingCertificate
	assignments  []*appRoleAssignment
	// assigned holds principal ID + "/" + app role ID of every assignment.
	assigned map[string]bool
}

// appRole is a role of an application (and of its service principal).
type appRole struct {
	ID          string
	DisplayName string
	Value       string
	Description string
}

// keyCredential is a key of a service principal, as Graph lists it. A
// token signing certificate has two: one to Sign (with the private key) and
// one to Verify, both with the certificate's thumbprint as
// customKeyIdentifier.
type keyCredential struct {
	KeyID       string
	DisplayName string
	Usage       string // Sign or Verify
	Start, End  time.Time
	Thumbprint  string // upper-case hex SHA-1 of the certificate
}

// Graph's OData types of the objects served here.
const (
	odataTypeApplication       = "#microsoft.graph.application"
	odataTypeServicePrincipal  = "#microsoft.graph.servicePrincipal"
	odataTypeAppRoleAssignment = "#microsoft.graph.appRoleAssignment"
	odataTypeTemplate          = "#microsoft.graph.applicationTemplate"
)

// The properties served of each type, in the order Graph lists them; $select
// and $filter may name these only.
var (
	applicationProperties = []string{
		"id", "appId", "applicationTemplateId", "createdDateTime", "displayName", "identifierUris",
		"signInAudience", "tags", "appRoles", "keyCredentials", "passwordCredentials", "web",
	}
	servicePrincipalProperties = []string{
		"id", "accountEnabled", "appDisplayName", "appId", "applicationTemplateId", "appOwnerOrganizationId",
		"appRoleAssignmentRequired", "displayName", "preferredSingleSignOnMode", "preferredTokenSigningKeyThumbprint",
		"replyUrls", "servicePrincipalNames", "servicePrincipalType", "signInAudience", "tags",
		"appRoles", "keyCredentials", "passwordCredentials",
	}
)

func (a *entraApplication) visible(now time.Time) bool { return !now.Before(a.visibleAt) }

// serve answers /applicationTemplates, /applications and /servicePrincipals
// (but not .../synchronization, which syncState serves).
func (a *appState) serve(w http.ResponseWriter, r *http.Request, seg []string) {
	if err := a.route(w, r, seg); err != nil {
		writeGraphError(w, err)
	}
}

func (a *appState) route(w http.ResponseWriter, r *http.Request, seg []string) *graphError {
	switch seg[0] {
	case "applicationTemplates":
		return a.serveTemplates(w, r, seg)
	case "applications":
		return a.serveApplications(w, r, seg)
	}
	// An assignment names a group of the tenant, which graphState holds
	// under its own lock: look it up before taking ours (the lock order is
	// always graphState, then appState).
	if len(seg) == 3 && seg[2] == "appRoleAssignedTo" && r.Method == http.MethodPost {
		return a.serveAssign(w, r, seg[1])
	}
	return a.serveServicePrincipals(w, r, seg)
}

// serveApplications answers /applications and /applications/{id}.
func (a *appState) serveApplications(w http.ResponseWriter, r *http.Request, seg []string) *graphError {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case len(seg) == 1 && r.Method == http.MethodGet:
		return serveAppCollection(w, r, "applications", applicationProperties, a.visibleApplications())
	case len(seg) == 1:
		return methodNotAllowed(r)
	case len(seg) > 2:
		return resourceSegmentNotFound(seg[2])
	}
	app := a.application(seg[1])
	if app == nil {
		return graphNotFound(seg[1])
	}
	switch r.Method {
	case http.MethodGet:
		return serveAppEntity(w, r, "applications/$entity", applicationProperties, app)
	case http.MethodPatch:
		return a.patchApplication(w, r, app)
	case http.MethodDelete:
		a.deleteApplication(app)
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return methodNotAllowed(r)
}

// serveServicePrincipals answers /servicePrincipals, /servicePrincipals/{id}
// and the actions and relations under it, except POST .../appRoleAssignedTo.
func (a *appState) serveServicePrincipals(w http.ResponseWriter, r *http.Request, seg []string) *graphError {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(seg) == 1 {
		if r.Method != http.MethodGet {
			return methodNotAllowed(r)
		}
		return serveAppCollection(w, r, "servicePrincipals", servicePrincipalProperties, a.visibleServicePrincipals())
	}
	sp := a.servicePrincipal(seg[1])
	if sp == nil {
		return graphNotFound(seg[1])
	}
	switch {
	case len(seg) == 2:
		switch r.Method {
		case http.MethodGet:
			return serveAppEntity(w, r, "servicePrincipals/$entity", servicePrincipalProperties, sp)
		case http.MethodPatch:
			return a.patchServicePrincipal(w, r, sp)
		case http.MethodDelete:
			sp.App.SP = nil
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
		return methodNotAllowed(r)
	case len(seg) == 3 && seg[2] == "addTokenSigningCertificate":
		if r.Method != http.MethodPost {
			return methodNotAllowed(r)
		}
		return a.addTokenSigningCertificate(w, r, sp)
	case seg[2] == "appRoleAssignedTo" && len(seg) <= 4:
		return a.serveAssignments(w, r, sp, seg[3:])
	}
	return resourceSegmentNotFound(seg[2])
}

// application returns the visible application with this object ID.
func (a *appState) application(id string) *entraApplication {
	now := time.Now()
	for _, app := range a.applications {
		if app.ID == id && app.visible(now) {
			return app
		}
	}
	return nil
}

// servicePrincipal returns the visible service principal with this ID.
func (a *appState) servicePrincipal(id string) *entraServicePrincipal {
	now := time.Now()
	for _, app := range a.applications {
		if app.SP != nil && app.SP.ID == id && app.visible(now) {
			return app.SP
		}
	}
	return nil
}

func (a *appState) visibleApplications() []graphObject {
	now := time.Now()
	var out []graphObject
	for _, app := range a.applications {
		if app.visible(now) {
			out = append(out, app)
		}
	}
	return out
}

func (a *appState) visibleServicePrincipals() []graphObject {
	now := time.Now()
	var out []graphObject
	for _, app := range a.applications {
		if app.SP != nil && app.visible(now) {
			out = append(out, app.SP)
		}
	}
	return out
}

// deleteApplication removes app and, as Entra does, its service principal
// with the service principal's app role assignments.
func (a *appState) deleteApplication(app *entraApplication) {
	a.applications = slices.DeleteFunc(a.applications, func(x *entraApplication) bool { return x == app })
	app.SP = nil
}

// servicePrincipalExists reports whether a service principal with this ID
// exists and is readable.
func (a *appState) servicePrincipalExists(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.servicePrincipal(id) != nil
}

// assignedGroupIDs returns the IDs of the groups assigned to any app role of
// the service principal, sorted. The provisioning engine provisions these.
func (a *appState) assignedGroupIDs(servicePrincipalID string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	sp := a.servicePrincipal(servicePrincipalID)
	if sp == nil {
		return nil
	}
	return sp.assignedGroupIDs()
}

func (sp *entraServicePrincipal) assignedGroupIDs() []string {
	var ids []string
	for _, as := range sp.assignments {
		ids = append(ids, as.PrincipalID)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// patchApplication applies PATCH /applications/{id}: the SAML identifier
// (identifierUris) and reply URLs (web.redirectUris), or the display name.
func (a *appState) patchApplication(w http.ResponseWriter, r *http.Request, app *entraApplication) *graphError {
	var body struct {
		DisplayName    *string   `json:"displayName"`
		IdentifierURIs *[]string `json:"identifierUris"`
		Web            *struct {
			RedirectURIs *[]string `json:"redirectUris"`
		} `json:"web"`
	}
	if err := decodePatch(r, &body, "displayName", "identifierUris", "web"); err != nil {
		return err
	}
	if body.DisplayName != nil && strings.TrimSpace(*body.DisplayName) == "" {
		return graphBadRequest("Invalid value specified for property 'displayName' of resource 'Application'.")
	}
	if body.IdentifierURIs != nil {
		if err := a.checkIdentifierURIs(app, *body.IdentifierURIs); err != nil {
			return err
		}
	}
	var redirects *[]string
	if body.Web != nil && body.Web.RedirectURIs != nil {
		redirects = body.Web.RedirectURIs
		for _, u := range *redirects {
			if !validRedirectURI(u) {
				return graphBadRequest("Invalid value specified for property 'web.redirectUris' of resource 'Application': '%s' is not an https URL (http is allowed for localhost only).", u)
			}
		}
	}

	if body.DisplayName != nil {
		app.DisplayName = *body.DisplayName
	}
	if body.IdentifierURIs != nil {
		app.IdentifierURIs = slices.Clone(*body.IdentifierURIs)
	}
	if redirects != nil {
		app.RedirectURIs = slices.Clone(*redirects)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// checkIdentifierURIs refuses URIs that are not absolute, and URIs another
// application of the tenant already has, as Entra keeps them unique.
func (a *appState) checkIdentifierURIs(app *entraApplication, uris []string) *graphError {
	for _, u := range uris {
		if !strings.Contains(u, "://") && !strings.HasPrefix(u, "urn:") {
			return graphBadRequest("Invalid value specified for property 'identifierUris' of resource 'Application': '%s' is not an absolute URI.", u)
		}
		if a.policy.blocksIdentifierURI(app, u) {
			return identifierURIBlocked(u)
		}
		for _, other := range a.applications {
			if other != app && slices.ContainsFunc(other.IdentifierURIs, func(x string) bool { return strings.EqualFold(x, u) }) {
				return graphBadRequest("Another object with the same value for property identifierUris already exists.")
			}
		}
	}
	return nil
}

func validRedirectURI(u string) bool {
	if strings.HasPrefix(u, "https://") && len(u) > len("https://") {
		return true
	}
	return strings.HasPrefix(u, "http://localhost")
}

// samlModes are the values of preferredSingleSignOnMode.
var samlModes = []string{"password", "saml", "notSupported", "oidc"}

// patchServicePrincipal applies PATCH /servicePrincipals/{id}: the single
// sign-on mode and the active signing certificate.
func (a *appState) patchServicePrincipal(w http.ResponseWriter, r *http.Request, sp *entraServicePrincipal) *graphError {
	var body struct {
		Mode       json.RawMessage `json:"preferredSingleSignOnMode"`
		Thumbprint json.RawMessage `json:"preferredTokenSigningKeyThumbprint"`
	}
	if err := decodePatch(r, &body, "preferredSingleSignOnMode", "preferredTokenSigningKeyThumbprint"); err != nil {
		return err
	}
	mode, modeSet, err := nullableString(body.Mode, "preferredSingleSignOnMode")
	if err != nil {
		return err
	}
	if modeSet && mode != "" && !slices.Contains(samlModes, mode) {
		return graphBadRequest("Invalid value specified for property 'preferredSingleSignOnMode' of resource 'ServicePrincipal': '%s' is not one of %s.", mode, strings.Join(samlModes, ", "))
	}
	thumbprint, thumbprintSet, err := nullableString(body.Thumbprint, "preferredTokenSigningKeyThumbprint")
	if err != nil {
		return err
	}
	if thumbprintSet && thumbprint != "" && sp.certificates[strings.ToUpper(thumbprint)] == nil {
		return graphBadRequest("Invalid value specified for property 'preferredTokenSigningKeyThumbprint' of resource 'ServicePrincipal': no signing certificate of the service principal has the thumbprint '%s'.", thumbprint)
	}

	if modeSet {
		sp.PreferredSingleSignOnMode = mode
	}
	if thumbprintSet {
		sp.PreferredTokenSigningKeyThumbprint = thumbprint
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// decodePatch reads a JSON request body into v, refusing properties other
// than allowed (the SDK adds @odata.type, which is ignored).
func decodePatch(r *http.Request, v any, allowed ...string) *graphError {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil || len(data) > maxRequestBody {
		return graphBadRequest("The request body could not be read.")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return graphBadRequest("Unable to read JSON request payload: %v.", err)
	}
	for name := range fields {
		if !strings.HasPrefix(name, "@odata.") && !slices.Contains(allowed, name) {
			return graphBadRequest("The sandbox does not support setting property '%s' here (it supports %s).", name, strings.Join(allowed, ", "))
		}
	}
	if err := json.Unmarshal(data, v); err != nil {
		return graphBadRequest("Unable to read JSON request payload: %v.", err)
	}
	return nil
}

// nullableString reads a string property that may be null: set says
// whether the body had it, and null reads as "".
func nullableString(raw json.RawMessage, name string) (value string, set bool, err *graphError) {
	if raw == nil {
		return "", false, nil
	}
	if string(raw) == "null" {
		return "", true, nil
	}
	if jsonErr := json.Unmarshal(raw, &value); jsonErr != nil {
		return "", false, graphBadRequest("Invalid value specified for property '%s': want a string or null.", name)
	}
	return value, true, nil
}

func methodNotAllowed(r *http.Request) *graphError {
	return &graphError{Status: http.StatusMethodNotAllowed, Code: "Request_BadRequest", Message: fmt.Sprintf("The sandbox does not serve %s %s.", r.Method, r.URL.Path)}
}

func resourceSegmentNotFound(segment string) *graphError {
	return &graphError{Status: http.StatusBadRequest, Code: "BadRequest", Message: fmt.Sprintf("Resource not found for the segment '%s'.", segment)}
}

// newObjectID returns a random GUID, as Entra gives its objects.
func newObjectID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// graphDateTime writes a time as Graph does (UTC, RFC 3339, seconds).
func graphDateTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
