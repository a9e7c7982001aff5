package secretstore

// Versions of a secret and their staging labels, for replacing a secret the
// way Secrets Manager's rotation does: the new value is stored as a version
// labelled AWSPENDING, used and checked by its version ID, and promoted to
// AWSCURRENT once it works. Nothing here reads a value.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/platformguide/ssocutover/internal/secretref"
)

// The staging labels Secrets Manager gives meaning to.
const (
	StageCurrent  = "AWSCURRENT"
	StagePending  = "AWSPENDING"
	StagePrevious = "AWSPREVIOUS"
)

// Version is a version of a secret, without its value.
type Version struct {
	ID      string
	Stages  []string
	Created time.Time
}

// Versions are a secret's versions, as ListSecretVersionIds lists them.
type Versions struct {
	ARN  string
	Name string
	// All holds every version, with or without a staging label.
	All []Version
}

// Staged returns the version that has the staging label, if one has.
func (vs Versions) Staged(stage string) (Version, bool) {
	for _, v := range vs.All {
		if slices.Contains(v.Stages, stage) {
			return v, true
		}
	}
	return Version{}, false
}

// ByID returns the version with this ID, if the secret has it.
func (vs Versions) ByID(id string) (Version, bool) {
	for _, v := range vs.All {
		if v.ID == id {
			return v, true
		}
	}
	return Version{}, false
}

// Ref is the reference to one of the secret's versions.
func (vs Versions) Ref(v Version) secretref.Ref {
	return secretref.Ref{ARN: vs.ARN, VersionID: v.ID}
}

// ListVersions lists the versions of the secret nameOrARN names, those
// without a staging label too; a secret that does not exist is ErrNotFound.
func ListVersions(ctx context.Context, api API, nameOrARN string) (Versions, error) {
	var out Versions
	pages := secretsmanager.NewListSecretVersionIdsPaginator(api, &secretsmanager.ListSecretVersionIdsInput{
		SecretId: aws.String(nameOrARN), IncludeDeprecated: aws.Bool(true),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			var notFound *smtypes.ResourceNotFoundException
			if errors.As(err, &notFound) {
				return Versions{}, fmt.Errorf("list the versions of secret %s: %w", nameOrARN, ErrNotFound)
			}
			return Versions{}, fmt.Errorf("list the versions of secret %s in Secrets Manager: %w", nameOrARN, err)
		}
		out.ARN, out.Name = aws.ToString(page.ARN), aws.ToString(page.Name)
		for _, v := range page.Versions {
			out.All = append(out.All, Version{ID: aws.ToString(v.VersionId), Stages: v.VersionStages, Created: aws.ToTime(v.CreatedDate).UTC()})
		}
	}
	return out, nil
}

// VersionCreated is when the version ref names was stored (the current
// version when ref has no VersionID). A secret or version that does not
// exist is ErrNotFound.
func VersionCreated(ctx context.Context, api API, ref secretref.Ref) (time.Time, error) {
	versions, err := ListVersions(ctx, api, ref.ARN)
	if err != nil {
		return time.Time{}, err
	}
	v, ok := versions.ByID(ref.VersionID)
	if ref.VersionID == "" {
		v, ok = versions.Staged(StageCurrent)
	}
	if !ok {
		return time.Time{}, fmt.Errorf("date of %s: %w", ref, ErrNotFound)
	}
	return v.Created, nil
}

// PutPending stores value as a new version of the secret name labelled
// AWSPENDING only: the current version stays current, and AWSPENDING
// leaves whichever version had it. The version is read by its ID (the
// returned reference) until Promote makes it current.
//
// A secret that does not exist yet is created with value as its first
// version, which Secrets Manager makes AWSCURRENT: there is no current
// value to keep.
//
// requestToken makes the write idempotent, as in Put: a retry with the same
// token (and value) names the same version and stores nothing more.
func PutPending(ctx context.Context, api API, name string, value Value, requestToken string) (secretref.Ref, error) {
	if len(requestToken) < 32 || len(requestToken) > 64 {
		return secretref.Ref{}, fmt.Errorf("store a pending version of secret %s: the request token must have 32 to 64 characters, got %d", name, len(requestToken))
	}
	ref, err := putPendingVersion(ctx, api, name, value, requestToken)
	var notFound *smtypes.ResourceNotFoundException
	if !errors.As(err, &notFound) {
		return ref, err
	}
	created, err := api.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:               aws.String(name),
		SecretString:       aws.String(value.Reveal()),
		ClientRequestToken: aws.String(requestToken),
	})
	if err == nil {
		return secretref.Ref{ARN: aws.ToString(created.ARN), VersionID: aws.ToString(created.VersionId)}, nil
	}
	var exists *smtypes.ResourceExistsException
	if errors.As(err, &exists) {
		// Created meanwhile: its value is current, this one is pending.
		return putPendingVersion(ctx, api, name, value, requestToken)
	}
	return secretref.Ref{}, fmt.Errorf("create secret %s in Secrets Manager: %w", name, err)
}

// putPendingVersion is the PutSecretValue of PutPending; its error wraps
// the SDK's, so a caller can tell a secret that does not exist.
func putPendingVersion(ctx context.Context, api API, name string, value Value, requestToken string) (secretref.Ref, error) {
	put, err := api.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId:           aws.String(name),
		SecretString:       aws.String(value.Reveal()),
		ClientRequestToken: aws.String(requestToken),
		VersionStages:      []string{StagePending},
	})
	if err != nil {
		return secretref.Ref{}, fmt.Errorf("store a pending version of secret %s in Secrets Manager: %w", name, err)
	}
	return secretref.Ref{ARN: aws.ToString(put.ARN), VersionID: aws.ToString(put.VersionId)}, nil
}

// Promote makes the version ref names the secret's AWSCURRENT, as the last
// step of a rotation does: the version that had AWSCURRENT gets
// AWSPREVIOUS (Secrets Manager moves it) and is returned. A version that is
// current already is left alone and returned as its own previous: Promote
// can be called again after an answer was lost, at the price of not
// knowing then which version it replaced. A secret or version that does
// not exist is ErrNotFound.
func Promote(ctx context.Context, api API, ref secretref.Ref) (previous secretref.Ref, err error) {
	if ref.VersionID == "" {
		return secretref.Ref{}, fmt.Errorf("promote %s: name the version to make current", ref)
	}
	versions, err := ListVersions(ctx, api, ref.ARN)
	if err != nil {
		return secretref.Ref{}, err
	}
	if _, ok := versions.ByID(ref.VersionID); !ok {
		return secretref.Ref{}, fmt.Errorf("promote %s: %w", ref, ErrNotFound)
	}
	in := &secretsmanager.UpdateSecretVersionStageInput{
		SecretId:        aws.String(ref.ARN),
		VersionStage:    aws.String(StageCurrent),
		MoveToVersionId: aws.String(ref.VersionID),
	}
	current, hasCurrent := versions.Staged(StageCurrent)
	switch {
	case hasCurrent && current.ID == ref.VersionID:
		return ref, nil
	case hasCurrent:
		// Secrets Manager refuses the move unless it is told where the
		// label comes from, so a version made current meanwhile by someone
		// else is not replaced unseen: the call fails and a retry looks
		// again.
		in.RemoveFromVersionId = aws.String(current.ID)
		previous = versions.Ref(current)
	}
	if _, err := api.UpdateSecretVersionStage(ctx, in); err != nil {
		return secretref.Ref{}, fmt.Errorf("make %s the current version in Secrets Manager: %w", ref, err)
	}
	return previous, nil
}
