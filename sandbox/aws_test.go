package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/identitystore/document"
	idtypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/internal/awsclient"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/world"
)

const (
	awsTestRegion      = "eu-west-1"
	awsTestStoreID     = "d-1234567890"
	awsTestInstanceARN = "arn:aws:sso:::instance/ssoins-1234567890abcdef"
	awsProdAccount     = "111111111111"
	awsDevAccount      = "222222222222"
)

// awsSmallWorld: alice is an admin in prod through aws-admins, alice and bob
// read prod and dev through aws-readers, carol is an admin in dev directly,
// dave is in an unassigned group.
func awsSmallWorld() *world.World {
	user := func(name, given, family string) world.AWSUser {
		return world.AWSUser{UserName: name + "@corp.example", GivenName: given, FamilyName: family, DisplayName: given + " " + family, Email: name + "@corp.example"}
	}
	return &world.World{
		AWS: world.AWS{
			Region: awsTestRegion, IdentityStoreID: awsTestStoreID, InstanceARN: awsTestInstanceARN,
			Accounts:       []world.Account{{ID: awsProdAccount, Name: "prod"}, {ID: awsDevAccount, Name: "dev"}},
			PermissionSets: []world.PermissionSet{{Name: "AdministratorAccess"}, {Name: "ReadOnlyAccess", Description: "read only"}},
			Users:          []world.AWSUser{user("alice", "Alice", "Ng"), user("bob", "Bob", "Stone"), user("carol", "Carol", "Diaz"), user("dave", "Dave", "Ito")},
			Groups: []world.AWSGroup{
				{DisplayName: "aws-admins", Members: []string{"alice@corp.example"}},
				{DisplayName: "aws-readers", Members: []string{"alice@corp.example", "bob@corp.example"}},
				{DisplayName: "unused", Members: []string{"dave@corp.example"}},
			},
			Assignments: []world.Assignment{
				{Group: "aws-admins", Account: awsProdAccount, PermissionSet: "AdministratorAccess"},
				{Group: "aws-readers", Account: awsProdAccount, PermissionSet: "ReadOnlyAccess"},
				{Group: "aws-readers", Account: awsDevAccount, PermissionSet: "ReadOnlyAccess"},
				{User: "carol@corp.example", Account: awsDevAccount, PermissionSet: "AdministratorAccess"},
			},
		},
		Entra: world.Entra{TenantID: "00000000-0000-0000-0000-000000000001"},
	}
}

// awsPagingWorld has more than one page of everything that pages: 250 users,
// 130 accounts, a group of 250 members and 110 user assignments on one
// (account, permission set) pair.
func awsPagingWorld() *world.World {
	w := awsSmallWorld()
	w.AWS.Users, w.AWS.Groups, w.AWS.Assignments, w.AWS.Accounts = nil, nil, nil, nil
	everyone := world.AWSGroup{DisplayName: "everyone"}
	for i := range 250 {
		name := fmt.Sprintf("user%03d@corp.example", i)
		w.AWS.Users = append(w.AWS.Users, world.AWSUser{UserName: name, GivenName: "U", FamilyName: fmt.Sprint(i), DisplayName: name, Email: name})
		everyone.Members = append(everyone.Members, name)
	}
	w.AWS.Groups = append(w.AWS.Groups, everyone)
	for i := range 130 {
		id := fmt.Sprintf("%012d", 100000000000+i)
		w.AWS.Accounts = append(w.AWS.Accounts, world.Account{ID: id, Name: "acct-" + id})
		w.AWS.Assignments = append(w.AWS.Assignments, world.Assignment{Group: "everyone", Account: id, PermissionSet: "ReadOnlyAccess"})
	}
	for i := range 110 {
		w.AWS.Assignments = append(w.AWS.Assignments, world.Assignment{User: fmt.Sprintf("user%03d@corp.example", i), Account: w.AWS.Accounts[0].ID, PermissionSet: "AdministratorAccess"})
	}
	return w
}

