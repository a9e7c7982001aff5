package sandbox_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"
)

// The AWS CLI reads who the sandbox's credentials are, what they may do,
// and the instance, as it reads AWS.
func TestAWSCLIReadsTheCallerAndItsPermissions(t *testing.T) {
	w := awsSmallWorld()
	w.AWS.DeniedActions = []string{"sso:CreateAccountAssignment"}
	c := startAWS(t, w, awsTestRegion, awsStaticCreds())

	var who struct{ Account, Arn, UserId string }
	awsCLI(t, c, &who, "sts", "get-caller-identity")
	require.Equal(t, w.AWS.Accounts[0].ID, who.Account)
	require.Equal(t, "arn:aws:sts::"+who.Account+":assumed-role/ssocutover-worker/sandbox", who.Arn)

	var sim struct {
		EvaluationResults []struct{ EvalActionName, EvalResourceName, EvalDecision string }
	}
	awsCLI(t, c, &sim, "iam", "simulate-principal-policy", "--policy-source-arn", "arn:aws:iam::"+who.Account+":role/ssocutover-worker",
		"--action-names", "sso:ListInstances", "sso:CreateAccountAssignment", "--resource-arns", awsTestInstanceARN)
	require.Len(t, sim.EvaluationResults, 2)
	require.Equal(t, "allowed", sim.EvaluationResults[0].EvalDecision)
	require.Equal(t, "implicitDeny", sim.EvaluationResults[1].EvalDecision)
	require.Equal(t, awsTestInstanceARN, sim.EvaluationResults[1].EvalResourceName)

	var instance struct{ InstanceArn, OwnerAccountId, Status string }
	awsCLI(t, c, &instance, "sso-admin", "describe-instance", "--instance-arn", awsTestInstanceARN)
	require.Equal(t, "ACTIVE", instance.Status)
	require.Equal(t, who.Account, instance.OwnerAccountId)
}

// A denied action is refused as AWS refuses it, and nothing changes.
func TestADeniedActionIsRefused(t *testing.T) {
	w := awsSmallWorld()
	w.AWS.DeniedActions = []string{"SSO:createAccountAssignment"} // IAM action names ignore case
	c := startAWS(t, w, awsTestRegion, awsStaticCreds())
	_, err := c.ssoAdmin.CreateAccountAssignment(context.Background(), &ssoadmin.CreateAccountAssignmentInput{
		InstanceArn: aws.String(awsTestInstanceARN), PermissionSetArn: aws.String("arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-0000000000000000"),
		PrincipalId: aws.String(awsUserID("alice")), PrincipalType: "USER", TargetId: aws.String(w.AWS.Accounts[0].ID), TargetType: "AWS_ACCOUNT",
	})
	var api smithy.APIError
	require.True(t, errors.As(err, &api), "%v", err)
	require.Equal(t, "AccessDeniedException", api.ErrorCode())
	require.Contains(t, api.ErrorMessage(), "is not authorized to perform: sso:CreateAccountAssignment")
	_, err = c.ssoAdmin.ListInstances(context.Background(), &ssoadmin.ListInstancesInput{})
	require.NoError(t, err, "other actions are allowed")
}
