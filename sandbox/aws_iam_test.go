package sandbox_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/internal/awsclient"
	"github.com/platformguide/ssocutover/sandbox"
)

const (
	breakGlassUser     = "ssocutover-break-glass"
	breakGlassPassword = "Sandbox-Pa55word!x7"
	ssoAdminPolicy     = "arn:aws:iam::aws:policy/AWSSSOMasterAccountAdministrator"
	readOnlyPolicy     = "arn:aws:iam::aws:policy/ReadOnlyAccess"
)

// recordedResponse is one answer the sandbox gave, as the SDK received it.
type recordedResponse struct {
	operation string // X-Amz-Target, or the IAM Action
	body      string
}

// responseRecorder is an HTTP client for the SDK that keeps every response
// body, to check what the sandbox lets out.
type responseRecorder struct {
	mu        sync.Mutex
	responses []recordedResponse
}

func (r *responseRecorder) Do(req *http.Request) (*http.Response, error) {
	operation := req.Header.Get("X-Amz-Target")
	if operation == "" && req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		form, _ := io.ReadAll(body)
		for _, kv := range strings.Split(string(form), "&") {
			if v, ok := strings.CutPrefix(kv, "Action="); ok {
				operation = "iam." + v
			}
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	r.mu.Lock()
	r.responses = append(r.responses, recordedResponse{operation: operation, body: string(body)})
	r.mu.Unlock()
	return resp, nil
}

// operationsAnswering lists the operations whose recorded answers contain
// value (as is or form-encoded), once per answer.
func (r *responseRecorder) operationsAnswering(value string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var operations []string
	for _, resp := range r.responses {
		if strings.Contains(resp.body, value) || strings.Contains(resp.body, url.QueryEscape(value)) {
			operations = append(operations, resp.operation)
		}
	}
	return operations
}

func (r *responseRecorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.responses)
}

// startRecordedAWS is startSmallAWS with IAM and Secrets Manager clients
// whose answers are recorded.
func startRecordedAWS(t *testing.T) (awsClients, *responseRecorder) {
	recorder := &responseRecorder{}
	c := startSmallAWS(t)
	c.iam = iam.New(c.iam.Options(), func(o *iam.Options) { o.HTTPClient = recorder })
	c.secretsManager = secretsmanager.New(c.secretsManager.Options(), func(o *secretsmanager.Options) { o.HTTPClient = recorder })
	return c, recorder
}

func requireAPIErrorCode(t *testing.T, err error, code string) {
	t.Helper()
	var apiErr smithy.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, code, apiErr.ErrorCode())
}

