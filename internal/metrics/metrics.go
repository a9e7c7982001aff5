// Package metrics is what the worker tells Prometheus: the Temporal SDK's
// own metrics (workflow and activity tasks, latencies, failures, through
// the SDK's OpenTelemetry handler), the calls to each service and operation
// with their status and throttles, and how long each gate waited for a
// person. Serve exposes them on /metrics, beside the probes /livez and
// /readyz that Kubernetes asks.
package metrics

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprometheus "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"

	"github.com/platformguide/ssocutover/internal/apicalls"
)

// Metrics is one process's registry.
type Metrics struct {
	registry  *prometheus.Registry
	provider  *sdkmetric.MeterProvider
	calls     *prometheus.CounterVec
	throttles *prometheus.CounterVec
}

var _ apicalls.Observer = (*Metrics)(nil)

// New returns a registry with the Go runtime's and the process's metrics,
// the API call counters, and a meter provider for the Temporal SDK.
func New() (*Metrics, error) {
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{
		registry: registry,
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ssocutover_api_calls_total",
			Help: "Requests to AWS, Microsoft Graph and SCIM, every attempt, by service, operation and HTTP status (0: no answer).",
		}, []string{"service", "operation", "status"}),
		throttles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ssocutover_api_throttles_total",
			Help: "Requests a service refused for the caller's rate (429, or AWS's ThrottlingException), by service and operation.",
		}, []string{"service", "operation"}),
	}
	registry.MustRegister(m.calls, m.throttles)
	exporter, err := otelprometheus.New(otelprometheus.WithRegisterer(registry), otelprometheus.WithoutScopeInfo())
	if err != nil {
		return nil, fmt.Errorf("metrics: the Prometheus exporter: %w", err)
	}
	m.provider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	return m, nil
}

// TemporalHandler is the metrics handler for the Temporal client: the SDK's
// metrics, and the workflows' own (the gates' waits, workflows/gate's
// WaitMetric, as ssocutover_gate_wait_seconds), reach Prometheus
// through it. Counters are monotonic so that they are Prometheus counters.
func (m *Metrics) TemporalHandler() client.MetricsHandler {
	return temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter:                m.provider.Meter("ssocutover"),
		UseMonotonicCounters: true,
	})
}

// ObserveCall counts one request (apicalls.Observer).
func (m *Metrics) ObserveCall(operation string, status int, throttled bool) {
	service := apicalls.Service(operation)
	m.calls.WithLabelValues(service, operation, strconv.Itoa(status)).Inc()
	if throttled {
		m.throttles.WithLabelValues(service, operation).Inc()
	}
}

// Handler serves the registry in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// Server serves /metrics, /livez and /readyz.
type Server struct {
	// Addr is the address it listens on (the port chosen when it was 0).
	Addr  string
	ready atomic.Bool
	srv   *http.Server
}

// Serve listens on addr. /livez answers 200 while the process runs;
// /readyz answers 503 until SetReady(true) (the worker polls its task
// queue), then 200.
func Serve(addr string, m *Metrics) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen on %s: %w", addr, err)
	}
	s := &Server{Addr: ln.Addr().String()}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.ready.Load() {
			http.Error(w, "the worker is not polling yet", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			// The listener failed under us; the probes will say so.
			s.ready.Store(false)
		}
	}()
	return s, nil
}

// SetReady says whether the worker is ready for work.
func (s *Server) SetReady(ready bool) { s.ready.Store(ready) }

// Close stops serving.
func (s *Server) Close() error { return s.srv.Close() }