type awsClients struct {
	sb             *sandbox.Sandbox
	identityStore  *identitystore.Client
	ssoAdmin       *ssoadmin.Client
	iam            *iam.Client
	secretsManager *secretsmanager.Client
}

// start serves w and returns real SDK awsClients pointed at it with static
// credentials in region.
func startAWS(t *testing.T, w *world.World, region string, creds aws.CredentialsProvider) awsClients {
	t.Helper()
	sb, err := sandbox.Start(w, sandbox.Options{})
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(region),
		config.WithCredentialsProvider(creds),
		config.WithBaseEndpoint(sb.AWSURL),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
	)
	require.NoError(t, err)
	return awsClients{sb: sb, identityStore: identitystore.NewFromConfig(cfg), ssoAdmin: ssoadmin.NewFromConfig(cfg),
		iam: iam.NewFromConfig(cfg), secretsManager: secretsmanager.NewFromConfig(cfg)}
}

func awsStaticCreds() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider("AKIASANDBOXEXAMPLE", "sandbox-secret-key", "")
}

func startSmallAWS(t *testing.T) awsClients {
	return startAWS(t, awsSmallWorld(), awsTestRegion, awsStaticCreds())
}

func awsUserID(name string) string  { return world.StableID("aws-user", name) }
func awsGroupID(name string) string { return world.StableID("aws-group", name) }

func TestIdentityStoreListUsersAndDescribeUser(t *testing.T) {
	c := startSmallAWS(t)
	ctx := context.Background()

	out, err := c.identityStore.ListUsers(ctx, &identitystore.ListUsersInput{IdentityStoreId: aws.String(awsTestStoreID), MaxResults: aws.Int32(100)})
	require.NoError(t, err)
	require.Nil(t, out.NextToken)
	var names []string
	for _, u := range out.Users {
		require.Equal(t, awsUserID(aws.ToString(u.UserName)), aws.ToString(u.UserId))
		require.Equal(t, awsTestStoreID, aws.ToString(u.IdentityStoreId))
		names = append(names, aws.ToString(u.UserName))
	}
	require.ElementsMatch(t, []string{"alice@corp.example", "bob@corp.example", "carol@corp.example", "dave@corp.example"}, names)

	alice, err := c.identityStore.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: aws.String(awsTestStoreID), UserId: aws.String(awsUserID("alice@corp.example"))})
	require.NoError(t, err)
	require.Equal(t, "alice@corp.example", aws.ToString(alice.UserName))
	require.Equal(t, "Alice Ng", aws.ToString(alice.DisplayName))
	require.Equal(t, "Alice", aws.ToString(alice.Name.GivenName))
	require.Equal(t, "Ng", aws.ToString(alice.Name.FamilyName))
	require.Len(t, alice.Emails, 1)
	require.Equal(t, "alice@corp.example", aws.ToString(alice.Emails[0].Value))
	require.True(t, alice.Emails[0].Primary)

	// The deprecated UserName filter still works (older scripts use it), so
	// the sandbox must not ignore it and return everyone.
	filtered, err := c.identityStore.ListUsers(ctx, &identitystore.ListUsersInput{
		IdentityStoreId: aws.String(awsTestStoreID),
		//lint:ignore SA1019 the deprecated filter is what this checks
		Filters: []idtypes.Filter{{AttributePath: aws.String("UserName"), AttributeValue: aws.String("bob@corp.example")}},
	})
	require.NoError(t, err)
	require.Len(t, filtered.Users, 1)
	require.Equal(t, awsUserID("bob@corp.example"), aws.ToString(filtered.Users[0].UserId))

	_, err = c.identityStore.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: aws.String(awsTestStoreID), UserId: aws.String(awsUserID("nobody"))})
	var notFound *idtypes.ResourceNotFoundException
	require.ErrorAs(t, err, &notFound)
	require.Equal(t, idtypes.ResourceTypeUser, notFound.ResourceType)
	requireAWSStatus(t, err, http.StatusNotFound)

	// Every request is counted, refused ones too, by the names the
	// worker's own counters use.
	require.Equal(t, map[string]int{"identitystore:ListUsers": 2, "identitystore:DescribeUser": 2}, c.sb.AWSCalls())
}

