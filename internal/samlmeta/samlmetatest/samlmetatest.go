// Package samlmetatest makes the Entra federation metadata that tests
// upload to the sandbox's console.
package samlmetatest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/samlmeta"
)

// EntraMetadata is federation metadata of the tenant, as Entra serves it,
// with a self-signed certificate valid from an hour ago for a year.
func EntraMetadata(t testing.TB, tenantID string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	template := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "Microsoft Azure Federated SSO Certificate"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(1, 0, 0),
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	metadata, err := samlmeta.IdPMetadata(tenantID, cert)
	require.NoError(t, err)
	return metadata
}
