// Package temporalclient connects the worker and the starter to a Temporal
// server: the local dev server by default, or a remote cluster or Temporal
// Cloud over TLS, mutual TLS or an API key.
//
// Every setting comes from a flag, else from the environment variable the
// `temporal` CLI reads for the same thing (TEMPORAL_ADDRESS, ...), else from
// the default, so one shell environment serves the CLI and our binaries.
package temporalclient

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/spf13/pflag"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"
	"google.golang.org/grpc"

	"github.com/platformguide/ssocutover/internal/logging"
)

// TaskQueue is the one task queue the cutover's workflows and activities use.
const TaskQueue = "ssocutover"

// Defaults: the dev server that `make dev-server` and `make demo` start.
const (
	DefaultAddress        = "127.0.0.1:7233"
	DefaultNamespace      = "default"
	DefaultConnectTimeout = 5 * time.Second
)

// The environment variables read, named as the `temporal` CLI names them.
const (
	EnvAddress       = "TEMPORAL_ADDRESS"
	EnvNamespace     = "TEMPORAL_NAMESPACE"
	EnvTLS           = "TEMPORAL_TLS"
	EnvTLSCert       = "TEMPORAL_TLS_CERT"
	EnvTLSKey        = "TEMPORAL_TLS_KEY"
	EnvTLSCA         = "TEMPORAL_TLS_CA"
	EnvTLSServerName = "TEMPORAL_TLS_SERVER_NAME"
	EnvAPIKey        = "TEMPORAL_API_KEY"
)

// Options say where the Temporal server is and how to authenticate to it.
type Options struct {
	// Address is the frontend's host:port.
	Address   string
	Namespace string
	// TLS turns TLS on with the system's root CAs. It is implied by any of
	// the TLS files, by TLSServerName and by APIKey.
	TLS bool
	// TLSCertFile and TLSKeyFile are the client certificate and key for
	// mutual TLS (PEM); both or neither.
	TLSCertFile string
	TLSKeyFile  string
	// TLSCAFile is a PEM bundle of the CAs that signed the server's
	// certificate, for a server whose CA is not in the system's roots.
	TLSCAFile string
	// TLSServerName overrides the name checked in the server's certificate.
	TLSServerName string
	// APIKey authenticates to Temporal Cloud (or a server that accepts API
	// keys). It is a secret: it is never logged nor shown in help or errors.
	APIKey string
	// ConnectTimeout bounds the first connection and health check, so a
	// server that is not there is reported at once instead of retried.
	ConnectTimeout time.Duration
	// Codec, when set, encodes every payload the client writes and decodes
	// every payload it reads (internal/codec encrypts them). It has no flag
	// nor variable here: its keys are the codec package's business.
	Codec converter.PayloadCodec
	// MetricsHandler, when set, receives the SDK's metrics (the worker's
	// Prometheus endpoint, internal/metrics).
	MetricsHandler client.MetricsHandler
}

// FromEnv returns the options the environment sets, defaults elsewhere.
// getenv is os.Getenv outside tests.
func FromEnv(getenv func(string) string) Options {
	o := Options{
		Address:        cmp.Or(getenv(EnvAddress), DefaultAddress),
		Namespace:      cmp.Or(getenv(EnvNamespace), DefaultNamespace),
		TLSCertFile:    getenv(EnvTLSCert),
		TLSKeyFile:     getenv(EnvTLSKey),
		TLSCAFile:      getenv(EnvTLSCA),
		TLSServerName:  getenv(EnvTLSServerName),
		APIKey:         getenv(EnvAPIKey),
		ConnectTimeout: DefaultConnectTimeout,
	}
	if on, err := strconv.ParseBool(getenv(EnvTLS)); err == nil {
		o.TLS = on
	}
	return o
}

