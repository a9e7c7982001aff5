package temporalclient

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/grpc"

	"github.com/platformguide/ssocutover/internal/activitytest"
	"github.com/platformguide/ssocutover/internal/codec"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestDefaultsWithoutEnvironment(t *testing.T) {
	o := FromEnv(env(nil))
	require.Equal(t, "127.0.0.1:7233", o.Address)
	require.Equal(t, "default", o.Namespace)
	require.False(t, o.UsesTLS())
	cfg, err := o.TLSConfig()
	require.NoError(t, err)
	require.Nil(t, cfg, "the local dev server speaks plain gRPC")
}

func TestFlagBeatsEnvironmentBeatsDefault(t *testing.T) {
	o := FromEnv(env(map[string]string{
		EnvAddress:   "temporal.internal:7233",
		EnvNamespace: "from-env",
		EnvAPIKey:    "env-secret-key",
	}))
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	o.RegisterFlags(fs)
	require.NoError(t, fs.Parse([]string{"--namespace", "from-flag"}))

	require.Equal(t, "temporal.internal:7233", o.Address, "environment, no flag")
	require.Equal(t, "from-flag", o.Namespace, "flag beats environment")
	require.Equal(t, "env-secret-key", o.APIKey, "the environment's key stays when the flag is not given")
	require.Equal(t, DefaultConnectTimeout, o.ConnectTimeout, "default")

	require.NoError(t, fs.Parse([]string{"--api-key", "flag-key"}))
	require.Equal(t, "flag-key", o.APIKey)
}

func TestHelpNeverShowsTheAPIKey(t *testing.T) {
	o := FromEnv(env(map[string]string{EnvAPIKey: "env-secret-key"}))
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	o.RegisterFlags(fs)
	require.NotContains(t, fs.FlagUsages(), "env-secret-key")
	require.Contains(t, fs.FlagUsages(), EnvAPIKey)
	require.NotContains(t, o.String(), "env-secret-key")
	require.Contains(t, o.String(), "auth=api-key")
}

func TestTLSFromEnvironmentSwitch(t *testing.T) {
	o := FromEnv(env(map[string]string{EnvTLS: "true"}))
	cfg, err := o.TLSConfig()
	require.NoError(t, err)
	require.NotNil(t, cfg)
	require.Nil(t, cfg.RootCAs, "system roots")
	require.Empty(t, cfg.Certificates)
}

func TestMutualTLSConfigFromFiles(t *testing.T) {
	pki := newTestPKI(t)
	o := FromEnv(env(map[string]string{
		EnvTLSCert:       pki.clientCertFile,
		EnvTLSKey:        pki.clientKeyFile,
		EnvTLSCA:         pki.caFile,
		EnvTLSServerName: "temporal.test",
	}))
	require.True(t, o.UsesTLS())
	cfg, err := o.TLSConfig()
	require.NoError(t, err)
	require.Len(t, cfg.Certificates, 1)
	leaf, err := x509.ParseCertificate(cfg.Certificates[0].Certificate[0])
	require.NoError(t, err)
	require.Equal(t, "ssocutover-worker", leaf.Subject.CommonName)
	require.Equal(t, "temporal.test", cfg.ServerName)
	_, err = pki.serverLeaf.Verify(x509.VerifyOptions{Roots: cfg.RootCAs, DNSName: "temporal.test"})
	require.NoError(t, err, "the CA bundle read from the file verifies the server")
}

func TestTLSConfigErrorsSayWhatToFix(t *testing.T) {
	pki := newTestPKI(t)

	_, err := Options{TLSCertFile: pki.clientCertFile}.TLSConfig()
	require.ErrorContains(t, err, "needs both a certificate and a key")

	_, err = Options{TLSCertFile: pki.clientCertFile, TLSKeyFile: filepath.Join(t.TempDir(), "missing.key")}.TLSConfig()
	require.ErrorContains(t, err, "load the TLS client certificate")

	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("not a certificate"), 0o600))
	_, err = Options{TLSCAFile: notPEM}.TLSConfig()
	require.ErrorContains(t, err, "holds no PEM certificate")
}

