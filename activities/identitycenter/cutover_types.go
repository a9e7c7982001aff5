package identitycenter

import (
	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/internal/model"
	"github.com/platformguide/ssocutover/internal/store"
)

// Activity names of the cutover's AWS steps.
const (
	EnsureBreakGlassUserName = "EnsureBreakGlassUser"
	VerifyAssignmentsName    = "VerifyAssignments"
)

// DefaultBreakGlassPolicyARN lets the break-glass user administer Identity
// Center (and so revert its identity source) when nobody can sign in through it.
const DefaultBreakGlassPolicyARN = "arn:aws:iam::aws:policy/AWSSSOMasterAccountAdministrator"

// EnsureBreakGlassUserInput describes the break-glass IAM user: a user with
// a console password (kept only in Secrets Manager) that opens the
// management account if single sign-on stops working.
type EnsureBreakGlassUserInput struct {
	// WorkflowID of the cutover; the user and the secret are tagged with it,
	// and a user of that name tagged for another cutover is refused.
	WorkflowID string `json:"workflowId"`
	// UserName is deterministic (derived from the identity store ID), so a
	// retry finds the user instead of creating a second.
	UserName string `json:"userName"`
	// SecretName is where the console password is kept.
	SecretName string `json:"secretName"`
	// PolicyARNs are attached to the user; empty means DefaultBreakGlassPolicyARN.
	PolicyARNs []string `json:"policyArns,omitempty"`
	// InstanceARN, when set, is the Identity Center instance: the result
	// says which account owns it, beside the account the user is in.
	InstanceARN string `json:"instanceArn,omitempty"`
}

// EnsureBreakGlassUserResult names what exists after the activity, created
// now or found from an earlier attempt. It never holds the password.
type EnsureBreakGlassUserResult struct {
	// BreakGlassUser is the user, its policies and the secret version
	// that holds its console password.
	model.BreakGlassUser
	// Created is false when every part already existed.
	Created  bool                      `json:"created"`
	APICalls []apicalls.OperationCount `json:"apiCalls"`
}

// VerifyAssignmentsInput compares the Identity Center instance, after
// provisioning, with the snapshot taken before the switch.
type VerifyAssignmentsInput struct {
	// InstanceARN of the instance; its identity store ID is looked up again,
	// because switching the identity source may change it.
	InstanceARN string `json:"instanceArn"`
	// Snapshot is the inventory.AWS taken by the preflight.
	Snapshot store.Ref `json:"snapshot"`
	// Restore creates the snapshot's account assignments that are missing,
	// for principals that exist again (by group display name or user name).
	// Nothing is ever deleted.
	Restore bool `json:"restore"`
}
