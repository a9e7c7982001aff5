package samlmeta

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The fuzz targets check two properties of the parsers, whatever the input:
// they never panic, and every error is a *samlmeta.Error with a problem
// statement (so the person always gets a clear message); when parsing
// succeeds, the result passes Validate again and has the expected shape.
// The seed corpus is in testdata/fuzz/<target>/ and the f.Add calls below.
//
//	go test -run '^$' -fuzz FuzzParseSPMetadata -fuzztime 60s ./internal/samlmeta/
//	go test -run '^$' -fuzz FuzzParseIdPMetadata -fuzztime 60s ./internal/samlmeta/

func requireMetadataErrorShape(t *testing.T, err error) {
	t.Helper()
	var metaErr *Error
	require.True(t, errors.As(err, &metaErr), "error %v is not a *samlmeta.Error", err)
	require.NotEmpty(t, metaErr.Problem)
	require.NotNil(t, metaErr.Kind)
	require.Less(t, len(err.Error()), 2000, "error messages must stay short")
}

func FuzzParseSPMetadata(f *testing.F) {
	generated, err := SPMetadata("eu-west-1", "d-1234567890", "0123456789abcdef-0123-4567-89ab-0123456789ab")
	require.NoError(f, err)
	f.Add(generated, "eu-west-1")
	for _, sample := range []struct{ file, region string }{
		{"testdata/aws-sp-metadata-multi-region.xml", "eu-west-1"},
		{"testdata/aws-sp-metadata-legacy.xml", "us-east-1"},
		{"testdata/entra-federation-metadata.xml", "eu-west-1"},
	} {
		data, err := os.ReadFile(sample.file)
		require.NoError(f, err)
		f.Add(data, sample.region)
	}
	f.Add([]byte(`<!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>`), "eu-west-1")
	f.Add([]byte(`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://us-east-1.sso.signin.aws/platform/saml/d-0000000000">`+
		`<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">`+
		`<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://us-east-1.signin.aws/platform/saml/acs/a" isDefault="false"/>`+
		`</md:SPSSODescriptor></md:EntityDescriptor>`), "us-east-1")

	f.Fuzz(func(t *testing.T, data []byte, region string) {
		sp, err := ParseSPMetadata(data, region)
		if err != nil {
			requireMetadataErrorShape(t, err)
			return
		}
		require.NoError(t, sp.Validate(region), "a parsed SP must validate again")
		require.Equal(t, region, sp.Region)
		require.NotEmpty(t, sp.ACSURLs)
		require.Equal(t, sp.ACSURL, sp.ACSURLs[0])
		require.LessOrEqual(t, len(data), MaxMetadataSize)
	})
}

func FuzzParseIdPMetadata(f *testing.F) {
	// Fixed tenant and time, so every run checks the same thing; the
	// certificate in the corpus files is valid from 2026-01-20 to 2029-01-20.
	const tenant = "3f6a1c2e-8b4d-4e7a-9c0f-2d5b8a6e1f34"
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

	sample, err := os.ReadFile("testdata/entra-federation-metadata.xml")
	require.NoError(f, err)
	f.Add(sample)
	cert := newTestCertificate(f, now.AddDate(-1, 0, 0), now.AddDate(1, 0, 0))
	generated, err := IdPMetadata(tenant, cert)
	require.NoError(f, err)
	f.Add(generated)
	spDoc, err := os.ReadFile("testdata/aws-sp-metadata-legacy.xml")
	require.NoError(f, err)
	f.Add(spDoc)
	f.Add([]byte(`<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata">&lol;</EntityDescriptor>`))

	f.Fuzz(func(t *testing.T, data []byte) {
		idp, err := ParseIdPMetadata(data, tenant, now)
		if err != nil {
			requireMetadataErrorShape(t, err)
			return
		}
		require.NoError(t, idp.Validate(tenant, now), "a parsed IdP must validate again")
		require.Equal(t, tenant, idp.TenantID)
		valid := false
		for _, c := range idp.SigningCertificates {
			valid = valid || c.ValidAt(now)
		}
		require.True(t, valid, "a parsed IdP has a certificate valid now")
	})
}
