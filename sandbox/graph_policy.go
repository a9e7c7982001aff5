package sandbox

import (
	"encoding/json"
	"net/http"
	"strings"
)

// appManagementPolicy is the part of the tenant's default app management
// policy the sandbox enforces: the restriction of identifier URIs
// (applicationRestrictions.identifierUris.nonDefaultUriAddition, Graph's
// identifierUriRestriction resource), which blocks identifier URIs other
// than the default api://{appId} forms on applications, unless the
// restriction excludes SAML applications.
// https://learn.microsoft.com/graph/api/resources/identifierurirestriction
type appManagementPolicy struct {
	restrictIdentifierURIs bool
	excludeSaml            bool
}

// blocksIdentifierURI reports whether the policy refuses uri on app. A
// SAML application is one whose service principal signs in with SAML.
func (p appManagementPolicy) blocksIdentifierURI(app *entraApplication, uri string) bool {
	if !p.restrictIdentifierURIs || strings.HasPrefix(uri, "api://") {
		return false
	}
	saml := app.SP != nil && app.SP.PreferredSingleSignOnMode == "saml"
	return !(saml && p.excludeSaml)
}

// identifierURIBlocked is Graph's answer to an identifier URI the policy
// blocks. Graph documents HostNameNotOnVerifiedDomain (a URI not on a
// verified domain of the tenant) with this message; what it answers when
// the app management policy is the cause is not documented, so the
// sandbox answers the documented error.
func identifierURIBlocked(uri string) *graphError {
	return &graphError{Status: http.StatusBadRequest, Code: "HostNameNotOnVerifiedDomain",
		Message: "Values of identifierUris property must use a verified domain of the organization or its subdomain: '" + uri + "'"}
}

// identifierURIRestrictionDoc is identifierUriRestriction in JSON.
type identifierURIRestrictionDoc struct {
	State                        string `json:"state"`
	ExcludeSaml                  bool   `json:"excludeSaml"`
	ExcludeAppsReceivingV2Tokens bool   `json:"excludeAppsReceivingV2Tokens"`
}

// servePolicy answers GET and PATCH /policies/defaultAppManagementPolicy
// (https://learn.microsoft.com/graph/api/tenantappmanagementpolicy-get and
// -update): a PATCH may set the identifier URI restriction's state and
// excludeSaml; everything else of the policy the sandbox does not hold.
func (a *appState) servePolicy(w http.ResponseWriter, r *http.Request, seg []string) *graphError {
	if len(seg) != 2 || seg[1] != "defaultAppManagementPolicy" {
		return &graphError{Status: http.StatusNotFound, Code: "Request_ResourceNotFound", Message: "The sandbox serves only /policies/defaultAppManagementPolicy."}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch r.Method {
	case http.MethodGet:
		state := "disabled"
		if a.policy.restrictIdentifierURIs {
			state = "enabled"
		}
		writeGraphJSON(w, http.StatusOK, map[string]any{
			"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#policies/defaultAppManagementPolicy/$entity",
			"id":             "00000000-0000-0000-0000-000000000000",
			"displayName":    "Default app management tenant policy",
			"isEnabled":      true,
			"applicationRestrictions": map[string]any{"identifierUris": map[string]any{
				"nonDefaultUriAddition": identifierURIRestrictionDoc{State: state, ExcludeSaml: a.policy.excludeSaml},
			}},
		})
		return nil
	case http.MethodPatch:
		var body struct {
			ApplicationRestrictions *struct {
				IdentifierURIs *struct {
					NonDefaultURIAddition *struct {
						State       *string `json:"state"`
						ExcludeSaml *bool   `json:"excludeSaml"`
					} `json:"nonDefaultUriAddition"`
				} `json:"identifierUris"`
			} `json:"applicationRestrictions"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			return graphBadRequest("The request body is not valid JSON: %v", err)
		}
		if ar := body.ApplicationRestrictions; ar != nil && ar.IdentifierURIs != nil && ar.IdentifierURIs.NonDefaultURIAddition != nil {
			restriction := ar.IdentifierURIs.NonDefaultURIAddition
			if restriction.State != nil {
				switch *restriction.State {
				case "enabled", "disabled":
					a.policy.restrictIdentifierURIs = *restriction.State == "enabled"
				default:
					return graphBadRequest("Invalid value specified for property 'state' of resource 'identifierUriRestriction': '%s'.", *restriction.State)
				}
			}
			if restriction.ExcludeSaml != nil {
				a.policy.excludeSaml = *restriction.ExcludeSaml
			}
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return methodNotAllowed(r)
}
