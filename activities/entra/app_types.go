package entra

import (
	"time"

	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/internal/model"
	"github.com/platformguide/ssocutover/internal/secretref"
	"github.com/platformguide/ssocutover/internal/store"
)

// Activity names of the cutover's Microsoft steps.
const (
	EnsureEnterpriseAppName     = "EnsureEnterpriseApp"
	ConfigureSAMLName           = "ConfigureSAML"
	FetchFederationMetadataName = "FetchFederationMetadata"
	AssignGroupsToAppName       = "AssignGroupsToApp"
	EnsureProvisioningJobName   = "EnsureProvisioningJob"
	ConfigureProvisioningName   = "ConfigureProvisioning"
	StartProvisioningName       = "StartProvisioning"
	ProvisioningJobStatusName   = "ProvisioningJobStatus"
)

// AWSIdentityCenterTemplateID is the gallery application template "AWS IAM
// Identity Center (successor to AWS Single Sign-On)". The activity checks
// the template's display name too, rather than trusting the ID alone.
const AWSIdentityCenterTemplateID = "21ed01d2-ec13-4e9e-86c1-cd546719ebc4"

// AWSProvisioningTemplateFactoryTag is the factoryTag of the synchronization
// template for AWS IAM Identity Center.
const AWSProvisioningTemplateFactoryTag = "aWSSingleSignon"

// EnsureEnterpriseAppInput names the enterprise application to create from
// the gallery template, or find from an earlier attempt.
type EnsureEnterpriseAppInput struct {
	// DisplayName is deterministic (derived from the identity store ID):
	// it is how a retry finds the app instead of creating a second one.
	DisplayName string `json:"displayName"`
	// TemplateID is AWSIdentityCenterTemplateID unless a test says otherwise.
	TemplateID string `json:"templateId"`
}

// EnsureEnterpriseAppResult is the app, readable by GET when returned.
type EnsureEnterpriseAppResult struct {
	App      model.EnterpriseApp       `json:"app"`
	Created  bool                      `json:"created"`
	APICalls []apicalls.OperationCount `json:"apiCalls"`
}

// ConfigureSAMLInput sets the app up for SAML with the AWS service
// provider's identifier and reply URL (from the SP metadata the person
// downloaded from the Identity Center console).
type ConfigureSAMLInput struct {
	App      model.EnterpriseApp `json:"app"`
	EntityID string              `json:"entityId"`
	ACSURL   string              `json:"acsUrl"`
	// ACSURLs are every assertion consumer service of the SP metadata, the
	// default (ACSURL) first: all become reply URLs, so signing in works at
	// every sign-in host and Region of the instance. Empty means [ACSURL].
	ACSURLs []string `json:"acsUrls,omitempty"`
}

// ConfigureSAMLResult describes the app's active signing certificate.
type ConfigureSAMLResult struct {
	CertificateThumbprint string                    `json:"certificateThumbprint"`
	CertificateExpires    time.Time                 `json:"certificateExpires"`
	APICalls              []apicalls.OperationCount `json:"apiCalls"`
}

// FetchFederationMetadataInput names the app whose SAML IdP metadata to fetch.
type FetchFederationMetadataInput struct {
	TenantID string `json:"tenantId"`
	AppID    string `json:"appId"`
	// CertificateThumbprint, when set, must be the signing certificate in
	// the metadata (so a person never uploads metadata with an old one).
	CertificateThumbprint string `json:"certificateThumbprint,omitempty"`
}

// AssignGroupsToAppInput assigns the Entra groups the preflight matched to
// the app's User role.
type AssignGroupsToAppInput struct {
	App model.EnterpriseApp `json:"app"`
	// Report is the preflight.Report; the groups assigned are the Entra
	// groups matched to AWS groups there (exactly one candidate each).
	Report store.Ref `json:"report"`
	// EntraInventory is the inventory.Entra the report was made from.
	EntraInventory store.Ref `json:"entraInventory"`
}

