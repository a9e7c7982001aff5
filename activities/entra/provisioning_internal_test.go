package entra

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/platformguide/ssocutover/internal/secretstore"
)

func TestWithoutSecretRewritesAnErrorThatCarriesTheSecret(t *testing.T) {
	const token = "scim-token-value-0123456789"
	plain := errors.New("PUT secrets: the server said " + token + " is wrong")
	require.Equal(t, "PUT secrets: the server said [the SCIM token] is wrong", withoutSecret(plain, secretstore.NewValue(token)).Error())

	final := temporal.NewNonRetryableApplicationError("refused "+token, ErrSCIMCredentialsRejected, plain)
	rewritten := withoutSecret(final, secretstore.NewValue(token))
	require.NotContains(t, rewritten.Error(), token)
	var app *temporal.ApplicationError
	require.True(t, errors.As(rewritten, &app))
	require.True(t, app.NonRetryable())
	require.Equal(t, ErrSCIMCredentialsRejected, app.Type())
	require.Nil(t, errors.Unwrap(rewritten), "the cause, which carries the token, is dropped")

	clean := errors.New("nothing secret here")
	require.Same(t, clean, withoutSecret(clean, secretstore.NewValue(token)))
	require.NoError(t, withoutSecret(nil, secretstore.NewValue(token)))
}

// A credential test that met the endpoint's 429 or 5xx is not a refused
// token: the message Entra writes quotes the response it got.
func TestAnUnavailableEndpointInACredentialTestIsNoRefusal(t *testing.T) {
	for _, m := range []string{
		"While attempting to validate our authorization to access your application, we received this unexpected response: GET /Users: 429 Too Many Requests: Rate exceeded.",
		"we received this unexpected response: GET /Users: 500 Internal Server Error",
		"GET /Users: 503 Service Unavailable",
		"The remote server returned: Too Many Requests",
	} {
		require.True(t, endpointUnavailable(m), m)
	}
	for _, m := range []string{
		"we received this unexpected response: GET /Users: 401 Unauthorized",
		"the token 4290 is not valid",
		"GET /Users: 404 Not Found",
	} {
		require.False(t, endpointUnavailable(m), m)
	}
}
