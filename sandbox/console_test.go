package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/identitystore/document"
	idtypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/samlmeta"
	"github.com/platformguide/ssocutover/internal/samlmeta/samlmetatest"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/world"
)

// These tests play the person at the IAM Identity Center console, through
// the *Sandbox methods and through the control API, and look at the result
// with the real SDK clients and plain SCIM requests, as the cutover does.

// startConsoleSandbox serves the small world with opts and returns SDK
// clients pointed at it.
func startConsoleSandbox(t *testing.T, opts sandbox.Options) awsClients {
	t.Helper()
	sb, err := sandbox.Start(awsSmallWorld(), opts)
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(awsTestRegion),
		config.WithCredentialsProvider(awsStaticCreds()),
		config.WithBaseEndpoint(sb.AWSURL),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
	)
	require.NoError(t, err)
	return awsClients{sb: sb, identityStore: identitystore.NewFromConfig(cfg), ssoAdmin: ssoadmin.NewFromConfig(cfg)}
}

const consoleTestTenant = "00000000-0000-0000-0000-000000000001" // awsSmallWorld's Entra tenant

// switchToEntra completes the switch to an external identity provider and
// returns the SP metadata the console gave.
func switchToEntra(t *testing.T, sb *sandbox.Sandbox) samlmeta.SP {
	t.Helper()
	spXML, err := sb.SwitchIdentitySourceToExternal()
	require.NoError(t, err)
	sp, err := samlmeta.ParseSPMetadata(spXML, awsTestRegion)
	require.NoError(t, err)
	require.NoError(t, sb.UploadIdPMetadata(samlmetatest.EntraMetadata(t, consoleTestTenant)))
	return sp
}

// scimRequest sends one SCIM request with a bearer token and returns the
// status and body.
func scimRequest(t *testing.T, token, method, target string, body any) (int, []byte) {
	t.Helper()
	var reader io.Reader = http.NoBody
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(t, err)
		reader = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, target, reader)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, raw
}

func scimUserBody(name string) map[string]any {
	return map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"externalId":  "entra-" + name,
		"userName":    name + "@corp.example",
		"name":        map[string]any{"givenName": name, "familyName": "Entra"},
		"displayName": name + " Entra",
		"active":      true,
		"emails":      []map[string]any{{"value": name + "@corp.example", "type": "work", "primary": true}},
	}
}