func TestAWSIAMUserLifecycle(t *testing.T) {
	c, recorder := startRecordedAWS(t)
	ctx := context.Background()
	name := aws.String(breakGlassUser)

	created, err := c.iam.CreateUser(ctx, &iam.CreateUserInput{
		UserName: name,
		Tags:     []iamtypes.Tag{{Key: aws.String("ssocutover:workflow"), Value: aws.String("cutover-1")}},
	})
	require.NoError(t, err)
	user := created.User
	require.Equal(t, breakGlassUser, aws.ToString(user.UserName))
	require.Equal(t, "/", aws.ToString(user.Path))
	require.Equal(t, "arn:aws:iam::"+awsProdAccount+":user/"+breakGlassUser, aws.ToString(user.Arn))
	require.Regexp(t, `^AIDA[A-Z2-7]{17}$`, aws.ToString(user.UserId))
	require.NotNil(t, user.CreateDate)
	require.Equal(t, []iamtypes.Tag{{Key: aws.String("ssocutover:workflow"), Value: aws.String("cutover-1")}}, user.Tags)

	_, err = c.iam.TagUser(ctx, &iam.TagUserInput{UserName: name, Tags: []iamtypes.Tag{
		{Key: aws.String("ssocutover:workflow"), Value: aws.String("cutover-2")},
		{Key: aws.String("purpose"), Value: aws.String("break-glass")},
	}})
	require.NoError(t, err)

	got, err := c.iam.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(strings.ToUpper(breakGlassUser))})
	require.NoError(t, err, "IAM user names are case-insensitive")
	require.Equal(t, aws.ToString(user.UserId), aws.ToString(got.User.UserId))
	require.ElementsMatch(t, []iamtypes.Tag{
		{Key: aws.String("ssocutover:workflow"), Value: aws.String("cutover-2")},
		{Key: aws.String("purpose"), Value: aws.String("break-glass")},
	}, got.User.Tags)

	profile, err := c.iam.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: name, Password: aws.String(breakGlassPassword)})
	require.NoError(t, err)
	require.Equal(t, breakGlassUser, aws.ToString(profile.LoginProfile.UserName))
	require.False(t, profile.LoginProfile.PasswordResetRequired)
	require.NotNil(t, profile.LoginProfile.CreateDate)
	require.NoError(t, c.sb.IAMConsoleSignIn(breakGlassUser, breakGlassPassword))
	err = c.sb.IAMConsoleSignIn(breakGlassUser, "Wrong-Pa55word!")
	require.Error(t, err)
	require.NotContains(t, err.Error(), "Wrong-Pa55word!")

	for _, arn := range []string{ssoAdminPolicy, readOnlyPolicy, ssoAdminPolicy} {
		_, err = c.iam.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: name, PolicyArn: aws.String(arn)})
		require.NoError(t, err, "attaching an attached policy again succeeds")
	}
	attached, err := c.iam.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: name})
	require.NoError(t, err)
	require.False(t, attached.IsTruncated)
	require.ElementsMatch(t, []iamtypes.AttachedPolicy{
		{PolicyName: aws.String("AWSSSOMasterAccountAdministrator"), PolicyArn: aws.String(ssoAdminPolicy)},
		{PolicyName: aws.String("ReadOnlyAccess"), PolicyArn: aws.String(readOnlyPolicy)},
	}, attached.AttachedPolicies)

	// One per page: the paginator follows IsTruncated and Marker.
	var paged []string
	pages := iam.NewListAttachedUserPoliciesPaginator(c.iam, &iam.ListAttachedUserPoliciesInput{UserName: name, MaxItems: aws.Int32(1)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		require.NoError(t, err)
		require.LessOrEqual(t, len(page.AttachedPolicies), 1)
		for _, p := range page.AttachedPolicies {
			paged = append(paged, aws.ToString(p.PolicyArn))
		}
	}
	require.ElementsMatch(t, []string{ssoAdminPolicy, readOnlyPolicy}, paged)

	// IAM refuses to delete a user that still has a password or policies.
	_, err = c.iam.DeleteUser(ctx, &iam.DeleteUserInput{UserName: name})
	var conflict *iamtypes.DeleteConflictException
	require.ErrorAs(t, err, &conflict)
	require.Contains(t, conflict.ErrorMessage(), "login profile")
	requireAWSStatus(t, err, http.StatusConflict)

	_, err = c.iam.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: name})
	require.NoError(t, err)
	require.Error(t, c.sb.IAMConsoleSignIn(breakGlassUser, breakGlassPassword), "the password no longer opens the console")
	_, err = c.iam.DeleteUser(ctx, &iam.DeleteUserInput{UserName: name})
	require.ErrorAs(t, err, &conflict)
	require.Contains(t, conflict.ErrorMessage(), "policies")

	for _, arn := range []string{ssoAdminPolicy, readOnlyPolicy} {
		_, err = c.iam.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: name, PolicyArn: aws.String(arn)})
		require.NoError(t, err)
	}
	attached, err = c.iam.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: name})
	require.NoError(t, err)
	require.Empty(t, attached.AttachedPolicies)

	_, err = c.iam.DeleteUser(ctx, &iam.DeleteUserInput{UserName: name})
	require.NoError(t, err)
	_, err = c.iam.GetUser(ctx, &iam.GetUserInput{UserName: name})
	var noSuch *iamtypes.NoSuchEntityException
	require.ErrorAs(t, err, &noSuch)

	require.Greater(t, recorder.count(), 15)
	require.Empty(t, recorder.operationsAnswering(breakGlassPassword), "no answer contains the password")
}

