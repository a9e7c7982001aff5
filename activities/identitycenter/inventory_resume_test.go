package identitycenter

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/world"
)

// dyingSSOAdmin lets the first `lives` assignment-listing calls through and
// fails every later one, as a worker that dies half-way through the
// listing: nothing after that point reaches AWS.
type dyingSSOAdmin struct {
	SSOAdminAPI
	lives  atomic.Int32
	listed atomic.Int32 // listing calls that reached AWS
}

var errWorkerDied = errors.New("the worker died")

func (d *dyingSSOAdmin) live() bool {
	if d.lives.Add(-1) < 0 {
		return false
	}
	d.listed.Add(1)
	return true
}

func (d *dyingSSOAdmin) ListAccountAssignments(ctx context.Context, in *ssoadmin.ListAccountAssignmentsInput, opts ...func(*ssoadmin.Options)) (*ssoadmin.ListAccountAssignmentsOutput, error) {
	if !d.live() {
		return nil, errWorkerDied
	}
	return d.SSOAdminAPI.ListAccountAssignments(ctx, in, opts...)
}

func (d *dyingSSOAdmin) ListAccountAssignmentsForPrincipal(ctx context.Context, in *ssoadmin.ListAccountAssignmentsForPrincipalInput, opts ...func(*ssoadmin.Options)) (*ssoadmin.ListAccountAssignmentsForPrincipalOutput, error) {
	if !d.live() {
		return nil, errWorkerDied
	}
	return d.SSOAdminAPI.ListAccountAssignmentsForPrincipal(ctx, in, opts...)
}

// TestInventoryResumesWhereTheDeadAttemptLeftOff: an attempt dies half-way
// through the assignment listing; the retry reads the users, groups and
// pairs from the checkpoint, lists only what no stored batch holds, and
// gives the same snapshot as an inventory that never died. Both listings.
func TestInventoryResumesWhereTheDeadAttemptLeftOff(t *testing.T) {
	for _, tc := range []struct {
		name, listing, operation string
		w                        *world.World
	}{
		{"per pair", preflight.ListPerPair, "sso-admin:ListAccountAssignments", largeWorld()},
		{"per principal", preflight.ListPerPrincipal, "sso-admin:ListAccountAssignmentsForPrincipal", largeWorld()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := setup(t, tc.w, sandbox.Faults{}, region)
			a.listing, a.checkpointEvery, a.Concurrency = tc.listing, 10, 4
			fewest := fewestCalls(tc.w, tc.listing)
			real := a.SSOAdmin
			dying := &dyingSSOAdmin{SSOAdminAPI: real}
			dying.lives.Store(int32(fewest[tc.operation] / 2))
			a.SSOAdmin = dying
			var (
				mu   sync.Mutex
				last Progress
			)
			a.onProgress = func(p Progress) { mu.Lock(); last = p; mu.Unlock() }

			_, _, err := execute(t, a, InventoryAWSInput{IdentityStoreID: storeID})
			require.ErrorContains(t, err, errWorkerDied.Error())
			require.NotEmpty(t, last.Checkpoint, "the dead attempt left a checkpoint in its heartbeats")

			a.SSOAdmin, a.onProgress = real, nil
			res, _, err := executeResuming(t, a, InventoryAWSInput{IdentityStoreID: storeID}, &last)
			require.NoError(t, err)
			requireInventory(t, tc.w, load(t, a, res.Inventory))
			require.Equal(t, tc.listing, res.AssignmentListing.Strategy)

			calls := countsByOperation(res.APICalls)
			for _, op := range []string{"identitystore:ListUsers", "identitystore:ListGroups", "sso-admin:ListPermissionSets",
				"sso-admin:DescribePermissionSet", "sso-admin:ListAccountsForProvisionedPermissionSet"} {
				require.Zero(t, calls[op], "%s: read from the checkpoint", op)
			}
			require.Less(t, calls["identitystore:ListGroupMemberships"], fewest["identitystore:ListGroupMemberships"], "the members of groups the dead attempt listed are stored")
			// What the dead attempt listed after its last batch (fewer than
			// checkpointEvery units and groups) and the calls it had in
			// flight are all that is listed twice.
			listedTwice := int(dying.listed.Load()) + calls[tc.operation] - fewest[tc.operation]
			require.GreaterOrEqual(t, listedTwice, 0)
			require.LessOrEqual(t, listedTwice, a.checkpointEvery+a.Concurrency)
			require.Less(t, calls[tc.operation], fewest[tc.operation], "the retry lists only what is left")
		})
	}
}

// TestInventoryWithoutACheckpointStartsAfresh: heartbeat details of another
// shape (an older worker's progress, no checkpoint) are no checkpoint.
func TestInventoryWithoutACheckpointStartsAfresh(t *testing.T) {
	w := smallWorld()
	a := setup(t, w, sandbox.Faults{}, region)
	res, _, err := executeResuming(t, a, InventoryAWSInput{IdentityStoreID: storeID}, &Progress{Step: "users", Done: 3, Total: 5})
	require.NoError(t, err)
	requireInventory(t, w, load(t, a, res.Inventory))
	require.Equal(t, fewestCalls(w, preflight.ListPerPair), countsByOperation(res.APICalls))
}
