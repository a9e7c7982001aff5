package entra

// ConfigureSAML: single sign-on of the enterprise app set to SAML with the
// AWS service provider's identifier and reply URL, and an active token
// signing certificate. Each change is made only when the app lacks it, so
// a retry changes nothing that is already right and never adds a second
// certificate.

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/applications"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/serviceprincipals"
	"go.temporal.io/sdk/temporal"

	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/internal/graphclient"
	"github.com/platformguide/ssocutover/internal/model"
)

// signingCertificateName is the name Entra's portal gives the SAML signing
// certificates it creates.
const signingCertificateName = "CN=Microsoft Azure Federated SSO Certificate"

// minCertificateValidity is how long an existing signing certificate must
// still be valid to be kept: one about to expire would break sign-in to AWS
// soon after the cutover.
const minCertificateValidity = 30 * 24 * time.Hour

// ConfigureSAML sets the app's single sign-on mode to SAML, its identifier
// (entity ID) and reply URL (ACS URL) to the AWS service provider's, and
// makes a signing certificate active: the valid one the app has, or a new
// one. It returns the active certificate.
func (a *Activities) ConfigureSAML(ctx context.Context, in ConfigureSAMLInput) (ConfigureSAMLResult, error) {
	if a.Graph == nil {
		return ConfigureSAMLResult{}, misconfigured()
	}
	if err := checkApp(ConfigureSAMLName, in.App); err != nil {
		return ConfigureSAMLResult{}, err
	}
	if err := checkHTTPSURL("entityId", in.EntityID); err != nil {
		return ConfigureSAMLResult{}, err
	}
	for _, acs := range append([]string{in.ACSURL}, in.ACSURLs...) {
		if err := checkHTTPSURL("acsUrl", acs); err != nil {
			return ConfigureSAMLResult{}, err
		}
	}
	calls := apicalls.NewCounter()
	ctx = apicalls.WithCounter(ctx, calls)

	s := &samlSetup{graph: a.Graph, app: in.App}
	sp, err := s.readServicePrincipal(ctx)
	if err != nil {
		return ConfigureSAMLResult{}, err
	}
	if deref(sp.GetPreferredSingleSignOnMode()) != "saml" {
		patch := models.NewServicePrincipal()
		patch.SetPreferredSingleSignOnMode(ptr("saml"))
		if err := s.patchServicePrincipal(ctx, "set single sign-on to SAML", patch); err != nil {
			return ConfigureSAMLResult{}, err
		}
	}
	if err := s.setServiceProvider(ctx, in.EntityID, in.replyURLs()); err != nil {
		return ConfigureSAMLResult{}, err
	}

	cert, ok := pickSigningCertificate(sp, time.Now())
	if !ok {
		if cert, err = s.addSigningCertificate(ctx); err != nil {
			return ConfigureSAMLResult{}, err
		}
	}
	if !strings.EqualFold(deref(sp.GetPreferredTokenSigningKeyThumbprint()), cert.thumbprint) {
		patch := models.NewServicePrincipal()
		patch.SetPreferredTokenSigningKeyThumbprint(ptr(cert.thumbprint))
		if err := s.patchServicePrincipal(ctx, "make signing certificate "+cert.thumbprint+" active", patch); err != nil {
			return ConfigureSAMLResult{}, err
		}
	}
	return ConfigureSAMLResult{CertificateThumbprint: cert.thumbprint, CertificateExpires: cert.expires, APICalls: calls.Counts()}, nil
}

// samlSetup is one run of ConfigureSAML.
type samlSetup struct {
	graph *graphclient.Client
	app   model.EnterpriseApp
}

func (s *samlSetup) servicePrincipal() *serviceprincipals.ServicePrincipalItemRequestBuilder {
	return s.graph.Client.ServicePrincipals().ByServicePrincipalId(s.app.ServicePrincipalID)
}

func (s *samlSetup) readServicePrincipal(ctx context.Context) (models.ServicePrincipalable, error) {
	sp, err := s.servicePrincipal().Get(ctx, &serviceprincipals.ServicePrincipalItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &serviceprincipals.ServicePrincipalItemRequestBuilderGetQueryParameters{
			Select: []string{"id", "appId", "preferredSingleSignOnMode", "preferredTokenSigningKeyThumbprint", "keyCredentials"},
		},
	})
	if err != nil {
		return nil, whenGone(s.app, appCallError(fmt.Sprintf("read the enterprise application %q", s.app.DisplayName), err))
	}
	return sp, nil
}

