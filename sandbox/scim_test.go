package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/sandbox/world"
)

// These tests talk to the SCIM endpoint with plain HTTP requests, as a SCIM
// client (Entra's provisioning service) does.

const scimTestTenant = "a1b2c3d4-1111-2222-3333-444455556666"

// testClock is a clock the tests move; the server reads it concurrently.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

type scimTestEnv struct {
	server  *scimServer
	http    *httptest.Server
	clock   *testClock
	token   string
	tokenID string
	base    string // the SCIM endpoint, as the console shows it
}

func newSCIMTestEnv(t *testing.T) *scimTestEnv {
	t.Helper()
	clock := &testClock{now: time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)}
	server := newSCIMServer(scimTestTenant, clock.Now)
	ts := httptest.NewServer(server)
	t.Cleanup(ts.Close)
	id, token, expiresAt, err := server.CreateToken()
	require.NoError(t, err)
	require.Equal(t, clock.Now().AddDate(1, 0, 0), expiresAt)
	return &scimTestEnv{server: server, http: ts, clock: clock, token: token, tokenID: id, base: ts.URL + "/" + scimTestTenant + "/scim/v2"}
}

// do sends a request with the env's token and decodes a JSON answer.
func (e *scimTestEnv) do(t *testing.T, method, path string, body any) (int, map[string]any) {
	t.Helper()
	return e.doWithToken(t, e.token, method, e.base+path, body)
}

func (e *scimTestEnv) doWithToken(t *testing.T, token, method, target string, body any) (int, map[string]any) {
	t.Helper()
	var reader *bytes.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(t, err)
		reader = bytes.NewReader(raw)
	} else {
		reader = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, target, reader)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var decoded map[string]any
	if resp.StatusCode != http.StatusNoContent {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&decoded), "%s %s answered %d without JSON", method, target, resp.StatusCode)
	}
	return resp.StatusCode, decoded
}

// requireSCIMError checks the error body AWS sends.
func requireSCIMError(t *testing.T, status int, body map[string]any, wantStatus int) {
	t.Helper()
	require.Equal(t, wantStatus, status, "body: %v", body)
	require.Equal(t, []any{scimSchemaError}, body["schemas"])
	require.Equal(t, []any{scimSchemaError}, body["schema"])
	require.Equal(t, fmt.Sprint(wantStatus), body["status"])
	require.NotEmpty(t, body["detail"])
}

func scimTestUser(name string) map[string]any {
	return map[string]any{
		"schemas":     []string{scimSchemaUser},
		"externalId":  "ext-" + name,
		"userName":    name + "@corp.example",
		"name":        map[string]any{"givenName": strings.ToUpper(name[:1]) + name[1:], "familyName": "Tester"},
		"displayName": name + " Tester",
		"active":      true,
		"emails":      []map[string]any{{"value": name + "@corp.example", "type": "work", "primary": true}},
	}
}

// createSCIMUser creates a user and returns its ID.
func (e *scimTestEnv) createSCIMUser(t *testing.T, name string) string {
	t.Helper()
	status, body := e.do(t, http.MethodPost, "/Users", scimTestUser(name))
	require.Equal(t, http.StatusCreated, status, "body: %v", body)
	return body["id"].(string)
}

func TestSCIMCreateAndGetUser(t *testing.T) {
	env := newSCIMTestEnv(t)
	status, created := env.do(t, http.MethodPost, "/Users", scimTestUser("alice"))
	require.Equal(t, http.StatusCreated, status, "body: %v", created)
	id := created["id"].(string)
	require.Equal(t, world.StableID("scim-user", "alice@corp.example"), id)
	require.Equal(t, "alice@corp.example", created["userName"])
	require.Equal(t, "User", created["meta"].(map[string]any)["resourceType"])

	status, got := env.do(t, http.MethodGet, "/Users/"+id, nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "Alice", got["name"].(map[string]any)["givenName"])
	require.Equal(t, "ext-alice", got["externalId"])
	require.Equal(t, []any{map[string]any{"value": "alice@corp.example", "type": "work", "primary": true}}, got["emails"])

	require.Equal(t, SCIMState{
		Users: []SCIMUser{{
			ID: id, ExternalID: "ext-alice", UserName: "alice@corp.example", GivenName: "Alice", FamilyName: "Tester",
			DisplayName: "alice Tester", Email: "alice@corp.example", Active: true,
		}},
		Groups: []SCIMGroup{},
	}, env.server.Snapshot())

	status, body := env.do(t, http.MethodGet, "/Users/no-such-user", nil)
	requireSCIMError(t, status, body, http.StatusNotFound)
}