func TestAPIKeySetsCredentialsAndTLS(t *testing.T) {
	opts, err := Options{Address: "example.tmprl.cloud:7233", Namespace: "ns.acct", APIKey: "k"}.ClientOptions(nil)
	require.NoError(t, err)
	require.NotNil(t, opts.Credentials)
	require.NotNil(t, opts.ConnectionOptions.TLS, "an API key implies TLS")
	require.Equal(t, "ns.acct", opts.Namespace)

	opts, err = Options{Address: "127.0.0.1:7233"}.ClientOptions(nil)
	require.NoError(t, err)
	require.Nil(t, opts.Credentials)
	require.Nil(t, opts.ConnectionOptions.TLS)
	require.Equal(t, "default", opts.Namespace)
}

// TestDialSendsAPIKeyAndClientCertificate runs a TLS server that demands a
// client certificate and answers every gRPC call with PERMISSION_DENIED: the
// client must have presented the certificate, sent the API key as a bearer
// token, and reported the failure without the key.
func TestDialSendsAPIKeyAndClientCertificate(t *testing.T) {
	pki := newTestPKI(t)
	var (
		mu          sync.Mutex
		authHeaders []string
		clientCNs   []string
	)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		authHeaders = append(authHeaders, r.Header.Get("Authorization"))
		if len(r.TLS.PeerCertificates) > 0 {
			clientCNs = append(clientCNs, r.TLS.PeerCertificates[0].Subject.CommonName)
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/grpc")
		w.Header().Set("Grpc-Status", "7")
		w.Header().Set("Grpc-Message", "test server denies everything")
		w.WriteHeader(http.StatusOK)
	}))
	srv.EnableHTTP2 = true
	srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{pki.serverCert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pki.pool,
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	o := Options{
		Address:        strings.TrimPrefix(srv.URL, "https://"),
		TLSCertFile:    pki.clientCertFile,
		TLSKeyFile:     pki.clientKeyFile,
		TLSCAFile:      pki.caFile,
		TLSServerName:  "temporal.test",
		APIKey:         "very-secret-api-key",
		ConnectTimeout: 5 * time.Second,
	}
	_, err := o.Dial(context.Background(), nil)
	require.Error(t, err)
	require.Contains(t, err.Error(), o.Address)
	require.NotContains(t, err.Error(), "very-secret-api-key")

	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, authHeaders, "the client reached the server over mutual TLS")
	require.Equal(t, "Bearer very-secret-api-key", authHeaders[0])
	require.Equal(t, "ssocutover-worker", clientCNs[0])
}

func TestDialUnreachableFailsFastWithAHint(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now

	o := Options{Address: addr, Namespace: "default", ConnectTimeout: 2 * time.Second}
	_, err = o.Dial(context.Background(), nil)

	require.Error(t, err)
	msg := err.Error()
	require.Contains(t, msg, "cannot reach the Temporal server at "+addr)
	require.Contains(t, msg, "make dev-server")
	require.Contains(t, msg, "bin/temporal server start-dev")
	require.Contains(t, msg, EnvAddress)
}

func TestDialSilentServerTimesOut(t *testing.T) {
	// A listener that accepts connections and never answers, like a
	// firewall that swallows packets.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
		}
	}()

	o := Options{Address: ln.Addr().String(), ConnectTimeout: time.Second}
	_, err = o.Dial(context.Background(), nil)
	require.Error(t, err)
	// The error names the timeout that ended the wait; how long the wait
	// took is the machine's business.
	require.Contains(t, err.Error(), "no answer within 1s (--connect-timeout)")
}

func TestNoAddress(t *testing.T) {
	_, err := Options{}.Dial(context.Background(), nil)
	require.ErrorContains(t, err, "no Temporal address")
}

