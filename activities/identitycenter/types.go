package identitycenter

import (
	"github.com/platformguide/ssocutover/internal/apicalls"
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
}
