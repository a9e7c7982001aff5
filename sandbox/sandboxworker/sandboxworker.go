// Package sandboxworker configures a worker (worker/app) to talk to a
// running sandbox: the real SDK clients with only their endpoints and
// credentials changed. It lives beside the sandbox so that the product's
// binaries never link the simulator.
package sandboxworker

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/platformguide/ssocutover/internal/awsclient"
	"github.com/platformguide/ssocutover/internal/graphclient"
	"github.com/platformguide/ssocutover/internal/store"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/world"
	"github.com/platformguide/ssocutover/worker/app"
)

// Sandbox credentials: the sandbox accepts any, but the SDKs insist on some.
const (
	AccessKeyID     = "AKIASANDBOX000000000"
	SecretAccessKey = "sandbox-secret-access-key"
)

// GraphToken is the Graph token of a worker of w's tenant: a JWT with the
// application permissions a real app registration would be granted.
func GraphToken(w *world.World) string { return sandbox.GraphAccessToken(w.Entra.TenantID) }

// AppVisibilityWait is how long a worker on the sandbox waits for Entra
// to show an enterprise app that may exist. The sandbox shows a new app
// after sandbox.DefaultInstantiateDelay; the product's default is made for
// a real tenant, where a rollback that searches for an app no step
// returned would spend minutes of every test finding nothing.
const AppVisibilityWait = 15 * time.Second

// Config is the configuration of a worker that talks to sb, which
// serves w: the real SDK clients with only their endpoints and credentials
// changed.
func Config(sb *sandbox.Sandbox, w *world.World, dataDir string) app.Config {
	return app.Config{
		DataDir:        dataDir,
		AWS:            awsclient.Options{Region: w.AWS.Region},
		AWSEndpointURL: sb.AWSURL,
		AWSCredentials: credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		Graph: graphclient.Config{
			BaseURL:     sb.GraphURL,
			TenantID:    w.Entra.TenantID,
			StaticToken: GraphToken(w),
		},
		// The sandbox publishes federation metadata on its Graph listener.
		LoginURL:          sb.GraphURL,
		AppVisibilityWait: AppVisibilityWait,
	}
}

// Env is the environment that points a worker or starter process at sb,
// which serves w: the real SDK clients' endpoints and credentials, and
// where the sandbox's console listens. Nothing else (Temporal, the data
// directory, the payload keys) is the sandbox's to set.
func Env(sb *sandbox.Sandbox, w *world.World) []string {
	return []string{
		"AWS_ENDPOINT_URL=" + sb.AWSURL,
		"AWS_REGION=" + w.AWS.Region,
		"AWS_ACCESS_KEY_ID=" + AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + SecretAccessKey,
		// No profile of this machine's may change where the SDK goes.
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		app.EnvGraphURL + "=" + sb.GraphURL,
		app.EnvGraphToken + "=" + GraphToken(w),
		// The sandbox publishes federation metadata on its Graph listener.
		app.EnvLoginURL + "=" + sb.GraphURL,
		EnvSandboxURL + "=" + sb.AWSURL,
		app.EnvAppVisibilityWait + "=" + AppVisibilityWait.String(),
	}
}

// EnvSandboxURL is the sandbox's AWS endpoint, where its console listens
// (`sandbox console` reads it).
const EnvSandboxURL = "SSOCUTOVER_SANDBOX_URL"

// S3Store is the store in the sandbox's S3 bucket (--store s3).
func S3Store(sb *sandbox.Sandbox) store.Settings {
	return store.Settings{Kind: store.KindS3, Bucket: sandbox.StoreBucket, S3Endpoint: sb.S3URL, S3PathStyle: true}
}

// S3StoreEnv is the environment that puts a worker's or starter's store
// in the sandbox's S3 bucket (the AWS credentials are Env's).
func S3StoreEnv(sb *sandbox.Sandbox) []string {
	return []string{
		store.EnvStore + "=" + store.KindS3,
		store.EnvStoreBucket + "=" + sandbox.StoreBucket,
		store.EnvStoreS3Endpoint + "=" + sb.S3URL,
		store.EnvStoreS3PathStyle + "=true",
	}
}
