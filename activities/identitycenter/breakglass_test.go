package identitycenter

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/platformguide/ssocutover/internal/awsclient"
	"github.com/platformguide/ssocutover/internal/logging"
	"github.com/platformguide/ssocutover/internal/secretstore"
	"github.com/platformguide/ssocutover/internal/store"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/world"
)

// awsWorld is a sandbox serving a world, and activities whose real SDK
// clients talk to it through a transport that can lose answers.
type awsWorld struct {
	sb   *sandbox.Sandbox
	a    *Activities
	cfg  aws.Config
	lose *loseAnswers
	// logCore is the worker's zap core; logs holds what it was given.
	logCore zapcore.Core
	logs    *observer.ObservedLogs
}

// startAWS serves w and builds the clients as the worker does
// (internal/awsclient). maxAttempts is per call, retries included (0: the
// worker's default): 1 makes a lost answer fail the activity at once.
func startAWS(t *testing.T, w *world.World, maxAttempts int) *awsWorld {
	t.Helper()
	return startAWSWith(t, w, maxAttempts, sandbox.Options{})
}

// startAWSWith is startAWS with sandbox options.
func startAWSWith(t *testing.T, w *world.World, maxAttempts int, opts sandbox.Options) *awsWorld {
	t.Helper()
	sb, err := sandbox.Start(w, opts)
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	t.Setenv("AWS_ENDPOINT_URL", sb.AWSURL)
	t.Setenv("AWS_REGION", w.AWS.Region)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIASANDBOXEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "sandbox-secret-key")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	cfg, err := awsclient.Load(context.Background(), awsclient.Options{RequestsPerSecond: -1, MaxAttempts: maxAttempts})
	require.NoError(t, err)
	client := cfg.HTTPClient.(*http.Client)
	lose := &loseAnswers{base: client.Transport, pending: map[string]int{}}
	cfg.HTTPClient = &http.Client{Transport: lose, CheckRedirect: client.CheckRedirect}
	core, logs := observer.New(zap.DebugLevel)
	return &awsWorld{
		sb: sb, cfg: cfg, lose: lose, logCore: core, logs: logs,
		a: &Activities{
			IdentityStore: identitystore.NewFromConfig(cfg),
			SSOAdmin:      ssoadmin.NewFromConfig(cfg),
			IAM:           iam.NewFromConfig(cfg),
			Secrets:       secretsmanager.NewFromConfig(cfg),
			Store:         store.Dir{Path: t.TempDir()},
		},
	}
}

// loseAnswers lets a request reach the server, which applies it, and then
// loses the answer, as a dropped connection or a worker crash would.
type loseAnswers struct {
	base    http.RoundTripper
	mu      sync.Mutex
	pending map[string]int // operation -> answers still to lose
	lost    []string
}

// operationOf names the SDK operation of a request ("CreateUser"), from the
// SDK's context: IAM's Query protocol has the action only in the body.
func operationOf(req *http.Request) string {
	return awsmiddleware.GetOperationName(req.Context())
}

// next loses the next answer to operation (an SDK operation name).
func (l *loseAnswers) next(operation string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending[operation]++
}

func (l *loseAnswers) lostOperations() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lost...)
}

func (l *loseAnswers) RoundTrip(req *http.Request) (*http.Response, error) {
	op := operationOf(req)
	resp, err := l.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	l.mu.Lock()
	lose := l.pending[op] > 0
	if lose {
		l.pending[op]--
		l.lost = append(l.lost, op)
	}
	l.mu.Unlock()
	if lose {
		resp.Body.Close()
		return nil, fmt.Errorf("connection reset by peer after the server applied %s (test fault)", op)
	}
	return resp, nil
}

// runActivity runs one activity as Temporal runs it, once, with the
// worker's zap logger (observed by w.logs), and decodes its result.
func runActivity[R any](t *testing.T, w *awsWorld, name string, in any) (R, error) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(logging.SDKLogger(zap.New(w.logCore)))
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(w.a)
	var res R
	val, err := env.ExecuteActivity(name, in)
	if err != nil {
		return res, err
	}
	require.NoError(t, val.Get(&res))
	return res, nil
}

func breakGlassInput() EnsureBreakGlassUserInput {
	return EnsureBreakGlassUserInput{
		WorkflowID: "cutover-d-1234567890",
		UserName:   "ssocutover-breakglass-d-1234567890",
		SecretName: "ssocutover/d-1234567890/break-glass-password",
	}
}

