package sandbox

import (
	"encoding/base64"
	"encoding/json"

	"github.com/platformguide/ssocutover/internal/readiness"
)

// GraphAccessToken is the bearer token a worker sends to the sandbox's
// Graph: shaped as Entra's app-only tokens are (a JWT whose roles claim
// lists the application permissions granted), so that the readiness check
// reads it as it reads a real one. It is unsigned (alg "none"): the
// sandbox takes any bearer token, and the check reads claims only.
func GraphAccessToken(tenantID string) string {
	var roles []string
	for _, p := range readiness.GraphPermissions {
		roles = append(roles, p.Name)
	}
	header, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	claims, _ := json.Marshal(map[string]any{
		"aud": "https://graph.microsoft.com", "iss": "https://sts.windows.net/" + tenantID + "/",
		"tid": tenantID, "idtyp": "app", "roles": roles,
	})
	enc := base64.RawURLEncoding
	return enc.EncodeToString(header) + "." + enc.EncodeToString(claims) + "."
}
