package identitycenter

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/smithy-go"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"

	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/internal/model"
	"github.com/platformguide/ssocutover/internal/secretref"
	"github.com/platformguide/ssocutover/internal/secretstore"
)

// Tags the break-glass user and its secret carry.
const (
	// TagWorkflowID marks the user and the secret as the cutover's: a user
	// or secret of the same name without it belongs to something else and
	// is never changed.
	TagWorkflowID = "ssocutover:workflow-id"
	// TagPasswordVersion, on the user, names the secret version whose value
	// the user's console password was set from. Without it nobody can tell
	// whether an existing login profile opens with the stored password.
	TagPasswordVersion = "ssocutover:password-version"
	// TagPurpose says what the user and the secret are for, to a person
	// who finds them in the console.
	TagPurpose = "ssocutover:purpose"

	breakGlassPurpose = "break-glass"
)

// Error types of EnsureBreakGlassUser's non-retryable errors.
const (
	// ErrNameTaken: an IAM user or a secret of the break-glass names exists
	// and is not tagged for this cutover.
	ErrNameTaken = "NameTaken"
	// ErrSecretScheduledForDeletion: the password's secret was deleted and
	// waits out its recovery window.
	ErrSecretScheduledForDeletion = "SecretScheduledForDeletion"
)

// breakGlassIAMActions are what EnsureBreakGlassUser needs, named in the
// error a refused call returns.
var breakGlassIAMActions = []string{
	"iam:GetUser", "iam:CreateUser", "iam:TagUser", "iam:CreateLoginProfile", "iam:DeleteLoginProfile",
	"iam:AttachUserPolicy", "iam:ListAttachedUserPolicies",
	"secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:CreateSecret",
	"secretsmanager:PutSecretValue", "secretsmanager:TagResource",
}

// EnsureBreakGlassUser makes sure the break-glass IAM user exists, tagged
// for this cutover, with a console password that is kept only in Secrets
// Manager and with the policies attached. Every step first looks for what
// it would create, so the activity can be retried at any point:
//
//  1. the user: GetUser; CreateUser (tagged) when missing. A user of that
//     name tagged for something else is refused.
//     Crash after CreateUser is applied: the retry finds the tagged user.
//  2. the password: DescribeSecret; when the secret exists its value is the
//     password, otherwise a new one is generated and stored (CreateSecret
//     with a request token derived from the workflow ID).
//     Crash after CreateSecret is applied: the retry reads the stored
//     password; the one generated before the crash was never used.
//  3. the login profile, only once the password is stored: CreateLoginProfile,
//     then TagUser with TagPasswordVersion = the secret version.
//     A login profile that exists already is kept when the user's tag says
//     it was set from the current secret version; otherwise (set by a
//     person, or by an attempt that crashed between CreateLoginProfile and
//     TagUser) it is deleted and created again with the stored password,
//     so that the stored password is the one that opens the console. The
//     user is without a console password for that moment only.
//  4. the policies: ListAttachedUserPolicies, AttachUserPolicy for the
//     missing ones.
//
// The password is never in the result, an error or a log entry.
func (a *Activities) EnsureBreakGlassUser(ctx context.Context, in EnsureBreakGlassUserInput) (EnsureBreakGlassUserResult, error) {
	if err := in.validate(); err != nil {
		return EnsureBreakGlassUserResult{}, err
	}
	counter := apicalls.NewCounter()
	ctx = apicalls.WithCounter(ctx, counter)
	run := &breakGlassRun{a: a, in: in}
	logger := activityLogger(ctx)

	user, userCreated, err := run.ensureUser(ctx)
	if err != nil {
		return EnsureBreakGlassUserResult{}, err
	}
	ref, password, secretCreated, err := run.ensurePassword(ctx)
	if err != nil {
		return EnsureBreakGlassUserResult{}, err
	}
	profileCreated, err := run.ensureLoginProfile(ctx, user, ref, password)
	if err != nil {
		return EnsureBreakGlassUserResult{}, err
	}
	policies := in.policyARNs()
	attached, err := run.ensurePolicies(ctx, policies)
	if err != nil {
		return EnsureBreakGlassUserResult{}, err
	}
	created := userCreated || secretCreated || profileCreated || attached > 0
	logger.Info("Break-glass IAM user ready", "UserName", in.UserName, "PasswordSecret", ref.String(),
		"UserCreated", userCreated, "SecretCreated", secretCreated, "LoginProfileSet", profileCreated, "PoliciesAttached", attached)
	owner, err := run.instanceOwner(ctx)
	if err != nil {
		return EnsureBreakGlassUserResult{}, err
	}
	return EnsureBreakGlassUserResult{
		BreakGlassUser: model.BreakGlassUser{
			UserName:             aws.ToString(user.UserName),
			UserARN:              aws.ToString(user.Arn),
			PolicyARNs:           policies,
			Password:             ref,
			Account:              accountOfARN(aws.ToString(user.Arn)),
			InstanceOwnerAccount: owner,
		},
		Created:  created,
		APICalls: counter.Counts(),
	}, nil
}

