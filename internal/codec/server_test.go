package codec

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
)

const uiOrigin = "http://127.0.0.1:8233"

func startTestServer(t *testing.T, token string) (*Server, *Codec) {
	t.Helper()
	c := testCodec(t, testKeyLine(t))
	srv, err := Listen("127.0.0.1:0", ServerOptions{Codec: c, AllowedOrigins: []string{uiOrigin}, BearerToken: token})
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
