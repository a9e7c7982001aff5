package sandbox_test

import (
	"context"
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/microsoftgraph/msgraph-sdk-go/applications"
	"github.com/microsoftgraph/msgraph-sdk-go/applicationtemplates"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/serviceprincipals"
	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/graphclient"
	"github.com/platformguide/ssocutover/internal/samlmeta"
	"github.com/platformguide/ssocutover/sandbox"
)

const (
	awsTemplateID = "21ed01d2-ec13-4e9e-86c1-cd546719ebc4"
	awsTemplate   = "AWS IAM Identity Center (successor to AWS Single Sign-On)"
	userRoleID    = "8774f594-1d59-4279-b9d9-59ef09a23530"
	msiamRoleID   = "e7f1a7f3-9eda-48e0-9963-bd67bf531afd"
)

// startApps serves graphWorld with the given instantiate delay and returns
// the sandbox and a real Graph client for it.
func startApps(t *testing.T, delay time.Duration) (*sandbox.Sandbox, *graphclient.Client) {
	t.Helper()
	sb, err := sandbox.Start(graphWorld(), sandbox.Options{Graph: sandbox.GraphOptions{InstantiateDelay: delay}})
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	client, err := graphclient.New(graphclient.Config{BaseURL: sb.GraphURL, StaticToken: graphTestToken, RequestsPerSecond: -1})
	require.NoError(t, err)
	return sb, client
}

// instantiate creates an app from the AWS template and returns the
// application and service principal of the answer.
func instantiate(t *testing.T, graph *graphclient.Client, name string) (models.Applicationable, models.ServicePrincipalable) {
	t.Helper()
	body := applicationtemplates.NewItemInstantiatePostRequestBody()
	body.SetDisplayName(ptr(name))
	created, err := graph.Client.ApplicationTemplates().ByApplicationTemplateId(awsTemplateID).Instantiate().Post(context.Background(), body, nil)
	require.NoError(t, err)
	require.NotNil(t, created.GetApplication())
	require.NotNil(t, created.GetServicePrincipal())
	return created.GetApplication(), created.GetServicePrincipal()
}

func TestGraphApplicationTemplatesByIDAndDisplayName(t *testing.T) {
	_, graph := startApps(t, sandbox.NoInstantiateDelay)
	ctx := context.Background()

	tmpl, err := graph.Client.ApplicationTemplates().ByApplicationTemplateId(awsTemplateID).Get(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, awsTemplate, *tmpl.GetDisplayName())
	require.Equal(t, "Amazon", *tmpl.GetPublisher())
	require.Contains(t, tmpl.GetSupportedSingleSignOnModes(), "saml")
	require.Contains(t, tmpl.GetSupportedProvisioningTypes(), "sync")

	page, err := graph.Client.ApplicationTemplates().Get(ctx, &applicationtemplates.ApplicationTemplatesRequestBuilderGetRequestConfiguration{
		QueryParameters: &applicationtemplates.ApplicationTemplatesRequestBuilderGetQueryParameters{Filter: ptr("displayName eq '" + awsTemplate + "'")},
	})
	require.NoError(t, err)
	require.Len(t, page.GetValue(), 1)
	require.Equal(t, awsTemplateID, *page.GetValue()[0].GetId())

	all, err := graph.Client.ApplicationTemplates().Get(ctx, nil)
	require.NoError(t, err)
	require.Greater(t, len(all.GetValue()), 1, "the gallery has more than the one template")

	_, err = graph.Client.ApplicationTemplates().ByApplicationTemplateId("00000000-0000-0000-0000-00000000dead").Get(ctx, nil)
	requireODataError(t, err, http.StatusNotFound, "Request_ResourceNotFound")
}