func listAllUserNames(t *testing.T, c awsClients, storeID string) []string {
	t.Helper()
	var names []string
	pages := identitystore.NewListUsersPaginator(c.identityStore, &identitystore.ListUsersInput{IdentityStoreId: aws.String(storeID), MaxResults: aws.Int32(100)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		require.NoError(t, err)
		for _, u := range page.Users {
			names = append(names, aws.ToString(u.UserName))
		}
	}
	return names
}

func TestConsoleSwitchThenSCIMProvisioningWritesTheIdentityStore(t *testing.T) {
	c := startConsoleSandbox(t, sandbox.Options{Console: sandbox.ConsoleOptions{DropAssignments: sandbox.KeepAssignments}})
	sb, ctx := c.sb, context.Background()
	require.Equal(t, sandbox.IdentitySourceStatus{Source: sandbox.IdentitySourceBuiltIn, IdentityStoreID: awsTestStoreID, Tokens: []sandbox.TokenInfo{}},
		sb.IdentitySource())

	// Out of order, the console refuses, saying what comes first.
	_, err := sb.EnableAutomaticProvisioning()
	require.ErrorIs(t, err, sandbox.ErrIdentitySourceState)
	require.Contains(t, err.Error(), "SwitchIdentitySourceToExternal")
	err = sb.UploadIdPMetadata(samlmetatest.EntraMetadata(t, consoleTestTenant))
	require.ErrorIs(t, err, sandbox.ErrIdentitySourceState)

	// The switch starts: SP metadata in AWS's format, with the identity store
	// ID and the tenant ID of the SCIM endpoint, and stays pending.
	spXML, err := sb.SwitchIdentitySourceToExternal()
	require.NoError(t, err)
	sp, err := samlmeta.ParseSPMetadata(spXML, awsTestRegion)
	require.NoError(t, err)
	require.Equal(t, awsTestStoreID, sp.IdentityStoreID)
	require.Equal(t, sb.SCIMURL+"/"+sp.ACSTenantID+"/scim/v2", sb.SCIMEndpoint())
	again, err := sb.SwitchIdentitySourceToExternal()
	require.NoError(t, err)
	require.Equal(t, spXML, again, "downloading the metadata again gives the same document")
	require.Equal(t, sandbox.IdentitySourceExternalPending, sb.IdentitySource().Source)

	// Metadata that is not the tenant's Entra federation metadata is refused
	// and leaves the switch pending.
	for name, bad := range map[string][]byte{
		"the SP metadata":  spXML,
		"another tenant":   samlmetatest.EntraMetadata(t, "11111111-2222-3333-4444-555555555555"),
		"not XML":          []byte("hello"),
		"an empty request": nil,
	} {
		err := sb.UploadIdPMetadata(bad)
		require.ErrorIs(t, err, sandbox.ErrInvalidIdPMetadata, name)
		require.Equal(t, sandbox.IdentitySourceExternalPending, sb.IdentitySource().Source, name)
	}
	require.NoError(t, sb.UploadIdPMetadata(samlmetatest.EntraMetadata(t, consoleTestTenant)))
	status := sb.IdentitySource()
	require.Equal(t, sandbox.IdentitySourceExternal, status.Source)
	require.Equal(t, "https://sts.windows.net/"+consoleTestTenant+"/", status.IdPEntityID)
	require.False(t, status.AutomaticProvisioning)
	require.Empty(t, status.SCIMEndpoint)

	// Until provisioning is enabled the endpoint refuses everything.
	code, _ := scimRequest(t, "anything", http.MethodGet, sb.SCIMEndpoint()+"/Users", nil)
	require.Equal(t, http.StatusUnauthorized, code)

	creds, err := sb.EnableAutomaticProvisioning()
	require.NoError(t, err)
	require.Equal(t, sb.SCIMEndpoint(), creds.SCIMEndpoint)
	require.NotEmpty(t, creds.Token)
	require.WithinDuration(t, time.Now().AddDate(1, 0, 0), creds.ExpiresAt, time.Minute)
	_, err = sb.EnableAutomaticProvisioning()
	require.ErrorIs(t, err, sandbox.ErrIdentitySourceState)
	status = sb.IdentitySource()
	require.True(t, status.AutomaticProvisioning)
	require.Equal(t, creds.SCIMEndpoint, status.SCIMEndpoint)
	require.Equal(t, []string{creds.TokenID}, tokenIDs(status.Tokens))

	// The built-in directory's users are there for Entra to adopt...
	code, body := scimRequest(t, creds.Token, http.MethodGet, creds.SCIMEndpoint+"/Users?filter="+url.QueryEscape(`userName eq "alice@corp.example"`), nil)
	require.Equal(t, http.StatusOK, code, string(body))
	require.Contains(t, string(body), awsUserID("alice@corp.example"))

	// ...and what SCIM writes is what identitystore reads.
	code, body = scimRequest(t, creds.Token, http.MethodPost, creds.SCIMEndpoint+"/Users", scimUserBody("erin"))
	require.Equal(t, http.StatusCreated, code, string(body))
	var erin struct{ ID string }
	require.NoError(t, json.Unmarshal(body, &erin))
	code, body = scimRequest(t, creds.Token, http.MethodPatch, creds.SCIMEndpoint+"/Groups/"+awsGroupID("aws-admins"), map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []map[string]any{{"op": "add", "path": "members", "value": []map[string]any{{"value": erin.ID}}}},
	})
	require.Equal(t, http.StatusNoContent, code, string(body))

	require.Contains(t, listAllUserNames(t, c, awsTestStoreID), "erin@corp.example")
	got, err := c.identityStore.GetUserId(ctx, &identitystore.GetUserIdInput{
		IdentityStoreId: aws.String(awsTestStoreID),
		AlternateIdentifier: &idtypes.AlternateIdentifierMemberUniqueAttribute{Value: idtypes.UniqueAttribute{
			AttributePath: aws.String("userName"), AttributeValue: document.NewLazyDocument("erin@corp.example"),
		}},
	})
	require.NoError(t, err)
	require.Equal(t, erin.ID, aws.ToString(got.UserId))
	described, err := c.identityStore.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: aws.String(awsTestStoreID), UserId: got.UserId})
	require.NoError(t, err)
	require.Equal(t, "erin Entra", aws.ToString(described.DisplayName))
	require.Equal(t, "erin@corp.example", aws.ToString(described.Emails[0].Value))
	require.Equal(t, idtypes.UserStatusEnabled, described.UserStatus)
	memberships, err := c.identityStore.ListGroupMembershipsForMember(ctx, &identitystore.ListGroupMembershipsForMemberInput{
		IdentityStoreId: aws.String(awsTestStoreID), MemberId: &idtypes.MemberIdMemberUserId{Value: erin.ID},
	})
	require.NoError(t, err)
	require.Len(t, memberships.GroupMemberships, 1)
	require.Equal(t, awsGroupID("aws-admins"), aws.ToString(memberships.GroupMemberships[0].GroupId))

	snapshot := sb.IdentityStoreSnapshot()
	require.Len(t, snapshot.Users, 5)
	require.ElementsMatch(t, []string{awsUserID("alice@corp.example"), erin.ID}, snapshot.Groups[0].MemberIDs)
}

