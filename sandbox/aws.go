package sandbox

// The AWS half of the sandbox speaks the AWS JSON 1.1 protocol the way
// aws-sdk-go-v2 uses it: every call is `POST /` with the operation in the
// X-Amz-Target header (`AWSIdentityStore.ListUsers`,
// `SWBExternalService.ListAccountAssignments` for sso-admin,
// `secretsmanager.GetSecretValue`), a JSON body, and errors as
// `{"__type": "...", "Message": "..."}` with the HTTP status the service
// model gives each error. The SDK picks the typed error by `__type`, so a
// client sees *types.ResourceNotFoundException exactly as it would against
// AWS. IAM is older and speaks the Query protocol on the same listener: a
// form-encoded `POST /` without X-Amz-Target (see aws_iam.go).

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/platformguide/ssocutover/sandbox/world"
)

const awsJSONContentType = "application/x-amz-json-1.1"

// The X-Amz-Target prefixes of the JSON services, and the SigV4 signing
// names their requests must be scoped to.
const (
	identityStoreTarget  = "AWSIdentityStore"
	ssoAdminTarget       = "SWBExternalService"
	secretsManagerTarget = "secretsmanager"

	identityStoreSigningName  = "identitystore"
	ssoAdminSigningName       = "sso"
	secretsManagerSigningName = "secretsmanager"
)

// maxRequestBody bounds what the sandbox reads of a request; the largest
// legitimate request of these APIs is a few kilobytes.
const maxRequestBody = 1 << 20

// awsOperation handles one operation: it decodes its own request from body
// and returns the response document or an *awsError.
type awsOperation func(call *awsCall) (any, error)

// awsCall is one request as an operation sees it.
type awsCall struct {
	body []byte
	// region is the region of the request's SigV4 credential scope: Identity
	// Center instances are regional, so a client configured for another
	// region does not find them.
	region string
}

// decode reads the request body into v. An empty body is an empty request.
func (c *awsCall) decode(v any) error {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		return &awsError{Type: "SerializationException", Status: http.StatusBadRequest, Message: "the request body is not valid JSON for this operation: " + err.Error()}
	}
	return nil
}

// awsError is an error in the AWS JSON wire format.
type awsError struct {
	Type    string
	Status  int
	Message string
	// Fields are additional members of the error shape (ResourceType,
	// ResourceId, Reason), written next to __type and Message.
	Fields map[string]string
}

func (e *awsError) Error() string { return e.Type + ": " + e.Message }

func awsValidationError(format string, args ...any) *awsError {
	return &awsError{Type: "ValidationException", Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}

// awsAccessDenied is AccessDeniedException, HTTP 400 as the sso-admin API
// reference lists it.
func awsAccessDenied(format string, args ...any) *awsError {
	return &awsError{Type: "AccessDeniedException", Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}

func awsNotFoundError(resourceType, resourceID, format string, args ...any) *awsError {
	return &awsError{
		Type:    "ResourceNotFoundException",
		Status:  http.StatusNotFound,
		Message: fmt.Sprintf(format, args...),
		Fields:  map[string]string{"ResourceType": resourceType, "ResourceId": resourceID},
	}
}

// awsServer routes AWS JSON requests to the operations of the JSON
// services, and Query requests to IAM.
type awsServer struct {
	state              *awsState
	iam                *iamState
	secrets            *secretsState
	assignmentRequests *assignmentRequests
	operations         map[string]awsOperation // by full X-Amz-Target
	iamOperations      map[string]iamOperation // by Action
	denied             map[string]bool         // lower-case IAM actions the world denies (aws_access.go)
	requestSeq         atomic.Uint64
	calls              callCounts
}

// callCounts counts the requests to each JSON operation, as the AWS
// billing and CloudTrail would: every request that names one, answered or
// refused (Sandbox.AWSCalls).
type callCounts struct {
	mu sync.Mutex
	n  map[string]int // by service:Operation, as internal/apicalls names them
}

// serviceNames are the names internal/apicalls gives the JSON services.
var serviceNames = map[string]string{identityStoreTarget: "identitystore", ssoAdminTarget: "sso-admin", secretsManagerTarget: "secretsmanager"}

func (c *callCounts) add(target string) {
	prefix, op, _ := strings.Cut(target, ".")
	service, ok := serviceNames[prefix]
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[service+":"+op]++
}

func (c *callCounts) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.n)
}

