package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/groups"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/internal/graphclient"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/world"
)

const graphTestToken = "graph-test-token"

// graphWorld is a tenant with the shapes the Graph endpoints must get
// right: two groups of one display name (in different case), a group with a
// nested group, a group without owners, a name with a quote, and enough
// users (1,200) for a second page at the largest page size.
func graphWorld() *world.World {
	w := &world.World{
		AWS: world.AWS{Region: "eu-west-1", IdentityStoreID: "d-1234567890", InstanceARN: "arn:aws:sso:::instance/ssoins-1234567890abcdef"},
		Entra: world.Entra{
			TenantID: "00000000-0000-0000-0000-000000000001",
			Users: []world.EntraUser{
				{UserPrincipalName: "alice@corp.example", Mail: "alice@corp.example", GivenName: "Alice", Surname: "Ng", DisplayName: "Alice Ng", OtherMails: []string{"alice@old.example"}},
				{UserPrincipalName: "bob@corp.example", Mail: "bob@corp.example", GivenName: "Bob", Surname: "Stone", DisplayName: "Bob Stone"},
				{UserPrincipalName: "carol@corp.example", GivenName: "Carol", Surname: "Diaz", DisplayName: "Carol Diaz"},
				{UserPrincipalName: "o'brien@corp.example", Mail: "o'brien@corp.example", GivenName: "Pat", Surname: "O'Brien", DisplayName: "Pat O'Brien"},
			},
			Groups: []world.EntraGroup{
				{DisplayName: "aws-admins", SecurityEnabled: true, Owners: []string{"alice@corp.example"}, Members: []string{"alice@corp.example"}, MemberGroups: []string{"contractors"}},
				{DisplayName: "AWS-Admins", SecurityEnabled: true, Members: []string{"bob@corp.example"}},
				{DisplayName: "contractors", SecurityEnabled: true, Owners: []string{"bob@corp.example"}, Members: []string{"carol@corp.example", "alice@corp.example"}},
				{DisplayName: "O'Brien's team", MailEnabled: true, Owners: []string{"o'brien@corp.example", "alice@corp.example"}, Members: []string{"o'brien@corp.example"}},
			},
		},
	}
	for i := range 1196 {
		upn := fmt.Sprintf("user%04d@corp.example", i)
		w.Entra.Users = append(w.Entra.Users, world.EntraUser{UserPrincipalName: upn, Mail: upn, GivenName: "User", Surname: fmt.Sprint(i), DisplayName: "User " + fmt.Sprint(i)})
	}
	return w
}

func entraUserID(upn string) string { return world.StableID("entra-user", strings.ToLower(upn)) }

func entraGroupID(w *world.World, index int) string {
	return world.StableID("entra-group", fmt.Sprint(index, w.Entra.Groups[index].DisplayName))
}

// startGraph serves w and returns the sandbox and a real Graph client for it.
func startGraph(t *testing.T, w *world.World, faults sandbox.Faults) (*sandbox.Sandbox, *graphclient.Client) {
	t.Helper()
	sb, err := sandbox.Start(w, sandbox.Options{Faults: faults})
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	client, err := graphclient.New(graphclient.Config{BaseURL: sb.GraphURL, StaticToken: graphTestToken, RequestsPerSecond: -1})
	require.NoError(t, err)
	return sb, client
}

// requireODataError checks that err is Graph's error with status and code.
func requireODataError(t *testing.T, err error, status int, code string) {
	t.Helper()
	var odata *odataerrors.ODataError
	require.True(t, errors.As(err, &odata), "want an ODataError, got %T: %v", err, err)
	require.Equal(t, status, odata.ResponseStatusCode)
	require.NotNil(t, odata.GetErrorEscaped())
	require.Equal(t, code, *odata.GetErrorEscaped().GetCode())
}

func eventualHeader() *abstractions.RequestHeaders {
	h := abstractions.NewRequestHeaders()
	h.Add("ConsistencyLevel", "eventual")
	return h
}

