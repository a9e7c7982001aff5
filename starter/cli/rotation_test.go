package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/platformguide/ssocutover/internal/awsclient"
	"github.com/platformguide/ssocutover/internal/secretstore"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/sandboxworker"
	"github.com/platformguide/ssocutover/sandbox/world"
	"github.com/platformguide/ssocutover/workflows"
)

const rotationRequestYAML = `identityStoreId: d-1234567890
region: eu-west-1
app:
  displayName: AWS IAM Identity Center (d-1234567890)
  appId: 11111111-1111-1111-1111-111111111111
  applicationObjectId: 22222222-2222-2222-2222-222222222222
  servicePrincipalId: 33333333-3333-3333-3333-333333333333
jobId: AWSSCIM.0123456789abcdef.fedcba9876543210
scimEndpoint: https://scim.eu-west-1.amazonaws.com/0123456789abcdef-0123-4567-89ab-0123456789ab/scim/v2
`

func writeRotationRequest(t *testing.T, body string) string {
	path := filepath.Join(t.TempDir(), "rotation.yaml")
	require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
	return path
}

// A request file is read strictly, the flags override it, and it is
// validated before anything is scheduled.
func TestRotationRequestFromAFile(t *testing.T) {
	c := &cli{}
	req, err := c.rotationRequest(context.Background(), nil, rotationScheduleOptions{
		requestFile: writeRotationRequest(t, rotationRequestYAML), warningWindow: "1080h", healthInterval: "30s",
	})
	require.NoError(t, err)
	require.Equal(t, "1080h", req.WarningWindow)
	require.Equal(t, "30s", req.HealthInterval)
	require.Equal(t, workflows.SCIMTokenSecretName("d-1234567890"), req.TokenSecretID())

	_, err = c.rotationRequest(context.Background(), nil, rotationScheduleOptions{
		requestFile: writeRotationRequest(t, rotationRequestYAML+"warningWindw: 720h\n"),
	})
	require.ErrorContains(t, err, "warningWindw", "a misspelt field is refused")

	_, err = c.rotationRequest(context.Background(), nil, rotationScheduleOptions{
		requestFile: writeRotationRequest(t, strings.Replace(rotationRequestYAML, "jobId: AWSSCIM.0123456789abcdef.fedcba9876543210\n", "", 1)),
	})
	require.ErrorContains(t, err, "jobId")
}

// --token-expires-at pins the date to the secret's current version.
func TestRotationRequestPinsAGivenExpiryToTheCurrentVersion(t *testing.T) {
	w := world.Sample()
	sb, err := sandbox.Start(w, sandbox.Options{})
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL": sb.AWSURL, "AWS_ACCESS_KEY_ID": sandboxworker.AccessKeyID, "AWS_SECRET_ACCESS_KEY": sandboxworker.SecretAccessKey,
		"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
	} {
		t.Setenv(k, v)
	}
	ctx := context.Background()
	cfg, err := awsclient.Load(ctx, awsclient.Options{Region: "eu-west-1"})
	require.NoError(t, err)
	ref, err := secretstore.Put(ctx, secretsmanager.NewFromConfig(cfg), workflows.SCIMTokenSecretName("d-1234567890"),
		secretstore.NewValue("a-token-made-long-ago"), strings.Repeat("a", 32), nil)
	require.NoError(t, err)

	req, err := (&cli{}).rotationRequest(ctx, nil, rotationScheduleOptions{
		requestFile: writeRotationRequest(t, rotationRequestYAML), tokenExpiresAt: "2027-01-31",
	})
	require.NoError(t, err)
	require.Equal(t, time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC), req.TokenExpiresAt)
	require.Equal(t, ref.VersionID, req.TokenVersionID)

	_, err = (&cli{}).rotationRequest(ctx, nil, rotationScheduleOptions{
		requestFile: writeRotationRequest(t, rotationRequestYAML), tokenExpiresAt: "next spring",
	})
	require.ErrorContains(t, err, "want a date such as 2027-03-01")
}

func TestAFailedRunIsWordedByTheWorkflowsMessage(t *testing.T) {
	err := fmt.Errorf("workflow execution error (type: ScimTokenRotation): %w",
		temporal.NewNonRetryableApplicationError("the SCIM token rotation stopped while reading the current token's secret", "StepFailed", nil))
	require.Equal(t, "failed: the SCIM token rotation stopped while reading the current token's secret", describeRunError(err))
}