func TestIdentityStoreGroupsAndMemberships(t *testing.T) {
	c := startSmallAWS(t)
	ctx := context.Background()
	store := aws.String(awsTestStoreID)

	groups, err := c.identityStore.ListGroups(ctx, &identitystore.ListGroupsInput{IdentityStoreId: store, MaxResults: aws.Int32(100)})
	require.NoError(t, err)
	byName := map[string]string{}
	for _, g := range groups.Groups {
		byName[aws.ToString(g.DisplayName)] = aws.ToString(g.GroupId)
	}
	require.Equal(t, map[string]string{"aws-admins": awsGroupID("aws-admins"), "aws-readers": awsGroupID("aws-readers"), "unused": awsGroupID("unused")}, byName)

	readers, err := c.identityStore.DescribeGroup(ctx, &identitystore.DescribeGroupInput{IdentityStoreId: store, GroupId: aws.String(awsGroupID("aws-readers"))})
	require.NoError(t, err)
	require.Equal(t, "aws-readers", aws.ToString(readers.DisplayName))

	members, err := c.identityStore.ListGroupMemberships(ctx, &identitystore.ListGroupMembershipsInput{IdentityStoreId: store, GroupId: aws.String(awsGroupID("aws-readers")), MaxResults: aws.Int32(100)})
	require.NoError(t, err)
	var memberIDs []string
	for _, m := range members.GroupMemberships {
		require.Equal(t, awsGroupID("aws-readers"), aws.ToString(m.GroupId))
		require.NotEmpty(t, aws.ToString(m.MembershipId))
		memberIDs = append(memberIDs, m.MemberId.(*idtypes.MemberIdMemberUserId).Value)
	}
	require.ElementsMatch(t, []string{awsUserID("alice@corp.example"), awsUserID("bob@corp.example")}, memberIDs)

	forAlice, err := c.identityStore.ListGroupMembershipsForMember(ctx, &identitystore.ListGroupMembershipsForMemberInput{
		IdentityStoreId: store, MemberId: &idtypes.MemberIdMemberUserId{Value: awsUserID("alice@corp.example")},
	})
	require.NoError(t, err)
	var aliceGroups []string
	for _, m := range forAlice.GroupMemberships {
		aliceGroups = append(aliceGroups, aws.ToString(m.GroupId))
	}
	require.ElementsMatch(t, []string{awsGroupID("aws-admins"), awsGroupID("aws-readers")}, aliceGroups)

	_, err = c.identityStore.ListGroupMemberships(ctx, &identitystore.ListGroupMembershipsInput{IdentityStoreId: store, GroupId: aws.String(awsGroupID("missing"))})
	var notFound *idtypes.ResourceNotFoundException
	require.ErrorAs(t, err, &notFound)
	require.Equal(t, idtypes.ResourceTypeGroup, notFound.ResourceType)
}

func TestIdentityStoreGetUserIDAndGetGroupID(t *testing.T) {
	c := startSmallAWS(t)
	ctx := context.Background()
	store := aws.String(awsTestStoreID)
	unique := func(path, value string) idtypes.AlternateIdentifier {
		return &idtypes.AlternateIdentifierMemberUniqueAttribute{Value: idtypes.UniqueAttribute{AttributePath: aws.String(path), AttributeValue: document.NewLazyDocument(value)}}
	}

	u, err := c.identityStore.GetUserId(ctx, &identitystore.GetUserIdInput{IdentityStoreId: store, AlternateIdentifier: unique("userName", "carol@corp.example")})
	require.NoError(t, err)
	require.Equal(t, awsUserID("carol@corp.example"), aws.ToString(u.UserId))

	u, err = c.identityStore.GetUserId(ctx, &identitystore.GetUserIdInput{IdentityStoreId: store, AlternateIdentifier: unique("emails.value", "bob@corp.example")})
	require.NoError(t, err)
	require.Equal(t, awsUserID("bob@corp.example"), aws.ToString(u.UserId))

	g, err := c.identityStore.GetGroupId(ctx, &identitystore.GetGroupIdInput{IdentityStoreId: store, AlternateIdentifier: unique("displayName", "aws-admins")})
	require.NoError(t, err)
	require.Equal(t, awsGroupID("aws-admins"), aws.ToString(g.GroupId))

	_, err = c.identityStore.GetGroupId(ctx, &identitystore.GetGroupIdInput{IdentityStoreId: store, AlternateIdentifier: unique("displayName", "nope")})
	var notFound *idtypes.ResourceNotFoundException
	require.ErrorAs(t, err, &notFound)

	_, err = c.identityStore.GetUserId(ctx, &identitystore.GetUserIdInput{IdentityStoreId: store, AlternateIdentifier: unique("title", "x")})
	var invalid *idtypes.ValidationException
	require.ErrorAs(t, err, &invalid)
}

