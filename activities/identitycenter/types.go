package identitycenter

import (
	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/internal/progress"
	"github.com/platformguide/ssocutover/internal/store"
)

// Activity names, as registered with the worker and called by the workflow.
const (
	InventoryAWSName = "InventoryAWS"
)

// InventoryAWSInput names the Identity Center instance to snapshot.
type InventoryAWSInput struct {
	IdentityStoreID string `json:"identityStoreId"`
	// InstanceARN may be empty: the instance of IdentityStoreID is looked up.
	InstanceARN string `json:"instanceArn,omitempty"`
}

// InventoryAWSResult points at the stored inventory.AWS snapshot and counts it.
type InventoryAWSResult struct {
	Inventory      store.Ref                 `json:"inventory"`
	InstanceARN    string                    `json:"instanceArn"`
	Groups         int                       `json:"groups"`
	Users          int                       `json:"users"`
	Assignments    int                       `json:"assignments"`
	Accounts       int                       `json:"accounts"`
	PermissionSets int                       `json:"permissionSets"`
	APICalls       []apicalls.OperationCount `json:"apiCalls"`
	// AssignmentListing says how the assignments were listed and why.
	AssignmentListing preflight.AssignmentListing `json:"assignmentListing"`
	// UnresolvedPrincipals counts assignments whose group or user was not
	// found in the identity store (deleted while the assignment stayed).
	// They are in the inventory with an empty principal name: nothing can
	// carry them across the switch, so the analysis may report them.
	UnresolvedPrincipals int `json:"unresolvedPrincipals,omitempty"`
}

// Progress is the heartbeat detail of a running inventory: the step it is in
// and how far that step has come, so a long inventory shows progress in the
// Temporal UI and to the starter.
type Progress = progress.Progress

// Error types of the non-retryable errors the activities return, for the
// workflow and for scripts that match on them.
const (
	// ErrInvalidRequest: the request is incomplete or malformed.
	ErrInvalidRequest = "InvalidRequest"
	// ErrInstanceNotFound: no Identity Center instance with that identity
	// store (or instance ARN) in the worker's region.
	ErrInstanceNotFound = "InstanceNotFound"
	// ErrAccessDenied: the worker's AWS credentials are refused or lack a
	// permission.
	ErrAccessDenied = "AccessDenied"
)