func TestSCIMDuplicateUserIsRefusedWith409(t *testing.T) {
	env := newSCIMTestEnv(t)
	env.createSCIMUser(t, "alice")

	sameName := scimTestUser("alice")
	sameName["userName"] = "ALICE@corp.example" // userName is unique regardless of case
	sameName["emails"] = []map[string]any{{"value": "other@corp.example", "primary": true}}
	sameEmail := scimTestUser("alice2")
	sameEmail["emails"] = []map[string]any{{"value": "Alice@corp.example", "primary": true}}
	for name, user := range map[string]map[string]any{"userName": sameName, "email": sameEmail} {
		status, body := env.do(t, http.MethodPost, "/Users", user)
		requireSCIMError(t, status, body, http.StatusConflict)
		require.Equal(t, "Refused to create a new, duplicate resource.", body["detail"], name)
	}
	require.Len(t, env.server.Snapshot().Users, 1)
}

func TestSCIMCreateUserValidation(t *testing.T) {
	env := newSCIMTestEnv(t)
	without := func(mutate func(u map[string]any)) map[string]any {
		u := scimTestUser("bob")
		mutate(u)
		return u
	}
	cases := map[string]map[string]any{
		"no userName":    without(func(u map[string]any) { delete(u, "userName") }),
		"no displayName": without(func(u map[string]any) { u["displayName"] = " " }),
		"no givenName":   without(func(u map[string]any) { u["name"] = map[string]any{"familyName": "Tester"} }),
		"no familyName":  without(func(u map[string]any) { u["name"] = map[string]any{"givenName": "Bob"} }),
		"two emails": without(func(u map[string]any) {
			u["emails"] = []map[string]any{{"value": "a@x", "primary": true}, {"value": "b@x"}}
		}),
		"non-primary email": without(func(u map[string]any) { u["emails"] = []map[string]any{{"value": "a@x", "primary": false}} }),
		"password":          without(func(u map[string]any) { u["password"] = "hunter2" }),
		"groups":            without(func(u map[string]any) { u["groups"] = []map[string]any{{"value": "g"}} }),
		"not a user":        {"userName": 42},
	}
	for name, user := range cases {
		status, body := env.do(t, http.MethodPost, "/Users", user)
		requireSCIMError(t, status, body, http.StatusBadRequest)
		require.Contains(t, body["detail"], "violates schema", name)
	}
	require.Empty(t, env.server.Snapshot().Users)
}

func TestSCIMFilterEq(t *testing.T) {
	env := newSCIMTestEnv(t)
	alice := env.createSCIMUser(t, "alice")
	env.createSCIMUser(t, "bob")
	env.createSCIMUser(t, "carol")

	list := func(filter string) []string {
		t.Helper()
		status, body := env.do(t, http.MethodGet, "/Users?filter="+url.QueryEscape(filter), nil)
		require.Equal(t, http.StatusOK, status, "body: %v", body)
		var names []string
		for _, r := range body["Resources"].([]any) {
			names = append(names, r.(map[string]any)["userName"].(string))
		}
		require.Equal(t, float64(len(names)), body["totalResults"])
		return names
	}
	require.Equal(t, []string{"alice@corp.example"}, list(`userName eq "alice@corp.example"`))
	require.Equal(t, []string{"alice@corp.example"}, list(`UserName EQ "Alice@Corp.Example"`))
	require.Empty(t, list(`userName eq "nobody@corp.example"`))
	require.Equal(t, []string{"bob@corp.example"}, list(`externalId eq "ext-bob"`))
	require.Equal(t, []string{"alice@corp.example"}, list(`id eq "`+alice+`" and userName eq "alice@corp.example"`))
	require.Empty(t, list(`id eq "`+alice+`" and userName eq "bob@corp.example"`))
}

