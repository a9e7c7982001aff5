package codec

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSealedDocumentsOpenUnderTheirNameOnly(t *testing.T) {
	old, current := testKeyLine(t), testKeyLine(t)
	before := testCodec(t, old)
	after := testCodec(t, current, old)
	plain := []byte(`{"users":[{"userName":"alice@corp.example"}]}`)

	sealed, err := before.Seal(plain, "aws-inventory-abc")
	require.NoError(t, err)
	require.True(t, IsSealed(sealed))
	require.False(t, bytes.Contains(sealed, []byte("alice")), "no plaintext in a sealed document")
	again, err := before.Seal(plain, "aws-inventory-abc")
	require.NoError(t, err)
	require.NotEqual(t, sealed, again, "a fresh nonce each time")

	// A rotated keyring opens what the old key sealed, and seals with the new.
	opened, err := after.Open(sealed, "aws-inventory-abc")
	require.NoError(t, err)
	require.Equal(t, plain, opened)
	resealed, err := after.Seal(plain, "x")
	require.NoError(t, err)
	require.Contains(t, string(resealed[:80]), after.CurrentKeyID())

	// Under another name, altered, truncated, or without its key: refused,
	// with ErrDecrypt, and no plaintext in the error.
	_, err = after.Open(sealed, "aws-inventory-def")
	require.ErrorIs(t, err, ErrDecrypt)
	require.ErrorContains(t, err, "renamed")
	altered := bytes.Clone(sealed)
	altered[len(altered)-1] ^= 1
	_, err = after.Open(altered, "aws-inventory-abc")
	require.ErrorIs(t, err, ErrDecrypt)
	_, err = after.Open(sealed[:len(sealedHeader)+5], "aws-inventory-abc")
	require.ErrorIs(t, err, ErrDecrypt)
	_, err = testCodec(t, current).Open(sealed, "aws-inventory-abc")
	require.ErrorContains(t, err, "not among the keys loaded")
	_, err = after.Open(plain, "aws-inventory-abc")
	require.ErrorContains(t, err, "not a sealed document")
	require.NotContains(t, err.Error(), "alice")
}
