package entra_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/serviceprincipals"
	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/activities/entra"
	"github.com/platformguide/ssocutover/internal/activitytest"
	"github.com/platformguide/ssocutover/internal/model"
	"github.com/platformguide/ssocutover/internal/samlmeta"
	"github.com/platformguide/ssocutover/sandbox"
)

const (
	entityID = "https://eu-west-1.signin.aws.amazon.com/platform/saml/d-1234567890"
	acsURL   = "https://eu-west-1.signin.aws.amazon.com/platform/saml/acs/0123abcd-4567-89ab-cdef-0123456789ab"
)

// ensureApp makes the app and returns it.
func ensureApp(t *testing.T, f *appFixture) model.EnterpriseApp {
	t.Helper()
	var res entra.EnsureEnterpriseAppResult
	require.NoError(t, execute(t, f.acts, entra.EnsureEnterpriseAppName, ensureInput(), &res))
	return res.App
}

func samlInput(app model.EnterpriseApp) entra.ConfigureSAMLInput {
	return entra.ConfigureSAMLInput{App: app, EntityID: entityID, ACSURL: acsURL}
}

// addCertificate adds a signing certificate lasting d to the app's service
// principal, as a person could in the portal, and returns its thumbprint.
func addCertificate(t *testing.T, f *appFixture, app model.EnterpriseApp, d time.Duration) string {
	t.Helper()
	body := serviceprincipals.NewItemAddTokenSigningCertificatePostRequestBody()
	body.SetDisplayName(ptr("CN=earlier"))
	body.SetEndDateTime(ptr(time.Now().Add(d)))
	cert, err := f.acts.Graph.Client.ServicePrincipals().ByServicePrincipalId(app.ServicePrincipalID).AddTokenSigningCertificate().Post(context.Background(), body, nil)
	require.NoError(t, err)
	return *cert.GetThumbprint()
}

func TestConfigureSAMLTwiceChangesNothingTheSecondTime(t *testing.T) {
	f := newAppFixture(t, nil, sandbox.NoInstantiateDelay, time.Second)
	app := ensureApp(t, f)

	var first entra.ConfigureSAMLResult
	require.NoError(t, execute(t, f.acts, entra.ConfigureSAMLName, samlInput(app), &first))
	require.Len(t, first.CertificateThumbprint, 40)
	require.WithinDuration(t, time.Now().Add(3*365*24*time.Hour), first.CertificateExpires, time.Minute)
	got := requireOneApp(t, f, app)
	require.Equal(t, []string{entityID}, got.IdentifierURIs)
	require.Equal(t, []string{acsURL}, got.RedirectURIs)
	require.Equal(t, "saml", got.PreferredSingleSignOnMode)
	require.Equal(t, first.CertificateThumbprint, got.SigningCertificateThumbprint)
	require.Equal(t, []string{first.CertificateThumbprint}, got.CertificateThumbprints)

	var second entra.ConfigureSAMLResult
	require.NoError(t, execute(t, f.acts, entra.ConfigureSAMLName, samlInput(app), &second))
	require.Equal(t, first.CertificateThumbprint, second.CertificateThumbprint)
	require.Equal(t, first.CertificateExpires, second.CertificateExpires)
	for _, c := range second.APICalls {
		require.Equal(t, "GET", c.Operation[len("graph:"):len("graph:GET")], "the second run only reads: %v", second.APICalls)
	}
	require.Equal(t, []string{first.CertificateThumbprint}, requireOneApp(t, f, app).CertificateThumbprints)
}

func TestConfigureSAMLWhoseCertificateAnswerWasLostAddsOneCertificate(t *testing.T) {
	f := newAppFixture(t, nil, sandbox.NoInstantiateDelay, time.Second)
	app := ensureApp(t, f)
	f.proxy.loseAnswer("/addTokenSigningCertificate", 1, http.StatusServiceUnavailable)

	var res entra.ConfigureSAMLResult
	err := execute(t, f.acts, entra.ConfigureSAMLName, samlInput(app), &res)
	require.Error(t, err)
	activitytest.RequireRetryable(t, err)
	require.Len(t, requireOneApp(t, f, app).CertificateThumbprints, 1, "the SDK did not resend the POST")

	require.NoError(t, execute(t, f.acts, entra.ConfigureSAMLName, samlInput(app), &res))
	got := requireOneApp(t, f, app)
	require.Equal(t, []string{res.CertificateThumbprint}, got.CertificateThumbprints, "the retry used the certificate the lost answer made")
	require.Equal(t, res.CertificateThumbprint, got.SigningCertificateThumbprint)
}