func TestSCIMUnsupportedFiltersAre400(t *testing.T) {
	env := newSCIMTestEnv(t)
	env.createSCIMUser(t, "alice")
	for _, filter := range []string{
		`userName co "alice"`,
		`userName sw "ali"`,
		`userName ne "alice@corp.example"`,
		`userName pr`,
		`userName eq "alice@corp.example" or userName eq "bob@corp.example"`,
		`not (userName eq "alice@corp.example")`,
		`emails[type eq "work"] eq "x"`,
		`userName eq alice`,
		`displayName eq "alice Tester"`, // not a user filter AWS supports
	} {
		status, body := env.do(t, http.MethodGet, "/Users?filter="+url.QueryEscape(filter), nil)
		requireSCIMError(t, status, body, http.StatusBadRequest)
		require.Contains(t, body["detail"], "filter", filter)
	}
	status, body := env.do(t, http.MethodGet, "/Groups?filter="+url.QueryEscape(`displayName sw "a"`), nil)
	requireSCIMError(t, status, body, http.StatusBadRequest)
}

func TestSCIMPaging(t *testing.T) {
	env := newSCIMTestEnv(t)
	const total = 250
	for i := range total {
		env.createSCIMUser(t, fmt.Sprintf("user%03d", i))
	}

	// Without a cursor: the first page only, with totalResults.
	status, first := env.do(t, http.MethodGet, "/Users", nil)
	require.Equal(t, http.StatusOK, status)
	require.Len(t, first["Resources"], 100)
	require.Equal(t, float64(total), first["totalResults"])
	require.Equal(t, float64(1), first["startIndex"])
	require.Equal(t, float64(100), first["itemsPerPage"])
	require.NotContains(t, first, "nextCursor")

	// With a cursor: every user once, in pages of at most 100.
	seen := map[string]bool{}
	cursor, pages := "", 0
	for {
		status, page := env.do(t, http.MethodGet, "/Users?cursor="+url.QueryEscape(cursor), nil)
		require.Equal(t, http.StatusOK, status, "body: %v", page)
		pages++
		require.NotContains(t, page, "totalResults")
		resources := page["Resources"].([]any)
		require.Equal(t, float64(len(resources)), page["itemsPerPage"])
		for _, r := range resources {
			id := r.(map[string]any)["id"].(string)
			require.False(t, seen[id], "user %s listed twice", id)
			seen[id] = true
		}
		next, more := page["nextCursor"].(string)
		if !more {
			require.Len(t, resources, total%100)
			break
		}
		require.Len(t, resources, 100)
		cursor = next
	}
	require.Equal(t, 3, pages)
	require.Len(t, seen, total)

	status, small := env.do(t, http.MethodGet, "/Users?count=7&cursor=", nil)
	require.Equal(t, http.StatusOK, status)
	require.Len(t, small["Resources"], 7)
	require.NotEmpty(t, small["nextCursor"])

	for _, query := range []string{"count=101", "count=0", "startIndex=101", "cursor=%21%21"} {
		status, body := env.do(t, http.MethodGet, "/Users?"+query, nil)
		requireSCIMError(t, status, body, http.StatusBadRequest)
	}
}

func memberOps(op string, userIDs ...string) map[string]any {
	members := make([]map[string]any, 0, len(userIDs))
	for _, id := range userIDs {
		members = append(members, map[string]any{"value": id})
	}
	return map[string]any{
		"schemas":    []string{scimSchemaPatchOp},
		"Operations": []map[string]any{{"op": op, "path": "members", "value": members}},
	}
}

