package samlmeta

import (
	"github.com/platformguide/ssocutover/internal/partition"

	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// SP is what the cutover needs from the AWS IAM Identity Center service
// provider metadata: the values the Entra enterprise application is
// configured with (identifierUris = EntityID, web.redirectUris = ACSURLs).
//
// The entity ID ("IAM Identity Center issuer URL" in the console) ends with
// the identity store ID, and the ACS URL ends with a different identifier
// that AWS calls the tenant ID, so the two URLs do not share an ID:
//
//	https://eu-west-1.signin.aws.amazon.com/platform/saml/d-1234567890
//	https://eu-west-1.signin.aws.amazon.com/platform/saml/acs/0123456789abcdef-0123-4567-89ab-0123456789ab
//
// Switching the identity source can change the identity store ID, so
// IdentityStoreID here is the one to use after the switch.
type SP struct {
	EntityID string `json:"entityId"`
	// ACSURL is the default assertion consumer service (HTTP-POST) URL.
	ACSURL string `json:"acsUrl"`
	// ACSURLs lists every HTTP-POST assertion consumer service URL in the
	// metadata, the default first, without duplicates. AWS lists several:
	// the IPv4 and dual-stack endpoints, and one per additional Region.
	ACSURLs         []string `json:"acsUrls"`
	Region          string   `json:"region"`
	IdentityStoreID string   `json:"identityStoreId"`
	// ACSTenantID is the last path segment of the default ACS URL.
	ACSTenantID string `json:"acsTenantId"`
}

// spFix is the advice every SP metadata error ends with.
const spFix = "Download the service provider metadata again from the IAM Identity Center console in the instance's home Region " +
	"(Settings > Identity source > Actions > Change identity source > External identity provider > Service provider metadata > Download metadata file) " +
	"and submit that file unchanged"

const spWhat = "AWS service provider metadata"

// The host names AWS uses for IAM Identity Center SAML endpoints, each
// preceded by "<region>.", are the partition's sign-in hosts
// (internal/partition). In the commercial partition they are documented in
// the IAM Identity Center user guide ("Assertion Consumer Service (ACS)
// endpoints in the primary and additional AWS Regions"):
//   - <region>.signin.aws            IPv4 only
//   - <region>.signin.aws.amazon.com "alternative IPv4 only", the form
//     instances created before February 2026 show, and the form the issuer
//     URL (entity ID) takes in every published example
//   - <region>.sso.signin.aws        dual-stack
//
// The region-less https://signin.aws.amazon.com/saml belongs to IAM SAML
// federation, not to IAM Identity Center, and is refused.

var (
	// AWS Region names: us-east-1, eu-central-2, us-gov-west-1, ap-southeast-5.
	regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)
	// Identity store IDs as the identitystore API defines them.
	identityStoreIDPattern = regexp.MustCompile(`^(d-[0-9a-f]{10}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$`)
	// ACS tenant IDs seen in the documentation and in real consoles vary in
	// shape (a UUID, 16 hex digits followed by a UUID tail, a longer hex
	// prefix), so only the character set and a length bound are checked.
	acsTenantIDPattern = regexp.MustCompile(`^[0-9a-z][0-9a-z-]{0,127}$`)
)

