package graphclient_test

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/internal/graphclient"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/world"
)

const (
	token  = "sandbox-token"
	secret = "do-not-print-this-secret"
)

func smallWorld() *world.World {
	return &world.World{
		AWS: world.AWS{Region: "eu-west-1", IdentityStoreID: "d-1234567890", InstanceARN: "arn:aws:sso:::instance/ssoins-1234567890abcdef"},
		Entra: world.Entra{
			TenantID: "00000000-0000-0000-0000-000000000001",
			Users: []world.EntraUser{
				{UserPrincipalName: "alice@corp.example", Mail: "alice@corp.example", GivenName: "Alice", Surname: "Ng", DisplayName: "Alice Ng"},
			},
			Groups: []world.EntraGroup{{DisplayName: "aws-admins", SecurityEnabled: true, Members: []string{"alice@corp.example"}}},
		},
	}
}

func TestClientCallsTheBaseURLAndCountsEachCall(t *testing.T) {
	sb, err := sandbox.Start(smallWorld(), sandbox.Options{})
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	client, err := graphclient.New(graphclient.Config{BaseURL: sb.GraphURL + "/", StaticToken: token})
	require.NoError(t, err)
	require.Equal(t, sb.GraphURL+"/v1.0", client.Adapter.GetBaseUrl())

	calls := apicalls.NewCounter()
	ctx := apicalls.WithCounter(context.Background(), calls)
	page, err := client.Client.Groups().Get(ctx, nil)
	require.NoError(t, err)
	require.Len(t, page.GetValue(), 1)
	_, err = client.Client.Users().Get(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, []apicalls.OperationCount{
		{Operation: "graph:GET /groups", Calls: 1},
		{Operation: "graph:GET /users", Calls: 1},
	}, calls.Counts())
}

// recorder is a Graph stand-in that answers every request with the next
// status of a script (200 with an empty collection after it), recording
// what it received.
type recorder struct {
	mu       sync.Mutex
	script   []int
	requests []*http.Request
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.mu.Lock()
	rec.requests = append(rec.requests, r.Clone(context.Background()))
	status := http.StatusOK
	if len(rec.script) > 0 {
		status, rec.script = rec.script[0], rec.script[1:]
	}
	rec.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"error":{"code":"TooManyRequests","message":"Too many requests."}}`))
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"value":[]}`))
}

func (rec *recorder) received() []*http.Request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]*http.Request(nil), rec.requests...)
}

func TestRetryHandlerOutlastsMoreThanTheSDKDefaultOfThreeRetries(t *testing.T) {
	// Six 429s in a row: the SDK's default handler gives up after three.
	rec := &recorder{script: []int{429, 429, 429, 429, 429, 429}}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	client, err := graphclient.New(graphclient.Config{BaseURL: srv.URL, StaticToken: token, RequestsPerSecond: -1})
	require.NoError(t, err)

	calls := apicalls.NewCounter()
	_, err = client.Client.Users().Get(apicalls.WithCounter(context.Background(), calls), nil)
	require.NoError(t, err)
	require.Equal(t, 7, calls.Total(), "every attempt is counted")
	require.Len(t, rec.received(), 7)
}