func TestGraphUsersPageAtTheLargestPageSizeAndFollowNextLink(t *testing.T) {
	sb, graph := startGraph(t, graphWorld(), sandbox.Faults{})
	ctx := context.Background()

	page, err := graph.Client.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Select: []string{"id", "userPrincipalName"}, Top: ptr(int32(999))},
	})
	require.NoError(t, err)
	require.Len(t, page.GetValue(), 999)
	require.Equal(t, entraUserID("alice@corp.example"), *page.GetValue()[0].GetId())
	require.Equal(t, "alice@corp.example", *page.GetValue()[0].GetUserPrincipalName())
	require.Nil(t, page.GetValue()[0].GetMail(), "mail was not selected")
	require.Nil(t, page.GetValue()[0].GetDisplayName(), "displayName was not selected")

	next := page.GetOdataNextLink()
	require.NotNil(t, next)
	require.True(t, strings.HasPrefix(*next, sb.GraphURL+"/v1.0/users?"), *next)
	require.Contains(t, *next, "$skiptoken=")

	second, err := graph.Client.Users().WithUrl(*next).Get(ctx, nil)
	require.NoError(t, err)
	require.Len(t, second.GetValue(), 1200-999)
	require.Nil(t, second.GetOdataNextLink())
	require.Equal(t, "user1195@corp.example", *second.GetValue()[200].GetUserPrincipalName())
	require.Nil(t, second.GetValue()[0].GetMail(), "the nextLink keeps the $select")

	// Without $top, Graph's default page of 100.
	page, err = graph.Client.Users().Get(ctx, nil)
	require.NoError(t, err)
	require.Len(t, page.GetValue(), 100)
	require.Equal(t, "Alice", *page.GetValue()[0].GetGivenName())
	require.Equal(t, []string{"alice@old.example"}, page.GetValue()[0].GetOtherMails())
}

func TestGraphSelectReturnsOnlySelectedPropertiesWithIDAndType(t *testing.T) {
	sb, _ := startGraph(t, graphWorld(), sandbox.Faults{})
	status, body := graphGet(t, sb.GraphURL+"/v1.0/users?$select=mail&$top=1", nil)
	require.Equal(t, http.StatusOK, status)
	var page struct {
		Context string           `json:"@odata.context"`
		Value   []map[string]any `json:"value"`
	}
	require.NoError(t, json.Unmarshal(body, &page))
	require.Equal(t, sb.GraphURL+"/v1.0/$metadata#users(mail)", page.Context)
	require.Equal(t, []map[string]any{{
		"@odata.type": "#microsoft.graph.user",
		"id":          entraUserID("alice@corp.example"),
		"mail":        "alice@corp.example",
	}}, page.Value)

	status, body = graphGet(t, sb.GraphURL+"/v1.0/users?$select=mail,jobTitleX", nil)
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, string(body), `"code":"Request_BadRequest"`)
	require.Contains(t, string(body), "jobTitleX")
}