func tokenIDs(tokens []sandbox.TokenInfo) []string {
	ids := make([]string, 0, len(tokens))
	for _, token := range tokens {
		ids = append(ids, token.ID)
	}
	return ids
}

// assignedPrincipals lists, with the SDK, who holds each assignment of the
// small world: "<account>/<permission set>/<type>/<principal ID>".
func assignedPrincipals(t *testing.T, c awsClients) []string {
	t.Helper()
	ctx := context.Background()
	sets, err := c.ssoAdmin.ListPermissionSets(ctx, &ssoadmin.ListPermissionSetsInput{InstanceArn: aws.String(awsTestInstanceARN)})
	require.NoError(t, err)
	var held []string
	for _, account := range []string{awsProdAccount, awsDevAccount} {
		for _, ps := range sets.PermissionSets {
			out, err := c.ssoAdmin.ListAccountAssignments(ctx, &ssoadmin.ListAccountAssignmentsInput{
				InstanceArn: aws.String(awsTestInstanceARN), AccountId: aws.String(account), PermissionSetArn: aws.String(ps),
			})
			require.NoError(t, err)
			for _, a := range out.AccountAssignments {
				held = append(held, fmt.Sprintf("%s/%s/%s/%s", account, ps, a.PrincipalType, aws.ToString(a.PrincipalId)))
			}
		}
	}
	return held
}

func TestConsoleSwitchDropsAssignmentsAsConfigured(t *testing.T) {
	carol := awsUserID("carol@corp.example")
	for _, tc := range []struct {
		drop          sandbox.AssignmentDrop
		wantRemaining int
		wantTypes     []string
	}{
		{drop: "", wantRemaining: 0},                                                        // the default: every assignment
		{drop: sandbox.DropAllAssignments, wantRemaining: 0},                                // the same, named
		{drop: sandbox.DropGroupAssignments, wantRemaining: 1, wantTypes: []string{"USER"}}, // carol's own
		{drop: sandbox.DropUserAssignments, wantRemaining: 3, wantTypes: []string{"GROUP"}},
		{drop: sandbox.KeepAssignments, wantRemaining: 4},
	} {
		t.Run(string(tc.drop), func(t *testing.T) {
			c := startConsoleSandbox(t, sandbox.Options{Console: sandbox.ConsoleOptions{DropAssignments: tc.drop}})
			require.Len(t, assignedPrincipals(t, c), 4)
			_, err := c.sb.SwitchIdentitySourceToExternal()
			require.NoError(t, err)
			require.Len(t, assignedPrincipals(t, c), 4, "a pending switch changes nothing")
			require.NoError(t, c.sb.UploadIdPMetadata(samlmetatest.EntraMetadata(t, consoleTestTenant)))

			remaining := assignedPrincipals(t, c)
			require.Len(t, remaining, tc.wantRemaining, "%v", remaining)
			require.Len(t, c.sb.AccountAssignments(), tc.wantRemaining)
			for _, a := range c.sb.AccountAssignments() {
				if tc.wantTypes != nil {
					require.Contains(t, tc.wantTypes, a.PrincipalType)
				}
				if a.PrincipalType == "USER" {
					require.Equal(t, carol, a.PrincipalID)
					require.Equal(t, "carol@corp.example", a.PrincipalName)
				}
			}
			// Users and groups stay whatever happens to the assignments.
			require.Len(t, c.sb.IdentityStoreSnapshot().Users, 4)
			require.Len(t, c.sb.IdentityStoreSnapshot().Groups, 3)
		})
	}
}

