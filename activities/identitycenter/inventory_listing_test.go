package identitycenter

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/world"
)

// wideWorld is an organisation with few principals and many provisioned
// pairs: 12 users in 3 groups, 40 accounts and 5 permission sets (200
// pairs). One group holds 150 assignments, so that its per-principal
// listing pages; the other two 60 each among the same 150 pairs; two users
// hold one each, on a 151st pair.
func wideWorld() *world.World {
	w := smallWorld()
	w.AWS.Users, w.AWS.Groups, w.AWS.Assignments, w.AWS.Accounts = nil, nil, nil, nil
	w.AWS.PermissionSets = []world.PermissionSet{{Name: "AdministratorAccess"}, {Name: "Developer"}, {Name: "ReadOnlyAccess"}, {Name: "Billing"}, {Name: "Network"}}
	for i := range 40 {
		w.AWS.Accounts = append(w.AWS.Accounts, world.Account{ID: fmt.Sprintf("%012d", 500000000000+i), Name: fmt.Sprintf("account-%02d", i)})
	}
	for i := range 12 {
		name := fmt.Sprintf("user%02d@corp.example", i)
		w.AWS.Users = append(w.AWS.Users, world.AWSUser{UserName: name, GivenName: "User", FamilyName: fmt.Sprint(i), DisplayName: "User " + fmt.Sprint(i), Email: name})
	}
	for k, size := range []int{150, 60, 60} {
		g := world.AWSGroup{DisplayName: fmt.Sprintf("team-%d", k)}
		for i := k; i < 12; i += 3 {
			g.Members = append(g.Members, w.AWS.Users[i].UserName)
		}
		w.AWS.Groups = append(w.AWS.Groups, g)
		for n := range size {
			pair := (n + 45*k) % 150
			w.AWS.Assignments = append(w.AWS.Assignments, world.Assignment{Group: g.DisplayName,
				Account: w.AWS.Accounts[pair%40].ID, PermissionSet: w.AWS.PermissionSets[pair/40].Name})
		}
	}
	for i := range 2 {
		w.AWS.Assignments = append(w.AWS.Assignments, world.Assignment{User: w.AWS.Users[i].UserName, Account: w.AWS.Accounts[39].ID, PermissionSet: "Network"})
	}
	return w
}

// TestInventoryListsTheSameSnapshotEitherWay lists a tall and a wide world
// per pair and per principal: the documents are the same, and each way
// makes the fewest calls the APIs allow for it.
func TestInventoryListsTheSameSnapshotEitherWay(t *testing.T) {
	for name, w := range map[string]*world.World{"tall": largeWorld(), "wide": wideWorld()} {
		t.Run(name, func(t *testing.T) {
			a := setup(t, w, sandbox.Faults{}, region)
			results := map[string]InventoryAWSResult{}
			for _, listing := range []string{preflight.ListPerPair, preflight.ListPerPrincipal} {
				a.listing = listing
				res, _, err := execute(t, a, InventoryAWSInput{IdentityStoreID: storeID})
				require.NoError(t, err)
				require.Equal(t, listing, res.AssignmentListing.Strategy)
				require.Equal(t, fewestCalls(w, listing), countsByOperation(res.APICalls), listing)
				requireInventory(t, w, load(t, a, res.Inventory))
				results[listing] = res
			}
			require.Equal(t, results[preflight.ListPerPair].Inventory, results[preflight.ListPerPrincipal].Inventory, "same document, same digest")
		})
	}
}

// TestInventoryChoosesTheCheaperListing: the tall world has fewer pairs
// than principals, the wide world fewer principals than pairs; each is
// listed the cheaper way, and the result says why.
func TestInventoryChoosesTheCheaperListing(t *testing.T) {
	for _, tc := range []struct {
		name       string
		world      *world.World
		strategy   string
		pairs      int
		principals int
	}{
		{"tall", largeWorld(), preflight.ListPerPair, 105 + 19 + 1, 250 + 30},
		{"wide", wideWorld(), preflight.ListPerPrincipal, 151, 12 + 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := setup(t, tc.world, sandbox.Faults{}, region)
			res, _, err := execute(t, a, InventoryAWSInput{IdentityStoreID: storeID})
			require.NoError(t, err)
			l := res.AssignmentListing
			require.Equal(t, tc.strategy, l.Strategy)
			require.Equal(t, tc.pairs, l.Pairs)
			require.Equal(t, tc.principals, l.Principals)
			require.Contains(t, l.Reason, fmt.Sprint(tc.pairs))
			require.Contains(t, l.Reason, fmt.Sprint(tc.principals))
			require.Equal(t, fewestCalls(tc.world, tc.strategy), countsByOperation(res.APICalls))
		})
	}
}

// TestInventoryFallsBackToPerPairWhenPerPrincipalIsRefused: from a
// delegated administrator account AWS refuses the per-principal listing;
// the wide world is listed per pair after that one refused call, and the
// result says why.
func TestInventoryFallsBackToPerPairWhenPerPrincipalIsRefused(t *testing.T) {
	w := wideWorld()
	want, _, err := execute(t, setup(t, w, sandbox.Faults{}, region), InventoryAWSInput{IdentityStoreID: storeID})
	require.NoError(t, err)
	require.Equal(t, preflight.ListPerPrincipal, want.AssignmentListing.Strategy)

	w.AWS.DelegatedAdministrator = w.AWS.Accounts[1].ID
	got, _, err := execute(t, setup(t, w, sandbox.Faults{}, region), InventoryAWSInput{IdentityStoreID: storeID})
	require.NoError(t, err)
	require.Equal(t, preflight.ListPerPair, got.AssignmentListing.Strategy)
	require.Contains(t, got.AssignmentListing.Reason, "management account")
	require.Equal(t, want.Inventory, got.Inventory)
	calls := countsByOperation(got.APICalls)
	require.Equal(t, 1, calls["sso-admin:ListAccountAssignmentsForPrincipal"], "refused once, not tried for every principal")
	delete(calls, "sso-admin:ListAccountAssignmentsForPrincipal")
	require.Equal(t, fewestCalls(w, preflight.ListPerPair), calls)
}
