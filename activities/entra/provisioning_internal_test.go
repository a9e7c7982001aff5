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
