package entra_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/platformguide/ssocutover/internal/preflight"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/platformguide/ssocutover/activities/entra"
	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/internal/attrmap"
	"github.com/platformguide/ssocutover/internal/graphclient"
	"github.com/platformguide/ssocutover/internal/store"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/world"
	"github.com/platformguide/ssocutover/sandbox/worldinv"
)

const (
	tenantID = "00000000-0000-0000-0000-000000000001"
	account  = "111111111111"
	batch    = "graph:POST /$batch"
)

// handMadeWorld has one of each thing the inventory must get right:
//   - aws-admins is ambiguous: two Entra groups of that name, in two cases;
//   - aws-devs nests contractors, through which carol and nina are reached
//     only (carol is an AWS member of aws-devs; nina is in no AWS group);
//   - aws-noowner has no owner; aws-mail is not security-enabled;
//   - aws-missing has no Entra group, and its member zed is not in Entra;
//   - erin holds a direct assignment and is no member of any Entra group.
func handMadeWorld() *world.World {
	awsUser := func(name string) world.AWSUser {
		upn := name + "@corp.example"
		return world.AWSUser{UserName: upn, GivenName: name, FamilyName: "Test", DisplayName: name + " Test", Email: upn}
	}
	entraUser := func(name string) world.EntraUser {
		upn := name + "@corp.example"
		return world.EntraUser{UserPrincipalName: upn, Mail: upn, GivenName: name, Surname: "Test", DisplayName: name + " Test"}
	}
	w := &world.World{
		AWS: world.AWS{
			Region: "eu-west-1", IdentityStoreID: "d-1234567890", InstanceARN: "arn:aws:sso:::instance/ssoins-1234567890abcdef",
			Accounts:       []world.Account{{ID: account, Name: "prod"}},
			PermissionSets: []world.PermissionSet{{Name: "AdministratorAccess"}},
			Users:          []world.AWSUser{awsUser("alice"), awsUser("bob"), awsUser("carol"), awsUser("dave"), awsUser("erin"), awsUser("zed")},
			Groups: []world.AWSGroup{
				{DisplayName: "aws-admins", Members: []string{"alice@corp.example"}},
				{DisplayName: "aws-devs", Members: []string{"bob@corp.example", "carol@corp.example"}},
				{DisplayName: "aws-noowner", Members: []string{"dave@corp.example"}},
				{DisplayName: "aws-mail", Members: []string{"alice@corp.example"}},
				{DisplayName: "aws-missing", Members: []string{"zed@corp.example"}},
			},
		},
		Entra: world.Entra{
			TenantID: tenantID,
			Users:    []world.EntraUser{entraUser("alice"), entraUser("bob"), entraUser("carol"), entraUser("dave"), entraUser("erin"), entraUser("nina"), entraUser("ursula")},
			Groups: []world.EntraGroup{
				{DisplayName: "aws-admins", SecurityEnabled: true, Owners: []string{"alice@corp.example"}, Members: []string{"alice@corp.example"}},
				{DisplayName: "AWS-ADMINS", SecurityEnabled: true, Owners: []string{"bob@corp.example", "alice@corp.example"}, Members: []string{"bob@corp.example"}},
				{DisplayName: "aws-devs", SecurityEnabled: true, Owners: []string{"alice@corp.example"}, Members: []string{"bob@corp.example"}, MemberGroups: []string{"contractors"}},
				{DisplayName: "contractors", SecurityEnabled: true, Owners: []string{"alice@corp.example"}, Members: []string{"carol@corp.example", "nina@corp.example"}},
				{DisplayName: "aws-noowner", SecurityEnabled: true, Members: []string{"dave@corp.example"}},
				{DisplayName: "aws-mail", MailEnabled: true, Owners: []string{"alice@corp.example"}, Members: []string{"alice@corp.example"}},
				{DisplayName: "unrelated", SecurityEnabled: true, Owners: []string{"ursula@corp.example"}, Members: []string{"ursula@corp.example"}},
			},
		},
	}
	for _, g := range w.AWS.Groups {
		w.AWS.Assignments = append(w.AWS.Assignments, world.Assignment{Group: g.DisplayName, Account: account, PermissionSet: "AdministratorAccess"})
	}
	w.AWS.Assignments = append(w.AWS.Assignments, world.Assignment{User: "erin@corp.example", Account: account, PermissionSet: "AdministratorAccess"})
	return w
}