func TestGraphInstantiatedAppIsReadableOnlyAfterTheDelay(t *testing.T) {
	const delay = time.Second
	sb, graph := startApps(t, delay)
	ctx := context.Background()

	app, sp := instantiate(t, graph, "AWS d-1234567890")
	// The delay runs from the moment the sandbox made them, before it answered.
	answered := time.Now()
	require.Equal(t, "AWS d-1234567890", *app.GetDisplayName())
	require.Equal(t, awsTemplateID, *app.GetApplicationTemplateId())
	require.Equal(t, *app.GetAppId(), *sp.GetAppId())
	roles := map[string]string{}
	for _, r := range sp.GetAppRoles() {
		roles[*r.GetValue()] = r.GetId().String()
		require.Equal(t, *r.GetValue(), *r.GetDisplayName())
	}
	require.Equal(t, map[string]string{"User": userRoleID, "msiam_access": msiamRoleID}, roles)

	byName := &applications.ApplicationsRequestBuilderGetRequestConfiguration{
		QueryParameters: &applications.ApplicationsRequestBuilderGetQueryParameters{Filter: ptr("displayName eq 'AWS d-1234567890'"), Select: []string{"id", "appId", "displayName"}},
	}
	spByAppID := &serviceprincipals.ServicePrincipalsRequestBuilderGetRequestConfiguration{
		QueryParameters: &serviceprincipals.ServicePrincipalsRequestBuilderGetQueryParameters{Filter: ptr("appId eq '" + *app.GetAppId() + "'")},
	}

	// Not yet replicated: GET answers 404 and lists leave them out.
	_, err := graph.Client.Applications().ByApplicationId(*app.GetId()).Get(ctx, nil)
	requireODataError(t, err, http.StatusNotFound, "Request_ResourceNotFound")
	_, err = graph.Client.ServicePrincipals().ByServicePrincipalId(*sp.GetId()).Get(ctx, nil)
	requireODataError(t, err, http.StatusNotFound, "Request_ResourceNotFound")
	page, err := graph.Client.Applications().Get(ctx, byName)
	require.NoError(t, err)
	require.Empty(t, page.GetValue())
	apps := sb.EnterpriseApps()
	require.Len(t, apps, 1)
	require.False(t, apps[0].Visible)

	time.Sleep(time.Until(answered.Add(delay)))
	got, err := graph.Client.Applications().ByApplicationId(*app.GetId()).Get(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, *app.GetAppId(), *got.GetAppId())
	page, err = graph.Client.Applications().Get(ctx, byName)
	require.NoError(t, err)
	require.Len(t, page.GetValue(), 1)
	require.Equal(t, *app.GetId(), *page.GetValue()[0].GetId())
	require.Nil(t, page.GetValue()[0].GetIdentifierUris(), "identifierUris was not selected")
	sps, err := graph.Client.ServicePrincipals().Get(ctx, spByAppID)
	require.NoError(t, err)
	require.Len(t, sps.GetValue(), 1)
	require.Equal(t, *sp.GetId(), *sps.GetValue()[0].GetId())
	require.Equal(t, awsTemplateID, *sps.GetValue()[0].GetApplicationTemplateId())

	apps = sb.EnterpriseApps()
	require.True(t, apps[0].Visible)
	require.Equal(t, *sp.GetId(), apps[0].ServicePrincipalID)
}

