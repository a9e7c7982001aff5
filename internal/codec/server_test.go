package codec

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
)

const uiOrigin = "http://127.0.0.1:8233"

func startTestServer(t *testing.T, token string) (*Server, *Codec) {
	t.Helper()
	c := testCodec(t, testKeyLine(t))
	srv, err := Listen("127.0.0.1:0", ServerOptions{Codec: c, AllowedOrigins: []string{uiOrigin}, BearerToken: token, InsecureLocal: token == ""})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, srv.Close()) })
	return srv, c
}

// post sends payloads to the codec server as the UI and the CLI do.
func post(t *testing.T, url string, payloads []*commonpb.Payload, header map[string]string) *http.Response {
	t.Helper()
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: payloads})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Namespace", "default")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func payloadsOf(t *testing.T, resp *http.Response) []*commonpb.Payload {
	t.Helper()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var out commonpb.Payloads
	require.NoError(t, protojson.Unmarshal(body, &out), string(body))
	return out.Payloads
}

func TestServerEncodesAndDecodes(t *testing.T) {
	srv, c := startTestServer(t, "")
	plain, err := converter.GetDefaultDataConverter().ToPayload(sample)
	require.NoError(t, err)

	encoded := payloadsOf(t, post(t, srv.URL+"/encode", []*commonpb.Payload{plain}, nil))
	require.Len(t, encoded, 1)
	require.True(t, IsEncrypted(encoded[0]))
	requireNoPlaintext(t, encoded[0])

	// What the worker wrote decodes, under the namespace prefix the CLI's
	// endpoint template adds too; plain payloads come back as they are.
	written, err := c.DataConverter().ToPayload(sample)
	require.NoError(t, err)
	for _, path := range []string{"/decode", "/default/decode"} {
		decoded := payloadsOf(t, post(t, srv.URL+path, []*commonpb.Payload{written, encoded[0], plain}, nil))
		require.Len(t, decoded, 3)
		for _, p := range decoded {
			var back request
			require.NoError(t, converter.GetDefaultDataConverter().FromPayload(p, &back))
			require.Equal(t, sample, back)
		}
	}
}

func TestServerRefusesWhatItCannotDecrypt(t *testing.T) {
	srv, _ := startTestServer(t, "")
	other := testCodec(t, testKeyLine(t))
	foreign, err := other.DataConverter().ToPayload(sample)
	require.NoError(t, err)
	resp := post(t, srv.URL+"/decode", []*commonpb.Payload{foreign}, nil)
	body, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, string(body), other.CurrentKeyID(), "the error names the missing key")

	resp, err = http.Get(srv.URL + "/decode")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)

	resp = post(t, srv.URL+"/elsewhere", nil, nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestServerCORS(t *testing.T) {
	srv, c := startTestServer(t, "")

	// The browser's preflight for the UI's POST with X-Namespace.
	req, err := http.NewRequest(http.MethodOptions, srv.URL+"/decode", nil)
	require.NoError(t, err)
	req.Header.Set("Origin", uiOrigin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type,x-namespace")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	require.Equal(t, uiOrigin, resp.Header.Get("Access-Control-Allow-Origin"))
	require.Contains(t, resp.Header.Get("Access-Control-Allow-Methods"), "POST")
	for _, h := range []string{"Content-Type", "X-Namespace", "Authorization"} {
		require.Contains(t, resp.Header.Get("Access-Control-Allow-Headers"), h)
	}
	require.Equal(t, "true", resp.Header.Get("Access-Control-Allow-Credentials"))

	// The POST itself carries the header the browser checks.
	written, err := c.DataConverter().ToPayload(sample)
	require.NoError(t, err)
	resp = post(t, srv.URL+"/decode", []*commonpb.Payload{written}, map[string]string{"Origin": uiOrigin})
	require.Equal(t, uiOrigin, resp.Header.Get("Access-Control-Allow-Origin"))
	require.Len(t, payloadsOf(t, resp), 1)

	// Another origin gets no CORS headers and no payloads.
	req.Header.Set("Origin", "http://evil.example")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
	resp = post(t, srv.URL+"/decode", []*commonpb.Payload{written}, map[string]string{"Origin": "http://evil.example"})
	body, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Contains(t, string(body), "--ui-origin http://evil.example")
	require.NotContains(t, string(body), sample.RequestedBy)

	// An origin allowed later, once the UI's address is known.
	srv.Handler.AllowOrigin("http://127.0.0.1:18233")
	resp = post(t, srv.URL+"/decode", []*commonpb.Payload{written}, map[string]string{"Origin": "http://127.0.0.1:18233"})
	require.Equal(t, "http://127.0.0.1:18233", resp.Header.Get("Access-Control-Allow-Origin"))
	require.Len(t, payloadsOf(t, resp), 1)
}

func TestServerBearerToken(t *testing.T) {
	srv, c := startTestServer(t, "s3cret-token")
	written, err := c.DataConverter().ToPayload(sample)
	require.NoError(t, err)

	for name, header := range map[string]map[string]string{
		"no header":     nil,
		"wrong token":   {"Authorization": "Bearer guess"},
		"not a bearer":  {"Authorization": "Basic czNjcmV0LXRva2Vu"},
		"token no type": {"Authorization": "s3cret-token"},
	} {
		resp := post(t, srv.URL+"/decode", []*commonpb.Payload{written}, header)
		body, _ := io.ReadAll(resp.Body)
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, name)
		require.NotContains(t, string(body), sample.RequestedBy, name)
		require.NotContains(t, string(body), "s3cret-token", name)
	}
	resp := post(t, srv.URL+"/decode", []*commonpb.Payload{written}, map[string]string{"Authorization": "Bearer s3cret-token"})
	decoded := payloadsOf(t, resp)
	var back request
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(decoded[0], &back))
	require.Equal(t, sample, back)

	// Browsers send preflights without credentials: they pass.
	req, err := http.NewRequest(http.MethodOptions, srv.URL+"/decode", nil)
	require.NoError(t, err)
	req.Header.Set("Origin", uiOrigin)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
}