// fixture is a sandbox serving a world, the AWS snapshot of that world in a
// store, and the activities pointed at both.
type fixture struct {
	acts  *entra.Activities
	input entra.InventoryEntraInput
	store store.Dir
}

func newFixture(t *testing.T, w *world.World, faults sandbox.Faults) fixture {
	t.Helper()
	require.NoError(t, w.Validate())
	sb, err := sandbox.Start(w, sandbox.Options{Faults: faults})
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	graph, err := graphclient.New(graphclient.Config{BaseURL: sb.GraphURL, StaticToken: "sandbox-token", RequestsPerSecond: -1})
	require.NoError(t, err)
	return fixtureFor(t, w, graph)
}

func fixtureFor(t *testing.T, w *world.World, graph *graphclient.Client) fixture {
	t.Helper()
	st := store.Dir{Path: t.TempDir()}
	awsRef, err := st.Put(context.Background(), "aws-inventory", worldinv.AWS(w))
	require.NoError(t, err)
	return fixture{
		acts:  &entra.Activities{Graph: graph, Store: st},
		input: entra.InventoryEntraInput{TenantID: w.Entra.TenantID, AWSInventory: awsRef},
		store: st,
	}
}

func (f fixture) run(t *testing.T) (entra.InventoryEntraResult, preflight.Entra) {
	t.Helper()
	res, err := f.acts.InventoryEntra(context.Background(), f.input)
	require.NoError(t, err)
	var inv preflight.Entra
	require.NoError(t, f.store.Get(context.Background(), res.Inventory, &inv))
	return res, inv
}

func totalCalls(res entra.InventoryEntraResult) int {
	n := 0
	for _, c := range res.APICalls {
		n += c.Calls
	}
	return n
}

func TestInventoryOfAHandMadeTenant(t *testing.T) {
	w := handMadeWorld()
	f := newFixture(t, w, sandbox.Faults{})

	// Run as Temporal runs it, heartbeats included.
	suite := &testsuite.WorkflowTestSuite{}
	// The SDK logs every heartbeat at debug level; keep warnings.
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(f.acts)
	encoded, err := env.ExecuteActivity(entra.InventoryEntraName, f.input)
	require.NoError(t, err)
	var res entra.InventoryEntraResult
	require.NoError(t, encoded.Get(&res))
	var inv preflight.Entra
	require.NoError(t, f.store.Get(context.Background(), res.Inventory, &inv))

	require.Equal(t, worldinv.Entra(w, worldinv.AWS(w)), inv)

	// The same facts, spelled out.
	groupID := func(i int) string { return world.StableID("entra-group", fmt.Sprint(i, w.Entra.Groups[i].DisplayName)) }
	userID := func(name string) string { return world.StableID("entra-user", name+"@corp.example") }
	byName := map[string]preflight.GroupMatch{}
	for _, m := range inv.Groups {
		byName[m.DisplayName] = m
	}
	require.Len(t, inv.Groups, 5)
	require.Len(t, byName["aws-admins"].Candidates, 2, "ambiguous: both groups of the name, whatever their case")
	require.Empty(t, byName["aws-missing"].Candidates)

	devs := byName["aws-devs"].Candidates
	require.Len(t, devs, 1)
	require.Equal(t, groupID(2), devs[0].ID)
	require.Equal(t, []string{userID("bob")}, devs[0].MemberIDs)
	require.Equal(t, []string{"contractors"}, devs[0].NestedGroups)
	require.Equal(t, []string{"carol@corp.example", "nina@corp.example"}, devs[0].NestedOnlyUsers)
	require.Equal(t, 1, devs[0].OwnerCount)

	require.Zero(t, byName["aws-noowner"].Candidates[0].OwnerCount)
	require.False(t, byName["aws-mail"].Candidates[0].SecurityEnabled)
	require.True(t, devs[0].SecurityEnabled)

	var upns []string
	for _, u := range inv.Users {
		upns = append(upns, u.UserPrincipalName)
	}
	// Direct members of the candidates, and the AWS users found by name
	// (carol, erin); zed is not in Entra, nina and ursula hold nothing.
	require.Equal(t, []string{"alice@corp.example", "bob@corp.example", "carol@corp.example", "dave@corp.example", "erin@corp.example"}, upns)
	require.Equal(t, "alice", inv.Users[0].GivenName)
	require.Equal(t, tenantID, inv.TenantID)

	require.Equal(t, entra.InventoryEntraResult{
		Inventory: res.Inventory, Groups: 5, Candidates: 5, Users: 5,
		// One batch finds the five names; one reads the members and owners
		// of the five candidates; one the users behind aws-devs' nesting;
		// one looks up carol, erin and zed.
		APICalls:     []apicalls.OperationCount{{Operation: batch, Calls: 4}},
		UserMappings: attrmap.OriginGalleryDefault,
	}, res)
}

