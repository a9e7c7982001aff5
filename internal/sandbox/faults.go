package sandbox

import (
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
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.Latency > 0 {
			time.Sleep(f.Latency)
		}
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
			next.ServeHTTP(w, r)
		}
	})
}
