package entra_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/activities/entra"
	"github.com/platformguide/ssocutover/internal/model"
	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/world"
	"github.com/platformguide/ssocutover/sandbox/worldinv"
)

const userRoleID = "8774f594-1d59-4279-b9d9-59ef09a23530"

// assignInput stores the Entra inventory and preflight report of f's world
// and returns the input that assigns its matched groups to app.
func assignInput(t *testing.T, f *appFixture, app model.EnterpriseApp) entra.AssignGroupsToAppInput {
	t.Helper()
	ctx := context.Background()
	aws := worldinv.AWS(f.world)
	inv := worldinv.Entra(f.world, aws)
	invRef, err := f.store.Put(ctx, "entra-inventory", inv)
	require.NoError(t, err)
	reportRef, err := f.store.Put(ctx, "preflight-report", preflight.Analyze(aws, inv))
	require.NoError(t, err)
	return entra.AssignGroupsToAppInput{App: app, Report: reportRef, EntraInventory: invRef}
}

// entraGroupIDs are the sandbox IDs of the world's Entra groups with these
// display names, sorted.
func entraGroupIDs(w *world.World, names ...string) []string {
	var ids []string
	for i, g := range w.Entra.Groups {
		if slices.Contains(names, g.DisplayName) {
			ids = append(ids, world.StableID("entra-group", fmt.Sprint(i, g.DisplayName)))
		}
	}
	slices.Sort(ids)
	return ids
}

func TestAssignGroupsToAppTwiceAssignsEachGroupOnce(t *testing.T) {
	f := newAppFixture(t, nil, sandbox.NoInstantiateDelay, time.Second)
	app := ensureApp(t, f)
	in := assignInput(t, f, app)
	// aws-admins is ambiguous (two Entra groups), aws-missing has none,
	// aws-mail is not security-enabled: only aws-devs and aws-noowner.
	want := entraGroupIDs(f.world, "aws-devs", "aws-noowner")

	var first entra.AssignGroupsToAppResult
	require.NoError(t, execute(t, f.acts, entra.AssignGroupsToAppName, in, &first))
	require.Equal(t, entra.AssignGroupsToAppResult{
		GroupAssignments: model.GroupAssignments{AppRoleID: userRoleID, Groups: 2, Assigned: 2},
		GroupIDs:         want, Skipped: []string{"aws-mail"}, APICalls: first.APICalls,
	}, first)
	requireAssignedOnce(t, f, app, want)
	require.Equal(t, 1, calls(first.APICalls, "graph:POST /$batch"))

	var second entra.AssignGroupsToAppResult
	require.NoError(t, execute(t, f.acts, entra.AssignGroupsToAppName, in, &second))
	require.Equal(t, 0, second.Assigned)
	require.Equal(t, 2, second.AlreadyAssigned)
	require.Equal(t, want, second.GroupIDs)
	require.Zero(t, calls(second.APICalls, "graph:POST /$batch"), "nothing left to assign: %v", second.APICalls)
	require.Equal(t, want, requireOneApp(t, f, app).AssignedGroupIDs)
}

func TestAssignGroupsToAppWhoseAnswerWasLostAssignsEachGroupOnce(t *testing.T) {
	// The batch's answer is lost after Graph made the assignments. The
	// activity sends the batch again (the SDK does itself after a 504), and
	// Graph refuses each assignment as existing, which counts as assigned.
	for _, lost := range []struct {
		name   string
		status int
	}{{"connection closed", 0}, {"gateway timeout", http.StatusGatewayTimeout}} {
		t.Run(lost.name, func(t *testing.T) {
			f := newAppFixture(t, nil, sandbox.NoInstantiateDelay, time.Second)
			app := ensureApp(t, f)
			in := assignInput(t, f, app)
			f.proxy.loseAnswer("/$batch", 1, lost.status)

			var res entra.AssignGroupsToAppResult
			require.NoError(t, execute(t, f.acts, entra.AssignGroupsToAppName, in, &res))
			require.Equal(t, 2, f.proxy.count("/$batch"), "sent again")
			require.Equal(t, 2, res.Groups)
			require.Equal(t, 2, res.AlreadyAssigned)
			requireAssignedOnce(t, f, app, entraGroupIDs(f.world, "aws-devs", "aws-noowner"))
		})
	}
}

func TestAssignGroupsToAppStoppedAfterTheWriteAssignsEachGroupOnce(t *testing.T) {
	f := newAppFixture(t, nil, sandbox.NoInstantiateDelay, time.Second)
	app := ensureApp(t, f)
	in := assignInput(t, f, app)
	want := entraGroupIDs(f.world, "aws-devs", "aws-noowner")

	// The worker stops once Graph has made the assignments, before the
	// answer arrives; Temporal runs the activity again.
	ctx, stop := context.WithCancel(context.Background())
	f.proxy.loseAnswerThen("/$batch", stop)
	_, err := f.acts.AssignGroupsToApp(ctx, in)
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, want, requireOneApp(t, f, app).AssignedGroupIDs)

	var res entra.AssignGroupsToAppResult
	require.NoError(t, execute(t, f.acts, entra.AssignGroupsToAppName, in, &res))
	require.Equal(t, 0, res.Assigned)
	require.Equal(t, 2, res.AlreadyAssigned)
	require.Equal(t, want, res.GroupIDs)
	requireAssignedOnce(t, f, app, want)
}