func ensureBreakGlass(t *testing.T, w *awsWorld, in EnsureBreakGlassUserInput) (EnsureBreakGlassUserResult, error) {
	t.Helper()
	return runActivity[EnsureBreakGlassUserResult](t, w, EnsureBreakGlassUserName, in)
}

// storedPassword reads the password the result points at.
func storedPassword(t *testing.T, w *awsWorld, res EnsureBreakGlassUserResult) string {
	t.Helper()
	password, err := secretstore.Read(context.Background(), w.a.Secrets, res.Password)
	require.NoError(t, err)
	return password.Reveal()
}

// requireBreakGlassReady checks the end state: one user tagged for the
// cutover, one secret version, whose password opens the console, and the
// policies attached.
func requireBreakGlassReady(t *testing.T, w *awsWorld, in EnsureBreakGlassUserInput, res EnsureBreakGlassUserResult) {
	t.Helper()
	ctx := context.Background()
	user, err := w.a.IAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(in.UserName)})
	require.NoError(t, err)
	require.Equal(t, aws.ToString(user.User.Arn), res.UserARN)
	require.Equal(t, in.WorkflowID, iamTag(user.User.Tags, TagWorkflowID))
	require.Equal(t, res.Password.VersionID, iamTag(user.User.Tags, TagPasswordVersion))

	secret, err := w.a.Secrets.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(in.SecretName)})
	require.NoError(t, err)
	require.Len(t, secret.VersionIdsToStages, 1, "one secret version")
	require.Equal(t, aws.ToString(secret.ARN), res.Password.ARN)
	require.NoError(t, res.Password.Validate())

	password := storedPassword(t, w, res)
	require.NoError(t, w.sb.IAMConsoleSignIn(in.UserName, password), "the stored password opens the console")

	policies, err := w.a.IAM.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(in.UserName)})
	require.NoError(t, err)
	var attached []string
	for _, p := range policies.AttachedPolicies {
		attached = append(attached, aws.ToString(p.PolicyArn))
	}
	require.ElementsMatch(t, in.policyARNs(), attached)
	require.Equal(t, in.policyARNs(), res.PolicyARNs)
}

// requireNoPassword checks that the password is in none of the results,
// errors and log entries given.
func requireNoPassword(t *testing.T, w *awsWorld, password string, results []any, errs []error) {
	t.Helper()
	require.NotEmpty(t, password)
	for _, r := range results {
		doc, err := json.Marshal(r)
		require.NoError(t, err)
		require.NotContains(t, string(doc), password, "result")
	}
	for _, err := range errs {
		require.NotContains(t, fmt.Sprintf("%+v", err), password, "error")
	}
	require.NotZero(t, w.logs.Len(), "the activity logs; the check below must see something")
	for _, entry := range w.logs.All() {
		require.NotContains(t, entry.Message, password, "log message")
		for k, v := range entry.ContextMap() {
			require.NotContains(t, fmt.Sprint(v), password, "log field %s", k)
		}
	}
}

func TestBreakGlassTwiceIsOneUserAndOneSecretVersion(t *testing.T) {
	w := startAWS(t, world.Sample(), 0)
	in := breakGlassInput()

	first, err := ensureBreakGlass(t, w, in)
	require.NoError(t, err)
	require.True(t, first.Created)
	require.Equal(t, in.UserName, first.UserName)
	require.Equal(t, "arn:aws:iam::210987654321:user/"+in.UserName, first.UserARN, "in the management account")
	require.Equal(t, []string{DefaultBreakGlassPolicyARN}, first.PolicyARNs)
	requireBreakGlassReady(t, w, in, first)
	require.Equal(t, map[string]int{
		"iam:GetUser": 1, "iam:CreateUser": 1, "iam:CreateLoginProfile": 1, "iam:TagUser": 1,
		"iam:ListAttachedUserPolicies": 1, "iam:AttachUserPolicy": 1,
		"secretsmanager:DescribeSecret": 1, "secretsmanager:CreateSecret": 1,
	}, countsByOperation(first.APICalls))

	second, err := ensureBreakGlass(t, w, in)
	require.NoError(t, err)
	require.False(t, second.Created, "everything existed")
	require.Equal(t, first.Password, second.Password)
	require.Equal(t, first.UserARN, second.UserARN)
	requireBreakGlassReady(t, w, in, second)
	// CreateLoginProfile is how IAM says that one exists.
	require.Equal(t, map[string]int{
		"iam:GetUser": 1, "iam:CreateLoginProfile": 1, "iam:ListAttachedUserPolicies": 1,
		"secretsmanager:DescribeSecret": 1, "secretsmanager:GetSecretValue": 1,
	}, countsByOperation(second.APICalls))

	requireNoPassword(t, w, storedPassword(t, w, first), []any{first, second}, nil)
}