func TestSSOAdminInstancePermissionSetsAndAssignments(t *testing.T) {
	c := startSmallAWS(t)
	ctx := context.Background()
	instance := aws.String(awsTestInstanceARN)
	admin, readOnly := world.PermissionSetARN(awsTestInstanceARN, "AdministratorAccess"), world.PermissionSetARN(awsTestInstanceARN, "ReadOnlyAccess")
	require.Regexp(t, `^arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-[0-9a-f]{16}$`, admin)
	require.NotEqual(t, admin, readOnly)

	instances, err := c.ssoAdmin.ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	require.NoError(t, err)
	require.Len(t, instances.Instances, 1)
	require.Equal(t, awsTestInstanceARN, aws.ToString(instances.Instances[0].InstanceArn))
	require.Equal(t, awsTestStoreID, aws.ToString(instances.Instances[0].IdentityStoreId))
	require.Equal(t, ssotypes.InstanceStatusActive, instances.Instances[0].Status)

	sets, err := c.ssoAdmin.ListPermissionSets(ctx, &ssoadmin.ListPermissionSetsInput{InstanceArn: instance, MaxResults: aws.Int32(100)})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{admin, readOnly}, sets.PermissionSets)

	described, err := c.ssoAdmin.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: instance, PermissionSetArn: aws.String(readOnly)})
	require.NoError(t, err)
	require.Equal(t, "ReadOnlyAccess", aws.ToString(described.PermissionSet.Name))
	require.Equal(t, "read only", aws.ToString(described.PermissionSet.Description))
	require.NotNil(t, described.PermissionSet.CreatedDate)

	accounts, err := c.ssoAdmin.ListAccountsForProvisionedPermissionSet(ctx, &ssoadmin.ListAccountsForProvisionedPermissionSetInput{InstanceArn: instance, PermissionSetArn: aws.String(readOnly)})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{awsProdAccount, awsDevAccount}, accounts.AccountIds)
	accounts, err = c.ssoAdmin.ListAccountsForProvisionedPermissionSet(ctx, &ssoadmin.ListAccountsForProvisionedPermissionSetInput{InstanceArn: instance, PermissionSetArn: aws.String(admin)})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{awsProdAccount, awsDevAccount}, accounts.AccountIds)

	assigned, err := c.ssoAdmin.ListAccountAssignments(ctx, &ssoadmin.ListAccountAssignmentsInput{InstanceArn: instance, AccountId: aws.String(awsDevAccount), PermissionSetArn: aws.String(admin)})
	require.NoError(t, err)
	require.Len(t, assigned.AccountAssignments, 1)
	require.Equal(t, ssotypes.AccountAssignment{
		AccountId: aws.String(awsDevAccount), PermissionSetArn: aws.String(admin),
		PrincipalId: aws.String(awsUserID("carol@corp.example")), PrincipalType: ssotypes.PrincipalTypeUser,
	}, assigned.AccountAssignments[0])

	forReaders, err := c.ssoAdmin.ListAccountAssignmentsForPrincipal(ctx, &ssoadmin.ListAccountAssignmentsForPrincipalInput{
		InstanceArn: instance, PrincipalId: aws.String(awsGroupID("aws-readers")), PrincipalType: ssotypes.PrincipalTypeGroup,
	})
	require.NoError(t, err)
	var readerAccounts []string
	for _, a := range forReaders.AccountAssignments {
		require.Equal(t, readOnly, aws.ToString(a.PermissionSetArn))
		readerAccounts = append(readerAccounts, aws.ToString(a.AccountId))
	}
	require.ElementsMatch(t, []string{awsProdAccount, awsDevAccount}, readerAccounts)

	filtered, err := c.ssoAdmin.ListAccountAssignmentsForPrincipal(ctx, &ssoadmin.ListAccountAssignmentsForPrincipalInput{
		InstanceArn: instance, PrincipalId: aws.String(awsGroupID("aws-readers")), PrincipalType: ssotypes.PrincipalTypeGroup,
		Filter: &ssotypes.ListAccountAssignmentsFilter{AccountId: aws.String(awsDevAccount)},
	})
	require.NoError(t, err)
	require.Len(t, filtered.AccountAssignments, 1)

	_, err = c.ssoAdmin.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: instance, PermissionSetArn: aws.String(awsTestInstanceARN + "/ps-0000000000000000")})
	var notFound *ssotypes.ResourceNotFoundException
	require.ErrorAs(t, err, &notFound)
}