// The response is the protocol's JSON: a "payloads" array of payloads whose
// bytes are base64, as the UI and CLI read it.
func TestServerAnswerShape(t *testing.T) {
	srv, _ := startTestServer(t, "")
	plain := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"x"`)}
	resp := post(t, srv.URL+"/decode", []*commonpb.Payload{plain}, nil)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var doc struct {
		Payloads []struct {
			Metadata map[string]string `json:"metadata"`
			Data     string            `json:"data"`
		} `json:"payloads"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&doc))
	require.Len(t, doc.Payloads, 1)
	require.Equal(t, "anNvbi9wbGFpbg==", doc.Payloads[0].Metadata["encoding"])
	require.True(t, strings.HasPrefix(doc.Payloads[0].Data, "Ing"))
}

// Beyond this machine the server decrypts only for a token, over TLS.
func TestServerRefusesToListenOpenly(t *testing.T) {
	c := testCodec(t, testKeyLine(t))
	for _, tc := range []struct {
		name string
		addr string
		opts ServerOptions
	}{
		{"all interfaces, nothing", "0.0.0.0:0", ServerOptions{Codec: c}},
		{"empty host, nothing", ":0", ServerOptions{Codec: c}},
		{"all interfaces, a token but no TLS", "0.0.0.0:0", ServerOptions{Codec: c, BearerToken: "t0ken"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Listen(tc.addr, tc.opts)
			require.ErrorContains(t, err, "decrypt every payload for anyone")
		})
	}

	cert, key := selfSignedCert(t)
	_, err := Listen("0.0.0.0:0", ServerOptions{Codec: c, TLSCertFile: cert})
	require.ErrorContains(t, err, "both a TLS certificate and its key")

	srv, err := Listen("0.0.0.0:0", ServerOptions{Codec: c, BearerToken: "t0ken", TLSCertFile: cert, TLSKeyFile: key})
	require.NoError(t, err, "a token and TLS")
	t.Cleanup(func() { srv.Close() })
	require.True(t, strings.HasPrefix(srv.URL, "https://"), srv.URL)

	_, err = Listen("127.0.0.1:0", ServerOptions{Codec: c})
	require.ErrorContains(t, err, "--insecure-local", "loopback needs a token too")
	local, err := Listen("127.0.0.1:0", ServerOptions{Codec: c, InsecureLocal: true})
	require.NoError(t, err, "loopback without a token when asked for")
	local.Close()
	_, err = Listen("0.0.0.0:0", ServerOptions{Codec: c, InsecureLocal: true})
	require.ErrorContains(t, err, "decrypt every payload for anyone", "--insecure-local is for loopback only")
}

// selfSignedCert writes a throwaway certificate and key for 127.0.0.1.
func selfSignedCert(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "codec"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
	return certFile, keyFile
}