func TestAWSIAMTypedErrors(t *testing.T) {
	c := startSmallAWS(t)
	ctx := context.Background()
	name := aws.String(breakGlassUser)

	_, err := c.iam.GetUser(ctx, &iam.GetUserInput{UserName: name})
	var noSuch *iamtypes.NoSuchEntityException
	require.ErrorAs(t, err, &noSuch)
	require.Contains(t, noSuch.ErrorMessage(), breakGlassUser)
	requireAWSStatus(t, err, http.StatusNotFound)

	for _, call := range []func() error{
		func() error {
			_, err := c.iam.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: name, Password: aws.String(breakGlassPassword)})
			return err
		},
		func() error {
			_, err := c.iam.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: name, PolicyArn: aws.String(ssoAdminPolicy)})
			return err
		},
		func() error {
			_, err := c.iam.DeleteUser(ctx, &iam.DeleteUserInput{UserName: name})
			return err
		},
		func() error {
			_, err := c.iam.TagUser(ctx, &iam.TagUserInput{UserName: name, Tags: []iamtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			return err
		},
	} {
		require.ErrorAs(t, call(), &noSuch, "every operation on a missing user is NoSuchEntity")
	}

	_, err = c.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: name})
	require.NoError(t, err)
	_, err = c.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(strings.ToUpper(breakGlassUser))})
	var exists *iamtypes.EntityAlreadyExistsException
	require.ErrorAs(t, err, &exists, "names differing only in case are the same user")
	requireAWSStatus(t, err, http.StatusConflict)

	_, err = c.iam.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: name, Password: aws.String("short")})
	var weak *iamtypes.PasswordPolicyViolationException
	require.ErrorAs(t, err, &weak)
	require.NotContains(t, weak.ErrorMessage(), "short")

	_, err = c.iam.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: name, Password: aws.String(breakGlassPassword), PasswordResetRequired: true})
	require.NoError(t, err)
	_, err = c.iam.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: name, Password: aws.String(breakGlassPassword)})
	require.ErrorAs(t, err, &exists)
	_, err = c.iam.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: name})
	require.NoError(t, err)
	_, err = c.iam.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: name})
	require.ErrorAs(t, err, &noSuch)

	_, err = c.iam.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: name, PolicyArn: aws.String("arn:aws:iam::aws:policy/NoSuchPolicy")})
	require.ErrorAs(t, err, &noSuch)
	_, err = c.iam.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: name, PolicyArn: aws.String("not-an-arn")})
	var invalid *iamtypes.InvalidInputException
	require.ErrorAs(t, err, &invalid)
	_, err = c.iam.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: name, PolicyArn: aws.String(ssoAdminPolicy)})
	require.ErrorAs(t, err, &noSuch, "detaching a policy that is not attached")

	_, err = c.iam.TagUser(ctx, &iam.TagUserInput{UserName: name, Tags: []iamtypes.Tag{
		{Key: aws.String("Owner"), Value: aws.String("a")}, {Key: aws.String("owner"), Value: aws.String("b")},
	}})
	require.ErrorAs(t, err, &invalid, "IAM tag keys are case-insensitive")

	_, err = c.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("has space")})
	requireAPIErrorCode(t, err, "ValidationError")
	_, err = c.iam.GetUser(ctx, &iam.GetUserInput{})
	requireAPIErrorCode(t, err, "ValidationError")
}

