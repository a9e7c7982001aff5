package sandbox_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/stretchr/testify/require"
)

const (
	scimSecretName = "ssocutover/cutover-1/scim-token"
	scimToken      = "scim-token-first-0123456789abcdef"
	scimTokenNext  = "scim-token-second-fedcba9876543210"
	firstToken     = "11111111-1111-4111-8111-111111111111"
	secondToken    = "22222222-2222-4222-8222-222222222222"
)

func TestAWSSecretsCreatePutGetDescribe(t *testing.T) {
	c, recorder := startRecordedAWS(t)
	ctx := context.Background()

	created, err := c.secretsManager.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String(scimSecretName), ClientRequestToken: aws.String(firstToken), SecretString: aws.String(scimToken),
		Description: aws.String("AWS SCIM bearer token"),
		Tags:        []smtypes.Tag{{Key: aws.String("ssocutover:workflow"), Value: aws.String("cutover-1")}},
	})
	require.NoError(t, err)
	arn := aws.ToString(created.ARN)
	require.Regexp(t, `^arn:aws:secretsmanager:eu-west-1:111111111111:secret:ssocutover/cutover-1/scim-token-[A-Za-z0-9]{6}$`, arn)
	require.Equal(t, scimSecretName, aws.ToString(created.Name))
	require.Equal(t, firstToken, aws.ToString(created.VersionId), "the request token is the version ID")

	// A retry of the same create (same token, same value) succeeds and
	// creates nothing new.
	again, err := c.secretsManager.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String(scimSecretName), ClientRequestToken: aws.String(firstToken), SecretString: aws.String(scimToken),
	})
	require.NoError(t, err)
	require.Equal(t, arn, aws.ToString(again.ARN))
	require.Equal(t, firstToken, aws.ToString(again.VersionId))

	byName, err := c.secretsManager.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(scimSecretName)})
	require.NoError(t, err)
	require.Equal(t, scimToken, aws.ToString(byName.SecretString))
	require.Equal(t, firstToken, aws.ToString(byName.VersionId))
	require.Equal(t, []string{"AWSCURRENT"}, byName.VersionStages)
	require.NotNil(t, byName.CreatedDate)

	put, err := c.secretsManager.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(arn), ClientRequestToken: aws.String(secondToken), SecretString: aws.String(scimTokenNext),
	})
	require.NoError(t, err)
	require.Equal(t, secondToken, aws.ToString(put.VersionId))
	require.Equal(t, []string{"AWSCURRENT"}, put.VersionStages)
	putAgain, err := c.secretsManager.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(arn), ClientRequestToken: aws.String(secondToken), SecretString: aws.String(scimTokenNext),
	})
	require.NoError(t, err, "a retried put with the same token and value succeeds")
	require.Equal(t, secondToken, aws.ToString(putAgain.VersionId))

	current, err := c.secretsManager.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	require.NoError(t, err)
	require.Equal(t, scimTokenNext, aws.ToString(current.SecretString))
	previous, err := c.secretsManager.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionStage: aws.String("AWSPREVIOUS")})
	require.NoError(t, err)
	require.Equal(t, scimToken, aws.ToString(previous.SecretString))
	byVersion, err := c.secretsManager.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(scimSecretName), VersionId: aws.String(firstToken)})
	require.NoError(t, err)
	require.Equal(t, scimToken, aws.ToString(byVersion.SecretString))
	require.Equal(t, []string{"AWSPREVIOUS"}, byVersion.VersionStages)

	described, err := c.secretsManager.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(scimSecretName)})
	require.NoError(t, err)
	require.Equal(t, arn, aws.ToString(described.ARN))
	require.Equal(t, "AWS SCIM bearer token", aws.ToString(described.Description))
	require.NotNil(t, described.CreatedDate)
	require.Nil(t, described.DeletedDate)
	require.Equal(t, []smtypes.Tag{{Key: aws.String("ssocutover:workflow"), Value: aws.String("cutover-1")}}, described.Tags)
	require.Equal(t, map[string][]string{firstToken: {"AWSPREVIOUS"}, secondToken: {"AWSCURRENT"}}, described.VersionIdsToStages)

	// Binary secrets travel base64-encoded and come back as bytes.
	_, err = c.secretsManager.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("binary"), SecretBinary: []byte{0, 1, 2, 255}})
	require.NoError(t, err)
	binary, err := c.secretsManager.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("binary")})
	require.NoError(t, err)
	require.Equal(t, []byte{0, 1, 2, 255}, binary.SecretBinary)
	require.Nil(t, binary.SecretString)

	// The values appear in GetSecretValue answers and nowhere else.
	require.Equal(t, []string{"secretsmanager.GetSecretValue", "secretsmanager.GetSecretValue", "secretsmanager.GetSecretValue"}, recorder.operationsAnswering(scimToken))
	require.Equal(t, []string{"secretsmanager.GetSecretValue"}, recorder.operationsAnswering(scimTokenNext))
}

