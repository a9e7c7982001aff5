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
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"

	"golang.org/x/time/rate"
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

// Transport counts and paces the requests it carries. Limiter may be nil.
type Transport struct {
	Base    http.RoundTripper
	Limiter *rate.Limiter
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.Limiter != nil {
		if err := t.Limiter.Wait(req.Context()); err != nil {
			return nil, err
		}
	}
	if c := FromContext(req.Context()); c != nil {
		c.Add(Operation(req))
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(req)
}

// Operation names the API operation a request calls: "identitystore:ListUsers"
// for the AWS JSON protocol, "iam:CreateUser" for the Query protocol, and
// "graph:GET /groups/{id}/members" for Microsoft Graph v1.0 and
// "http:GET /scim/v2/Users" for anything else, with IDs replaced so that
// calls to the same operation count together.
func Operation(req *http.Request) string {
	if target := req.Header.Get("X-Amz-Target"); target != "" {
		prefix, op, _ := strings.Cut(target, ".")
		return awsService(prefix) + ":" + op
	}
	if action := queryAction(req); action != "" {
		return "iam:" + action
	}
	if rest, ok := strings.CutPrefix(req.URL.Path, "/v1.0/"); ok {
		return "graph:" + req.Method + " /" + normalizePath(rest)
	}
	return "http:" + req.Method + " " + normalizePath(req.URL.Path)
}

func awsService(targetPrefix string) string {
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

// queryAction reads the Action of an AWS Query protocol request without
// consuming its body: the SDK sets GetBody for requests it may retry.
func queryAction(req *http.Request) string {
	if req.Method != http.MethodPost || !strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") || req.GetBody == nil {
		return ""
	}
	body, err := req.GetBody()
	if err != nil {
		return ""
	}
	defer body.Close()
	buf := make([]byte, 256)
	n, _ := body.Read(buf)
	values, err := url.ParseQuery(strings.SplitN(string(buf[:n]), "&", 3)[0])
	if err != nil {
		return ""
	}
	return values.Get("Action")
}

var idSegment = regexp.MustCompile(`^([0-9a-fA-F-]{16,}|[0-9]{6,}|[^/]*@[^/]*|d-[0-9a-f]+)$`)

func normalizePath(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if idSegment.MatchString(p) {
			parts[i] = "{id}"
		}
	}
	return strings.Join(parts, "/")
}