// RegisterFlags adds the connection flags to fs. The values already in o
// (usually from FromEnv) are the flags' defaults, so a flag beats the
// environment, which beats the built-in default. The API key's value is
// kept out of the help text.
func (o *Options) RegisterFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Address, "address", o.Address, "Temporal frontend host:port (env "+EnvAddress+")")
	fs.StringVar(&o.Namespace, "namespace", o.Namespace, "Temporal namespace (env "+EnvNamespace+")")
	fs.BoolVar(&o.TLS, "tls", o.TLS, "connect with TLS using the system's root CAs; implied by the other --tls-* flags and by an API key (env "+EnvTLS+")")
	fs.StringVar(&o.TLSCertFile, "tls-cert-path", o.TLSCertFile, "client certificate (PEM) for mutual TLS (env "+EnvTLSCert+")")
	fs.StringVar(&o.TLSKeyFile, "tls-key-path", o.TLSKeyFile, "client private key (PEM) for mutual TLS (env "+EnvTLSKey+")")
	fs.StringVar(&o.TLSCAFile, "tls-ca-path", o.TLSCAFile, "CA bundle (PEM) that signed the server's certificate (env "+EnvTLSCA+")")
	fs.StringVar(&o.TLSServerName, "tls-server-name", o.TLSServerName, "server name to verify in the server's certificate (env "+EnvTLSServerName+")")
	// Registered with an empty default so that --help never prints the key
	// taken from the environment; the environment's value stays in o.APIKey
	// unless the flag is given.
	apiKey := o.APIKey
	fs.StringVar(&o.APIKey, "api-key", "", "API key for Temporal Cloud; prefer the env "+EnvAPIKey+", a flag shows in the process list")
	o.APIKey = apiKey
	fs.DurationVar(&o.ConnectTimeout, "connect-timeout", o.ConnectTimeout, "how long to wait for the Temporal server to answer before giving up")
}

// UsesTLS says whether the connection is encrypted.
func (o Options) UsesTLS() bool {
	return o.TLS || o.TLSCertFile != "" || o.TLSKeyFile != "" || o.TLSCAFile != "" || o.TLSServerName != "" || o.APIKey != ""
}

// TLSConfig builds the TLS configuration from the files, or returns nil for
// a plain connection (the local dev server).
func (o Options) TLSConfig() (*tls.Config, error) {
	if !o.UsesTLS() {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: o.TLSServerName}
	if (o.TLSCertFile == "") != (o.TLSKeyFile == "") {
		return nil, fmt.Errorf("mutual TLS needs both a certificate and a key: set %s and %s (or --tls-cert-path and --tls-key-path)", EnvTLSCert, EnvTLSKey)
	}
	if o.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.TLSCertFile, o.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("load the TLS client certificate %s and key %s: %w", o.TLSCertFile, o.TLSKeyFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if o.TLSCAFile != "" {
		pem, err := os.ReadFile(o.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("read the TLS CA bundle: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("the TLS CA bundle %s holds no PEM certificate", o.TLSCAFile)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// ClientOptions turns o into the SDK's client options, logging through logger.
func (o Options) ClientOptions(logger *zap.Logger) (client.Options, error) {
	if o.Address == "" {
		return client.Options{}, errors.New("no Temporal address: set " + EnvAddress + " or --address (the local dev server is " + DefaultAddress + ")")
	}
	tlsConfig, err := o.TLSConfig()
	if err != nil {
		return client.Options{}, err
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	opts := client.Options{
		HostPort:          o.Address,
		Namespace:         cmp.Or(o.Namespace, DefaultNamespace),
		Logger:            logging.SDKLogger(logger),
		ConnectionOptions: client.ConnectionOptions{TLS: tlsConfig},
	}
	if o.APIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(o.APIKey)
	}
	if o.MetricsHandler != nil {
		opts.MetricsHandler = o.MetricsHandler
	}
	if o.Codec != nil {
		opts.DataConverter = converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), o.Codec)
		// Failures too: their message and stack trace travel as an encoded
		// attributes payload through the same codec, so an error that
		// quotes anything sensitive is not readable in history without the
		// keys (the UI and `temporal workflow show --codec-endpoint` decode
		// them); the message left in clear is "Encoded failure".
		opts.FailureConverter = temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
			DataConverter: opts.DataConverter, EncodeCommonAttributes: true,
		})
		opts.ConnectionOptions.DialOptions = append(opts.ConnectionOptions.DialOptions,
			grpc.WithChainUnaryInterceptor(decodeDescribeInterceptor(o.Codec)))
	}
	return opts, nil
}

// decodeDescribeInterceptor decodes the payloads of DescribeWorkflowExecution
// answers with codec. The SDK hands that answer over raw, so without it the
// pending activities' heartbeat details (their progress, which the starter
// shows) would stay encrypted. Every other call's payloads go through the
// data converter. Decoding is idempotent for a codec that passes plain
// payloads through, as internal/codec does.
func decodeDescribeInterceptor(codec converter.PayloadCodec) grpc.UnaryClientInterceptor {
	decode := proxy.VisitPayloadsOptions{
		Visitor: func(_ *proxy.VisitPayloadsContext, payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
			return codec.Decode(payloads)
		},
		SkipSearchAttributes: true,
	}
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if err := invoker(ctx, method, req, reply, cc, opts...); err != nil {
			return err
		}
		describe, ok := reply.(*workflowservice.DescribeWorkflowExecutionResponse)
		if !ok {
			return nil
		}
		if err := proxy.VisitPayloads(ctx, describe, decode); err != nil {
			return fmt.Errorf("decode the payloads of the workflow's description: %w", err)
		}
		return nil
	}
}