func TestGraphFilterByDisplayNameAndUserPrincipalName(t *testing.T) {
	w := graphWorld()
	_, graph := startGraph(t, w, sandbox.Faults{})
	ctx := context.Background()
	listGroups := func(filter string) []string {
		t.Helper()
		page, err := graph.Client.Groups().Get(ctx, &groups.GroupsRequestBuilderGetRequestConfiguration{
			QueryParameters: &groups.GroupsRequestBuilderGetQueryParameters{Filter: ptr(filter), Select: []string{"id", "displayName", "securityEnabled"}},
		})
		require.NoError(t, err)
		var names []string
		for _, g := range page.GetValue() {
			names = append(names, *g.GetDisplayName())
		}
		return names
	}

	// eq compares case-insensitively: both groups of the ambiguous name.
	require.Equal(t, []string{"aws-admins", "AWS-Admins"}, listGroups("displayName eq 'aws-admins'"))
	// A quote inside a literal is doubled.
	require.Equal(t, []string{"O'Brien's team"}, listGroups("displayName eq 'o''brien''s team'"))
	require.Empty(t, listGroups("displayName eq 'nobody'"))
	// in and or compare with several values.
	require.Equal(t, []string{"aws-admins", "AWS-Admins", "contractors"}, listGroups("displayName in ('contractors', 'AWS-ADMINS')"))
	require.Equal(t, []string{"contractors", "O'Brien's team"}, listGroups("displayName eq 'contractors' or displayName eq 'O''Brien''s team'"))

	page, err := graph.Client.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Filter: ptr("userPrincipalName eq 'O''BRIEN@corp.example'")},
	})
	require.NoError(t, err)
	require.Len(t, page.GetValue(), 1)
	require.Equal(t, entraUserID("o'brien@corp.example"), *page.GetValue()[0].GetId())

	// Graph allows 15 comparisons in one filter.
	var values []string
	for i := range 16 {
		values = append(values, fmt.Sprintf("'user%04d@corp.example'", i))
	}
	_, err = graph.Client.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Filter: ptr("userPrincipalName in (" + strings.Join(values, ",") + ")")},
	})
	requireODataError(t, err, http.StatusBadRequest, "Request_UnsupportedQuery")
	page, err = graph.Client.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Filter: ptr("userPrincipalName in (" + strings.Join(values[:15], ",") + ")")},
	})
	require.NoError(t, err)
	require.Len(t, page.GetValue(), 15)

	_, err = graph.Client.Groups().Get(ctx, &groups.GroupsRequestBuilderGetRequestConfiguration{
		QueryParameters: &groups.GroupsRequestBuilderGetQueryParameters{Filter: ptr("displayName eq 'unterminated")},
	})
	requireODataError(t, err, http.StatusBadRequest, "BadRequest")
}

func TestGraphTopAboveTheLimitIsRefused(t *testing.T) {
	_, graph := startGraph(t, graphWorld(), sandbox.Faults{})
	ctx := context.Background()
	_, err := graph.Client.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Top: ptr(int32(1000))},
	})
	requireODataError(t, err, http.StatusBadRequest, "Request_BadRequest")
	_, err = graph.Client.Groups().ByGroupId(entraGroupID(graphWorld(), 0)).Members().Get(ctx, &groups.ItemMembersRequestBuilderGetRequestConfiguration{
		QueryParameters: &groups.ItemMembersRequestBuilderGetQueryParameters{Top: ptr(int32(1000))},
	})
	requireODataError(t, err, http.StatusBadRequest, "Request_BadRequest")
}

func TestGraphCountNeedsConsistencyLevel(t *testing.T) {
	w := graphWorld()
	_, graph := startGraph(t, w, sandbox.Faults{})
	ctx := context.Background()

	_, err := graph.Client.Groups().Count().Get(ctx, nil)
	requireODataError(t, err, http.StatusBadRequest, "Request_BadRequest")

	n, err := graph.Client.Groups().Count().Get(ctx, &groups.CountRequestBuilderGetRequestConfiguration{Headers: eventualHeader()})
	require.NoError(t, err)
	require.Equal(t, int32(4), *n)
	n, err = graph.Client.Users().Count().Get(ctx, &users.CountRequestBuilderGetRequestConfiguration{Headers: eventualHeader()})
	require.NoError(t, err)
	require.Equal(t, int32(1200), *n)

	// $count=true on a collection is an advanced query too.
	_, err = graph.Client.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Count: ptr(true), Top: ptr(int32(1))},
	})
	requireODataError(t, err, http.StatusBadRequest, "Request_BadRequest")
	page, err := graph.Client.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		Headers:         eventualHeader(),
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Count: ptr(true), Top: ptr(int32(1))},
	})
	require.NoError(t, err)
	require.Equal(t, int64(1200), *page.GetOdataCount())
	require.Len(t, page.GetValue(), 1)
}