func TestConsoleOptionsAreChecked(t *testing.T) {
	_, err := sandbox.Start(awsSmallWorld(), sandbox.Options{Console: sandbox.ConsoleOptions{DropAssignments: "some"}})
	require.ErrorContains(t, err, "dropAssignments")
}

func TestConsoleSwitchChangesTheIdentityStoreID(t *testing.T) {
	c := startConsoleSandbox(t, sandbox.Options{Console: sandbox.ConsoleOptions{ChangeIdentityStoreID: true}})
	sb, ctx := c.sb, context.Background()
	instanceStoreID := func() string {
		out, err := c.ssoAdmin.ListInstances(ctx, &ssoadmin.ListInstancesInput{})
		require.NoError(t, err)
		require.Len(t, out.Instances, 1)
		return aws.ToString(out.Instances[0].IdentityStoreId)
	}

	spXML, err := sb.SwitchIdentitySourceToExternal()
	require.NoError(t, err)
	sp, err := samlmeta.ParseSPMetadata(spXML, awsTestRegion)
	require.NoError(t, err)
	newID := sp.IdentityStoreID
	require.Regexp(t, `^d-[0-9a-f]{10}$`, newID)
	require.NotEqual(t, awsTestStoreID, newID, "the SP metadata carries the ID the store will have")
	require.Equal(t, newID, sb.IdentitySource().PendingIdentityStoreID)
	require.Equal(t, awsTestStoreID, instanceStoreID(), "the ID changes when the switch completes")

	require.NoError(t, sb.UploadIdPMetadata(samlmetatest.EntraMetadata(t, consoleTestTenant)))
	require.Equal(t, newID, instanceStoreID())
	require.Equal(t, newID, sb.IdentitySource().IdentityStoreID)
	require.Empty(t, sb.IdentitySource().PendingIdentityStoreID)

	_, err = c.identityStore.ListUsers(ctx, &identitystore.ListUsersInput{IdentityStoreId: aws.String(awsTestStoreID)})
	var notFound *idtypes.ResourceNotFoundException
	require.ErrorAs(t, err, &notFound)
	require.Len(t, listAllUserNames(t, c, newID), 4, "the users stay, under the new ID")

	// Reverting keeps the new ID: the old store is gone.
	require.NoError(t, sb.RevertToBuiltInDirectory())
	require.Equal(t, newID, instanceStoreID())
}

func TestConsoleSCIMTokensDisableAndRevert(t *testing.T) {
	c := startConsoleSandbox(t, sandbox.Options{})
	sb := c.sb
	_, err := sb.CreateSCIMToken()
	require.ErrorIs(t, err, sandbox.ErrIdentitySourceState)
	switchToEntra(t, sb)
	_, err = sb.CreateSCIMToken()
	require.ErrorIs(t, err, sandbox.ErrIdentitySourceState, "tokens need automatic provisioning")

	first, err := sb.EnableAutomaticProvisioning()
	require.NoError(t, err)
	second, err := sb.CreateSCIMToken()
	require.NoError(t, err)
	require.Equal(t, first.SCIMEndpoint, second.SCIMEndpoint)
	_, err = sb.CreateSCIMToken()
	require.ErrorIs(t, err, sandbox.ErrSCIMTokenLimit)
	require.Equal(t, []string{first.TokenID, second.TokenID}, tokenIDs(sb.ListSCIMTokens()))

	works := func(token string) bool {
		t.Helper()
		code, body := scimRequest(t, token, http.MethodGet, sb.SCIMEndpoint()+"/Users?count=1", nil)
		require.Contains(t, []int{http.StatusOK, http.StatusUnauthorized}, code, string(body))
		return code == http.StatusOK
	}
	require.True(t, works(first.Token))
	require.True(t, works(second.Token))

	// Rotation: delete the old token; the new one keeps working.
	require.NoError(t, sb.DeleteSCIMToken(first.TokenID))
	require.ErrorIs(t, sb.DeleteSCIMToken(first.TokenID), sandbox.ErrSCIMTokenNotFound)
	require.False(t, works(first.Token))
	require.True(t, works(second.Token))

	// Disabling turns the endpoint off and deletes the tokens; enabling
	// again gives a new one.
	code, body := scimRequest(t, second.Token, http.MethodPost, sb.SCIMEndpoint()+"/Users", scimUserBody("frank"))
	require.Equal(t, http.StatusCreated, code, string(body))
	require.NoError(t, sb.DisableAutomaticProvisioning())
	require.NoError(t, sb.DisableAutomaticProvisioning(), "disabling twice is harmless")
	require.False(t, works(second.Token))
	require.Empty(t, sb.ListSCIMTokens())
	require.False(t, sb.IdentitySource().AutomaticProvisioning)
	third, err := sb.EnableAutomaticProvisioning()
	require.NoError(t, err)
	require.True(t, works(third.Token))

	// Reverting to the built-in directory: provisioning off, tokens gone,
	// users (the provisioned one too) kept.
	require.NoError(t, sb.RevertToBuiltInDirectory())
	require.NoError(t, sb.RevertToBuiltInDirectory(), "reverting twice is harmless")
	require.False(t, works(third.Token))
	status := sb.IdentitySource()
	require.Equal(t, sandbox.IdentitySourceBuiltIn, status.Source)
	require.False(t, status.AutomaticProvisioning)
	require.Empty(t, status.Tokens)
	require.Empty(t, status.IdPEntityID)
	require.Contains(t, listAllUserNames(t, c, awsTestStoreID), "frank@corp.example")
	_, err = sb.EnableAutomaticProvisioning()
	require.ErrorIs(t, err, sandbox.ErrIdentitySourceState)

	// The switch can be made again from the start.
	switchToEntra(t, sb)
	require.Equal(t, sandbox.IdentitySourceExternal, sb.IdentitySource().Source)
}

