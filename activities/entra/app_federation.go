package entra

// FetchFederationMetadata: the SAML IdP metadata Entra publishes for the
// app on login.microsoftonline.com, downloaded and validated for the
// person to upload to IAM Identity Center. This is a plain HTTPS download,
// not a Graph API.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/platformguide/ssocutover/internal/model"
	"github.com/platformguide/ssocutover/internal/samlmeta"
)

// DefaultLoginBaseURL is where Entra publishes federation metadata.
const DefaultLoginBaseURL = "https://login.microsoftonline.com"

// metadataTimeout bounds one download by the default client.
const metadataTimeout = 30 * time.Second

func (a *Activities) loginBaseURL() string {
	if a.LoginBaseURL != "" {
		return strings.TrimSuffix(a.LoginBaseURL, "/")
	}
	return DefaultLoginBaseURL
}

// loginClient is the HTTP client for the download.
func (a *Activities) loginClient() *http.Client {
	if a.LoginHTTPClient != nil {
		return a.LoginHTTPClient
	}
	return &http.Client{Timeout: metadataTimeout}
}

// FetchFederationMetadata downloads the app's federation metadata and
// checks it: Entra's issuer and sign-in URL for the tenant, a valid signing
// certificate, and, when in.CertificateThumbprint is set, that certificate.
//
// Entra publishes a change (a new app, a new active certificate) some time
// after it is made, so a missing document or an old certificate is
// fetched again for up to Activities.AppVisibilityWait before the activity
// gives up and says what to check.
func (a *Activities) FetchFederationMetadata(ctx context.Context, in FetchFederationMetadataInput) (model.FederationMetadata, error) {
	if in.TenantID == "" || in.AppID == "" {
		return model.FederationMetadata{}, temporal.NewNonRetryableApplicationError("FetchFederationMetadata needs the tenant ID (tenantId) and the app ID (appId)", ErrInvalidRequest, nil)
	}
	f := &metadataFetch{
		client: a.loginClient(),
		url: a.loginBaseURL() + "/" + url.PathEscape(in.TenantID) +
			"/federationmetadata/2007-06/federationmetadata.xml?appid=" + url.QueryEscape(in.AppID),
		in: in,
	}

	var result model.FederationMetadata
	var notYet error // why the last download was not what we wait for
	err := poll(ctx, a.appVisibilityWait(), func() (bool, error) {
		heartbeat(ctx, nil)
		var err error
		result, notYet, err = f.fetch(ctx)
		return notYet == nil, err
	})
	if errors.Is(err, errPollTimeout) {
		return model.FederationMetadata{}, notYet
	}
	if err != nil {
		return model.FederationMetadata{}, err
	}
	return result, nil
}

// metadataFetch is one run of FetchFederationMetadata.
type metadataFetch struct {
	client *http.Client
	url    string
	in     FetchFederationMetadataInput
}

// fetch downloads and checks the metadata once. notYet is a
// non-retryable error for what may still change if fetched again (Entra
// not yet publishing the app or its new certificate); err is final for
// this attempt.
func (f *metadataFetch) fetch(ctx context.Context) (result model.FederationMetadata, notYet, err error) {
	data, status, err := f.download(ctx)
	if err != nil {
		return result, nil, err
	}
	switch {
	case status == http.StatusNotFound || status == http.StatusBadRequest:
		return result, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"Entra publishes no federation metadata for app %s in tenant %s (HTTP %d: %s). "+
				"Check that the tenant ID is right and that the enterprise application exists and has an active SAML signing certificate "+
				"(Single sign-on > SAML Certificates); then retry this step",
			f.in.AppID, f.in.TenantID, status, excerpt(data)), ErrInvalidMetadata, nil), nil
	case status == http.StatusTooManyRequests || status >= 500:
		return result, nil, fmt.Errorf("download the federation metadata from %s: HTTP %d; the activity is retried", f.url, status)
	case status != http.StatusOK:
		return result, nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"download the federation metadata from %s: HTTP %d: %s", f.url, status, excerpt(data)), ErrInvalidMetadata, nil)
	}

	idp, err := samlmeta.ParseIdPMetadata(data, f.in.TenantID, time.Now())
	if err != nil {
		return result, nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"the federation metadata of app %s is not usable: %v", f.in.AppID, err), ErrInvalidMetadata, err)
	}
	cert, ok := chooseCertificate(idp, f.in.CertificateThumbprint)
	if !ok {
		return result, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"the federation metadata of app %s names signing certificate(s) %s, not the app's active certificate %s. "+
				"Check in the enterprise application (Single sign-on > SAML Certificates) that %s is active, then retry this step",
			f.in.AppID, thumbprints(idp), f.in.CertificateThumbprint, f.in.CertificateThumbprint), ErrInvalidMetadata, nil), nil
	}
	return model.FederationMetadata{
		MetadataXML:           string(data),
		EntityID:              idp.EntityID,
		SignOnURL:             idp.SingleSignOnURL,
		CertificateThumbprint: cert.Thumbprint,
		CertificateExpires:    cert.NotAfter,
	}, nil, nil
}

// download GETs the metadata: the body (at most one byte more than
// samlmeta accepts, so an oversized document is reported as such) and the
// status. A network error is retryable.
func (f *metadataFetch) download(ctx context.Context) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.url, nil)
	if err != nil {
		return nil, 0, temporal.NewNonRetryableApplicationError(fmt.Sprintf("the federation metadata URL %q is not valid: check the login base URL and the tenant ID", f.url), ErrInvalidRequest, err)
	}
	req.Header.Set("Accept", "application/xml, text/xml")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("download the federation metadata from %s: %w", f.url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, samlmeta.MaxMetadataSize+1))
	if err != nil {
		return nil, 0, fmt.Errorf("download the federation metadata from %s: %w", f.url, err)
	}
	return data, resp.StatusCode, nil
}

// chooseCertificate returns the certificate whose thumbprint is want, or
// when want is empty the valid one that lasts longest.
func chooseCertificate(idp samlmeta.IdP, want string) (samlmeta.Certificate, bool) {
	var best samlmeta.Certificate
	found := false
	now := time.Now()
	for _, c := range idp.SigningCertificates {
		switch {
		case want != "" && strings.EqualFold(c.Thumbprint, want):
			return c, true
		case want == "" && c.ValidAt(now) && (!found || c.NotAfter.After(best.NotAfter)):
			best, found = c, true
		}
	}
	return best, found
}

func thumbprints(idp samlmeta.IdP) string {
	out := make([]string, len(idp.SigningCertificates))
	for i, c := range idp.SigningCertificates {
		out[i] = c.Thumbprint
	}
	return strings.Join(out, ", ")
}

// excerpt is the start of a response body for an error message.
func excerpt(data []byte) string {
	const limit = 200
	s := strings.TrimSpace(string(data))
	if len(s) > limit {
		s = s[:limit] + "..."
	}
	return s
}
