package worldinv_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/platformguide/ssocutover/internal/preflight"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/sandbox/world"
	"github.com/platformguide/ssocutover/sandbox/worldinv"
)

const instanceARN = "arn:aws:sso:::instance/ssoins-1234567890abcdef"

func TestAWSOfTheSample(t *testing.T) {
	w := world.Sample()
	inv := worldinv.AWS(w)

	require.Equal(t, instanceARN, inv.InstanceARN)
	require.Equal(t, "d-1234567890", inv.IdentityStoreID)
	require.Equal(t, "eu-west-1", inv.Region)
	require.Equal(t, []preflight.PermissionSet{
		{ARN: world.PermissionSetARN(instanceARN, "AdministratorAccess"), Name: "AdministratorAccess"},
		{ARN: world.PermissionSetARN(instanceARN, "Billing"), Name: "Billing"},
		{ARN: world.PermissionSetARN(instanceARN, "PowerUserAccess"), Name: "PowerUserAccess"},
		{ARN: world.PermissionSetARN(instanceARN, "ReadOnlyAccess"), Name: "ReadOnlyAccess"},
	}, inv.PermissionSets)
	require.Equal(t, []string{"210987654321", "321098765432", "432109876543"}, inv.Accounts)

	require.Len(t, inv.Assignments, 20)
	require.True(t, slices.IsSortedFunc(inv.Assignments, func(a, b preflight.Assignment) int {
		return strings.Compare(
			a.AccountID+"|"+a.PermissionSetName+"|"+string(a.PrincipalType)+"|"+a.PrincipalName,
			b.AccountID+"|"+b.PermissionSetName+"|"+string(b.PrincipalType)+"|"+b.PrincipalName)
	}), "assignments sorted by account, permission set, principal type, principal name")
	require.Equal(t, preflight.Assignment{
		AccountID:         "210987654321",
		PermissionSetARN:  world.PermissionSetARN(instanceARN, "AdministratorAccess"),
		PermissionSetName: "AdministratorAccess",
		PrincipalType:     preflight.PrincipalGroup,
		PrincipalID:       world.StableID("aws-group", "aws-admins"),
		PrincipalName:     "aws-admins",
	}, inv.Assignments[0])
	var direct []preflight.Assignment
	for _, a := range inv.Assignments {
		if a.PrincipalType == preflight.PrincipalUser {
			direct = append(direct, a)
		}
	}
	require.Equal(t, []preflight.Assignment{{
		AccountID:         "321098765432",
		PermissionSetARN:  world.PermissionSetARN(instanceARN, "AdministratorAccess"),
		PermissionSetName: "AdministratorAccess",
		PrincipalType:     preflight.PrincipalUser,
		PrincipalID:       world.StableID("aws-user", "dana.okafor@corp.example"),
		PrincipalName:     "dana.okafor@corp.example",
	}}, direct)

	var groupNames []string
	for _, g := range inv.Groups {
		groupNames = append(groupNames, g.DisplayName)
		require.Equal(t, world.StableID("aws-group", g.DisplayName), g.ID)
		require.True(t, slices.IsSorted(g.MemberUserNames))
	}
	require.Equal(t, []string{"aws-admins", "aws-billing", "aws-data-engineers", "aws-developers", "aws-readonly", "aws-security-audit"}, groupNames)
	require.Equal(t, []string{"alice.ng@corp.example", "bram.devries@corp.example"}, inv.Groups[0].MemberUserNames)

	require.Len(t, inv.Users, 15)
	require.True(t, slices.IsSortedFunc(inv.Users, func(a, b preflight.AWSUser) int { return strings.Compare(a.UserName, b.UserName) }))
	require.Equal(t, preflight.AWSUser{
		ID: world.StableID("aws-user", "alice.ng@corp.example"), UserName: "alice.ng@corp.example",
		DisplayName: "Alice Ng", Email: "alice.ng@corp.example",
	}, inv.Users[0])
}