func TestGraphMembersTransitiveMembersAndOwners(t *testing.T) {
	w := graphWorld()
	_, graph := startGraph(t, w, sandbox.Faults{})
	ctx := context.Background()
	admins := graph.Client.Groups().ByGroupId(entraGroupID(w, 0))

	members, err := admins.Members().Get(ctx, &groups.ItemMembersRequestBuilderGetRequestConfiguration{
		QueryParameters: &groups.ItemMembersRequestBuilderGetQueryParameters{Select: []string{"id", "userPrincipalName", "displayName"}},
	})
	require.NoError(t, err)
	require.Len(t, members.GetValue(), 2)
	user, ok := members.GetValue()[0].(models.Userable)
	require.True(t, ok, "a user member is a microsoft.graph.user: %T", members.GetValue()[0])
	require.Equal(t, "alice@corp.example", *user.GetUserPrincipalName())
	nested, ok := members.GetValue()[1].(models.Groupable)
	require.True(t, ok, "a nested group is a microsoft.graph.group: %T", members.GetValue()[1])
	require.Equal(t, "contractors", *nested.GetDisplayName())
	require.Equal(t, entraGroupID(w, 2), *nested.GetId())

	// Users reached through nesting, each once; the cast leaves groups out.
	reached, err := admins.TransitiveMembers().GraphUser().Get(ctx, &groups.ItemTransitiveMembersGraphUserRequestBuilderGetRequestConfiguration{
		QueryParameters: &groups.ItemTransitiveMembersGraphUserRequestBuilderGetQueryParameters{Select: []string{"id", "userPrincipalName"}},
	})
	require.NoError(t, err)
	var upns []string
	for _, u := range reached.GetValue() {
		upns = append(upns, *u.GetUserPrincipalName())
	}
	require.Equal(t, []string{"alice@corp.example", "carol@corp.example"}, upns)

	all, err := admins.TransitiveMembers().Get(ctx, nil)
	require.NoError(t, err)
	require.Len(t, all.GetValue(), 3, "alice, contractors and carol")

	owners, err := admins.Owners().Get(ctx, nil)
	require.NoError(t, err)
	require.Len(t, owners.GetValue(), 1)
	owners, err = graph.Client.Groups().ByGroupId(entraGroupID(w, 1)).Owners().Get(ctx, nil)
	require.NoError(t, err)
	require.Empty(t, owners.GetValue())

	g, err := graph.Client.Groups().ByGroupId(entraGroupID(w, 3)).Get(ctx, nil)
	require.NoError(t, err)
	require.False(t, *g.GetSecurityEnabled())
	require.True(t, *g.GetMailEnabled())

	u, err := graph.Client.Users().ByUserId("BOB@corp.example").Get(ctx, nil)
	require.NoError(t, err, "a user can be addressed by userPrincipalName")
	require.Equal(t, entraUserID("bob@corp.example"), *u.GetId())
}

func TestGraphMembersPagePastOnePage(t *testing.T) {
	w := graphWorld()
	everyone := world.EntraGroup{DisplayName: "everyone", SecurityEnabled: true}
	for _, u := range w.Entra.Users {
		everyone.Members = append(everyone.Members, u.UserPrincipalName)
	}
	w.Entra.Groups = append(w.Entra.Groups, everyone)
	_, graph := startGraph(t, w, sandbox.Faults{})
	ctx := context.Background()

	members := graph.Client.Groups().ByGroupId(entraGroupID(w, len(w.Entra.Groups)-1)).Members()
	page, err := members.Get(ctx, &groups.ItemMembersRequestBuilderGetRequestConfiguration{
		QueryParameters: &groups.ItemMembersRequestBuilderGetQueryParameters{Select: []string{"id"}, Top: ptr(int32(999))},
	})
	require.NoError(t, err)
	seen := len(page.GetValue())
	pages := 1
	for page.GetOdataNextLink() != nil {
		page, err = members.WithUrl(*page.GetOdataNextLink()).Get(ctx, nil)
		require.NoError(t, err)
		seen += len(page.GetValue())
		pages++
	}
	require.Equal(t, 1200, seen)
	require.Equal(t, 2, pages)
}