// requireAssignedOnce checks that exactly groups are assigned to the app,
// each once, to the User role.
func requireAssignedOnce(t *testing.T, f *appFixture, app model.EnterpriseApp, groups []string) {
	t.Helper()
	got := requireOneApp(t, f, app)
	require.Equal(t, groups, got.AssignedGroupIDs)
	for _, id := range groups {
		require.Equal(t, []string{userRoleID}, got.AssignedAppRoles[id], "once each")
	}
}

// manyGroupsWorld has n AWS groups with an assignment each and an Entra
// security group of each name.
func manyGroupsWorld(n int) *world.World {
	w := &world.World{
		AWS: world.AWS{
			Region: "eu-west-1", IdentityStoreID: "d-1234567890", InstanceARN: "arn:aws:sso:::instance/ssoins-1234567890abcdef",
			Accounts:       []world.Account{{ID: account, Name: "prod"}},
			PermissionSets: []world.PermissionSet{{Name: "ReadOnly"}},
		},
		Entra: world.Entra{TenantID: tenantID},
	}
	for i := range n {
		name := fmt.Sprintf("aws-team-%05d", i)
		w.AWS.Groups = append(w.AWS.Groups, world.AWSGroup{DisplayName: name})
		w.AWS.Assignments = append(w.AWS.Assignments, world.Assignment{Group: name, Account: account, PermissionSet: "ReadOnly"})
		w.Entra.Groups = append(w.Entra.Groups, world.EntraGroup{DisplayName: name, SecurityEnabled: true})
	}
	return w
}

func TestAssignGroupsToAppOfTenThousandGroups(t *testing.T) {
	const n = 10_000
	f := newAppFixture(t, manyGroupsWorld(n), sandbox.NoInstantiateDelay, time.Second)
	app := ensureApp(t, f)
	in := assignInput(t, f, app)

	var res entra.AssignGroupsToAppResult
	require.NoError(t, execute(t, f.acts, entra.AssignGroupsToAppName, in, &res))
	require.Equal(t, n, res.Assigned)
	require.Len(t, res.GroupIDs, entra.MaxGroupIDsInResult, "history gets a few candidates for on-demand provisioning, not every ID")
	require.Less(t, jsonLen(t, res), 8<<10, "the result stays small whatever the organisation's size")
	require.Equal(t, n/20, calls(res.APICalls, "graph:POST /$batch"), "20 assignments a call")
	require.Len(t, requireOneApp(t, f, app).AssignedGroupIDs, n)

	// The listing pages 999 at a time.
	require.NoError(t, execute(t, f.acts, entra.AssignGroupsToAppName, in, &res))
	require.Equal(t, n, res.AlreadyAssigned)
	require.Equal(t, (n+998)/999, calls(res.APICalls, "graph:GET /servicePrincipals/{id}/appRoleAssignedTo"))
	require.Zero(t, calls(res.APICalls, "graph:POST /$batch"))
}

func TestAssignGroupsToAppSaysWhatStandsInTheWay(t *testing.T) {
	f := newAppFixture(t, nil, sandbox.NoInstantiateDelay, time.Second)
	app := ensureApp(t, f)
	in := assignInput(t, f, app)
	var res entra.AssignGroupsToAppResult

	// A report made from another inventory.
	other := in
	other.Report, _ = f.store.Put(context.Background(), "preflight-report", preflight.Report{Stats: preflight.Stats{MatchedGroups: 7}})
	err := execute(t, f.acts, entra.AssignGroupsToAppName, other, &res)
	requireAppError(t, err, entra.ErrInvalidRequest, "was not made from this Entra inventory", "run the preflight again")

	// No permission to assign.
	g := newAppFixture(t, nil, sandbox.NoInstantiateDelay, time.Second)
	gApp := ensureApp(t, g)
	g.proxy.refuse("/$batch", http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
	err = execute(t, g.acts, entra.AssignGroupsToAppName, assignInput(t, g, gApp), &res)
	requireAppError(t, err, entra.ErrAccessDenied, "Authorization_RequestDenied", "AppRoleAssignment.ReadWrite.All")

	// An app whose roles were changed: no role named User.
	h := newAppFixture(t, nil, sandbox.NoInstantiateDelay, time.Second)
	hApp := ensureApp(t, h)
	h.proxy.answer("/servicePrincipals/"+hApp.ServicePrincipalID, http.StatusOK, `{"id":"`+hApp.ServicePrincipalID+`","appRoles":[`+
		`{"id":"e7f1a7f3-9eda-48e0-9963-bd67bf531afd","value":"msiam_access","displayName":"msiam_access","allowedMemberTypes":["User"],"isEnabled":true}]}`)
	err = execute(t, h.acts, entra.AssignGroupsToAppName, assignInput(t, h, hApp), &res)
	requireAppError(t, err, entra.ErrNoUserRole, "no enabled app role named User", "msiam_access")

	// The app was deleted.
	require.NoError(t, f.acts.Graph.Client.Applications().ByApplicationId(app.ApplicationObjectID).Delete(context.Background(), nil))
	err = execute(t, f.acts, entra.AssignGroupsToAppName, in, &res)
	requireAppError(t, err, entra.ErrAppNotFound, "no longer exists")
}

func jsonLen(t *testing.T, v any) int {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return len(data)
}