// newAWSServer serves w's Identity Center instance: its identity store over
// the identitystore API and its instance, permission sets and account
// assignments over the sso-admin API. Beside it, the account's IAM users
// and Secrets Manager secrets, empty at the start; clock dates the secrets'
// versions.
func newAWSServer(w *world.World, clock func() time.Time) *awsServer {
	s := &awsServer{
		state:              newAWSState(w),
		iam:                newIAMState(callerAccountID(w)),
		secrets:            newSecretsState(callerAccountID(w), clock),
		assignmentRequests: newAssignmentRequests(),
		denied:             deniedActions(w.AWS.DeniedActions),
	}
	s.operations = map[string]awsOperation{}
	for name, op := range s.identityStoreOperations() {
		s.operations[identityStoreTarget+"."+name] = op
	}
	for name, op := range s.ssoAdminOperations() {
		s.operations[ssoAdminTarget+"."+name] = op
	}
	for name, op := range s.secretsManagerOperations() {
		s.operations[secretsManagerTarget+"."+name] = op
	}
	s.iamOperations = s.iamQueryOperations()
	return s
}

// managementAccountID is the account that holds the Identity Center
// instance, and so the break-glass IAM user and the cutover's secrets: the
// first account of the world (the world file lists the management account
// first), or AWS's documentation account when the world has none.
func managementAccountID(w *world.World) string {
	if len(w.AWS.Accounts) > 0 {
		return w.AWS.Accounts[0].ID
	}
	return "123456789012"
}

// callerAccountID is the account the sandbox's credentials belong to: the
// delegated administrator when the world names one, else the management
// account. IAM users and secrets are created there.
func callerAccountID(w *world.World) string {
	if w.AWS.DelegatedAdministrator != "" {
		return w.AWS.DelegatedAdministrator
	}
	return managementAccountID(w)
}

func (s *awsServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := fmt.Sprintf("sandbox-%08d", s.requestSeq.Add(1))
	w.Header().Set("X-Amzn-RequestId", requestID)
	if isQueryRequest(r) {
		s.serveQuery(w, r, requestID)
		return
	}
	resp, err := s.handle(r)
	if err != nil {
		var aerr *awsError
		if !errors.As(err, &aerr) {
			aerr = &awsError{Type: "InternalServerException", Status: http.StatusInternalServerError, Message: err.Error()}
		}
		writeAWSError(w, aerr)
		return
	}
	body, err := json.Marshal(resp)
	if err != nil {
		writeAWSError(w, &awsError{Type: "InternalServerException", Status: http.StatusInternalServerError, Message: "encode response: " + err.Error()})
		return
	}
	w.Header().Set("Content-Type", awsJSONContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

func (s *awsServer) handle(r *http.Request) (any, error) {
	target := r.Header.Get("X-Amz-Target")
	op, known := s.operations[target]
	if known {
		s.calls.add(target)
	}
	if r.Method != http.MethodPost || r.URL.Path != "/" || !known {
		return nil, &awsError{Type: "UnknownOperationException", Status: http.StatusBadRequest,
			Message: fmt.Sprintf("the sandbox does not implement %s %s with X-Amz-Target %q", r.Method, r.URL.Path, target)}
	}
	prefix, _, _ := strings.Cut(target, ".")
	region, err := checkSigV4(r, signingNameOf(prefix))
	if err != nil {
		return nil, err
	}
	if err := s.allowed(jsonAction(target)); err != nil {
		return nil, err
	}
	if ct := r.Header.Get("Content-Type"); ct != awsJSONContentType {
		return nil, &awsError{Type: "SerializationException", Status: http.StatusBadRequest,
			Message: fmt.Sprintf("Content-Type must be %s, got %q", awsJSONContentType, ct)}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil {
		return nil, &awsError{Type: "SerializationException", Status: http.StatusBadRequest, Message: "read request body: " + err.Error()}
	}
	if len(body) > maxRequestBody {
		return nil, &awsError{Type: "SerializationException", Status: http.StatusRequestEntityTooLarge, Message: "request body too large"}
	}
	return op(&awsCall{body: body, region: region})
}

func signingNameOf(targetPrefix string) string {
	switch targetPrefix {
	case ssoAdminTarget:
		return ssoAdminSigningName
	case secretsManagerTarget:
		return secretsManagerSigningName
	}
	return identityStoreSigningName
}

// checkSigV4 requires a SigV4 Authorization header scoped to the service and
// returns the region of its credential scope. The sandbox does not know the
// secret key, so it checks the shape of the signature, not its value: enough
// to catch a client that sends no credentials or signs for another service.
func checkSigV4(r *http.Request, service string) (string, error) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return "", &awsError{Type: "MissingAuthenticationTokenException", Status: http.StatusForbidden, Message: "Missing Authentication Token"}
	}
	algorithm, rest, _ := strings.Cut(auth, " ")
	if algorithm != "AWS4-HMAC-SHA256" {
		return "", &awsError{Type: "IncompleteSignatureException", Status: http.StatusForbidden,
			Message: "Authorization header requires the AWS4-HMAC-SHA256 algorithm"}
	}
	params := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		params[k] = v
	}
	// Credential=<access key>/<date>/<region>/<service>/aws4_request
	scope := strings.Split(params["Credential"], "/")
	if len(scope) != 5 || scope[0] == "" || scope[4] != "aws4_request" || params["SignedHeaders"] == "" || params["Signature"] == "" || r.Header.Get("X-Amz-Date") == "" {
		return "", &awsError{Type: "IncompleteSignatureException", Status: http.StatusForbidden,
			Message: "Authorization header requires Credential, SignedHeaders and Signature, and X-Amz-Date must be set"}
	}
	if scope[3] != service {
		return "", &awsError{Type: "InvalidSignatureException", Status: http.StatusForbidden,
			Message: fmt.Sprintf("Credential should be scoped to correct service: '%s'.", service)}
	}
	return scope[2], nil
}

