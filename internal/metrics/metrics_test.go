package metrics

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

func TestServeMetricsAndProbes(t *testing.T) {
	m, err := New()
	require.NoError(t, err)
	s, err := Serve("127.0.0.1:0", m)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	base := "http://" + s.Addr

	status, _ := get(t, base+"/livez")
	require.Equal(t, http.StatusOK, status)
	status, _ = get(t, base+"/readyz")
	require.Equal(t, http.StatusServiceUnavailable, status, "not ready before the worker polls")
	s.SetReady(true)
	status, _ = get(t, base+"/readyz")
	require.Equal(t, http.StatusOK, status)

	m.ObserveCall("identitystore:ListUsers", 200, false)
	m.ObserveCall("identitystore:ListUsers", 400, true)
	m.ObserveCall("graph:GET /groups", 429, true)
	handler := m.TemporalHandler()
	handler.Counter("temporal_request").Inc(1)
	handler.WithTags(map[string]string{"gate": "preflight", "action": "approve"}).Timer("ssocutover_gate_wait").Record(90 * time.Second)

	status, body := get(t, base+"/metrics")
	require.Equal(t, http.StatusOK, status)
	for _, want := range []string{
		`ssocutover_api_calls_total{operation="identitystore:ListUsers",service="identitystore",status="200"} 1`,
		`ssocutover_api_calls_total{operation="identitystore:ListUsers",service="identitystore",status="400"} 1`,
		`ssocutover_api_throttles_total{operation="identitystore:ListUsers",service="identitystore"} 1`,
		`ssocutover_api_throttles_total{operation="graph:GET /groups",service="graph"} 1`,
		`temporal_request_total 1`,
		`ssocutover_gate_wait_seconds_sum{action="approve",gate="preflight"} 90`,
		`go_goroutines`,
	} {
		require.True(t, strings.Contains(body, want), "want %s in:\n%s", want, body)
	}
}
