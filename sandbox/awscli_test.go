package sandbox_test

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/world"
	"github.com/stretchr/testify/require"
)

// awsCLI runs the AWS CLI (an independent client: botocore's own models and
// parsers) against the sandbox and decodes its JSON output into out.
func awsCLI(t *testing.T, c awsClients, out any, args ...string) {
	t.Helper()
	awsCLIRegion(t, c, awsTestRegion, out, args...)
}

// awsCLIRegion is awsCLI in region.
func awsCLIRegion(t *testing.T, c awsClients, region string, out any, args ...string) {
	t.Helper()
	awsCLIAt(t, c.sb.AWSURL, region, out, args...)
}

// awsCLIAt is awsCLI against endpoint (the sandbox's S3 has its own).
func awsCLIAt(t *testing.T, endpoint, region string, out any, args ...string) {
	t.Helper()
	path, err := exec.LookPath("aws")
	require.NoError(t, err, "the AWS CLI is part of the development machine's image (see README, Development)")
	cmd := exec.Command(path, append(args, "--endpoint-url", endpoint, "--region", region, "--output", "json")...)
	dir := t.TempDir()
	// Only the sandbox's credentials: nothing of the machine's AWS setup.
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "AWS_") })
	cmd.Env = append(env,
		"AWS_ACCESS_KEY_ID=AKIASANDBOXEXAMPLE", "AWS_SECRET_ACCESS_KEY=sandbox-secret-key",
		"AWS_CONFIG_FILE="+filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "credentials"),
		"AWS_PAGER=")
	stdout, err := cmd.Output()
	if exitErr := (*exec.ExitError)(nil); errors.As(err, &exitErr) {
		require.NoError(t, err, string(exitErr.Stderr))
	}
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(stdout, out), string(stdout))
}

// TestAWSCLIReadsAssignmentsBothWays: the AWS CLI lists the account
// assignments the inventory reads, per pair and per principal, paging
// through all of them (the CLI follows NextToken itself).
func TestAWSCLIReadsAssignmentsBothWays(t *testing.T) {
	c := startAWS(t, awsPagingWorld(), awsTestRegion, awsStaticCreds())

	var byPrincipal struct {
		AccountAssignments []struct{ AccountId, PermissionSetArn, PrincipalId, PrincipalType string }
	}
	awsCLI(t, c, &byPrincipal, "sso-admin", "list-account-assignments-for-principal",
		"--instance-arn", awsTestInstanceARN, "--principal-id", awsGroupID("everyone"), "--principal-type", "GROUP", "--page-size", "50")
	require.Len(t, byPrincipal.AccountAssignments, 130, "every account of group everyone, over three pages")
	for _, a := range byPrincipal.AccountAssignments {
		require.Equal(t, awsGroupID("everyone"), a.PrincipalId)
		require.Equal(t, "GROUP", a.PrincipalType)
	}

	var byPair struct {
		AccountAssignments []struct{ AccountId, PermissionSetArn, PrincipalId, PrincipalType string }
	}
	first := byPrincipal.AccountAssignments[0]
	awsCLI(t, c, &byPair, "sso-admin", "list-account-assignments",
		"--instance-arn", awsTestInstanceARN, "--account-id", first.AccountId, "--permission-set-arn", first.PermissionSetArn)
	require.Contains(t, byPair.AccountAssignments, first)

	var filtered struct {
		AccountAssignments []struct{ AccountId string }
	}
	awsCLI(t, c, &filtered, "sso-admin", "list-account-assignments-for-principal",
		"--instance-arn", awsTestInstanceARN, "--principal-id", awsGroupID("everyone"), "--principal-type", "GROUP", "--filter", "AccountId="+first.AccountId)
	require.Equal(t, []struct{ AccountId string }{{first.AccountId}}, filtered.AccountAssignments)
}

// TestAWSCLIReadsApplications: the AWS CLI lists the sample's applications
// and their assignments, and reads an application's assignment
// configuration.
func TestAWSCLIReadsApplications(t *testing.T) {
	w := world.Sample()
	c := startAWS(t, w, w.AWS.Region, awsStaticCreds())
	awsCLIIn := func(out any, args ...string) {
		t.Helper()
		awsCLIRegion(t, c, w.AWS.Region, out, args...)
	}

	var apps struct {
		Applications []struct{ ApplicationArn, Name, Status, ApplicationProviderArn string }
	}
	awsCLIIn(&apps, "sso-admin", "list-applications", "--instance-arn", w.AWS.InstanceARN)
	require.Len(t, apps.Applications, 1)
	app := apps.Applications[0]
	require.Equal(t, "Grafana", app.Name)
	require.Equal(t, "ENABLED", app.Status)
	require.Equal(t, world.ApplicationARN(w.AWS.InstanceARN, w.AWS.Accounts[0].ID, "Grafana"), app.ApplicationArn)

	var assignments struct {
		ApplicationAssignments []struct{ ApplicationArn, PrincipalId, PrincipalType string }
	}
	awsCLIIn(&assignments, "sso-admin", "list-application-assignments", "--application-arn", app.ApplicationArn)
	require.ElementsMatch(t, []struct{ ApplicationArn, PrincipalId, PrincipalType string }{
		{app.ApplicationArn, world.StableID("aws-group", "aws-developers"), "GROUP"},
		{app.ApplicationArn, world.StableID("aws-user", "dana.okafor@corp.example"), "USER"},
	}, assignments.ApplicationAssignments)

	var config struct{ AssignmentRequired bool }
	awsCLIIn(&config, "sso-admin", "get-application-assignment-configuration", "--application-arn", app.ApplicationArn)
	require.True(t, config.AssignmentRequired)
}

// TestAWSCLIReadsAndWritesTheStoreBucket: the sandbox's S3 (gofakes3)
// answers the AWS CLI as S3 does: the store's bucket exists, an object put
// is listed and read back.
func TestAWSCLIReadsAndWritesTheStoreBucket(t *testing.T) {
	sb, err := sandbox.Start(world.Sample(), sandbox.Options{})
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	body := filepath.Join(t.TempDir(), "doc")
	require.NoError(t, os.WriteFile(body, []byte("sealed bytes"), 0o600))

	var put struct{ ETag string }
	awsCLIAt(t, sb.S3URL, awsTestRegion, &put, "s3api", "put-object", "--bucket", sandbox.StoreBucket, "--key", "cutovers/report-1.json.gz", "--body", body)
	require.NotEmpty(t, put.ETag)
	var listed struct{ Contents []struct{ Key string } }
	awsCLIAt(t, sb.S3URL, awsTestRegion, &listed, "s3api", "list-objects-v2", "--bucket", sandbox.StoreBucket, "--prefix", "cutovers/")
	require.Len(t, listed.Contents, 1)
	require.Equal(t, "cutovers/report-1.json.gz", listed.Contents[0].Key)
	objects, err := sb.S3Objects()
	require.NoError(t, err)
	require.Equal(t, "sealed bytes", string(objects["cutovers/report-1.json.gz"]))
}