func TestSCIMGroupMembers(t *testing.T) {
	env := newSCIMTestEnv(t)
	alice, bob, carol := env.createSCIMUser(t, "alice"), env.createSCIMUser(t, "bob"), env.createSCIMUser(t, "carol")

	status, created := env.do(t, http.MethodPost, "/Groups", map[string]any{
		"schemas": []string{scimSchemaGroup}, "displayName": "aws-admins", "externalId": "entra-1",
		"members": []map[string]any{{"value": alice}, {"value": bob}},
	})
	require.Equal(t, http.StatusCreated, status, "body: %v", created)
	group := created["id"].(string)
	require.Equal(t, world.StableID("scim-group", "aws-admins"), group)
	require.NotContains(t, created, "members", "AWS never returns group members")

	status, got := env.do(t, http.MethodGet, "/Groups/"+group, nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "aws-admins", got["displayName"])
	require.NotContains(t, got, "members")

	status, body := env.do(t, http.MethodPost, "/Groups", map[string]any{"displayName": "AWS-Admins"})
	requireSCIMError(t, status, body, http.StatusConflict)
	require.Equal(t, "Refused to create a new, duplicate resource.", body["detail"])

	status, _ = env.do(t, http.MethodPatch, "/Groups/"+group, memberOps("add", carol))
	require.Equal(t, http.StatusNoContent, status)
	status, _ = env.do(t, http.MethodPatch, "/Groups/"+group, map[string]any{
		"schemas":    []string{scimSchemaPatchOp},
		"Operations": []map[string]any{{"op": "remove", "path": `members[value eq "` + alice + `"]`}},
	})
	require.Equal(t, http.StatusNoContent, status)
	status, _ = env.do(t, http.MethodPatch, "/Groups/"+group, memberOps("Remove", bob))
	require.Equal(t, http.StatusNoContent, status)
	status, _ = env.do(t, http.MethodPatch, "/Groups/"+group, map[string]any{
		"schemas":    []string{scimSchemaPatchOp},
		"Operations": []map[string]any{{"op": "replace", "value": map[string]any{"displayName": "aws-administrators"}}},
	})
	require.Equal(t, http.StatusNoContent, status)

	require.Equal(t, []SCIMGroup{{ID: group, ExternalID: "entra-1", DisplayName: "aws-administrators", MemberIDs: []string{carol}}},
		env.server.Snapshot().Groups)

	// Membership is read with a filter, as Entra does.
	isMember := func(user string) bool {
		filter := url.QueryEscape(`id eq "` + group + `" and members eq "` + user + `"`)
		status, body := env.do(t, http.MethodGet, "/Groups?filter="+filter, nil)
		require.Equal(t, http.StatusOK, status, "body: %v", body)
		return body["totalResults"] == float64(1)
	}
	require.True(t, isMember(carol))
	require.False(t, isMember(alice))

	status, byName := env.do(t, http.MethodGet, "/Groups?filter="+url.QueryEscape(`displayName eq "aws-administrators"`), nil)
	require.Equal(t, http.StatusOK, status)
	require.Len(t, byName["Resources"], 1)

	// Deleting a user takes it out of its groups.
	status, _ = env.do(t, http.MethodDelete, "/Users/"+carol, nil)
	require.Equal(t, http.StatusNoContent, status)
	require.Empty(t, env.server.Snapshot().Groups[0].MemberIDs)
	status, body = env.do(t, http.MethodDelete, "/Users/"+carol, nil)
	requireSCIMError(t, status, body, http.StatusNotFound)

	status, _ = env.do(t, http.MethodDelete, "/Groups/"+group, nil)
	require.Equal(t, http.StatusNoContent, status)
	require.Empty(t, env.server.Snapshot().Groups)
}

