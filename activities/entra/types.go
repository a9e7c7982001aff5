package entra

import (
	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/internal/progress"
	"github.com/platformguide/ssocutover/internal/store"
)

// Activity names, as registered with the worker and called by the workflow.
const (
	InventoryEntraName = "InventoryEntra"
)

// InventoryEntraInput points at the AWS snapshot whose groups and users are
// looked up in Entra.
type InventoryEntraInput struct {
	TenantID     string    `json:"tenantId"`
	AWSInventory store.Ref `json:"awsInventory"`
	// AppDisplayName is the cutover's enterprise app: when it exists, the
	// user mappings are read from its provisioning job (or template).
	AppDisplayName string `json:"appDisplayName,omitempty"`
}

// InventoryEntraResult points at the stored inventory.Entra and counts it.
type InventoryEntraResult struct {
	Inventory store.Ref `json:"inventory"`
	// Groups is the number of display names looked up; Candidates the
	// Entra groups found for them.
	Groups     int                       `json:"groups"`
	Candidates int                       `json:"candidates"`
	Users      int                       `json:"users"`
	APICalls   []apicalls.OperationCount `json:"apiCalls"`
	// UserMappings is where the user mappings were read, and what differs
	// from the gallery's ("the provisioning job's schema ...; changed:
	// userName ← [mail]").
	UserMappings string `json:"userMappings,omitempty"`
}

// Progress is the heartbeat detail of a running inventory: the step it is in
// and how far that step has come, so a long inventory shows progress in the
// Temporal UI and to the starter.
type Progress = progress.Progress

// Error types of the non-retryable errors the activities return, for the
// workflow and for scripts that match on them.
const (
	// ErrInvalidRequest: Graph refused a request as malformed, or the input
	// is incomplete.
	ErrInvalidRequest = "InvalidRequest"
	// ErrAccessDenied: Graph did not accept the worker's credentials, or
	// the app registration lacks a permission.
	ErrAccessDenied = "AccessDenied"
)
