package scim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/platformguide/ssocutover/internal/activitytest"
	"github.com/platformguide/ssocutover/internal/awsclient"
	"github.com/platformguide/ssocutover/internal/samlmeta/samlmetatest"
	"github.com/platformguide/ssocutover/internal/secretref"
	"github.com/platformguide/ssocutover/internal/secretstore"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/world"
)

const (
	goodToken   = "c2NpbS10b2tlbi1mb3ItdGhlLXRlc3Qtb25seS0xMjM0NTY3ODkw"
	tenantPath  = "/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111/scim/v2"
	requestTok1 = "11111111-1111-1111-1111-111111111111"
)

// awsSCIM answers as IAM Identity Center's SCIM endpoint does for the two
// calls made here: a bearer token is required (401 in AWS's error body
// otherwise, also for a wrong tenant), ServiceProviderConfig, and a
// ListResponse of users with totalResults.
type awsSCIM struct {
	token string
	users int

	mu       sync.Mutex
	requests []*http.Request
}

func (s *awsSCIM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r.Clone(context.Background()))
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	rest, ok := strings.CutPrefix(r.URL.Path, tenantPath)
	if !ok || r.Header.Get("Authorization") != "Bearer "+s.token {
		w.WriteHeader(http.StatusUnauthorized)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"schema": []string{"urn:ietf:params:scim:api:messages:2.0:Error"}, "schemas": []string{"urn:ietf:params:scim:api:messages:2.0:Error"},
			"status": "401", "detail": "Authorization header is invalid or missing, or the tenant ID is incorrect.",
			"exceptionRequestId": "3a1a2b7c-0000-0000-0000-000000000000", "timeStamp": "2025-01-01 00:00:00.000",
		})
		return
	}
	switch rest {
	case "/ServiceProviderConfig":
		_ = json.NewEncoder(w).Encode(map[string]any{
			"schemas":               []string{schemaServiceProviderConfig},
			"authenticationSchemes": []map[string]any{{"type": "oauthbearertoken", "name": "OAuth Bearer Token", "primary": true}},
			"patch":                 map[string]any{"supported": true},
			"bulk":                  map[string]any{"supported": false},
			"filter":                map[string]any{"supported": true, "maxResults": 100},
		})
	case "/Users":
		_ = json.NewEncoder(w).Encode(map[string]any{
			"schemas": []string{schemaListResponse}, "totalResults": s.users, "itemsPerPage": 1, "startIndex": 1,
			"Resources": []map[string]any{{"id": "9067729b3d-00000000", "userName": "alice.ng@corp.example"}},
		})
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func (s *awsSCIM) seen() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*http.Request(nil), s.requests...)
}

// fixture is a sandbox for Secrets Manager (and, for the tests that want
// it, its SCIM endpoint) and the activities with real clients.
type fixture struct {
	sb      *sandbox.Sandbox
	secrets *secretsmanager.Client
	a       *Activities
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	w := world.Sample()
	sb, err := sandbox.Start(w, sandbox.Options{})
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	t.Setenv("AWS_ENDPOINT_URL", sb.AWSURL)
	t.Setenv("AWS_REGION", w.AWS.Region)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIASANDBOXEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "sandbox-secret-key")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	cfg, err := awsclient.Load(context.Background(), awsclient.Options{RequestsPerSecond: -1})
	require.NoError(t, err)
	secrets := secretsmanager.NewFromConfig(cfg)
	return &fixture{sb: sb, secrets: secrets, a: &Activities{Secrets: secrets, HTTPClient: &http.Client{Timeout: 5 * time.Second}}}
}

// storeToken keeps value in a new secret and returns its reference.
func (f *fixture) storeToken(t *testing.T, name, value string) secretref.Ref {
	t.Helper()
	ref, err := secretstore.Put(context.Background(), f.secrets, name, secretstore.NewValue(value), requestTok1, nil)
	require.NoError(t, err)
	return ref
}

