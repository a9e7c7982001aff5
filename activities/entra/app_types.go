package entra

import (
	"time"

	"github.com/platformguide/ssocutover/internal/apicalls"
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

// EnterpriseApp names the enterprise application the cutover created.
type EnterpriseApp struct {
	DisplayName string `json:"displayName" yaml:"displayName"`
	// AppID is the application (client) ID, used in the federation metadata URL.
	AppID string `json:"appId" yaml:"appId"`
	// ApplicationObjectID is the application object's ID (/applications/{id}).
	ApplicationObjectID string `json:"applicationObjectId" yaml:"applicationObjectId"`
	// ServicePrincipalID is the enterprise app (/servicePrincipals/{id}).
	ServicePrincipalID string `json:"servicePrincipalId" yaml:"servicePrincipalId"`
}

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
	App      EnterpriseApp             `json:"app"`
	Created  bool                      `json:"created"`
	APICalls []apicalls.OperationCount `json:"apiCalls"`
}

// ConfigureSAMLInput sets the app up for SAML with the AWS service
// provider's identifier and reply URL (from the SP metadata the person
// downloaded from the Identity Center console).
type ConfigureSAMLInput struct {
	App      EnterpriseApp `json:"app"`
	EntityID string        `json:"entityId"`
	ACSURL   string        `json:"acsUrl"`
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

// FetchFederationMetadataResult is the validated metadata. It is public (no
// secret in it) and a few KiB, so it travels in history and status, and
// `starter metadata` can write it out for the person to upload.
type FetchFederationMetadataResult struct {
	MetadataXML           string    `json:"metadataXml"`
	EntityID              string    `json:"entityId"`
	SignOnURL             string    `json:"signOnUrl"`
	CertificateThumbprint string    `json:"certificateThumbprint"`
	CertificateExpires    time.Time `json:"certificateExpires"`
}

// AssignGroupsToAppInput assigns the Entra groups the preflight matched to
// the app's User role.
type AssignGroupsToAppInput struct {
	App EnterpriseApp `json:"app"`
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
	// AppRoleID is the ID of the role named User, looked up on the app.
	AppRoleID       string `json:"appRoleId"`
	Groups          int    `json:"groups"`
	Assigned        int    `json:"assigned"`
	AlreadyAssigned int    `json:"alreadyAssigned"`
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
	App EnterpriseApp `json:"app"`
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
	App          EnterpriseApp `json:"app"`
	JobID        string        `json:"jobId"`
	SCIMEndpoint string        `json:"scimEndpoint"`
	SCIMToken    secretref.Ref `json:"scimToken"`
	// NotificationEmail, when set, gets Entra's provisioning failure emails.
	NotificationEmail string `json:"notificationEmail,omitempty"`
}

// ConfigureProvisioningResult says the credentials were accepted.
type ConfigureProvisioningResult struct {
	APICalls []apicalls.OperationCount `json:"apiCalls"`
}

// StartProvisioningInput starts the job and asks for on-demand provisioning
// of the assigned groups where the API allows it.
type StartProvisioningInput struct {
	App      EnterpriseApp `json:"app"`
	JobID    string        `json:"jobId"`
	GroupIDs []string      `json:"groupIds"`
}

// StartProvisioningResult says what was started.
type StartProvisioningResult struct {
	// OnDemandGroups were provisioned on demand; the rest wait for the cycle.
	OnDemandGroups int                       `json:"onDemandGroups"`
	APICalls       []apicalls.OperationCount `json:"apiCalls"`
}

// ProvisioningJobStatusInput names the job.
type ProvisioningJobStatusInput struct {
	App   EnterpriseApp `json:"app"`
	JobID string        `json:"jobId"`
}

// Provisioning job status codes, as Graph reports them.
const (
	JobActive     = "Active"
	JobPaused     = "Paused"
	JobQuarantine = "Quarantine"
	JobNotRun     = "NotRun"
)

// ProvisioningJobStatusResult is what the job reports about itself.
type ProvisioningJobStatusResult struct {
	// Code is JobActive, JobPaused, JobQuarantine or JobNotRun.
	Code string `json:"code"`
	// QuarantineReason says why, when Code is JobQuarantine.
	QuarantineReason string `json:"quarantineReason,omitempty"`
	// QuarantineErrorCode is the code of the error that caused the
	// quarantine (a credential failure means the SCIM token no longer works).
	QuarantineErrorCode string `json:"quarantineErrorCode,omitempty"`
	// LastExecutionState is the state of the last cycle (Succeeded,
	// Failed, ...); LastExecutionEnded when it ended.
	LastExecutionState string    `json:"lastExecutionState,omitempty"`
	LastExecutionEnded time.Time `json:"lastExecutionEnded,omitzero"`
	// LastExecutionError is the last cycle's error, if any.
	LastExecutionError string `json:"lastExecutionError,omitempty"`
	// SteadyStateAchieved is when the job last had nothing left to do.
	SteadyStateAchieved time.Time `json:"steadyStateAchieved,omitzero"`
	// Provisioned counts objects in the target by type ("User", "Group").
	Provisioned map[string]int `json:"provisioned,omitempty"`
	// Escrowed counts objects the job keeps failing on.
	Escrowed int                       `json:"escrowed"`
	APICalls []apicalls.OperationCount `json:"apiCalls"`
}

// Error types of the cutover's Microsoft steps.
const (
	// ErrSCIMCredentialsRejected: Entra's validateCredentials refused the
	// SCIM endpoint or token; the person must submit others.
	ErrSCIMCredentialsRejected = "SCIMCredentialsRejected"
)