// TestAWSPagingPastOnePage reads every list that pages with the SDK's
// paginators at the largest page size and checks nothing is lost or
// repeated.
func TestAWSPagingPastOnePage(t *testing.T) {
	c := startAWS(t, awsPagingWorld(), awsTestRegion, awsStaticCreds())
	ctx := context.Background()
	store, instance := aws.String(awsTestStoreID), aws.String(awsTestInstanceARN)
	largest := aws.Int32(100)

	pages, seen := 0, map[string]bool{}
	users := identitystore.NewListUsersPaginator(c.identityStore, &identitystore.ListUsersInput{IdentityStoreId: store, MaxResults: largest})
	for users.HasMorePages() {
		out, err := users.NextPage(ctx)
		require.NoError(t, err)
		require.LessOrEqual(t, len(out.Users), 100)
		pages++
		for _, u := range out.Users {
			require.False(t, seen[aws.ToString(u.UserId)], "user listed twice")
			seen[aws.ToString(u.UserId)] = true
		}
	}
	require.Equal(t, 3, pages)
	require.Len(t, seen, 250)

	pages, members := 0, 0
	memberships := identitystore.NewListGroupMembershipsPaginator(c.identityStore, &identitystore.ListGroupMembershipsInput{IdentityStoreId: store, GroupId: aws.String(awsGroupID("everyone")), MaxResults: largest})
	for memberships.HasMorePages() {
		out, err := memberships.NextPage(ctx)
		require.NoError(t, err)
		pages++
		members += len(out.GroupMemberships)
	}
	require.Equal(t, 3, pages)
	require.Equal(t, 250, members)

	readOnly := aws.String(world.PermissionSetARN(awsTestInstanceARN, "ReadOnlyAccess"))
	pages, accounts := 0, map[string]bool{}
	accountPages := ssoadmin.NewListAccountsForProvisionedPermissionSetPaginator(c.ssoAdmin, &ssoadmin.ListAccountsForProvisionedPermissionSetInput{InstanceArn: instance, PermissionSetArn: readOnly, MaxResults: largest})
	for accountPages.HasMorePages() {
		out, err := accountPages.NextPage(ctx)
		require.NoError(t, err)
		pages++
		for _, a := range out.AccountIds {
			accounts[a] = true
		}
	}
	require.Equal(t, 2, pages)
	require.Len(t, accounts, 130)

	admin := aws.String(world.PermissionSetARN(awsTestInstanceARN, "AdministratorAccess"))
	pages, principals := 0, map[string]bool{}
	assignmentPages := ssoadmin.NewListAccountAssignmentsPaginator(c.ssoAdmin, &ssoadmin.ListAccountAssignmentsInput{InstanceArn: instance, AccountId: aws.String("100000000000"), PermissionSetArn: admin, MaxResults: largest})
	for assignmentPages.HasMorePages() {
		out, err := assignmentPages.NextPage(ctx)
		require.NoError(t, err)
		pages++
		for _, a := range out.AccountAssignments {
			principals[aws.ToString(a.PrincipalId)] = true
		}
	}
	require.Equal(t, 2, pages)
	require.Len(t, principals, 110)

	// Without MaxResults the pages are smaller than the maximum.
	first, err := c.identityStore.ListUsers(ctx, &identitystore.ListUsersInput{IdentityStoreId: store})
	require.NoError(t, err)
	require.Less(t, len(first.Users), 100)
	require.NotNil(t, first.NextToken)

	// A token only continues the list it came from.
	_, err = c.identityStore.ListGroups(ctx, &identitystore.ListGroupsInput{IdentityStoreId: store, NextToken: first.NextToken})
	var invalid *idtypes.ValidationException
	require.ErrorAs(t, err, &invalid)
}

