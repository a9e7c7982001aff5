package partition

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/stretchr/testify/require"
)

// The DNS suffixes are the SDK's: its endpoint resolution of the services
// the cutover calls ends in the same suffix for a Region of each partition.
func TestDNSSuffixesAreTheSDKs(t *testing.T) {
	ctx := context.Background()
	for _, region := range []string{"eu-west-1", "us-east-1", "ap-southeast-5", "us-gov-west-1", "us-gov-east-1", "cn-north-1", "cn-northwest-1"} {
		p := ForRegion(region)
		sso, err := ssoadmin.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, ssoadmin.EndpointParameters{Region: &region})
		require.NoError(t, err)
		require.Equal(t, "sso."+region+"."+p.DNSSuffix, sso.URI.Host, region)
		store, err := identitystore.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, identitystore.EndpointParameters{Region: &region})
		require.NoError(t, err)
		require.True(t, strings.HasSuffix(store.URI.Host, "."+p.DNSSuffix), "%s: %s", region, store.URI.Host)
	}
	require.Equal(t, "aws-us-gov", ForRegion("us-gov-west-1").Name)
	require.Equal(t, "aws-cn", ForRegion("cn-north-1").Name)
	require.Equal(t, "aws", ForRegion("eu-central-1").Name)
	require.Equal(t, "scim.cn-north-1.amazonaws.com.cn", SCIMHost("cn-north-1"))
	require.Equal(t, "scim.us-gov-west-1.amazonaws.com", SCIMHost("us-gov-west-1"))
}

func TestSigninRegionNamesThePartition(t *testing.T) {
	for host, want := range map[string]string{
		"eu-west-1.signin.aws.amazon.com":           "eu-west-1/aws",
		"eu-west-1.sso.signin.aws":                  "eu-west-1/aws",
		"eu-west-1.signin.aws":                      "eu-west-1/aws",
		"us-gov-west-1.signin.amazonaws-us-gov.com": "us-gov-west-1/aws-us-gov",
		"cn-north-1.signin.amazonaws.cn":            "cn-north-1/aws-cn",
	} {
		region, p, ok := SigninRegion(host)
		require.True(t, ok, host)
		require.Equal(t, want, region+"/"+p.Name, host)
	}
	for _, host := range []string{"signin.aws.amazon.com", "eu-west-1.signin.example.com", "signin.amazonaws.cn"} {
		_, _, ok := SigninRegion(host)
		require.False(t, ok, host)
	}
}

func TestEntraCloudsByHost(t *testing.T) {
	c, ok := EntraForGraphHost("dod-graph.microsoft.us")
	require.True(t, ok)
	require.Equal(t, "login.microsoftonline.us", c.LoginHost)
	c, ok = EntraForLoginHost("LOGIN.CHINACLOUDAPI.CN")
	require.True(t, ok)
	require.Equal(t, []string{"microsoftgraph.chinacloudapi.cn"}, c.GraphHosts)
	_, ok = EntraForGraphHost("graph.example.com")
	require.False(t, ok)
}