// testPKI is a CA, a server certificate for temporal.test and a client
// certificate, with the client's files and the CA written to disk.
type testPKI struct {
	pool                                  *x509.CertPool
	serverCert                            tls.Certificate
	serverLeaf                            *x509.Certificate
	caFile, clientCertFile, clientKeyFile string
}

func newTestPKI(t *testing.T) testPKI {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTemplate := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "ssocutover test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)

	issue := func(serial int64, cn string, usage x509.ExtKeyUsage, dns []string) (tls.Certificate, []byte, []byte) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: cn},
			DNSNames:     dns,
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		}, ca, &key.PublicKey, caKey)
		require.NoError(t, err)
		keyDER, err := x509.MarshalECPrivateKey(key)
		require.NoError(t, err)
		certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		require.NoError(t, err)
		return pair, certPEM, keyPEM
	}

	p := testPKI{pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	p.serverCert, _, _ = issue(2, "temporal.test", x509.ExtKeyUsageServerAuth, []string{"temporal.test"})
	p.serverLeaf, err = x509.ParseCertificate(p.serverCert.Certificate[0])
	require.NoError(t, err)
	_, clientCertPEM, clientKeyPEM := issue(3, "ssocutover-worker", x509.ExtKeyUsageClientAuth, nil)

	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, data, 0o600))
		return path
	}
	p.caFile = write("ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}))
	p.clientCertFile = write("client.pem", clientCertPEM)
	p.clientKeyFile = write("client.key", clientKeyPEM)
	return p
}

func TestCodecBecomesTheDataConverter(t *testing.T) {
	c := activitytest.NewCodec(t)
	opts, err := Options{Address: "127.0.0.1:7233", Codec: c}.ClientOptions(nil)
	require.NoError(t, err)
	require.NotNil(t, opts.DataConverter)
	p, err := opts.DataConverter.ToPayload(map[string]string{"requestedBy": "alice"})
	require.NoError(t, err)
	require.True(t, codec.IsEncrypted(p))
	require.NotContains(t, string(p.Data), "alice")
	require.NotEmpty(t, opts.ConnectionOptions.DialOptions, "the describe decoder is installed")

	opts, err = Options{Address: "127.0.0.1:7233"}.ClientOptions(nil)
	require.NoError(t, err)
	require.Nil(t, opts.DataConverter, "no codec: the SDK's default")
}

// The SDK hands DescribeWorkflowExecution answers over raw: the interceptor
// decodes their payloads (heartbeat details), and leaves plain ones alone.
func TestDescribeAnswersAreDecoded(t *testing.T) {
	c := activitytest.NewCodec(t)
	encrypted, err := c.DataConverter().ToPayloads(map[string]any{"step": "users", "done": 3})
	require.NoError(t, err)
	plain, err := converter.GetDefaultDataConverter().ToPayloads("plain")
	require.NoError(t, err)

	intercept := decodeDescribeInterceptor(c)
	invoker := func(_ context.Context, _ string, _, reply any, _ *grpc.ClientConn, _ ...grpc.CallOption) error {
		reply.(*workflowservice.DescribeWorkflowExecutionResponse).PendingActivities = []*workflowpb.PendingActivityInfo{
			{ActivityId: "1", HeartbeatDetails: encrypted},
			{ActivityId: "2", HeartbeatDetails: plain},
		}
		return nil
	}
	var reply workflowservice.DescribeWorkflowExecutionResponse
	require.NoError(t, intercept(context.Background(), workflowservice.WorkflowService_DescribeWorkflowExecution_FullMethodName,
		&workflowservice.DescribeWorkflowExecutionRequest{}, &reply, nil, invoker))

	var progress map[string]any
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(reply.PendingActivities[0].HeartbeatDetails, &progress))
	require.Equal(t, "users", progress["step"])
	var s string
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(reply.PendingActivities[1].HeartbeatDetails, &s))
	require.Equal(t, "plain", s)
}