// smallWorld has a group without assignments, a user who holds no access,
// a user with only a direct assignment, and lists everything out of order.
func smallWorld() *world.World {
	user := func(name string) world.AWSUser {
		return world.AWSUser{UserName: name, GivenName: "G", FamilyName: "F", DisplayName: "G F", Email: name}
	}
	entraUser := func(upn string) world.EntraUser {
		return world.EntraUser{UserPrincipalName: upn, Mail: upn, GivenName: "G", Surname: "F", DisplayName: "G F"}
	}
	return &world.World{
		AWS: world.AWS{
			Region: "eu-west-1", IdentityStoreID: "d-1234567890", InstanceARN: instanceARN,
			Accounts:       []world.Account{{ID: "222222222222", Name: "staging"}, {ID: "111111111111", Name: "prod"}, {ID: "333333333333", Name: "unused"}},
			PermissionSets: []world.PermissionSet{{Name: "ReadOnlyAccess"}, {Name: "AdministratorAccess"}},
			Users:          []world.AWSUser{user("zed"), user("yan"), user("xia"), user("idle")},
			Groups: []world.AWSGroup{
				{DisplayName: "team-b", Members: []string{"zed", "yan"}},
				{DisplayName: "team-a", Members: []string{"yan"}},
				{DisplayName: "no-assignments", Members: []string{"idle"}},
			},
			Assignments: []world.Assignment{
				{Group: "team-b", Account: "222222222222", PermissionSet: "ReadOnlyAccess"},
				{User: "xia", Account: "111111111111", PermissionSet: "ReadOnlyAccess"},
				{Group: "team-a", Account: "111111111111", PermissionSet: "ReadOnlyAccess"},
				{Group: "team-b", Account: "111111111111", PermissionSet: "AdministratorAccess"},
			},
		},
		Entra: world.Entra{
			TenantID: "00000000-0000-0000-0000-000000000001",
			Users:    []world.EntraUser{entraUser("Zed"), entraUser("yan"), entraUser("xia"), entraUser("idle"), entraUser("wu")},
			Groups: []world.EntraGroup{
				{DisplayName: "team-b", SecurityEnabled: true, Owners: []string{"yan", "YAN"}, Members: []string{"zed", "yan", "zed"}, MemberGroups: []string{"outer"}},
				{DisplayName: "outer", SecurityEnabled: true, Members: []string{"wu"}, MemberGroups: []string{"inner"}},
				{DisplayName: "inner", SecurityEnabled: true, Members: []string{"yan", "idle"}, MemberGroups: []string{"outer"}},
				{DisplayName: "TEAM-A", Members: []string{"yan"}},
				{DisplayName: "team-a", SecurityEnabled: true, Owners: []string{"xia"}},
			},
		},
	}
}

func TestAWSKeepsWhatHoldsAccessInOrder(t *testing.T) {
	w := smallWorld()
	require.NoError(t, w.Validate())
	inv := worldinv.AWS(w)

	require.Equal(t, []string{"111111111111", "222222222222"}, inv.Accounts, "accounts with an assignment, sorted")
	require.Equal(t, []preflight.AWSGroup{
		{ID: world.StableID("aws-group", "team-a"), DisplayName: "team-a", MemberUserNames: []string{"yan"}},
		{ID: world.StableID("aws-group", "team-b"), DisplayName: "team-b", MemberUserNames: []string{"yan", "zed"}},
	}, inv.Groups, "only groups with an assignment, sorted, members sorted")
	var users []string
	for _, u := range inv.Users {
		users = append(users, u.UserName)
	}
	require.Equal(t, []string{"xia", "yan", "zed"}, users, "members of assigned groups and directly assigned users, sorted")

	var order []string
	for _, a := range inv.Assignments {
		order = append(order, fmt.Sprint(a.AccountID, " ", a.PermissionSetName, " ", a.PrincipalType, " ", a.PrincipalName))
	}
	require.Equal(t, []string{
		"111111111111 AdministratorAccess GROUP team-b",
		"111111111111 ReadOnlyAccess GROUP team-a",
		"111111111111 ReadOnlyAccess USER xia",
		"222222222222 ReadOnlyAccess GROUP team-b",
	}, order)
}

