package samlmeta

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	testRegion      = "eu-west-1"
	testStoreID     = "d-1234567890"
	testACSTenantID = "0123456789abcdef-0123-4567-89ab-0123456789ab"
)

func generatedSPMetadata(t testing.TB) string {
	t.Helper()
	data, err := SPMetadata(testRegion, testStoreID, testACSTenantID)
	require.NoError(t, err)
	return string(data)
}

// requireMetadataError checks the error's kind, that its message names the
// problem, and that it tells the person what to do.
func requireMetadataError(t *testing.T, err error, kind error, problem, fix string) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, kind)
	require.ErrorContains(t, err, problem)
	var metaErr *Error
	require.True(t, errors.As(err, &metaErr), "error %v is not a *samlmeta.Error", err)
	require.NotEmpty(t, metaErr.Fix)
	require.ErrorContains(t, err, fix)
}

func TestParseSPMetadataRealSamples(t *testing.T) {
	t.Run("multi-Region instance, signin.aws endpoints", func(t *testing.T) {
		data, err := os.ReadFile("testdata/aws-sp-metadata-multi-region.xml")
		require.NoError(t, err)
		sp, err := ParseSPMetadata(data, "eu-west-1")
		require.NoError(t, err)
		tenant := "65752d776573742d312d3c4f-9a2e-4b71-8d05-e6f1a2b3c4d5"
		require.Equal(t, SP{
			EntityID: "https://eu-west-1.signin.aws.amazon.com/platform/saml/d-93670a1b2c",
			ACSURL:   "https://eu-west-1.signin.aws/platform/saml/acs/" + tenant,
			ACSURLs: []string{
				"https://eu-west-1.signin.aws/platform/saml/acs/" + tenant,
				"https://eu-west-1.sso.signin.aws/platform/saml/acs/" + tenant,
				"https://eu-central-1.signin.aws/platform/saml/acs/65752d63656e7472616c2d31-9a2e-4b71-8d05-e6f1a2b3c4d5",
				"https://eu-central-1.sso.signin.aws/platform/saml/acs/65752d63656e7472616c2d31-9a2e-4b71-8d05-e6f1a2b3c4d5",
			},
			Region:          "eu-west-1",
			IdentityStoreID: "d-93670a1b2c",
			ACSTenantID:     tenant,
		}, sp)
	})
	t.Run("older single-endpoint instance, signin.aws.amazon.com", func(t *testing.T) {
		data, err := os.ReadFile("testdata/aws-sp-metadata-legacy.xml")
		require.NoError(t, err)
		sp, err := ParseSPMetadata(data, "us-east-1")
		require.NoError(t, err)
		require.Equal(t, "https://us-east-1.signin.aws.amazon.com/platform/saml/acs/b7e2c4d1-6a3f-4e58-9b0c-1d2e3f4a5b6c", sp.ACSURL)
		require.Equal(t, []string{sp.ACSURL}, sp.ACSURLs)
		require.Equal(t, "d-9067c1e4a2", sp.IdentityStoreID)
		require.Equal(t, "b7e2c4d1-6a3f-4e58-9b0c-1d2e3f4a5b6c", sp.ACSTenantID)

		_, err = ParseSPMetadata(data, "eu-west-1")
		requireMetadataError(t, err, ErrRegion, "Region us-east-1", "Download the service provider metadata again")
	})
}

func TestSPMetadataRoundTrip(t *testing.T) {
	for _, storeID := range []string{"d-1234567890", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"} {
		for _, region := range []string{"eu-west-1", "ap-southeast-5"} {
			data, err := SPMetadata(region, storeID, testACSTenantID)
			require.NoError(t, err)
			sp, err := ParseSPMetadata(data, region)
			require.NoError(t, err, string(data))
			acs := "https://" + region + ".signin.aws.amazon.com/platform/saml/acs/" + testACSTenantID
			require.Equal(t, SP{
				EntityID: "https://" + region + ".signin.aws.amazon.com/platform/saml/" + storeID,
				ACSURL:   acs,
				ACSURLs: []string{
					acs,
					"https://" + region + ".signin.aws/platform/saml/acs/" + testACSTenantID,
					"https://" + region + ".sso.signin.aws/platform/saml/acs/" + testACSTenantID,
				},
				Region:          region,
				IdentityStoreID: storeID,
				ACSTenantID:     testACSTenantID,
			}, sp)
			require.NoError(t, sp.Validate(region))
		}
	}
}