// TestAWSIAMQueryProtocolOnTheWire checks what the SDK does not show: the
// XML element names and the error document.
func TestAWSIAMQueryProtocolOnTheWire(t *testing.T) {
	c := startSmallAWS(t)
	post := func(form string) (*http.Response, string) {
		req, err := http.NewRequest(http.MethodPost, c.sb.AWSURL+"/", strings.NewReader(form))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		req.Header.Set("X-Amz-Date", "20240101T000000Z")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIASANDBOXEXAMPLE/20240101/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=00")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(body)
	}

	resp, body := post("Action=GetUser&Version=2010-05-08&UserName=nobody")
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	require.Equal(t, "text/xml", resp.Header.Get("Content-Type"))
	require.Regexp(t, `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The user with name nobody cannot be found.</Message></Error><RequestId>sandbox-\d+</RequestId></ErrorResponse>`, body)

	resp, body = post("Action=CreateUser&Version=2010-05-08&UserName=wire&Tags.member.1.Key=a&Tags.member.1.Value=b")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, `<CreateUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><CreateUserResult><User><Path>/</Path><UserName>wire</UserName>`)
	require.Contains(t, body, `<Tags><member><Key>a</Key><Value>b</Value></member></Tags>`)
	require.Regexp(t, `<ResponseMetadata><RequestId>sandbox-\d+</RequestId></ResponseMetadata></CreateUserResponse>$`, body)

	resp, body = post("Action=CreateRole&Version=2010-05-08&RoleName=x")
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, body, "<Code>InvalidAction</Code>")

	unsigned, err := http.Post(c.sb.AWSURL+"/", "application/x-www-form-urlencoded", strings.NewReader("Action=GetUser&Version=2010-05-08&UserName=wire"))
	require.NoError(t, err)
	unsignedBody, err := io.ReadAll(unsigned.Body)
	unsigned.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusForbidden, unsigned.StatusCode)
	require.Contains(t, string(unsignedBody), "<Code>MissingAuthenticationToken</Code>")

	// IAM is signed for the iam service; a signature for another is refused.
	req, err := http.NewRequest(http.MethodPost, c.sb.AWSURL+"/", strings.NewReader("Action=GetUser&Version=2010-05-08&UserName=wire"))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Amz-Date", "20240101T000000Z")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIASANDBOXEXAMPLE/20240101/us-east-1/sso/aws4_request, SignedHeaders=host;x-amz-date, Signature=00")
	signedForSSO, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer signedForSSO.Body.Close()
	require.Equal(t, http.StatusForbidden, signedForSSO.StatusCode)
	wrongService, err := io.ReadAll(signedForSSO.Body)
	require.NoError(t, err)
	require.Contains(t, string(wrongService), "<Code>SignatureDoesNotMatch</Code>")
}

// TestAWSIAMFaultsAreRetriedBySDK: IAM's faults come in IAM's XML, so the
// SDK's retryer recognises them and the typed throttle reaches the caller
// when they never stop.
func TestAWSIAMFaultsAreRetriedBySDK(t *testing.T) {
	w := awsSmallWorld()
	sb, err := sandbox.Start(w, sandbox.Options{Faults: sandbox.Faults{ThrottleRate: 0.2, ServerErrorRate: 0.3, Seed: 3}})
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	client := iam.NewFromConfig(awsConfig(t, sb.AWSURL, awsclient.Options{MaxAttempts: 10, RequestsPerSecond: -1}))
	ctx := context.Background()
	counter := apicalls.NewCounter()
	ctx = apicalls.WithCounter(ctx, counter)
	for i := range 5 {
		// A fault is injected before the request reaches IAM, so a
		// retried create does not find its own first attempt.
		_, err := client.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(fmt.Sprintf("user-%d", i))})
		require.NoError(t, err)
		_, err = client.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(fmt.Sprintf("user-%d", i))})
		require.NoError(t, err)
	}

	require.Greater(t, counter.Total(), 10, "some calls were faulted and retried")

	always, err := sandbox.Start(w, sandbox.Options{Faults: sandbox.Faults{ThrottleRate: 1}})
	require.NoError(t, err)
	t.Cleanup(always.Close)
	_, err = iam.NewFromConfig(awsConfig(t, always.AWSURL, awsclient.Options{MaxAttempts: 1})).
		GetUser(ctx, &iam.GetUserInput{UserName: aws.String("x")})
	requireAPIErrorCode(t, err, "Throttling")

	// The JSON services on the same listener keep their JSON faults.
	_, err = secretsmanager.NewFromConfig(awsConfig(t, always.AWSURL, awsclient.Options{MaxAttempts: 1})).
		GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("x")})
	requireAPIErrorCode(t, err, "ThrottlingException")
}
