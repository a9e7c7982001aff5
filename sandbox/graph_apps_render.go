package sandbox

// The JSON of applications, service principals and app role assignments,
// and the collection and entity answers that carry them. They use the
// OData query options of graph_query.go; unlike users and groups, they are
// written without @odata.type, as Graph writes the members of a collection
// of one type.

import (
	"encoding/base64"
	"encoding/hex"
	"net/http"
)

// serveAppCollection answers a collection with the query options of r.
func serveAppCollection(w http.ResponseWriter, r *http.Request, entitySet string, properties []string, objects []graphObject) *graphError {
	q, err := parseGraphQuery(r, properties)
	if err != nil {
		return err
	}
	writeCollection(w, r, entitySet, q, q.apply(nil, objects), func(o graphObject) map[string]any {
		return renderSelected(q, properties, o)
	})
	return nil
}

// serveAppEntity answers one object with the $select-ed properties.
func serveAppEntity(w http.ResponseWriter, r *http.Request, entitySet string, properties []string, o graphObject) *graphError {
	q, err := parseGraphQuery(r, properties)
	if err != nil {
		return err
	}
	body := renderSelected(q, properties, o)
	body["@odata.context"] = graphServiceRoot(r) + "/$metadata#" + entitySet
	writeGraphJSON(w, http.StatusOK, body)
	return nil
}

// renderSelected writes o with q's selected properties, or all of
// properties when none are selected; id always.
func renderSelected(q *graphQuery, properties []string, o graphObject) map[string]any {
	names := q.selected
	if names == nil {
		names = properties
	}
	return renderProperties(o, names)
}

func renderProperties(o graphObject, names []string) map[string]any {
	out := map[string]any{}
	out["id"], _ = o.property("id")
	for _, name := range names {
		if v, ok := o.property(name); ok {
			out[name] = v
		}
	}
	return out
}

func (a *entraApplication) odataType() string { return odataTypeApplication }

func (a *entraApplication) property(name string) (any, bool) {
	switch name {
	case "id":
		return a.ID, true
	case "appId":
		return a.AppID, true
	case "applicationTemplateId":
		return nullable(a.TemplateID), true
	case "createdDateTime":
		return graphDateTime(a.Created), true
	case "displayName":
		return a.DisplayName, true
	case "identifierUris":
		return nonNil(a.IdentifierURIs), true
	case "signInAudience":
		return "AzureADMyOrg", true
	case "tags":
		return []string{}, true
	case "appRoles":
		return renderAppRoles(a.AppRoles), true
	case "keyCredentials", "passwordCredentials":
		return []any{}, true
	case "web":
		settings := make([]map[string]any, 0, len(a.RedirectURIs))
		for _, u := range a.RedirectURIs {
			settings = append(settings, map[string]any{"uri": u, "index": nil})
		}
		return map[string]any{
			"homePageUrl":           nil,
			"logoutUrl":             nil,
			"redirectUris":          nonNil(a.RedirectURIs),
			"redirectUriSettings":   settings,
			"implicitGrantSettings": map[string]any{"enableAccessTokenIssuance": false, "enableIdTokenIssuance": false},
		}, true
	}
	return nil, false
}

func (sp *entraServicePrincipal) odataType() string { return odataTypeServicePrincipal }

func (sp *entraServicePrincipal) property(name string) (any, bool) {
	app := sp.App
	switch name {
	case "id":
		return sp.ID, true
	case "accountEnabled":
		return true, true
	case "appDisplayName", "displayName":
		return app.DisplayName, true
	case "appId":
		return app.AppID, true
	case "applicationTemplateId":
		return nullable(app.TemplateID), true
	case "appOwnerOrganizationId":
		return nullable(sp.ownerTenant()), true
	case "appRoleAssignmentRequired":
		return true, true
	case "preferredSingleSignOnMode":
		return nullable(sp.PreferredSingleSignOnMode), true
	case "preferredTokenSigningKeyThumbprint":
		return nullable(sp.PreferredTokenSigningKeyThumbprint), true
	case "replyUrls":
		return nonNil(app.RedirectURIs), true
	case "servicePrincipalNames":
		return append([]string{app.AppID}, app.IdentifierURIs...), true
	case "servicePrincipalType":
		return "Application", true
	case "signInAudience":
		return "AzureADMyOrg", true
	case "tags":
		return []string{"WindowsAzureActiveDirectoryIntegratedApp"}, true
	case "appRoles":
		return renderAppRoles(app.AppRoles), true
	case "keyCredentials":
		return renderKeyCredentials(sp.KeyCredentials), true
	case "passwordCredentials":
		return []any{}, true
	}
	return nil, false
}

// ownerTenant is the tenant the app was created in; set by instantiate.
func (sp *entraServicePrincipal) ownerTenant() string { return sp.App.ownerTenant }

func renderAppRoles(roles []appRole) []map[string]any {
	out := make([]map[string]any, 0, len(roles))
	for _, r := range roles {
		out = append(out, map[string]any{
			"allowedMemberTypes": []string{"User"},
			"description":        r.Description,
			"displayName":        r.DisplayName,
			"id":                 r.ID,
			"isEnabled":          true,
			"origin":             "Application",
			"value":              nullable(r.Value),
		})
	}
	return out
}

// renderKeyCredentials writes the keys as Graph lists them: the key itself
// is never returned in a list or a GET (key is null); customKeyIdentifier
// is the certificate's thumbprint as bytes, base64-encoded.
func renderKeyCredentials(keys []keyCredential) []map[string]any {
	out := make([]map[string]any, 0, len(keys))
	for _, k := range keys {
		out = append(out, map[string]any{
			"customKeyIdentifier": thumbprintIdentifier(k.Thumbprint),
			"displayName":         k.DisplayName,
			"endDateTime":         graphDateTime(k.End),
			"key":                 nil,
			"keyId":               k.KeyID,
			"startDateTime":       graphDateTime(k.Start),
			"type":                "AsymmetricX509Cert",
			"usage":               k.Usage,
		})
	}
	return out
}

// thumbprintIdentifier is the customKeyIdentifier of a certificate's keys:
// the SHA-1 thumbprint's bytes in base64.
func thumbprintIdentifier(thumbprint string) string {
	raw, _ := hex.DecodeString(thumbprint)
	return base64.StdEncoding.EncodeToString(raw)
}

func (as *appRoleAssignment) odataType() string { return odataTypeAppRoleAssignment }

func (as *appRoleAssignment) property(name string) (any, bool) {
	switch name {
	case "id":
		return as.ID, true
	case "appRoleId":
		return as.AppRoleID, true
	case "createdDateTime":
		return graphDateTime(as.Created), true
	case "deletedDateTime":
		return nil, true
	case "principalDisplayName":
		return as.PrincipalDisplayName, true
	case "principalId":
		return as.PrincipalID, true
	case "principalType":
		return "Group", true
	case "resourceDisplayName":
		return as.sp.App.DisplayName, true
	case "resourceId":
		return as.sp.ID, true
	}
	return nil, false
}

// nonNil writes a nil slice as [], as Graph writes an empty collection.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