func TestSCIMGroupPatchLimits(t *testing.T) {
	env := newSCIMTestEnv(t)
	users := make([]string, 101)
	for i := range users {
		users[i] = env.createSCIMUser(t, fmt.Sprintf("user%03d", i))
	}
	status, created := env.do(t, http.MethodPost, "/Groups", map[string]any{"displayName": "big"})
	require.Equal(t, http.StatusCreated, status)
	group := created["id"].(string)
	_, other := env.do(t, http.MethodPost, "/Groups", map[string]any{"displayName": "other"})

	refused := map[string]map[string]any{
		"101 member changes": memberOps("add", users...),
		"replace members":    memberOps("replace", users[0]),
		"remove all members": {"schemas": []string{scimSchemaPatchOp}, "Operations": []map[string]any{{"op": "remove", "path": "members"}}},
		"nested group":       memberOps("add", other["id"].(string)),
		"unknown user":       memberOps("add", "no-such-user"),
		"unknown attribute":  {"Operations": []map[string]any{{"op": "replace", "path": "description", "value": "x"}}},
		"bad op":             {"Operations": []map[string]any{{"op": "move", "path": "members", "value": []any{}}}},
		// 60 + 41 changes in two operations of one request are 101 too.
		"101 across operations": {"Operations": []map[string]any{
			{"op": "add", "path": "members", "value": memberRefs(users[:60])},
			{"op": "add", "path": "members", "value": memberRefs(users[60:])},
		}},
	}
	for name, patch := range refused {
		status, body := env.do(t, http.MethodPatch, "/Groups/"+group, patch)
		requireSCIMError(t, status, body, http.StatusBadRequest)
		require.Empty(t, env.server.Snapshot().Groups[0].MemberIDs, name)
	}

	status, body := env.do(t, http.MethodPost, "/Groups", map[string]any{"displayName": "too-big", "members": memberRefs(users)})
	requireSCIMError(t, status, body, http.StatusBadRequest)

	status, _ = env.do(t, http.MethodPatch, "/Groups/"+group, memberOps("add", users[:100]...))
	require.Equal(t, http.StatusNoContent, status)
	require.Len(t, env.server.Snapshot().Groups[0].MemberIDs, 100)

	status, body = env.do(t, http.MethodPatch, "/Groups/"+group, map[string]any{
		"Operations": []map[string]any{{"op": "replace", "path": "displayName", "value": "other"}},
	})
	requireSCIMError(t, status, body, http.StatusConflict)

	status, body = env.do(t, http.MethodPut, "/Groups/"+group, map[string]any{"displayName": "big"})
	requireSCIMError(t, status, body, http.StatusBadRequest)
}

func memberRefs(ids []string) []map[string]any {
	refs := make([]map[string]any, 0, len(ids))
	for _, id := range ids {
		refs = append(refs, map[string]any{"value": id})
	}
	return refs
}

