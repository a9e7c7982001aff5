package sandbox

// The application gallery (/applicationTemplates) and its instantiate
// action, which creates an application and its service principal with the
// template's app roles.

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/platformguide/ssocutover/sandbox/world"
)

// appTemplate is a gallery application.
type appTemplate struct {
	ID                         string
	DisplayName                string
	Publisher                  string
	Description                string
	HomePageURL                string
	Categories                 []string
	SupportedSingleSignOnModes []string
	SupportedProvisioningTypes []string
	AppRoles                   []appRole
}

// awsIdentityCenterTemplateID is the gallery app the cutover instantiates.
const awsIdentityCenterTemplateID = "21ed01d2-ec13-4e9e-86c1-cd546719ebc4"

// appTemplates is the sandbox's gallery: the AWS IAM Identity Center app,
// with the app role IDs Entra gives it, and the template of a custom
// ("non-gallery") app, so that a lookup by ID or name can miss.
var appTemplates = []appTemplate{
	{
		ID:                         awsIdentityCenterTemplateID,
		DisplayName:                "AWS IAM Identity Center (successor to AWS Single Sign-On)",
		Publisher:                  "Amazon",
		Description:                "Federate once to AWS IAM Identity Center to manage access centrally to multiple AWS accounts and applications.",
		HomePageURL:                "https://aws.amazon.com/single-sign-on/",
		Categories:                 []string{"developerServices", "itInfrastructure"},
		SupportedSingleSignOnModes: []string{"saml", "external"},
		SupportedProvisioningTypes: []string{"sync"},
		AppRoles: []appRole{
			{ID: "8774f594-1d59-4279-b9d9-59ef09a23530", DisplayName: "User", Value: "User", Description: "User"},
			{ID: "e7f1a7f3-9eda-48e0-9963-bd67bf531afd", DisplayName: "msiam_access", Value: "msiam_access", Description: "msiam_access"},
		},
	},
	{
		ID:                         "8adf8e6e-67b2-4cf2-a259-e3dc5476c621",
		DisplayName:                "Custom",
		Publisher:                  "Microsoft Corporation",
		Description:                "Integrate any other application that you don't find in the gallery.",
		Categories:                 []string{},
		SupportedSingleSignOnModes: []string{"saml", "password", "oidc", "external"},
		SupportedProvisioningTypes: []string{"sync"},
		AppRoles: []appRole{
			{ID: world.StableID("custom-app-role", "User"), DisplayName: "User", Value: "User", Description: "User"},
			{ID: world.StableID("custom-app-role", "msiam_access"), DisplayName: "msiam_access", Value: "msiam_access", Description: "msiam_access"},
		},
	},
}

var templateProperties = []string{
	"id", "displayName", "publisher", "description", "homePageUrl", "logoUrl", "categories",
	"supportedSingleSignOnModes", "supportedProvisioningTypes",
}

func (t *appTemplate) odataType() string { return odataTypeTemplate }

func (t *appTemplate) property(name string) (any, bool) {
	switch name {
	case "id":
		return t.ID, true
	case "displayName":
		return t.DisplayName, true
	case "publisher":
		return t.Publisher, true
	case "description":
		return t.Description, true
	case "homePageUrl":
		return nullable(t.HomePageURL), true
	case "logoUrl":
		return nil, true
	case "categories":
		return nonNil(t.Categories), true
	case "supportedSingleSignOnModes":
		return nonNil(t.SupportedSingleSignOnModes), true
	case "supportedProvisioningTypes":
		return nonNil(t.SupportedProvisioningTypes), true
	}
	return nil, false
}

func templateByID(id string) *appTemplate {
	for i := range appTemplates {
		if strings.EqualFold(appTemplates[i].ID, id) {
			return &appTemplates[i]
		}
	}
	return nil
}

// serveTemplates answers GET /applicationTemplates, GET
// /applicationTemplates/{id} and POST /applicationTemplates/{id}/instantiate.
func (a *appState) serveTemplates(w http.ResponseWriter, r *http.Request, seg []string) *graphError {
	if len(seg) == 1 {
		if r.Method != http.MethodGet {
			return methodNotAllowed(r)
		}
		all := make([]graphObject, len(appTemplates))
		for i := range appTemplates {
			all[i] = &appTemplates[i]
		}
		return serveAppCollection(w, r, "applicationTemplates", templateProperties, all)
	}
	t := templateByID(seg[1])
	if t == nil {
		return graphNotFound(seg[1])
	}
	switch {
	case len(seg) == 2 && r.Method == http.MethodGet:
		return serveAppEntity(w, r, "applicationTemplates/$entity", templateProperties, t)
	case len(seg) == 3 && seg[2] == "instantiate":
		if r.Method != http.MethodPost {
			return methodNotAllowed(r)
		}
		return a.instantiate(w, r, t)
	case len(seg) == 2:
		return methodNotAllowed(r)
	}
	return resourceSegmentNotFound(seg[2])
}

// instantiate creates an application and its service principal from t and
// answers 201 with both, as Entra does. Neither is readable until the
// instantiate delay has passed; the answer is the only sign of them until
// then.
func (a *appState) instantiate(w http.ResponseWriter, r *http.Request, t *appTemplate) *graphError {
	var body struct {
		DisplayName string `json:"displayName"`
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody))
	if err != nil {
		return graphBadRequest("The request body could not be read.")
	}
	if err := json.Unmarshal(data, &body); err != nil {
		return graphBadRequest("Unable to read JSON request payload: %v.", err)
	}
	if strings.TrimSpace(body.DisplayName) == "" {
		return graphBadRequest("Invalid value specified for property 'displayName': a display name is required.")
	}

	a.mu.Lock()
	defer a.mu.Unlock()
	now := time.Now()
	app := &entraApplication{
		ID:          newObjectID(),
		AppID:       newObjectID(),
		DisplayName: body.DisplayName,
		TemplateID:  t.ID,
		ownerTenant: a.tenantID,
		Created:     now,
		visibleAt:   now.Add(a.delay),
		AppRoles:    append([]appRole(nil), t.AppRoles...),
	}
	app.SP = &entraServicePrincipal{
		ID:           newObjectID(),
		App:          app,
		certificates: map[string]*signingCertificate{},
		assigned:     map[string]bool{},
	}
	a.applications = append(a.applications, app)

	writeGraphJSON(w, http.StatusCreated, map[string]any{
		"@odata.context":   graphServiceRoot(r) + "/$metadata#microsoft.graph.applicationServicePrincipal",
		"application":      renderProperties(app, applicationProperties),
		"servicePrincipal": renderProperties(app.SP, servicePrincipalProperties),
	})
	return nil
}
