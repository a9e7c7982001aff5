// Package app assembles a worker: its configuration (flags and environment),
// the AWS and Microsoft Graph clients, the store, and the registration of
// the workflows and activities. The worker binary, the demo and the
// end-to-end tests all build their worker here, so they run the same thing.
package app

import (
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/pflag"

	"github.com/platformguide/ssocutover/activities/entra"
	"github.com/platformguide/ssocutover/activities/notify"
	"github.com/platformguide/ssocutover/activities/policy"
	"github.com/platformguide/ssocutover/internal/awsclient"
	"github.com/platformguide/ssocutover/internal/graphclient"
	"github.com/platformguide/ssocutover/internal/partition"
	"github.com/platformguide/ssocutover/internal/store"
)

// The worker's own environment variables. AWS settings (AWS_REGION,
// AWS_PROFILE, AWS_ENDPOINT_URL, credentials) are read by the AWS SDK the
// usual way.
const (
	// EnvGraphURL is the Microsoft Graph service root without the version
	// (https://graph.microsoft.com, or the sandbox's).
	EnvGraphURL = "SSOCUTOVER_GRAPH_URL"
	// EnvGraphToken is a static bearer token for Graph: for the sandbox
	// only; real tenants use the Azure credentials.
	EnvGraphToken = "SSOCUTOVER_GRAPH_TOKEN"
	// Azure's usual variables for a client-secret credential.
	EnvAzureTenantID     = "AZURE_TENANT_ID"
	EnvAzureClientID     = "AZURE_CLIENT_ID"
	EnvAzureClientSecret = "AZURE_CLIENT_SECRET"
	// EnvAWSRequestsPerSecond and EnvGraphRequestsPerSecond pace the calls
	// of one worker to each side.
	EnvAWSRequestsPerSecond   = "SSOCUTOVER_AWS_RPS"
	EnvGraphRequestsPerSecond = "SSOCUTOVER_GRAPH_RPS"
	// EnvLoginURL is where Entra publishes federation metadata
	// (https://login.microsoftonline.com, or the sandbox's Graph URL).
	EnvLoginURL = "SSOCUTOVER_LOGIN_URL"
	// EnvAppVisibilityWait is how long the worker waits for Entra to show
	// an enterprise app it may have created (a Go duration, such as 5m).
	// Microsoft documents no upper bound for this delay.
	EnvAppVisibilityWait = "SSOCUTOVER_APP_VISIBILITY_WAIT"
	// EnvMetricsAddress is where the worker serves Prometheus metrics and
	// its probes (/metrics, /livez, /readyz), such as :9090; empty: none.
	EnvMetricsAddress = "SSOCUTOVER_METRICS_ADDRESS"
	// EnvWebhookURL is a Slack or Microsoft Teams incoming webhook URL that
	// gets a message whenever a workflow waits at a gate (the log always
	// does); EnvWebhookURLFile names a file holding it instead (chmod 600),
	// which keeps it out of the environment. The URL is a secret: it has
	// no flag and is never printed. Neither set: the log only.
	EnvWebhookURL     = notify.EnvWebhookURL
	EnvWebhookURLFile = notify.EnvWebhookURLFile
)

// Config is what a worker needs besides its Temporal client.
type Config struct {
	// DataDir holds the store (inventories and reports) unless Store puts
	// it in S3. Every worker of a namespace, and `starter report`, must see
	// the same store.
	DataDir string
	// Store chooses the data directory's store or an S3 bucket.
	Store store.Settings
	// Sealer encrypts the stored documents: the worker's payload codec
	// (nil stores them in clear, as before).
	Sealer store.Sealer
	AWS    awsclient.Options
	// AWSEndpointURL replaces the AWS endpoints (the sandbox's); empty
	// keeps the SDK's resolution, where AWS_ENDPOINT_URL also works.
	AWSEndpointURL string
	// AWSCredentials replaces the SDK's credential chain (the sandbox's
	// static keys); nil keeps the chain.
	AWSCredentials aws.CredentialsProvider
	Graph          graphclient.Config
	// ApprovalPolicy is the worker's approval policy file
	// (activities/policy); empty: none, the requests' approvers apply.
	ApprovalPolicy string
	// LoginURL is where Entra publishes federation metadata; empty means
	// the login host of the Graph URL's cloud (https://login.microsoftonline.com
	// for the global one; LoginBaseURL says it).
	LoginURL string
	// MaxConcurrentActivities bounds the activities one worker runs at
	// once; 0 keeps the SDK's default.
	MaxConcurrentActivities int
	// Webhook gets the gates' messages; nil means the log only.
	Webhook *notify.Webhook
	// AppVisibilityWait is how long the enterprise app steps wait for
	// Entra to show an app that may exist, before concluding it does not;
	// 0 keeps entra.DefaultAppVisibilityWait.
	AppVisibilityWait time.Duration
	// MetricsAddress is where the worker serves /metrics, /livez and
	// /readyz; empty serves nothing.
	MetricsAddress string
}