// TestBreakGlassAfterALostAnswer: the server applies a write and its answer
// is lost. With the SDK's retries the activity completes; without, it
// fails and its retry completes. Either way: one user, one secret version,
// and the stored password opens the console.
func TestBreakGlassAfterALostAnswer(t *testing.T) {
	for _, op := range []string{"CreateUser", "CreateSecret", "CreateLoginProfile", "TagUser", "AttachUserPolicy"} {
		t.Run(op+", retried by the activity", func(t *testing.T) {
			w := startAWS(t, world.Sample(), 1)
			in := breakGlassInput()
			w.lose.next(op)
			_, failed := ensureBreakGlass(t, w, in)
			require.Error(t, failed)
			require.Equal(t, []string{op}, w.lose.lostOperations())

			res, err := ensureBreakGlass(t, w, in)
			require.NoError(t, err)
			requireBreakGlassReady(t, w, in, res)
			requireNoPassword(t, w, storedPassword(t, w, res), []any{res}, []error{failed})
		})
		t.Run(op+", retried by the SDK", func(t *testing.T) {
			w := startAWS(t, world.Sample(), 0)
			in := breakGlassInput()
			w.lose.next(op)
			res, err := ensureBreakGlass(t, w, in)
			require.NoError(t, err)
			require.Equal(t, []string{op}, w.lose.lostOperations())
			requireBreakGlassReady(t, w, in, res)
			requireNoPassword(t, w, storedPassword(t, w, res), []any{res}, nil)
		})
	}
}

// TestBreakGlassReplacesALoginProfileItCannotVouchFor: the user is the
// cutover's but its console password was set by someone else; the stored
// password must be the one that opens the console afterwards.
func TestBreakGlassReplacesALoginProfileItCannotVouchFor(t *testing.T) {
	ctx := context.Background()
	w := startAWS(t, world.Sample(), 0)
	in := breakGlassInput()
	_, err := w.a.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(in.UserName),
		Tags: []iamtypes.Tag{{Key: aws.String(TagWorkflowID), Value: aws.String(in.WorkflowID)}}})
	require.NoError(t, err)
	const someoneElses = "Someone-Elses-Passw0rd!"
	_, err = w.a.IAM.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String(in.UserName), Password: aws.String(someoneElses)})
	require.NoError(t, err)

	res, err := ensureBreakGlass(t, w, in)
	require.NoError(t, err)
	require.True(t, res.Created)
	requireBreakGlassReady(t, w, in, res)
	require.Error(t, w.sb.IAMConsoleSignIn(in.UserName, someoneElses), "the old password no longer opens the console")
}

func TestBreakGlassLeavesWhatIsNotItsOwn(t *testing.T) {
	ctx := context.Background()
	in := breakGlassInput()

	t.Run("user", func(t *testing.T) {
		w := startAWS(t, world.Sample(), 0)
		_, err := w.a.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(in.UserName),
			Tags: []iamtypes.Tag{{Key: aws.String(TagWorkflowID), Value: aws.String("cutover-another")}}})
		require.NoError(t, err)
		_, err = ensureBreakGlass(t, w, in)
		requireNonRetryable(t, err, ErrNameTaken, in.UserName, "cutover-another", TagWorkflowID+"="+in.WorkflowID, "delete it")
		_, err = secretstore.Describe(ctx, w.a.Secrets, in.SecretName)
		require.ErrorIs(t, err, secretstore.ErrNotFound, "no password was made for a user that is not ours")
	})
	t.Run("user of the same name in another case", func(t *testing.T) {
		w := startAWS(t, world.Sample(), 0)
		_, err := w.a.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(strings.ToUpper(in.UserName))})
		require.NoError(t, err)
		_, err = ensureBreakGlass(t, w, in)
		requireNonRetryable(t, err, ErrNameTaken, `is ""`)
	})
	t.Run("secret", func(t *testing.T) {
		w := startAWS(t, world.Sample(), 0)
		_, err := secretstore.Put(ctx, w.a.Secrets, in.SecretName, secretstore.NewValue("not-a-password-of-ours"), "33333333-3333-3333-3333-333333333333", map[string]string{"team": "payments"})
		require.NoError(t, err)
		_, err = ensureBreakGlass(t, w, in)
		requireNonRetryable(t, err, ErrNameTaken, in.SecretName, "--force-delete-without-recovery")
		require.NotContains(t, err.Error(), "not-a-password-of-ours")
		require.Error(t, w.sb.IAMConsoleSignIn(in.UserName, "not-a-password-of-ours"), "no login profile was made from it")
	})
	t.Run("secret scheduled for deletion", func(t *testing.T) {
		w := startAWS(t, world.Sample(), 0)
		first, err := ensureBreakGlass(t, w, in)
		require.NoError(t, err)
		_, err = secretsmanager.NewFromConfig(w.cfg).DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(first.Password.ARN)})
		require.NoError(t, err)
		_, err = ensureBreakGlass(t, w, in)
		requireNonRetryable(t, err, ErrSecretScheduledForDeletion, "restore-secret", first.Password.ARN)
	})
}