func TestInventoryIsTheSameBytesEveryRun(t *testing.T) {
	w := handMadeWorld()
	first, _ := newFixture(t, w, sandbox.Faults{}).run(t)
	second, _ := newFixture(t, w, sandbox.Faults{}).run(t)
	require.Equal(t, first.Inventory, second.Inventory, "same world, same digest")
}

// largeWorld has 2,500 Entra users and 40 AWS groups: team-00 has 1,200
// members (two pages of members), the other teams 30 members of whom Entra
// holds only 5 (so most AWS users are looked up by name, and listing all
// users is cheaper), two teams are ambiguous, every fifth team nests a group
// of 10 users found only there, and 20 AWS users are not in Entra at all.
func largeWorld() *world.World {
	const entraUsers = 2500
	upn := func(i int) string { return fmt.Sprintf("user%04d@corp.example", i) }
	w := &world.World{
		AWS: world.AWS{
			Region: "eu-west-1", IdentityStoreID: "d-1234567890", InstanceARN: "arn:aws:sso:::instance/ssoins-1234567890abcdef",
			Accounts:       []world.Account{{ID: account, Name: "prod"}},
			PermissionSets: []world.PermissionSet{{Name: "ReadOnlyAccess"}},
		},
		Entra: world.Entra{TenantID: tenantID},
	}
	for i := range entraUsers {
		w.Entra.Users = append(w.Entra.Users, world.EntraUser{UserPrincipalName: upn(i), Mail: upn(i), GivenName: "User", Surname: fmt.Sprint(i), DisplayName: fmt.Sprint("User ", i)})
	}
	for i := range entraUsers + 20 { // the last 20 are only in AWS
		w.AWS.Users = append(w.AWS.Users, world.AWSUser{UserName: upn(i), GivenName: "User", FamilyName: fmt.Sprint(i), DisplayName: fmt.Sprint("User ", i), Email: upn(i)})
	}
	next := 0
	take := func(n int) []string {
		var out []string
		for range n {
			out = append(out, upn(next))
			next++
		}
		return out
	}
	for team := range 40 {
		name := fmt.Sprintf("team-%02d", team)
		size := 30
		if team == 0 {
			size = 1200
		}
		members := take(size)
		if team == 39 {
			for i := range 20 { // the users absent from Entra
				members = append(members, upn(entraUsers+i))
			}
		}
		w.AWS.Groups = append(w.AWS.Groups, world.AWSGroup{DisplayName: name, Members: members})
		w.AWS.Assignments = append(w.AWS.Assignments, world.Assignment{Group: name, Account: account, PermissionSet: "ReadOnlyAccess"})

		inEntra := members
		if team > 0 {
			inEntra = members[:5]
		}
		group := world.EntraGroup{DisplayName: name, SecurityEnabled: true, Owners: []string{members[0]}, Members: inEntra}
		if team%5 == 4 {
			nested := fmt.Sprintf("nested-%02d", team)
			group.MemberGroups = []string{nested}
			w.Entra.Groups = append(w.Entra.Groups, world.EntraGroup{DisplayName: nested, SecurityEnabled: true, Members: members[5:15]})
		}
		w.Entra.Groups = append(w.Entra.Groups, group)
		if team == 7 || team == 8 {
			w.Entra.Groups = append(w.Entra.Groups, world.EntraGroup{DisplayName: strings.ToUpper(name), SecurityEnabled: true, Members: members[:1]})
		}
	}
	for i := range 50 {
		w.Entra.Groups = append(w.Entra.Groups, world.EntraGroup{DisplayName: fmt.Sprintf("other-%02d", i), SecurityEnabled: true})
	}
	return w
}

