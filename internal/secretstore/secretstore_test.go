package secretstore

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/secretref"
)

const (
	tokenA = "11111111-1111-1111-1111-111111111111"
	tokenB = "22222222-2222-2222-2222-222222222222"
)

// client is a real Secrets Manager client talking to a sandbox.
func client(t *testing.T) *secretsmanager.Client {
	t.Helper()
	_, api := sandboxClient(t)
	return api
}

func TestPutCreatesTheSecretAndReadGivesItBack(t *testing.T) {
	ctx := context.Background()
	api := client(t)

	ref, err := Put(ctx, api, "ssocutover/scim-token", NewValue("token-value-1"), tokenA, map[string]string{"owner": "cutover-1"})
	require.NoError(t, err)
	require.NoError(t, ref.Validate(), "the reference has the shape the workflow checks")
	require.Equal(t, tokenA, ref.VersionID, "the version is named by the request token")

	value, err := Read(ctx, api, ref)
	require.NoError(t, err)
	require.Equal(t, "token-value-1", value.Reveal())

	secret, err := Describe(ctx, api, "ssocutover/scim-token")
	require.NoError(t, err)
	require.Equal(t, Secret{ARN: ref.ARN, Name: "ssocutover/scim-token", CurrentVersionID: tokenA, Tags: map[string]string{"owner": "cutover-1"}}, secret)
	require.Equal(t, ref, secret.Current())
}

func TestPutWithTheSameTokenAddsNoVersion(t *testing.T) {
	ctx := context.Background()
	api := client(t)
	first, err := Put(ctx, api, "s", NewValue("v"), tokenA, nil)
	require.NoError(t, err)
	again, err := Put(ctx, api, "s", NewValue("v"), tokenA, nil)
	require.NoError(t, err)
	require.Equal(t, first, again)

	out, err := api.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("s")})
	require.NoError(t, err)
	require.Len(t, out.VersionIdsToStages, 1, "a retried Put is the same version")
}

func TestPutWithAnotherTokenAddsTheCurrentVersion(t *testing.T) {
	ctx := context.Background()
	api := client(t)
	old, err := Put(ctx, api, "s", NewValue("old-value"), tokenA, nil)
	require.NoError(t, err)
	rotated, err := Put(ctx, api, "s", NewValue("new-value"), tokenB, nil)
	require.NoError(t, err)
	require.Equal(t, old.ARN, rotated.ARN)
	require.Equal(t, tokenB, rotated.VersionID)

	current, err := Read(ctx, api, secretref.Ref{ARN: old.ARN})
	require.NoError(t, err)
	require.Equal(t, "new-value", current.Reveal(), "no version ID means the current one")
	pinned, err := Read(ctx, api, old)
	require.NoError(t, err)
	require.Equal(t, "old-value", pinned.Reveal(), "a pinned version still reads its own value")

	secret, err := Describe(ctx, api, old.ARN)
	require.NoError(t, err)
	require.Equal(t, tokenB, secret.CurrentVersionID)
}

func TestPutRefusesATokenThatCannotBeAVersionID(t *testing.T) {
	ctx := context.Background()
	api := client(t)
	for _, token := range []string{"", "short"} {
		_, err := Put(ctx, api, "s", NewValue("the-secret-value"), token, nil)
		require.ErrorContains(t, err, "32 to 64 characters")
		require.NotContains(t, err.Error(), "the-secret-value")
	}
	_, err := Describe(ctx, api, "s")
	require.ErrorIs(t, err, ErrNotFound, "nothing was stored")
}

func TestNotFound(t *testing.T) {
	ctx := context.Background()
	api := client(t)
	_, err := Describe(ctx, api, "missing")
	require.ErrorIs(t, err, ErrNotFound)

	ref, err := Put(ctx, api, "s", NewValue("v"), tokenA, nil)
	require.NoError(t, err)
	_, err = Read(ctx, api, secretref.Ref{ARN: ref.ARN + "x"})
	require.ErrorIs(t, err, ErrNotFound)
	_, err = Read(ctx, api, secretref.Ref{ARN: ref.ARN, VersionID: tokenB})
	require.ErrorIs(t, err, ErrNotFound, "a version that does not exist")
}

func TestScheduledForDeletion(t *testing.T) {
	ctx := context.Background()
	api := client(t)
	ref, err := Put(ctx, api, "s", NewValue("the-secret-value"), tokenA, nil)
	require.NoError(t, err)
	_, err = api.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(ref.ARN)})
	require.NoError(t, err)

	secret, err := Describe(ctx, api, "s")
	require.NoError(t, err)
	require.True(t, secret.ScheduledForDeletion)

	_, err = Read(ctx, api, ref)
	require.Error(t, err)
	require.False(t, errors.Is(err, ErrNotFound), "it exists, and can be restored")
	_, err = Put(ctx, api, "s", NewValue("the-secret-value"), tokenB, nil)
	require.Error(t, err)
	require.NotContains(t, err.Error(), "the-secret-value", "errors name the secret, never its value")
}

func TestReadRefusesBinary(t *testing.T) {
	ctx := context.Background()
	api := client(t)
	out, err := api.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("b"), SecretBinary: []byte{1, 2}, ClientRequestToken: aws.String(tokenA)})
	require.NoError(t, err)
	_, err = Read(ctx, api, secretref.Ref{ARN: aws.ToString(out.ARN)})
	require.ErrorIs(t, err, ErrNotText)
}