func TestConfigureSAMLKeepsAValidCertificateAndReplacesAnExpiringOne(t *testing.T) {
	f := newAppFixture(t, nil, sandbox.NoInstantiateDelay, time.Second)
	app := ensureApp(t, f)
	expiring := addCertificate(t, f, app, 10*24*time.Hour)

	var res entra.ConfigureSAMLResult
	require.NoError(t, execute(t, f.acts, entra.ConfigureSAMLName, samlInput(app), &res))
	require.NotEqual(t, expiring, res.CertificateThumbprint, "a certificate ending in 10 days is replaced")
	require.Len(t, requireOneApp(t, f, app).CertificateThumbprints, 2)

	other := newAppFixture(t, nil, sandbox.NoInstantiateDelay, time.Second)
	app = ensureApp(t, other)
	valid := addCertificate(t, other, app, 365*24*time.Hour)
	require.NoError(t, execute(t, other.acts, entra.ConfigureSAMLName, samlInput(app), &res))
	require.Equal(t, valid, res.CertificateThumbprint, "a certificate valid for a year is kept, and made active")
	got := requireOneApp(t, other, app)
	require.Equal(t, valid, got.SigningCertificateThumbprint)
	require.Equal(t, []string{valid}, got.CertificateThumbprints)
}

func TestConfigureSAMLSaysWhatStandsInTheWay(t *testing.T) {
	f := newAppFixture(t, nil, sandbox.NoInstantiateDelay, time.Second)
	app := ensureApp(t, f)
	var res entra.ConfigureSAMLResult

	// Another app already has the AWS identifier.
	in := entra.EnsureEnterpriseAppInput{DisplayName: "old AWS app", TemplateID: entra.AWSIdentityCenterTemplateID}
	var old entra.EnsureEnterpriseAppResult
	require.NoError(t, execute(t, f.acts, entra.EnsureEnterpriseAppName, in, &old))
	patch := models.NewApplication()
	patch.SetIdentifierUris([]string{entityID})
	_, err := f.acts.Graph.Client.Applications().ByApplicationId(old.App.ApplicationObjectID).Patch(context.Background(), patch, nil)
	require.NoError(t, err)
	err = execute(t, f.acts, entra.ConfigureSAMLName, samlInput(app), &res)
	requireAppError(t, err, entra.ErrAppConflict, entityID, "Remove the identifier from that application")

	err = execute(t, f.acts, entra.ConfigureSAMLName, entra.ConfigureSAMLInput{App: app, EntityID: "urn:amazon:webservices", ACSURL: acsURL}, &res)
	requireAppError(t, err, entra.ErrInvalidRequest, "entityId", "not an https URL")
	err = execute(t, f.acts, entra.ConfigureSAMLName, entra.ConfigureSAMLInput{EntityID: entityID, ACSURL: acsURL}, &res)
	requireAppError(t, err, entra.ErrInvalidRequest, "needs the app")

	// The app was deleted after it was made.
	require.NoError(t, f.acts.Graph.Client.Applications().ByApplicationId(app.ApplicationObjectID).Delete(context.Background(), nil))
	err = execute(t, f.acts, entra.ConfigureSAMLName, samlInput(app), &res)
	requireAppError(t, err, entra.ErrAppNotFound, app.ServicePrincipalID, "no longer exists", "Roll the cutover back")
}

func TestFetchFederationMetadataOfTheConfiguredApp(t *testing.T) {
	f := newAppFixture(t, nil, sandbox.NoInstantiateDelay, 600*time.Millisecond)
	app := ensureApp(t, f)
	in := entra.FetchFederationMetadataInput{TenantID: tenantID, AppID: app.AppID}

	// No active certificate yet: Entra publishes nothing for the app.
	var res model.FederationMetadata
	err := execute(t, f.acts, entra.FetchFederationMetadataName, in, &res)
	requireAppError(t, err, entra.ErrInvalidMetadata, app.AppID, "HTTP 404", "active SAML signing certificate")

	var saml entra.ConfigureSAMLResult
	require.NoError(t, execute(t, f.acts, entra.ConfigureSAMLName, samlInput(app), &saml))
	in.CertificateThumbprint = saml.CertificateThumbprint
	fetched := f.proxy.count("/federationmetadata.xml")
	require.NoError(t, execute(t, f.acts, entra.FetchFederationMetadataName, in, &res))
	require.Equal(t, "https://sts.windows.net/"+tenantID+"/", res.EntityID)
	require.Equal(t, "https://login.microsoftonline.com/"+tenantID+"/saml2", res.SignOnURL)
	require.Equal(t, saml.CertificateThumbprint, res.CertificateThumbprint)
	require.Equal(t, saml.CertificateExpires, res.CertificateExpires)
	idp, err := samlmeta.ParseIdPMetadata([]byte(res.MetadataXML), tenantID, time.Now())
	require.NoError(t, err)
	require.Equal(t, saml.CertificateThumbprint, idp.SigningCertificates[0].Thumbprint)
	require.Equal(t, fetched+1, f.proxy.count("/federationmetadata.xml"), "one download when Entra is up to date")

	// Without a thumbprint to check, the valid certificate.
	in.CertificateThumbprint = ""
	var again model.FederationMetadata
	require.NoError(t, execute(t, f.acts, entra.FetchFederationMetadataName, in, &again))
	require.Equal(t, res, again)
}

