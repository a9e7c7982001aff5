package sandbox_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/sandbox/world"
)

// listGroupAssignments returns the account IDs where group has permission
// set in the small world's accounts, read back through the list operations.
func listGroupAssignments(t *testing.T, c awsClients, group, permissionSet string) []string {
	t.Helper()
	out, err := c.ssoAdmin.ListAccountAssignmentsForPrincipal(context.Background(), &ssoadmin.ListAccountAssignmentsForPrincipalInput{
		InstanceArn: aws.String(awsTestInstanceARN), PrincipalId: aws.String(awsGroupID(group)), PrincipalType: ssotypes.PrincipalTypeGroup, MaxResults: aws.Int32(100),
	})
	require.NoError(t, err)
	accounts := []string{}
	for _, a := range out.AccountAssignments {
		if aws.ToString(a.PermissionSetArn) == permissionSet {
			accounts = append(accounts, aws.ToString(a.AccountId))
		}
	}
	return accounts
}

func TestAWSAssignmentWritesCreateAndDelete(t *testing.T) {
	c := startSmallAWS(t)
	ctx := context.Background()
	instance := aws.String(awsTestInstanceARN)
	admin := world.PermissionSetARN(awsTestInstanceARN, "AdministratorAccess")
	assignment := func() *ssoadmin.CreateAccountAssignmentInput {
		return &ssoadmin.CreateAccountAssignmentInput{
			InstanceArn: instance, TargetId: aws.String(awsDevAccount), TargetType: ssotypes.TargetTypeAwsAccount,
			PermissionSetArn: aws.String(admin), PrincipalType: ssotypes.PrincipalTypeGroup, PrincipalId: aws.String(awsGroupID("aws-admins")),
		}
	}
	require.Equal(t, []string{awsProdAccount}, listGroupAssignments(t, c, "aws-admins", admin))

	created, err := c.ssoAdmin.CreateAccountAssignment(ctx, assignment())
	require.NoError(t, err)
	status := created.AccountAssignmentCreationStatus
	require.Equal(t, ssotypes.StatusValuesInProgress, status.Status)
	require.NotEmpty(t, aws.ToString(status.RequestId))
	require.Equal(t, awsDevAccount, aws.ToString(status.TargetId))
	require.Equal(t, admin, aws.ToString(status.PermissionSetArn))
	require.Equal(t, awsGroupID("aws-admins"), aws.ToString(status.PrincipalId))

	described, err := c.ssoAdmin.DescribeAccountAssignmentCreationStatus(ctx, &ssoadmin.DescribeAccountAssignmentCreationStatusInput{
		InstanceArn: instance, AccountAssignmentCreationRequestId: status.RequestId,
	})
	require.NoError(t, err)
	require.Equal(t, ssotypes.StatusValuesSucceeded, described.AccountAssignmentCreationStatus.Status)
	require.Equal(t, aws.ToString(status.RequestId), aws.ToString(described.AccountAssignmentCreationStatus.RequestId))

	// Every read sees the new assignment.
	require.ElementsMatch(t, []string{awsProdAccount, awsDevAccount}, listGroupAssignments(t, c, "aws-admins", admin))
	byTarget, err := c.ssoAdmin.ListAccountAssignments(ctx, &ssoadmin.ListAccountAssignmentsInput{InstanceArn: instance, AccountId: aws.String(awsDevAccount), PermissionSetArn: aws.String(admin)})
	require.NoError(t, err)
	var principals []string
	for _, a := range byTarget.AccountAssignments {
		principals = append(principals, aws.ToString(a.PrincipalId))
	}
	require.ElementsMatch(t, []string{awsUserID("carol@corp.example"), awsGroupID("aws-admins")}, principals)

	// Creating it again succeeds, with no second copy.
	again, err := c.ssoAdmin.CreateAccountAssignment(ctx, assignment())
	require.NoError(t, err)
	require.NotEqual(t, aws.ToString(status.RequestId), aws.ToString(again.AccountAssignmentCreationStatus.RequestId))
	againStatus, err := c.ssoAdmin.DescribeAccountAssignmentCreationStatus(ctx, &ssoadmin.DescribeAccountAssignmentCreationStatusInput{
		InstanceArn: instance, AccountAssignmentCreationRequestId: again.AccountAssignmentCreationStatus.RequestId,
	})
	require.NoError(t, err)
	require.Equal(t, ssotypes.StatusValuesSucceeded, againStatus.AccountAssignmentCreationStatus.Status)
	require.ElementsMatch(t, []string{awsProdAccount, awsDevAccount}, listGroupAssignments(t, c, "aws-admins", admin))

	// Delete it, and the last assignment of the permission set in prod: the
	// set is then provisioned to dev only.
	for _, account := range []string{awsDevAccount, awsProdAccount} {
		deleted, err := c.ssoAdmin.DeleteAccountAssignment(ctx, &ssoadmin.DeleteAccountAssignmentInput{
			InstanceArn: instance, TargetId: aws.String(account), TargetType: ssotypes.TargetTypeAwsAccount,
			PermissionSetArn: aws.String(admin), PrincipalType: ssotypes.PrincipalTypeGroup, PrincipalId: aws.String(awsGroupID("aws-admins")),
		})
		require.NoError(t, err)
		require.Equal(t, ssotypes.StatusValuesInProgress, deleted.AccountAssignmentDeletionStatus.Status)
		deletion, err := c.ssoAdmin.DescribeAccountAssignmentDeletionStatus(ctx, &ssoadmin.DescribeAccountAssignmentDeletionStatusInput{
			InstanceArn: instance, AccountAssignmentDeletionRequestId: deleted.AccountAssignmentDeletionStatus.RequestId,
		})
		require.NoError(t, err)
		require.Equal(t, ssotypes.StatusValuesSucceeded, deletion.AccountAssignmentDeletionStatus.Status)
	}
	require.Empty(t, listGroupAssignments(t, c, "aws-admins", admin))
	provisioned, err := c.ssoAdmin.ListAccountsForProvisionedPermissionSet(ctx, &ssoadmin.ListAccountsForProvisionedPermissionSetInput{InstanceArn: instance, PermissionSetArn: aws.String(admin)})
	require.NoError(t, err)
	require.Equal(t, []string{awsDevAccount}, provisioned.AccountIds)

	// A creation request is not a deletion request.
	_, err = c.ssoAdmin.DescribeAccountAssignmentDeletionStatus(ctx, &ssoadmin.DescribeAccountAssignmentDeletionStatusInput{
		InstanceArn: instance, AccountAssignmentDeletionRequestId: status.RequestId,
	})
	var notFound *ssotypes.ResourceNotFoundException
	require.ErrorAs(t, err, &notFound)
}