// GovCloud (US) and China have sign-in hosts of their own (see
// internal/partition for what was checked against documentation): their
// metadata round-trips, and a URL on another partition's host is refused.
func TestSPMetadataOfOtherPartitions(t *testing.T) {
	for region, host := range map[string]string{"us-gov-west-1": "signin.amazonaws-us-gov.com", "cn-north-1": "signin.amazonaws.cn"} {
		data, err := SPMetadata(region, testStoreID, testACSTenantID)
		require.NoError(t, err)
		sp, err := ParseSPMetadata(data, region)
		require.NoError(t, err, string(data))
		require.Equal(t, "https://"+region+"."+host+"/platform/saml/"+testStoreID, sp.EntityID)
		require.Equal(t, []string{"https://" + region + "." + host + "/platform/saml/acs/" + testACSTenantID}, sp.ACSURLs)

		commercial := strings.ReplaceAll(string(data), host, "signin.aws.amazon.com")
		_, err = ParseSPMetadata([]byte(commercial), region)
		require.ErrorContains(t, err, "is on a sign-in host of the aws partition, but Region "+region+" is in the")
	}
	data, err := SPMetadata("eu-west-1", testStoreID, testACSTenantID)
	require.NoError(t, err)
	_, err = ParseSPMetadata([]byte(strings.ReplaceAll(string(data), "eu-west-1.signin.aws.amazon.com", "eu-west-1.signin.amazonaws.cn")), "eu-west-1")
	require.ErrorContains(t, err, "is on a sign-in host of the aws-cn partition")
}

func TestSPMetadataRefusesValuesItCannotParse(t *testing.T) {
	for name, args := range map[string][3]string{
		"region":            {"EU-WEST-1", testStoreID, testACSTenantID},
		"identity store ID": {testRegion, "d-12345", testACSTenantID},
		"ACS tenant ID":     {testRegion, testStoreID, `x"/><evil/>`},
		"empty tenant ID":   {testRegion, testStoreID, ""},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := SPMetadata(args[0], args[1], args[2])
			require.Error(t, err)
			require.ErrorContains(t, err, "cannot generate service provider metadata")
		})
	}
}

func TestParseSPMetadataDefaultACS(t *testing.T) {
	acs := func(region string) string {
		return "https://" + region + ".signin.aws.amazon.com/platform/saml/acs/" + testACSTenantID
	}
	doc := func(services string) []byte {
		return []byte(`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://eu-west-1.signin.aws.amazon.com/platform/saml/d-1234567890">` +
			`<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` + services + `</md:SPSSODescriptor></md:EntityDescriptor>`)
	}
	service := func(region, attrs string) string {
		return `<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="` + acs(region) + `" ` + attrs + `/>`
	}
	cases := []struct {
		name     string
		services string
		want     []string
	}{
		{"isDefault on a later endpoint wins",
			service("us-east-1", `index="0"`) + service("eu-west-1", `index="1" isDefault="true"`),
			[]string{acs("eu-west-1"), acs("us-east-1")}},
		{"first without isDefault=false",
			service("us-east-1", `index="0" isDefault="false"`) + service("eu-west-1", `index="1"`),
			[]string{acs("eu-west-1"), acs("us-east-1")}},
		{"all isDefault=false: the first",
			service("eu-west-1", `isDefault="0"`) + service("us-east-1", `isDefault="false"`),
			[]string{acs("eu-west-1"), acs("us-east-1")}},
		{"duplicates listed once, other bindings skipped",
			service("eu-west-1", ``) + service("eu-west-1", `index="3"`) +
				`<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:PAOS" Location="http://example.com/paos" index="4"/>`,
			[]string{acs("eu-west-1")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sp, err := ParseSPMetadata(doc(c.services), "eu-west-1")
			require.NoError(t, err)
			require.Equal(t, c.want, sp.ACSURLs)
			require.Equal(t, c.want[0], sp.ACSURL)
		})
	}

	_, err := ParseSPMetadata(doc(service("us-east-1", `isDefault="true"`)+service("eu-west-1", ``)), "eu-west-1")
	requireMetadataError(t, err, ErrRegion, "default assertion consumer service URL", "Download the service provider metadata again")
}

