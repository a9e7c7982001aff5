// Package partition knows the host names that differ between AWS
// partitions (commercial, GovCloud (US), China) and between Entra's
// national clouds, so that the checks on a SCIM endpoint, on service
// provider and federation metadata, and the worker's Graph sign-in accept
// the hosts of the cloud a cutover runs in, and only those.
//
// It is pure data, usable from workflow code. What each entry rests on:
//   - AWS DNS suffixes (amazonaws.com, amazonaws.com.cn) are the SDK's: a
//     test compares them with aws-sdk-go-v2's endpoint resolution of
//     sso-admin and identitystore for Regions of every partition.
//   - The commercial sign-in hosts are documented in the IAM Identity
//     Center user guide (samlmeta cites it). The GovCloud (US) and China
//     sign-in hosts follow those partitions' console sign-in hosts
//     (signin.amazonaws-us-gov.com, signin.amazonaws.cn) and were NOT
//     checked against IAM Identity Center documentation: Documented is false
//     for them, and the README says so.
//   - Entra's login and Graph hosts per national cloud are in Microsoft's
//     "Microsoft Graph national cloud deployments". The SAML issuer of the
//     US Government and China clouds was not checked against documentation
//     (IssuerDocumented).
package partition

import "strings"

// AWS is what differs between AWS partitions.
type AWS struct {
	Name string // aws, aws-us-gov, aws-cn
	// DNSSuffix ends service endpoints: scim.<region>.<suffix>.
	DNSSuffix string
	// SigninHosts are the hosts of IAM Identity Center's SAML endpoints,
	// each after "<region>."; the first is the form the entity ID takes,
	// and none ends another that comes before it (sso.signin.aws before
	// signin.aws), so the first match is the right one.
	SigninHosts []string
	// Documented says whether SigninHosts were checked against IAM
	// Identity Center documentation.
	Documented bool
}

var (
	commercial = AWS{Name: "aws", DNSSuffix: "amazonaws.com", Documented: true,
		SigninHosts: []string{"signin.aws.amazon.com", "sso.signin.aws", "signin.aws"}}
	govCloud = AWS{Name: "aws-us-gov", DNSSuffix: "amazonaws.com",
		SigninHosts: []string{"signin.amazonaws-us-gov.com"}}
	china = AWS{Name: "aws-cn", DNSSuffix: "amazonaws.com.cn",
		SigninHosts: []string{"signin.amazonaws.cn"}}
)

// AWSPartitions are the partitions IAM Identity Center runs in.
func AWSPartitions() []AWS { return []AWS{commercial, govCloud, china} }

// ForRegion is the partition of an AWS Region, by its name as the SDK's
// partition table matches them (us-gov-*, cn-*; every other Region this
// tool can meet is commercial).
func ForRegion(region string) AWS {
	switch {
	case strings.HasPrefix(region, "us-gov-"):
		return govCloud
	case strings.HasPrefix(region, "cn-"):
		return china
	}
	return commercial
}

// SCIMHost is the host of IAM Identity Center's SCIM endpoint in region.
func SCIMHost(region string) string {
	return "scim." + region + "." + ForRegion(region).DNSSuffix
}

// SigninRegion splits a sign-in host "<region>.<sign-in host>" of any
// partition into the Region and the partition; ok is false for another
// host.
func SigninRegion(host string) (region string, p AWS, ok bool) {
	for _, p := range AWSPartitions() {
		for _, suffix := range p.SigninHosts {
			if r, found := strings.CutSuffix(host, "."+suffix); found && r != "" {
				return r, p, true
			}
		}
	}
	return "", AWS{}, false
}

// Entra is what differs between Entra's clouds.
type Entra struct {
	Name string
	// GraphHosts are the Graph service roots' hosts.
	GraphHosts []string
	// LoginHost serves sign-in and federation metadata.
	LoginHost string
	// IssuerPrefix starts a tenant's SAML issuer (entity ID):
	// IssuerPrefix + tenant + "/".
	IssuerPrefix     string
	IssuerDocumented bool
	// AuthorityHost is the Microsoft Entra endpoint azidentity signs in at.
	AuthorityHost string
}

var (
	entraGlobal = Entra{Name: "global", GraphHosts: []string{"graph.microsoft.com"}, LoginHost: "login.microsoftonline.com",
		IssuerPrefix: "https://sts.windows.net/", IssuerDocumented: true, AuthorityHost: "https://login.microsoftonline.com/"}
	entraUSGovernment = Entra{Name: "US Government", GraphHosts: []string{"graph.microsoft.us", "dod-graph.microsoft.us"}, LoginHost: "login.microsoftonline.us",
		IssuerPrefix: "https://login.microsoftonline.us/", AuthorityHost: "https://login.microsoftonline.us/"}
	entraChina = Entra{Name: "China (21Vianet)", GraphHosts: []string{"microsoftgraph.chinacloudapi.cn"}, LoginHost: "login.chinacloudapi.cn",
		IssuerPrefix: "https://sts.chinacloudapi.cn/", AuthorityHost: "https://login.chinacloudapi.cn/"}
)

// EntraClouds are the clouds Graph is served in.
func EntraClouds() []Entra { return []Entra{entraGlobal, entraUSGovernment, entraChina} }

// EntraForGraphHost is the cloud whose Graph is served at host.
func EntraForGraphHost(host string) (Entra, bool) {
	for _, c := range EntraClouds() {
		for _, h := range c.GraphHosts {
			if strings.EqualFold(h, host) {
				return c, true
			}
		}
	}
	return Entra{}, false
}

// EntraForLoginHost is the cloud whose sign-in is served at host.
func EntraForLoginHost(host string) (Entra, bool) {
	for _, c := range EntraClouds() {
		if strings.EqualFold(c.LoginHost, host) {
			return c, true
		}
	}
	return Entra{}, false
}

// GraphHosts are every cloud's Graph hosts, for a message.
func GraphHosts() []string {
	var hosts []string
	for _, c := range EntraClouds() {
		hosts = append(hosts, c.GraphHosts...)
	}
	return hosts
}