func (s *samlSetup) patchServicePrincipal(ctx context.Context, what string, patch models.ServicePrincipalable) error {
	if _, err := s.servicePrincipal().Patch(ctx, patch, nil); err != nil {
		return whenGone(s.app, appCallError(fmt.Sprintf("%s for the enterprise application %q", what, s.app.DisplayName), err))
	}
	return nil
}

// setServiceProvider makes the application's identifier URIs exactly
// [entityID] and its reply URLs exactly acsURLs, unless they already are.
// The default ACS URL is first: Entra sends a response that names no ACS
// to the first reply URL.
func (s *samlSetup) setServiceProvider(ctx context.Context, entityID string, acsURLs []string) error {
	builder := s.graph.Client.Applications().ByApplicationId(s.app.ApplicationObjectID)
	app, err := builder.Get(ctx, &applications.ApplicationItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &applications.ApplicationItemRequestBuilderGetQueryParameters{Select: []string{"id", "identifierUris", "web"}},
	})
	if err != nil {
		return whenGone(s.app, appCallError(fmt.Sprintf("read the application of %q", s.app.DisplayName), err))
	}
	var redirects []string
	if app.GetWeb() != nil {
		redirects = app.GetWeb().GetRedirectUris()
	}
	if slices.Equal(app.GetIdentifierUris(), []string{entityID}) && slices.Equal(redirects, acsURLs) {
		return nil
	}

	patch := models.NewApplication()
	patch.SetIdentifierUris([]string{entityID})
	// The web object is replaced whole: keep what the gallery set in it.
	web := models.NewWebApplication()
	if old := app.GetWeb(); old != nil {
		web.SetHomePageUrl(old.GetHomePageUrl())
		web.SetLogoutUrl(old.GetLogoutUrl())
		web.SetImplicitGrantSettings(old.GetImplicitGrantSettings())
	}
	web.SetRedirectUris(acsURLs)
	patch.SetWeb(web)
	_, err = builder.Patch(ctx, patch, nil)
	if err == nil {
		return nil
	}
	if code, message := graphErrorCode(err); statusOf(err) == 400 && code == "HostNameNotOnVerifiedDomain" {
		return temporal.NewNonRetryableApplicationError(identifierURIBlockedMessage(entityID, s.app.DisplayName, message), ErrIdentifierURIBlocked, err)
	}
	if _, message := graphErrorCode(err); statusOf(err) == 400 && strings.Contains(message, "identifierUris already exists") {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"another application in the tenant already has the identifier %s (Entra keeps identifiers unique), probably an earlier AWS IAM Identity Center app for this instance. "+
				"Remove the identifier from that application (or delete it) in Entra, then retry this step", entityID), ErrAppConflict, err)
	}
	return whenGone(s.app, appCallError(fmt.Sprintf("set the SAML identifier and reply URL of %q", s.app.DisplayName), err))
}

// addSigningCertificate has Entra create a signing certificate for the app.
// The SDK does not resend it after a server error (the certificate may
// exist then): the retry of the activity finds it among the app's keys.
func (s *samlSetup) addSigningCertificate(ctx context.Context) (signingCertificate, error) {
	body := serviceprincipals.NewItemAddTokenSigningCertificatePostRequestBody()
	body.SetDisplayName(ptr(signingCertificateName))
	cert, err := s.servicePrincipal().AddTokenSigningCertificate().Post(ctx, body,
		&serviceprincipals.ItemAddTokenSigningCertificateRequestBuilderPostRequestConfiguration{Options: retryThrottledOnly()})
	if err != nil {
		return signingCertificate{}, whenGone(s.app, appCallError(fmt.Sprintf("add a SAML signing certificate to %q", s.app.DisplayName), err))
	}
	if cert.GetThumbprint() == nil || cert.GetEndDateTime() == nil {
		return signingCertificate{}, fmt.Errorf("add a SAML signing certificate to %q: Entra's answer lacks the thumbprint or end date (the retry finds the certificate among the app's keys)", s.app.DisplayName)
	}
	return signingCertificate{thumbprint: strings.ToUpper(*cert.GetThumbprint()), expires: cert.GetEndDateTime().UTC()}, nil
}