func TestGraphSAMLSettingsAndTokenSigningCertificate(t *testing.T) {
	sb, graph := startApps(t, sandbox.NoInstantiateDelay)
	ctx := context.Background()
	app, sp := instantiate(t, graph, "AWS d-1234567890")
	const entityID = "https://eu-west-1.signin.aws.amazon.com/platform/saml/d-1234567890"
	const acsURL = "https://eu-west-1.signin.aws.amazon.com/platform/saml/acs/0123abcd-4567-89ab-cdef-0123456789ab"

	patch := models.NewApplication()
	patch.SetIdentifierUris([]string{entityID})
	web := models.NewWebApplication()
	web.SetRedirectUris([]string{acsURL})
	patch.SetWeb(web)
	_, err := graph.Client.Applications().ByApplicationId(*app.GetId()).Patch(ctx, patch, nil)
	require.NoError(t, err)

	mode := models.NewServicePrincipal()
	mode.SetPreferredSingleSignOnMode(ptr("saml"))
	_, err = graph.Client.ServicePrincipals().ByServicePrincipalId(*sp.GetId()).Patch(ctx, mode, nil)
	require.NoError(t, err)

	body := serviceprincipals.NewItemAddTokenSigningCertificatePostRequestBody()
	body.SetDisplayName(ptr("CN=Microsoft Azure Federated SSO Certificate"))
	end := time.Now().Add(2 * 365 * 24 * time.Hour).UTC().Truncate(time.Second)
	body.SetEndDateTime(&end)
	cert, err := graph.Client.ServicePrincipals().ByServicePrincipalId(*sp.GetId()).AddTokenSigningCertificate().Post(ctx, body, nil)
	require.NoError(t, err)
	parsed, err := x509.ParseCertificate(cert.GetKey())
	require.NoError(t, err, "key is the certificate, DER in base64")
	sum := sha1.Sum(parsed.Raw)
	thumbprint := strings.ToUpper(hex.EncodeToString(sum[:]))
	require.Equal(t, thumbprint, *cert.GetThumbprint())
	require.Equal(t, "Microsoft Azure Federated SSO Certificate", parsed.Subject.CommonName)
	require.Equal(t, end, cert.GetEndDateTime().UTC())
	require.Equal(t, "Verify", *cert.GetUsage())
	require.Equal(t, sum[:], cert.GetCustomKeyIdentifier())

	// Not active until the service principal says so.
	active := models.NewServicePrincipal()
	active.SetPreferredTokenSigningKeyThumbprint(ptr(thumbprint))
	_, err = graph.Client.ServicePrincipals().ByServicePrincipalId(*sp.GetId()).Patch(ctx, active, nil)
	require.NoError(t, err)

	gotSP, err := graph.Client.ServicePrincipals().ByServicePrincipalId(*sp.GetId()).Get(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, "saml", *gotSP.GetPreferredSingleSignOnMode())
	require.Equal(t, thumbprint, *gotSP.GetPreferredTokenSigningKeyThumbprint())
	require.Equal(t, []string{acsURL}, gotSP.GetReplyUrls())
	var usages []string
	for _, k := range gotSP.GetKeyCredentials() {
		usages = append(usages, *k.GetUsage())
		require.Equal(t, sum[:], k.GetCustomKeyIdentifier())
		require.Equal(t, end, k.GetEndDateTime().UTC())
		require.Nil(t, k.GetKey(), "Graph never lists a key itself")
	}
	require.ElementsMatch(t, []string{"Sign", "Verify"}, usages)

	gotApp, err := graph.Client.Applications().ByApplicationId(*app.GetId()).Get(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, []string{entityID}, gotApp.GetIdentifierUris())
	require.Equal(t, []string{acsURL}, gotApp.GetWeb().GetRedirectUris())

	apps := sb.EnterpriseApps()
	require.Len(t, apps, 1)
	require.Equal(t, sandbox.EnterpriseAppInfo{
		DisplayName: "AWS d-1234567890", TemplateID: awsTemplateID,
		ApplicationObjectID: *app.GetId(), AppID: *app.GetAppId(), ServicePrincipalID: *sp.GetId(), Visible: true,
		IdentifierURIs: []string{entityID}, RedirectURIs: []string{acsURL}, PreferredSingleSignOnMode: "saml",
		SigningCertificateThumbprint: thumbprint, SigningCertificateExpires: end, CertificateThumbprints: []string{thumbprint},
		AssignedAppRoles: map[string][]string{},
	}, apps[0])

	// A thumbprint of no certificate of this app, an unknown mode, a
	// certificate name without CN=, and another app with the same
	// identifier are refused as Entra refuses them.
	active.SetPreferredTokenSigningKeyThumbprint(ptr(strings.Repeat("AB", 20)))
	_, err = graph.Client.ServicePrincipals().ByServicePrincipalId(*sp.GetId()).Patch(ctx, active, nil)
	requireODataError(t, err, http.StatusBadRequest, "Request_BadRequest")
	mode.SetPreferredSingleSignOnMode(ptr("kerberos"))
	_, err = graph.Client.ServicePrincipals().ByServicePrincipalId(*sp.GetId()).Patch(ctx, mode, nil)
	requireODataError(t, err, http.StatusBadRequest, "Request_BadRequest")
	body.SetDisplayName(ptr("Federated SSO"))
	_, err = graph.Client.ServicePrincipals().ByServicePrincipalId(*sp.GetId()).AddTokenSigningCertificate().Post(ctx, body, nil)
	requireODataError(t, err, http.StatusBadRequest, "Request_BadRequest")
	other, _ := instantiate(t, graph, "another app")
	_, err = graph.Client.Applications().ByApplicationId(*other.GetId()).Patch(ctx, patch, nil)
	requireODataError(t, err, http.StatusBadRequest, "Request_BadRequest")
	require.Contains(t, odataMessage(err), "identifierUris already exists")
}

