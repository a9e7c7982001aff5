package awsclient_test

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	idtypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/internal/awsclient"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/world"
)

const storeID = "d-1234567890"

func testWorld() *world.World {
	return &world.World{
		AWS: world.AWS{
			Region: "eu-west-1", IdentityStoreID: storeID, InstanceARN: "arn:aws:sso:::instance/ssoins-1234567890abcdef",
			Users: []world.AWSUser{{UserName: "alice@corp.example", GivenName: "Alice", FamilyName: "Ng", DisplayName: "Alice Ng", Email: "alice@corp.example"}},
		},
		Entra: world.Entra{TenantID: "00000000-0000-0000-0000-000000000001"},
	}
}

// sandboxEnv starts a sandbox and sets the environment a worker would have:
// endpoint, region and static credentials, and no shared config files.
func sandboxEnv(t *testing.T, faults sandbox.Faults) {
	t.Helper()
	sb, err := sandbox.Start(testWorld(), sandbox.Options{Faults: faults})
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	t.Setenv("AWS_ENDPOINT_URL", sb.AWSURL)
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIASANDBOXEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "sandbox-secret-key")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
}

func listUsers(ctx context.Context, cfg aws.Config) error {
	_, err := identitystore.NewFromConfig(cfg).ListUsers(ctx, &identitystore.ListUsersInput{IdentityStoreId: aws.String(storeID), MaxResults: aws.Int32(100)})
	return err
}

func TestLoadUsesTheEnvironmentAndCountsCalls(t *testing.T) {
	sandboxEnv(t, sandbox.Faults{})
	cfg, err := awsclient.Load(context.Background(), awsclient.Options{})
	require.NoError(t, err)
	require.Equal(t, "eu-west-1", cfg.Region)
	require.Equal(t, awsclient.DefaultMaxAttempts, cfg.Retryer().MaxAttempts())

	counter := apicalls.NewCounter()
	ctx := apicalls.WithCounter(context.Background(), counter)
	for range 3 {
		require.NoError(t, listUsers(ctx, cfg))
	}
	require.Equal(t, []apicalls.OperationCount{{Operation: "identitystore:ListUsers", Calls: 3}}, counter.Counts())
}

func TestLoadRegionOptionOverridesTheEnvironment(t *testing.T) {
	sandboxEnv(t, sandbox.Faults{})
	cfg, err := awsclient.Load(context.Background(), awsclient.Options{Region: "us-east-1"})
	require.NoError(t, err)
	require.Equal(t, "us-east-1", cfg.Region)
	// The sandbox's instance is in eu-west-1, as a real one is regional.
	var notFound *idtypes.ResourceNotFoundException
	require.ErrorAs(t, listUsers(context.Background(), cfg), &notFound)
}

func TestLoadWithoutRegionSaysHowToSetIt(t *testing.T) {
	sandboxEnv(t, sandbox.Faults{})
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	_, err := awsclient.Load(context.Background(), awsclient.Options{})
	require.ErrorContains(t, err, "AWS_REGION")
}

func TestRequestsArePaced(t *testing.T) {
	sandboxEnv(t, sandbox.Faults{})
	cfg, err := awsclient.Load(context.Background(), awsclient.Options{RequestsPerSecond: 5})
	require.NoError(t, err)
	start := time.Now()
	// A burst of 5, then one call every 200ms: 10 calls take at least 1s.
	for range 10 {
		require.NoError(t, listUsers(context.Background(), cfg))
	}
	require.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond)
}

func TestThrottlingIsRetriedUpToMaxAttempts(t *testing.T) {
	sandboxEnv(t, sandbox.Faults{ThrottleRate: 1})
	cfg, err := awsclient.Load(context.Background(), awsclient.Options{MaxAttempts: 2, RequestsPerSecond: -1})
	require.NoError(t, err)
	counter := apicalls.NewCounter()
	err = listUsers(apicalls.WithCounter(context.Background(), counter), cfg)
	var throttled *idtypes.ThrottlingException
	require.ErrorAs(t, err, &throttled)
	require.Equal(t, 2, counter.Total(), "every attempt is counted")
}

// TestCustomCABundleIsKept: AWS_CA_BUNDLE (corporate proxies) makes the SDK
// build its own HTTP client; Load must keep that client's TLS settings under
// its counting transport rather than fail or drop them.
func TestCustomCABundleIsKept(t *testing.T) {
	sandboxEnv(t, sandbox.Faults{})
	tlsServer := httptest.NewTLSServer(nil)
	defer tlsServer.Close()
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsServer.Certificate().Raw}), 0o600))
	t.Setenv("AWS_CA_BUNDLE", bundle)

	cfg, err := awsclient.Load(context.Background(), awsclient.Options{})
	require.NoError(t, err)
	require.NoError(t, listUsers(context.Background(), cfg))

	// The bundle's CA is trusted: a TLS handshake with the test server
	// (which answers 404 to this path) succeeds.
	resp, err := cfg.HTTPClient.Do(httptestRequest(t, tlsServer.URL))
	require.NoError(t, err)
	resp.Body.Close()
}

func httptestRequest(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url+"/", nil)
	require.NoError(t, err)
	return req
}
