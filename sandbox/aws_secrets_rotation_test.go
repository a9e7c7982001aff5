package sandbox_test

// The Secrets Manager calls of a token rotation: a new version stored as
// AWSPENDING, read by its version ID, listed with its date, then promoted
// to AWSCURRENT with UpdateSecretVersionStage.

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/stretchr/testify/require"
)

const thirdToken = "33333333-3333-4333-8333-333333333333"

// stagesByVersion lists the secret's versions as ListSecretVersionIds does.
func stagesByVersion(t *testing.T, c awsClients, secretID string, includeDeprecated bool) map[string][]string {
	t.Helper()
	out, err := c.secretsManager.ListSecretVersionIds(context.Background(), &secretsmanager.ListSecretVersionIdsInput{
		SecretId: aws.String(secretID), IncludeDeprecated: aws.Bool(includeDeprecated),
	})
	require.NoError(t, err)
	got := map[string][]string{}
	for _, v := range out.Versions {
		require.NotNil(t, v.CreatedDate, "every version has its CreatedDate")
		got[aws.ToString(v.VersionId)] = v.VersionStages
	}
	return got
}

func TestAWSSecretsPendingVersionIsPromotedWithUpdateSecretVersionStage(t *testing.T) {
	c, recorder := startRecordedAWS(t)
	ctx := context.Background()
	created, err := c.secretsManager.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String(scimSecretName), ClientRequestToken: aws.String(firstToken), SecretString: aws.String(scimToken),
	})
	require.NoError(t, err)
	arn := aws.ToString(created.ARN)

	// A pending version: stored, not current.
	pending, err := c.secretsManager.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(arn), ClientRequestToken: aws.String(secondToken), SecretString: aws.String(scimTokenNext),
		VersionStages: []string{"AWSPENDING"},
	})
	require.NoError(t, err)
	require.Equal(t, []string{"AWSPENDING"}, pending.VersionStages)
	current, err := c.secretsManager.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	require.NoError(t, err)
	require.Equal(t, scimToken, aws.ToString(current.SecretString), "AWSCURRENT stays where it was")
	byID, err := c.secretsManager.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionId: aws.String(secondToken)})
	require.NoError(t, err)
	require.Equal(t, scimTokenNext, aws.ToString(byID.SecretString))
	require.Equal(t, []string{"AWSPENDING"}, byID.VersionStages)

	// Another pending version takes AWSPENDING off the first.
	_, err = c.secretsManager.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(arn), ClientRequestToken: aws.String(thirdToken), SecretString: aws.String("scim-token-third-0000000000000000"),
		VersionStages: []string{"AWSPENDING"},
	})
	require.NoError(t, err)
	require.Equal(t, map[string][]string{firstToken: {"AWSCURRENT"}, thirdToken: {"AWSPENDING"}}, stagesByVersion(t, c, arn, false),
		"a version without a label is deprecated: listed only with IncludeDeprecated")
	require.Equal(t, map[string][]string{firstToken: {"AWSCURRENT"}, secondToken: {}, thirdToken: {"AWSPENDING"}}, stagesByVersion(t, c, arn, true))

	// Moving AWSCURRENT needs the version that has it.
	_, err = c.secretsManager.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
		SecretId: aws.String(arn), VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(thirdToken),
	})
	var invalidParameter *smtypes.InvalidParameterException
	require.ErrorAs(t, err, &invalidParameter, "AWSCURRENT is on another version: RemoveFromVersionId is required")
	_, err = c.secretsManager.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
		SecretId: aws.String(arn), VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(thirdToken), RemoveFromVersionId: aws.String(secondToken),
	})
	require.ErrorAs(t, err, &invalidParameter, "RemoveFromVersionId must be the version that has the label")
	_, err = c.secretsManager.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
		SecretId: aws.String(arn), VersionStage: aws.String("AWSCURRENT"), RemoveFromVersionId: aws.String(firstToken),
	})
	require.ErrorAs(t, err, &invalidParameter, "AWSCURRENT can be moved, not removed")
	_, err = c.secretsManager.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
		SecretId: aws.String(arn), VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String("44444444-4444-4444-8444-444444444444"), RemoveFromVersionId: aws.String(firstToken),
	})
	var notFound *smtypes.ResourceNotFoundException
	require.ErrorAs(t, err, &notFound, "no such version")
	require.Equal(t, map[string][]string{firstToken: {"AWSCURRENT"}, thirdToken: {"AWSPENDING"}}, stagesByVersion(t, c, arn, false), "refused calls change nothing")

	// The promotion: the old current becomes AWSPREVIOUS.
	moved, err := c.secretsManager.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
		SecretId: aws.String(scimSecretName), VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(thirdToken), RemoveFromVersionId: aws.String(firstToken),
	})
	require.NoError(t, err)
	require.Equal(t, arn, aws.ToString(moved.ARN))
	require.Equal(t, scimSecretName, aws.ToString(moved.Name))
	// The same call again names a RemoveFromVersionId that no longer has
	// the label: refused, as the documentation says. Moving the label to
	// the version that has it is a success that changes nothing.
	_, err = c.secretsManager.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
		SecretId: aws.String(scimSecretName), VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(thirdToken), RemoveFromVersionId: aws.String(firstToken),
	})
	require.ErrorAs(t, err, &invalidParameter)
	_, err = c.secretsManager.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
		SecretId: aws.String(scimSecretName), VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(thirdToken),
	})
	require.NoError(t, err)
	require.Equal(t, map[string][]string{firstToken: {"AWSPREVIOUS"}, thirdToken: {"AWSCURRENT", "AWSPENDING"}}, stagesByVersion(t, c, arn, false))
	current, err = c.secretsManager.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	require.NoError(t, err)
	require.Equal(t, thirdToken, aws.ToString(current.VersionId))

	// AWSPENDING can be removed alone.
	_, err = c.secretsManager.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
		SecretId: aws.String(arn), VersionStage: aws.String("AWSPENDING"), RemoveFromVersionId: aws.String(thirdToken),
	})
	require.NoError(t, err)
	described, err := c.secretsManager.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(arn)})
	require.NoError(t, err)
	require.Equal(t, map[string][]string{firstToken: {"AWSPREVIOUS"}, secondToken: {}, thirdToken: {"AWSCURRENT"}}, described.VersionIdsToStages)

	// No answer but GetSecretValue's carries a value.
	for _, op := range recorder.operationsAnswering(scimTokenNext) {
		require.Equal(t, "secretsmanager.GetSecretValue", op)
	}
}