func TestSCIMPatchAndReplaceUser(t *testing.T) {
	env := newSCIMTestEnv(t)
	alice := env.createSCIMUser(t, "alice")
	env.createSCIMUser(t, "bob")

	status, body := env.do(t, http.MethodPatch, "/Users/"+alice, map[string]any{
		"schemas": []string{scimSchemaPatchOp},
		"Operations": []map[string]any{
			{"op": "Replace", "path": "displayName", "value": "Alice Ng"},
			{"op": "Replace", "path": "name.familyName", "value": "Ng"},
			{"op": "Replace", "path": `emails[type eq "work"].value`, "value": "alice.ng@corp.example"},
			{"op": "Replace", "path": "active", "value": "False"},
			{"op": "Add", "path": scimSchemaEnterpriseUser + ":department", "value": "SRE"},
		},
	})
	require.Equal(t, http.StatusNoContent, status, "body: %v", body)
	_, got := env.do(t, http.MethodGet, "/Users/"+alice, nil)
	require.Equal(t, "Alice Ng", got["displayName"])
	require.Equal(t, false, got["active"])
	require.Equal(t, "alice.ng@corp.example", got["emails"].([]any)[0].(map[string]any)["value"])
	require.Equal(t, "SRE", got[scimSchemaEnterpriseUser].(map[string]any)["department"])

	// A rename onto another user's userName is a duplicate; nothing changes.
	status, body = env.do(t, http.MethodPatch, "/Users/"+alice, map[string]any{
		"Operations": []map[string]any{{"op": "replace", "path": "userName", "value": "bob@corp.example"}},
	})
	requireSCIMError(t, status, body, http.StatusConflict)
	status, body = env.do(t, http.MethodPatch, "/Users/"+alice, map[string]any{
		"Operations": []map[string]any{{"op": "remove", "path": "name.givenName"}},
	})
	requireSCIMError(t, status, body, http.StatusBadRequest)
	for name, ops := range map[string][]map[string]any{
		"remove active":         {{"op": "remove", "path": "active"}},
		"two userName changes":  {{"op": "replace", "path": "userName", "value": "a@x"}, {"op": "replace", "path": "userName", "value": "b@x"}},
		"replace without value": {{"op": "replace", "path": "title"}},
		"unsupported attribute": {{"op": "replace", "path": "password", "value": "hunter2"}},
		"non-primary email":     {{"op": "replace", "path": "emails", "value": []map[string]any{{"value": "a@x", "primary": false}}}},
	} {
		status, body = env.do(t, http.MethodPatch, "/Users/"+alice, map[string]any{"Operations": ops})
		requireSCIMError(t, status, body, http.StatusBadRequest)
		require.Contains(t, body["detail"], "violates schema", name)
	}
	_, got = env.do(t, http.MethodGet, "/Users/"+alice, nil)
	require.Equal(t, "alice@corp.example", got["userName"])
	require.Equal(t, "Alice", got["name"].(map[string]any)["givenName"])

	replacement := scimTestUser("alice")
	replacement["displayName"] = "Alice Replaced"
	status, replaced := env.do(t, http.MethodPut, "/Users/"+alice, replacement)
	require.Equal(t, http.StatusOK, status, "body: %v", replaced)
	require.Equal(t, "Alice Replaced", replaced["displayName"])
	require.Equal(t, alice, replaced["id"])

	// The old email is free again after the PATCH moved alice off it, and the
	// PUT took it back: a third user cannot have it.
	carol := scimTestUser("carol")
	carol["emails"] = []map[string]any{{"value": "alice@corp.example", "primary": true}}
	status, body = env.do(t, http.MethodPost, "/Users", carol)
	requireSCIMError(t, status, body, http.StatusConflict)
}

func TestSCIMBearerTokens(t *testing.T) {
	env := newSCIMTestEnv(t)
	ok := func(token string) bool {
		t.Helper()
		status, body := env.doWithToken(t, token, http.MethodGet, env.base+"/Users", nil)
		if status == http.StatusUnauthorized {
			requireSCIMError(t, status, body, http.StatusUnauthorized)
			return false
		}
		require.Equal(t, http.StatusOK, status)
		return true
	}
	require.True(t, ok(env.token))
	require.False(t, ok(""))
	require.False(t, ok("not-a-token"))
	status, body := env.doWithToken(t, env.token, http.MethodGet, env.http.URL+"/other-tenant/scim/v2/Users", nil)
	requireSCIMError(t, status, body, http.StatusUnauthorized)

	// A second token; a third is refused.
	secondID, second, _, err := env.server.CreateToken()
	require.NoError(t, err)
	require.True(t, ok(second))
	_, _, _, err = env.server.CreateToken()
	require.ErrorIs(t, err, ErrSCIMTokenLimit)

	tokens := env.server.Tokens()
	require.Len(t, tokens, 2)
	require.Equal(t, env.tokenID, tokens[0].ID)
	require.Equal(t, tokens[0].CreatedAt.AddDate(1, 0, 0), tokens[0].ExpiresAt)

	// A deleted token is refused; the other keeps working, and a new one
	// can be created.
	require.NoError(t, env.server.DeleteToken(secondID))
	require.ErrorIs(t, env.server.DeleteToken(secondID), ErrSCIMTokenNotFound)
	require.False(t, ok(second))
	require.True(t, ok(env.token))
	env.clock.Set(env.clock.Now().AddDate(0, 1, 0)) // the rotation happens a month later
	_, third, thirdExpiry, err := env.server.CreateToken()
	require.NoError(t, err)
	require.Equal(t, env.clock.Now().AddDate(1, 0, 0), thirdExpiry)

	// A token works until its expiry and not from then on; an expired token
	// still counts towards the two until it is deleted.
	expiry := env.server.Tokens()[0].ExpiresAt
	env.clock.Set(expiry.Add(-time.Second))
	require.True(t, ok(env.token))
	env.clock.Set(expiry)
	require.False(t, ok(env.token))
	require.True(t, ok(third))
	_, _, _, err = env.server.CreateToken()
	require.ErrorIs(t, err, ErrSCIMTokenLimit)

	env.server.DeleteAllTokens()
	require.Empty(t, env.server.Tokens())
	require.False(t, ok(third))
}

