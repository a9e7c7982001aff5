package identitycenter

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/platformguide/ssocutover/internal/preflight"

	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"

	"github.com/platformguide/ssocutover/internal/activitytest"
	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/internal/awsclient"
	"github.com/platformguide/ssocutover/internal/store"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/world"
	"github.com/platformguide/ssocutover/sandbox/worldinv"
)

const (
	region      = "eu-west-1"
	storeID     = "d-1234567890"
	instanceARN = "arn:aws:sso:::instance/ssoins-1234567890abcdef"
	prod        = "111111111111"
	dev         = "222222222222"
)

// smallWorld: aws-admins (alice) is admin in prod; aws-readers (alice, bob)
// read prod and dev; carol is admin in dev directly; dave is only in an
// unassigned group and erin in none: neither holds access.
func smallWorld() *world.World {
	user := func(name, given, family string) world.AWSUser {
		return world.AWSUser{UserName: name + "@corp.example", GivenName: given, FamilyName: family, DisplayName: given + " " + family, Email: name + "@corp.example"}
	}
	return &world.World{
		AWS: world.AWS{
			Region: region, IdentityStoreID: storeID, InstanceARN: instanceARN,
			Accounts:       []world.Account{{ID: prod, Name: "prod"}, {ID: dev, Name: "dev"}, {ID: "333333333333", Name: "sandbox"}},
			PermissionSets: []world.PermissionSet{{Name: "AdministratorAccess"}, {Name: "ReadOnlyAccess"}, {Name: "Unused"}},
			Users: []world.AWSUser{user("alice", "Alice", "Ng"), user("bob", "Bob", "Stone"), user("carol", "Carol", "Diaz"),
				user("dave", "Dave", "Ito"), user("erin", "Erin", "Olsen")},
			Groups: []world.AWSGroup{
				{DisplayName: "aws-admins", Members: []string{"alice@corp.example"}},
				{DisplayName: "aws-readers", Members: []string{"bob@corp.example", "alice@corp.example"}},
				{DisplayName: "unused", Members: []string{"dave@corp.example"}},
			},
			Assignments: []world.Assignment{
				{Group: "aws-readers", Account: dev, PermissionSet: "ReadOnlyAccess"},
				{Group: "aws-admins", Account: prod, PermissionSet: "AdministratorAccess"},
				{Group: "aws-readers", Account: prod, PermissionSet: "ReadOnlyAccess"},
				{User: "carol@corp.example", Account: dev, PermissionSet: "AdministratorAccess"},
			},
		},
		Entra: world.Entra{TenantID: "00000000-0000-0000-0000-000000000001"},
	}
}

// largeWorld has 250 users and 30 groups, so every list pages: "everyone"
// (200 members) reads all 105 accounts; 19 teams are developers in one
// account each; 10 teams hold nothing; 110 users are admins of the first
// account directly.
func largeWorld() *world.World {
	w := smallWorld()
	w.AWS.Users, w.AWS.Groups, w.AWS.Assignments, w.AWS.Accounts = nil, nil, nil, nil
	w.AWS.PermissionSets = []world.PermissionSet{{Name: "AdministratorAccess"}, {Name: "Developer"}, {Name: "ReadOnlyAccess"}, {Name: "Billing"}}
	for i := range 105 {
		w.AWS.Accounts = append(w.AWS.Accounts, world.Account{ID: fmt.Sprintf("%012d", 400000000000+i), Name: fmt.Sprintf("account-%03d", i)})
	}
	everyone := world.AWSGroup{DisplayName: "everyone"}
	teams := make([]world.AWSGroup, 29)
	for k := range teams {
		teams[k].DisplayName = fmt.Sprintf("team-%02d", k)
	}
	for i := range 250 {
		name := fmt.Sprintf("user%03d@corp.example", i)
		w.AWS.Users = append(w.AWS.Users, world.AWSUser{UserName: name, GivenName: "User", FamilyName: fmt.Sprint(i), DisplayName: "User " + fmt.Sprint(i), Email: name})
		if i < 200 {
			everyone.Members = append(everyone.Members, name)
		}
		teams[i%29].Members = append(teams[i%29].Members, name)
	}
	w.AWS.Groups = append([]world.AWSGroup{everyone}, teams...)
	for _, account := range w.AWS.Accounts {
		w.AWS.Assignments = append(w.AWS.Assignments, world.Assignment{Group: "everyone", Account: account.ID, PermissionSet: "ReadOnlyAccess"})
	}
	for k := 1; k < 20; k++ {
		w.AWS.Assignments = append(w.AWS.Assignments, world.Assignment{Group: teams[k].DisplayName, Account: w.AWS.Accounts[k].ID, PermissionSet: "Developer"})
	}
	for i := range 110 {
		w.AWS.Assignments = append(w.AWS.Assignments, world.Assignment{User: fmt.Sprintf("user%03d@corp.example", i), Account: w.AWS.Accounts[0].ID, PermissionSet: "AdministratorAccess"})
	}
	return w
}

