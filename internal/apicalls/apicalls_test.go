package apicalls

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTransportCountsPerContextAndOperation(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	client := &http.Client{Transport: &Transport{}}

	counter := NewCounter()
	ctx := WithCounter(context.Background(), counter)
	do := func(ctx context.Context, method, path, target, body string) {
		req, err := http.NewRequestWithContext(ctx, method, srv.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		if target != "" {
			req.Header.Set("X-Amz-Target", target)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
	}
	do(ctx, "POST", "/", "AWSIdentityStore.ListUsers", "")
	do(ctx, "POST", "/", "AWSIdentityStore.ListUsers", "")
	do(ctx, "POST", "/", "SWBExternalService.ListInstances", "")
	// Without the SDK's context a Query protocol request is plain HTTP: the
	// transport does not read bodies (sdk_test.go shows the SDK's IAM calls
	// named).
	do(ctx, "POST", "/", "", "Action=CreateUser&Version=2010-05-08")
	do(ctx, "GET", "/v1.0/groups/6f1c2e9a-0000-4000-8000-000000000001/members", "", "")
	do(ctx, "GET", "/v1.0/groups/6f1c2e9a-0000-4000-8000-000000000002/members", "", "")
	do(context.Background(), "GET", "/v1.0/users", "", "") // not counted: no counter

	require.Equal(t, []OperationCount{
		{Operation: "graph:GET /groups/{id}/members", Calls: 2},
		{Operation: "http:POST /", Calls: 1},
		{Operation: "identitystore:ListUsers", Calls: 2},
		{Operation: "sso-admin:ListInstances", Calls: 1},
	}, counter.Counts())
	require.Equal(t, 6, counter.Total())
}
