package scim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode"

	"github.com/aws/smithy-go"
	"go.temporal.io/sdk/temporal"

	"github.com/platformguide/ssocutover/internal/secretref"
	"github.com/platformguide/ssocutover/internal/secretstore"
)

const (
	schemaServiceProviderConfig = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	schemaListResponse          = "urn:ietf:params:scim:api:messages:2.0:ListResponse"

	// maxResponseBody bounds what is read of an answer; both answers read
	// here are a few hundred bytes.
	maxResponseBody = 1 << 20

	// endpointFormat is the endpoint as the console shows it.
	endpointFormat = "https://scim.<region>.amazonaws.com/<tenant ID>/scim/v2 (amazonaws.com.cn in the China Regions)"
	// newTokenSteps is what a person does about a token the endpoint refuses.
	newTokenSteps = "In the IAM Identity Center console (Settings > Identity source > Automatic provisioning > Manage provisioning), generate a new access token, " +
		"store it in Secrets Manager, and submit the SCIM endpoint and the new token's reference again"
)

// VerifySCIMEndpoint checks that the endpoint is Identity Center's SCIM
// endpoint and that it accepts the token, before Entra is given either:
// GET <endpoint>/ServiceProviderConfig and GET <endpoint>/Users?count=1,
// with the token as bearer. It changes nothing, so it is safe to retry.
//
// A refused token (401 or 403) is ErrTokenRejected and an endpoint that is
// not SCIM (404, not SCIM JSON, a redirect) is ErrEndpointInvalid: both
// non-retryable, as only a person can fix them. Network errors, 429 and
// 5xx are retried. The token is in no error, result or log.
func (a *Activities) VerifySCIMEndpoint(ctx context.Context, in VerifySCIMEndpointInput) (VerifySCIMEndpointResult, error) {
	endpoint, err := endpointURL(in.Endpoint)
	if err != nil {
		return VerifySCIMEndpointResult{}, err
	}
	token, err := a.readToken(ctx, in.Token)
	if err != nil {
		return VerifySCIMEndpointResult{}, err
	}
	c := &caller{client: noRedirects(a.httpClient()), endpoint: endpoint, token: token}

	var config struct {
		Schemas []string `json:"schemas"`
	}
	if err := c.get(ctx, "ServiceProviderConfig", &config); err != nil {
		return VerifySCIMEndpointResult{}, err
	}
	if !slices.Contains(config.Schemas, schemaServiceProviderConfig) {
		return VerifySCIMEndpointResult{}, c.notSCIM("ServiceProviderConfig", "its answer is not a SCIM ServiceProviderConfig")
	}

	var users struct {
		Schemas      []string `json:"schemas"`
		TotalResults *int     `json:"totalResults"`
	}
	if err := c.get(ctx, "Users?count=1", &users); err != nil {
		return VerifySCIMEndpointResult{}, err
	}
	if !slices.Contains(users.Schemas, schemaListResponse) || users.TotalResults == nil {
		return VerifySCIMEndpointResult{}, c.notSCIM("Users?count=1", "its answer is not a SCIM ListResponse with totalResults")
	}
	return VerifySCIMEndpointResult{Users: *users.TotalResults}, nil
}

// endpointURL checks the endpoint and returns it without a trailing slash.
// The token is sent only over HTTPS, or plain HTTP to this machine (the
// sandbox).
func endpointURL(endpoint string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(endpoint))
	invalid := func(why string) error {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("SCIM endpoint %q %s: submit the endpoint as the console shows it, %s", endpoint, why, endpointFormat), ErrEndpointInvalid, nil)
	}
	switch {
	case err != nil || u.Host == "":
		return "", invalid("is not an absolute URL")
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return "", invalid("has user information, a query or a fragment")
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	case u.Scheme != "https":
		return "", invalid("is not https (the token is sent only over https)")
	}
	return strings.TrimRight(u.String(), "/"), nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// readToken reads the access token from Secrets Manager.