// parseAWSSigninURL checks that raw is https://<region>.<AWS signin
// host>/<pathPrefix><id> and returns the Region and the ID. problem is empty
// when the URL is good, else it says what is wrong, for an error message.
func parseAWSSigninURL(raw, pathPrefix string, idPattern *regexp.Regexp) (region, id, problem string) {
	rest, ok := strings.CutPrefix(raw, "https://")
	if !ok {
		if strings.HasPrefix(strings.ToLower(raw), "http://") {
			return "", "", "uses http; IAM Identity Center URLs are always https"
		}
		return "", "", "is not an https:// URL"
	}
	host, path, ok := strings.Cut(rest, "/")
	if !ok {
		return "", "", "has no path"
	}
	region, p, ok := partition.SigninRegion(host)
	if !ok {
		for _, p := range partition.AWSPartitions() {
			for _, h := range p.SigninHosts {
				if host == h {
					return "", "", "has no AWS Region in its host name; IAM Identity Center always gives Regional URLs such as https://eu-west-1." + h + "/..."
				}
			}
		}
		return "", "", "is not on an AWS sign-in host (<region>.signin.aws.amazon.com, <region>.signin.aws or <region>.sso.signin.aws; " +
			"<region>.signin.amazonaws-us-gov.com in GovCloud (US), <region>.signin.amazonaws.cn in China)"
	}
	if home := partition.ForRegion(region); home.Name != p.Name {
		return "", "", fmt.Sprintf("is on a sign-in host of the %s partition, but Region %s is in the %s partition", p.Name, region, home.Name)
	}
	if !regionPattern.MatchString(region) {
		return "", "", fmt.Sprintf("has host %s, which does not start with an AWS Region name", quote(host))
	}
	id, ok = strings.CutPrefix("/"+path, pathPrefix)
	if !ok || !idPattern.MatchString(id) {
		return "", "", fmt.Sprintf("has path %s; expected %s followed by the ID", quote("/"+path), pathPrefix)
	}
	return region, id, ""
}

func parseSPEntityID(entityID string) (region, identityStoreID, problem string) {
	return parseAWSSigninURL(entityID, "/platform/saml/", identityStoreIDPattern)
}

func parseACSURL(acsURL string) (region, tenantID, problem string) {
	return parseAWSSigninURL(acsURL, "/platform/saml/acs/", acsTenantIDPattern)
}

// ParseSPMetadata parses and validates the SAML 2.0 service provider
// metadata that the IAM Identity Center console gives when the identity
// source is switched to an external identity provider. region is the home
// Region of the Identity Center instance being cut over; the metadata must
// be for that Region.
func ParseSPMetadata(data []byte, region string) (SP, error) {
	if !regionPattern.MatchString(region) {
		return SP{}, &Error{ErrInvalidRequest, fmt.Sprintf("the expected Region %s is not an AWS Region name", quote(region)), "Check the region in the cutover request"}
	}
	ed, err := decodeEntityDescriptor(data, spWhat, spFix)
	if err != nil {
		return SP{}, err
	}
	switch {
	case len(ed.SPs) == 0 && len(ed.IdPs) > 0:
		return SP{}, &Error{ErrWrongDocument, "this is identity provider metadata (it has an IDPSSODescriptor), probably the Microsoft Entra federation metadata; this step needs the AWS service provider metadata", spFix}
	case len(ed.SPs) == 0:
		return SP{}, &Error{ErrDescriptor, "the " + spWhat + " has no SPSSODescriptor", spFix}
	case len(ed.SPs) > 1:
		return SP{}, &Error{ErrDescriptor, fmt.Sprintf("the %s has %d SPSSODescriptor elements; IAM Identity Center gives exactly one", spWhat, len(ed.SPs)), spFix}
	case len(ed.IdPs) > 0:
		return SP{}, &Error{ErrWrongDocument, "the " + spWhat + " also contains an IDPSSODescriptor, which IAM Identity Center's service provider metadata never has", spFix}
	}
	descriptor := ed.SPs[0]
	if !supportsSAML20(descriptor.ProtocolSupportEnumeration) {
		return SP{}, &Error{ErrDescriptor, fmt.Sprintf("the SPSSODescriptor's protocolSupportEnumeration %s does not include SAML 2.0 (%s)", quote(descriptor.ProtocolSupportEnumeration), protocolSAML20), spFix}
	}
	acsURLs, err := postACSURLs(descriptor.AssertionConsumerServices)
	if err != nil {
		return SP{}, err
	}

	sp := SP{EntityID: ed.EntityID, ACSURL: acsURLs[0], ACSURLs: acsURLs}
	// Fill the derived fields from the URLs as they are; Validate then says
	// precisely what is wrong with them, if anything.
	sp.Region, sp.IdentityStoreID, _ = parseSPEntityID(sp.EntityID)
	_, sp.ACSTenantID, _ = parseACSURL(sp.ACSURL)
	if err := sp.Validate(region); err != nil {
		return SP{}, err
	}
	return sp, nil
}

