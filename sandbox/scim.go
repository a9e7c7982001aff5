package sandbox

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The sandbox's AWS IAM Identity Center SCIM v2 endpoint, as the IAM Identity
// Center SCIM Implementation Developer Guide describes it, limits included,
// because the provisioning engine and the cutover must meet those limits
// against the sandbox exactly as they would against AWS:
//
//   - every request needs "Authorization: Bearer <token>" with a token that
//     exists and has not expired; a wrong tenant ID is also a 401;
//   - filters: only `eq`, joined by `and` (no or, not, co, sw, ...);
//   - lists: at most 100 per page (count 1..100, default 100); startIndex
//     is not supported; paging is by cursor (send `cursor=` for the first
//     page, then the `nextCursor` of each answer); without a cursor the answer
//     is the first page only, with totalResults;
//   - users need userName, name.givenName, name.familyName and displayName;
//     multi-valued attributes take one value at most; the email must be
//     primary; userName and email are unique;
//   - groups: displayName is unique; members are never returned (GET and
//     list answer without them; membership is read with the filter
//     `id eq "<group>" and members eq "<user>"`); a create or PATCH carries at
//     most 100 member changes; PATCH cannot replace or remove all members;
//     members are users only (no nested groups); there is no PUT for groups;
//   - /Bulk, /Me and /Search are not supported (400);
//   - a duplicate answers 409 "Refused to create a new, duplicate resource."
//     in the error body AWS sends.

const (
	scimSchemaUser           = "urn:ietf:params:scim:schemas:core:2.0:User"
	scimSchemaGroup          = "urn:ietf:params:scim:schemas:core:2.0:Group"
	scimSchemaEnterpriseUser = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	scimSchemaListResponse   = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	scimSchemaPatchOp        = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	scimSchemaError          = "urn:ietf:params:scim:api:messages:2.0:Error"
	scimSchemaSPConfig       = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	scimSchemaResourceType   = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	scimSchemaSchema         = "urn:ietf:params:scim:schemas:core:2.0:Schema"

	// scimMaxPage is the largest page ListUsers and ListGroups return.
	scimMaxPage = 100
	// scimMaxMemberChanges is the most group member changes one CreateGroup
	// or PatchGroup request may carry.
	scimMaxMemberChanges = 100
	// scimMaxBody bounds a request body; a 100-member PATCH is a few KiB.
	scimMaxBody = 1 << 20

	// scimDuplicateDetail is the detail AWS answers a duplicate with.
	scimDuplicateDetail = "Refused to create a new, duplicate resource."
	// scimValidationDetail starts the detail of every 400, as AWS words it.
	scimValidationDetail = "Request is unparsable, syntactically incorrect, or violates schema."
)

// scimServer serves one Identity Center tenant's SCIM endpoint under
// /<tenantID>/scim/v2/. It reads and writes the identity store it is given
// (under the store's lock): what a provisioning run pushed is what the
// identitystore operations and Snapshot show. The endpoint answers only
// while automatic provisioning is enabled, and only to its tokens.
type scimServer struct {
	tenantID string
	prefix   string // "/<tenantID>/scim/v2"
	clock    func() time.Time
	store    *awsState

	mu      sync.Mutex // guards enabled and tokens
	enabled bool       // automatic provisioning is on
	tokens  []scimToken
}

// newSCIMServer serves a SCIM endpoint on its own: over an empty identity
// store, with automatic provisioning enabled and no token yet (CreateToken
// makes one).
func newSCIMServer(tenantID string, clock func() time.Time) *scimServer {
	s := newSCIMServerOn(newEmptyAWSState(), tenantID, clock)
	s.enabled = true
	return s
}

// newSCIMServerOn serves the SCIM endpoint of an Identity Center instance's
// identity store, with automatic provisioning disabled until the console
// enables it.
func newSCIMServerOn(store *awsState, tenantID string, clock func() time.Time) *scimServer {
	if clock == nil {
		clock = time.Now
	}
	return &scimServer{tenantID: tenantID, prefix: "/" + tenantID + "/scim/v2", clock: clock, store: store}
}

// scimError is an error answer in the body AWS sends: the SCIM error schema
// (under both "schema", as AWS spells it, and "schemas", as RFC 7644 does),
// the status as a string, a detail, a request ID and a timestamp.
type scimError struct {
	Status int
	Detail string
}

func (e *scimError) Error() string { return e.Detail }

func scimBadRequest(detail string) *scimError {
	return &scimError{Status: http.StatusBadRequest, Detail: scimValidationDetail + " " + detail}
}

func scimNotFound(kind, id string) *scimError {
	return &scimError{Status: http.StatusNotFound, Detail: kind + " " + id + " does not exist."}
}

func scimConflict() *scimError {
	return &scimError{Status: http.StatusConflict, Detail: scimDuplicateDetail}
}

