package sandbox_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/samlmeta/samlmetatest"
	"github.com/platformguide/ssocutover/sandbox"
)

// An applied-then-lost fault carries the request out and answers a server
// error: the user is created, the client is told it failed, and its retry
// meets the user (carried out as a 409, whose answer is lost too), as a
// lost answer does to AWS's SCIM endpoint.
func TestAnAppliedThenLostRequestIsCarriedOut(t *testing.T) {
	c := startConsoleSandbox(t, sandbox.Options{Faults: sandbox.Faults{AppliedThenLostRate: 1, Seed: 7}})
	sb := c.sb
	_, err := sb.SwitchIdentitySourceToExternal()
	require.NoError(t, err)
	require.NoError(t, sb.UploadIdPMetadata(samlmetatest.EntraMetadata(t, consoleTestTenant)))
	creds, err := sb.EnableAutomaticProvisioning()
	require.NoError(t, err)

	code, _ := scimRequest(t, creds.Token, http.MethodPost, sb.SCIMEndpoint()+"/Users", scimUserBody("lost"))
	require.Equal(t, http.StatusInternalServerError, code, "the answer is lost")
	code, _ = scimRequest(t, creds.Token, http.MethodPost, sb.SCIMEndpoint()+"/Users", scimUserBody("lost"))
	require.Equal(t, http.StatusInternalServerError, code, "every answer is lost at this rate")
	users := 0
	for _, u := range sb.IdentityStoreSnapshot().Users {
		if u.UserName == "lost@corp.example" {
			users++
		}
	}
	require.Equal(t, 1, users, "carried out once; the retry met the user")
	counts := sb.FaultCounts()
	require.EqualValues(t, 2, counts.AppliedThenLost)
	require.EqualValues(t, 2, counts.Requests)
}
