package sandbox

import (
	"context"
	"math/rand"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Faults make the sandbox behave like a busy cloud API. Rates are between 0
// and 1; the random source is seeded so a failing run can be repeated.
type Faults struct {
	Latency         time.Duration `json:"latency"`
	ThrottleRate    float64       `json:"throttleRate"`
	RetryAfter      time.Duration `json:"retryAfter"`
	ServerErrorRate float64       `json:"serverErrorRate"`
	// AppliedThenLostRate is the share of requests the sandbox carries out
	// and then answers with a server error instead of their answer, as a
	// cloud whose answer is lost on the way: the retry meets what the
	// first attempt did.
	AppliedThenLostRate float64 `json:"appliedThenLostRate"`
	Seed                int64   `json:"seed"`
}

// FaultCounts are the faults a sandbox injected so far.
type FaultCounts struct {
	Requests        int64 `json:"requests"`
	Throttled       int64 `json:"throttled"`
	ServerErrors    int64 `json:"serverErrors"`
	AppliedThenLost int64 `json:"appliedThenLost"`
}

// faultStats counts what withFaults did, across the three listeners.
type faultStats struct {
	requests, throttled, serverErrors, appliedThenLost atomic.Int64
}

func (s *faultStats) counts() FaultCounts {
	return FaultCounts{Requests: s.requests.Load(), Throttled: s.throttled.Load(), ServerErrors: s.serverErrors.Load(), AppliedThenLost: s.appliedThenLost.Load()}
}

// lostAnswer holds a handler's answer that will not be delivered.
type lostAnswer struct{ header http.Header }

func (l *lostAnswer) Header() http.Header         { return l.header }
func (l *lostAnswer) Write(p []byte) (int, error) { return len(p), nil }
func (l *lostAnswer) WriteHeader(int)             {}

type faultKind int

const (
	faultThrottle faultKind = iota
	faultServerError
)

// faultWriter writes a fault in the wire format of one API.
type faultWriter func(w http.ResponseWriter, kind faultKind)

func withFaults(f Faults, write faultWriter, next http.Handler, stats *faultStats) http.Handler {
	if f == (Faults{}) {
		return next
	}
	var mu sync.Mutex
	rnd := rand.New(rand.NewSource(f.Seed))
	inject := func(w http.ResponseWriter, write faultWriter) bool {
		mu.Lock()
		roll := rnd.Float64()
		mu.Unlock()
		stats.requests.Add(1)
		switch {
		case roll < f.ThrottleRate:
			stats.throttled.Add(1)
			retryAfter := f.RetryAfter
			if retryAfter <= 0 {
				retryAfter = time.Second
			}
			w.Header().Set("Retry-After", strconv.Itoa(int((retryAfter+time.Second-1)/time.Second)))
			write(w, faultThrottle)
		case roll < f.ThrottleRate+f.ServerErrorRate:
			stats.serverErrors.Add(1)
			write(w, faultServerError)
		default:
			return false
		}
		return true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.Latency > 0 {
			time.Sleep(f.Latency)
		}
		if inject(w, write) {
			return
		}
		mu.Lock()
		lose := rnd.Float64() < f.AppliedThenLostRate
		mu.Unlock()
		r = r.WithContext(context.WithValue(r.Context(), faultInjectorKey{}, faultInjector(inject)))
		if lose {
			// Carried out, then the answer is lost: the client sees a
			// server error and retries what was already done.
			next.ServeHTTP(&lostAnswer{header: http.Header{}}, r)
			stats.appliedThenLost.Add(1)
			write(w, faultServerError)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// faultInjector rolls the dice for one request and, when a fault is due,
// writes it with write (Retry-After included) and returns true.
type faultInjector func(w http.ResponseWriter, write faultWriter) bool

type faultInjectorKey struct{}

// faultInjectorFrom returns the injector withFaults put in the context of
// the requests it passes on, or nil when faults are off. A server that
// carries several requests in one HTTP request (Graph's $batch) uses it to
// fault each of them on its own, as the real service does.
func faultInjectorFrom(ctx context.Context) faultInjector {
	inject, _ := ctx.Value(faultInjectorKey{}).(faultInjector)
	return inject
}