func (a *Activities) readToken(ctx context.Context, ref secretref.Ref) (string, error) {
	unreadable := func(format string, args ...any) error {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), ErrSecretUnreadable, nil)
	}
	if err := ref.Validate(); err != nil {
		return "", unreadable("the SCIM token reference is not valid: %v. Store the token in Secrets Manager and submit the secret's ARN", err)
	}
	value, err := secretstore.Read(ctx, a.Secrets, ref)
	var apiErr smithy.APIError
	switch {
	case errors.Is(err, secretstore.ErrNotFound):
		return "", unreadable("the SCIM token's secret %s was not found: check the ARN (and version) submitted, and that the worker runs in the secret's region; then submit again", ref)
	case errors.Is(err, secretstore.ErrNotText):
		return "", unreadable("the SCIM token's secret %s holds binary data: store the token as the secret's text (SecretString) and submit again", ref)
	case errors.As(err, &apiErr) && apiErr.ErrorCode() == "AccessDeniedException":
		return "", unreadable("the worker may not read the SCIM token's secret %s (%s): allow its AWS identity secretsmanager:GetSecretValue on the secret (and kms:Decrypt on its key), then retry", ref, apiErr.ErrorMessage())
	case errors.As(err, &apiErr) && apiErr.ErrorCode() == "InvalidRequestException":
		return "", unreadable("the SCIM token's secret %s cannot be read (%s): if it is scheduled for deletion, restore it (aws secretsmanager restore-secret) or store the token in a new secret and submit that", ref, apiErr.ErrorMessage())
	case err != nil:
		return "", fmt.Errorf("read the SCIM token (the activity is retried): %w", err)
	}
	token := strings.TrimSpace(value.Reveal()) // a line break copied along with the token
	if token == "" || strings.IndexFunc(token, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return "", unreadable("the secret %s does not hold a SCIM access token (it is empty or has spaces or line breaks inside): store only the token the console showed, then submit again", ref)
	}
	return token, nil
}

// noRedirects returns a copy of client that does not follow redirects: the
// endpoint is called exactly as given, and the token goes nowhere else.
func noRedirects(client *http.Client) *http.Client {
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// caller makes the SCIM calls with the token.
type caller struct {
	client   *http.Client
	endpoint string
	token    string
}

// get calls GET <endpoint>/<path> and decodes a 200 answer into v.
func (c *caller) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.endpoint+"/"+path, nil)
	if err != nil {
		return c.notSCIM(path, "no request can be made to it")
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/scim+json, application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		// *url.Error names the method and URL, never the headers.
		return fmt.Errorf("call the SCIM endpoint (GET %s/%s; the activity is retried): %w", c.endpoint, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil {
		return fmt.Errorf("read the answer of the SCIM endpoint (GET %s/%s; the activity is retried): %w", c.endpoint, path, err)
	}

	status := resp.StatusCode
	switch {
	case status == http.StatusOK:
		if err := json.Unmarshal(body, v); err != nil {
			return c.notSCIM(path, "it answered 200 without SCIM JSON")
		}
		return nil
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("the SCIM endpoint %s refused the access token (%d%s): the token is wrong, expired or deleted, or automatic provisioning is off. %s",
				c.endpoint, status, c.detail(body), newTokenSteps),
			ErrTokenRejected, nil)
	case status == http.StatusNotFound:
		return c.notSCIM(path, fmt.Sprintf("it answered 404%s", c.detail(body)))
	case status == http.StatusTooManyRequests || status >= 500:
		return fmt.Errorf("the SCIM endpoint %s answered %d%s (the activity is retried)", c.endpoint, status, c.detail(body))
	case status >= 300 && status < 400:
		return c.notSCIM(path, fmt.Sprintf("it redirects (%d) to %q", status, resp.Header.Get("Location")))
	}
	return c.notSCIM(path, fmt.Sprintf("it answered %d%s", status, c.detail(body)))
}

// notSCIM is ErrEndpointInvalid for an answer that is not Identity
// Center's SCIM endpoint's.
func (c *caller) notSCIM(path, why string) error {
	return temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("%s is not an IAM Identity Center SCIM endpoint: GET %s: %s. Copy the SCIM endpoint from the console (Settings > Identity source > Automatic provisioning), %s, and submit it again",
			c.endpoint, path, why, endpointFormat),
		ErrEndpointInvalid, nil)
}

// detail is the detail of a SCIM error answer, as ": <detail>", clipped,
// and with the token blanked should a server ever echo it.
func (c *caller) detail(body []byte) string {
	var doc struct {
		Detail string `json:"detail"`
	}
	if json.Unmarshal(body, &doc) != nil || doc.Detail == "" {
		return ""
	}
	d := strings.ReplaceAll(doc.Detail, c.token, "[token]")
	if len(d) > 300 {
		d = d[:300] + "..."
	}
	return ": " + d
}
