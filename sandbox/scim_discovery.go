package sandbox

import (
	"net/http"
	"slices"
)

// The discovery endpoints: ServiceProviderConfig, Schemas and
// ResourceTypes, with what the IAM Identity Center SCIM implementation
// supports (PATCH and filters yes; bulk, sort, ETags and password changes no).

func scimServiceProviderConfig() map[string]any {
	return map[string]any{
		"schemas":          []string{scimSchemaSPConfig},
		"documentationUri": "https://docs.aws.amazon.com/singlesignon/latest/developerguide/what-is-scim.html",
		"authenticationSchemes": []map[string]any{{
			"type":        "oauthbearertoken",
			"name":        "OAuth Bearer Token",
			"description": "Authentication scheme using the OAuth Bearer Token Standard",
			"specUri":     "https://www.rfc-editor.org/info/rfc6750",
			"primary":     true,
		}},
		"patch":          map[string]any{"supported": true},
		"bulk":           map[string]any{"supported": false, "maxOperations": 1, "maxPayloadSize": 1048576},
		"filter":         map[string]any{"supported": true, "maxResults": scimMaxPage},
		"changePassword": map[string]any{"supported": false},
		"sort":           map[string]any{"supported": false},
		"etag":           map[string]any{"supported": false},
	}
}

func scimAttribute(name string, required bool) map[string]any {
	return map[string]any{
		"name": name, "type": "string", "multiValued": false, "required": required,
		"caseExact": false, "mutability": "readWrite", "returned": "default", "uniqueness": "none",
	}
}

func scimSchemas() []map[string]any {
	userName := scimAttribute("userName", true)
	userName["uniqueness"] = "server"
	name := scimAttribute("name", true)
	name["type"] = "complex"
	name["subAttributes"] = []map[string]any{
		scimAttribute("formatted", false), scimAttribute("familyName", true), scimAttribute("givenName", true),
		scimAttribute("middleName", false), scimAttribute("honorificPrefix", false), scimAttribute("honorificSuffix", false),
	}
	emails := scimAttribute("emails", false)
	emails["type"] = "complex"
	emails["subAttributes"] = []map[string]any{scimAttribute("value", false), scimAttribute("type", false), scimAttribute("primary", false)}
	active := scimAttribute("active", false)
	active["type"] = "boolean"
	members := scimAttribute("members", false)
	members["type"] = "complex"
	members["multiValued"] = true
	members["returned"] = "never"
	members["subAttributes"] = []map[string]any{scimAttribute("value", true)}
	displayName := scimAttribute("displayName", true)
	schema := func(id, name string, attributes ...map[string]any) map[string]any {
		return map[string]any{"schemas": []string{scimSchemaSchema}, "id": id, "name": name, "attributes": attributes}
	}
	return []map[string]any{
		schema(scimSchemaUser, "User", userName, name, scimAttribute("displayName", true), scimAttribute("nickName", false),
			scimAttribute("title", false), scimAttribute("userType", false), scimAttribute("preferredLanguage", false),
			scimAttribute("locale", false), scimAttribute("timezone", false), active, emails),
		schema(scimSchemaGroup, "Group", displayName, members),
		schema(scimSchemaEnterpriseUser, "EnterpriseUser", scimAttribute("employeeNumber", false), scimAttribute("costCenter", false),
			scimAttribute("organization", false), scimAttribute("division", false), scimAttribute("department", false)),
	}
}

func scimResourceTypes() []map[string]any {
	return []map[string]any{
		{
			"schemas": []string{scimSchemaResourceType}, "id": "User", "name": "User", "endpoint": "/Users",
			"schema":           scimSchemaUser,
			"schemaExtensions": []map[string]any{{"schema": scimSchemaEnterpriseUser, "required": false}},
		},
		{"schemas": []string{scimSchemaResourceType}, "id": "Group", "name": "Group", "endpoint": "/Groups", "schema": scimSchemaGroup},
	}
}

// scimDiscovery answers a list of discovery resources, or one by its id.
func scimDiscovery(resources []map[string]any, id string) (int, any, *scimError) {
	if id == "" {
		list := make([]any, 0, len(resources))
		for _, r := range resources {
			list = append(list, r)
		}
		total, start := len(list), 1
		return http.StatusOK, scimListResponse{
			Schemas: []string{scimSchemaListResponse}, TotalResults: &total, StartIndex: &start,
			ItemsPerPage: total, Resources: list,
		}, nil
	}
	i := slices.IndexFunc(resources, func(r map[string]any) bool { return r["id"] == id })
	if i < 0 {
		return 0, nil, scimNotFound("Resource", id)
	}
	return http.StatusOK, resources[i], nil
}