// verify runs the activity as Temporal runs it.
func (f *fixture) verify(t *testing.T, in VerifySCIMEndpointInput) (VerifySCIMEndpointResult, error) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(f.a)
	val, err := env.ExecuteActivity(VerifySCIMEndpointName, in)
	if err != nil {
		return VerifySCIMEndpointResult{}, err
	}
	var res VerifySCIMEndpointResult
	require.NoError(t, val.Get(&res))
	return res, nil
}

// requireNoToken checks that no token given is in err, however formatted.
func requireNoToken(t *testing.T, err error, tokens ...string) {
	t.Helper()
	for _, token := range tokens {
		require.NotContains(t, fmt.Sprintf("%v %+v %#v", err, err, err), token)
	}
}

func TestVerifyAcceptsTheEndpointAndToken(t *testing.T) {
	f := newFixture(t)
	fake := &awsSCIM{token: goodToken, users: 1234}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)

	res, err := f.verify(t, VerifySCIMEndpointInput{Endpoint: srv.URL + tenantPath + "/", Token: f.storeToken(t, "scim-token", goodToken)})
	require.NoError(t, err)
	require.Equal(t, VerifySCIMEndpointResult{Users: 1234}, res)

	seen := fake.seen()
	require.Len(t, seen, 2)
	require.Equal(t, tenantPath+"/ServiceProviderConfig", seen[0].URL.Path)
	require.Equal(t, tenantPath+"/Users", seen[1].URL.Path)
	require.Equal(t, "count=1", seen[1].URL.RawQuery)
	for _, r := range seen {
		require.Equal(t, http.MethodGet, r.Method)
		require.Equal(t, "Bearer "+goodToken, r.Header.Get("Authorization"))
	}
}

func TestVerifyTrimsALineBreakCopiedWithTheToken(t *testing.T) {
	f := newFixture(t)
	srv := httptest.NewServer(&awsSCIM{token: goodToken, users: 3})
	t.Cleanup(srv.Close)
	res, err := f.verify(t, VerifySCIMEndpointInput{Endpoint: srv.URL + tenantPath, Token: f.storeToken(t, "scim-token", goodToken+"\n")})
	require.NoError(t, err)
	require.Equal(t, 3, res.Users)
}

func TestVerifyRejectedToken(t *testing.T) {
	f := newFixture(t)
	srv := httptest.NewServer(&awsSCIM{token: goodToken})
	t.Cleanup(srv.Close)
	const wrong = "d3JvbmctdG9rZW4td3JvbmctdG9rZW4td3JvbmctdG9rZW4"

	_, err := f.verify(t, VerifySCIMEndpointInput{Endpoint: srv.URL + tenantPath, Token: f.storeToken(t, "scim-token", wrong)})
	activitytest.RequireNonRetryable(t, err, ErrTokenRejected, "401", "tenant ID is incorrect", "generate a new access token", "submit")
	requireNoToken(t, err, wrong, goodToken)

	// AWS answers a wrong tenant the same way.
	_, err = f.verify(t, VerifySCIMEndpointInput{Endpoint: srv.URL + "/another-tenant/scim/v2", Token: f.storeToken(t, "scim-token-2", goodToken)})
	activitytest.RequireNonRetryable(t, err, ErrTokenRejected)
	requireNoToken(t, err, goodToken)
}