func TestAWSAssignmentWritesFailuresAndErrors(t *testing.T) {
	c := startSmallAWS(t)
	ctx := context.Background()
	instance := aws.String(awsTestInstanceARN)
	readOnly := aws.String(world.PermissionSetARN(awsTestInstanceARN, "ReadOnlyAccess"))
	create := func(account, principalType, principalID string, permissionSet *string) (*ssoadmin.CreateAccountAssignmentOutput, error) {
		return c.ssoAdmin.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{
			InstanceArn: instance, TargetId: aws.String(account), TargetType: ssotypes.TargetTypeAwsAccount,
			PermissionSetArn: permissionSet, PrincipalType: ssotypes.PrincipalType(principalType), PrincipalId: aws.String(principalID),
		})
	}
	describe := func(out *ssoadmin.CreateAccountAssignmentOutput) *ssotypes.AccountAssignmentOperationStatus {
		described, err := c.ssoAdmin.DescribeAccountAssignmentCreationStatus(ctx, &ssoadmin.DescribeAccountAssignmentCreationStatusInput{
			InstanceArn: instance, AccountAssignmentCreationRequestId: out.AccountAssignmentCreationStatus.RequestId,
		})
		require.NoError(t, err)
		return described.AccountAssignmentCreationStatus
	}

	// A principal missing from the identity store, or an account outside the
	// organisation, fails the request, not the call.
	out, err := create(awsDevAccount, "GROUP", awsGroupID("no-such-group"), readOnly)
	require.NoError(t, err)
	failed := describe(out)
	require.Equal(t, ssotypes.StatusValuesFailed, failed.Status)
	require.Contains(t, aws.ToString(failed.FailureReason), "does not exist")
	out, err = create("999999999999", "USER", awsUserID("dave@corp.example"), readOnly)
	require.NoError(t, err)
	require.Equal(t, ssotypes.StatusValuesFailed, describe(out).Status)
	require.Empty(t, listGroupAssignments(t, c, "no-such-group", aws.ToString(readOnly)))

	// A user assignment works like a group one.
	out, err = create(awsDevAccount, "USER", awsUserID("dave@corp.example"), readOnly)
	require.NoError(t, err)
	require.Equal(t, ssotypes.StatusValuesSucceeded, describe(out).Status)
	forDave, err := c.ssoAdmin.ListAccountAssignmentsForPrincipal(ctx, &ssoadmin.ListAccountAssignmentsForPrincipalInput{
		InstanceArn: instance, PrincipalId: aws.String(awsUserID("dave@corp.example")), PrincipalType: ssotypes.PrincipalTypeUser,
	})
	require.NoError(t, err)
	require.Len(t, forDave.AccountAssignments, 1)

	_, err = create(awsDevAccount, "GROUP", awsGroupID("aws-readers"), aws.String(awsTestInstanceARN+"/ps-0000000000000000"))
	var notFound *ssotypes.ResourceNotFoundException
	require.ErrorAs(t, err, &notFound)
	_, err = create("not-an-account", "GROUP", awsGroupID("aws-readers"), readOnly)
	var invalid *ssotypes.ValidationException
	require.ErrorAs(t, err, &invalid)
	_, err = c.ssoAdmin.DescribeAccountAssignmentCreationStatus(ctx, &ssoadmin.DescribeAccountAssignmentCreationStatusInput{
		InstanceArn: instance, AccountAssignmentCreationRequestId: aws.String("11111111-1111-1111-1111-111111111111"),
	})
	require.ErrorAs(t, err, &notFound)
}

