// Package graphclient builds the Microsoft Graph client every activity that
// talks to Entra ID uses: msgraph-sdk-go with its default middleware (the
// retry handler honours Retry-After), over an HTTP transport that counts and
// paces every call (internal/apicalls), signed in with an app registration's
// client credentials, or with a fixed token for the sandbox.
package graphclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	absauth "github.com/microsoft/kiota-abstractions-go/authentication"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	graphauth "github.com/microsoftgraph/msgraph-sdk-go-core/authentication"

	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/internal/partition"
)

// Defaults for Config.
const (
	// DefaultBaseURL is the Graph service root of the global cloud.
	DefaultBaseURL = "https://graph.microsoft.com"
	// DefaultRequestsPerSecond paces the HTTP calls of one worker to Graph.
	// A $batch call carries up to 20 requests and Entra counts each against
	// the app's directory quota (thousands of resource units per 10 seconds
	// for a large tenant, a read costing one or two): 10 batches a second is
	// about half of it, so a throttled burst is rare and Retry-After handles
	// the rest. Raise it if the tenant's quota allows.
	DefaultRequestsPerSecond = 10
	// MaxRetries is how often the SDK's retry handler repeats a call that
	// was throttled (429) or found the service unavailable (503, 504),
	// waiting for Retry-After each time. It is the SDK's maximum; its
	// default of 3 gives up during a throttling burst.
	MaxRetries = 10
)

// Config says which Graph to call and how to sign in.
type Config struct {
	// BaseURL is the service root without the version; the client calls
	// BaseURL + "/v1.0". Empty means DefaultBaseURL.
	BaseURL string
	// TenantID, ClientID and ClientSecret are an app registration's client
	// credentials. With ClientSecret empty, the Azure SDK's default
	// credential chain signs in instead (environment, workload identity,
	// managed identity, Azure CLI), in tenant TenantID if set.
	TenantID     string
	ClientID     string
	ClientSecret string
	// StaticToken is a fixed bearer token, for the sandbox. It is sent only
	// to BaseURL's host, and it is the only way to call a plain-http URL.
	StaticToken string
	// RequestsPerSecond paces all calls; 0 means DefaultRequestsPerSecond,
	// a negative value or +Inf means no pacing.
	RequestsPerSecond float64
	// Observer, when set, is told of every request (the worker's metrics).
	Observer apicalls.Observer
}

// Client is a Graph client and its request adapter. The adapter sends what
// the request builders cannot: JSON batches (msgraph-sdk-go-core's
// BatchRequest) built from the builders' ToGetRequestInformation.
type Client struct {
	Client  *msgraphsdk.GraphServiceClient
	Adapter *msgraphsdk.GraphRequestAdapter

	tokens absauth.AccessTokenProvider
	base   *url.URL
}

// AccessToken is the bearer token the client sends to Graph, for a check
// that reads its claims (the application roles it carries). It is a
// secret: never log or return it.
func (c *Client) AccessToken(ctx context.Context) (string, error) {
	return c.tokens.GetAuthorizationToken(ctx, c.base, nil)
}

// New builds a client. It makes no call: a wrong credential shows on the
// first call, whose error the activities turn into what to fix.
func New(cfg Config) (*Client, error) {
	base, err := serviceRoot(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	tokens, err := accessTokenProvider(cfg, base)
	if err != nil {
		return nil, err
	}
	auth := absauth.NewBaseBearerTokenAuthenticationProvider(tokens)
	httpClient, err := newHTTPClient(cfg.RequestsPerSecond, cfg.Observer)
	if err != nil {
		return nil, err
	}
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, nil, nil, httpClient)
	if err != nil {
		return nil, fmt.Errorf("graph client: %w", err)
	}
	adapter.SetBaseUrl(base.String() + "/v1.0")
	return &Client{Client: msgraphsdk.NewGraphServiceClient(adapter), Adapter: adapter, tokens: tokens, base: base}, nil
}