// The control API does what the methods do, from another process: here the
// ConsoleClient, and raw requests for its error answers. Faults on the APIs
// (AWS and SCIM) do not touch it.
func TestConsoleControlAPI(t *testing.T) {
	c := startConsoleSandbox(t, sandbox.Options{Faults: sandbox.Faults{ServerErrorRate: 1}})
	sb, ctx := c.sb, context.Background()
	client := sandbox.NewConsoleClient(sb.AWSURL, nil)

	_, err := c.ssoAdmin.ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	require.Error(t, err, "the AWS APIs fail with every request")

	_, err = client.EnableAutomaticProvisioning(ctx)
	require.ErrorIs(t, err, sandbox.ErrIdentitySourceState)
	var apiErr *sandbox.ConsoleAPIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusConflict, apiErr.Status)
	require.Contains(t, apiErr.Message, "SwitchIdentitySourceToExternal")

	spXML, err := client.SwitchIdentitySourceToExternal(ctx)
	require.NoError(t, err)
	_, err = samlmeta.ParseSPMetadata(spXML, awsTestRegion)
	require.NoError(t, err)
	_, err = client.UploadIdPMetadata(ctx, spXML)
	require.ErrorIs(t, err, sandbox.ErrInvalidIdPMetadata)
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusBadRequest, apiErr.Status)
	status, err := client.UploadIdPMetadata(ctx, samlmetatest.EntraMetadata(t, consoleTestTenant))
	require.NoError(t, err)
	require.Equal(t, sandbox.IdentitySourceExternal, status.Source)

	creds, err := client.EnableAutomaticProvisioning(ctx)
	require.NoError(t, err)
	require.Equal(t, sb.SCIMEndpoint(), creds.SCIMEndpoint)
	code, body := scimRequest(t, creds.Token, http.MethodGet, creds.SCIMEndpoint+"/Users", nil)
	require.Equal(t, http.StatusInternalServerError, code, "the SCIM endpoint is an API, faulted: %s", body)
	second, err := client.CreateSCIMToken(ctx)
	require.NoError(t, err)
	_, err = client.CreateSCIMToken(ctx)
	require.ErrorIs(t, err, sandbox.ErrSCIMTokenLimit)
	tokens, err := client.ListSCIMTokens(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{creds.TokenID, second.TokenID}, tokenIDs(tokens))
	require.NoError(t, client.DeleteSCIMToken(ctx, creds.TokenID))
	require.ErrorIs(t, client.DeleteSCIMToken(ctx, creds.TokenID), sandbox.ErrSCIMTokenNotFound)
	status, err = client.IdentitySource(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{second.TokenID}, tokenIDs(status.Tokens))
	require.NoError(t, client.DisableAutomaticProvisioning(ctx))
	require.False(t, sb.IdentitySource().AutomaticProvisioning)
	require.NoError(t, client.RevertToBuiltInDirectory(ctx))
	require.Equal(t, sandbox.IdentitySourceBuiltIn, sb.IdentitySource().Source)

	// Raw requests: GET of the status, and the error answers.
	resp, err := http.Get(sb.AWSURL + sandbox.ConsolePath + sandbox.ConsoleIdentitySource)
	require.NoError(t, err)
	var got sandbox.IdentitySourceStatus
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, sandbox.IdentitySourceBuiltIn, got.Source)
	for _, tc := range []struct {
		method, command, body string
		status                int
		code                  string
	}{
		{http.MethodPost, "reboot-aws", "{}", http.StatusNotFound, "UnknownCommand"},
		{http.MethodPost, sandbox.ConsoleUploadIdPMetadata, "not json", http.StatusBadRequest, "BadRequest"},
		{http.MethodGet, sandbox.ConsoleEnableAutomaticProvisioning, "", http.StatusMethodNotAllowed, "MethodNotAllowed"},
	} {
		req, err := http.NewRequest(tc.method, sb.AWSURL+sandbox.ConsolePath+tc.command, strings.NewReader(tc.body))
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		var answer struct {
			Error struct{ Code, Message string }
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&answer))
		resp.Body.Close()
		require.Equal(t, tc.status, resp.StatusCode, tc.command)
		require.Equal(t, tc.code, answer.Error.Code, tc.command)
		require.NotEmpty(t, answer.Error.Message)
	}

	_, err = sandbox.NewConsoleClient("http://127.0.0.1:1", nil).IdentitySource(ctx)
	require.ErrorContains(t, err, "is the sandbox running")
}