// From a delegated administrator account, AWS refuses assignments in the
// management account and the per-principal listing, and allows the rest.
func TestAWSDelegatedAdministratorIsRefusedTheManagementAccount(t *testing.T) {
	w := awsSmallWorld()
	w.AWS.DelegatedAdministrator = awsDevAccount
	c := startAWS(t, w, awsTestRegion, awsStaticCreds())
	ctx := context.Background()
	admin := world.PermissionSetARN(awsTestInstanceARN, "AdministratorAccess")
	create := func(account string) error {
		_, err := c.ssoAdmin.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{
			InstanceArn: aws.String(awsTestInstanceARN), TargetId: aws.String(account), TargetType: ssotypes.TargetTypeAwsAccount,
			PermissionSetArn: aws.String(admin), PrincipalType: ssotypes.PrincipalTypeGroup, PrincipalId: aws.String(awsGroupID("aws-readers")),
		})
		return err
	}
	var denied *ssotypes.AccessDeniedException
	require.ErrorAs(t, create(w.AWS.Accounts[0].ID), &denied, "the management account")
	require.Contains(t, denied.ErrorMessage(), "management account")
	require.NoError(t, create(awsDevAccount), "a member account")

	_, err := c.ssoAdmin.ListAccountAssignmentsForPrincipal(ctx, &ssoadmin.ListAccountAssignmentsForPrincipalInput{
		InstanceArn: aws.String(awsTestInstanceARN), PrincipalId: aws.String(awsGroupID("aws-admins")), PrincipalType: ssotypes.PrincipalTypeGroup,
	})
	require.ErrorAs(t, err, &denied)
	_, err = c.ssoAdmin.ListAccountAssignments(ctx, &ssoadmin.ListAccountAssignmentsInput{
		InstanceArn: aws.String(awsTestInstanceARN), AccountId: aws.String(w.AWS.Accounts[0].ID), PermissionSetArn: aws.String(admin),
	})
	require.NoError(t, err, "listing per pair is allowed")
}