// MaxGroupIDsInResult bounds AssignGroupsToAppResult.GroupIDs.
const MaxGroupIDsInResult = 20

// AssignGroupsToAppResult counts the assignments.
type AssignGroupsToAppResult struct {
	// GroupAssignments counts the groups assigned to the app's User role
	// (its AppRoleID is looked up on the app).
	model.GroupAssignments
	// GroupIDs are the first MaxGroupIDsInResult of the groups assigned
	// (sorted), candidates for on-demand provisioning. The full list is the
	// app's appRoleAssignedTo: an organisation's 10,000 group IDs would not
	// fit in a history payload.
	GroupIDs []string `json:"groupIds"`
	// Skipped are the display names of matched groups left unassigned
	// because they are not security-enabled (a preflight blocker that was
	// overridden): Entra cannot assign them.
	Skipped  []string                  `json:"skipped,omitempty"`
	APICalls []apicalls.OperationCount `json:"apiCalls"`
}

// EnsureProvisioningJobInput names the app whose provisioning job to create
// from the aWSSingleSignon template, or find.
type EnsureProvisioningJobInput struct {
	App model.EnterpriseApp `json:"app"`
}

// EnsureProvisioningJobResult names the job.
type EnsureProvisioningJobResult struct {
	JobID      string                    `json:"jobId"`
	TemplateID string                    `json:"templateId"`
	Created    bool                      `json:"created"`
	APICalls   []apicalls.OperationCount `json:"apiCalls"`
}

// ConfigureProvisioningInput saves the SCIM endpoint and token as the job's
// secrets (BaseAddress, SecretToken, SyncAll false) and tests them with
// validateCredentials. The token is read from Secrets Manager here and
// nowhere else.
type ConfigureProvisioningInput struct {
	App          model.EnterpriseApp `json:"app"`
	JobID        string              `json:"jobId"`
	SCIMEndpoint string              `json:"scimEndpoint"`
	SCIMToken    secretref.Ref       `json:"scimToken"`
	// NotificationEmail, when set, gets Entra's provisioning failure emails.
	NotificationEmail string `json:"notificationEmail,omitempty"`
	// DeleteThreshold is the accidental-deletion threshold saved with the
	// credentials (workflows.DefaultDeleteThreshold when 0).
	DeleteThreshold int `json:"deleteThreshold,omitempty"`
}

// ConfigureProvisioningResult says the credentials were accepted.
type ConfigureProvisioningResult struct {
	APICalls []apicalls.OperationCount `json:"apiCalls"`
}

// StartProvisioningInput starts the job and asks for on-demand provisioning
// of the assigned groups where the API allows it.
type StartProvisioningInput struct {
	App      model.EnterpriseApp `json:"app"`
	JobID    string              `json:"jobId"`
	GroupIDs []string            `json:"groupIds"`
}

// StartProvisioningResult says what was started.
type StartProvisioningResult struct {
	// OnDemandGroups were provisioned on demand; the rest wait for the cycle.
	OnDemandGroups int                       `json:"onDemandGroups"`
	APICalls       []apicalls.OperationCount `json:"apiCalls"`
}

// ProvisioningJobStatusInput names the job.
type ProvisioningJobStatusInput struct {
	App   model.EnterpriseApp `json:"app"`
	JobID string              `json:"jobId"`
}

// Error types of the cutover's Microsoft steps.
const (
	// ErrSCIMCredentialsRejected: Entra's validateCredentials refused the
	// SCIM endpoint or token; the person must submit others.
	ErrSCIMCredentialsRejected = "SCIMCredentialsRejected"
	// ErrSCIMEndpointUnavailable: Entra's credential test met the SCIM
	// endpoint's rate limit or a server error; retried, never shown as a
	// refusal.
	ErrSCIMEndpointUnavailable = "SCIMEndpointUnavailable"
)