// A token value appears only in the answer that creates it: never in
// printed credentials, statuses, token lists, errors or SCIM answers.
func TestConsoleNeverRevealsTokenValues(t *testing.T) {
	c := startConsoleSandbox(t, sandbox.Options{})
	sb, ctx := c.sb, context.Background()
	client := sandbox.NewConsoleClient(sb.AWSURL, nil)
	switchToEntra(t, sb)
	first, err := sb.EnableAutomaticProvisioning()
	require.NoError(t, err)
	second, err := client.CreateSCIMToken(ctx)
	require.NoError(t, err)

	// The credentials' JSON carries the token (the control API hands it
	// over once); printing them does not.
	var seen []string
	see := func(v any) {
		seen = append(seen, fmt.Sprintf("%v|%+v|%#v|%s", v, v, v, v))
		if _, isCredentials := v.(sandbox.SCIMCredentials); !isCredentials {
			raw, err := json.Marshal(v)
			require.NoError(t, err)
			seen = append(seen, string(raw))
		}
	}
	see(first)
	see(second)
	see(sb.IdentitySource())
	see(sb.ListSCIMTokens())
	status, err := client.IdentitySource(ctx)
	require.NoError(t, err)
	see(status)
	for _, failing := range []func() error{
		func() error { _, err := sb.CreateSCIMToken(); return err },
		func() error { _, err := client.CreateSCIMToken(ctx); return err },
		func() error { _, err := sb.EnableAutomaticProvisioning(); return err },
		func() error { return sb.DeleteSCIMToken(first.Token) },
		func() error { return client.DeleteSCIMToken(ctx, second.Token) },
	} {
		err := failing()
		require.Error(t, err)
		see(err.Error())
	}
	require.NoError(t, sb.DeleteSCIMToken(first.TokenID))
	_, body := scimRequest(t, first.Token, http.MethodGet, sb.SCIMEndpoint()+"/Users", nil)
	see(string(body))

	// Printing the credentials does show what is not secret.
	require.Contains(t, fmt.Sprint(first), first.TokenID)
	for _, text := range seen {
		for _, token := range []string{first.Token, second.Token} {
			require.NotContains(t, text, token)
		}
	}
}