// signingCertificate is a token signing certificate of the app.
type signingCertificate struct {
	thumbprint string
	expires    time.Time
}

// pickSigningCertificate chooses among the service principal's signing
// certificates valid at now for at least minCertificateValidity: the active
// one if it is among them, else the one that lasts longest.
func pickSigningCertificate(sp models.ServicePrincipalable, now time.Time) (signingCertificate, bool) {
	active := strings.ToUpper(deref(sp.GetPreferredTokenSigningKeyThumbprint()))
	var best signingCertificate
	found := false
	for _, c := range signingCertificates(sp) {
		if c.expires.Sub(now) < minCertificateValidity {
			continue
		}
		if c.thumbprint == active {
			return c, true
		}
		if !found || c.expires.After(best.expires) {
			best, found = c, true
		}
	}
	return best, found
}

// signingCertificates reads the SAML signing certificates from the
// service principal's keys: the Verify keys of X.509 certificates that have
// started, whose customKeyIdentifier is the certificate's thumbprint.
func signingCertificates(sp models.ServicePrincipalable) []signingCertificate {
	var out []signingCertificate
	now := time.Now()
	for _, k := range sp.GetKeyCredentials() {
		if deref(k.GetUsage()) != "Verify" || deref(k.GetTypeEscaped()) != "AsymmetricX509Cert" ||
			len(k.GetCustomKeyIdentifier()) != 20 || k.GetEndDateTime() == nil {
			continue
		}
		if start := k.GetStartDateTime(); start != nil && start.After(now) {
			continue
		}
		out = append(out, signingCertificate{
			thumbprint: strings.ToUpper(hex.EncodeToString(k.GetCustomKeyIdentifier())),
			expires:    k.GetEndDateTime().UTC(),
		})
	}
	return out
}

// checkHTTPSURL refuses a value that is not an https URL.
func checkHTTPSURL(field, value string) error {
	u, err := url.Parse(value)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"%s %q is not an https URL: take it from the AWS IAM Identity Center SAML metadata (the signal that submitted it)", field, value), ErrInvalidRequest, nil)
	}
	return nil
}

// replyURLs are the application's reply URLs: every ACS URL of the SP
// metadata, the default first (with an input of an older cutover, which
// carried only the default, that one).
func (in ConfigureSAMLInput) replyURLs() []string {
	if len(in.ACSURLs) == 0 || in.ACSURLs[0] != in.ACSURL {
		return []string{in.ACSURL}
	}
	return in.ACSURLs
}

// identifierURIBlockedMessage says what an administrator does when Entra
// refuses AWS's entity ID as the app's identifier URI. A gallery SAML app
// needs the identifier AWS gives, which is never on the tenant's verified
// domains; a tenant whose app management policy restricts identifier URIs
// (applicationRestrictions.identifierUris: nonDefaultUriAddition or
// uriAdditionWithoutUniqueTenantIdentifier,
// https://learn.microsoft.com/graph/api/resources/identifierurirestriction)
// must exempt SAML apps (excludeSaml), or this app, for the step to work.
func identifierURIBlockedMessage(entityID, appName, graphMessage string) string {
	return fmt.Sprintf("Entra refused AWS's entity ID %s as the identifier URI of %q (%s). The tenant's app management policy restricts identifier URIs, and the entity ID that IAM Identity Center requires is not on one of the tenant's verified domains. "+
		"An administrator (Application Administrator or higher, with Policy.ReadWrite.ApplicationConfiguration) exempts SAML apps from the restriction that is enabled: in Graph, PATCH /v1.0/policies/defaultAppManagementPolicy with "+
		"`{\"applicationRestrictions\":{\"identifierUris\":{\"nonDefaultUriAddition\":{\"state\":\"enabled\",\"excludeSaml\":true}}}}` "+
		"(the same for uriAdditionWithoutUniqueTenantIdentifier if that one is enabled), or assigns this app a custom app management policy without the restriction. Then retry this step",
		entityID, appName, graphMessage)
}