func TestSCIMUnsupportedEndpointsAre400(t *testing.T) {
	env := newSCIMTestEnv(t)
	for _, call := range []struct{ method, path string }{
		{http.MethodPost, "/Bulk"},
		{http.MethodGet, "/Me"},
		{http.MethodPost, "/.search"},
		{http.MethodPost, "/Users/.search"},
		{http.MethodDelete, "/Users"},
	} {
		status, body := env.do(t, call.method, call.path, map[string]any{})
		requireSCIMError(t, status, body, http.StatusBadRequest)
	}
}

func TestSCIMDiscoveryEndpoints(t *testing.T) {
	env := newSCIMTestEnv(t)
	status, config := env.do(t, http.MethodGet, "/ServiceProviderConfig", nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, true, config["patch"].(map[string]any)["supported"])
	require.Equal(t, false, config["bulk"].(map[string]any)["supported"])
	require.Equal(t, float64(100), config["filter"].(map[string]any)["maxResults"])

	status, schemas := env.do(t, http.MethodGet, "/Schemas", nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, float64(3), schemas["totalResults"])
	status, userSchema := env.do(t, http.MethodGet, "/Schemas/"+scimSchemaUser, nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "User", userSchema["name"])

	status, types := env.do(t, http.MethodGet, "/ResourceTypes", nil)
	require.Equal(t, http.StatusOK, status)
	var endpoints []string
	for _, r := range types["Resources"].([]any) {
		endpoints = append(endpoints, r.(map[string]any)["endpoint"].(string))
	}
	require.Equal(t, []string{"/Users", "/Groups"}, endpoints)
}

