package workflows

import (
	"time"

	"github.com/platformguide/ssocutover/activities/entra"
	"github.com/platformguide/ssocutover/activities/identitycenter"
	"github.com/platformguide/ssocutover/internal/samlmeta"
	"github.com/platformguide/ssocutover/internal/secretref"
)

// Resources is what the cutover created or configured, step by step: the
// list a person needs to audit the change or to undo it. It holds IDs,
// names and secret ARNs, never a secret's value.
type Resources struct {
	BreakGlass         *BreakGlassUser                         `json:"breakGlass,omitempty"`
	ServiceProvider    *samlmeta.SP                            `json:"serviceProvider,omitempty"`
	App                *entra.EnterpriseApp                    `json:"app,omitempty"`
	SigningCertificate *SigningCertificate                     `json:"signingCertificate,omitempty"`
	IdPMetadata        *entra.FetchFederationMetadataResult    `json:"idpMetadata,omitempty"`
	GroupAssignments   *GroupAssignments                       `json:"groupAssignments,omitempty"`
	SCIM               *SCIMConnection                         `json:"scim,omitempty"`
	Provisioning       *Provisioning                           `json:"provisioning,omitempty"`
	Verification       *identitycenter.VerifyAssignmentsResult `json:"verification,omitempty"`
}

// BreakGlassUser is the IAM user that opens the console if single sign-on
// fails; its password is in the secret, and nowhere else.
type BreakGlassUser struct {
	UserName   string        `json:"userName"`
	UserARN    string        `json:"userArn"`
	PolicyARNs []string      `json:"policyArns"`
	Password   secretref.Ref `json:"password"`
}

// SigningCertificate is the enterprise app's SAML signing certificate.
type SigningCertificate struct {
	Thumbprint string    `json:"thumbprint"`
	Expires    time.Time `json:"expires"`
}

// GroupAssignments counts the Entra groups assigned to the app's User role.
type GroupAssignments struct {
	AppRoleID       string `json:"appRoleId"`
	Groups          int    `json:"groups"`
	Assigned        int    `json:"assigned"`
	AlreadyAssigned int    `json:"alreadyAssigned"`
}

// SCIMConnection is the SCIM endpoint and the secret holding its token.
type SCIMConnection struct {
	Endpoint string        `json:"endpoint"`
	Token    secretref.Ref `json:"token"`
	// UsersAtVerification is how many users the endpoint held when the
	// token was checked (the users provisioning will adopt).
	UsersAtVerification int `json:"usersAtVerification"`
}

// Provisioning is the Entra provisioning job and what it last reported.
type Provisioning struct {
	JobID          string                             `json:"jobId"`
	TemplateID     string                             `json:"templateId"`
	StartedAt      time.Time                          `json:"startedAt,omitzero"`
	OnDemandGroups int                                `json:"onDemandGroups"`
	Checks         int                                `json:"checks"`
	Last           *entra.ProvisioningJobStatusResult `json:"last,omitempty"`
}

// The deterministic names of what the cutover creates. Activities look for
// these before creating, so a retry or a second run finds instead of
// duplicating.

// BreakGlassUserName is the IAM user name of the break-glass user.
func BreakGlassUserName(identityStoreID string) string {
	return "ssocutover-breakglass-" + identityStoreID
}

// BreakGlassSecretName is the Secrets Manager secret of its password.
func BreakGlassSecretName(identityStoreID string) string {
	return "ssocutover/" + identityStoreID + "/break-glass-password"
}

// SCIMTokenSecretName is the Secrets Manager secret `starter submit-scim`
// keeps the SCIM access token in.
func SCIMTokenSecretName(identityStoreID string) string {
	return "ssocutover/" + identityStoreID + "/scim-token"
}

// EnterpriseAppName is the display name of the Entra enterprise app.
func EnterpriseAppName(identityStoreID string) string {
	return "AWS IAM Identity Center (" + identityStoreID + ")"
}