func TestGraphNotFoundAndUnauthorized(t *testing.T) {
	sb, graph := startGraph(t, graphWorld(), sandbox.Faults{})
	_, err := graph.Client.Groups().ByGroupId("00000000-0000-0000-0000-00000000dead").Get(context.Background(), nil)
	requireODataError(t, err, http.StatusNotFound, "Request_ResourceNotFound")

	status, body := graphGet(t, sb.GraphURL+"/v1.0/users", http.Header{})
	require.Equal(t, http.StatusUnauthorized, status)
	var e struct {
		Error struct {
			Code       string `json:"code"`
			Message    string `json:"message"`
			InnerError struct {
				Date      string `json:"date"`
				RequestID string `json:"request-id"`
			} `json:"innerError"`
		} `json:"error"`
	}
	require.NoError(t, json.Unmarshal(body, &e))
	require.Equal(t, "InvalidAuthenticationToken", e.Error.Code)
	require.NotEmpty(t, e.Error.InnerError.Date)
	require.NotEmpty(t, e.Error.InnerError.RequestID)

	status, _ = graphGet(t, sb.GraphURL+"/v1.0/users", http.Header{"Authorization": {"Bearer "}})
	require.Equal(t, http.StatusUnauthorized, status)
}

func TestGraphBatchAnswersEachRequestOnItsOwn(t *testing.T) {
	w := graphWorld()
	_, graph := startGraph(t, w, sandbox.Faults{})
	calls := apicalls.NewCounter()
	ctx := apicalls.WithCounter(context.Background(), calls)

	batch := msgraphcore.NewBatchRequest(graph.Adapter)
	add := func(info *abstractions.RequestInformation, err error) string {
		t.Helper()
		require.NoError(t, err)
		item, err := batch.AddBatchRequestStep(*info)
		require.NoError(t, err)
		return *item.GetId()
	}
	found := add(graph.Client.Groups().ToGetRequestInformation(ctx, &groups.GroupsRequestBuilderGetRequestConfiguration{
		QueryParameters: &groups.GroupsRequestBuilderGetQueryParameters{Filter: ptr("displayName eq 'aws-admins'"), Select: []string{"id", "displayName"}},
	}))
	missing := add(graph.Client.Groups().ByGroupId("00000000-0000-0000-0000-00000000dead").Members().ToGetRequestInformation(ctx, nil))
	refused := add(graph.Client.Users().ToGetRequestInformation(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Top: ptr(int32(5000))},
	}))
	members := add(graph.Client.Groups().ByGroupId(entraGroupID(w, 2)).Members().ToGetRequestInformation(ctx, nil))

	resp, err := batch.Send(ctx, graph.Adapter)
	require.NoError(t, err)
	require.Equal(t, map[string]int32{found: 200, missing: 404, refused: 400, members: 200}, resp.GetStatusCodes())
	require.Equal(t, []apicalls.OperationCount{{Operation: "graph:POST /$batch", Calls: 1}}, calls.Counts(), "one call carries them all")

	groupPage, err := msgraphcore.GetBatchResponseById[models.GroupCollectionResponseable](resp, found, models.CreateGroupCollectionResponseFromDiscriminatorValue)
	require.NoError(t, err)
	require.Len(t, groupPage.GetValue(), 2)
	memberPage, err := msgraphcore.GetBatchResponseById[models.DirectoryObjectCollectionResponseable](resp, members, models.CreateDirectoryObjectCollectionResponseFromDiscriminatorValue)
	require.NoError(t, err)
	require.Len(t, memberPage.GetValue(), 2)
	_, isUser := memberPage.GetValue()[0].(models.Userable)
	require.True(t, isUser)

	errBody, _ := resp.GetResponseById(missing).GetBody()["error"].(map[string]any)
	require.Equal(t, "Request_ResourceNotFound", *(errBody["code"].(*string)))
}

func TestGraphBatchOfMoreThanTwentyIsRefused(t *testing.T) {
	sb, _ := startGraph(t, graphWorld(), sandbox.Faults{})
	status, body := postBatch(t, sb.GraphURL, 21)
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, string(body), `"code":"BadRequest"`)
	require.Contains(t, string(body), "cannot exceed 20")

	status, _ = postBatch(t, sb.GraphURL, 20)
	require.Equal(t, http.StatusOK, status)
}