func writeAWSError(w http.ResponseWriter, e *awsError) {
	doc := map[string]string{"__type": e.Type, "Message": e.Message}
	for k, v := range e.Fields {
		doc[k] = v
	}
	body, _ := json.Marshal(doc)
	w.Header().Set("Content-Type", awsJSONContentType)
	w.Header().Set("X-Amzn-ErrorType", e.Type)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}

// awsFaultWriter writes an injected fault as the AWS APIs do. A throttle is
// a ThrottlingException with HTTP 400, as the identitystore and sso-admin
// API references list it under Errors (not 429); the SDK's retryer knows
// it as a throttle by its code. Besides the Retry-After header (seconds, set by withFaults, which
// identitystore models as RetryAfterSeconds) it carries x-amz-retry-after in
// milliseconds, the header the SDK's retryer reads to stretch its backoff.
//
// An IAM request gets the fault as IAM writes it, in the Query protocol's XML
// (Throttling with 400, which the SDK's retryer knows as a throttle;
// ServiceFailure with 500): withQueryFaultFormat presets the Content-Type of
// those responses, since the SDK's IAM client cannot read a JSON error.
func awsFaultWriter(w http.ResponseWriter, kind faultKind) {
	if kind == faultThrottle {
		if seconds, err := strconv.Atoi(w.Header().Get("Retry-After")); err == nil {
			w.Header().Set("X-Amz-Retry-After", strconv.Itoa(seconds*1000))
		}
	}
	if w.Header().Get("Content-Type") == queryContentType {
		fault := &awsError{Type: "ServiceFailure", Status: http.StatusInternalServerError, Message: "internal failure (sandbox fault)"}
		if kind == faultThrottle {
			fault = &awsError{Type: "Throttling", Status: http.StatusBadRequest, Message: "Rate exceeded (sandbox fault)"}
		}
		writeQueryError(w, "sandbox-fault", fault)
		return
	}
	switch kind {
	case faultThrottle:
		writeAWSError(w, &awsError{Type: "ThrottlingException", Status: http.StatusBadRequest, Message: "Rate exceeded (sandbox fault)"})
	default:
		writeAWSError(w, &awsError{Type: "InternalServerException", Status: http.StatusInternalServerError, Message: "internal failure (sandbox fault)"})
	}
}

// withQueryFaultFormat marks the responses to Query protocol requests (IAM)
// by their Content-Type before withFaults sees them, so awsFaultWriter
// writes their faults in XML. The IAM handler sets the same Content-Type.
func withQueryFaultFormat(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isQueryRequest(r) {
			w.Header().Set("Content-Type", queryContentType)
		}
		next.ServeHTTP(w, r)
	})
}
