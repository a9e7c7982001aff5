package samlmeta

import (
	"github.com/platformguide/ssocutover/internal/partition"

	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// IdP is what the cutover needs from the Microsoft Entra ID federation
// metadata of the enterprise application: the values the person uploads to
// IAM Identity Center (issuer, sign-in URL, signing certificate).
type IdP struct {
	// EntityID is https://sts.windows.net/<tenant ID>/.
	EntityID string `json:"entityId"`
	// TenantID is the Entra tenant ID, lower case.
	TenantID string `json:"tenantId"`
	// SingleSignOnURL is https://login.microsoftonline.com/<tenant ID>/saml2.
	SingleSignOnURL string `json:"singleSignOnUrl"`
	// SigningCertificates are the IdP's signing certificates in document
	// order, without duplicates. At least one is valid at the time passed to
	// ParseIdPMetadata; during a certificate rollover Entra lists more.
	SigningCertificates []Certificate `json:"signingCertificates"`
}

// Certificate is one signing certificate from the metadata.
type Certificate struct {
	// DER is the certificate as it appears in the metadata, decoded.
	DER []byte `json:"der"`
	// Thumbprint is the SHA-1 of DER in upper-case hex, the form the Entra
	// portal shows and preferredTokenSigningKeyThumbprint holds.
	Thumbprint string    `json:"thumbprint"`
	Subject    string    `json:"subject"`
	NotBefore  time.Time `json:"notBefore"`
	NotAfter   time.Time `json:"notAfter"`
}

// ValidAt reports whether the certificate is within its validity period at t.
func (c Certificate) ValidAt(t time.Time) bool {
	return !t.Before(c.NotBefore) && !t.After(c.NotAfter)
}

const idpWhat = "Microsoft Entra federation metadata"

// idpFix is the advice every IdP metadata error ends with.
const idpFix = "Fetch the federation metadata again from the Microsoft Entra enterprise application " +
	"(Single sign-on > SAML Certificates > Federation Metadata XML, or " +
	"https://login.microsoftonline.com/<tenant ID>/federationmetadata/2007-06/federationmetadata.xml?appid=<application ID>) " +
	"and use that file unchanged"

// certificateFix is the advice when no signing certificate is usable.
const certificateFix = "In the enterprise application, open Single sign-on > SAML Certificates, create a new certificate, make it active, " +
	"then fetch the federation metadata again"

// The global cloud's issuer and login prefixes, which the sandbox's
// metadata uses; the checks accept every Entra cloud's (internal/partition).
const (
	entraIssuerPrefix = "https://sts.windows.net/"
	entraLoginPrefix  = "https://login.microsoftonline.com/"
	entraSAMLPath     = "/saml2"
)

// entraTenantIn finds the Entra cloud whose prefix (its issuer's or its
// login host's) raw starts with, and the tenant between that prefix and
// suffix; "" when raw is no such URL of any cloud.
func entraTenantIn(raw string, prefix func(partition.Entra) string, suffix string) (partition.Entra, string) {
	for _, c := range partition.EntraClouds() {
		if tenant := tenantInURL(raw, prefix(c), suffix); tenant != "" {
			return c, tenant
		}
	}
	return partition.Entra{}, ""
}

func issuerPrefix(c partition.Entra) string { return c.IssuerPrefix }
func loginPrefix(c partition.Entra) string  { return "https://" + c.LoginHost + "/" }

var tenantIDPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// normalizeTenantID returns the tenant ID in lower case, or an error if it is
// not a GUID. Entra shows tenant IDs in lower case but GUIDs compare without
// regard to case.
func normalizeTenantID(tenantID string) (string, error) {
	t := strings.ToLower(tenantID)
	if !tenantIDPattern.MatchString(t) {
		return "", &Error{ErrInvalidRequest, fmt.Sprintf("the Entra tenant ID %s is not a GUID", quote(tenantID)), "Check entraTenantId in the cutover request"}
	}
	return t, nil
}

// tenantInURL returns the GUID between prefix and suffix in raw, lower case,
// or "" if raw does not have that shape.
func tenantInURL(raw, prefix, suffix string) string {
	middle, ok := strings.CutPrefix(raw, prefix)
	if !ok {
		return ""
	}
	middle, ok = strings.CutSuffix(middle, suffix)
	if !ok {
		return ""
	}
	middle = strings.ToLower(middle)
	if !tenantIDPattern.MatchString(middle) {
		return ""
	}
	return middle
}

// ParseIdPMetadata parses and validates Microsoft Entra ID federation
// metadata for the given tenant: the entity ID and single sign-on URL of that
// tenant (global Azure cloud), and at least one signing certificate valid at
// now. now is passed in so the result is deterministic (a workflow passes
// workflow.Now).
//
// The metadata's own XML signature is not checked: the document is fetched
// over TLS from Microsoft (or handed over by the person), and IAM Identity
// Center does not require it either.
func ParseIdPMetadata(data []byte, tenantID string, now time.Time) (IdP, error) {
	tenant, err := normalizeTenantID(tenantID)
	if err != nil {
		return IdP{}, err
	}
	ed, err := decodeEntityDescriptor(data, idpWhat, idpFix)
	if err != nil {
		return IdP{}, err
	}
	switch {
	case len(ed.IdPs) == 0 && len(ed.SPs) > 0:
		return IdP{}, &Error{ErrWrongDocument, "this is service provider metadata (it has an SPSSODescriptor), probably the AWS IAM Identity Center metadata; this step needs the Microsoft Entra federation metadata", idpFix}
	case len(ed.IdPs) == 0:
		return IdP{}, &Error{ErrDescriptor, "the " + idpWhat + " has no IDPSSODescriptor", idpFix}
	case len(ed.IdPs) > 1:
		return IdP{}, &Error{ErrDescriptor, fmt.Sprintf("the %s has %d IDPSSODescriptor elements; Entra gives exactly one", idpWhat, len(ed.IdPs)), idpFix}
	case len(ed.SPs) > 0:
		return IdP{}, &Error{ErrWrongDocument, "the " + idpWhat + " also contains an SPSSODescriptor, which Entra federation metadata never has", idpFix}
	}
	descriptor := ed.IdPs[0]
	if !supportsSAML20(descriptor.ProtocolSupportEnumeration) {
		return IdP{}, &Error{ErrDescriptor, fmt.Sprintf("the IDPSSODescriptor's protocolSupportEnumeration %s does not include SAML 2.0 (%s)", quote(descriptor.ProtocolSupportEnumeration), protocolSAML20), idpFix}
	}

	// The entity ID first: a document for the wrong tenant is best reported
	// as such, not as a wrong sign-in URL.
	if err := checkEntraEntityID(ed.EntityID, tenant); err != nil {
		return IdP{}, err
	}
	ssoURL, err := entraSingleSignOnURL(descriptor.SingleSignOnServices, tenant)
	if err != nil {
		return IdP{}, err
	}
	certs, err := signingCertificates(descriptor.KeyDescriptors)
	if err != nil {
		return IdP{}, err
	}
	idp := IdP{EntityID: ed.EntityID, TenantID: tenant, SingleSignOnURL: ssoURL, SigningCertificates: certs}
	if err := idp.Validate(tenant, now); err != nil {
		return IdP{}, err
	}
	return idp, nil
}

// entraSingleSignOnURL checks every HTTP-Redirect and HTTP-POST
// SingleSignOnService: all must point at the tenant's SAML endpoint, and at
// least one must exist. It returns the Redirect location if there is one
// (the binding AWS uses for SP-initiated sign-in), else the POST one.
func entraSingleSignOnURL(services []endpoint, tenant string) (string, error) {
	redirect, post := "", ""
	for _, s := range services {
		if s.Binding != bindingRedirect && s.Binding != bindingPOST {
			continue
		}
		_, got := entraTenantIn(s.Location, loginPrefix, entraSAMLPath)
		if got == "" {
			return "", &Error{ErrSingleSignOn, fmt.Sprintf("the SingleSignOnService location %s is not https://<Entra login host>/<tenant ID>/saml2 (login.microsoftonline.com, login.microsoftonline.us or login.chinacloudapi.cn)", quote(s.Location)), idpFix}
		}
		if got != tenant {
			return "", &Error{ErrSingleSignOn, fmt.Sprintf("the SingleSignOnService location %s is for tenant %s, but this cutover is for tenant %s", quote(s.Location), got, tenant), idpFix}
		}
		if s.Binding == bindingRedirect && redirect == "" {
			redirect = s.Location
		}
		if s.Binding == bindingPOST && post == "" {
			post = s.Location
		}
	}
	switch {
	case redirect != "":
		return redirect, nil
	case post != "":
		return post, nil
	}
	return "", &Error{ErrSingleSignOn, "the " + idpWhat + " has no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding", idpFix}
}

// signingCertificates decodes every X509Certificate of the KeyDescriptors
// used for signing (use="signing", or no use, which means both). A
// certificate that does not decode is an error: the document is damaged.
func signingCertificates(descriptors []keyDescriptor) ([]Certificate, error) {
	var certs []Certificate
	seen := map[string]bool{}
	n := 0
	for _, kd := range descriptors {
		if kd.Use != "" && kd.Use != "signing" {
			continue
		}
		for _, data := range kd.KeyInfo.X509Data {
			for _, text := range data.Certificates {
				n++
				// Base64 in XML is often wrapped over several lines.
				compact := strings.Join(strings.Fields(text), "")
				der, err := base64.StdEncoding.DecodeString(compact)
				if err != nil {
					return nil, &Error{ErrCertificate, fmt.Sprintf("signing certificate %d is not valid base64 (%v)", n, err), idpFix}
				}
				cert, err := certificateFromDER(der)
				if err != nil {
					return nil, &Error{ErrCertificate, fmt.Sprintf("signing certificate %d is not an X.509 certificate (%v)", n, err), idpFix}
				}
				if !seen[cert.Thumbprint] {
					seen[cert.Thumbprint] = true
					certs = append(certs, cert)
				}
			}
		}
	}
	if len(certs) == 0 {
		return nil, &Error{ErrCertificate, "the " + idpWhat + " has no signing certificate (KeyDescriptor use=\"signing\" with an X509Certificate)", certificateFix}
	}
	return certs, nil
}

func certificateFromDER(der []byte) (Certificate, error) {
	parsed, err := x509.ParseCertificate(der)
	if err != nil {
		return Certificate{}, err
	}
	sum := sha1.Sum(der)
	return Certificate{
		DER:        der,
		Thumbprint: strings.ToUpper(hex.EncodeToString(sum[:])),
		Subject:    parsed.Subject.String(),
		NotBefore:  parsed.NotBefore.UTC(),
		NotAfter:   parsed.NotAfter.UTC(),
	}, nil
}

// checkEntraEntityID checks that entityID is the issuer of tenant (lower
// case) in the global Azure cloud.
func checkEntraEntityID(entityID, tenant string) error {
	_, got := entraTenantIn(entityID, issuerPrefix, "/")
	if got == "" {
		return &Error{ErrEntityID, fmt.Sprintf("the entity ID %s is not the SAML issuer of an Entra tenant (https://sts.windows.net/<tenant ID>/ in the global cloud)", quote(entityID)), idpFix}
	}
	if got != tenant {
		return &Error{ErrEntityID, fmt.Sprintf("the metadata is for Entra tenant %s (entity ID %s), but this cutover is for tenant %s", got, quote(entityID), tenant), idpFix}
	}
	return nil
}

// Validate checks that idp is consistent Entra federation metadata for
// tenantID at time now: entity ID and single sign-on URL of that tenant,
// every certificate's fields matching its DER, and at least one certificate
// valid at now. ParseIdPMetadata calls it last.
func (idp IdP) Validate(tenantID string, now time.Time) error {
	tenant, err := normalizeTenantID(tenantID)
	if err != nil {
		return err
	}
	if now.IsZero() {
		return &Error{ErrInvalidRequest, "the time to check certificates at is not set", ""}
	}
	if err := checkEntraEntityID(idp.EntityID, tenant); err != nil {
		return err
	}
	if idp.TenantID != tenant {
		return &Error{ErrEntityID, fmt.Sprintf("the tenant ID %s does not match the entity ID %s", quote(idp.TenantID), quote(idp.EntityID)), idpFix}
	}
	issuerCloud, _ := entraTenantIn(idp.EntityID, issuerPrefix, "/")
	if cloud, got := entraTenantIn(idp.SingleSignOnURL, loginPrefix, entraSAMLPath); got != tenant || cloud.Name != issuerCloud.Name {
		return &Error{ErrSingleSignOn, fmt.Sprintf("the single sign-on URL %s is not https://%s/%s/saml2, the login of the %s cloud that issued %s",
			quote(idp.SingleSignOnURL), issuerCloud.LoginHost, tenant, issuerCloud.Name, quote(idp.EntityID)), idpFix}
	}

	if len(idp.SigningCertificates) == 0 {
		return &Error{ErrCertificate, "the " + idpWhat + " has no signing certificate", certificateFix}
	}
	var latestExpiry time.Time
	valid := false
	for i, c := range idp.SigningCertificates {
		parsed, err := certificateFromDER(c.DER)
		if err != nil {
			return &Error{ErrCertificate, fmt.Sprintf("signing certificate %d is not an X.509 certificate (%v)", i+1, err), idpFix}
		}
		if parsed.Thumbprint != c.Thumbprint || parsed.Subject != c.Subject ||
			!parsed.NotBefore.Equal(c.NotBefore) || !parsed.NotAfter.Equal(c.NotAfter) || !bytes.Equal(parsed.DER, c.DER) {
			return &Error{ErrCertificate, fmt.Sprintf("signing certificate %d's details do not match the certificate itself", i+1), idpFix}
		}
		valid = valid || c.ValidAt(now)
		if c.NotAfter.After(latestExpiry) {
			latestExpiry = c.NotAfter
		}
	}
	if !valid {
		if now.After(latestExpiry) {
			return &Error{ErrCertificate, fmt.Sprintf("every signing certificate in the %s has expired (the latest on %s)", idpWhat, latestExpiry.Format(time.RFC3339)), certificateFix}
		}
		return &Error{ErrCertificate, fmt.Sprintf("no signing certificate in the %s is valid yet at %s", idpWhat, now.UTC().Format(time.RFC3339)), certificateFix}
	}
	return nil
}

// IdPMetadata returns federation metadata in the format Microsoft Entra ID
// serves at .../federationmetadata/2007-06/federationmetadata.xml?appid=...,
// for the sandbox: entity ID https://sts.windows.net/<tenant>/, a WS-Fed
// RoleDescriptor and a SAML 2.0 IDPSSODescriptor with the signing
// certificate, and SAML endpoints at https://login.microsoftonline.com/<tenant>/saml2.
//
// Entra signs the document with an enveloped XML signature; this generator
// has only the certificate, not its key, so its output is unsigned (the
// parser does not check the signature, see ParseIdPMetadata). The ID
// attribute is derived from the tenant and certificate so the output is
// deterministic. The output passes ParseIdPMetadata for the tenant at any
// time within the certificate's validity.
func IdPMetadata(tenantID string, cert *x509.Certificate) ([]byte, error) {
	tenant, err := normalizeTenantID(tenantID)
	if err != nil {
		return nil, fmt.Errorf("cannot generate federation metadata: %w", err)
	}
	if cert == nil || len(cert.Raw) == 0 {
		return nil, fmt.Errorf("cannot generate federation metadata: %w: no signing certificate", ErrInvalidRequest)
	}
	sum := sha256.Sum256(append([]byte(tenant+"\x00"), cert.Raw...))
	h := hex.EncodeToString(sum[:16])
	id := "_" + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
	certB64 := base64.StdEncoding.EncodeToString(cert.Raw)
	keyDescriptor := `<KeyDescriptor use="signing"><KeyInfo xmlns="` + nsXMLDSig + `"><X509Data><X509Certificate>` + certB64 + `</X509Certificate></X509Data></KeyInfo></KeyDescriptor>`
	login := entraLoginPrefix + tenant

	// Every interpolated value is a checked GUID, base64 or a constant, so
	// plain string formatting is safe here.
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	fmt.Fprintf(&b, `<EntityDescriptor ID="%s" entityID="%s%s/" xmlns="%s">`+"\n", id, entraIssuerPrefix, tenant, nsMetadata)
	b.WriteString(`  <RoleDescriptor xsi:type="fed:SecurityTokenServiceType" protocolSupportEnumeration="http://docs.oasis-open.org/wsfed/federation/200706" ` +
		`xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:fed="http://docs.oasis-open.org/wsfed/federation/200706">` + "\n")
	b.WriteString("    " + keyDescriptor + "\n")
	for _, element := range []string{"SecurityTokenServiceEndpoint", "PassiveRequestorEndpoint"} {
		fmt.Fprintf(&b, `    <fed:%s><wsa:EndpointReference xmlns:wsa="http://www.w3.org/2005/08/addressing"><wsa:Address>%s/wsfed</wsa:Address></wsa:EndpointReference></fed:%s>`+"\n", element, login, element)
	}
	b.WriteString("  </RoleDescriptor>\n")
	fmt.Fprintf(&b, `  <IDPSSODescriptor protocolSupportEnumeration="%s">`+"\n", protocolSAML20)
	b.WriteString("    " + keyDescriptor + "\n")
	fmt.Fprintf(&b, `    <SingleLogoutService Binding="%s" Location="%s%s"/>`+"\n", bindingRedirect, login, entraSAMLPath)
	fmt.Fprintf(&b, `    <SingleSignOnService Binding="%s" Location="%s%s"/>`+"\n", bindingRedirect, login, entraSAMLPath)
	fmt.Fprintf(&b, `    <SingleSignOnService Binding="%s" Location="%s%s"/>`+"\n", bindingPOST, login, entraSAMLPath)
	b.WriteString("  </IDPSSODescriptor>\n</EntityDescriptor>\n")
	return []byte(b.String()), nil
}