func TestAWSMaxResultsAboveTheLimitIsAValidationException(t *testing.T) {
	c := startSmallAWS(t)
	ctx := context.Background()

	_, err := c.identityStore.ListUsers(ctx, &identitystore.ListUsersInput{IdentityStoreId: aws.String(awsTestStoreID), MaxResults: aws.Int32(101)})
	var idInvalid *idtypes.ValidationException
	require.ErrorAs(t, err, &idInvalid)
	require.Contains(t, idInvalid.ErrorMessage(), "less than or equal to 100")
	requireAWSStatus(t, err, http.StatusBadRequest)

	_, err = c.ssoAdmin.ListAccountAssignments(ctx, &ssoadmin.ListAccountAssignmentsInput{
		InstanceArn: aws.String(awsTestInstanceARN), AccountId: aws.String(awsProdAccount),
		PermissionSetArn: aws.String(world.PermissionSetARN(awsTestInstanceARN, "AdministratorAccess")), MaxResults: aws.Int32(1000),
	})
	var ssoInvalid *ssotypes.ValidationException
	require.ErrorAs(t, err, &ssoInvalid)
}

func TestAWSUnknownIdentityStoreInstanceOrRegionIsNotFound(t *testing.T) {
	c := startSmallAWS(t)
	ctx := context.Background()

	_, err := c.identityStore.ListUsers(ctx, &identitystore.ListUsersInput{IdentityStoreId: aws.String("d-0000000000")})
	var idNotFound *idtypes.ResourceNotFoundException
	require.ErrorAs(t, err, &idNotFound)
	require.Equal(t, idtypes.ResourceTypeIdentityStore, idNotFound.ResourceType)

	// A malformed ID is refused before it is looked up, as AWS does.
	_, err = c.identityStore.ListGroups(ctx, &identitystore.ListGroupsInput{IdentityStoreId: aws.String("not-an-id")})
	var idInvalid *idtypes.ValidationException
	require.ErrorAs(t, err, &idInvalid)

	_, err = c.ssoAdmin.ListPermissionSets(ctx, &ssoadmin.ListPermissionSetsInput{InstanceArn: aws.String("arn:aws:sso:::instance/ssoins-0000000000000000")})
	var ssoNotFound *ssotypes.ResourceNotFoundException
	require.ErrorAs(t, err, &ssoNotFound)

	// Identity Center is regional: a client for another region finds no
	// instance and no identity store.
	other := startAWS(t, awsSmallWorld(), "us-east-1", awsStaticCreds())
	instances, err := other.ssoAdmin.ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	require.NoError(t, err)
	require.Empty(t, instances.Instances)
	_, err = other.identityStore.ListUsers(ctx, &identitystore.ListUsersInput{IdentityStoreId: aws.String(awsTestStoreID)})
	require.ErrorAs(t, err, &idNotFound)
}

