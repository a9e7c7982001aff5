// Package secretstore keeps the cutover's secrets (the SCIM access token, the
// break-glass password) in AWS Secrets Manager and reads them back by
// reference. It is the only place a secret value passes through on its way
// to or from Secrets Manager; errors name the secret, never its value.
package secretstore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/platformguide/ssocutover/internal/secretref"
)

// API is the part of the Secrets Manager client used here;
// *secretsmanager.Client satisfies it.
type API interface {
	CreateSecret(ctx context.Context, params *secretsmanager.CreateSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error)
	PutSecretValue(ctx context.Context, params *secretsmanager.PutSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	GetSecretValue(ctx context.Context, params *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	DescribeSecret(ctx context.Context, params *secretsmanager.DescribeSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	// For versions and their staging labels (versions.go):
	ListSecretVersionIds(ctx context.Context, params *secretsmanager.ListSecretVersionIdsInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.ListSecretVersionIdsOutput, error)
	UpdateSecretVersionStage(ctx context.Context, params *secretsmanager.UpdateSecretVersionStageInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error)
}

var _ API = (*secretsmanager.Client)(nil)

// ErrNotFound is a secret (or version) that does not exist.
var ErrNotFound = errors.New("secret not found")

// ErrNotText is a secret version that holds binary data (SecretBinary)
// where text is expected.
var ErrNotText = errors.New("the secret holds binary data, not the text expected")

// Secret is what Secrets Manager tells about a secret without its value.
type Secret struct {
	ARN  string
	Name string
	// CurrentVersionID is the version labelled AWSCURRENT; empty when the
	// secret holds no value yet.
	CurrentVersionID string
	Tags             map[string]string
	// ScheduledForDeletion is set after DeleteSecret: the secret can
	// neither be read nor written until it is restored (RestoreSecret) or
	// its recovery window ends.
	ScheduledForDeletion bool
}

// Current is the reference to the secret's current version.
func (s Secret) Current() secretref.Ref {
	return secretref.Ref{ARN: s.ARN, VersionID: s.CurrentVersionID}
}

// Describe returns the secret nameOrARN names, without its value; a secret
// that does not exist is ErrNotFound.
func Describe(ctx context.Context, api API, nameOrARN string) (Secret, error) {
	out, err := api.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(nameOrARN)})
	if err != nil {
		var notFound *smtypes.ResourceNotFoundException
		if errors.As(err, &notFound) {
			return Secret{}, fmt.Errorf("describe secret %s: %w", nameOrARN, ErrNotFound)
		}
		return Secret{}, fmt.Errorf("describe secret %s in Secrets Manager: %w", nameOrARN, err)
	}
	secret := Secret{
		ARN:                  aws.ToString(out.ARN),
		Name:                 aws.ToString(out.Name),
		Tags:                 map[string]string{},
		ScheduledForDeletion: out.DeletedDate != nil,
	}
	for _, t := range out.Tags {
		secret.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	for version, stages := range out.VersionIdsToStages {
		if slices.Contains(stages, "AWSCURRENT") {
			secret.CurrentVersionID = version
		}
	}
	return secret, nil
}

// Put stores value as a new version of the secret name, creating the secret
// (with tags) when it does not exist yet, and returns the version's
// reference. requestToken makes the write idempotent: the same token
// always names the same version, so a retry never adds a second one.
func Put(ctx context.Context, api API, name string, value Value, requestToken string, tags map[string]string) (secretref.Ref, error) {
	// The SDK makes up a random token only when none is set; an empty one
	// would be sent as is and refused, and a random one would defeat the
	// idempotence callers rely on.
	if len(requestToken) < 32 || len(requestToken) > 64 {
		return secretref.Ref{}, fmt.Errorf("store secret %s: the request token must have 32 to 64 characters, got %d", name, len(requestToken))
	}
	created, err := api.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:               aws.String(name),
		SecretString:       aws.String(value.Reveal()),
		ClientRequestToken: aws.String(requestToken),
		Tags:               toTags(tags),
	})
	if err == nil {
		return secretref.Ref{ARN: aws.ToString(created.ARN), VersionID: aws.ToString(created.VersionId)}, nil
	}
	var exists *smtypes.ResourceExistsException
	if !errors.As(err, &exists) {
		return secretref.Ref{}, fmt.Errorf("create secret %s in Secrets Manager: %w", name, err)
	}
	put, err := api.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId:           aws.String(name),
		SecretString:       aws.String(value.Reveal()),
		ClientRequestToken: aws.String(requestToken),
	})
	if err != nil {
		return secretref.Ref{}, fmt.Errorf("store a new version of secret %s in Secrets Manager: %w", name, err)
	}
	return secretref.Ref{ARN: aws.ToString(put.ARN), VersionID: aws.ToString(put.VersionId)}, nil
}

// Read returns the value of the secret version ref names (the current
// version when ref has no VersionID). A secret or version that does not
// exist is ErrNotFound.
func Read(ctx context.Context, api API, ref secretref.Ref) (Value, error) {
	in := &secretsmanager.GetSecretValueInput{SecretId: aws.String(ref.ARN)}
	if ref.VersionID != "" {
		in.VersionId = aws.String(ref.VersionID)
	}
	out, err := api.GetSecretValue(ctx, in)
	if err != nil {
		var notFound *smtypes.ResourceNotFoundException
		if errors.As(err, &notFound) {
			return Value{}, fmt.Errorf("read %s: %w", ref, ErrNotFound)
		}
		return Value{}, fmt.Errorf("read secret %s from Secrets Manager: %w", ref, err)
	}
	if out.SecretString == nil {
		return Value{}, fmt.Errorf("read %s: %w", ref, ErrNotText)
	}
	return NewValue(*out.SecretString), nil
}

func toTags(m map[string]string) []smtypes.Tag {
	var tags []smtypes.Tag
	for _, k := range slices.Sorted(maps.Keys(m)) {
		tags = append(tags, smtypes.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return tags
}
