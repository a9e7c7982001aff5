package sandbox

// The Graph half of the sandbox speaks Microsoft Graph v1.0 the way
// msgraph-sdk-go uses it: resources under /v1.0, OData query options
// ($filter, $select, $top, $count, $skiptoken), collections as
// {"@odata.context", "@odata.nextLink", "value"}, JSON batching at /$batch,
// and errors as {"error": {"code", "message", "innerError"}} with the status
// codes Graph uses. The SDK maps those errors to *odataerrors.ODataError, so
// a client sees what it would see against Entra.

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/platformguide/ssocutover/sandbox/world"
)

const graphVersionPrefix = "/v1.0"

// graphRequestSeq numbers the requests (and sub-requests) the Graph half
// answers, for the request-id Graph puts in every response and error.
var graphRequestSeq atomic.Uint64

func nextGraphRequestID() string {
	return world.StableID("graph-request", strconv.FormatUint(graphRequestSeq.Add(1), 10))
}

// graphError is an error in Graph's wire format.
type graphError struct {
	Status  int
	Code    string
	Message string
}

func (e *graphError) Error() string { return e.Code + ": " + e.Message }

func graphBadRequest(format string, args ...any) *graphError {
	return &graphError{Status: http.StatusBadRequest, Code: "Request_BadRequest", Message: fmt.Sprintf(format, args...)}
}

func graphNotFound(id string) *graphError {
	return &graphError{
		Status:  http.StatusNotFound,
		Code:    "Request_ResourceNotFound",
		Message: fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", id),
	}
}

// writeGraphError writes e as Graph does.
func writeGraphError(w http.ResponseWriter, e *graphError) {
	requestID := w.Header().Get("request-id")
	if requestID == "" {
		requestID = nextGraphRequestID()
		w.Header().Set("request-id", requestID)
	}
	body := map[string]any{"error": map[string]any{
		"code":    e.Code,
		"message": e.Message,
		"innerError": map[string]any{
			"date":              time.Now().UTC().Format("2006-01-02T15:04:05"),
			"request-id":        requestID,
			"client-request-id": requestID,
		},
	}}
	writeGraphJSON(w, e.Status, body)
}