func TestGraphBatchThrottlesRequestsOnTheirOwn(t *testing.T) {
	sb, _ := startGraph(t, graphWorld(), sandbox.Faults{ThrottleRate: 0.3, ServerErrorRate: 0.1, RetryAfter: 2 * time.Second, Seed: 7})

	// The batch call itself may be throttled or fail too; try until one
	// goes through, as a client would.
	var body []byte
	for attempt := 0; ; attempt++ {
		require.Less(t, attempt, 20, "no batch went through")
		var status int
		status, body = postBatch(t, sb.GraphURL, 20)
		if status == http.StatusOK {
			break
		}
		require.Contains(t, []int{http.StatusTooManyRequests, http.StatusServiceUnavailable}, status)
	}
	var resp struct {
		Responses []struct {
			ID      string            `json:"id"`
			Status  int               `json:"status"`
			Headers map[string]string `json:"headers"`
			Body    json.RawMessage   `json:"body"`
		} `json:"responses"`
	}
	require.NoError(t, json.Unmarshal(body, &resp))
	require.Len(t, resp.Responses, 20)
	byStatus := map[int]int{}
	for _, r := range resp.Responses {
		byStatus[r.Status]++
		switch r.Status {
		case http.StatusTooManyRequests:
			require.Equal(t, "2", r.Headers["Retry-After"])
			require.Contains(t, string(r.Body), `"code":"TooManyRequests"`)
		case http.StatusServiceUnavailable:
			require.Contains(t, string(r.Body), `"code":"ServiceUnavailable"`)
		default:
			require.Equal(t, http.StatusOK, r.Status)
			require.Contains(t, string(r.Body), `"value":[`)
		}
	}
	require.Positive(t, byStatus[http.StatusOK], "%v", byStatus)
	require.Positive(t, byStatus[http.StatusTooManyRequests], "%v", byStatus)
}

// postBatch posts n requests for the first user (by filter) as one $batch.
func postBatch(t *testing.T, graphURL string, n int) (int, []byte) {
	t.Helper()
	type request struct {
		ID     string `json:"id"`
		Method string `json:"method"`
		URL    string `json:"url"`
	}
	var batch struct {
		Requests []request `json:"requests"`
	}
	for i := range n {
		batch.Requests = append(batch.Requests, request{ID: fmt.Sprint(i + 1), Method: "GET", URL: "/users?$filter=" + url.QueryEscape("userPrincipalName eq 'alice@corp.example'") + "&$select=id"})
	}
	data, err := json.Marshal(batch)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, graphURL+"/v1.0/$batch", bytes.NewReader(data))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+graphTestToken)
	req.Header.Set("Content-Type", "application/json")
	return do(t, req)
}

// graphGet makes a plain GET, to see the wire format as it is. header nil
// means a valid token.
func graphGet(t *testing.T, u string, header http.Header) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(t, err)
	if header == nil {
		header = http.Header{"Authorization": {"Bearer " + graphTestToken}}
	}
	req.Header = header
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, body
}

func ptr[T any](v T) *T { return &v }

func TestForbiddenPathsAnswer403(t *testing.T) {
	sb, err := sandbox.Start(world.Sample(), sandbox.Options{Graph: sandbox.GraphOptions{
		ForbiddenPaths: []string{"POST /applicationTemplates/*/instantiate"},
	}})
	require.NoError(t, err)
	defer sb.Close()
	call := func(method, path string) int {
		req, err := http.NewRequest(method, sb.GraphURL+"/v1.0"+path, strings.NewReader(`{"displayName":"x"}`))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+graphTestToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusForbidden {
			body, _ := io.ReadAll(resp.Body)
			require.Contains(t, string(body), "Authorization_RequestDenied")
		}
		return resp.StatusCode
	}
	require.Equal(t, http.StatusForbidden, call("POST", "/applicationTemplates/21ed01d2-ec13-4e9e-86c1-cd546719ebc4/instantiate"))
	require.NotEqual(t, http.StatusForbidden, call("GET", "/applicationTemplates/21ed01d2-ec13-4e9e-86c1-cd546719ebc4"))
}