func TestGraphFederationMetadataNamesTheActiveCertificate(t *testing.T) {
	sb, graph := startApps(t, sandbox.NoInstantiateDelay)
	ctx := context.Background()
	w := graphWorld()
	app, sp := instantiate(t, graph, "AWS d-1234567890")
	metadataURL := func(tenant, appID string) string {
		return sb.GraphURL + "/" + tenant + "/federationmetadata/2007-06/federationmetadata.xml?appid=" + appID
	}
	// Served without a token, as login.microsoftonline.com serves it.
	get := func(u string) (int, string) {
		resp, err := http.Get(u)
		require.NoError(t, err)
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(data)
	}

	status, body := get(metadataURL(w.Entra.TenantID, *app.GetAppId()))
	require.Equal(t, http.StatusNotFound, status, "no certificate yet")
	require.Contains(t, body, "no active SAML signing certificate")

	req := serviceprincipals.NewItemAddTokenSigningCertificatePostRequestBody()
	req.SetDisplayName(ptr("CN=Microsoft Azure Federated SSO Certificate"))
	cert, err := graph.Client.ServicePrincipals().ByServicePrincipalId(*sp.GetId()).AddTokenSigningCertificate().Post(ctx, req, nil)
	require.NoError(t, err)
	require.WithinDuration(t, time.Now().Add(3*365*24*time.Hour), *cert.GetEndDateTime(), time.Minute, "three years by default")
	active := models.NewServicePrincipal()
	active.SetPreferredTokenSigningKeyThumbprint(cert.GetThumbprint())
	_, err = graph.Client.ServicePrincipals().ByServicePrincipalId(*sp.GetId()).Patch(ctx, active, nil)
	require.NoError(t, err)

	status, body = get(metadataURL(strings.ToUpper(w.Entra.TenantID), *app.GetAppId()))
	require.Equal(t, http.StatusOK, status, body)
	idp, err := samlmeta.ParseIdPMetadata([]byte(body), w.Entra.TenantID, time.Now())
	require.NoError(t, err)
	require.Len(t, idp.SigningCertificates, 1)
	require.Equal(t, *cert.GetThumbprint(), idp.SigningCertificates[0].Thumbprint)
	require.Equal(t, "https://login.microsoftonline.com/"+w.Entra.TenantID+"/saml2", idp.SingleSignOnURL)

	status, body = get(metadataURL("00000000-0000-0000-0000-0000000000ff", *app.GetAppId()))
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, body, "AADSTS90002")
	status, body = get(metadataURL(w.Entra.TenantID, "00000000-0000-0000-0000-00000000dead"))
	require.Equal(t, http.StatusNotFound, status)
	require.Contains(t, body, "AADSTS700016")

	// Deleting the application deletes its service principal, and its
	// metadata goes with them.
	require.NoError(t, graph.Client.Applications().ByApplicationId(*app.GetId()).Delete(ctx, nil))
	_, err = graph.Client.ServicePrincipals().ByServicePrincipalId(*sp.GetId()).Get(ctx, nil)
	requireODataError(t, err, http.StatusNotFound, "Request_ResourceNotFound")
	status, _ = get(metadataURL(w.Entra.TenantID, *app.GetAppId()))
	require.Equal(t, http.StatusNotFound, status)
	require.Empty(t, sb.EnterpriseApps())
}