func TestFetchFederationMetadataRefusesAnOtherCertificateOrABadDocument(t *testing.T) {
	f := newAppFixture(t, nil, sandbox.NoInstantiateDelay, 600*time.Millisecond)
	app := ensureApp(t, f)
	var saml entra.ConfigureSAMLResult
	require.NoError(t, execute(t, f.acts, entra.ConfigureSAMLName, samlInput(app), &saml))
	var res model.FederationMetadata

	// A certificate the metadata does not name (yet): fetched again for a
	// while, then refused with both thumbprints.
	start := time.Now()
	other := "0123456789ABCDEF0123456789ABCDEF01234567"
	err := execute(t, f.acts, entra.FetchFederationMetadataName, entra.FetchFederationMetadataInput{TenantID: tenantID, AppID: app.AppID, CertificateThumbprint: other}, &res)
	requireAppError(t, err, entra.ErrInvalidMetadata, saml.CertificateThumbprint, other, "SAML Certificates")
	require.GreaterOrEqual(t, time.Since(start), 600*time.Millisecond)
	require.Greater(t, f.proxy.count("/federationmetadata.xml"), 1)

	// Another tenant's ID.
	err = execute(t, f.acts, entra.FetchFederationMetadataName, entra.FetchFederationMetadataInput{TenantID: "00000000-0000-0000-0000-0000000000ff", AppID: app.AppID}, &res)
	requireAppError(t, err, entra.ErrInvalidMetadata, "HTTP 400", "AADSTS90002", "tenant ID is right")

	// Something that is not federation metadata.
	f.proxy.answer("/federationmetadata.xml", http.StatusOK, `<html><body>Sign in</body></html>`)
	err = execute(t, f.acts, entra.FetchFederationMetadataName, entra.FetchFederationMetadataInput{TenantID: tenantID, AppID: app.AppID}, &res)
	requireAppError(t, err, entra.ErrInvalidMetadata, "not usable", "EntityDescriptor")
}

// Every ACS URL of the SP metadata becomes a reply URL, the default first,
// so that signing in works at every sign-in host and Region; a second run
// changes nothing.
func TestConfigureSAMLSetsEveryACSURLAsAReplyURL(t *testing.T) {
	f := newAppFixture(t, nil, sandbox.NoInstantiateDelay, time.Second)
	app := ensureApp(t, f)
	all := []string{acsURL,
		"https://eu-west-1.signin.aws/platform/saml/acs/0123abcd-4567-89ab-cdef-0123456789ab",
		"https://eu-west-1.sso.signin.aws/platform/saml/acs/0123abcd-4567-89ab-cdef-0123456789ab",
		"https://eu-central-1.signin.aws/platform/saml/acs/0123abcd-4567-89ab-cdef-0123456789ab",
		"https://eu-central-1.sso.signin.aws/platform/saml/acs/0123abcd-4567-89ab-cdef-0123456789ab",
	}
	in := samlInput(app)
	in.ACSURLs = all
	var res entra.ConfigureSAMLResult
	require.NoError(t, execute(t, f.acts, entra.ConfigureSAMLName, in, &res))
	require.Equal(t, all, requireOneApp(t, f, app).RedirectURIs)

	require.NoError(t, execute(t, f.acts, entra.ConfigureSAMLName, in, &res))
	for _, c := range res.APICalls {
		require.True(t, strings.HasPrefix(c.Operation, "graph:GET"), "the second run only reads: %v", res.APICalls)
	}
	require.Equal(t, all, requireOneApp(t, f, app).RedirectURIs)
}

// A tenant whose app management policy restricts identifier URIs refuses
// AWS's entity ID: the step fails with what the administrator must exempt,
// and once SAML apps are exempted the retry sets it.
func TestConfigureSAMLWhereThePolicyRestrictsIdentifierURIs(t *testing.T) {
	w := handMadeWorld()
	w.Entra.RestrictIdentifierURIs = true
	f := newAppFixture(t, w, sandbox.NoInstantiateDelay, time.Second)
	app := ensureApp(t, f)

	var res entra.ConfigureSAMLResult
	err := execute(t, f.acts, entra.ConfigureSAMLName, samlInput(app), &res)
	appErr := requireApplicationError(t, err, entra.ErrIdentifierURIBlocked)
	require.Contains(t, appErr.Error(), entityID)
	require.Contains(t, appErr.Error(), "excludeSaml")
	require.Contains(t, appErr.Error(), "defaultAppManagementPolicy")
	require.Empty(t, requireOneApp(t, f, app).IdentifierURIs, "nothing was set")

	// The administrator's exemption, as the message gives it.
	body := strings.NewReader(`{"applicationRestrictions":{"identifierUris":{"nonDefaultUriAddition":{"state":"enabled","excludeSaml":true}}}}`)
	req, err := http.NewRequest(http.MethodPatch, f.sb.GraphURL+"/v1.0/policies/defaultAppManagementPolicy", body)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer admin")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNoContent, resp.StatusCode)

	require.NoError(t, execute(t, f.acts, entra.ConfigureSAMLName, samlInput(app), &res))
	require.Equal(t, []string{entityID}, requireOneApp(t, f, app).IdentifierURIs)
}
