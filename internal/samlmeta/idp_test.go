package samlmeta

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const (
	testTenantID   = "00000000-0000-0000-0000-000000000001"
	sampleTenantID = "3f6a1c2e-8b4d-4e7a-9c0f-2d5b8a6e1f34"
	idpFixText     = "Fetch the federation metadata again"
)

var testNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func newTestCertificate(t testing.TB, notBefore, notAfter time.Time) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	template := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "Microsoft Azure Federated SSO Certificate"},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return cert
}

func thumbprint(der []byte) string {
	sum := sha1.Sum(der)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

func TestParseIdPMetadataRealSample(t *testing.T) {
	data, err := os.ReadFile("testdata/entra-federation-metadata.xml")
	require.NoError(t, err)

	// Tenant IDs compare without regard to case.
	idp, err := ParseIdPMetadata(data, strings.ToUpper(sampleTenantID), testNow)
	require.NoError(t, err)
	require.Equal(t, "https://sts.windows.net/"+sampleTenantID+"/", idp.EntityID)
	require.Equal(t, sampleTenantID, idp.TenantID)
	require.Equal(t, "https://login.microsoftonline.com/"+sampleTenantID+"/saml2", idp.SingleSignOnURL)

	// A rollover: the expired certificate is still listed next to the new one.
	require.Len(t, idp.SigningCertificates, 2)
	expired, active := idp.SigningCertificates[0], idp.SigningCertificates[1]
	require.Equal(t, time.Date(2026, 2, 1, 9, 14, 0, 0, time.UTC), expired.NotAfter)
	require.False(t, expired.ValidAt(testNow))
	require.Equal(t, time.Date(2026, 1, 20, 10, 2, 0, 0, time.UTC), active.NotBefore)
	require.Equal(t, time.Date(2029, 1, 20, 10, 2, 0, 0, time.UTC), active.NotAfter)
	require.True(t, active.ValidAt(testNow))
	require.Equal(t, "CN=Microsoft Azure Federated SSO Certificate", active.Subject)
	require.Equal(t, thumbprint(active.DER), active.Thumbprint)
	require.Len(t, active.Thumbprint, 40)

	_, err = ParseIdPMetadata(data, sampleTenantID, time.Date(2029, 6, 1, 0, 0, 0, 0, time.UTC))
	requireMetadataError(t, err, ErrCertificate, "has expired (the latest on 2029-01-20T10:02:00Z)", "create a new certificate, make it active")

	_, err = ParseIdPMetadata(data, sampleTenantID, time.Date(2022, 6, 1, 0, 0, 0, 0, time.UTC))
	requireMetadataError(t, err, ErrCertificate, "is valid yet at 2022-06-01T00:00:00Z", "create a new certificate")

	_, err = ParseIdPMetadata(data, testTenantID, testNow)
	requireMetadataError(t, err, ErrEntityID, "is for Entra tenant "+sampleTenantID, idpFixText)
}

func TestIdPMetadataRoundTrip(t *testing.T) {
	cert := newTestCertificate(t, testNow.AddDate(0, -1, 0), testNow.AddDate(3, 0, 0))
	data, err := IdPMetadata(testTenantID, cert)
	require.NoError(t, err)

	again, err := IdPMetadata(strings.ToUpper(testTenantID), cert)
	require.NoError(t, err)
	require.Equal(t, string(data), string(again), "the generator must be deterministic")

	idp, err := ParseIdPMetadata(data, testTenantID, testNow)
	require.NoError(t, err)
	require.Equal(t, IdP{
		EntityID:        "https://sts.windows.net/" + testTenantID + "/",
		TenantID:        testTenantID,
		SingleSignOnURL: "https://login.microsoftonline.com/" + testTenantID + "/saml2",
		SigningCertificates: []Certificate{{
			DER:        cert.Raw,
			Thumbprint: thumbprint(cert.Raw),
			Subject:    "CN=Microsoft Azure Federated SSO Certificate",
			NotBefore:  cert.NotBefore.UTC(),
			NotAfter:   cert.NotAfter.UTC(),
		}},
	}, idp)
	require.NoError(t, idp.Validate(testTenantID, testNow))

	// The certificate appears in the WS-Fed RoleDescriptor too, as Entra
	// lists it; only the IDPSSODescriptor's counts.
	require.Equal(t, 2, strings.Count(string(data), base64.StdEncoding.EncodeToString(cert.Raw)))
}

func TestIdPMetadataRefusesBadArguments(t *testing.T) {
	cert := newTestCertificate(t, testNow, testNow.AddDate(1, 0, 0))
	_, err := IdPMetadata("contoso.onmicrosoft.com", cert)
	require.ErrorIs(t, err, ErrInvalidRequest)
	require.ErrorContains(t, err, "is not a GUID")
	_, err = IdPMetadata(testTenantID, nil)
	require.ErrorIs(t, err, ErrInvalidRequest)
	require.ErrorContains(t, err, "no signing certificate")
}

func TestParseIdPMetadataAcceptsRealVariations(t *testing.T) {
	cert := newTestCertificate(t, testNow.AddDate(-1, 0, 0), testNow.AddDate(1, 0, 0))
	good, err := IdPMetadata(testTenantID, cert)
	require.NoError(t, err)
	b64 := base64.StdEncoding.EncodeToString(cert.Raw)

	t.Run("certificate wrapped over lines", func(t *testing.T) {
		var wrapped strings.Builder
		for i := 0; i < len(b64); i += 64 {
			wrapped.WriteString("\n        " + b64[i:min(i+64, len(b64))])
		}
		doc := strings.ReplaceAll(string(good), b64, wrapped.String()+"\n")
		idp, err := ParseIdPMetadata([]byte(doc), testTenantID, testNow)
		require.NoError(t, err)
		require.Equal(t, cert.Raw, idp.SigningCertificates[0].DER)
	})
	t.Run("KeyDescriptor without use", func(t *testing.T) {
		doc := strings.ReplaceAll(string(good), `<KeyDescriptor use="signing">`, `<KeyDescriptor>`)
		_, err := ParseIdPMetadata([]byte(doc), testTenantID, testNow)
		require.NoError(t, err)
	})
	t.Run("POST binding only", func(t *testing.T) {
		doc := strings.Replace(string(good), `<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"`, `<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:SOAP"`, 1)
		idp, err := ParseIdPMetadata([]byte(doc), testTenantID, testNow)
		require.NoError(t, err)
		require.Equal(t, "https://login.microsoftonline.com/"+testTenantID+"/saml2", idp.SingleSignOnURL)
	})
	// A national cloud's metadata: its issuer and its login host throughout
	// (internal/partition says which of these rest on documentation).
	for issuer, login := range map[string]string{
		"https://login.microsoftonline.us/": "https://login.microsoftonline.us/",
		"https://sts.chinacloudapi.cn/":     "https://login.chinacloudapi.cn/",
	} {
		t.Run("the cloud of "+login, func(t *testing.T) {
			doc := strings.ReplaceAll(string(good), "https://sts.windows.net/", issuer)
			doc = strings.ReplaceAll(doc, "https://login.microsoftonline.com/", login)
			idp, err := ParseIdPMetadata([]byte(doc), testTenantID, testNow)
			require.NoError(t, err)
			require.Equal(t, login+testTenantID+"/saml2", idp.SingleSignOnURL)
		})
	}
}

func TestParseIdPMetadataRefusals(t *testing.T) {
	cert := newTestCertificate(t, testNow.AddDate(-1, 0, 0), testNow.AddDate(1, 0, 0))
	goodBytes, err := IdPMetadata(testTenantID, cert)
	require.NoError(t, err)
	good := string(goodBytes)
	b64 := base64.StdEncoding.EncodeToString(cert.Raw)
	otherTenant := "11111111-2222-3333-4444-555555555555"
	ssoPost := `<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://login.microsoftonline.com/` + testTenantID + `/saml2"/>`
	idpKeyDescriptor := good[strings.LastIndex(good, "<KeyDescriptor") : strings.LastIndex(good, "</KeyDescriptor>")+len("</KeyDescriptor>")]
	replace := func(old, new string) string {
		require.Contains(t, good, old)
		return strings.Replace(good, old, new, 1)
	}
	replaceInIdPSSO := func(old, new string) string {
		at := strings.Index(good, "<IDPSSODescriptor")
		require.Contains(t, good[at:], old)
		return good[:at] + strings.Replace(good[at:], old, new, 1)
	}
	spDoc, err := SPMetadata(testRegion, testStoreID, testACSTenantID)
	require.NoError(t, err)
	expiredCert := newTestCertificate(t, testNow.AddDate(-3, 0, 0), testNow.AddDate(0, 0, -1))
	expired, err := IdPMetadata(testTenantID, expiredCert)
	require.NoError(t, err)
	futureCert := newTestCertificate(t, testNow.AddDate(0, 0, 1), testNow.AddDate(3, 0, 0))
	future, err := IdPMetadata(testTenantID, futureCert)
	require.NoError(t, err)

	cases := []struct {
		name    string
		doc     string
		kind    error
		problem string
		fix     string
	}{
		{"larger than 64 KiB", good + "<!--" + strings.Repeat("x", MaxMetadataSize) + "-->", ErrTooLarge, "at most 65536 bytes", idpFixText},
		{"DOCTYPE", strings.Replace(good, `<?xml version="1.0" encoding="utf-8"?>`, `<?xml version="1.0" encoding="utf-8"?><!DOCTYPE EntityDescriptor [<!ENTITY a "b">]>`, 1), ErrUnsafeXML, "DOCTYPE", idpFixText},
		{"HTML error page", "<html><body>AADSTS700016: Application not found</body></html>", ErrNotMetadata, "<html>", idpFixText},
		{"the AWS metadata instead", string(spDoc), ErrWrongDocument, "AWS IAM Identity Center metadata", idpFixText},
		{"no IDPSSODescriptor", `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://sts.windows.net/` + testTenantID + `/"/>`, ErrDescriptor, "has no IDPSSODescriptor", idpFixText},
		{"two IDPSSODescriptors", replace(`</EntityDescriptor>`, `<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></EntityDescriptor>`), ErrDescriptor, "2 IDPSSODescriptor elements", idpFixText},
		{"an SPSSODescriptor as well", replace(`</EntityDescriptor>`, `<SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></EntityDescriptor>`), ErrWrongDocument, "also contains an SPSSODescriptor", idpFixText},
		{"not SAML 2.0", replace(`<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">`, `<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:1.1:protocol">`), ErrDescriptor, "does not include SAML 2.0", idpFixText},
		{"entity ID of another tenant", replace(`entityID="https://sts.windows.net/`+testTenantID, `entityID="https://sts.windows.net/`+otherTenant), ErrEntityID, "is for Entra tenant " + otherTenant, idpFixText},
		{"entity ID without trailing slash", replace(testTenantID+`/" xmlns`, testTenantID+`" xmlns`), ErrEntityID, "is not the SAML issuer of an Entra tenant", idpFixText},
		{"entity ID of another cloud than the sign-in URL", replace("https://sts.windows.net/", "https://login.microsoftonline.us/"), ErrSingleSignOn, "the login of the US Government cloud", idpFixText},
		{"entity ID over http", replace("https://sts.windows.net/", "http://sts.windows.net/"), ErrEntityID, "is not the SAML issuer of an Entra tenant", idpFixText},
		{"sign-in URL of another tenant", replace(ssoPost, strings.Replace(ssoPost, testTenantID, otherTenant, 1)), ErrSingleSignOn, "is for tenant " + otherTenant, idpFixText},
		{"sign-in URL over http", replace(ssoPost, strings.Replace(ssoPost, "https://", "http://", 1)), ErrSingleSignOn, "is not https://<Entra login host>/<tenant ID>/saml2", idpFixText},
		{"sign-in URL elsewhere", replace(ssoPost, strings.Replace(ssoPost, "/saml2", "/saml2/../evil", 1)), ErrSingleSignOn, "is not https://<Entra login host>/<tenant ID>/saml2", idpFixText},
		{"no sign-in service", strings.ReplaceAll(strings.ReplaceAll(good, "<SingleSignOnService", "<SingleLogoutService"), "</SingleSignOnService>", ""), ErrSingleSignOn, "has no SingleSignOnService", idpFixText},
		{"no signing certificate", replaceInIdPSSO(idpKeyDescriptor, ""), ErrCertificate, "has no signing certificate", "create a new certificate"},
		{"encryption certificate only", replaceInIdPSSO(`use="signing"`, `use="encryption"`), ErrCertificate, "has no signing certificate", "create a new certificate"},
		{"certificate not base64", replaceInIdPSSO(b64, "not*base64"), ErrCertificate, "is not valid base64", idpFixText},
		{"certificate not X.509", replaceInIdPSSO(b64, base64.StdEncoding.EncodeToString([]byte("-----BEGIN CERTIFICATE-----"))), ErrCertificate, "is not an X.509 certificate", idpFixText},
		{"certificate expired", string(expired), ErrCertificate, "every signing certificate in the Microsoft Entra federation metadata has expired", "make it active"},
		{"certificate not valid yet", string(future), ErrCertificate, "is valid yet", "make it active"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseIdPMetadata([]byte(c.doc), testTenantID, testNow)
			requireMetadataError(t, err, c.kind, c.problem, c.fix)
		})
	}

	t.Run("tenant ID not a GUID", func(t *testing.T) {
		_, err := ParseIdPMetadata([]byte(good), "contoso.onmicrosoft.com", testNow)
		requireMetadataError(t, err, ErrInvalidRequest, "is not a GUID", "entraTenantId")
	})
	t.Run("time not set", func(t *testing.T) {
		_, err := ParseIdPMetadata([]byte(good), testTenantID, time.Time{})
		require.ErrorIs(t, err, ErrInvalidRequest)
		require.ErrorContains(t, err, "time to check certificates at is not set")
	})
}