func writeGraphJSON(w http.ResponseWriter, status int, body any) {
	data, err := json.Marshal(body)
	if err != nil {
		status, data = http.StatusInternalServerError, []byte(`{"error":{"code":"InternalServerError","message":"the sandbox could not encode its response"}}`)
	}
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

// graphFaultWriter writes an injected fault as Graph does: 429
// TooManyRequests (withFaults sets Retry-After) or 503 ServiceUnavailable.
func graphFaultWriter(w http.ResponseWriter, kind faultKind) {
	switch kind {
	case faultThrottle:
		writeGraphError(w, &graphError{Status: http.StatusTooManyRequests, Code: "TooManyRequests", Message: "Too many requests. The request was throttled; retry after the time in the Retry-After header."})
	default:
		writeGraphError(w, &graphError{Status: http.StatusServiceUnavailable, Code: "ServiceUnavailable", Message: "The service is temporarily unavailable. Retry the request."})
	}
}

// graphServer serves a tenant.
type graphServer struct {
	state *graphState
	// apps holds the enterprise applications (graph_apps*.go); sync their
	// provisioning jobs (graph_sync*.go).
	apps *appState
	sync *syncState
	opts GraphOptions
	// forbidden starts as opts.ForbiddenPaths.
	forbidden forbiddenPaths
	// skus are the tenant's subscriptions (graph_licences.go).
	skus []subscribedSkuDoc
}

// newGraphServer serves w's Entra tenant over Microsoft Graph v1.0.
func newGraphServer(w *world.World, opts GraphOptions) *graphServer {
	s := &graphServer{state: newGraphState(w), opts: opts, skus: subscribedSkus(w)}
	s.forbidden.set(opts.ForbiddenPaths)
	s.apps = newAppState(s, w)
	s.sync = newSyncState(s)
	return s
}

func (s *graphServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("request-id", nextGraphRequestID())
	if s.serveUnversioned(w, r) {
		return
	}
	// Graph refuses a request without a bearer token before anything else.
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(token) == "" {
		writeGraphError(w, &graphError{Status: http.StatusUnauthorized, Code: "InvalidAuthenticationToken", Message: "Access token is empty."})
		return
	}
	if r.URL.Path == graphVersionPrefix+"/$batch" {
		s.serveBatch(w, r)
		return
	}
	s.route(w, r)
}

// serveUnversioned answers what is not under /v1.0: the federation
// metadata URL of login.microsoftonline.com, which the sandbox serves on the
// same listener (graph_apps*.go). It needs no token, as on Microsoft's host.
func (s *graphServer) serveUnversioned(w http.ResponseWriter, r *http.Request) bool {
	return s.apps.serveFederationMetadata(w, r)
}

// route answers one request (a top-level one or a sub-request of a batch).
func (s *graphServer) route(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, graphVersionPrefix+"/")
	if !ok {
		writeGraphError(w, &graphError{Status: http.StatusBadRequest, Code: "BadRequest", Message: "Invalid version: the sandbox serves Microsoft Graph v1.0 under /v1.0."})
		return
	}
	segments := strings.Split(strings.TrimSuffix(path, "/"), "/")
	if s.forbidden.forbidden(r.Method, segments) {
		writeGraphError(w, &graphError{Status: http.StatusForbidden, Code: "Authorization_RequestDenied", Message: "Insufficient privileges to complete the operation."})
		return
	}
	// Enterprise applications and their provisioning have their own state
	// and lock (graph_apps*.go, graph_sync*.go).
	if len(segments) >= 4 && segments[0] == "servicePrincipals" && segments[2] == "synchronization" {
		s.sync.serve(w, r, segments[1], segments[3:])
		return
	}
	switch segments[0] {
	case "applicationTemplates", "applications", "servicePrincipals":
		s.apps.serve(w, r, segments)
		return
	case "policies":
		if err := s.apps.servePolicy(w, r, segments); err != nil {
			writeGraphError(w, err)
		}
		return
	case "subscribedSkus":
		s.serveSubscribedSkus(w, r)
		return
	}
	if r.Method != http.MethodGet {
		writeGraphError(w, &graphError{Status: http.StatusMethodNotAllowed, Code: "Request_BadRequest", Message: fmt.Sprintf("The sandbox does not serve %s %s.", r.Method, r.URL.Path)})
		return
	}
	s.state.mu.RLock()
	defer s.state.mu.RUnlock()
	if err := s.get(w, r, segments); err != nil {
		writeGraphError(w, err)
	}
}

// get answers the GET endpoints:
//
//	/users, /users/$count, /users/{id | userPrincipalName}
//	/groups, /groups/$count, /groups/{id}
//	/groups/{id}/members, /transitiveMembers and /owners, each optionally
//	followed by a type cast (/microsoft.graph.user or /graph.user, and group)
//	and /$count
func (s *graphServer) get(w http.ResponseWriter, r *http.Request, seg []string) *graphError {
	switch {
	case len(seg) == 1 && seg[0] == "users":
		return s.serveCollection(w, r, "users", graphUserProperties, nil, s.allUsers())
	case len(seg) == 2 && seg[0] == "users" && seg[1] == "$count":
		return s.serveCount(w, r, graphUserProperties, nil, s.allUsers())
	case len(seg) == 2 && seg[0] == "users":
		u := s.state.userByID[seg[1]]
		if u == nil {
			u = s.state.userByUPN[strings.ToLower(seg[1])]
		}
		if u == nil {
			return graphNotFound(seg[1])
		}
		return s.serveEntity(w, r, "users/$entity", graphUserProperties, u)
	case len(seg) == 1 && seg[0] == "groups":
		return s.serveCollection(w, r, "groups", graphGroupProperties, nil, s.allGroups())
	case len(seg) == 2 && seg[0] == "groups" && seg[1] == "$count":
		return s.serveCount(w, r, graphGroupProperties, nil, s.allGroups())
	case len(seg) == 2 && seg[0] == "groups":
		g := s.state.groupByID[seg[1]]
		if g == nil {
			return graphNotFound(seg[1])
		}
		return s.serveEntity(w, r, "groups/$entity", graphGroupProperties, g)
	case len(seg) >= 3 && len(seg) <= 5 && seg[0] == "groups":
		return s.serveGroupRelation(w, r, seg)
	}
	return &graphError{Status: http.StatusBadRequest, Code: "BadRequest", Message: fmt.Sprintf("Resource not found for the segment '%s'.", seg[len(seg)-1])}
}