// postACSURLs returns the Location of every HTTP-POST
// AssertionConsumerService, the default one first (SAML metadata section
// 2.2.3: the first with isDefault="true", else the first without
// isDefault="false", else the first), without duplicates. Endpoints with
// other bindings are skipped: AWS receives assertions only by HTTP-POST.
func postACSURLs(services []endpoint) ([]string, error) {
	var post []endpoint
	for _, s := range services {
		if s.Index != "" {
			if _, err := strconv.ParseUint(s.Index, 10, 16); err != nil {
				return nil, &Error{ErrACS, fmt.Sprintf("an AssertionConsumerService has index %s, which is not a number from 0 to 65535", quote(s.Index)), spFix}
			}
		}
		switch s.IsDefault {
		case "", "true", "false", "1", "0":
		default:
			return nil, &Error{ErrACS, fmt.Sprintf("an AssertionConsumerService has isDefault %s, which is not true or false", quote(s.IsDefault)), spFix}
		}
		if s.Binding == bindingPOST {
			post = append(post, s)
		}
	}
	if len(post) == 0 {
		return nil, &Error{ErrACS, "the " + spWhat + " has no AssertionConsumerService with the HTTP-POST binding (" + bindingPOST + ")", spFix}
	}

	isTrue := func(s endpoint) bool { return s.IsDefault == "true" || s.IsDefault == "1" }
	isFalse := func(s endpoint) bool { return s.IsDefault == "false" || s.IsDefault == "0" }
	defaultIndex, explicitDefaults := -1, 0
	for i, s := range post {
		if isTrue(s) {
			explicitDefaults++
			if defaultIndex < 0 {
				defaultIndex = i
			}
		}
	}
	if explicitDefaults > 1 {
		return nil, &Error{ErrACS, fmt.Sprintf("%d AssertionConsumerService elements are marked isDefault=\"true\"; at most one may be", explicitDefaults), spFix}
	}
	for i, s := range post {
		if defaultIndex < 0 && !isFalse(s) {
			defaultIndex = i
		}
	}
	if defaultIndex < 0 {
		defaultIndex = 0
	}

	urls := []string{post[defaultIndex].Location}
	seen := map[string]bool{post[defaultIndex].Location: true}
	for _, s := range post {
		if !seen[s.Location] {
			seen[s.Location] = true
			urls = append(urls, s.Location)
		}
	}
	return urls, nil
}

// Validate checks that sp holds a consistent IAM Identity Center service
// provider for the given home Region: the entity ID and every ACS URL in
// the AWS formats, the derived fields matching the URLs, and the entity ID
// and the default ACS URL in region. ParseSPMetadata calls it last; the
// workflow can call it again on an SP it received from elsewhere.
//
// ACS URLs other than the default may be in other Regions: a multi-Region
// instance lists one per enabled Region.
func (sp SP) Validate(region string) error {
	if !regionPattern.MatchString(region) {
		return &Error{ErrInvalidRequest, fmt.Sprintf("the expected Region %s is not an AWS Region name", quote(region)), "Check the region in the cutover request"}
	}
	entityRegion, storeID, problem := parseSPEntityID(sp.EntityID)
	if problem != "" {
		return &Error{ErrEntityID, fmt.Sprintf("the entity ID (IAM Identity Center issuer URL) %s %s; expected https://%s.%s/platform/saml/d-xxxxxxxxxx", quote(sp.EntityID), problem, region, partition.ForRegion(region).SigninHosts[0]), spFix}
	}
	if entityRegion != region {
		return &Error{ErrRegion, fmt.Sprintf("the metadata is for an IAM Identity Center instance in Region %s (entity ID %s), but this cutover is for Region %s", entityRegion, quote(sp.EntityID), region), spFix}
	}
	if sp.Region != entityRegion || sp.IdentityStoreID != storeID {
		return &Error{ErrEntityID, fmt.Sprintf("the Region %s and identity store ID %s do not match the entity ID %s", quote(sp.Region), quote(sp.IdentityStoreID), quote(sp.EntityID)), spFix}
	}

	if len(sp.ACSURLs) == 0 || sp.ACSURLs[0] != sp.ACSURL {
		return &Error{ErrACS, "the default ACS URL must be the first of the ACS URLs", spFix}
	}
	seen := make(map[string]bool, len(sp.ACSURLs))
	for _, acs := range sp.ACSURLs {
		if seen[acs] {
			return &Error{ErrACS, fmt.Sprintf("the ACS URL %s is listed twice", quote(acs)), spFix}
		}
		seen[acs] = true
		if _, _, problem := parseACSURL(acs); problem != "" {
			return &Error{ErrACS, fmt.Sprintf("the assertion consumer service URL %s %s; expected https://%s.%s/platform/saml/acs/<tenant ID>", quote(acs), problem, region, partition.ForRegion(region).SigninHosts[0]), spFix}
		}
	}
	acsRegion, tenantID, _ := parseACSURL(sp.ACSURL)
	if acsRegion != region {
		return &Error{ErrRegion, fmt.Sprintf("the default assertion consumer service URL %s is in Region %s, but this cutover is for Region %s", quote(sp.ACSURL), acsRegion, region), spFix}
	}
	if sp.ACSTenantID != tenantID {
		return &Error{ErrACS, fmt.Sprintf("the ACS tenant ID %s does not match the default ACS URL %s", quote(sp.ACSTenantID), quote(sp.ACSURL)), spFix}
	}
	return nil
}

