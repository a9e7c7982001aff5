// Package entra holds the activities that read (and, later, change)
// Microsoft Entra ID through Microsoft Graph: the groups and users of the
// tenant that the cutover maps the Identity Center groups and users to.
package entra

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/internal/graphclient"
	"github.com/platformguide/ssocutover/internal/progress"
	"github.com/platformguide/ssocutover/internal/secretstore"
	"github.com/platformguide/ssocutover/internal/store"
)

// DefaultConcurrency is how many $batch calls an activity has in flight at
// once when Activities.Concurrency is zero. The pace is set by the HTTP
// client's rate limiter (internal/graphclient); concurrency only hides the
// latency.
const DefaultConcurrency = 4

// Activities are the Entra activities. The worker registers one value; its
// methods are the activities, named by the constants in types.go.
type Activities struct {
	Graph *graphclient.Client
	// Store keeps the inventories out of workflow history.
	Store store.Store
	// Concurrency bounds the $batch calls in flight per activity; 0 means
	// DefaultConcurrency.
	Concurrency int

	// The enterprise app activities (app*.go):
	//
	// AppVisibilityWait is how long they wait for Entra to show an app it
	// has just created, or for a retry to find the app an earlier attempt
	// may have created; 0 means DefaultAppVisibilityWait.
	AppVisibilityWait time.Duration
	// LoginBaseURL is where Entra publishes federation metadata; empty
	// means DefaultLoginBaseURL. The sandbox serves it on its Graph URL.
	LoginBaseURL string
	// LoginHTTPClient downloads the federation metadata; nil means a plain
	// client with a timeout.
	LoginHTTPClient *http.Client

	// groupsPerChunk, when set, is how many groups the inventory reads
	// between two checkpoints: tests checkpoint small tenants.
	groupsPerChunk int

	// Secrets reads the SCIM token for ConfigureProvisioning
	// (provisioning.go), the only place the token is read.
	Secrets secretstore.API
}

func (a *Activities) concurrency() int {
	if a.Concurrency > 0 {
		return a.Concurrency
	}
	return DefaultConcurrency
}

// InventoryEntra looks up in Entra the groups and users of the AWS snapshot
// in.AWSInventory: every Entra group whose display name equals an AWS
// group's (ignoring case), with its owners, direct members and the users it
// reaches only through nested groups; the direct user members of those
// groups; and every AWS user's Entra namesake by userPrincipalName. It
// stores the inventory.Entra and returns its reference.
//
// It makes the fewest Graph calls it can: requests go 20 to a $batch, name
// lookups 15 to a $filter, and a lookup by name is replaced by one listing
// of the whole tenant when that takes fewer calls.
func (a *Activities) InventoryEntra(ctx context.Context, in InventoryEntraInput) (InventoryEntraResult, error) {
	if a.Graph == nil || a.Store == nil {
		return InventoryEntraResult{}, temporal.NewNonRetryableApplicationError("the Entra activities have no Graph client or store: the worker is misconfigured", ErrInvalidRequest, nil)
	}
	if in.AWSInventory.Key == "" {
		return InventoryEntraResult{}, temporal.NewNonRetryableApplicationError("InventoryEntra needs the reference of the AWS inventory (awsInventory)", ErrInvalidRequest, nil)
	}
	calls := apicalls.NewCounter()
	ctx = apicalls.WithCounter(ctx, calls)

	var aws awsNames
	if err := a.Store.Get(ctx, in.AWSInventory, &aws); err != nil {
		return InventoryEntraResult{}, fmt.Errorf("read the AWS inventory: %w", err)
	}
	run := &inventoryRun{
		graph:       a.Graph,
		concurrency: a.concurrency(),
		progress:    progress.New(ctx, nil),
		aws:         aws,
		store:       a.Store,
		// A retry resumes from the last checkpoint (inventory_checkpoint.go).
		groupsPerChunk: a.groupsPerChunk,
	}
	inv, err := run.inventory(ctx, in.TenantID, in.AppDisplayName)
	if err != nil {
		return InventoryEntraResult{}, err
	}
	ref, err := a.Store.Put(ctx, "entra-inventory", inv)
	if err != nil {
		return InventoryEntraResult{}, fmt.Errorf("store the Entra inventory: %w", err)
	}
	candidates := 0
	for _, m := range inv.Groups {
		candidates += len(m.Candidates)
	}
	return InventoryEntraResult{
		Inventory:    ref,
		Groups:       len(inv.Groups),
		Candidates:   candidates,
		Users:        len(inv.Users),
		APICalls:     calls.Counts(),
		UserMappings: describeMappings(inv.Mappings),
	}, nil
}