func TestInventoryOfALargeTenantPagesAndMakesTheFewestCalls(t *testing.T) {
	w := largeWorld()
	res, inv := newFixture(t, w, sandbox.Faults{}).run(t)
	require.Equal(t, worldinv.Entra(w, worldinv.AWS(w)), inv)

	byName := map[string]preflight.GroupMatch{}
	for _, m := range inv.Groups {
		byName[m.DisplayName] = m
	}
	require.Len(t, byName["team-00"].Candidates[0].MemberIDs, 1200, "past the first page of 999")
	require.Len(t, byName["team-07"].Candidates, 2)
	require.Len(t, byName["team-04"].Candidates[0].NestedOnlyUsers, 10)

	// 40 names in 3 filters: one batch. 42 candidates: 84 requests, 5
	// batches; then team-00's second page and the 8 nested groups' users:
	// one batch. 995 AWS users were not members: 67 filters would take 4
	// batches, so one $count and 3 pages of all 2,500 users instead.
	require.Equal(t, []apicalls.OperationCount{
		{Operation: "graph:GET /users", Calls: 3},
		{Operation: "graph:GET /users/$count", Calls: 1},
		{Operation: batch, Calls: 7},
	}, res.APICalls)
	// Every AWS user who holds access and is in Entra: 2,370 of them.
	require.Equal(t, 2370, res.Users)
}

func TestInventoryUnderThrottlingAndServerErrorsIsTheSame(t *testing.T) {
	w := largeWorld()
	calm, _ := newFixture(t, w, sandbox.Faults{}).run(t)
	stormy, inv := newFixture(t, w, sandbox.Faults{ThrottleRate: 0.2, ServerErrorRate: 0.05, RetryAfter: time.Second, Seed: 42}).run(t)
	require.Equal(t, calm.Inventory, stormy.Inventory, "the same bytes under faults")
	require.Equal(t, worldinv.Entra(w, worldinv.AWS(w)), inv)
	require.Greater(t, totalCalls(stormy), totalCalls(calm), "the retries are counted")
}