func TestAWSSecretsListSecretVersionIdsPages(t *testing.T) {
	c := startSmallAWS(t)
	ctx := context.Background()
	_, err := c.secretsManager.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String(scimSecretName), ClientRequestToken: aws.String(firstToken), SecretString: aws.String(scimToken),
	})
	require.NoError(t, err)
	_, err = c.secretsManager.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(scimSecretName), ClientRequestToken: aws.String(secondToken), SecretString: aws.String(scimTokenNext),
	})
	require.NoError(t, err)
	var ids []string
	pages := secretsmanager.NewListSecretVersionIdsPaginator(c.secretsManager, &secretsmanager.ListSecretVersionIdsInput{
		SecretId: aws.String(scimSecretName), MaxResults: aws.Int32(1),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		require.NoError(t, err)
		require.Len(t, page.Versions, 1)
		ids = append(ids, aws.ToString(page.Versions[0].VersionId))
	}
	require.Equal(t, []string{firstToken, secondToken}, ids)

	_, err = c.secretsManager.ListSecretVersionIds(ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String("no-such-secret")})
	var notFound *smtypes.ResourceNotFoundException
	require.ErrorAs(t, err, &notFound)
}

func TestAWSSecretsVersionsAreDatedByTheSandboxClock(t *testing.T) {
	c := startSmallAWS(t)
	ctx := context.Background()
	_, err := c.secretsManager.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String(scimSecretName), ClientRequestToken: aws.String(firstToken), SecretString: aws.String(scimToken),
	})
	require.NoError(t, err)
	later := c.sb.AdvanceClock(400 * 24 * time.Hour)
	require.WithinDuration(t, time.Now().Add(400*24*time.Hour), later, time.Minute)
	require.WithinDuration(t, later, c.sb.Now(), time.Minute)
	_, err = c.secretsManager.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(scimSecretName), ClientRequestToken: aws.String(secondToken), SecretString: aws.String(scimTokenNext),
	})
	require.NoError(t, err)

	out, err := c.secretsManager.ListSecretVersionIds(ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String(scimSecretName)})
	require.NoError(t, err)
	require.Len(t, out.Versions, 2)
	require.WithinDuration(t, time.Now(), aws.ToTime(out.Versions[0].CreatedDate), time.Minute)
	require.WithinDuration(t, later, aws.ToTime(out.Versions[1].CreatedDate), time.Minute)
	value, err := c.secretsManager.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(scimSecretName)})
	require.NoError(t, err)
	require.WithinDuration(t, later, aws.ToTime(value.CreatedDate), time.Minute)
}