func TestAWSCollapsesARepeatedAssignment(t *testing.T) {
	w := smallWorld()
	w.AWS.Assignments = append(w.AWS.Assignments, w.AWS.Assignments[0])
	require.Len(t, worldinv.AWS(w).Assignments, 4)
}

func TestEntra(t *testing.T) {
	w := smallWorld()
	inv := worldinv.Entra(w, worldinv.AWS(w))
	userID := func(upn string) string { return world.StableID("entra-user", strings.ToLower(upn)) }
	groupID := func(index int, name string) string { return world.StableID("entra-group", fmt.Sprint(index, name)) }

	require.Equal(t, "00000000-0000-0000-0000-000000000001", inv.TenantID)
	teamA := []preflight.EntraGroup{
		{ID: groupID(3, "TEAM-A"), DisplayName: "TEAM-A", MemberIDs: []string{userID("yan")}},
		{ID: groupID(4, "team-a"), DisplayName: "team-a", SecurityEnabled: true, OwnerCount: 1, MemberIDs: []string{}},
	}
	slices.SortFunc(teamA, func(a, b preflight.EntraGroup) int { return strings.Compare(a.ID, b.ID) })
	teamBMembers := []string{userID("zed"), userID("yan")}
	slices.Sort(teamBMembers)
	require.Equal(t, []preflight.GroupMatch{
		{DisplayName: "team-a", Candidates: teamA},
		{DisplayName: "team-b", Candidates: []preflight.EntraGroup{{
			ID: groupID(0, "team-b"), DisplayName: "team-b", SecurityEnabled: true,
			OwnerCount:   1, // "yan" and "YAN" are one owner
			MemberIDs:    teamBMembers,
			NestedGroups: []string{"outer"},
			// Through outer and, one level down, inner; yan is direct.
			NestedOnlyUsers: []string{"idle", "wu"},
		}}},
	}, inv.Groups)

	var users []string
	for _, u := range inv.Users {
		users = append(users, u.UserPrincipalName)
		require.Equal(t, userID(u.UserPrincipalName), u.ID)
	}
	// Direct members of the candidates and the AWS users' matches (xia);
	// not the nested-only users, sorted case-insensitively.
	require.Equal(t, []string{"xia", "yan", "Zed"}, users)
}

// TestEntraOfTheSample checks the sample's planted problems are visible in
// its Entra inventory.
func TestEntraOfTheSample(t *testing.T) {
	w := world.Sample()
	inv := worldinv.Entra(w, worldinv.AWS(w))
	matches := map[string]preflight.GroupMatch{}
	for _, m := range inv.Groups {
		matches[m.DisplayName] = m
	}
	require.Len(t, matches, 6)
	require.Empty(t, matches["aws-billing"].Candidates)
	developers := matches["aws-developers"].Candidates
	require.Len(t, developers, 1)
	require.Equal(t, []string{"platform-contractors"}, developers[0].NestedGroups)
	require.Equal(t, []string{"emil.lund@corp.example"}, developers[0].NestedOnlyUsers)
	require.Zero(t, matches["aws-security-audit"].Candidates[0].OwnerCount)

	var users []string
	for _, u := range inv.Users {
		users = append(users, u.UserPrincipalName)
	}
	require.Len(t, users, 16, "the 14 AWS users in Entra, chen.wei.admin and pia.larsen")
	require.Contains(t, users, "chen.wei.admin@corp.example")
	require.Contains(t, users, "pia.larsen@corp.example")
	require.NotContains(t, users, "oscar.berg@corp.example")
}