// SCIM writes and identitystore reads of the same store run side by side,
// as the provisioning engine's and the cutover's do (run with -race).
func TestSCIMWritesAndIdentityStoreReadsRunTogether(t *testing.T) {
	c := startConsoleSandbox(t, sandbox.Options{})
	switchToEntra(t, c.sb)
	creds, err := c.sb.EnableAutomaticProvisioning()
	require.NoError(t, err)

	const writers, perWriter = 4, 25
	done := make(chan struct{})
	errs := make(chan error, writers)
	for w := range writers {
		go func() {
			for i := range perWriter {
				raw, _ := json.Marshal(scimUserBody(fmt.Sprintf("w%d-%02d", w, i)))
				req, _ := http.NewRequest(http.MethodPost, creds.SCIMEndpoint+"/Users", bytes.NewReader(raw))
				req.Header.Set("Authorization", "Bearer "+creds.Token)
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode != http.StatusCreated {
						err = fmt.Errorf("create answered %d", resp.StatusCode)
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	go func() {
		for range writers {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
		close(done)
	}()
	for reading := true; reading; {
		select {
		case <-done:
			reading = false
		default:
			listAllUserNames(t, c, awsTestStoreID)
		}
	}
	require.Len(t, listAllUserNames(t, c, awsTestStoreID), 4+writers*perWriter)
}

// The sample world's instance is replicated to a second Region: the SP
// metadata the console gives lists that Region's ACS URLs after the home
// Region's.
func TestConsoleMetadataListsTheAdditionalRegions(t *testing.T) {
	w := world.Sample()
	require.NotEmpty(t, w.AWS.AdditionalRegions, "the sample world has an additional Region")
	sb, err := sandbox.Start(w, sandbox.Options{})
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	spXML, err := sb.SwitchIdentitySourceToExternal()
	require.NoError(t, err)
	sp, err := samlmeta.ParseSPMetadata(spXML, w.AWS.Region)
	require.NoError(t, err)
	for _, region := range w.AWS.AdditionalRegions {
		require.Contains(t, sp.ACSURLs, "https://"+region+".signin.aws/platform/saml/acs/"+sp.ACSTenantID)
		require.Contains(t, sp.ACSURLs, "https://"+region+".sso.signin.aws/platform/saml/acs/"+sp.ACSTenantID)
	}
	require.Contains(t, sp.ACSURL, w.AWS.Region, "the default ACS URL is the home Region's")
}

// The switch to an external identity provider drops the application
// assignments with the account assignments; they can be created again,
// once, for principals of the identity store only.
func TestConsoleSwitchDropsApplicationAssignments(t *testing.T) {
	w := world.Sample()
	c := startAWS(t, w, w.AWS.Region, awsStaticCreds())
	ctx := context.Background()
	require.Len(t, c.sb.ApplicationAssignments(), 2)

	_, err := c.sb.SwitchIdentitySourceToExternal()
	require.NoError(t, err)
	require.NoError(t, c.sb.UploadIdPMetadata(samlmetatest.EntraMetadata(t, w.Entra.TenantID)))
	require.Empty(t, c.sb.ApplicationAssignments(), "the switch dropped them")

	app := world.ApplicationARN(w.AWS.InstanceARN, w.AWS.Accounts[0].ID, "Grafana")
	create := func(principalType ssotypes.PrincipalType, id string) error {
		_, err := c.ssoAdmin.CreateApplicationAssignment(ctx, &ssoadmin.CreateApplicationAssignmentInput{
			ApplicationArn: aws.String(app), PrincipalType: principalType, PrincipalId: aws.String(id)})
		return err
	}
	for range 2 {
		require.NoError(t, create(ssotypes.PrincipalTypeGroup, world.StableID("aws-group", "aws-developers")))
	}
	require.Equal(t, []sandbox.ApplicationAssignment{{Application: "Grafana", PrincipalType: "GROUP", PrincipalName: "aws-developers"}},
		c.sb.ApplicationAssignments(), "a second create keeps one")
	var notFound *ssotypes.ResourceNotFoundException
	require.ErrorAs(t, create(ssotypes.PrincipalTypeUser, "no-such-user"), &notFound)

	out, err := c.ssoAdmin.ListApplicationAssignments(ctx, &ssoadmin.ListApplicationAssignmentsInput{ApplicationArn: aws.String(app)})
	require.NoError(t, err)
	require.Len(t, out.ApplicationAssignments, 1)
	_, err = c.ssoAdmin.ListApplicationAssignments(ctx, &ssoadmin.ListApplicationAssignmentsInput{ApplicationArn: aws.String(app + "0")})
	require.ErrorAs(t, err, &notFound)
}
