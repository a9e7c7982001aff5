package checks_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/activities/checks"
	"github.com/platformguide/ssocutover/internal/graphclient"
	"github.com/platformguide/ssocutover/internal/readiness"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/world"
)

// run serves w and makes every check against it with the real SDK clients.
func run(t *testing.T, w *world.World) readiness.Report {
	t.Helper()
	return runWithToken(t, w, sandbox.GraphAccessToken(w.Entra.TenantID))
}

func runWithToken(t *testing.T, w *world.World, token string) readiness.Report {
	t.Helper()
	require.NoError(t, w.Validate())
	sb, err := sandbox.Start(w, sandbox.Options{})
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(w.AWS.Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIASANDBOX000000000", "sandbox-secret", "")),
		config.WithSharedConfigFiles([]string{}), config.WithSharedCredentialsFiles([]string{}))
	require.NoError(t, err)
	cfg.BaseEndpoint = aws.String(sb.AWSURL)
	graph, err := graphclient.New(graphclient.Config{BaseURL: sb.GraphURL, StaticToken: token, RequestsPerSecond: -1})
	require.NoError(t, err)
	clients := checks.AWSClients{STS: sts.NewFromConfig(cfg), IAM: iam.NewFromConfig(cfg), SSOAdmin: ssoadmin.NewFromConfig(cfg), IdentityStore: identitystore.NewFromConfig(cfg)}
	return checks.Run(ctx, clients, graph, checks.CheckReadinessInput{Region: w.AWS.Region, IdentityStoreID: w.AWS.IdentityStoreID})
}

// line is what a test asserts of a check.
type line struct {
	Status readiness.Status
	Name   string
	Code   string
}

func lines(r readiness.Report) []line {
	var out []line
	for _, c := range r.Checks {
		out = append(out, line{c.Status, c.Name, c.Code})
	}
	return out
}

func TestTheSampleWorldIsReady(t *testing.T) {
	r := run(t, world.Sample())
	require.True(t, r.Ready())
	require.Equal(t, []line{
		{readiness.OK, "AWS identity", ""},
		{readiness.OK, "Identity Center instance", ""},
		{readiness.OK, "IAM permissions", ""},
		{readiness.OK, "Graph permissions", ""},
		{readiness.OK, "Entra ID P1 licence", ""},
		{readiness.OK, "gallery app", ""},
		{readiness.OK, "identifier URI policy", ""},
	}, lines(r), "%+v", r)
	require.Contains(t, r.Checks[0].Detail, "assumed-role/ssocutover-worker/sandbox")
	require.Contains(t, r.Checks[2].Detail, "26 of 26 actions allowed for arn:aws:iam::")
}

// The three gaps the issue names: a denied action, no P1 licence, and a
// policy that blocks the identifier URI. Each is missing, with its code
// and what to do.
func TestAWorldThatCannotCarryACutoverIsNotReady(t *testing.T) {
	w := world.Sample()
	w.AWS.DeniedActions = []string{"sso:CreateAccountAssignment"}
	w.Entra.WithoutPremiumLicence = true
	w.Entra.RestrictIdentifierURIs = true
	r := run(t, w)
	require.False(t, r.Ready())
	require.Equal(t, []line{
		{readiness.OK, "AWS identity", ""},
		{readiness.OK, "Identity Center instance", ""},
		{readiness.Missing, "sso:CreateAccountAssignment", readiness.CodeMissingPermission},
		{readiness.OK, "IAM permissions", ""},
		{readiness.OK, "Graph permissions", ""},
		{readiness.Missing, "Entra ID P1 licence", readiness.CodeMissingLicence},
		{readiness.OK, "gallery app", ""},
		{readiness.Missing, "identifier URI policy", readiness.CodeIdentifierURIBlocked},
	}, lines(r), "%+v", r)
	require.Contains(t, r.Checks[2].Detail, "implicitDeny for arn:aws:iam::")
	require.Contains(t, r.Checks[2].Fix, "allow sso:CreateAccountAssignment on arn:aws:sso:::instance/")
	require.Contains(t, r.Checks[5].Detail, "STANDARDPACK")
	require.Contains(t, r.Checks[7].Fix, `"excludeSaml":true`)
	require.Contains(t, r.Checks[7].Detail, "https://eu-west-1.signin.aws.amazon.com/platform/saml/")
}

// Without iam:SimulatePrincipalPolicy the check says so and reads instead;
// a read that is refused is missing.
func TestWithoutSimulationTheCheckReads(t *testing.T) {
	w := world.Sample()
	w.AWS.DeniedActions = []string{"iam:SimulatePrincipalPolicy", "identitystore:ListUsers"}
	r := run(t, w)
	require.Equal(t, []line{
		{readiness.OK, "AWS identity", ""},
		{readiness.OK, "Identity Center instance", ""},
		{readiness.Warning, "iam:SimulatePrincipalPolicy", ""},
		{readiness.OK, "sso:ListPermissionSets", ""},
		{readiness.Missing, "identitystore:ListUsers", readiness.CodeMissingPermission},
		{readiness.OK, "Graph permissions", ""},
		{readiness.OK, "Entra ID P1 licence", ""},
		{readiness.OK, "gallery app", ""},
		{readiness.OK, "identifier URI policy", ""},
	}, lines(r), "%+v", r)
	require.Contains(t, r.Checks[4].Detail, "AccessDeniedException")
}

// From a delegated administrator account the instance is administered, with
// a warning about the management account.
func TestADelegatedAdministratorIsWarned(t *testing.T) {
	w := world.Sample()
	w.AWS.DelegatedAdministrator = w.AWS.Accounts[1].ID
	r := run(t, w)
	require.True(t, r.Ready())
	require.Equal(t, readiness.Warning, r.Checks[1].Status)
	require.Contains(t, r.Checks[1].Detail, "as a delegated administrator")
}

// The roles claim of the token says which Graph permissions were granted:
// one the cutover needs is missing, one only the check needs is a warning.
func TestGraphPermissionsComeFromTheTokensRoles(t *testing.T) {
	w := world.Sample()
	var roles []string
	for _, p := range readiness.GraphPermissions {
		if p.Name != "Synchronization.ReadWrite.All" && p.Name != "Policy.Read.All" {
			roles = append(roles, p.Name)
		}
	}
	claims, err := json.Marshal(map[string]any{"tid": w.Entra.TenantID, "roles": roles})
	require.NoError(t, err)
	token := "eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString(claims) + "."
	r := runWithToken(t, w, token)
	require.Equal(t, []line{
		{readiness.OK, "AWS identity", ""},
		{readiness.OK, "Identity Center instance", ""},
		{readiness.OK, "IAM permissions", ""},
		{readiness.Missing, "Synchronization.ReadWrite.All", readiness.CodeMissingGraphRole},
		{readiness.Warning, "Policy.Read.All", ""},
		{readiness.OK, "Graph permissions", ""},
		{readiness.OK, "Entra ID P1 licence", ""},
		{readiness.OK, "gallery app", ""},
		{readiness.OK, "identifier URI policy", ""},
	}, lines(r), "%+v", r)
	require.Contains(t, r.Checks[3].Fix, "grant admin consent")
	for _, c := range r.Checks {
		require.NotContains(t, c.Detail+c.Fix, token, "the token is never in the report")
	}
}

// A static token that is no JWT (an old sandbox's) cannot show its roles.
func TestATokenThatIsNoJWTIsAWarning(t *testing.T) {
	r := runWithToken(t, world.Sample(), "not-a-jwt")
	require.Equal(t, readiness.Warning, r.Checks[3].Status, "%+v", r)
	require.True(t, r.Ready())
}
