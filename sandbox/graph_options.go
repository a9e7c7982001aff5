package sandbox

import (
	"slices"
	"strings"
	"sync"
	"time"
)

// GraphOptions configure the Microsoft half of the sandbox.
type GraphOptions struct {
	// InstantiateDelay is how long an application and service principal
	// made from an application template stay invisible (404 on GET, absent
	// from lists and filters), as Entra's replication makes them for a few
	// seconds after POST .../instantiate answers. 0 means
	// DefaultInstantiateDelay; NoInstantiateDelay (any negative value)
	// makes them visible at once.
	InstantiateDelay time.Duration

	// Provisioning (graph_sync*.go, graph_provision*.go).

	// ProvisioningInterval is the time from one provisioning cycle of a
	// started job to the next; 0 means DefaultProvisioningInterval.
	ProvisioningInterval time.Duration
	// FirstCycleDelay is how long a started job waits before its first
	// cycle (Entra takes a while; 0 runs it at once). Tests use it to
	// catch a cutover while provisioning runs.
	FirstCycleDelay time.Duration

	// ForbiddenPaths are answered 403 Authorization_RequestDenied, as
	// Graph answers a caller without the permission: a request whose
	// method and path (below /v1.0) match one of these, such as
	// "POST /applicationTemplates/*/instantiate" ('*' is one segment).
	ForbiddenPaths []string
}

// forbiddenPaths holds the ForbiddenPaths of a running sandbox, which a
// test may change (a person granting the missing permission).
type forbiddenPaths struct {
	mu    sync.RWMutex
	rules []string
}

func (f *forbiddenPaths) set(rules []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = slices.Clone(rules)
}

// forbidden reports whether a rule forbids method on the path segments seg.
func (f *forbiddenPaths) forbidden(method string, seg []string) bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	for _, rule := range f.rules {
		ruleMethod, rulePath, ok := strings.Cut(rule, " ")
		if !ok || !strings.EqualFold(ruleMethod, method) {
			continue
		}
		if segmentsMatch(strings.Split(strings.Trim(rulePath, "/"), "/"), seg) {
			return true
		}
	}
	return false
}

// segmentsMatch reports whether path segments seg match pattern, where "*"
// matches any one segment.
func segmentsMatch(pattern, seg []string) bool {
	if len(pattern) != len(seg) {
		return false
	}
	for i := range pattern {
		if pattern[i] != "*" && pattern[i] != seg[i] {
			return false
		}
	}
	return true
}

// DefaultInstantiateDelay is the InstantiateDelay of a sandbox that sets none.
const DefaultInstantiateDelay = time.Second

// NoInstantiateDelay makes instantiated applications readable at once.
const NoInstantiateDelay time.Duration = -1

// instantiateDelay is the delay o asks for.
func (o GraphOptions) instantiateDelay() time.Duration {
	switch {
	case o.InstantiateDelay == 0:
		return DefaultInstantiateDelay
	case o.InstantiateDelay < 0:
		return 0
	}
	return o.InstantiateDelay
}
