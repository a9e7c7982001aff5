// Package activitytest holds what the tests share: whether an activity's
// error is one Temporal retries, a payload codec with a fresh key, and a
// buffer safe for concurrent output.
package activitytest

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/platformguide/ssocutover/internal/codec"
)

// RequireNonRetryable checks that err is a non-retryable application error
// of type errType whose message mentions each of mentions.
func RequireNonRetryable(t testing.TB, err error, errType string, mentions ...string) {
	t.Helper()
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "want an application error, got %v", err)
	require.True(t, appErr.NonRetryable(), "retrying cannot fix %v", err)
	require.Equal(t, errType, appErr.Type())
	for _, m := range mentions {
		require.Contains(t, err.Error(), m)
	}
}

// RequireRetryable checks that err is an error Temporal retries (a plain
// error, or a retryable application error) mentioning each of mentions.
func RequireRetryable(t testing.TB, err error, mentions ...string) {
	t.Helper()
	require.Error(t, err)
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		require.False(t, appErr.NonRetryable(), "a retry may succeed: %v", err)
	}
	for _, m := range mentions {
		require.Contains(t, err.Error(), m)
	}
}

// NewCodec is a payload codec with one fresh random key, for tests that
// seal or encrypt and need no particular key.
func NewCodec(t testing.TB) *codec.Codec {
	t.Helper()
	line, err := codec.NewKeyLine(time.Now())
	require.NoError(t, err)
	keys, err := codec.ParseKeys(line, "test")
	require.NoError(t, err)
	return codec.New(keys)
}