func TestInventoryListsAllGroupsWhenThatIsCheaper(t *testing.T) {
	// 320 AWS groups need 22 filters (two batches); the tenant's 330
	// groups fit one page, so a $count and one listing find them.
	w := &world.World{
		AWS: world.AWS{
			Region: "eu-west-1", IdentityStoreID: "d-1234567890", InstanceARN: "arn:aws:sso:::instance/ssoins-1234567890abcdef",
			Accounts:       []world.Account{{ID: account, Name: "prod"}},
			PermissionSets: []world.PermissionSet{{Name: "ReadOnlyAccess"}},
			Users:          []world.AWSUser{{UserName: "alice@corp.example", GivenName: "Alice", FamilyName: "Ng", DisplayName: "Alice Ng", Email: "alice@corp.example"}},
		},
		Entra: world.Entra{TenantID: tenantID, Users: []world.EntraUser{{UserPrincipalName: "alice@corp.example", Mail: "alice@corp.example", GivenName: "Alice", Surname: "Ng", DisplayName: "Alice Ng"}}},
	}
	for i := range 330 {
		name := fmt.Sprintf("group-%03d", i)
		if i < 320 {
			w.AWS.Groups = append(w.AWS.Groups, world.AWSGroup{DisplayName: name, Members: []string{"alice@corp.example"}})
			w.AWS.Assignments = append(w.AWS.Assignments, world.Assignment{Group: name, Account: account, PermissionSet: "ReadOnlyAccess"})
		}
		if i%100 != 99 { // group-099, -199, -299 are missing in Entra
			w.Entra.Groups = append(w.Entra.Groups, world.EntraGroup{DisplayName: name, SecurityEnabled: true, Owners: []string{"alice@corp.example"}, Members: []string{"alice@corp.example"}})
		}
	}
	res, inv := newFixture(t, w, sandbox.Faults{}).run(t)
	require.Equal(t, worldinv.Entra(w, worldinv.AWS(w)), inv)
	require.Equal(t, 317, res.Candidates)
	require.Equal(t, []apicalls.OperationCount{
		{Operation: "graph:GET /groups", Calls: 1},
		{Operation: "graph:GET /groups/$count", Calls: 1},
		// 317 candidates: 634 requests in 32 batches.
		{Operation: batch, Calls: 32},
	}, res.APICalls)
}

func TestInventoryOfGeneratedWorlds(t *testing.T) {
	for name, w := range map[string]*world.World{
		"sample":    world.Sample(),
		"generated": world.Generate(world.ScaledGenerateOptions(3000, 7)),
	} {
		t.Run(name, func(t *testing.T) {
			_, inv := newFixture(t, w, sandbox.Faults{}).run(t)
			require.Equal(t, worldinv.Entra(w, worldinv.AWS(w)), inv)
		})
	}
}

// graphRefusing answers every request with status and Graph error code.
func graphRefusing(t *testing.T, status int, code string) *graphclient.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":{"code":%q,"message":"refused by the test"}}`, code)
	}))
	t.Cleanup(srv.Close)
	graph, err := graphclient.New(graphclient.Config{BaseURL: srv.URL, StaticToken: "sandbox-token", RequestsPerSecond: -1})
	require.NoError(t, err)
	return graph
}

func TestInventoryRefusedSaysWhatToFixAndIsNotRetried(t *testing.T) {
	for _, tc := range []struct {
		status int
		code   string
		want   string
	}{
		{http.StatusUnauthorized, "InvalidAuthenticationToken", "AZURE_CLIENT_ID"},
		{http.StatusForbidden, "Authorization_RequestDenied", "Group.Read.All and User.Read.All"},
	} {
		t.Run(tc.code, func(t *testing.T) {
			w := handMadeWorld()
			f := fixtureFor(t, w, graphRefusing(t, tc.status, tc.code))
			_, err := f.acts.InventoryEntra(context.Background(), f.input)
			var appErr *temporal.ApplicationError
			require.True(t, errors.As(err, &appErr), "%T: %v", err, err)
			require.True(t, appErr.NonRetryable())
			require.Equal(t, entra.ErrAccessDenied, appErr.Type())
			require.Contains(t, appErr.Error(), tc.want)
			require.Contains(t, appErr.Error(), tc.code)
			require.NotContains(t, appErr.Error(), "sandbox-token")
		})
	}
}

func TestInventoryNeedsTheAWSInventory(t *testing.T) {
	f := newFixture(t, handMadeWorld(), sandbox.Faults{})
	_, err := f.acts.InventoryEntra(context.Background(), entra.InventoryEntraInput{TenantID: tenantID})
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr))
	require.True(t, appErr.NonRetryable())

	_, err = f.acts.InventoryEntra(context.Background(), entra.InventoryEntraInput{TenantID: tenantID, AWSInventory: store.Ref{Key: "aws-inventory-0000", Digest: "00"}})
	require.ErrorContains(t, err, "read the AWS inventory")
}
