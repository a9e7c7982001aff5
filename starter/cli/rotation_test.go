package cli

import (
	"bytes"
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

// A rotation run's status ends with what the person must do.
func TestRenderRotationStatus(t *testing.T) {
	opened := time.Date(2027, 2, 1, 9, 0, 0, 0, time.UTC)
	created := opened.AddDate(-1, 0, 10)
	view := rotationView{ScimTokenRotationStatus: workflows.ScimTokenRotationStatus{
		WorkflowID: "scim-token-rotation-d-1234567890-2027-02-01T09:00:00Z",
		Phase:      workflows.RotationPhaseAwaitingToken,
		Step:       "waiting at gate new-scim-token",
		Due:        "The SCIM token expires in 9 days.",
		Current:    &workflows.TokenState{Created: created, Expires: created.AddDate(1, 0, 0), ExpirySource: workflows.ExpiryFromSecretVersion},
		GateState: workflows.GateState{Gate: &workflows.GateStatus{Name: workflows.GateNewSCIMToken, OpenedAt: opened,
			Instructions: "Generate a token, then:\n\n    starter submit-scim --workflow-id X --token-file FILE --by NAME"}},
	}}
	var b bytes.Buffer
	renderRotationStatus(&b, view, "", opened.Add(2*time.Hour))
	out := b.String()
	require.Contains(t, out, "Why a new token  The SCIM token expires in 9 days.")
	require.Contains(t, out, "expires 2027-02-11 (secret version created)")
	require.True(t, strings.HasSuffix(strings.TrimSpace(out), "starter submit-scim --workflow-id X --token-file FILE --by NAME"), out)
	require.Contains(t, out, `Waiting for you at gate "new-scim-token"`)
}

func TestAFailedRunIsWordedByTheWorkflowsMessage(t *testing.T) {
	err := fmt.Errorf("workflow execution error (type: ScimTokenRotation): %w",
		temporal.NewNonRetryableApplicationError("the SCIM token rotation stopped while reading the current token's secret", "StepFailed", nil))
	require.Equal(t, "failed: the SCIM token rotation stopped while reading the current token's secret", describeRunError(err))
}
