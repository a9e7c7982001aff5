package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// scimClient is the provisioning engine's side of the SCIM endpoint: the
// calls Entra makes to an AWS IAM Identity Center tenant, over plain HTTP
// (SCIM has no SDK). It sends the bearer token and never puts it in an
// error.
type scimClient struct {
	http  *http.Client
	base  string // the endpoint, without a trailing slash
	token string
}

func newSCIMClient(h *http.Client, c credentials) *scimClient {
	return &scimClient{http: h, base: strings.TrimRight(c.baseAddress, "/"), token: c.token}
}

// scimCallError is an answer of the SCIM endpoint other than success, or
// no answer at all (status 0).
type scimCallError struct {
	operation string // "GET /Users"
	status    int
	detail    string
}

func (e *scimCallError) Error() string {
	if e.status == 0 {
		return fmt.Sprintf("%s: the SCIM endpoint did not answer: %s", e.operation, e.detail)
	}
	return fmt.Sprintf("%s: %d %s: %s", e.operation, e.status, http.StatusText(e.status), e.detail)
}

// unauthorized reports whether the endpoint refused the token (or the
// tenant in the URL), which no retry of the same call fixes.
func (e *scimCallError) unauthorized() bool {
	return e.status == http.StatusUnauthorized || e.status == http.StatusForbidden
}

// isUnauthorized reports whether err is a refused token.
func isUnauthorized(err error) bool {
	var call *scimCallError
	return errors.As(err, &call) && call.unauthorized()
}

// do sends one request and decodes a JSON answer into out (when not nil).
func (c *scimClient) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	operation := method + " " + path
	target := c.base + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var reader io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return &scimCallError{operation: operation, detail: err.Error()}
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, reader)
	if err != nil {
		return &scimCallError{operation: operation, detail: "the SCIM endpoint " + strconv.Quote(c.base) + " is not a URL"}
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/scim+json")
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// url.Error names the URL, which carries no token.
		return &scimCallError{operation: operation, detail: err.Error()}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, scimMaxBody))
	if err != nil {
		return &scimCallError{operation: operation, status: resp.StatusCode, detail: "the answer could not be read: " + err.Error()}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &scimCallError{operation: operation, status: resp.StatusCode, detail: scimErrorDetail(data)}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return &scimCallError{operation: operation, status: resp.StatusCode, detail: "the answer is not the JSON expected: " + err.Error()}
		}
	}
	return nil
}

// scimErrorDetail is the detail of a SCIM error body, or the start of
// whatever else came back.
func scimErrorDetail(body []byte) string {
	var e struct {
		Detail string `json:"detail"`
	}
	if json.Unmarshal(body, &e) == nil && e.Detail != "" {
		return e.Detail
	}
	text := strings.TrimSpace(string(body))
	if len(text) > 200 {
		text = text[:200] + "..."
	}
	return text
}

// scimList is the part of a ListResponse the engine reads.
type scimList struct {
	TotalResults *int              `json:"totalResults"`
	Resources    []json.RawMessage `json:"Resources"`
}

// findOne looks a resource up by an `eq` filter and decodes the first match
// into out; found is false when there is none.
func (c *scimClient) findOne(ctx context.Context, resource, attribute, value string, out any) (found bool, err error) {
	var list scimList
	query := url.Values{"filter": {attribute + " eq " + strconv.Quote(value)}}
	if err := c.do(ctx, http.MethodGet, "/"+resource, query, nil, &list); err != nil {
		return false, err
	}
	if len(list.Resources) == 0 {
		return false, nil
	}
	if err := json.Unmarshal(list.Resources[0], out); err != nil {
		return false, &scimCallError{operation: "GET /" + resource, status: http.StatusOK, detail: "the answer is not the JSON expected: " + err.Error()}
	}
	return true, nil
}

// probe is validateCredentials' test: Entra asks for a user that cannot
// exist and expects an empty list back.
func (c *scimClient) probe(ctx context.Context, userName string) error {
	var list scimList
	query := url.Values{"filter": {"userName eq " + strconv.Quote(userName)}}
	if err := c.do(ctx, http.MethodGet, "/Users", query, nil, &list); err != nil {
		return err
	}
	if list.Resources == nil && list.TotalResults == nil {
		return &scimCallError{operation: "GET /Users", status: http.StatusOK, detail: "the answer is not a SCIM ListResponse"}
	}
	return nil
}

// scimNewUser is the user Entra creates, by the gallery app's mappings.
type scimNewUser struct {
	Schemas     []string          `json:"schemas"`
	ExternalID  string            `json:"externalId"`
	UserName    string            `json:"userName"`
	Name        scimNewUserName   `json:"name"`
	DisplayName string            `json:"displayName"`
	Emails      []scimNewUserMail `json:"emails,omitempty"`
	Active      bool              `json:"active"`
}

type scimNewUserName struct {
	GivenName  string `json:"givenName"`
	FamilyName string `json:"familyName"`
}

type scimNewUserMail struct {
	Value   string `json:"value"`
	Type    string `json:"type"`
	Primary bool   `json:"primary"`
}

// scimFoundUser is a user the engine looked up: its ID and the attributes
// the mappings write, which are those it creates a user with.
type scimFoundUser struct {
	ID string `json:"id"`
	scimNewUser
}

// scimFoundGroup is a group the engine looked up.
type scimFoundGroup struct {
	ID          string `json:"id"`
	ExternalID  string `json:"externalId"`
	DisplayName string `json:"displayName"`
}

func (c *scimClient) createUser(ctx context.Context, u scimNewUser) (string, error) {
	var created struct {
		ID string `json:"id"`
	}
	if err := c.do(ctx, http.MethodPost, "/Users", nil, u, &created); err != nil {
		return "", err
	}
	return created.ID, nil
}

func (c *scimClient) createGroup(ctx context.Context, displayName, externalID string) (string, error) {
	var created struct {
		ID string `json:"id"`
	}
	body := map[string]any{"schemas": []string{scimSchemaGroup}, "displayName": displayName, "externalId": externalID}
	if err := c.do(ctx, http.MethodPost, "/Groups", nil, body, &created); err != nil {
		return "", err
	}
	return created.ID, nil
}

// scimPatchOperation is one operation of a PatchOp request.
type scimPatchOperation struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value"`
}

// patch sends operations to one resource ("Users" or "Groups") in one
// PatchOp request.
func (c *scimClient) patch(ctx context.Context, resource, id string, operations []scimPatchOperation) error {
	body := map[string]any{"schemas": []string{scimSchemaPatchOp}, "Operations": operations}
	return c.do(ctx, http.MethodPatch, "/"+resource+"/"+url.PathEscape(id), nil, body, nil)
}

// addMembers adds users (at most scimMaxMemberChanges) to a group in one
// PATCH. Adding a member the group has already is no change.
func (c *scimClient) addMembers(ctx context.Context, groupID string, userIDs []string) error {
	members := make([]map[string]string, len(userIDs))
	for i, id := range userIDs {
		members[i] = map[string]string{"value": id}
	}
	return c.patch(ctx, "Groups", groupID, []scimPatchOperation{{Op: "add", Path: "members", Value: members}})
}
