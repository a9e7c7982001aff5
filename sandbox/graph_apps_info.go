package sandbox

import (
	"slices"
	"strings"
	"time"
)

// EnterpriseAppInfo is what the sandbox's tenant holds for one enterprise
// application, for tests that check what the cutover left behind.
type EnterpriseAppInfo struct {
	DisplayName string
	TemplateID  string
	// ApplicationObjectID is /applications/{id}; AppID the application
	// (client) ID; ServicePrincipalID /servicePrincipals/{id}, empty once
	// the service principal was deleted on its own.
	ApplicationObjectID string
	AppID               string
	ServicePrincipalID  string
	// Visible is false while the instantiate delay hides the app.
	Visible bool
	// IdentifierURIs and RedirectURIs are the SAML identifier (entity ID)
	// and reply URLs (ACS URLs).
	IdentifierURIs []string
	RedirectURIs   []string
	// PreferredSingleSignOnMode is "saml" once SAML is set up.
	PreferredSingleSignOnMode string
	// SigningCertificateThumbprint is the active signing certificate
	// (preferredTokenSigningKeyThumbprint), SigningCertificateExpires its
	// end; CertificateThumbprints every signing certificate added, sorted.
	SigningCertificateThumbprint string
	SigningCertificateExpires    time.Time
	CertificateThumbprints       []string
	// AssignedGroupIDs are the groups assigned to any app role, sorted;
	// AssignedAppRoles maps each of them to its app role IDs, sorted.
	AssignedGroupIDs []string
	AssignedAppRoles map[string][]string
}

// EnterpriseApps returns every enterprise application of the Graph tenant,
// invisible ones included, sorted by display name and then object ID.
func (s *Sandbox) EnterpriseApps() []EnterpriseAppInfo {
	a := s.graph.apps
	a.mu.Lock()
	defer a.mu.Unlock()
	now := time.Now()
	out := make([]EnterpriseAppInfo, 0, len(a.applications))
	for _, app := range a.applications {
		info := EnterpriseAppInfo{
			DisplayName:         app.DisplayName,
			TemplateID:          app.TemplateID,
			ApplicationObjectID: app.ID,
			AppID:               app.AppID,
			Visible:             app.visible(now),
			IdentifierURIs:      slices.Clone(app.IdentifierURIs),
			RedirectURIs:        slices.Clone(app.RedirectURIs),
		}
		if sp := app.SP; sp != nil {
			info.ServicePrincipalID = sp.ID
			info.PreferredSingleSignOnMode = sp.PreferredSingleSignOnMode
			info.SigningCertificateThumbprint = sp.PreferredTokenSigningKeyThumbprint
			if active := sp.activeCertificate(); active != nil {
				info.SigningCertificateExpires = active.Certificate.NotAfter
			}
			for thumbprint := range sp.certificates {
				info.CertificateThumbprints = append(info.CertificateThumbprints, thumbprint)
			}
			slices.Sort(info.CertificateThumbprints)
			info.AssignedGroupIDs = sp.assignedGroupIDs()
			info.AssignedAppRoles = map[string][]string{}
			for _, as := range sp.assignments {
				info.AssignedAppRoles[as.PrincipalID] = append(info.AssignedAppRoles[as.PrincipalID], as.AppRoleID)
			}
			for _, roles := range info.AssignedAppRoles {
				slices.Sort(roles)
			}
		}
		out = append(out, info)
	}
	slices.SortFunc(out, func(x, y EnterpriseAppInfo) int {
		if c := strings.Compare(x.DisplayName, y.DisplayName); c != 0 {
			return c
		}
		return strings.Compare(x.ApplicationObjectID, y.ApplicationObjectID)
	})
	return out
}
