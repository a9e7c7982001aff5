package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/codec"
	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/world"
	"github.com/platformguide/ssocutover/workflows"
)

// TestTwoWorkersShareTheS3Store runs a cutover on two worker processes,
// each with its own empty data directory and the same S3 store, as two
// replicas on two nodes would. The first runs the preflight alone, then
// the second takes over: the enterprise app's group assignments read the
// preflight's report and Entra inventory, which only the bucket holds.
func TestTwoWorkersShareTheS3Store(t *testing.T) {
	s3Addr := freeAddr(t)
	s3URL := "http://" + s3Addr
	storeEnv := []string{
		"SSOCUTOVER_STORE=s3", "SSOCUTOVER_STORE_BUCKET=" + sandbox.StoreBucket, "SSOCUTOVER_STORE_PREFIX=cutovers",
		"SSOCUTOVER_STORE_S3_ENDPOINT_URL=" + s3URL, "SSOCUTOVER_STORE_S3_PATH_STYLE=true",
	}
	e := startEnvWith(t, world.Sample(), sandbox.Options{S3Addr: s3Addr}, storeEnv...)
	require.Equal(t, s3URL, e.sandbox.S3URL)
	first := e.worker
	id := workflows.CutoverWorkflowID(e.world.AWS.IdentityStoreID)

	e.starter(t, "start", "-f", e.request(t))
	e.waitForGate(t, id, workflows.GatePreflight)

	// The second worker, on its own empty data directory; the first stops.
	secondDir := t.TempDir()
	second := exec.Command(filepath.Join(binDir, "worker"))
	var secondLog bytes.Buffer
	metricsAddr := freeAddr(t)
	second.Env = append(append(e.environ(), storeEnv...), "SSOCUTOVER_DATA_DIR="+secondDir, "SSOCUTOVER_METRICS_ADDRESS="+metricsAddr)
	second.Stdout, second.Stderr = &secondLog, &secondLog
	require.NoError(t, second.Start())
	t.Cleanup(func() {
		_ = second.Process.Signal(os.Interrupt)
		_ = second.Wait()
		if t.Failed() {
			t.Logf("second worker's log:\n%s", secondLog.String())
		}
	})
	require.NoError(t, first.Process.Signal(os.Interrupt))
	_ = first.Wait()
	// The env's cleanup stops e.worker: point it at a process that exits.
	e.worker = exec.Command("true")
	require.NoError(t, e.worker.Start())

	e.starter(t, "approve", "--workflow-id", id, "--gate", workflows.GatePreflight, "--by", "e2e", "--override", "--reason", "two workers")
	e.passSPMetadataGate(t, id)
	tokenFile := e.passSCIMGate(t, id)
	e.waitForGate(t, id, workflows.GateConfirmSignIn)
	e.starter(t, "approve", "--workflow-id", id, "--gate", workflows.GateConfirmSignIn, "--by", "e2e")
	st := e.waitFor(t, id, time.Minute, func(s statusJSON) bool { return strings.EqualFold(s.Execution.Status, "completed") })
	require.Equal(t, workflows.PhaseCompleted, st.Phase)
	e.assertFinalState(t, st, tokenFile)

	// Both workers ran activities: the history names each attempt's worker.
	identities := activityWorkers(t, e.temporal(t, "workflow", "show", "--workflow-id", id, "--output", "json"))
	require.Len(t, identities, 2, "activities ran on two workers: %v", identities)
	for who, n := range identities {
		require.Positive(t, n, who)
	}

	// Nothing was stored on either worker's disk; the bucket's objects are
	// sealed, and starter report reads the report from there.
	require.NoDirExists(t, filepath.Join(e.dataDir, "store"))
	require.NoDirExists(t, filepath.Join(secondDir, "store"))
	objects, err := e.sandbox.S3Objects()
	require.NoError(t, err)
	require.NotEmpty(t, objects)
	for key, data := range objects {
		require.True(t, strings.HasPrefix(key, "cutovers/"), key)
		require.True(t, codec.IsSealed(data), key)
		require.NotContains(t, string(data), "dana.okafor", key)
	}
	// The second worker's Prometheus endpoint: the SDK's metrics, the
	// calls by service and operation, and the gates' waits.
	require.Equal(t, http.StatusOK, httpStatus(t, "http://"+metricsAddr+"/readyz"))
	scraped := httpBody(t, "http://"+metricsAddr+"/metrics")
	for _, want := range []string{
		`ssocutover_api_calls_total{operation="graph:POST /applicationTemplates/{id}/instantiate",service="graph",status="201"} 1`,
		`ssocutover_api_calls_total{operation="sso-admin:`,
		`operation="graph:POST /servicePrincipals/{id}/synchronization/jobs/{id}/start"`,
		`temporal_activity_execution_latency_seconds_count{`,
	} {
		require.Contains(t, scraped, want)
	}
	require.Regexp(t, `(?m)^ssocutover_gate_wait_seconds_count\{action="approve",.*gate="confirm-sign-in".*\} 1$`, scraped)

	var report preflight.Report
	require.NoError(t, json.Unmarshal([]byte(e.starter(t, "report", "--workflow-id", id, "--json",
		"--store", "s3", "--store-bucket", sandbox.StoreBucket, "--store-prefix", "cutovers", "--store-s3-endpoint-url", s3URL, "--store-s3-path-style")), &report))
	require.Contains(t, findingNames(report, preflight.MissingGroup), "aws-billing")
}

// activityWorkers counts the activity attempts of a history (temporal
// workflow show --output json) by the identity of the worker that ran them.
func activityWorkers(t *testing.T, history string) map[string]int {
	t.Helper()
	var h struct {
		Events []struct {
			EventType  string `json:"eventType"`
			Attributes struct {
				Identity string `json:"identity"`
			} `json:"activityTaskStartedEventAttributes"`
		} `json:"events"`
	}
	require.NoError(t, json.Unmarshal([]byte(history), &h))
	workers := map[string]int{}
	for _, ev := range h.Events {
		if ev.EventType == "EVENT_TYPE_ACTIVITY_TASK_STARTED" || ev.EventType == "ActivityTaskStarted" {
			workers[ev.Attributes.Identity]++
		}
	}
	return workers
}

// freeAddr is a loopback address with a port free at the time of asking.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func httpStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func httpBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(body)
}
