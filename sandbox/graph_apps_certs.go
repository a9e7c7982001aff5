package sandbox

// Token signing certificates (POST /servicePrincipals/{id}/addTokenSigningCertificate)
// and the federation metadata Entra publishes for an app on
// login.microsoftonline.com, which the sandbox serves on the Graph
// listener, without a token, as Microsoft does.

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/platformguide/ssocutover/internal/samlmeta"
)

// signingCertificate is a token signing certificate of a service principal.
// Entra keeps the private key to sign SAML responses; the sandbox signs
// nothing and keeps only the certificate.
type signingCertificate struct {
	Certificate *x509.Certificate
	Thumbprint  string
}

// Entra's limits for addTokenSigningCertificate: a certificate lasts three
// years unless asked otherwise, and no longer.
const (
	signingCertificateDefaultLifetime = 3 * 365 * 24 * time.Hour
	signingCertificateMaxLifetime     = 3*365*24*time.Hour + 24*time.Hour
)

// addTokenSigningCertificate creates a self-signed certificate for sp and
// answers the selfSignedCertificate. Like Entra, it does not make the
// certificate active: preferredTokenSigningKeyThumbprint does.
func (a *appState) addTokenSigningCertificate(w http.ResponseWriter, r *http.Request, sp *entraServicePrincipal) *graphError {
	var body struct {
		DisplayName string     `json:"displayName"`
		EndDateTime *time.Time `json:"endDateTime"`
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody))
	if err != nil {
		return graphBadRequest("The request body could not be read.")
	}
	if len(data) > 0 {
		if err := json.Unmarshal(data, &body); err != nil {
			return graphBadRequest("Unable to read JSON request payload: %v.", err)
		}
	}
	commonName, ok := strings.CutPrefix(body.DisplayName, "CN=")
	if !ok || strings.TrimSpace(commonName) == "" {
		return graphBadRequest("Invalid value specified for property 'displayName': it must start with 'CN=' followed by a name.")
	}
	now := time.Now().UTC().Truncate(time.Second)
	end := now.Add(signingCertificateDefaultLifetime)
	if body.EndDateTime != nil {
		end = body.EndDateTime.UTC().Truncate(time.Second)
	}
	if !end.After(now) || end.Sub(now) > signingCertificateMaxLifetime {
		return graphBadRequest("Invalid value specified for property 'endDateTime': it must be in the future and at most three years from now.")
	}

	cert, err := newSelfSignedCertificate(commonName, now, end)
	if err != nil {
		return &graphError{Status: http.StatusInternalServerError, Code: "InternalServerError", Message: "The sandbox could not create a certificate: " + err.Error()}
	}
	signing := &signingCertificate{Certificate: cert, Thumbprint: certificateThumbprint(cert)}
	sp.certificates[signing.Thumbprint] = signing
	verifyKeyID := newObjectID()
	for _, usage := range []string{"Sign", "Verify"} {
		keyID := newObjectID()
		if usage == "Verify" {
			keyID = verifyKeyID
		}
		sp.KeyCredentials = append(sp.KeyCredentials, keyCredential{
			KeyID: keyID, DisplayName: body.DisplayName, Usage: usage,
			Start: cert.NotBefore, End: cert.NotAfter, Thumbprint: signing.Thumbprint,
		})
	}

	writeGraphJSON(w, http.StatusOK, map[string]any{
		"@odata.context":      graphServiceRoot(r) + "/$metadata#microsoft.graph.selfSignedCertificate",
		"customKeyIdentifier": thumbprintIdentifier(signing.Thumbprint),
		"displayName":         body.DisplayName,
		"endDateTime":         graphDateTime(cert.NotAfter),
		"key":                 base64.StdEncoding.EncodeToString(cert.Raw),
		"keyId":               verifyKeyID,
		"startDateTime":       graphDateTime(cert.NotBefore),
		"thumbprint":          signing.Thumbprint,
		"type":                "AsymmetricX509Cert",
		"usage":               "Verify",
	})
	return nil
}

// newSelfSignedCertificate makes an RSA 2048 certificate for SAML signing,
// as Entra's are.
func newSelfSignedCertificate(commonName string, notBefore, notAfter time.Time) (*x509.Certificate, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	template := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// certificateThumbprint is the SHA-1 of the certificate in upper-case hex,
// as Entra shows thumbprints.
func certificateThumbprint(cert *x509.Certificate) string {
	sum := sha1.Sum(cert.Raw)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// activeCertificate is the certificate Entra signs with and publishes: the
// one preferredTokenSigningKeyThumbprint names, if any.
func (sp *entraServicePrincipal) activeCertificate() *signingCertificate {
	if sp.PreferredTokenSigningKeyThumbprint == "" {
		return nil
	}
	return sp.certificates[strings.ToUpper(sp.PreferredTokenSigningKeyThumbprint)]
}

// serveFederationMetadata answers
// /{tenant}/federationmetadata/2007-06/federationmetadata.xml?appid={appId}
// and reports whether r was that request.
func (a *appState) serveFederationMetadata(w http.ResponseWriter, r *http.Request) bool {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if len(parts) != 4 || !strings.EqualFold(parts[1], "federationmetadata") ||
		parts[2] != "2007-06" || !strings.EqualFold(parts[3], "federationmetadata.xml") {
		return false
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeLoginError(w, http.StatusMethodNotAllowed, "The federation metadata is read with GET.")
		return true
	}
	tenant := strings.ToLower(parts[0])
	if tenant != a.tenantID {
		writeLoginError(w, http.StatusBadRequest, fmt.Sprintf("AADSTS90002: Tenant '%s' not found. Check that the tenant ID is right: this sandbox serves tenant '%s'.", parts[0], a.tenantID))
		return true
	}
	appID := r.URL.Query().Get("appid")
	metadata, status, problem := a.federationMetadata(appID)
	if problem != "" {
		writeLoginError(w, status, problem)
		return true
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(metadata)
	}
	return true
}

// federationMetadata is the SAML IdP metadata of the app appID, or the
// status and message of why there is none.
func (a *appState) federationMetadata(appID string) ([]byte, int, string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var sp *entraServicePrincipal
	now := time.Now()
	for _, app := range a.applications {
		if strings.EqualFold(app.AppID, appID) && app.visible(now) {
			sp = app.SP
		}
	}
	if appID == "" || sp == nil {
		return nil, http.StatusNotFound, fmt.Sprintf("AADSTS700016: Application with identifier '%s' was not found in the directory '%s'.", appID, a.tenantID)
	}
	active := sp.activeCertificate()
	if active == nil {
		return nil, http.StatusNotFound, fmt.Sprintf("Application '%s' has no active SAML signing certificate: add one (addTokenSigningCertificate) and make it active (preferredTokenSigningKeyThumbprint).", appID)
	}
	metadata, err := samlmeta.IdPMetadata(a.tenantID, active.Certificate)
	if err != nil {
		return nil, http.StatusInternalServerError, err.Error()
	}
	return metadata, 0, ""
}

func writeLoginError(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, message+"\n")
}