// serveGroupRelation answers /groups/{id}/{members|transitiveMembers|owners}[/cast][/$count].
func (s *graphServer) serveGroupRelation(w http.ResponseWriter, r *http.Request, seg []string) *graphError {
	g := s.state.groupByID[seg[1]]
	if g == nil {
		return graphNotFound(seg[1])
	}
	var objects []graphObject
	switch seg[2] {
	case "members":
		objects = g.directMembers()
	case "transitiveMembers":
		objects = g.transitiveMembers()
	case "owners":
		for _, u := range g.Owners {
			objects = append(objects, u)
		}
	default:
		return &graphError{Status: http.StatusBadRequest, Code: "BadRequest", Message: fmt.Sprintf("Resource not found for the segment '%s'.", seg[2])}
	}

	rest := seg[3:]
	count := len(rest) > 0 && rest[len(rest)-1] == "$count"
	if count {
		rest = rest[:len(rest)-1]
	}
	// A type cast narrows the collection to one type; its properties are
	// then the only ones $select and $filter may name. Graph takes the cast
	// with its namespace or, as msgraph-sdk-go writes it, without.
	entitySet := "directoryObjects"
	properties := append(append([]string{}, graphUserProperties...), graphGroupProperties...)
	var only func(graphObject) bool
	switch {
	case len(rest) == 0:
	case len(rest) == 1 && (rest[0] == "microsoft.graph.user" || rest[0] == "graph.user"):
		entitySet, properties = "users", graphUserProperties
		only = func(o graphObject) bool { return o.odataType() == odataTypeUser }
	case len(rest) == 1 && (rest[0] == "microsoft.graph.group" || rest[0] == "graph.group"):
		entitySet, properties = "groups", graphGroupProperties
		only = func(o graphObject) bool { return o.odataType() == odataTypeGroup }
	default:
		return &graphError{Status: http.StatusBadRequest, Code: "BadRequest", Message: fmt.Sprintf("Resource not found for the segment '%s'.", rest[0])}
	}
	if count {
		return s.serveCount(w, r, properties, only, objects)
	}
	return s.serveCollection(w, r, entitySet, properties, only, objects)
}

func (s *graphServer) allUsers() []graphObject {
	out := make([]graphObject, len(s.state.users))
	for i, u := range s.state.users {
		out[i] = u
	}
	return out
}

func (s *graphServer) allGroups() []graphObject {
	out := make([]graphObject, len(s.state.groups))
	for i, g := range s.state.groups {
		out[i] = g
	}
	return out
}

// serveCollection answers a collection with the query options of r: the
// objects that pass only and $filter, a page of $top from $skiptoken, each
// with the $select-ed properties, and a nextLink when more remain.
func (s *graphServer) serveCollection(w http.ResponseWriter, r *http.Request, entitySet string, properties []string, only func(graphObject) bool, objects []graphObject) *graphError {
	q, err := parseGraphQuery(r, properties)
	if err != nil {
		return err
	}
	writeCollection(w, r, entitySet, q, q.apply(only, objects), q.render)
	return nil
}