// setup serves w from a sandbox and returns the activities with real SDK
// clients configured as the worker configures them (internal/awsclient),
// through the environment.
func setup(t *testing.T, w *world.World, faults sandbox.Faults, clientRegion string) *Activities {
	t.Helper()
	return setupAttempts(t, w, faults, clientRegion, 0)
}

// setupAttempts is setup with maxAttempts per call (0: the worker's
// default).
func setupAttempts(t *testing.T, w *world.World, faults sandbox.Faults, clientRegion string, maxAttempts int) *Activities {
	t.Helper()
	sb, err := sandbox.Start(w, sandbox.Options{Faults: faults})
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	t.Setenv("AWS_ENDPOINT_URL", sb.AWSURL)
	t.Setenv("AWS_REGION", clientRegion)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIASANDBOXEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "sandbox-secret-key")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	cfg, err := awsclient.Load(context.Background(), awsclient.Options{RequestsPerSecond: -1, MaxAttempts: maxAttempts})
	require.NoError(t, err)
	return &Activities{
		IdentityStore: identitystore.NewFromConfig(cfg),
		SSOAdmin:      ssoadmin.NewFromConfig(cfg),
		Store:         store.Dir{Path: t.TempDir()},
	}
}

// execute runs InventoryAWS as Temporal runs it, collecting its heartbeats.
func execute(t *testing.T, a *Activities, in InventoryAWSInput) (InventoryAWSResult, []Progress, error) {
	t.Helper()
	return executeResuming(t, a, in, nil)
}

// executeResuming is execute as a retry of an attempt whose last heartbeat
// was last (nil: the first attempt).
func executeResuming(t *testing.T, a *Activities, in InventoryAWSInput, last *Progress) (InventoryAWSResult, []Progress, error) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	if last != nil {
		env.SetHeartbeatDetails(*last)
	}
	var beats []Progress
	env.SetOnActivityHeartbeatListener(func(_ *activity.Info, details converter.EncodedValues) {
		var p Progress
		require.NoError(t, details.Get(&p))
		beats = append(beats, p)
	})
	val, err := env.ExecuteActivity(InventoryAWSName, in)
	if err != nil {
		return InventoryAWSResult{}, beats, err
	}
	var res InventoryAWSResult
	require.NoError(t, val.Get(&res))
	return res, beats, nil
}

func load(t *testing.T, a *Activities, ref store.Ref) preflight.AWS {
	t.Helper()
	var inv preflight.AWS
	require.NoError(t, a.Store.Get(context.Background(), ref, &inv))
	return inv
}

// requireInventory checks got against the inventory the world describes,
// element by element and in the documented order.
func requireInventory(t *testing.T, w *world.World, got preflight.AWS) {
	t.Helper()
	require.Equal(t, worldinv.AWS(w), got)
}

// fewestCalls is the least number of calls, by operation, the APIs allow
// for an inventory of w at 100 items per page.
func fewestCalls(w *world.World, listing string) map[string]int {
	pages := func(n int) int { return max(1, (n+99)/100) }
	perTarget := map[[2]string]int{}
	accountsPerSet := map[string]map[string]bool{}
	groupsAssigned := map[string]bool{}
	for _, as := range w.AWS.Assignments {
		perTarget[[2]string{as.Account, as.PermissionSet}]++
		if accountsPerSet[as.PermissionSet] == nil {
			accountsPerSet[as.PermissionSet] = map[string]bool{}
		}
		accountsPerSet[as.PermissionSet][as.Account] = true
		if as.Group != "" {
			groupsAssigned[as.Group] = true
		}
	}
	calls := map[string]int{
		"sso-admin:ListInstances":         1,
		"sso-admin:ListApplications":      pages(len(w.AWS.Applications)),
		"sso-admin:ListPermissionSets":    pages(len(w.AWS.PermissionSets)),
		"sso-admin:DescribePermissionSet": len(w.AWS.PermissionSets),
		"identitystore:ListGroups":        pages(len(w.AWS.Groups)),
		"identitystore:ListUsers":         pages(len(w.AWS.Users)),
	}
	for _, ps := range w.AWS.PermissionSets {
		calls["sso-admin:ListAccountsForProvisionedPermissionSet"] += pages(len(accountsPerSet[ps.Name]))
	}
	switch listing {
	case preflight.ListPerPair:
		for _, n := range perTarget {
			calls["sso-admin:ListAccountAssignments"] += pages(n)
		}
	case preflight.ListPerPrincipal:
		perPrincipal := map[string]int{}
		for _, as := range w.AWS.Assignments {
			perPrincipal[as.Group+"/"+as.User]++
		}
		for _, g := range w.AWS.Groups {
			calls["sso-admin:ListAccountAssignmentsForPrincipal"] += pages(perPrincipal[g.DisplayName+"/"])
		}
		for _, u := range w.AWS.Users {
			calls["sso-admin:ListAccountAssignmentsForPrincipal"] += pages(perPrincipal["/"+u.UserName])
		}
	}
	for _, app := range w.AWS.Applications {
		calls["sso-admin:GetApplicationAssignmentConfiguration"]++
		calls["sso-admin:ListApplicationAssignments"] += pages(len(app.Assignments))
		for _, a := range app.Assignments {
			if a.Group != "" {
				groupsAssigned[a.Group] = true
			}
		}
	}
	for _, g := range w.AWS.Groups {
		if groupsAssigned[g.DisplayName] {
			calls["identitystore:ListGroupMemberships"] += pages(len(g.Members))
		}
	}
	return calls
}