// serviceRoot checks and normalises the base URL.
func serviceRoot(raw string) (*url.URL, error) {
	if raw == "" {
		raw = DefaultBaseURL
	}
	u, err := url.Parse(strings.TrimSuffix(raw, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("graph base URL %q: want the service root, such as %s (without /v1.0)", raw, DefaultBaseURL)
	}
	if strings.HasSuffix(u.Path, "/v1.0") || strings.HasSuffix(u.Path, "/beta") {
		return nil, fmt.Errorf("graph base URL %q: leave out the version; the client adds /v1.0", raw)
	}
	return u, nil
}

// accessTokenProvider gives tokens for base's host, and only for it: a
// nextLink or a redirect to another host gets no token.
func accessTokenProvider(cfg Config, base *url.URL) (absauth.AccessTokenProvider, error) {
	if cfg.StaticToken != "" {
		hosts, err := absauth.NewAllowedHostsValidatorErrorCheck([]string{base.Host})
		if err != nil {
			return nil, fmt.Errorf("graph base URL %s: %w", base, err)
		}
		return &staticToken{token: cfg.StaticToken, host: base.Host, hosts: hosts}, nil
	}
	if base.Scheme != "https" {
		return nil, fmt.Errorf("graph base URL %s: a real sign-in sends its token only over https", base)
	}
	// A national cloud signs in at its own Entra endpoint, and its tokens
	// are for its own Graph host ("Microsoft Graph national cloud
	// deployments"); a host of no cloud gets no token.
	entraCloud, ok := partition.EntraForGraphHost(base.Host)
	if !ok {
		return nil, fmt.Errorf("graph base URL %s: a real sign-in needs the Graph host of an Entra cloud (%s)", base, strings.Join(partition.GraphHosts(), ", "))
	}
	client := azcore.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: entraCloud.AuthorityHost}}
	var cred azcore.TokenCredential
	var err error
	switch {
	case cfg.ClientSecret != "":
		if cfg.TenantID == "" || cfg.ClientID == "" {
			return nil, errors.New("graph sign-in: a client secret needs the tenant ID and the client ID of its app registration (AZURE_TENANT_ID, AZURE_CLIENT_ID)")
		}
		cred, err = azidentity.NewClientSecretCredential(cfg.TenantID, cfg.ClientID, cfg.ClientSecret, &azidentity.ClientSecretCredentialOptions{ClientOptions: client})
	default:
		cred, err = azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{TenantID: cfg.TenantID, ClientOptions: client})
	}
	if err != nil {
		// azidentity's errors name the setting at fault, never the secret.
		return nil, fmt.Errorf("graph sign-in: %w", err)
	}
	provider, err := graphauth.NewAzureIdentityAccessTokenProviderWithScopesAndValidHosts(cred, []string{base.Scheme + "://" + base.Host + "/.default"}, []string{base.Host})
	if err != nil {
		return nil, fmt.Errorf("graph sign-in: %w", err)
	}
	return provider, nil
}

// newHTTPClient is the SDK's default middleware (with a more patient retry
// handler) over a transport that counts and paces each attempt.
func newHTTPClient(requestsPerSecond float64, observer apicalls.Observer) (*http.Client, error) {
	rps := requestsPerSecond
	if rps == 0 {
		rps = DefaultRequestsPerSecond
	}
	pacer := apicalls.NewPacer(rps)

	kiotaMiddleware, err := khttp.GetDefaultMiddlewaresWithOptions(
		&khttp.RetryHandlerOptions{
			MaxRetries: MaxRetries,
			// Without a Retry-After (a 503 or 504) the handler backs off
			// exponentially from this many seconds.
			DelaySeconds: 1,
			ShouldRetry:  func(time.Duration, int, *http.Request, *http.Response) bool { return true },
		},
		// No gzip of request bodies: when the retry handler resends a
		// compressed POST (a throttled $batch), kiota-http-go v1.5 sends
		// the uncompressed body still labelled Content-Encoding: gzip, and
		// Graph refuses it with 400. The bodies are a few kilobytes.
		khttp.NewCompressionOptionsReference(false),
	)
	if err != nil {
		return nil, fmt.Errorf("graph client middleware: %w", err)
	}
	// The Graph-specific handlers msgraph-sdk-go-core puts in front of
	// kiota's (its GetDefaultMiddlewaresWithOptions, which cannot take
	// retry options).
	options := msgraphsdk.GetDefaultClientOptions()
	middleware := append([]khttp.Middleware{
		msgraphcore.NewGraphTelemetryHandler(&options),
		khttp.NewUrlReplaceHandler(true, msgraphcore.ReplacementPairs),
	}, kiotaMiddleware...)

	transport := http.DefaultTransport.(*http.Transport).Clone()
	// Concurrent batches reuse their connections instead of opening new ones.
	transport.MaxIdleConnsPerHost = 32
	// No overall client timeout: it would cut the retry handler's waits
	// short. A server that stops answering is caught here, and the
	// activity's context bounds the rest.
	transport.ResponseHeaderTimeout = 2 * time.Minute

	return &http.Client{
		Transport: khttp.NewCustomTransportWithParentTransport(&apicalls.Transport{Base: transport, Pacer: pacer, Observer: observer}, middleware...),
		// As the SDK's own client: the redirect handler follows redirects
		// and drops the token when the host changes.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}

// staticToken hands out a fixed token, for the sandbox.
type staticToken struct {
	token string
	host  string
	hosts *absauth.AllowedHostsValidator
}

func (s *staticToken) GetAuthorizationToken(_ context.Context, u *url.URL, _ map[string]any) (string, error) {
	if u == nil || !strings.EqualFold(u.Host, s.host) {
		return "", nil
	}
	return s.token, nil
}

func (s *staticToken) GetAllowedHostsValidator() *absauth.AllowedHostsValidator { return s.hosts }