func TestBreakGlassPolicies(t *testing.T) {
	w := startAWS(t, world.Sample(), 0)
	in := breakGlassInput()
	in.PolicyARNs = []string{"arn:aws:iam::aws:policy/AWSSSODirectoryAdministrator", DefaultBreakGlassPolicyARN}
	res, err := ensureBreakGlass(t, w, in)
	require.NoError(t, err)
	requireBreakGlassReady(t, w, in, res)

	in.PolicyARNs = append(in.PolicyARNs, "arn:aws:iam::aws:policy/NoSuchPolicy")
	_, err = ensureBreakGlass(t, w, in)
	requireNonRetryable(t, err, ErrInvalidRequest, "NoSuchPolicy", "breakGlassPolicyArns")
}

func TestBreakGlassNeedsItsNames(t *testing.T) {
	w := startAWS(t, world.Sample(), 0)
	_, err := ensureBreakGlass(t, w, EnsureBreakGlassUserInput{WorkflowID: "cutover-x"})
	requireNonRetryable(t, err, ErrInvalidRequest, "userName", "secretName")
}

func TestBreakGlassSecretIsTaggedAndVersionedByTheWorkflow(t *testing.T) {
	ctx := context.Background()
	w := startAWS(t, world.Sample(), 0)
	in := breakGlassInput()
	res, err := ensureBreakGlass(t, w, in)
	require.NoError(t, err)
	require.Equal(t, passwordRequestToken(in), res.Password.VersionID, "the version ID is derived from the workflow ID")
	secret, err := w.a.Secrets.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(in.SecretName)})
	require.NoError(t, err)
	require.Contains(t, secret.Tags, smtypes.Tag{Key: aws.String(TagWorkflowID), Value: aws.String(in.WorkflowID)})
	require.NotEqual(t, passwordRequestToken(in), passwordRequestToken(EnsureBreakGlassUserInput{WorkflowID: "cutover-other", SecretName: in.SecretName}))
}

func TestGeneratedPasswordsAreStrongAndDiffer(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		p, err := generatePassword()
		require.NoError(t, err)
		require.Len(t, p, passwordLength)
		require.GreaterOrEqual(t, len(p), 20)
		for _, class := range passwordClasses {
			require.True(t, strings.ContainsAny(p, class), "%d-character password lacks one of %q", len(p), class)
		}
		for _, r := range p {
			require.True(t, r < unicode.MaxASCII && unicode.IsPrint(r) && r != ' ', "printable ASCII only")
		}
		require.False(t, seen[p], "passwords repeat")
		seen[p] = true
	}
}

// The break-glass user is in the worker's account; the result says so
// beside the account that owns the instance, which differs when the worker
// runs in a delegated administrator account.
func TestBreakGlassSaysWhichAccountItIsIn(t *testing.T) {
	for _, delegated := range []bool{false, true} {
		t.Run(fmt.Sprintf("delegated=%v", delegated), func(t *testing.T) {
			sample := world.Sample()
			management := sample.AWS.Accounts[0].ID
			want := management
			if delegated {
				sample.AWS.DelegatedAdministrator = sample.AWS.Accounts[1].ID
				want = sample.AWS.DelegatedAdministrator
			}
			w := startAWS(t, sample, 0)
			in := breakGlassInput()
			in.InstanceARN = sample.AWS.InstanceARN
			res, err := ensureBreakGlass(t, w, in)
			require.NoError(t, err)
			require.Equal(t, want, res.Account)
			require.Equal(t, management, res.InstanceOwnerAccount)
			require.Equal(t, delegated, res.InDelegatedAdministrator())
			require.Contains(t, res.UserARN, ":"+want+":user/")
		})
	}
}
