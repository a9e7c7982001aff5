// Package apicalls counts the HTTP calls the SDK clients make, per operation,
// and paces them under a rate limit. Every report carries these counts, so a
// change that makes the cutover chattier shows up in numbers.
//
// Counting is per context: an activity attaches a Counter to its context and
// the Transport adds each request made with that context, so activities that
// run at once in one worker do not mix their counts.
package apicalls

import (
	"context"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
)

// OperationCount is the number of calls made to one operation.
type OperationCount struct {
	Operation string `json:"operation"`
	Calls     int    `json:"calls"`
}

// Counter counts calls by operation. It is safe for concurrent use.
type Counter struct {
	mu     sync.Mutex
	counts map[string]int
}

// NewCounter returns an empty counter.
func NewCounter() *Counter { return &Counter{counts: map[string]int{}} }

// Add counts one call of operation.
func (c *Counter) Add(operation string) {
	c.mu.Lock()
	c.counts[operation]++
	c.mu.Unlock()
}

// Counts returns the counts sorted by operation name.
func (c *Counter) Counts() []OperationCount {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]OperationCount, 0, len(c.counts))
	for op, n := range c.counts {
		out = append(out, OperationCount{Operation: op, Calls: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Operation < out[j].Operation })
	return out
}

// Total is the number of calls counted.
func (c *Counter) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.counts {
		n += v
	}
	return n
}

type counterKey struct{}

// WithCounter returns a context whose SDK calls are counted by c.
func WithCounter(ctx context.Context, c *Counter) context.Context {
	return context.WithValue(ctx, counterKey{}, c)
}

// FromContext returns the counter attached to ctx, if any.
func FromContext(ctx context.Context) *Counter {
	c, _ := ctx.Value(counterKey{}).(*Counter)
	return c
}

// Observer is told of every request a Transport carried: its operation,
// the HTTP status (0 when no answer came) and whether the service
// throttled it. The worker's metrics are one.
type Observer interface {
	ObserveCall(operation string, status int, throttled bool)
}

// Transport counts and paces the requests it carries. Pacer and Observer
// may be nil.
type Transport struct {
	Base     http.RoundTripper
	Pacer    *Pacer
	Observer Observer
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	// The operation is named once per request: pacing, counting and
	// observing all need it, and naming a Graph path runs a regular
	// expression.
	counter := FromContext(req.Context())
	if t.Pacer == nil && counter == nil && t.Observer == nil {
		return base.RoundTrip(req)
	}
	op := Operation(req)
	if err := t.Pacer.Wait(req.Context(), op); err != nil {
		return nil, err
	}
	if counter != nil {
		counter.Add(op)
	}
	resp, err := base.RoundTrip(req)
	if t.Observer != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Observer.ObserveCall(op, status, Throttled(resp))
	}
	return resp, err
}

// Throttled says whether resp is a service's refusal for the caller's rate:
// HTTP 429 (Graph, SCIM, some AWS APIs), or the AWS JSON protocol's
// ThrottlingException (HTTP 400, named in the X-Amzn-ErrorType header). The
// AWS Query protocol (IAM) names its Throttling error only in the body,
// which a transport does not read: those count as 400s.
func Throttled(resp *http.Response) bool {
	if resp == nil {
		return false
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		return true
	}
	errType := resp.Header.Get("X-Amzn-ErrorType")
	return strings.HasPrefix(errType, "ThrottlingException") || strings.HasPrefix(errType, "TooManyRequestsException")
}

// Operation names the API operation a request calls, so that calls to the
// same operation count together:
//
//   - "iam:CreateUser", "identitystore:ListUsers", "sso-admin:ListInstances",
//     "secretsmanager:GetSecretValue" for aws-sdk-go-v2, whatever the
//     protocol (the Query protocol's Action is in a body a transport cannot
//     re-read, so the name comes from the request's context, where the SDK
//     puts it);
//   - the same from the X-Amz-Target header of an AWS JSON request made
//     without the SDK;
//   - "graph:GET /groups/{id}/members" for Microsoft Graph v1.0;
//   - "http:GET /scim/v2/Users" for anything else;
//
// with IDs in paths replaced by {id}.
func Operation(req *http.Request) string {
	if op := sdkOperation(req.Context()); op != "" {
		return op
	}
	if target := req.Header.Get("X-Amz-Target"); target != "" {
		prefix, op, _ := strings.Cut(target, ".")
		return awsTargetService(prefix) + ":" + op
	}
	if rest, ok := strings.CutPrefix(req.URL.Path, "/v1.0/"); ok {
		return "graph:" + req.Method + " /" + normalizePath(rest)
	}
	return "http:" + req.Method + " " + normalizePath(req.URL.Path)
}

// sdkOperation is the operation aws-sdk-go-v2 is calling, read from the
// context the SDK sends its request with (its middleware stack registers
// the service and operation there before the request is built); "" for a
// request the SDK did not make.
func sdkOperation(ctx context.Context) string {
	service, operation := awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)
	if service == "" || operation == "" {
		return ""
	}
	return sdkServiceName(service) + ":" + operation
}

// sdkServiceName turns an SDK service ID ("SSO Admin") into the AWS CLI's
// name of the service ("sso-admin"), the short name reports use. For the
// services the cutover calls that is the ID lower-cased with dashes, except
// for Secrets Manager.
func sdkServiceName(serviceID string) string {
	if serviceID == "Secrets Manager" {
		return "secretsmanager"
	}
	return strings.ReplaceAll(strings.ToLower(serviceID), " ", "-")
}

// awsTargetService names the service of an X-Amz-Target prefix as
// sdkServiceName does.
func awsTargetService(targetPrefix string) string {
	switch {
	case strings.HasPrefix(targetPrefix, "AWSIdentityStore"):
		return "identitystore"
	case strings.HasPrefix(targetPrefix, "SWBExternalService"):
		return "sso-admin"
	case strings.HasPrefix(targetPrefix, "secretsmanager"):
		return "secretsmanager"
	}
	return targetPrefix
}

// idSegment matches a path segment that names one object: a GUID or long
// hex ID, a number, an e-mail, an identity store ID, or an ID with a GUID
// inside, such as a provisioning job's "<template>.<hex>.<GUID>" (the
// operation names are metric labels: one per object would not do).
var idSegment = regexp.MustCompile(`^([0-9a-fA-F-]{16,}|[0-9]{6,}|[^/]*@[^/]*|d-[0-9a-f]+|.*[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}.*)$`)

func normalizePath(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if idSegment.MatchString(p) {
			parts[i] = "{id}"
		}
	}
	return strings.Join(parts, "/")
}
