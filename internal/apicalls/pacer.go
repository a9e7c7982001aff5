package apicalls

import (
	"context"
	"math"
	"slices"
	"strings"
	"sync"

	"golang.org/x/time/rate"
)

// Pacer paces requests at one rate per service: identitystore, sso-admin
// and Graph throttle each on its own, so a call to one need not wait behind
// calls to another, and an activity that reads two services at once takes
// as long as the slower one, not the sum. The service is the part of
// Operation before the colon ("sso-admin", "identitystore", "graph").
type Pacer struct {
	limit rate.Limit
	burst int

	mu        sync.Mutex
	byService map[string]*rate.Limiter
}

// NewPacer returns a pacer of requestsPerSecond per service, or nil (no
// pacing) when requestsPerSecond is negative, zero or +Inf.
func NewPacer(requestsPerSecond float64) *Pacer {
	if requestsPerSecond <= 0 || math.IsInf(requestsPerSecond, 1) {
		return nil
	}
	// A burst of one second's worth lets concurrent calls start together
	// without exceeding the pace over any second.
	return &Pacer{
		limit:     rate.Limit(requestsPerSecond),
		burst:     int(math.Ceil(requestsPerSecond)),
		byService: map[string]*rate.Limiter{},
	}
}

// Wait blocks until the service of operation (as Operation names it) may
// make another call, or ctx ends. A nil pacer never waits.
func (p *Pacer) Wait(ctx context.Context, operation string) error {
	if p == nil {
		return nil
	}
	return p.limiter(Service(operation)).Wait(ctx)
}

func (p *Pacer) limiter(service string) *rate.Limiter {
	p.mu.Lock()
	defer p.mu.Unlock()
	l, ok := p.byService[service]
	if !ok {
		l = rate.NewLimiter(p.limit, p.burst)
		p.byService[service] = l
	}
	return l
}

// Service is the service of an operation name: "sso-admin" for
// "sso-admin:ListInstances".
func Service(operation string) string {
	service, _, _ := strings.Cut(operation, ":")
	return service
}

// services lists the services paced so far, sorted, for tests.
func (p *Pacer) services() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	names := make([]string, 0, len(p.byService))
	for s := range p.byService {
		names = append(names, s)
	}
	slices.Sort(names)
	return names
}
