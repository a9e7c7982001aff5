package apicalls

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func targetRequest(t *testing.T, ctx context.Context, target string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://aws.example/", nil)
	require.NoError(t, err)
	req.Header.Set("X-Amz-Target", target)
	return req
}

// TestPacerPacesEachServiceOnItsOwn: once sso-admin has used its burst, its
// next call must wait (here 100 s, longer than the context allows, so Wait
// refuses at once), while identitystore's first call goes through.
func TestPacerPacesEachServiceOnItsOwn(t *testing.T) {
	p := NewPacer(0.01) // one call, then one every 100 s
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, p.Wait(ctx, Operation(targetRequest(t, ctx, "SWBExternalService.ListAccountAssignments"))))
	require.Error(t, p.Wait(ctx, Operation(targetRequest(t, ctx, "SWBExternalService.ListAccountAssignments"))), "sso-admin has used its burst")
	require.NoError(t, p.Wait(ctx, Operation(targetRequest(t, ctx, "AWSIdentityStore.ListUsers"))), "identitystore has a burst of its own")
	require.Error(t, p.Wait(ctx, Operation(targetRequest(t, ctx, "AWSIdentityStore.ListUsers"))))
	require.Equal(t, []string{"identitystore", "sso-admin"}, p.services())
}

func TestNoPacerWhenTheRateIsNotPositive(t *testing.T) {
	for _, rps := range []float64{0, -1} {
		require.Nil(t, NewPacer(rps))
	}
	var p *Pacer
	done, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, p.Wait(done, Operation(targetRequest(t, done, "SWBExternalService.ListInstances"))), "a nil pacer never waits")
}

func TestServiceIsThePartBeforeTheColon(t *testing.T) {
	require.Equal(t, "sso-admin", Service("sso-admin:ListInstances"))
	require.Equal(t, "graph", Service("graph:POST /$batch"))
	require.Equal(t, "http", Service("http:GET /scim/v2/Users"))
}