func countsByOperation(counts []apicalls.OperationCount) map[string]int {
	m := map[string]int{}
	for _, c := range counts {
		m[c.Operation] = c.Calls
	}
	return m
}

func TestInventorySmallWorld(t *testing.T) {
	w := smallWorld()
	a := setup(t, w, sandbox.Faults{}, region)
	var reports []Progress
	var mu sync.Mutex
	a.onProgress = func(p Progress) {
		mu.Lock()
		reports = append(reports, p)
		mu.Unlock()
	}
	res, beats, err := execute(t, a, InventoryAWSInput{IdentityStoreID: storeID})
	require.NoError(t, err)
	require.NotEmpty(t, beats, "progress reaches Temporal as heartbeats")
	require.Equal(t, reports[0], beats[0])

	inv := load(t, a, res.Inventory)
	requireInventory(t, w, inv)
	require.Equal(t, []string{"alice@corp.example", "bob@corp.example", "carol@corp.example"}, userNames(inv.Users), "dave and erin hold no access")
	require.Equal(t, []string{"aws-admins", "aws-readers"}, groupNames(inv.Groups))
	require.Equal(t, []string{"alice@corp.example", "bob@corp.example"}, inv.Groups[1].MemberUserNames)
	require.Equal(t, InventoryAWSResult{
		Inventory: res.Inventory, InstanceARN: instanceARN,
		Groups: 2, Users: 3, Assignments: 4, Accounts: 2, PermissionSets: 3,
		APICalls: res.APICalls,
		AssignmentListing: preflight.AssignmentListing{Strategy: preflight.ListPerPair, Pairs: 4, Principals: 8,
			Reason: "4 provisioned (account, permission set) pairs take no more calls than 8 users and groups"},
	}, res)
	require.Equal(t, fewestCalls(w, preflight.ListPerPair), countsByOperation(res.APICalls))

	// Progress was reported step by step, each step finished; sso-admin's
	// steps and identitystore's ran alongside each other.
	last := map[string]Progress{}
	first := map[string]int{} // report in which each step first shows
	together := map[[2]string]bool{}
	for k, b := range reports {
		steps := b.Steps()
		if b.Step == "" {
			continue // every step had ended
		}
		for _, p := range steps {
			if _, seen := first[p.Step]; !seen {
				first[p.Step] = k
			}
			last[p.Step] = p
			for _, q := range steps {
				together[[2]string{p.Step, q.Step}] = true
			}
		}
	}
	require.ElementsMatch(t, []string{"instance", "permission-sets", "accounts", "groups", "users", "assignments", "applications", "members"}, slices.Collect(maps.Keys(first)))
	require.Less(t, first["instance"], first["permission-sets"])
	require.Less(t, first["instance"], first["users"])
	require.Less(t, first["permission-sets"], first["accounts"])
	require.Less(t, first["accounts"], first["assignments"])
	require.Less(t, first["users"], first["assignments"])
	require.True(t, together[[2]string{"assignments", "members"}], "the members are listed while the assignments are")
	for step, p := range last {
		require.Equal(t, p.Total, p.Done, "step %s", step)
	}
	require.Equal(t, 5, last["users"].Total, "every user is read")
	require.Equal(t, 2, last["members"].Total, "the members of the two assigned groups")
}

func TestInventoryIsTheSameDocumentEveryTime(t *testing.T) {
	w := smallWorld()
	a := setup(t, w, sandbox.Faults{}, region)
	// Outside an activity too: heartbeats are skipped, not a panic.
	first, err := a.InventoryAWS(context.Background(), InventoryAWSInput{IdentityStoreID: storeID})
	require.NoError(t, err)
	second, err := a.InventoryAWS(context.Background(), InventoryAWSInput{IdentityStoreID: storeID, InstanceARN: instanceARN})
	require.NoError(t, err)
	require.Equal(t, first.Inventory, second.Inventory)
}