func (in EnsureBreakGlassUserInput) validate() error {
	var missing []string
	if in.WorkflowID == "" {
		missing = append(missing, "workflowId")
	}
	if in.UserName == "" {
		missing = append(missing, "userName")
	}
	if in.SecretName == "" {
		missing = append(missing, "secretName")
	}
	if len(missing) > 0 {
		return temporal.NewNonRetryableApplicationError(
			"the break-glass request lacks "+strings.Join(missing, ", ")+": the workflow fills these in; this is a bug in the caller", ErrInvalidRequest, nil)
	}
	return nil
}

func (in EnsureBreakGlassUserInput) policyARNs() []string {
	if len(in.PolicyARNs) == 0 {
		return []string{DefaultBreakGlassPolicyARN}
	}
	return in.PolicyARNs
}

// breakGlassRun is one run of EnsureBreakGlassUser.
type breakGlassRun struct {
	a  *Activities
	in EnsureBreakGlassUserInput
}

func (b *breakGlassRun) tags() map[string]string {
	return map[string]string{TagWorkflowID: b.in.WorkflowID, TagPurpose: breakGlassPurpose}
}

// ensureUser finds the user or creates it, and reports whether it created it.
func (b *breakGlassRun) ensureUser(ctx context.Context) (*iamtypes.User, bool, error) {
	user, err := b.getUser(ctx)
	if err == nil {
		return user, false, b.checkUserIsOurs(user)
	}
	var missing *iamtypes.NoSuchEntityException
	if !errors.As(err, &missing) {
		return nil, false, b.callError(err, "look up IAM user "+b.in.UserName)
	}
	var tags []iamtypes.Tag
	for _, k := range slices.Sorted(maps.Keys(b.tags())) {
		tags = append(tags, iamtypes.Tag{Key: aws.String(k), Value: aws.String(b.tags()[k])})
	}
	out, err := b.a.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(b.in.UserName), Tags: tags})
	var exists *iamtypes.EntityAlreadyExistsException
	if errors.As(err, &exists) {
		// Created meanwhile: by this activity, when the answer to an
		// earlier CreateUser was lost and the SDK sent it again, or by
		// someone else. The tag tells which.
		user, err := b.getUser(ctx)
		if err != nil {
			return nil, false, b.callError(err, "look up IAM user "+b.in.UserName)
		}
		return user, false, b.checkUserIsOurs(user)
	}
	if err != nil {
		return nil, false, b.callError(err, "create IAM user "+b.in.UserName)
	}
	return out.User, true, nil
}

func (b *breakGlassRun) getUser(ctx context.Context) (*iamtypes.User, error) {
	out, err := b.a.IAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(b.in.UserName)})
	if err != nil {
		return nil, err
	}
	return out.User, nil
}

func (b *breakGlassRun) checkUserIsOurs(user *iamtypes.User) error {
	owner := iamTag(user.Tags, TagWorkflowID)
	if owner == b.in.WorkflowID {
		return nil
	}
	return temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("IAM user %s already exists and is not this cutover's (its tag %s is %q, want %q), so it is left alone. "+
			"If it is a break-glass user of an earlier cutover that is no longer needed, delete it (delete its console password, detach its policies, then delete the user); "+
			"to adopt it as this cutover's break-glass user instead, tag it %s=%s (its console password will be replaced). Then retry the step",
			b.in.UserName, TagWorkflowID, owner, b.in.WorkflowID, TagWorkflowID, b.in.WorkflowID),
		ErrNameTaken, nil)
}

func iamTag(tags []iamtypes.Tag, key string) string {
	for _, t := range tags {
		if strings.EqualFold(aws.ToString(t.Key), key) { // IAM tag keys are case-insensitive
			return aws.ToString(t.Value)
		}
	}
	return ""
}