func TestIdPValidateRefusesInconsistentFields(t *testing.T) {
	cert := newTestCertificate(t, testNow.AddDate(-1, 0, 0), testNow.AddDate(1, 0, 0))
	data, err := IdPMetadata(testTenantID, cert)
	require.NoError(t, err)
	idp, err := ParseIdPMetadata(data, testTenantID, testNow)
	require.NoError(t, err)

	cases := map[string]struct {
		change  func(*IdP)
		kind    error
		problem string
	}{
		"tenant ID":           {func(idp *IdP) { idp.TenantID = "11111111-2222-3333-4444-555555555555" }, ErrEntityID, "does not match the entity ID"},
		"sign-in URL":         {func(idp *IdP) { idp.SingleSignOnURL = "https://login.microsoftonline.com/common/saml2" }, ErrSingleSignOn, "single sign-on URL"},
		"no certificates":     {func(idp *IdP) { idp.SigningCertificates = nil }, ErrCertificate, "no signing certificate"},
		"thumbprint":          {func(idp *IdP) { idp.SigningCertificates[0].Thumbprint = strings.Repeat("0", 40) }, ErrCertificate, "do not match the certificate itself"},
		"expiry":              {func(idp *IdP) { idp.SigningCertificates[0].NotAfter = testNow.AddDate(50, 0, 0) }, ErrCertificate, "do not match the certificate itself"},
		"certificate garbage": {func(idp *IdP) { idp.SigningCertificates[0].DER = []byte("x") }, ErrCertificate, "is not an X.509 certificate"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			changed := idp
			changed.SigningCertificates = append([]Certificate(nil), idp.SigningCertificates...)
			c.change(&changed)
			err := changed.Validate(testTenantID, testNow)
			require.ErrorIs(t, err, c.kind)
			require.ErrorContains(t, err, c.problem)
		})
	}
}