// The endpoint writes the identity store the identitystore operations read:
// the users and groups of the world are there before any provisioning, keep
// their uniqueness against SCIM writes, and what SCIM writes lands in the
// same indexes.
func TestSCIMWritesTheIdentityStore(t *testing.T) {
	store := newAWSState(&world.World{AWS: world.AWS{
		Region: "eu-west-1", IdentityStoreID: "d-1234567890", InstanceARN: "arn:aws:sso:::instance/ssoins-1234567890abcdef",
		Accounts:       []world.Account{{ID: "111111111111", Name: "prod"}},
		PermissionSets: []world.PermissionSet{{Name: "AdministratorAccess"}},
		Users: []world.AWSUser{{UserName: "alice@corp.example", GivenName: "Alice", FamilyName: "Ng",
			DisplayName: "Alice Ng", Email: "alice@corp.example"}},
		Groups:      []world.AWSGroup{{DisplayName: "aws-admins", Members: []string{"alice@corp.example"}}},
		Assignments: []world.Assignment{{Group: "aws-admins", Account: "111111111111", PermissionSet: "AdministratorAccess"}},
	}})
	clock := &testClock{now: time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)}
	server := newSCIMServerOn(store, scimTestTenant, clock.Now)
	server.setProvisioning(true)
	ts := httptest.NewServer(server)
	t.Cleanup(ts.Close)
	_, token, _, err := server.CreateToken()
	require.NoError(t, err)
	env := &scimTestEnv{server: server, http: ts, clock: clock, token: token, base: ts.URL + "/" + scimTestTenant + "/scim/v2"}
	alice, admins := world.StableID("aws-user", "alice@corp.example"), world.StableID("aws-group", "aws-admins")

	// Entra looks the world's users and groups up by name, to adopt them.
	status, found := env.do(t, http.MethodGet, "/Users?filter="+url.QueryEscape(`userName eq "Alice@corp.example"`), nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, float64(1), found["totalResults"])
	require.Equal(t, alice, found["Resources"].([]any)[0].(map[string]any)["id"])
	status, found = env.do(t, http.MethodGet, "/Groups?filter="+url.QueryEscape(`displayName eq "aws-admins" and members eq "`+alice+`"`), nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, float64(1), found["totalResults"])

	// The world's names and emails are taken.
	twin := scimTestUser("twin")
	twin["emails"] = []map[string]any{{"value": "ALICE@corp.example", "primary": true}}
	status, body := env.do(t, http.MethodPost, "/Users", twin)
	requireSCIMError(t, status, body, http.StatusConflict)
	status, body = env.do(t, http.MethodPost, "/Groups", map[string]any{"displayName": "AWS-Admins"})
	requireSCIMError(t, status, body, http.StatusConflict)

	// A new user and a membership land in the store's sorted indexes.
	bob := env.createSCIMUser(t, "bob")
	status, _ = env.do(t, http.MethodPatch, "/Groups/"+admins, memberOps("add", bob))
	require.Equal(t, http.StatusNoContent, status)
	store.mu.RLock()
	require.True(t, slices.IsSorted(store.userIDs))
	require.Contains(t, store.userIDs, bob)
	require.Equal(t, bob, store.userByName["bob@corp.example"])
	require.True(t, store.isMember(admins, bob))
	require.True(t, slices.IsSorted(store.members[admins]))
	require.Equal(t, []string{admins}, store.memberOf[bob])
	store.mu.RUnlock()

	// Deactivating a world user through SCIM disables it in the store.
	status, _ = env.do(t, http.MethodPatch, "/Users/"+alice, map[string]any{
		"Operations": []map[string]any{{"op": "replace", "path": "active", "value": false}},
	})
	require.Equal(t, http.StatusNoContent, status)
	store.mu.RLock()
	require.Equal(t, "DISABLED", store.userDoc(store.users[alice]).UserStatus)
	store.mu.RUnlock()

	// Deleting a group removes its memberships but, as in AWS, not its
	// account assignments.
	status, _ = env.do(t, http.MethodDelete, "/Groups/"+admins, nil)
	require.Equal(t, http.StatusNoContent, status)
	store.mu.RLock()
	defer store.mu.RUnlock()
	require.Empty(t, store.memberOf[bob])
	require.Empty(t, store.memberOf[alice])
	require.Len(t, store.byPrincipal[admins], 1)
}

func TestSCIMRefusesEveryRequestWhileProvisioningIsDisabled(t *testing.T) {
	env := newSCIMTestEnv(t)
	env.createSCIMUser(t, "alice")
	env.server.setProvisioning(false)
	for _, path := range []string{"/Users", "/Groups", "/ServiceProviderConfig"} {
		status, body := env.do(t, http.MethodGet, path, nil)
		requireSCIMError(t, status, body, http.StatusUnauthorized)
	}
	require.Empty(t, env.server.Tokens(), "disabling provisioning deletes the tokens")
	env.server.setProvisioning(true)
	status, body := env.do(t, http.MethodGet, "/Users", nil)
	requireSCIMError(t, status, body, http.StatusUnauthorized)
	_, token, _, err := env.server.CreateToken()
	require.NoError(t, err)
	status, body = env.doWithToken(t, token, http.MethodGet, env.base+"/Users", nil)
	require.Equal(t, http.StatusOK, status, "body: %v", body)
	require.Equal(t, float64(1), body["totalResults"])
}