// SPMetadata returns service provider metadata in the format the IAM
// Identity Center console downloads, for the sandbox's console step: the
// issuer URL with the identity store ID, and three HTTP-POST ACS endpoints
// for the home Region (the signin.aws.amazon.com form as the default, as an
// instance created before February 2026 shows it, then the IPv4 and
// dual-stack signin.aws forms), then the IPv4 and dual-stack ones of each
// additional Region of a multi-Region instance, which signs people in there
// too. The output always passes ParseSPMetadata for region.
func SPMetadata(region, identityStoreID, acsTenantID string, additionalRegions ...string) ([]byte, error) {
	acs := func(region, host string) string {
		return "https://" + region + "." + host + "/platform/saml/acs/" + acsTenantID
	}
	// The commercial partition's forms, in the order the console lists
	// them (the home Region's three, an additional Region's IPv4 and
	// dual-stack ones); another partition's one sign-in host.
	forms := func(region string, home bool) []string {
		if p := partition.ForRegion(region); p.Name != "aws" {
			return []string{acs(region, p.SigninHosts[0])}
		}
		if !home {
			return []string{acs(region, "signin.aws"), acs(region, "sso.signin.aws")}
		}
		return []string{acs(region, "signin.aws.amazon.com"), acs(region, "signin.aws"), acs(region, "sso.signin.aws")}
	}
	acsURLs := forms(region, true)
	for _, r := range additionalRegions {
		acsURLs = append(acsURLs, forms(r, false)...)
	}
	sp := SP{
		EntityID:        "https://" + region + "." + partition.ForRegion(region).SigninHosts[0] + "/platform/saml/" + identityStoreID,
		ACSURL:          acsURLs[0],
		ACSURLs:         acsURLs,
		Region:          region,
		IdentityStoreID: identityStoreID,
		ACSTenantID:     acsTenantID,
	}
	if err := sp.Validate(region); err != nil {
		return nil, fmt.Errorf("cannot generate service provider metadata: %w", err)
	}
	// Every value was checked against a pattern without XML special
	// characters, so plain string formatting is safe here.
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	fmt.Fprintf(&b, `<md:EntityDescriptor xmlns:md="%s" entityID="%s">`+"\n", nsMetadata, sp.EntityID)
	fmt.Fprintf(&b, `  <md:SPSSODescriptor AuthnRequestsSigned="false" WantAssertionsSigned="true" protocolSupportEnumeration="%s">`+"\n", protocolSAML20)
	b.WriteString(`    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>` + "\n")
	for i, url := range sp.ACSURLs {
		isDefault := ""
		if i == 0 {
			isDefault = ` isDefault="true"`
		}
		fmt.Fprintf(&b, `    <md:AssertionConsumerService Binding="%s" Location="%s" index="%d"%s/>`+"\n", bindingPOST, url, i, isDefault)
	}
	b.WriteString("  </md:SPSSODescriptor>\n</md:EntityDescriptor>\n")
	return []byte(b.String()), nil
}