func TestAWSUnsignedRequestsAreRefused(t *testing.T) {
	c := startAWS(t, awsSmallWorld(), awsTestRegion, aws.AnonymousCredentials{})
	_, err := c.identityStore.ListUsers(context.Background(), &identitystore.ListUsersInput{IdentityStoreId: aws.String(awsTestStoreID)})
	var apiErr smithy.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, "MissingAuthenticationTokenException", apiErr.ErrorCode())
	requireAWSStatus(t, err, http.StatusForbidden)
}

func TestAWSRequestSignedForAnotherServiceIsRefused(t *testing.T) {
	c := startSmallAWS(t)
	req, err := http.NewRequest(http.MethodPost, c.sb.AWSURL+"/", strings.NewReader(`{"IdentityStoreId":"d-1234567890"}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSIdentityStore.ListUsers")
	req.Header.Set("X-Amz-Date", "20240101T000000Z")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIASANDBOXEXAMPLE/20240101/eu-west-1/sso/aws4_request, SignedHeaders=host;x-amz-date, Signature=00")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Equal(t, "InvalidSignatureException", resp.Header.Get("X-Amzn-ErrorType"))
}

func TestAWSUnknownOperation(t *testing.T) {
	c := startSmallAWS(t)
	// CreateUser exists in the API but not (yet) in the sandbox.
	_, err := c.identityStore.CreateUser(context.Background(), &identitystore.CreateUserInput{IdentityStoreId: aws.String(awsTestStoreID), UserName: aws.String("x")})
	var apiErr smithy.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, "UnknownOperationException", apiErr.ErrorCode())
}

// TestAWSFaultsAreRetriedBySDK: with throttling and server errors injected the
// SDK's retryer (classifying the sandbox's errors as AWS's) still gets every
// answer; when the faults never stop, the SDK returns the typed throttle.
func TestAWSFaultsAreRetriedBySDK(t *testing.T) {
	w := awsSmallWorld()
	sb, err := sandbox.Start(w, sandbox.Options{Faults: sandbox.Faults{ThrottleRate: 0.2, ServerErrorRate: 0.3, Seed: 7}})
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	cfg := awsConfig(t, sb.AWSURL, awsclient.Options{MaxAttempts: 10, RequestsPerSecond: -1})
	client := identitystore.NewFromConfig(cfg)
	counter := apicalls.NewCounter()
	ctx := apicalls.WithCounter(context.Background(), counter)
	for range 5 {
		out, err := client.ListUsers(ctx, &identitystore.ListUsersInput{IdentityStoreId: aws.String(awsTestStoreID), MaxResults: aws.Int32(100)})
		require.NoError(t, err)
		require.Len(t, out.Users, 4)
	}
	require.Greater(t, counter.Total(), 5, "some calls were faulted and retried")

	always, err := sandbox.Start(w, sandbox.Options{Faults: sandbox.Faults{ThrottleRate: 1}})
	require.NoError(t, err)
	t.Cleanup(always.Close)
	_, err = identitystore.NewFromConfig(awsConfig(t, always.AWSURL, awsclient.Options{MaxAttempts: 1})).
		ListUsers(context.Background(), &identitystore.ListUsersInput{IdentityStoreId: aws.String(awsTestStoreID)})
	var throttled *idtypes.ThrottlingException
	require.ErrorAs(t, err, &throttled)
	requireAWSStatus(t, err, http.StatusBadRequest) // as the API references list ThrottlingException
}

// awsConfig loads the worker's configuration (internal/awsclient) from an
// environment that points at the sandbox, as the worker does.
func awsConfig(t *testing.T, endpoint string, opts awsclient.Options) aws.Config {
	t.Helper()
	t.Setenv("AWS_ENDPOINT_URL", endpoint)
	t.Setenv("AWS_REGION", awsTestRegion)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIASANDBOXEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "sandbox-secret-key")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	cfg, err := awsclient.Load(context.Background(), opts)
	require.NoError(t, err)
	return cfg
}

func requireAWSStatus(t *testing.T, err error, status int) {
	t.Helper()
	var respErr *awshttp.ResponseError
	require.True(t, errors.As(err, &respErr), "error %v carries no HTTP response", err)
	require.Equal(t, status, respErr.HTTPStatusCode())
}
