// Package s3store keeps the store's documents in an S3 bucket, so that
// several workers on several machines share them, and chooses between the
// bucket and the local directory by configuration (Open).
//
// The objects are sealed with the payload codec's keys before they are
// uploaded (store.Documents), so the bucket never holds personal data in
// clear; SSE-KMS can be asked for on top. Documents are content-addressed:
// a retry, on any worker, writes the same object name once.
package s3store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/platformguide/ssocutover/internal/store"
)

// API is the part of the S3 client the store calls.
type API interface {
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Objects are the store's objects in Bucket, their names under Prefix.
type Objects struct {
	Client API
	Bucket string
	Prefix string
	// KMSKeyID, when set, asks S3 to encrypt the objects with that KMS key
	// as well (SSE-KMS); the bucket's default encryption applies otherwise.
	KMSKeyID string
}

var _ store.Objects = Objects{}

func (o Objects) key(name string) string {
	return path.Join(o.Prefix, name)
}

// HasObject asks HeadObject, which answers 404 for a missing object (403
// when the caller may not list the bucket: that is an error here).
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html
func (o Objects) HasObject(ctx context.Context, name string) (bool, error) {
	_, err := o.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(o.key(name))})
	if statusOf(err) == http.StatusNotFound {
		return false, nil
	}
	if err != nil {
		return false, o.callError("look for", name, err)
	}
	return true, nil
}

// WriteObject puts the object only if no object has its name (If-None-Match:
// *): two workers writing the same document at once write it once, and the
// loser's 412 Precondition Failed is success, since the content is the same.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
func (o Objects) WriteObject(ctx context.Context, name string, data []byte) error {
	in := &s3.PutObjectInput{
		Bucket:        aws.String(o.Bucket),
		Key:           aws.String(o.key(name)),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
		ContentType:   aws.String("application/octet-stream"),
		IfNoneMatch:   aws.String("*"),
	}
	if o.KMSKeyID != "" {
		in.ServerSideEncryption = types.ServerSideEncryptionAwsKms
		in.SSEKMSKeyId = aws.String(o.KMSKeyID)
	}
	_, err := o.Client.PutObject(ctx, in)
	switch statusOf(err) {
	case http.StatusPreconditionFailed:
		return nil
	case http.StatusConflict:
		// ConditionalRequestConflict: a concurrent write of the same name
		// is under way; the retry finds the object.
		return fmt.Errorf("another worker is writing %s at this moment; retry: %w", o.key(name), err)
	}
	if err != nil {
		return o.callError("write", name, err)
	}
	return nil
}

// ReadObject gets the object; a missing one (NoSuchKey, 404) is
// store.ErrNotFound.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
func (o Objects) ReadObject(ctx context.Context, name string) ([]byte, error) {
	out, err := o.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(o.key(name))})
	var noSuchKey *types.NoSuchKey
	if errors.As(err, &noSuchKey) || statusOf(err) == http.StatusNotFound {
		return nil, fmt.Errorf("%w: s3://%s/%s", store.ErrNotFound, o.Bucket, o.key(name))
	}
	if err != nil {
		return nil, o.callError("read", name, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, o.callError("read", name, err)
	}
	return data, nil
}

// Location is the bucket and prefix, as s3://bucket/prefix.
func (o Objects) Location() string {
	return "s3://" + path.Join(o.Bucket, o.Prefix)
}

func (o Objects) callError(what, name string, err error) error {
	if status := statusOf(err); status == http.StatusForbidden {
		return fmt.Errorf("%s s3://%s/%s: access denied: the worker's role needs s3:GetObject and s3:PutObject on the store's prefix (and kms:GenerateDataKey and kms:Decrypt on the KMS key, with SSE-KMS): %w",
			what, o.Bucket, o.key(name), err)
	}
	return fmt.Errorf("%s s3://%s/%s: %w", what, o.Bucket, o.key(name), err)
}

// statusOf is the HTTP status of an S3 call's error, 0 without one.
func statusOf(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// Open returns the store s chooses: the data directory's, or the bucket's
// on the S3 client of awsConfig. Both seal documents with sealer.
func Open(s store.Settings, dataDir string, awsConfig aws.Config, sealer store.Sealer) (store.Store, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if !s.IsS3() {
		return store.Dir{Path: store.DirIn(dataDir), Sealer: sealer}, nil
	}
	client := s3.NewFromConfig(awsConfig, func(o *s3.Options) {
		if s.S3Endpoint != "" {
			o.BaseEndpoint = aws.String(s.S3Endpoint)
		}
		o.UsePathStyle = s.S3PathStyle
	})
	return store.Documents{Objects: Objects{Client: client, Bucket: s.Bucket, Prefix: s.Prefix, KMSKeyID: s.KMSKeyID}, Sealer: sealer}, nil
}
