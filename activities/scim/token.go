package scim

// The SCIM token's secret during a rotation: which version the job uses and
// when it was stored (so when the token expires), and the promotion of the
// new token's version once the job works with it. These activities read no
// secret value: Secrets Manager's version list and staging labels only.

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/smithy-go"
	"go.temporal.io/sdk/temporal"

	"github.com/platformguide/ssocutover/internal/secretstore"
)

// DescribeSCIMToken returns the secret's AWSCURRENT version (the token the
// provisioning job uses) and when it was stored. A secret that does not
// exist, or holds no current value, is ErrTokenSecretNotFound: a person
// stores the token or names the right secret. It changes nothing.
func (a *Activities) DescribeSCIMToken(ctx context.Context, in DescribeSCIMTokenInput) (DescribeSCIMTokenResult, error) {
	if err := a.requireSecrets(); err != nil {
		return DescribeSCIMTokenResult{}, err
	}
	if in.Secret == "" {
		return DescribeSCIMTokenResult{}, temporal.NewNonRetryableApplicationError(
			"no secret is named for the SCIM token: give the name or ARN of the Secrets Manager secret that holds the token the provisioning job uses", ErrTokenSecretNotFound, nil)
	}
	versions, err := secretstore.ListVersions(ctx, a.Secrets, in.Secret)
	if err != nil {
		return DescribeSCIMTokenResult{}, versionsError(in.Secret, err)
	}
	current, ok := versions.Staged(secretstore.StageCurrent)
	if !ok {
		return DescribeSCIMTokenResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("the secret %s holds no current value (no version is labelled AWSCURRENT): store the token the provisioning job uses in it (aws secretsmanager put-secret-value), then start again", in.Secret),
			ErrTokenSecretNotFound, nil)
	}
	return DescribeSCIMTokenResult{Current: versions.Ref(current), CurrentCreated: current.Created}, nil
}

// PromoteSCIMToken makes the token's version AWSCURRENT once the
// provisioning job works with it; the version that was current becomes
// AWSPREVIOUS. Promoting the current version changes nothing, so a retry
// after a lost answer succeeds (and names the version itself as previous).
func (a *Activities) PromoteSCIMToken(ctx context.Context, in PromoteSCIMTokenInput) (PromoteSCIMTokenResult, error) {
	if err := a.requireSecrets(); err != nil {
		return PromoteSCIMTokenResult{}, err
	}
	if err := in.Token.Validate(); err != nil || in.Token.VersionID == "" {
		return PromoteSCIMTokenResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("the new SCIM token's reference %s does not name a secret version: promote the reference (ARN and versionId) the token was stored with", in.Token),
			ErrTokenSecretNotFound, err)
	}
	previous, err := secretstore.Promote(ctx, a.Secrets, in.Token)
	if err != nil {
		return PromoteSCIMTokenResult{}, versionsError(in.Token.String(), err)
	}
	created, err := secretstore.VersionCreated(ctx, a.Secrets, in.Token)
	if err != nil {
		return PromoteSCIMTokenResult{}, versionsError(in.Token.String(), err)
	}
	return PromoteSCIMTokenResult{Previous: previous, Created: created}, nil
}

func (a *Activities) requireSecrets() error {
	if a.Secrets == nil {
		return temporal.NewNonRetryableApplicationError("the SCIM activities have no Secrets Manager client: the worker is misconfigured", ErrSecretUnreadable, nil)
	}
	return nil
}

// versionsError turns an error of listing or relabelling the secret's
// versions into the activity's: what a person must fix is non-retryable
// and says what to do; the rest is retried.
func versionsError(secret string, err error) error {
	var apiErr smithy.APIError
	switch {
	case errors.Is(err, secretstore.ErrNotFound):
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("the SCIM token's secret %s is not in Secrets Manager (or has no such version): check the name or ARN, and that the worker runs in the secret's region. If the token the provisioning job uses was never stored, store it there (aws secretsmanager create-secret --name <name> --secret-string <token>) and start again", secret),
			ErrTokenSecretNotFound, err)
	case errors.As(err, &apiErr) && apiErr.ErrorCode() == "AccessDeniedException":
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("the worker may not read the versions of the SCIM token's secret %s (%s): allow its AWS identity secretsmanager:ListSecretVersionIds and secretsmanager:UpdateSecretVersionStage on the secret, then retry", secret, apiErr.ErrorMessage()),
			ErrSecretUnreadable, err)
	case errors.As(err, &apiErr) && apiErr.ErrorCode() == "InvalidRequestException":
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("the SCIM token's secret %s cannot be changed (%s): if it is scheduled for deletion, restore it (aws secretsmanager restore-secret), then retry", secret, apiErr.ErrorMessage()),
			ErrSecretUnreadable, err)
	}
	return fmt.Errorf("the SCIM token's secret %s (the activity is retried): %w", secret, err)
}