// ensurePassword returns the console password and the secret version that
// holds it: the stored one when the secret exists, else a new one, stored
// before it is used anywhere. created says whether it stored a new one.
func (b *breakGlassRun) ensurePassword(ctx context.Context) (ref secretref.Ref, password secretstore.Value, created bool, err error) {
	secret, err := secretstore.Describe(ctx, b.a.Secrets, b.in.SecretName)
	switch {
	case errors.Is(err, secretstore.ErrNotFound):
		return b.storeNewPassword(ctx)
	case err != nil:
		return secretref.Ref{}, secretstore.Value{}, false, b.callError(err, "look up secret "+b.in.SecretName)
	}
	if owner := secret.Tags[TagWorkflowID]; owner != b.in.WorkflowID {
		return secretref.Ref{}, secretstore.Value{}, false, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("secret %s already exists and is not this cutover's (its tag %s is %q, want %q), so its value is not used as the break-glass password. "+
				"If it is left over from an earlier cutover and no longer needed, delete it (aws secretsmanager delete-secret --secret-id %s --force-delete-without-recovery); "+
				"to adopt it instead, tag it %s=%s (its value becomes the console password). Then retry the step",
				secret.ARN, TagWorkflowID, owner, b.in.WorkflowID, secret.ARN, TagWorkflowID, b.in.WorkflowID),
			ErrNameTaken, nil)
	}
	if secret.ScheduledForDeletion {
		return secretref.Ref{}, secretstore.Value{}, false, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("secret %s, which holds the break-glass password, is scheduled for deletion. Restore it to keep the password (aws secretsmanager restore-secret --secret-id %s), "+
				"or delete it for good so a new password is made (aws secretsmanager delete-secret --secret-id %s --force-delete-without-recovery). Then retry the step",
				secret.ARN, secret.ARN, secret.ARN),
			ErrSecretScheduledForDeletion, nil)
	}
	if secret.CurrentVersionID == "" {
		// Ours but empty: nothing can have used a password from it.
		return b.storeNewPassword(ctx)
	}
	ref = secret.Current()
	password, err = secretstore.Read(ctx, b.a.Secrets, ref)
	if err != nil {
		return secretref.Ref{}, secretstore.Value{}, false, b.callError(err, "read secret "+secret.ARN)
	}
	return ref, password, false, nil
}

func (b *breakGlassRun) storeNewPassword(ctx context.Context) (secretref.Ref, secretstore.Value, bool, error) {
	generated, err := generatePassword()
	password := secretstore.NewValue(generated)
	if err != nil {
		return secretref.Ref{}, secretstore.Value{}, false, fmt.Errorf("generate the break-glass password: %w", err)
	}
	ref, err := secretstore.Put(ctx, b.a.Secrets, b.in.SecretName, password, passwordRequestToken(b.in), b.tags())
	if err != nil {
		return secretref.Ref{}, secretstore.Value{}, false, b.callError(err, "store the break-glass password in secret "+b.in.SecretName)
	}
	return ref, password, true, nil
}

// passwordRequestToken is the ClientRequestToken (and so the version ID) of
// the password's secret version: derived from the workflow ID, so a
// CreateSecret the SDK sends again after a lost answer is recognised as the
// same request and adds no second version.
func passwordRequestToken(in EnsureBreakGlassUserInput) string {
	sum := sha256.Sum256([]byte("ssocutover break-glass password\x00" + in.WorkflowID + "\x00" + in.SecretName))
	h := hex.EncodeToString(sum[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// ensureLoginProfile gives the user the stored password as its console
// password (see EnsureBreakGlassUser, step 3) and reports whether it set it.
func (b *breakGlassRun) ensureLoginProfile(ctx context.Context, user *iamtypes.User, ref secretref.Ref, password secretstore.Value) (bool, error) {
	err := b.createLoginProfile(ctx, password)
	var exists *iamtypes.EntityAlreadyExistsException
	switch {
	case err == nil:
		return true, b.tagPasswordVersion(ctx, ref)
	case !errors.As(err, &exists):
		return false, b.callError(err, "set the console password of IAM user "+b.in.UserName)
	case iamTag(user.Tags, TagPasswordVersion) == ref.VersionID:
		return false, nil // set from this secret version by an earlier attempt
	}
	// Nothing says this login profile's password is the stored one: replace it.
	_, err = b.a.IAM.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String(b.in.UserName)})
	var missing *iamtypes.NoSuchEntityException
	if err != nil && !errors.As(err, &missing) {
		return false, b.callError(err, "replace the console password of IAM user "+b.in.UserName)
	}
	if err := b.createLoginProfile(ctx, password); err != nil {
		if errors.As(err, &exists) {
			return false, fmt.Errorf("replace the console password of IAM user %s: IAM has not applied the deletion of the old one yet (the activity is retried): %w", b.in.UserName, err)
		}
		return false, b.callError(err, "set the console password of IAM user "+b.in.UserName)
	}
	return true, b.tagPasswordVersion(ctx, ref)
}

func (b *breakGlassRun) createLoginProfile(ctx context.Context, password secretstore.Value) error {
	_, err := b.a.IAM.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{
		UserName:              aws.String(b.in.UserName),
		Password:              aws.String(password.Reveal()),
		PasswordResetRequired: false, // the person who breaks the glass must get in at once
	})
	return err
}

