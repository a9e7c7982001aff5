package world_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/sandbox/world"
)

func TestSampleIsTheIssuesOrganisation(t *testing.T) {
	w := world.Sample()
	require.NoError(t, w.Validate())
	require.Equal(t, "eu-west-1", w.AWS.Region)
	require.Equal(t, "d-1234567890", w.AWS.IdentityStoreID)
	require.Equal(t, "arn:aws:sso:::instance/ssoins-1234567890abcdef", w.AWS.InstanceARN)
	require.Equal(t, "00000000-0000-0000-0000-000000000001", w.Entra.TenantID)
	require.Len(t, w.AWS.Users, 15)
	require.Len(t, w.AWS.Groups, 6)
	require.Len(t, w.AWS.Accounts, 3)
	require.Len(t, w.AWS.PermissionSets, 4)
	require.Len(t, w.AWS.Assignments, 20)
	for _, a := range w.AWS.Accounts {
		require.Regexp(t, `^[0-9]{12}$`, a.ID)
	}
}

// TestSampleShowsItsProblems pins what the demo shows: each planted problem
// of the sample, found once, and nothing else.
func TestSampleShowsItsProblems(t *testing.T) {
	r := analyze(world.Sample())
	type found struct {
		Code     preflight.Code
		Severity preflight.Severity
		Names    []string
	}
	var got []found
	for _, f := range r.Findings {
		got = append(got, found{f.Code, f.Severity, f.Names})
	}
	require.Equal(t, []found{
		{preflight.DuplicateEmail, preflight.Blocker, []string{"chen.wei.admin@corp.example", "chen.wei@corp.example"}},
		{preflight.MissingAttribute, preflight.Blocker, []string{"gus.tanaka@corp.example"}},
		{preflight.MissingGroup, preflight.Blocker, []string{"aws-billing"}},
		{preflight.NestedGroup, preflight.Blocker, []string{"aws-developers", "emil.lund@corp.example", "platform-contractors"}},
		{preflight.UserNotInEntra, preflight.Blocker, []string{"oscar.berg@corp.example"}},
		{preflight.GroupWithoutOwner, preflight.Warning, []string{"aws-security-audit"}},
		{preflight.UserAssignment, preflight.Warning, []string{"dana.okafor@corp.example"}},
	}, got)
	require.Equal(t, preflight.Stats{
		Groups: 6, MatchedGroups: 5, AWSUsers: 15, UsersToProvision: 14,
		Assignments: 20, GroupAssignments: 19, UserAssignments: 1, Accounts: 3, PermissionSets: 4,
	}, r.Stats)
}

func TestSampleReturnsAFreshCopy(t *testing.T) {
	w := world.Sample()
	w.AWS.Users[0].UserName = "changed"
	require.NotEqual(t, "changed", world.Sample().AWS.Users[0].UserName)

	data := world.SampleJSON()
	data[0] = 'x'
	_, err := world.Parse(world.SampleJSON())
	require.NoError(t, err)
}

func TestPermissionSetARN(t *testing.T) {
	const instance = "arn:aws:sso:::instance/ssoins-1234567890abcdef"
	arn := world.PermissionSetARN(instance, "AdministratorAccess")
	require.Regexp(t, `^arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-[0-9a-f]{16}$`, arn)
	require.Equal(t, arn, world.PermissionSetARN(instance, "AdministratorAccess"))
	require.NotEqual(t, arn, world.PermissionSetARN(instance, "ReadOnlyAccess"))
	require.Regexp(t, `^arn:aws:sso:::permissionSet/ssoins-other/ps-`, world.PermissionSetARN("arn:aws:sso:::instance/ssoins-other", "AdministratorAccess"))
}

func TestValidateRefusesARepeatedAssignment(t *testing.T) {
	w := world.Sample()
	w.AWS.Assignments = append(w.AWS.Assignments, w.AWS.Assignments[3])
	require.ErrorContains(t, w.Validate(), "aws assignment 20 repeats assignment 3")
}