// writeCollection writes the page of matched that q asks for, each object
// as render writes it, with @odata.count when asked and a nextLink when
// more remain.
func writeCollection(w http.ResponseWriter, r *http.Request, entitySet string, q *graphQuery, matched []graphObject, render func(graphObject) map[string]any) {
	end := min(q.skip+q.top, len(matched))
	page := make([]map[string]any, 0, max(end-q.skip, 0))
	for i := q.skip; i < end; i++ {
		page = append(page, render(matched[i]))
	}
	body := map[string]any{
		"@odata.context": graphServiceRoot(r) + "/$metadata#" + entitySet + q.contextSelect(),
		"value":          page,
	}
	if q.count {
		body["@odata.count"] = len(matched)
	}
	if end < len(matched) {
		body["@odata.nextLink"] = q.nextLink(r, end)
	}
	writeGraphJSON(w, http.StatusOK, body)
}

// serveEntity answers one object with the $select-ed properties.
func (s *graphServer) serveEntity(w http.ResponseWriter, r *http.Request, entitySet string, properties []string, o graphObject) *graphError {
	q, err := parseGraphQuery(r, properties)
	if err != nil {
		return err
	}
	body := q.render(o)
	body["@odata.context"] = graphServiceRoot(r) + "/$metadata#" + entitySet
	writeGraphJSON(w, http.StatusOK, body)
	return nil
}

// serveCount answers /$count as text/plain. Graph counts directory objects
// only in advanced queries, which need the ConsistencyLevel header.
func (s *graphServer) serveCount(w http.ResponseWriter, r *http.Request, properties []string, only func(graphObject) bool, objects []graphObject) *graphError {
	if !strings.EqualFold(r.Header.Get("ConsistencyLevel"), "eventual") {
		return graphBadRequest("Count is not currently supported without the header 'ConsistencyLevel: eventual' (an advanced query).")
	}
	q, err := parseGraphQuery(r, properties)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain;charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, strconv.Itoa(len(q.apply(only, objects))))
	return nil
}

// graphServiceRoot is the URL of /v1.0 as the client reached it, for the
// absolute links Graph writes (nextLink, context).
func graphServiceRoot(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + graphVersionPrefix
}

// maxGraphBatchRequests is Graph's limit of requests in one $batch.
const maxGraphBatchRequests = 20

type graphBatchRequest struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers,omitempty"`
	Body      json.RawMessage   `json:"body,omitempty"`
	DependsOn []string          `json:"dependsOn,omitempty"`
}

type graphBatchResponse struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

// serveBatch answers POST /$batch: at most 20 requests, each routed like a
// request of its own and answered with its own status, headers and body.
// With faults on, each sub-request may be throttled on its own, as Graph
// does (the batch itself then still answers 200).
func (s *graphServer) serveBatch(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeGraphError(w, &graphError{Status: http.StatusMethodNotAllowed, Code: "BadRequest", Message: "$batch takes POST."})
		return
	}
	var body io.Reader = http.MaxBytesReader(w, r.Body, maxRequestBody)
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(body)
		if err != nil {
			writeGraphError(w, &graphError{Status: http.StatusBadRequest, Code: "BadRequest", Message: "The request body is not valid gzip: " + err.Error()})
			return
		}
		body = zr
	}
	var batch struct {
		Requests []graphBatchRequest `json:"requests"`
	}
	if err := json.NewDecoder(body).Decode(&batch); err != nil {
		writeGraphError(w, &graphError{Status: http.StatusBadRequest, Code: "BadRequest", Message: "Invalid batch payload format: " + err.Error()})
		return
	}
	if err := validateGraphBatch(batch.Requests); err != nil {
		writeGraphError(w, err)
		return
	}

	inject := faultInjectorFrom(r.Context())
	status := map[string]int{} // by request ID, for dependsOn
	responses := make([]graphBatchResponse, 0, len(batch.Requests))
	for _, sub := range batch.Requests {
		rec := newSubResponse()
		switch {
		case failedDependency(sub, status):
			writeGraphError(rec, &graphError{Status: http.StatusFailedDependency, Code: "FailedDependency", Message: "A request this request depends on failed."})
		case inject != nil && inject(rec, graphFaultWriter):
		default:
			s.serveSubRequest(rec, r, sub)
		}
		status[sub.ID] = rec.status
		responses = append(responses, rec.response(sub.ID))
	}
	writeGraphJSON(w, http.StatusOK, map[string]any{"responses": responses})
}