func TestVerifyEndpointThatIsNotSCIM(t *testing.T) {
	f := newFixture(t)
	token := f.storeToken(t, "scim-token", goodToken)
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		mention string
	}{
		{"404", http.NotFound, "404"},
		{"a web page", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html><body>Welcome</body></html>")
		}, "without SCIM JSON"},
		{"JSON that is not SCIM", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `{"status": "ok"}`)
		}, "not a SCIM ServiceProviderConfig"},
		{"a redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://elsewhere.example/login", http.StatusFound)
		}, "redirects (302)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			t.Cleanup(srv.Close)
			_, err := f.verify(t, VerifySCIMEndpointInput{Endpoint: srv.URL + tenantPath, Token: token})
			activitytest.RequireNonRetryable(t, err, ErrEndpointInvalid, tc.mention, "scim.<region>.amazonaws.com")
			requireNoToken(t, err, goodToken)
		})
	}

	t.Run("users list that is not SCIM", func(t *testing.T) {
		fake := &awsSCIM{token: goodToken}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/Users") {
				fmt.Fprint(w, `{"users": []}`)
				return
			}
			fake.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		_, err := f.verify(t, VerifySCIMEndpointInput{Endpoint: srv.URL + tenantPath, Token: token})
		activitytest.RequireNonRetryable(t, err, ErrEndpointInvalid, "ListResponse")
	})
}