// ConfigFromEnv returns the configuration the environment sets. A number
// or a webhook URL that does not parse is an error, not a silent default.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	awsRPS, err := parseRate(getenv, EnvAWSRequestsPerSecond)
	if err != nil {
		return Config{}, err
	}
	graphRPS, err := parseRate(getenv, EnvGraphRequestsPerSecond)
	if err != nil {
		return Config{}, err
	}
	webhook, err := notify.WebhookFromEnv(getenv)
	if err != nil {
		return Config{}, err
	}
	var appWait time.Duration
	if s := getenv(EnvAppVisibilityWait); s != "" {
		if appWait, err = time.ParseDuration(s); err != nil || appWait <= 0 {
			return Config{}, fmt.Errorf("%s=%q: want a positive duration, such as 5m", EnvAppVisibilityWait, s)
		}
	}
	return Config{
		DataDir: store.DataDirFromEnv(getenv),
		Store:   store.SettingsFromEnv(getenv),
		AWS:     awsclient.Options{RequestsPerSecond: awsRPS},
		Graph: graphclient.Config{
			BaseURL:           getenv(EnvGraphURL),
			TenantID:          getenv(EnvAzureTenantID),
			ClientID:          getenv(EnvAzureClientID),
			ClientSecret:      getenv(EnvAzureClientSecret),
			StaticToken:       getenv(EnvGraphToken),
			RequestsPerSecond: graphRPS,
		},
		LoginURL:          getenv(EnvLoginURL),
		ApprovalPolicy:    getenv(policy.EnvPolicy),
		Webhook:           webhook,
		AppVisibilityWait: appWait,
		MetricsAddress:    getenv(EnvMetricsAddress),
	}, nil
}

// RegisterFlags adds the worker's flags to fs, with the values already in c
// (from ConfigFromEnv) as defaults. Secrets (the client secret, the static
// token) have no flag: a flag shows in the process list.
func (c *Config) RegisterFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "data directory; the store (inventories, reports) is its store/ folder unless --store s3, shared with 'starter report' (env "+store.EnvDataDir+")")
	c.Store.RegisterFlags(fs)
	fs.StringVar(&c.AWS.Region, "aws-region", c.AWS.Region, "AWS region of the Identity Center instance (empty: AWS_REGION or the profile's)")
	fs.Float64Var(&c.AWS.RequestsPerSecond, "aws-rps", c.AWS.RequestsPerSecond, "AWS calls per second, all APIs together (0: the default, "+strconv.Itoa(awsclient.DefaultRequestsPerSecond)+"; env "+EnvAWSRequestsPerSecond+")")
	fs.IntVar(&c.AWS.MaxAttempts, "aws-max-attempts", c.AWS.MaxAttempts, "attempts per AWS call, retries included (0: the default, "+strconv.Itoa(awsclient.DefaultMaxAttempts)+")")
	fs.StringVar(&c.Graph.BaseURL, "graph-url", c.Graph.BaseURL, "Microsoft Graph service root without the version (empty: https://graph.microsoft.com; env "+EnvGraphURL+")")
	fs.StringVar(&c.Graph.TenantID, "azure-tenant-id", c.Graph.TenantID, "Entra tenant of the app registration the worker signs in with (env "+EnvAzureTenantID+")")
	fs.StringVar(&c.Graph.ClientID, "azure-client-id", c.Graph.ClientID, "client ID of that app registration; its secret comes from env "+EnvAzureClientSecret+" (env "+EnvAzureClientID+")")
	fs.StringVar(&c.ApprovalPolicy, "approval-policy", c.ApprovalPolicy, "the approval policy file: who may sign decisions, how many each gate needs, four eyes, which operations are signed (env "+policy.EnvPolicy+"; README, Signed approvals)")
	fs.StringVar(&c.LoginURL, "login-url", c.LoginURL, "where Entra publishes federation metadata (empty: the login host of the Graph URL's cloud, https://login.microsoftonline.com for the global one; env "+EnvLoginURL+")")
	fs.Float64Var(&c.Graph.RequestsPerSecond, "graph-rps", c.Graph.RequestsPerSecond, "Graph calls per second (0: the default; env "+EnvGraphRequestsPerSecond+")")
	fs.DurationVar(&c.AppVisibilityWait, "app-visibility-wait", c.AppVisibilityWait, "how long to wait for Entra to show an enterprise app that may exist before concluding it does not: a retry after a crash searches this long before it creates the app, and so does a rollback that looks for an app no step returned (0: "+entra.DefaultAppVisibilityWait.String()+"; env "+EnvAppVisibilityWait+")")
	fs.StringVar(&c.MetricsAddress, "metrics-address", c.MetricsAddress, "serve Prometheus metrics on /metrics, and the probes /livez and /readyz, at this address, such as :9090 (empty: none; env "+EnvMetricsAddress+")")
	fs.IntVar(&c.MaxConcurrentActivities, "max-concurrent-activities", c.MaxConcurrentActivities, "activities one worker runs at once (0: the SDK's default)")
}

func parseRate(getenv func(string) string, name string) (float64, error) {
	s := getenv(name)
	if s == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: want a number of calls per second", name, s)
	}
	return f, nil
}

// LoginBaseURL is where the worker fetches Entra's federation metadata: the
// configured URL, else the login host of the cloud whose Graph the worker
// calls (login.microsoftonline.us for graph.microsoft.us, and so on), else
// the global cloud's.
func (c Config) LoginBaseURL() string {
	if c.LoginURL != "" {
		return c.LoginURL
	}
	if u, err := url.Parse(c.Graph.BaseURL); err == nil && u.Host != "" {
		if cloud, ok := partition.EntraForGraphHost(u.Host); ok {
			return "https://" + cloud.LoginHost
		}
	}
	return ""
}
