package s3store_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/activitytest"
	"github.com/platformguide/ssocutover/internal/codec"
	"github.com/platformguide/ssocutover/internal/store"
	"github.com/platformguide/ssocutover/internal/store/s3store"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/world"
)

// sandboxStore is the S3 store on the sandbox's S3, through the real SDK.
func sandboxStore(t *testing.T, prefix string, sealer store.Sealer) (store.Store, *sandbox.Sandbox) {
	t.Helper()
	sb, err := sandbox.Start(world.Sample(), sandbox.Options{})
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	settings := store.Settings{Kind: store.KindS3, Bucket: sandbox.StoreBucket, Prefix: prefix, S3Endpoint: sb.S3URL, S3PathStyle: true}
	awsConfig := aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKIASANDBOXEXAMPLE", "sandbox-secret-key", "")}
	st, err := s3store.Open(settings, t.TempDir(), awsConfig, sealer)
	require.NoError(t, err)
	return st, sb
}

type inventory struct {
	Users []string `json:"users"`
}

func TestS3StoreKeepsOneSealedObjectPerDocument(t *testing.T) {
	ctx := context.Background()
	sealer := activitytest.NewCodec(t)
	st, sb := sandboxStore(t, "cutovers/prod", sealer)
	doc := inventory{Users: []string{"alice@corp.example", "bob@corp.example"}}

	ref, err := st.Put(ctx, "aws-inventory", doc)
	require.NoError(t, err)
	again, err := st.Put(ctx, "aws-inventory", doc)
	require.NoError(t, err, "a retry puts the same document")
	require.Equal(t, ref, again)

	objects, err := sb.S3Objects()
	require.NoError(t, err)
	require.Len(t, objects, 1, "content-addressed: one object")
	object, ok := objects["cutovers/prod/"+ref.Key+".json.gz"]
	require.True(t, ok, "under the prefix: %v", objects)
	require.True(t, codec.IsSealed(object))
	require.NotContains(t, string(object), "alice", "the bucket holds no personal data in clear")

	var got inventory
	require.NoError(t, st.Get(ctx, ref, &got))
	require.Equal(t, doc, got)

	// A worker with another store, or without the keys, cannot read it,
	// and says why.
	other, _ := sandboxStore(t, "cutovers/prod", sealer)
	err = other.Get(ctx, ref, &got)
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorContains(t, err, "s3://"+sandbox.StoreBucket+"/cutovers/prod")
	awsConfig := aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKIASANDBOXEXAMPLE", "sandbox-secret-key", "")}
	keyless, err := s3store.Open(store.Settings{Kind: store.KindS3, Bucket: sandbox.StoreBucket, Prefix: "cutovers/prod", S3Endpoint: sb.S3URL, S3PathStyle: true}, "", awsConfig, nil)
	require.NoError(t, err)
	require.ErrorContains(t, keyless.Get(ctx, ref, &got), "no payload keys")

}

func TestOpenChoosesTheStoreAndRefusesHalfSettings(t *testing.T) {
	dir := t.TempDir()
	st, err := s3store.Open(store.Settings{}, dir, aws.Config{}, nil)
	require.NoError(t, err)
	require.Equal(t, store.Dir{Path: store.DirIn(dir)}, st)

	_, err = s3store.Open(store.Settings{Kind: store.KindS3}, dir, aws.Config{}, nil)
	require.ErrorContains(t, err, "needs a bucket")
	_, err = s3store.Open(store.Settings{Bucket: "b"}, dir, aws.Config{}, nil)
	require.ErrorContains(t, err, "add --store s3")
	_, err = s3store.Open(store.Settings{Kind: "gcs"}, dir, aws.Config{}, nil)
	require.ErrorContains(t, err, `store "gcs": want dir or s3`)
}

func TestTwoWorkersWritingTheSameObjectBothSucceed(t *testing.T) {
	ctx := context.Background()
	sb, err := sandbox.Start(world.Sample(), sandbox.Options{})
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	client := s3.NewFromConfig(aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKIASANDBOXEXAMPLE", "sandbox-secret-key", "")},
		func(o *s3.Options) { o.BaseEndpoint, o.UsePathStyle = aws.String(sb.S3URL), true })
	objects := s3store.Objects{Client: client, Bucket: sandbox.StoreBucket}

	// The second write finds the name taken (If-None-Match: *, answered
	// 412): the content is the same, so that is success, and the first
	// write's object stays.
	require.NoError(t, objects.WriteObject(ctx, "report-1.json.gz", []byte("first")))
	require.NoError(t, objects.WriteObject(ctx, "report-1.json.gz", []byte("second")))
	data, err := objects.ReadObject(ctx, "report-1.json.gz")
	require.NoError(t, err)
	require.Equal(t, "first", string(data))
	has, err := objects.HasObject(ctx, "report-2.json.gz")
	require.NoError(t, err)
	require.False(t, has)
}