func TestParseSPMetadataRefusals(t *testing.T) {
	good := generatedSPMetadata(t)
	const fix = "Settings > Identity source"
	entityID := "https://eu-west-1.signin.aws.amazon.com/platform/saml/d-1234567890"
	firstACS := "https://eu-west-1.signin.aws.amazon.com/platform/saml/acs/" + testACSTenantID
	secondACS := "https://eu-west-1.signin.aws/platform/saml/acs/" + testACSTenantID
	replace := func(old, new string) string {
		require.Contains(t, good, old)
		return strings.Replace(good, old, new, 1)
	}
	idpDoc, err := IdPMetadata(testTenantID, newTestCertificate(t, testNow.AddDate(-1, 0, 0), testNow.AddDate(1, 0, 0)))
	require.NoError(t, err)

	cases := []struct {
		name    string
		doc     string
		region  string
		kind    error
		problem string
	}{
		{"larger than 64 KiB", good + "<!--" + strings.Repeat("x", MaxMetadataSize) + "-->", testRegion, ErrTooLarge, "at most 65536 bytes"},
		{"billion laughs", `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>` +
			strings.Replace(good, `<?xml version="1.0" encoding="UTF-8"?>`, "", 1), testRegion, ErrUnsafeXML, "DOCTYPE"},
		{"external entity", `<!DOCTYPE md:EntityDescriptor [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` +
			strings.Replace(replace(entityID, "&xxe;"), `<?xml version="1.0" encoding="UTF-8"?>`, "", 1), testRegion, ErrUnsafeXML, "DOCTYPE"},
		{"DOCTYPE after the root", good + `<!DOCTYPE x>`, testRegion, ErrUnsafeXML, "DOCTYPE"},
		{"empty", "  \n", testRegion, ErrMalformedXML, "is empty"},
		{"not XML", "IAM Identity Center issuer URL: " + entityID, testRegion, ErrMalformedXML, "text outside its root element"},
		{"truncated", good[:len(good)/2], testRegion, ErrMalformedXML, "not well-formed XML"},
		{"two root elements", good + good[strings.Index(good, "<md:EntityDescriptor"):], testRegion, ErrMalformedXML, "more than one root element"},
		{"stylesheet instruction", replace(`<md:EntityDescriptor `, `<?xml-stylesheet href="x.xsl"?><md:EntityDescriptor `), testRegion, ErrMalformedXML, "processing instruction"},
		{"non-UTF-8 encoding", replace(`encoding="UTF-8"`, `encoding="ISO-8859-1"`), testRegion, ErrMalformedXML, "not well-formed XML"},
		{"no metadata namespace", replace(`xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"`, `xmlns:md="urn:example"`), testRegion, ErrNotMetadata, "not a SAML 2.0 metadata <EntityDescriptor>"},
		{"EntitiesDescriptor root", `<EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata"/>`, testRegion, ErrNotMetadata, "<EntitiesDescriptor>"},
		{"the Entra metadata instead", string(idpDoc), testRegion, ErrWrongDocument, "Microsoft Entra federation metadata"},
		{"no SPSSODescriptor", `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="` + entityID + `"/>`, testRegion, ErrDescriptor, "has no SPSSODescriptor"},
		{"two SPSSODescriptors", replace(`</md:EntityDescriptor>`, `<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>`), testRegion, ErrDescriptor, "2 SPSSODescriptor elements"},
		{"an IDPSSODescriptor as well", replace(`</md:EntityDescriptor>`, `<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>`), testRegion, ErrWrongDocument, "also contains an IDPSSODescriptor"},
		{"not SAML 2.0", replace(`protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"`, `protocolSupportEnumeration="urn:oasis:names:tc:SAML:1.1:protocol"`), testRegion, ErrDescriptor, "does not include SAML 2.0"},
		{"entity ID over http", replace(entityID, strings.Replace(entityID, "https", "http", 1)), testRegion, ErrEntityID, "uses http"},
		{"entity ID not a URL", replace(entityID, "urn:amazon:webservices"), testRegion, ErrEntityID, "is not an https:// URL"},
		{"entity ID without Region", replace(entityID, "https://signin.aws.amazon.com/platform/saml/d-1234567890"), testRegion, ErrEntityID, "no AWS Region in its host name"},
		{"entity ID on another host", replace(entityID, "https://eu-west-1.signin.aws.example.com/platform/saml/d-1234567890"), testRegion, ErrEntityID, "not on an AWS sign-in host"},
		{"entity ID with a port", replace(entityID, "https://eu-west-1.signin.aws.amazon.com:8443/platform/saml/d-1234567890"), testRegion, ErrEntityID, "not on an AWS sign-in host"},
		{"entity ID host not a Region", replace(entityID, "https://portal.signin.aws.amazon.com/platform/saml/d-1234567890"), testRegion, ErrEntityID, "does not start with an AWS Region name"},
		{"entity ID with a bad identity store ID", replace(entityID, entityID[:len(entityID)-1]), testRegion, ErrEntityID, "expected /platform/saml/ followed by the ID"},
		{"entity ID with a query", replace(entityID, entityID+"?x=1"), testRegion, ErrEntityID, "expected /platform/saml/"},
		{"entity ID without path", replace(entityID, "https://eu-west-1.signin.aws.amazon.com"), testRegion, ErrEntityID, "has no path"},
		{"metadata from another Region", good, "us-east-1", ErrRegion, "in Region eu-west-1 (entity ID"},
		{"no HTTP-POST ACS", strings.ReplaceAll(good, "bindings:HTTP-POST", "bindings:HTTP-Artifact"), testRegion, ErrACS, "no AssertionConsumerService with the HTTP-POST binding"},
		{"default ACS over http", replace(firstACS, strings.Replace(firstACS, "https", "http", 1)), testRegion, ErrACS, "uses http"},
		{"default ACS path wrong", replace(firstACS, strings.Replace(firstACS, "/acs/", "/sso/", 1)), testRegion, ErrACS, "/platform/saml/acs/"},
		{"default ACS in another Region", replace(firstACS, strings.Replace(firstACS, "eu-west-1", "eu-north-1", 1)), testRegion, ErrRegion, "is in Region eu-north-1"},
		{"additional ACS not an AWS URL", replace(secondACS, "https://attacker.example/platform/saml/acs/x"), testRegion, ErrACS, "not on an AWS sign-in host"},
		{"two defaults", replace(`index="1"`, `index="1" isDefault="true"`), testRegion, ErrACS, "2 AssertionConsumerService elements are marked"},
		{"index not a number", replace(`index="1"`, `index="one"`), testRegion, ErrACS, "not a number"},
		{"isDefault not a boolean", replace(`isDefault="true"`, `isDefault="yes"`), testRegion, ErrACS, "not true or false"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseSPMetadata([]byte(c.doc), c.region)
			requireMetadataError(t, err, c.kind, c.problem, fix)
		})
	}

	t.Run("expected Region not a Region", func(t *testing.T) {
		_, err := ParseSPMetadata([]byte(good), "Ireland")
		requireMetadataError(t, err, ErrInvalidRequest, `"Ireland" is not an AWS Region name`, "cutover request")
	})
	t.Run("exactly 64 KiB is accepted", func(t *testing.T) {
		padded := good + strings.Repeat(" ", MaxMetadataSize-len(good))
		require.Len(t, padded, MaxMetadataSize)
		_, err := ParseSPMetadata([]byte(padded), testRegion)
		require.NoError(t, err)
	})
	t.Run("byte order mark and comments are accepted", func(t *testing.T) {
		_, err := ParseSPMetadata([]byte("\xef\xbb\xbf"+replace(`<md:EntityDescriptor `, `<!-- downloaded from the console --><md:EntityDescriptor `)+"<!-- end -->"), testRegion)
		require.NoError(t, err)
	})
	t.Run("error messages stay short", func(t *testing.T) {
		_, err := ParseSPMetadata([]byte(replace(entityID, "https://"+strings.Repeat("a", 5000))), testRegion)
		require.ErrorIs(t, err, ErrEntityID)
		require.Less(t, len(err.Error()), 1000)
	})
}

