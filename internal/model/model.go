// Package model defines once the things that the activities report, the
// workflows keep in their status, and the starter shows: the enterprise
// app, the provisioning job's status, the federation metadata and the
// verification of assignments. Their JSON is what history holds, so a
// change to a field's name is a change to the workflows' contract.
package model

import (
	"time"

	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/internal/secretref"
	"github.com/platformguide/ssocutover/internal/store"
)

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

// FederationMetadata is the enterprise app's validated federation metadata. It is public (no
// secret in it) and a few KiB, so it travels in history and status, and
// `starter metadata` can write it out for the person to upload.
type FederationMetadata struct {
	MetadataXML           string    `json:"metadataXml"`
	EntityID              string    `json:"entityId"`
	SignOnURL             string    `json:"signOnUrl"`
	CertificateThumbprint string    `json:"certificateThumbprint"`
	CertificateExpires    time.Time `json:"certificateExpires"`
}

// Provisioning job status codes, as Graph reports them (ProvisioningJobStatus.Code).
const (
	JobActive     = "Active"
	JobPaused     = "Paused"
	JobQuarantine = "Quarantine"
	JobNotRun     = "NotRun"
)

// ProvisioningJobStatus is what Entra's provisioning job reports about
// itself.
type ProvisioningJobStatus struct {
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

// AssignmentVerification counts what the comparison of Identity Center
// with the snapshot found and points at the
// stored report (an AssignmentReport) that lists every difference.
type AssignmentVerification struct {
	IdentityStoreID string `json:"identityStoreId"`

	GroupsExpected int `json:"groupsExpected"`
	GroupsPresent  int `json:"groupsPresent"`
	// MembersMissing counts snapshot memberships (group display name, user
	// name) not found after provisioning.
	MembersExpected int `json:"membersExpected"`
	MembersMissing  int `json:"membersMissing"`
	UsersExpected   int `json:"usersExpected"`
	UsersPresent    int `json:"usersPresent"`

	AssignmentsExpected int `json:"assignmentsExpected"`
	AssignmentsPresent  int `json:"assignmentsPresent"`
	// AssignmentsRestored were missing and created by this run.
	AssignmentsRestored int `json:"assignmentsRestored"`
	// AssignmentsMissing are still missing: their principal does not exist
	// (yet), or Restore was false, or creating them failed.
	AssignmentsMissing int `json:"assignmentsMissing"`
	// AssignmentsRefused are the commands that create the missing
	// assignments AWS refused to the worker's account (a delegated
	// administrator's, in the management account), to run with the
	// management account's credentials. They count as missing.
	AssignmentsRefused []string `json:"assignmentsRefused,omitempty"`

	// The same for the assignments of users and groups to applications.
	ApplicationAssignmentsExpected int `json:"applicationAssignmentsExpected,omitempty"`
	ApplicationAssignmentsPresent  int `json:"applicationAssignmentsPresent,omitempty"`
	ApplicationAssignmentsRestored int `json:"applicationAssignmentsRestored,omitempty"`
	ApplicationAssignmentsMissing  int `json:"applicationAssignmentsMissing,omitempty"`

	Report   store.Ref                 `json:"report"`
	APICalls []apicalls.OperationCount `json:"apiCalls"`
}

// Complete reports whether everything in the snapshot is present.
func (r AssignmentVerification) Complete() bool {
	return r.GroupsPresent == r.GroupsExpected && r.UsersPresent == r.UsersExpected &&
		r.MembersMissing == 0 && r.AssignmentsMissing == 0 && r.ApplicationAssignmentsMissing == 0
}

// BreakGlassUser is the IAM user that opens the console if single sign-on
// fails; its password is in the secret, and nowhere else.
type BreakGlassUser struct {
	UserName   string        `json:"userName"`
	UserARN    string        `json:"userArn"`
	PolicyARNs []string      `json:"policyArns"`
	Password   secretref.Ref `json:"password"`
	// Account is the AWS account the user is in: the worker's, which
	// administers Identity Center. InstanceOwnerAccount is the account that
	// owns the instance (the organisation's management account); they
	// differ when the worker runs in a delegated administrator account.
	Account              string `json:"account,omitempty"`
	InstanceOwnerAccount string `json:"instanceOwnerAccount,omitempty"`
}

// InDelegatedAdministrator reports whether the user is in another account
// than the one that owns the instance.
func (u BreakGlassUser) InDelegatedAdministrator() bool {
	return u.Account != "" && u.InstanceOwnerAccount != "" && u.Account != u.InstanceOwnerAccount
}

// GroupAssignments counts the Entra groups assigned to the app's User role.
type GroupAssignments struct {
	AppRoleID       string `json:"appRoleId"`
	Groups          int    `json:"groups"`
	Assigned        int    `json:"assigned"`
	AlreadyAssigned int    `json:"alreadyAssigned"`
}