// Dial connects to the server and checks that it answers, within
// ConnectTimeout. When it cannot be reached the error says where it looked
// and how to start a local server.
func (o Options) Dial(ctx context.Context, logger *zap.Logger) (client.Client, error) {
	opts, err := o.ClientOptions(logger)
	if err != nil {
		return nil, err
	}
	dialCtx, cancel := context.WithTimeout(ctx, o.connectTimeout())
	defer cancel()
	// DialContext already makes one call (GetSystemInfo); the health check
	// then proves the frontend serves requests, not only accepts connections.
	c, err := client.DialContext(dialCtx, opts)
	if err != nil {
		return nil, o.unreachable(dialCtx, err)
	}
	if _, err := c.CheckHealth(dialCtx, &client.CheckHealthRequest{}); err != nil {
		c.Close()
		return nil, o.unreachable(dialCtx, err)
	}
	return c, nil
}

// unreachable explains a failed connection. The API key is not in err: the
// SDK sends it as a header and never puts it in errors.
func (o Options) unreachable(dialCtx context.Context, err error) error {
	transport := "without TLS"
	hint := "Start a local server with `make dev-server` (or `bin/temporal server start-dev --ip 127.0.0.1`), or point " +
		EnvAddress + " / --address at your server."
	if o.UsesTLS() {
		transport = "with TLS"
		hint = "Check the address, the TLS settings (" + EnvTLSCert + ", " + EnvTLSKey + ", " + EnvTLSCA + ") and the API key. " + hint
	}
	if dialCtx.Err() != nil {
		err = fmt.Errorf("no answer within %s (--connect-timeout): %w", o.connectTimeout(), err)
	}
	return fmt.Errorf("cannot reach the Temporal server at %s (namespace %s, %s): %w\n%s",
		o.Address, cmp.Or(o.Namespace, DefaultNamespace), transport, err, hint)
}

func (o Options) connectTimeout() time.Duration {
	if o.ConnectTimeout <= 0 {
		return DefaultConnectTimeout
	}
	return o.ConnectTimeout
}

// String describes the connection without the API key.
func (o Options) String() string {
	auth := "none"
	switch {
	case o.APIKey != "" && o.TLSCertFile != "":
		auth = "api-key+mtls"
	case o.APIKey != "":
		auth = "api-key"
	case o.TLSCertFile != "":
		auth = "mtls"
	}
	return fmt.Sprintf("address=%s namespace=%s tls=%t auth=%s", o.Address, cmp.Or(o.Namespace, DefaultNamespace), o.UsesTLS(), auth)
}
