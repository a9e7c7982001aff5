package secretstore

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/awsclient"
	"github.com/platformguide/ssocutover/internal/secretref"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/world"
)

const (
	tokenC = "33333333-3333-3333-3333-333333333333"
	tokenD = "44444444-4444-4444-4444-444444444444"
)

// sandboxClient is a real Secrets Manager client talking to a sandbox,
// returned too: a test may move its clock.
func sandboxClient(t *testing.T) (*sandbox.Sandbox, *secretsmanager.Client) {
	t.Helper()
	sb, err := sandbox.Start(world.Sample(), sandbox.Options{})
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	t.Setenv("AWS_ENDPOINT_URL", sb.AWSURL)
	t.Setenv("AWS_REGION", world.Sample().AWS.Region)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIASANDBOXEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "sandbox-secret-key")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	cfg, err := awsclient.Load(context.Background(), awsclient.Options{RequestsPerSecond: -1})
	require.NoError(t, err)
	return sb, secretsmanager.NewFromConfig(cfg)
}

// stages maps version IDs to their labels.
func stages(t *testing.T, api API, name string) map[string][]string {
	t.Helper()
	versions, err := ListVersions(context.Background(), api, name)
	require.NoError(t, err)
	out := map[string][]string{}
	for _, v := range versions.All {
		out[v.ID] = v.Stages
	}
	return out
}

func TestPutPendingKeepsTheCurrentVersionAndPromoteReplacesIt(t *testing.T) {
	ctx := context.Background()
	sb, api := sandboxClient(t)
	const name = "ssocutover/scim-token"
	first, err := Put(ctx, api, name, NewValue("token-old"), tokenA, nil)
	require.NoError(t, err)

	later := sb.AdvanceClock(300 * 24 * time.Hour)
	var pending secretref.Ref
	for range 2 { // a retry with the same request token stores nothing more
		pending, err = PutPending(ctx, api, name, NewValue("token-new"), tokenB)
		require.NoError(t, err)
		require.Equal(t, secretref.Ref{ARN: first.ARN, VersionID: tokenB}, pending)
	}
	require.Equal(t, map[string][]string{tokenA: {StageCurrent}, tokenB: {StagePending}}, stages(t, api, name))
	current, err := Read(ctx, api, secretref.Ref{ARN: first.ARN})
	require.NoError(t, err)
	require.Equal(t, "token-old", current.Reveal(), "the current version stays current")
	value, err := Read(ctx, api, pending)
	require.NoError(t, err)
	require.Equal(t, "token-new", value.Reveal(), "the pending version is read by its ID")

	created, err := VersionCreated(ctx, api, pending)
	require.NoError(t, err)
	require.WithinDuration(t, later, created, time.Minute, "dated by the sandbox's clock")
	created, err = VersionCreated(ctx, api, secretref.Ref{ARN: first.ARN})
	require.NoError(t, err)
	require.WithinDuration(t, time.Now(), created, time.Minute, "no version ID: the current version")

	previous, err := Promote(ctx, api, pending)
	require.NoError(t, err)
	require.Equal(t, first, previous)
	again, err := Promote(ctx, api, pending)
	require.NoError(t, err)
	require.Equal(t, pending, again, "called again, it finds the version current and changes nothing")
	require.Equal(t, map[string][]string{tokenA: {StagePrevious}, tokenB: {StageCurrent, StagePending}}, stages(t, api, name))
	secret, err := Describe(ctx, api, name)
	require.NoError(t, err)
	require.Equal(t, pending, secret.Current())

	// A second rotation: AWSPENDING leaves the promoted version, and the
	// first token's version loses its label.
	next, err := PutPending(ctx, api, name, NewValue("token-next"), tokenC)
	require.NoError(t, err)
	previous, err = Promote(ctx, api, next)
	require.NoError(t, err)
	require.Equal(t, pending, previous)
	require.Equal(t, map[string][]string{tokenA: {}, tokenB: {StagePrevious}, tokenC: {StageCurrent, StagePending}}, stages(t, api, name))
}

func TestPromoteReturnsTheSameVersionWhenItIsCurrentAlready(t *testing.T) {
	ctx := context.Background()
	api := client(t)
	ref, err := Put(ctx, api, "ssocutover/scim-token", NewValue("token"), tokenA, nil)
	require.NoError(t, err)
	previous, err := Promote(ctx, api, ref)
	require.NoError(t, err)
	require.Equal(t, ref, previous)
	require.Equal(t, map[string][]string{tokenA: {StageCurrent}}, stages(t, api, "ssocutover/scim-token"))
}

func TestPutPendingCreatesASecretThatDoesNotExistWithACurrentVersion(t *testing.T) {
	ctx := context.Background()
	api := client(t)
	for range 2 {
		ref, err := PutPending(ctx, api, "ssocutover/new-secret", NewValue("token"), tokenA)
		require.NoError(t, err)
		require.NoError(t, ref.Validate())
		require.Equal(t, tokenA, ref.VersionID)
	}
	require.Equal(t, map[string][]string{tokenA: {StageCurrent}}, stages(t, api, "ssocutover/new-secret"),
		"a new secret's first version is current: there is nothing else to keep")
}

func TestVersionsOfWhatDoesNotExistAreNotFound(t *testing.T) {
	ctx := context.Background()
	api := client(t)
	ref, err := Put(ctx, api, "ssocutover/scim-token", NewValue("token"), tokenA, nil)
	require.NoError(t, err)
	missingVersion := secretref.Ref{ARN: ref.ARN, VersionID: tokenD}
	missingSecret := secretref.Ref{ARN: "arn:aws:secretsmanager:eu-west-1:111111111111:secret:none-AbCdEf", VersionID: tokenA}

	_, err = VersionCreated(ctx, api, missingVersion)
	require.ErrorIs(t, err, ErrNotFound)
	_, err = VersionCreated(ctx, api, missingSecret)
	require.ErrorIs(t, err, ErrNotFound)
	_, err = Promote(ctx, api, missingVersion)
	require.ErrorIs(t, err, ErrNotFound)
	_, err = Promote(ctx, api, missingSecret)
	require.ErrorIs(t, err, ErrNotFound)
	_, err = Promote(ctx, api, secretref.Ref{ARN: ref.ARN})
	require.Error(t, err, "the version to promote must be named")
	_, err = PutPending(ctx, api, "ssocutover/scim-token", NewValue("token"), "short")
	require.ErrorContains(t, err, "32 to 64 characters")
}
