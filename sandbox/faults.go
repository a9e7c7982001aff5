package sandbox

import (
	"context"
	"math/rand"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Faults make the sandbox behave like a busy cloud API. Rates are between 0
// and 1; the random source is seeded so a failing run can be repeated.
type Faults struct {
	Latency         time.Duration `json:"latency"`
	ThrottleRate    float64       `json:"throttleRate"`
	RetryAfter      time.Duration `json:"retryAfter"`
	ServerErrorRate float64       `json:"serverErrorRate"`
	Seed            int64         `json:"seed"`
}

type faultKind int

const (
	faultThrottle faultKind = iota
	faultServerError
)

// faultWriter writes a fault in the wire format of one API.
type faultWriter func(w http.ResponseWriter, kind faultKind)

func withFaults(f Faults, write faultWriter, next http.Handler) http.Handler {
	if f == (Faults{}) {
		return next
	}
	var mu sync.Mutex
	rnd := rand.New(rand.NewSource(f.Seed))
	inject := func(w http.ResponseWriter, write faultWriter) bool {
		mu.Lock()
		roll := rnd.Float64()
		mu.Unlock()
		switch {
		case roll < f.ThrottleRate:
			retryAfter := f.RetryAfter
			if retryAfter <= 0 {
				retryAfter = time.Second
			}
			w.Header().Set("Retry-After", strconv.Itoa(int((retryAfter+time.Second-1)/time.Second)))
			write(w, faultThrottle)
		case roll < f.ThrottleRate+f.ServerErrorRate:
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
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), faultInjectorKey{}, faultInjector(inject))))
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