func TestInventoryPagesPastOnePage(t *testing.T) {
	w := largeWorld()
	a := setup(t, w, sandbox.Faults{}, region)
	res, _, err := execute(t, a, InventoryAWSInput{IdentityStoreID: storeID})
	require.NoError(t, err)
	inv := load(t, a, res.Inventory)
	requireInventory(t, w, inv)
	require.Len(t, inv.Groups, 20, "everyone and the 19 assigned teams")
	require.Len(t, inv.Accounts, 105)
	require.Len(t, inv.Assignments, 105+19+110)

	calls := countsByOperation(res.APICalls)
	require.Equal(t, fewestCalls(w, preflight.ListPerPair), calls)
	require.Equal(t, 3, calls["identitystore:ListUsers"], "250 users at 100 per page")
	require.Equal(t, 2+1+1+1, calls["sso-admin:ListAccountsForProvisionedPermissionSet"], "ReadOnlyAccess is in 105 accounts")
}

// TestInventoryUnderFaults: throttling and server errors change the number
// of calls, not the result.
func TestInventoryUnderFaults(t *testing.T) {
	w := largeWorld()
	clean := setup(t, w, sandbox.Faults{}, region)
	want, _, err := execute(t, clean, InventoryAWSInput{IdentityStoreID: storeID})
	require.NoError(t, err)

	// Enough attempts that no call meets a fault on every one (at 30%,
	// eight in a row happened in a few runs in a hundred).
	faulty := setupAttempts(t, w, sandbox.Faults{ThrottleRate: 0.2, ServerErrorRate: 0.1, RetryAfter: 10 * time.Millisecond, Seed: 42}, region, 20)
	got, _, err := execute(t, faulty, InventoryAWSInput{IdentityStoreID: storeID})
	require.NoError(t, err)

	require.Equal(t, want.Inventory, got.Inventory, "same document, same digest")
	wantCalls, gotCalls := countsByOperation(want.APICalls), countsByOperation(got.APICalls)
	total, wantTotal := 0, 0
	for op, n := range wantCalls {
		require.GreaterOrEqual(t, gotCalls[op], n, op)
		total += gotCalls[op]
		wantTotal += n
	}
	require.Greater(t, total, wantTotal, "the faulted calls were retried and counted")
}

func TestInventoryRefusesWhatItCannotFind(t *testing.T) {
	a := setup(t, smallWorld(), sandbox.Faults{}, region)
	for _, tc := range []struct {
		name     string
		in       InventoryAWSInput
		errType  string
		mentions []string
	}{
		{"no identity store", InventoryAWSInput{}, ErrInvalidRequest, []string{"identityStoreId"}},
		{"unknown identity store", InventoryAWSInput{IdentityStoreID: "d-0000000000"}, ErrInstanceNotFound,
			[]string{"d-0000000000", "identityStoreId", "AWS_REGION", region}},
		{"instance of another identity store", InventoryAWSInput{IdentityStoreID: "d-0000000000", InstanceARN: instanceARN}, ErrInvalidRequest,
			[]string{instanceARN, storeID}},
		{"unknown instance", InventoryAWSInput{IdentityStoreID: storeID, InstanceARN: "arn:aws:sso:::instance/ssoins-0000000000000000"}, ErrInstanceNotFound,
			[]string{"ssoins-0000000000000000", "instanceArn", instanceARN}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := execute(t, a, tc.in)
			requireNonRetryable(t, err, tc.errType, tc.mentions...)
		})
	}
}

func TestInventoryInAnotherRegionSaysToCheckTheRegion(t *testing.T) {
	a := setup(t, smallWorld(), sandbox.Faults{}, "us-east-1")
	_, _, err := execute(t, a, InventoryAWSInput{IdentityStoreID: storeID})
	requireNonRetryable(t, err, ErrInstanceNotFound, "us-east-1", "AWS_REGION")
}

// requireNonRetryable is activitytest.RequireNonRetryable, and the error
// must not carry the sandbox's secret key.
func requireNonRetryable(t *testing.T, err error, errType string, mentions ...string) {
	t.Helper()
	activitytest.RequireNonRetryable(t, err, errType, mentions...)
	require.NotContains(t, err.Error(), "sandbox-secret-key")
}

func userNames(users []preflight.AWSUser) []string {
	var names []string
	for _, u := range users {
		names = append(names, u.UserName)
	}
	return names
}

func groupNames(groups []preflight.AWSGroup) []string {
	var names []string
	for _, g := range groups {
		names = append(names, g.DisplayName)
	}
	return names
}
