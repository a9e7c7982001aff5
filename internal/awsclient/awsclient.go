// Package awsclient builds the aws.Config every AWS SDK client of the worker
// uses: the SDK's usual configuration chain (so AWS_ENDPOINT_URL points the
// clients at the sandbox and the usual credential sources work), an HTTP
// transport that counts and paces every call, and a retryer patient enough
// for the throttling bursts a large inventory meets.
package awsclient

import (
	"context"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/platformguide/ssocutover/internal/apicalls"
)

// Defaults for Options.
const (
	// DefaultRequestsPerSecond paces the calls of one worker to each AWS
	// service (identitystore, sso-admin, IAM, Secrets Manager each at this
	// pace, independently: each has its own endpoint and throttles on its
	// own). AWS does not publish per-operation rates for identitystore and
	// sso-admin; this is a conservative pace that a large inventory can
	// still finish with in minutes. Raise it if your quotas allow.
	DefaultRequestsPerSecond = 20
	// DefaultMaxAttempts is how often one call is tried before it fails,
	// the first attempt included (the SDK's default is 3).
	DefaultMaxAttempts = 8
)

// Options tune the configuration. The zero value uses the defaults.
type Options struct {
	// Region overrides the region of the environment (AWS_REGION) and the
	// shared config file.
	Region string
	// RequestsPerSecond paces the calls made with the configuration, per
	// service; 0 means DefaultRequestsPerSecond, a negative value or +Inf
	// means no pacing.
	RequestsPerSecond float64
	// MaxAttempts per call, retries included; 0 means DefaultMaxAttempts.
	MaxAttempts int
	// Observer, when set, is told of every attempt (the worker's metrics).
	Observer apicalls.Observer
}

// Load returns the configuration for the SDK clients. Calls made with a
// context that carries an apicalls.Counter are counted by operation, every
// attempt included.
func Load(ctx context.Context, opts Options) (aws.Config, error) {
	rps := opts.RequestsPerSecond
	if rps == 0 {
		rps = DefaultRequestsPerSecond
	}
	pacer := apicalls.NewPacer(rps)
	maxAttempts := opts.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = DefaultMaxAttempts
	}

	loadOptions := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = maxAttempts
				// The client-side retry quota exists to stop retry storms
				// against an unhealthy service; here every call is already
				// paced by the limiter, and a throttling burst during a
				// 100,000-user inventory would drain the quota and fail
				// calls that a retry would have carried.
				o.RateLimiter = ratelimit.None
			})
		}),
	}
	if opts.Region != "" {
		loadOptions = append(loadOptions, config.WithRegion(opts.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOptions...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration (environment, shared config and credentials files): %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, fmt.Errorf("no AWS region configured: set AWS_REGION (the region of the Identity Center instance) or a region in the AWS profile")
	}

	// Count and pace on top of the SDK's own transport, taken from the
	// client the configuration built: it carries what the environment
	// configured, such as the CA bundle of AWS_CA_BUNDLE.
	var base http.RoundTripper
	if built, ok := cfg.HTTPClient.(*awshttp.BuildableClient); ok {
		base = built.GetTransport()
	} else {
		base = awshttp.NewBuildableClient().GetTransport()
	}
	cfg.HTTPClient = &http.Client{
		Transport: &apicalls.Transport{Base: base, Pacer: pacer, Observer: opts.Observer},
		// As the SDK's own client: a redirect is an answer, not something
		// to follow with signed headers.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return cfg, nil
}