func TestAWSSecretsTypedErrors(t *testing.T) {
	c := startSmallAWS(t)
	ctx := context.Background()

	_, err := c.secretsManager.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(scimSecretName)})
	var notFound *smtypes.ResourceNotFoundException
	require.ErrorAs(t, err, &notFound)
	requireAWSStatus(t, err, http.StatusBadRequest)
	_, err = c.secretsManager.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(scimSecretName), SecretString: aws.String(scimToken)})
	require.ErrorAs(t, err, &notFound)
	_, err = c.secretsManager.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("arn:aws:secretsmanager:eu-west-1:111111111111:secret:" + scimSecretName + "-AbCdEf")})
	require.ErrorAs(t, err, &notFound)

	created, err := c.secretsManager.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(scimSecretName), ClientRequestToken: aws.String(firstToken), SecretString: aws.String(scimToken)})
	require.NoError(t, err)

	// The same name with another token, or the same token with another
	// value, is a second secret: refused.
	_, err = c.secretsManager.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(scimSecretName), SecretString: aws.String(scimToken)})
	var exists *smtypes.ResourceExistsException
	require.ErrorAs(t, err, &exists)
	require.NotContains(t, exists.ErrorMessage(), scimToken)
	_, err = c.secretsManager.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(scimSecretName), ClientRequestToken: aws.String(firstToken), SecretString: aws.String(scimTokenNext)})
	require.ErrorAs(t, err, &exists)
	require.NotContains(t, exists.ErrorMessage(), scimTokenNext)
	_, err = c.secretsManager.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: created.ARN, ClientRequestToken: aws.String(firstToken), SecretString: aws.String(scimTokenNext)})
	require.ErrorAs(t, err, &exists, "a version cannot change its value")

	_, err = c.secretsManager.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: created.ARN, VersionStage: aws.String("AWSPREVIOUS")})
	require.ErrorAs(t, err, &notFound, "a secret with one version has no AWSPREVIOUS")
	_, err = c.secretsManager.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: created.ARN, VersionId: aws.String(secondToken)})
	require.ErrorAs(t, err, &notFound)

	_, err = c.secretsManager.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("both"), SecretString: aws.String("s"), SecretBinary: []byte("b")})
	var invalidParameter *smtypes.InvalidParameterException
	require.ErrorAs(t, err, &invalidParameter)
	_, err = c.secretsManager.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("bad name!"), SecretString: aws.String("s")})
	require.ErrorAs(t, err, &invalidParameter)
	_, err = c.secretsManager.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: created.ARN, RecoveryWindowInDays: aws.Int64(3)})
	require.ErrorAs(t, err, &invalidParameter)
	_, err = c.secretsManager.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: created.ARN, RecoveryWindowInDays: aws.Int64(7), ForceDeleteWithoutRecovery: aws.Bool(true)})
	require.ErrorAs(t, err, &invalidParameter)

	// A secret created without a value gets its first version, AWSCURRENT,
	// from PutSecretValue; its create can be retried with the same token.
	for range 2 {
		empty, err := c.secretsManager.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("empty"), ClientRequestToken: aws.String(secondToken)})
		require.NoError(t, err)
		require.Nil(t, empty.VersionId)
	}
	_, err = c.secretsManager.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("empty")})
	require.ErrorAs(t, err, &notFound, "no value yet")
	first, err := c.secretsManager.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("empty"), SecretString: aws.String(scimToken)})
	require.NoError(t, err)
	require.Equal(t, []string{"AWSCURRENT"}, first.VersionStages)

	// Secrets are regional: a client for another region does not see it.
	other := startAWS(t, awsSmallWorld(), "us-east-1", awsStaticCreds())
	_, err = other.secretsManager.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(scimSecretName)})
	require.ErrorAs(t, err, &notFound)
}

func TestAWSSecretsDelete(t *testing.T) {
	c := startSmallAWS(t)
	ctx := context.Background()
	name := aws.String(scimSecretName)

	created, err := c.secretsManager.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: name, SecretString: aws.String(scimToken)})
	require.NoError(t, err)
	deleted, err := c.secretsManager.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: name, RecoveryWindowInDays: aws.Int64(7)})
	require.NoError(t, err)
	require.Equal(t, aws.ToString(created.ARN), aws.ToString(deleted.ARN))
	require.NotNil(t, deleted.DeletionDate)

	// Within the recovery window the secret exists, refuses its value and a
	// second secret of its name.
	_, err = c.secretsManager.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: name})
	var invalidRequest *smtypes.InvalidRequestException
	require.ErrorAs(t, err, &invalidRequest)
	require.Contains(t, invalidRequest.ErrorMessage(), "marked for deletion")
	_, err = c.secretsManager.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: name, SecretString: aws.String(scimTokenNext)})
	require.ErrorAs(t, err, &invalidRequest)
	_, err = c.secretsManager.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: name, SecretString: aws.String(scimToken)})
	require.ErrorAs(t, err, &invalidRequest)
	described, err := c.secretsManager.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: created.ARN})
	require.NoError(t, err)
	require.NotNil(t, described.DeletedDate)

	// Forced deletion removes it at once: the name is free again.
	_, err = c.secretsManager.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: name, ForceDeleteWithoutRecovery: aws.Bool(true)})
	require.NoError(t, err)
	_, err = c.secretsManager.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: name})
	var notFound *smtypes.ResourceNotFoundException
	require.ErrorAs(t, err, &notFound)
	_, err = c.secretsManager.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: name, SecretString: aws.String(scimTokenNext)})
	require.NoError(t, err)
	value, err := c.secretsManager.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: name})
	require.NoError(t, err)
	require.Equal(t, scimTokenNext, aws.ToString(value.SecretString))
}
