package sandbox_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/sandbox"
)

// A year passes in a test: the console's tokens expire by the moved clock,
// and the SCIM endpoint refuses them from then on.
func TestAdvanceClockExpiresSCIMTokens(t *testing.T) {
	c := startConsoleSandbox(t, sandbox.Options{})
	sb, ctx := c.sb, context.Background()
	client := sandbox.NewConsoleClient(sb.AWSURL, nil)
	switchToEntra(t, sb)
	creds, err := client.EnableAutomaticProvisioning(ctx)
	require.NoError(t, err)
	users := creds.SCIMEndpoint + "/Users?count=1"
	status, _ := scimRequest(t, creds.Token, http.MethodGet, users, nil)
	require.Equal(t, http.StatusOK, status)

	// A day before expiry the token still works.
	expires := creds.ExpiresAt
	now, err := client.AdvanceClock(ctx, expires.Sub(sb.Now())-24*time.Hour)
	require.NoError(t, err)
	require.WithinDuration(t, expires.Add(-24*time.Hour), now, time.Minute)
	require.WithinDuration(t, now, sb.Now(), time.Minute)
	status, _ = scimRequest(t, creds.Token, http.MethodGet, users, nil)
	require.Equal(t, http.StatusOK, status)

	// Two days later it has expired; a token made now is valid for a year
	// from the moved clock.
	now = sb.AdvanceClock(48 * time.Hour)
	require.True(t, now.After(expires))
	status, body := scimRequest(t, creds.Token, http.MethodGet, users, nil)
	require.Equal(t, http.StatusUnauthorized, status, string(body))
	fresh, err := client.CreateSCIMToken(ctx)
	require.NoError(t, err)
	require.WithinDuration(t, now.AddDate(1, 0, 0), fresh.ExpiresAt, time.Minute)
	status, _ = scimRequest(t, fresh.Token, http.MethodGet, users, nil)
	require.Equal(t, http.StatusOK, status)
	tokens, err := client.ListSCIMTokens(ctx)
	require.NoError(t, err)
	require.Len(t, tokens, 2, "the expired token counts until it is deleted")
	require.WithinDuration(t, now, tokens[1].CreatedAt, time.Minute)

	// The control API moves the clock forward only.
	_, err = client.AdvanceClock(ctx, -time.Hour)
	var apiErr *sandbox.ConsoleAPIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusBadRequest, apiErr.Status)
	require.True(t, strings.Contains(apiErr.Message, "forward"), apiErr.Message)
	require.WithinDuration(t, now, sb.Now(), time.Minute, "a refused move moves nothing")
}