func TestSPValidateRefusesInconsistentFields(t *testing.T) {
	sp, err := ParseSPMetadata([]byte(generatedSPMetadata(t)), testRegion)
	require.NoError(t, err)
	require.NoError(t, sp.Validate(testRegion))

	cases := map[string]struct {
		change  func(*SP)
		kind    error
		problem string
	}{
		"identity store ID":    {func(sp *SP) { sp.IdentityStoreID = "d-0000000000" }, ErrEntityID, "do not match the entity ID"},
		"Region":               {func(sp *SP) { sp.Region = "us-east-1" }, ErrEntityID, "do not match the entity ID"},
		"ACS tenant ID":        {func(sp *SP) { sp.ACSTenantID = "other" }, ErrACS, "does not match the default ACS URL"},
		"default not first":    {func(sp *SP) { sp.ACSURLs = sp.ACSURLs[1:] }, ErrACS, "must be the first"},
		"no ACS URLs":          {func(sp *SP) { sp.ACSURLs = nil }, ErrACS, "must be the first"},
		"duplicate ACS URL":    {func(sp *SP) { sp.ACSURLs = append(sp.ACSURLs, sp.ACSURL) }, ErrACS, "listed twice"},
		"entity ID unparsable": {func(sp *SP) { sp.EntityID = "" }, ErrEntityID, "is not an https:// URL"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			changed := sp
			changed.ACSURLs = append([]string(nil), sp.ACSURLs...)
			c.change(&changed)
			requireMetadataError(t, changed.Validate(testRegion), c.kind, c.problem, "Download the service provider metadata again")
		})
	}
}

// A multi-Region instance's metadata lists, after the home Region's three
// forms, the IPv4 and dual-stack ACS of each additional Region; the default
// stays the home Region's.
func TestSPMetadataOfAMultiRegionInstance(t *testing.T) {
	data, err := SPMetadata("eu-west-1", "d-1234567890", testACSTenantID, "eu-central-1", "us-east-1")
	require.NoError(t, err)
	sp, err := ParseSPMetadata(data, "eu-west-1")
	require.NoError(t, err, string(data))
	acs := func(host string) string { return "https://" + host + "/platform/saml/acs/" + testACSTenantID }
	require.Equal(t, []string{
		acs("eu-west-1.signin.aws.amazon.com"), acs("eu-west-1.signin.aws"), acs("eu-west-1.sso.signin.aws"),
		acs("eu-central-1.signin.aws"), acs("eu-central-1.sso.signin.aws"),
		acs("us-east-1.signin.aws"), acs("us-east-1.sso.signin.aws"),
	}, sp.ACSURLs)
	require.Equal(t, acs("eu-west-1.signin.aws.amazon.com"), sp.ACSURL)
}