// ServeHTTP authenticates, then routes by path and method.
func (s *scimServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-amzn-RequestId", newRandomUUID())
	// AWS answers a wrong tenant ID like a bad token: 401; so does the
	// sandbox while automatic provisioning is disabled, when the endpoint
	// has no tenant and no token.
	rest, ok := strings.CutPrefix(r.URL.Path, s.prefix)
	if !ok || (rest != "" && rest[0] != '/') || !s.authorized(r.Header.Get("Authorization")) {
		s.writeError(w, &scimError{Status: http.StatusUnauthorized,
			Detail: "Authorization header is invalid or missing, or the tenant ID is incorrect."})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, scimMaxBody)
	status, body, err := s.route(r, strings.Trim(rest, "/"))
	if err != nil {
		s.writeError(w, err)
		return
	}
	if body == nil {
		w.WriteHeader(status)
		return
	}
	writeSCIMJSON(w, status, body)
}

func (s *scimServer) route(r *http.Request, path string) (int, any, *scimError) {
	resource, id, _ := strings.Cut(path, "/")
	switch {
	case strings.EqualFold(resource, "Bulk"), strings.EqualFold(resource, "Me"),
		strings.EqualFold(resource, ".search"), strings.EqualFold(id, ".search"):
		return 0, nil, scimBadRequest("/" + path + " is not supported by the IAM Identity Center SCIM implementation.")
	case resource == "Users" && id == "":
		switch r.Method {
		case http.MethodGet:
			return s.listUsers(r)
		case http.MethodPost:
			return s.createUser(r)
		}
	case resource == "Users":
		switch r.Method {
		case http.MethodGet:
			return s.getUser(id)
		case http.MethodPut:
			return s.replaceUser(r, id)
		case http.MethodPatch:
			return s.patchUser(r, id)
		case http.MethodDelete:
			return s.deleteUser(id)
		}
	case resource == "Groups" && id == "":
		switch r.Method {
		case http.MethodGet:
			return s.listGroups(r)
		case http.MethodPost:
			return s.createGroup(r)
		}
	case resource == "Groups":
		switch r.Method {
		case http.MethodGet:
			return s.getGroup(id)
		case http.MethodPatch:
			return s.patchGroup(r, id)
		case http.MethodDelete:
			return s.deleteGroup(id)
		}
	case resource == "ServiceProviderConfig" && id == "" && r.Method == http.MethodGet:
		return http.StatusOK, scimServiceProviderConfig(), nil
	case resource == "Schemas" && r.Method == http.MethodGet:
		return scimDiscovery(scimSchemas(), id)
	case resource == "ResourceTypes" && r.Method == http.MethodGet:
		return scimDiscovery(scimResourceTypes(), id)
	default:
		return 0, nil, &scimError{Status: http.StatusNotFound, Detail: "/" + path + " is not a SCIM endpoint of IAM Identity Center."}
	}
	return 0, nil, scimBadRequest(r.Method + " /" + path + " is not supported by the IAM Identity Center SCIM implementation.")
}

// decodeSCIMBody reads a JSON request body into v.
func decodeSCIMBody(r *http.Request, v any) *scimError {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return scimBadRequest("The request body could not be read: " + err.Error())
	}
	if err := json.Unmarshal(body, v); err != nil {
		return scimBadRequest("The request body is not valid JSON for this operation: " + err.Error())
	}
	return nil
}

func writeSCIMJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func (s *scimServer) writeError(w http.ResponseWriter, e *scimError) {
	writeSCIMError(w, e, s.clock())
}

func writeSCIMError(w http.ResponseWriter, e *scimError, now time.Time) {
	schemas := []string{scimSchemaError}
	writeSCIMJSON(w, e.Status, map[string]any{
		"schema":             schemas,
		"schemas":            schemas,
		"status":             strconv.Itoa(e.Status),
		"detail":             e.Detail,
		"exceptionRequestId": w.Header().Get("x-amzn-RequestId"),
		"timeStamp":          now.UTC().Format("2006-01-02 15:04:05.000"),
	})
}

// scimFaultWriter writes an injected fault as the SCIM endpoint would: a
// 429 (withFaults sets Retry-After) or a 500, in AWS's SCIM error body.
func scimFaultWriter(w http.ResponseWriter, kind faultKind) {
	w.Header().Set("x-amzn-RequestId", newRandomUUID())
	fault := &scimError{Status: http.StatusInternalServerError, Detail: "Internal failure (sandbox fault)."}
	if kind == faultThrottle {
		fault = &scimError{Status: http.StatusTooManyRequests, Detail: "Rate exceeded (sandbox fault)."}
	}
	writeSCIMError(w, fault, time.Now())
}

// newRequestID is a random UUID-shaped request ID, as AWS sends in
// x-amzn-RequestId.
func newRandomUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
