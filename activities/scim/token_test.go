package scim

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/platformguide/ssocutover/internal/activitytest"
	"github.com/platformguide/ssocutover/internal/secretref"
	"github.com/platformguide/ssocutover/internal/secretstore"
)

const requestTok2 = "22222222-2222-2222-2222-222222222222"

// runActivity runs a SCIM activity by its registered name and decodes its
// result into out.
func (f *fixture) runActivity(t *testing.T, name string, in, out any) error {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(f.a)
	val, err := env.ExecuteActivity(name, in)
	if err != nil {
		return err
	}
	require.NoError(t, val.Get(out))
	return nil
}

func TestDescribeAndPromoteSCIMTokenFollowTheRotationOfItsSecret(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const name = "ssocutover/scim-token"
	old := f.storeToken(t, name, goodToken)

	var described DescribeSCIMTokenResult
	require.NoError(t, f.runActivity(t, DescribeSCIMTokenName, DescribeSCIMTokenInput{Secret: name}, &described))
	require.Equal(t, old, described.Current)
	require.WithinDuration(t, time.Now(), described.CurrentCreated, time.Minute)

	// A year later the person stores a new token as pending: the current
	// one does not change until it is promoted.
	later := f.sb.AdvanceClock(TokenLifetime - 7*24*time.Hour)
	pending, err := secretstore.PutPending(ctx, f.secrets, name, secretstore.NewValue("next-"+goodToken), requestTok2)
	require.NoError(t, err)
	require.NoError(t, f.runActivity(t, DescribeSCIMTokenName, DescribeSCIMTokenInput{Secret: old.ARN}, &described))
	require.Equal(t, old, described.Current)

	for _, want := range []secretref.Ref{old, pending} { // the second call finds it current already
		var promoted PromoteSCIMTokenResult
		require.NoError(t, f.runActivity(t, PromoteSCIMTokenName, PromoteSCIMTokenInput{Token: pending}, &promoted))
		require.Equal(t, want, promoted.Previous)
		require.WithinDuration(t, later, promoted.Created, time.Minute)
	}
	require.NoError(t, f.runActivity(t, DescribeSCIMTokenName, DescribeSCIMTokenInput{Secret: name}, &described))
	require.Equal(t, pending, described.Current)
	require.WithinDuration(t, later, described.CurrentCreated, time.Minute)
}

func TestDescribeSCIMTokenOfAMissingSecretSaysWhatToDo(t *testing.T) {
	f := newFixture(t)
	var described DescribeSCIMTokenResult
	err := f.runActivity(t, DescribeSCIMTokenName, DescribeSCIMTokenInput{Secret: "ssocutover/no-such-token"}, &described)
	activitytest.RequireNonRetryable(t, err, ErrTokenSecretNotFound, "ssocutover/no-such-token", "store it there")
	err = f.runActivity(t, DescribeSCIMTokenName, DescribeSCIMTokenInput{}, &described)
	activitytest.RequireNonRetryable(t, err, ErrTokenSecretNotFound, "name or ARN")
}

func TestPromoteSCIMTokenOfAMissingVersionIsNotRetried(t *testing.T) {
	f := newFixture(t)
	ref := f.storeToken(t, "ssocutover/scim-token", goodToken)
	var promoted PromoteSCIMTokenResult
	err := f.runActivity(t, PromoteSCIMTokenName, PromoteSCIMTokenInput{Token: secretref.Ref{ARN: ref.ARN, VersionID: requestTok2}}, &promoted)
	activitytest.RequireNonRetryable(t, err, ErrTokenSecretNotFound, ref.ARN)
	err = f.runActivity(t, PromoteSCIMTokenName, PromoteSCIMTokenInput{Token: secretref.Ref{ARN: ref.ARN}}, &promoted)
	activitytest.RequireNonRetryable(t, err, ErrTokenSecretNotFound, "versionId")

	// Nothing moved.
	var described DescribeSCIMTokenResult
	require.NoError(t, f.runActivity(t, DescribeSCIMTokenName, DescribeSCIMTokenInput{Secret: ref.ARN}, &described))
	require.Equal(t, ref, described.Current)
	requireNoToken(t, err, goodToken)
}