// TestVerifyRedirectCarriesNoToken: the token is sent to the endpoint
// given, never to where it redirects.
func TestVerifyRedirectCarriesNoToken(t *testing.T) {
	f := newFixture(t)
	target := &awsSCIM{token: goodToken}
	elsewhere := httptest.NewServer(target)
	t.Cleanup(elsewhere.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	_, err := f.verify(t, VerifySCIMEndpointInput{Endpoint: srv.URL + tenantPath, Token: f.storeToken(t, "scim-token", goodToken)})
	activitytest.RequireNonRetryable(t, err, ErrEndpointInvalid, "redirects (307)")
	require.Empty(t, target.seen(), "the redirect was not followed")
}

func TestVerifyRetriesWhatMayPass(t *testing.T) {
	f := newFixture(t)
	token := f.storeToken(t, "scim-token", goodToken)
	for _, status := range []int{http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusServiceUnavailable} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(status)
				fmt.Fprintf(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"%d","detail":"try later; you sent Bearer %s"}`, status, goodToken)
			}))
			t.Cleanup(srv.Close)
			_, err := f.verify(t, VerifySCIMEndpointInput{Endpoint: srv.URL + tenantPath, Token: token})
			activitytest.RequireRetryable(t, err, fmt.Sprint(status), "try later", "[token]")
			requireNoToken(t, err, goodToken)
		})
	}

	t.Run("connection refused", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		endpoint := srv.URL + tenantPath
		srv.Close()
		_, err := f.verify(t, VerifySCIMEndpointInput{Endpoint: endpoint, Token: token})
		activitytest.RequireRetryable(t, err, "ServiceProviderConfig")
		requireNoToken(t, err, goodToken)
	})
	t.Run("timeout", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
		t.Cleanup(func() { close(release); srv.Close() })
		f.a.HTTPClient = &http.Client{Timeout: 100 * time.Millisecond}
		_, err := f.verify(t, VerifySCIMEndpointInput{Endpoint: srv.URL + tenantPath, Token: token})
		activitytest.RequireRetryable(t, err, "Timeout")
		requireNoToken(t, err, goodToken)
	})
}

func TestVerifyRefusesEndpointsItWouldNotSendTheTokenTo(t *testing.T) {
	f := newFixture(t)
	token := f.storeToken(t, "scim-token", goodToken)
	for _, endpoint := range []string{
		"http://scim.eu-west-1.amazonaws.com/t/scim/v2", // plain HTTP off this machine
		"scim.eu-west-1.amazonaws.com/t/scim/v2",
		"https://user:pass@scim.eu-west-1.amazonaws.com/t/scim/v2",
		"https://scim.eu-west-1.amazonaws.com/t/scim/v2?x=1",
		"",
	} {
		_, err := f.verify(t, VerifySCIMEndpointInput{Endpoint: endpoint, Token: token})
		activitytest.RequireNonRetryable(t, err, ErrEndpointInvalid, "https://scim.<region>.amazonaws.com/<tenant ID>/scim/v2")
	}
}

func TestVerifyTokenSecretProblems(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	srv := httptest.NewServer(&awsSCIM{token: goodToken})
	t.Cleanup(srv.Close)
	endpoint := srv.URL + tenantPath
	stored := f.storeToken(t, "scim-token", goodToken)

	_, err := f.verify(t, VerifySCIMEndpointInput{Endpoint: endpoint, Token: secretref.Ref{ARN: "scim-token"}})
	activitytest.RequireNonRetryable(t, err, ErrSecretUnreadable, "ARN")

	missing := secretref.Ref{ARN: strings.Replace(stored.ARN, "scim-token", "no-such-token", 1)}
	_, err = f.verify(t, VerifySCIMEndpointInput{Endpoint: endpoint, Token: missing})
	activitytest.RequireNonRetryable(t, err, ErrSecretUnreadable, "not found", missing.ARN)

	_, err = f.verify(t, VerifySCIMEndpointInput{Endpoint: endpoint, Token: secretref.Ref{ARN: stored.ARN, VersionID: "22222222-2222-2222-2222-222222222222"}})
	activitytest.RequireNonRetryable(t, err, ErrSecretUnreadable, "not found")

	_, err = f.verify(t, VerifySCIMEndpointInput{Endpoint: endpoint, Token: f.storeToken(t, "two-words", "two words")})
	activitytest.RequireNonRetryable(t, err, ErrSecretUnreadable, "only the token")
	requireNoToken(t, err, "two words")

	binary, err := f.secrets.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("binary"), SecretBinary: []byte{1, 2, 3}, ClientRequestToken: aws.String(requestTok1)})
	require.NoError(t, err)
	_, err = f.verify(t, VerifySCIMEndpointInput{Endpoint: endpoint, Token: secretref.Ref{ARN: aws.ToString(binary.ARN)}})
	activitytest.RequireNonRetryable(t, err, ErrSecretUnreadable, "SecretString")

	_, err = f.secrets.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(stored.ARN)})
	require.NoError(t, err)
	_, err = f.verify(t, VerifySCIMEndpointInput{Endpoint: endpoint, Token: stored})
	activitytest.RequireNonRetryable(t, err, ErrSecretUnreadable, "restore-secret")
}

// TestVerifyAgainstTheSandboxEndpoint: the console enables automatic
// provisioning and shows the endpoint and a token, as a person would copy
// them; the token goes to Secrets Manager and the activity checks both.
func TestVerifyAgainstTheSandboxEndpoint(t *testing.T) {
	f := newFixture(t)
	w := world.Sample()
	_, err := f.sb.SwitchIdentitySourceToExternal()
	require.NoError(t, err)
	require.NoError(t, f.sb.UploadIdPMetadata(samlmetatest.EntraMetadata(t, w.Entra.TenantID)))
	creds, err := f.sb.EnableAutomaticProvisioning()
	require.NoError(t, err)
	require.Equal(t, f.sb.SCIMEndpoint(), creds.SCIMEndpoint)
	ref := f.storeToken(t, "scim-token", creds.Token)

	res, err := f.verify(t, VerifySCIMEndpointInput{Endpoint: creds.SCIMEndpoint, Token: ref})
	require.NoError(t, err)
	require.Equal(t, len(w.AWS.Users), res.Users, "the users Identity Center holds, which provisioning will adopt")

	_, err = f.verify(t, VerifySCIMEndpointInput{Endpoint: f.sb.SCIMURL + "/wrong-tenant/scim/v2", Token: ref})
	activitytest.RequireNonRetryable(t, err, ErrTokenRejected)

	require.NoError(t, f.sb.DeleteSCIMToken(creds.TokenID))
	_, err = f.verify(t, VerifySCIMEndpointInput{Endpoint: creds.SCIMEndpoint, Token: ref})
	activitytest.RequireNonRetryable(t, err, ErrTokenRejected, "generate a new access token")
	requireNoToken(t, err, creds.Token)
}