func TestGraphAppRoleAssignmentsOfGroups(t *testing.T) {
	sb, graph := startApps(t, sandbox.NoInstantiateDelay)
	ctx := context.Background()
	w := graphWorld()
	_, sp := instantiate(t, graph, "AWS d-1234567890")
	assignedTo := graph.Client.ServicePrincipals().ByServicePrincipalId(*sp.GetId()).AppRoleAssignedTo()
	assign := func(principalID, roleID string) (models.AppRoleAssignmentable, error) {
		body := models.NewAppRoleAssignment()
		body.SetPrincipalId(uuidPtr(t, principalID))
		body.SetResourceId(uuidPtr(t, *sp.GetId()))
		body.SetAppRoleId(uuidPtr(t, roleID))
		return assignedTo.Post(ctx, body, nil)
	}

	admins := entraGroupID(w, 0)
	created, err := assign(admins, userRoleID)
	require.NoError(t, err)
	require.Equal(t, admins, created.GetPrincipalId().String())
	require.Equal(t, "aws-admins", *created.GetPrincipalDisplayName())
	require.Equal(t, "Group", *created.GetPrincipalType())
	require.Equal(t, *sp.GetId(), created.GetResourceId().String())
	require.Equal(t, "AWS d-1234567890", *created.GetResourceDisplayName())
	require.Len(t, *created.GetId(), 43)

	_, err = assign(admins, userRoleID)
	requireODataError(t, err, http.StatusBadRequest, "Request_BadRequest")
	require.Contains(t, odataMessage(err), "Permission being assigned already exists on the object")
	_, err = assign(admins, "00000000-0000-0000-0000-00000000dead")
	requireODataError(t, err, http.StatusBadRequest, "Request_BadRequest")
	_, err = assign(entraGroupID(w, 3), userRoleID)
	requireODataError(t, err, http.StatusBadRequest, "Request_BadRequest")
	require.Contains(t, odataMessage(err), "not security-enabled")
	_, err = assign(entraUserID("alice@corp.example"), userRoleID)
	requireODataError(t, err, http.StatusBadRequest, "Request_BadRequest")
	_, err = assign("00000000-0000-0000-0000-00000000dead", userRoleID)
	requireODataError(t, err, http.StatusNotFound, "Request_ResourceNotFound")

	// The same group in another role is another assignment.
	_, err = assign(admins, msiamRoleID)
	require.NoError(t, err)
	contractors, err := assign(entraGroupID(w, 2), userRoleID)
	require.NoError(t, err)

	page, err := assignedTo.Get(ctx, &serviceprincipals.ItemAppRoleAssignedToRequestBuilderGetRequestConfiguration{
		QueryParameters: &serviceprincipals.ItemAppRoleAssignedToRequestBuilderGetQueryParameters{Top: ptr(int32(2))},
	})
	require.NoError(t, err)
	require.Len(t, page.GetValue(), 2)
	require.NotNil(t, page.GetOdataNextLink())
	next, err := assignedTo.WithUrl(*page.GetOdataNextLink()).Get(ctx, nil)
	require.NoError(t, err)
	require.Len(t, next.GetValue(), 1)
	require.Equal(t, *contractors.GetId(), *next.GetValue()[0].GetId())

	apps := sb.EnterpriseApps()
	require.Equal(t, []string{admins, entraGroupID(w, 2)}, sortedCopy(apps[0].AssignedGroupIDs))
	require.Equal(t, []string{userRoleID, msiamRoleID}, apps[0].AssignedAppRoles[admins], "sorted")

	require.NoError(t, assignedTo.ByAppRoleAssignmentId(*contractors.GetId()).Delete(ctx, nil))
	err = assignedTo.ByAppRoleAssignmentId(*contractors.GetId()).Delete(ctx, nil)
	requireODataError(t, err, http.StatusNotFound, "Request_ResourceNotFound")
	require.Equal(t, []string{admins}, sb.EnterpriseApps()[0].AssignedGroupIDs)
	// Deleted, it can be assigned again.
	_, err = assign(entraGroupID(w, 2), userRoleID)
	require.NoError(t, err)
}

// odataMessage is Graph's error message in err.
func odataMessage(err error) string {
	var odata *odataerrors.ODataError
	if errors.As(err, &odata) && odata.GetErrorEscaped() != nil && odata.GetErrorEscaped().GetMessage() != nil {
		return *odata.GetErrorEscaped().GetMessage()
	}
	return ""
}

func uuidPtr(t *testing.T, s string) *uuid.UUID {
	t.Helper()
	id, err := uuid.Parse(s)
	require.NoError(t, err)
	return &id
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