func TestThrottledBatchIsResentIntact(t *testing.T) {
	// Each attempt of the $batch must carry the whole batch, readable as
	// it is labelled (kiota's request compression breaks this on retries).
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				bodies = append(bodies, "unreadable: "+err.Error())
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			body = zr
		}
		data, _ := io.ReadAll(body)
		bodies = append(bodies, string(data))
		if len(bodies) == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"responses":[]}`))
	}))
	t.Cleanup(srv.Close)
	client, err := graphclient.New(graphclient.Config{BaseURL: srv.URL, StaticToken: token, RequestsPerSecond: -1})
	require.NoError(t, err)

	batch := msgraphcore.NewBatchRequest(client.Adapter)
	info, err := client.Client.Users().ToGetRequestInformation(context.Background(), nil)
	require.NoError(t, err)
	_, err = batch.AddBatchRequestStep(*info)
	require.NoError(t, err)
	_, err = batch.Send(context.Background(), client.Adapter)
	require.NoError(t, err)

	require.Len(t, bodies, 2)
	require.Contains(t, bodies[0], `"url":"/users"`)
	require.Equal(t, bodies[0], bodies[1])
}

func TestStaticTokenGoesOnlyToTheBaseURLHost(t *testing.T) {
	base := &recorder{}
	baseSrv := httptest.NewServer(base)
	t.Cleanup(baseSrv.Close)
	other := &recorder{}
	otherSrv := httptest.NewServer(other)
	t.Cleanup(otherSrv.Close)

	client, err := graphclient.New(graphclient.Config{BaseURL: baseSrv.URL, StaticToken: token})
	require.NoError(t, err)
	ctx := context.Background()
	_, err = client.Client.Users().Get(ctx, nil)
	require.NoError(t, err)
	// A nextLink that points elsewhere must not carry the token there.
	_, err = client.Client.Users().WithUrl(otherSrv.URL+"/v1.0/users?$skiptoken=x").Get(ctx, nil)
	require.NoError(t, err)

	require.Len(t, base.received(), 1)
	require.Equal(t, "Bearer "+token, base.received()[0].Header.Get("Authorization"))
	require.Len(t, other.received(), 1)
	require.Empty(t, other.received()[0].Header.Get("Authorization"))
}

func TestRequestsArePaced(t *testing.T) {
	var served atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"value":[]}`))
	}))
	t.Cleanup(srv.Close)
	// 4 a second with a burst of 4: the 9th call waits about a second.
	client, err := graphclient.New(graphclient.Config{BaseURL: srv.URL, StaticToken: token, RequestsPerSecond: 4})
	require.NoError(t, err)
	start := time.Now()
	for range 9 {
		_, err := client.Client.Users().Get(context.Background(), nil)
		require.NoError(t, err)
	}
	require.GreaterOrEqual(t, time.Since(start), 1200*time.Millisecond)
	require.Equal(t, int32(9), served.Load())
}

func TestConfigErrorsSayWhatToFix(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  graphclient.Config
		want string
	}{
		{"version in the base URL", graphclient.Config{BaseURL: "https://graph.microsoft.com/v1.0", StaticToken: token}, "leave out the version"},
		{"not a URL", graphclient.Config{BaseURL: "graph.microsoft.com", StaticToken: token}, "want the service root"},
		{"real sign-in over http", graphclient.Config{BaseURL: "http://graph.example", TenantID: "t", ClientID: "c", ClientSecret: secret}, "only over https"},
		{"secret without tenant", graphclient.Config{ClientID: "c", ClientSecret: secret}, "AZURE_TENANT_ID"},
		{"real sign-in to a host of no Entra cloud", graphclient.Config{BaseURL: "https://graph.example.com", TenantID: "t", ClientID: "c", ClientSecret: secret},
			"needs the Graph host of an Entra cloud (graph.microsoft.com, graph.microsoft.us, dod-graph.microsoft.us, microsoftgraph.chinacloudapi.cn)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := graphclient.New(tc.cfg)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			require.NotContains(t, err.Error(), secret)
		})
	}

	client, err := graphclient.New(graphclient.Config{TenantID: "00000000-0000-0000-0000-000000000001", ClientID: "c", ClientSecret: secret})
	require.NoError(t, err, "client credentials build a client without calling anything")
	require.Equal(t, graphclient.DefaultBaseURL+"/v1.0", client.Adapter.GetBaseUrl())

	// A national cloud's Graph (its sign-in is at its own Entra endpoint).
	client, err = graphclient.New(graphclient.Config{BaseURL: "https://graph.microsoft.us", TenantID: "00000000-0000-0000-0000-000000000001", ClientID: "c", ClientSecret: secret})
	require.NoError(t, err)
	require.Equal(t, "https://graph.microsoft.us/v1.0", client.Adapter.GetBaseUrl())
}