func (b *breakGlassRun) tagPasswordVersion(ctx context.Context, ref secretref.Ref) error {
	_, err := b.a.IAM.TagUser(ctx, &iam.TagUserInput{
		UserName: aws.String(b.in.UserName),
		Tags:     []iamtypes.Tag{{Key: aws.String(TagPasswordVersion), Value: aws.String(ref.VersionID)}},
	})
	if err != nil {
		return b.callError(err, "tag IAM user "+b.in.UserName+" with its password's secret version")
	}
	return nil
}

// ensurePolicies attaches the policies the user lacks and returns how many
// it attached.
func (b *breakGlassRun) ensurePolicies(ctx context.Context, policies []string) (int, error) {
	attached := map[string]bool{}
	pages := iam.NewListAttachedUserPoliciesPaginator(b.a.IAM, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(b.in.UserName), MaxItems: aws.Int32(1000)})
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return 0, b.callError(err, "list the policies of IAM user "+b.in.UserName)
		}
		for _, p := range out.AttachedPolicies {
			attached[aws.ToString(p.PolicyArn)] = true
		}
	}
	n := 0
	for _, arn := range policies {
		if attached[arn] {
			continue
		}
		_, err := b.a.IAM.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(b.in.UserName), PolicyArn: aws.String(arn)})
		if err != nil {
			return n, b.callError(err, fmt.Sprintf("attach policy %s to IAM user %s", arn, b.in.UserName))
		}
		n++
	}
	return n, nil
}

// callError turns the error of an IAM or Secrets Manager call into the
// activity's error: refusals a retry cannot fix become non-retryable, with
// what to do; the rest stay retryable. AWS error messages carry names and
// ARNs, never the request's parameters, so the password cannot be in them.
func (b *breakGlassRun) callError(err error, what string) error {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return fmt.Errorf("%s: %w", what, err)
	}
	code, message := apiErr.ErrorCode(), apiErr.ErrorMessage()
	switch {
	case code == "AccessDenied" || code == "AccessDeniedException":
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s: access denied: %s. The worker's AWS identity needs these actions: %s", what, message, strings.Join(breakGlassIAMActions, ", ")),
			ErrAccessDenied, err)
	case credentialErrorCodes[code]:
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s: AWS did not accept the worker's credentials (%s: %s). Check the worker's AWS credentials and that they are not expired", what, code, message),
			ErrAccessDenied, err)
	case code == "PasswordPolicyViolation":
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s: the account's password policy refuses the generated password (%d characters of upper and lower case letters, digits and symbols): %s. "+
				"Check the policy (aws iam get-account-password-policy); the policy must accept such a password. Then retry the step", what, passwordLength, message),
			ErrInvalidRequest, err)
	case code == "NoSuchEntity" && strings.HasPrefix(what, "attach policy"):
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s: %s. Correct breakGlassPolicyArns in the cutover request (empty means %s)", what, message, DefaultBreakGlassPolicyARN),
			ErrInvalidRequest, err)
	case code == "LimitExceeded":
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s: %s. IAM allows 10 managed policies per user by default: attach fewer, or raise the quota", what, message),
			ErrInvalidRequest, err)
	case code == "ValidationError" || code == "InvalidInput" || code == "InvalidParameterException" || code == "ValidationException":
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s: AWS refused the request: %s. Check the break-glass user name, secret name and policy ARNs of the cutover", what, message),
			ErrInvalidRequest, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// activityLogger is the activity's logger (zap, through the worker's
// bridge), or a logger that drops everything when ctx is not an activity's,
// as in a test that calls the method directly.
func activityLogger(ctx context.Context) log.Logger {
	if activity.IsActivity(ctx) {
		return activity.GetLogger(ctx)
	}
	return log.NewStructuredLogger(slog.New(slog.DiscardHandler))
}

// instanceOwner is the account that owns the instance in.InstanceARN
// (ListInstances' OwnerAccountId), or "" without an instance ARN. The
// user is created in the worker's own account: from a delegated
// administrator account that is not the owner, and the result says so.
func (r *breakGlassRun) instanceOwner(ctx context.Context) (string, error) {
	if r.in.InstanceARN == "" {
		return "", nil
	}
	pages := ssoadmin.NewListInstancesPaginator(r.a.SSOAdmin, &ssoadmin.ListInstancesInput{})
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("list the Identity Center instances to find the owner of %s: %w", r.in.InstanceARN, err)
		}
		for _, inst := range out.Instances {
			if aws.ToString(inst.InstanceArn) == r.in.InstanceARN {
				return aws.ToString(inst.OwnerAccountId), nil
			}
		}
	}
	return "", nil
}

// accountOfARN is the account ID of an IAM ARN (arn:aws:iam::ACCOUNT:...).
func accountOfARN(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 5 {
		return ""
	}
	return parts[4]
}