func validateGraphBatch(requests []graphBatchRequest) *graphError {
	if len(requests) == 0 {
		return &graphError{Status: http.StatusBadRequest, Code: "BadRequest", Message: "Invalid batch payload format: no requests."}
	}
	if len(requests) > maxGraphBatchRequests {
		return &graphError{Status: http.StatusBadRequest, Code: "BadRequest", Message: fmt.Sprintf("Number of batch operations (%d) cannot exceed %d.", len(requests), maxGraphBatchRequests)}
	}
	ids := map[string]bool{}
	for _, sub := range requests {
		switch {
		case sub.ID == "":
			return &graphError{Status: http.StatusBadRequest, Code: "BadRequest", Message: "Every batch request needs an id."}
		case ids[sub.ID]:
			return &graphError{Status: http.StatusBadRequest, Code: "BadRequest", Message: fmt.Sprintf("Batch request id '%s' appears more than once.", sub.ID)}
		case sub.Method == "" || sub.URL == "":
			return &graphError{Status: http.StatusBadRequest, Code: "BadRequest", Message: fmt.Sprintf("Batch request '%s' needs a method and a url.", sub.ID)}
		}
		for _, dep := range sub.DependsOn {
			if !ids[dep] {
				return &graphError{Status: http.StatusBadRequest, Code: "BadRequest", Message: fmt.Sprintf("Batch request '%s' depends on '%s', which does not come before it.", sub.ID, dep)}
			}
		}
		ids[sub.ID] = true
	}
	return nil
}

func failedDependency(sub graphBatchRequest, status map[string]int) bool {
	for _, dep := range sub.DependsOn {
		if status[dep] >= 400 {
			return true
		}
	}
	return false
}

// serveSubRequest routes one request of a batch as if it came on its own,
// with the batch's host (for the links it writes) and its own headers.
func (s *graphServer) serveSubRequest(rec *subResponse, outer *http.Request, sub graphBatchRequest) {
	// The SDK writes URLs relative to the service root ("/groups/..."), the
	// documentation writes them without the slash; both work on Graph.
	rel := strings.TrimPrefix(strings.TrimPrefix(sub.URL, graphVersionPrefix), "/")
	var body io.Reader
	if len(sub.Body) > 0 {
		body = bytes.NewReader(sub.Body)
	}
	req, err := http.NewRequestWithContext(outer.Context(), strings.ToUpper(sub.Method), graphVersionPrefix+"/"+rel, body)
	if err != nil {
		writeGraphError(rec, &graphError{Status: http.StatusBadRequest, Code: "BadRequest", Message: fmt.Sprintf("Invalid url '%s' in batch request '%s'.", sub.URL, sub.ID)})
		return
	}
	req.Host = outer.Host
	req.TLS = outer.TLS
	for k, v := range sub.Headers {
		req.Header.Set(k, v)
	}
	s.route(rec, req)
}

// subResponse records the answer to one request of a batch.
type subResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newSubResponse() *subResponse { return &subResponse{header: http.Header{}} }

func (s *subResponse) Header() http.Header { return s.header }

func (s *subResponse) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.body.Write(p)
}

func (s *subResponse) WriteHeader(status int) {
	if s.status == 0 {
		s.status = status
	}
}

// response is the entry of the batch response: headers as strings (the
// SDK reads them so), a JSON body inline and any other body (a $count)
// base64-encoded in a JSON string, as Graph writes them.
func (s *subResponse) response(id string) graphBatchResponse {
	out := graphBatchResponse{ID: id, Status: s.status, Headers: map[string]string{}}
	if out.Status == 0 {
		out.Status = http.StatusOK
	}
	for k := range s.header {
		out.Headers[k] = s.header.Get(k)
	}
	if s.body.Len() > 0 {
		if strings.HasPrefix(s.header.Get("Content-Type"), "application/json") {
			out.Body = json.RawMessage(s.body.Bytes())
		} else {
			text, _ := json.Marshal(base64.StdEncoding.EncodeToString(s.body.Bytes()))
			out.Body = text
		}
	}
	return out
}
