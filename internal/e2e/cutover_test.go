package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/internal/sandbox"
	"github.com/platformguide/ssocutover/internal/world"
	"github.com/platformguide/ssocutover/workflows"
)

// The sample organisation through the preflight gate: started with the
// starter, read with status, a second start refused, an approval over
// blockers refused, then approved with an override through the temporal CLI.
func TestCutoverPreflightEndToEnd(t *testing.T) {
	e := startEnv(t, world.Sample(), sandbox.Faults{})
	id := workflows.CutoverWorkflowID(e.world.AWS.IdentityStoreID)

	out := e.starter(t, "start", "-f", e.request(t))
	require.Contains(t, out, id)
	require.Contains(t, out, "temporal workflow start", "start prints the equivalent temporal command")

	st := e.waitFor(t, id, 2*time.Minute, func(s statusJSON) bool { return s.Gate != nil })
	require.Equal(t, workflows.PhaseAwaitingPreflight, st.Phase)
	require.Equal(t, workflows.GatePreflight, st.Gate.Name)
	require.NotEmpty(t, st.Gate.Instructions)
	require.NotNil(t, st.Preflight)
	require.Equal(t, 5, st.Preflight.Summary.Blockers)
	require.Equal(t, 2, st.Preflight.Summary.Warnings)
	var codes []string
	for _, c := range st.Preflight.Summary.ByCode {
		codes = append(codes, string(c.Code))
	}
	slices.Sort(codes)
	require.Equal(t, []string{"duplicate-email", "group-without-owner", "missing-attribute", "missing-group",
		"nested-group", "user-assignment", "user-not-in-entra"}, codes)
	require.NotEmpty(t, st.Preflight.APICalls, "the report counts its API calls")

	// The full report names what each finding concerns.
	var report preflight.Report
	require.NoError(t, json.Unmarshal([]byte(e.starter(t, "report", "--workflow-id", id, "--json")), &report))
	require.Contains(t, findingNames(report, preflight.MissingGroup), "aws-billing")

	// One cutover per instance: a second start is refused while this one runs.
	refused := e.run(t, false, filepath.Join(binDir, "starter"), "start", "-f", e.request(t))
	require.Contains(t, refused, id)

	// An approval over blockers without override is refused and leaves the
	// gate open; the refusal shows in status.
	e.temporal(t, "workflow", "signal", "--workflow-id", id, "--name", workflows.OpApprove,
		"--input", `{"gate":"preflight","by":"e2e-approver","reason":"looks fine"}`)
	st = e.waitFor(t, id, time.Minute, func(s statusJSON) bool { return len(s.Refused) > 0 })
	require.Equal(t, workflows.GatePreflight, st.Gate.Name)
	require.Empty(t, st.Decisions)

	// Approved with an override, through the temporal CLI.
	e.temporal(t, "workflow", "signal", "--workflow-id", id, "--name", workflows.OpApprove,
		"--input", `{"gate":"preflight","by":"e2e-approver","reason":"blockers accepted by CHG-1","override":true}`)
	st = e.waitFor(t, id, time.Minute, func(s statusJSON) bool { return strings.EqualFold(s.Execution.Status, "completed") })
	require.Equal(t, workflows.PhasePreflightApproved, st.Phase)
	require.Len(t, st.Decisions, 1)
	require.Equal(t, "e2e-approver", st.Decisions[0].By)
	require.True(t, st.Decisions[0].Override)

	history := e.temporal(t, "workflow", "show", "--workflow-id", id, "--output", "json")
	require.Less(t, largestPayload(t, []byte(history)), 256*1024)
	if dir := os.Getenv("SSOCUTOVER_RECORD_HISTORY"); dir != "" {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "cutover-preflight-approved.json"), []byte(history), 0o644))
	}
}

func findingNames(r preflight.Report, code preflight.Code) []string {
	var names []string
	for _, f := range r.Findings {
		if f.Code == code {
			names = append(names, f.Names...)
		}
	}
	return names
}

// largestPayload walks an exported history and returns the size of its
// largest payload's data, in bytes (base64 decoded size estimated).
func largestPayload(t testing.TB, history []byte) int {
	t.Helper()
	var doc any
	require.NoError(t, json.Unmarshal(history, &doc))
	largest := 0
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if data, ok := v["data"].(string); ok {
				if _, isPayload := v["metadata"]; isPayload && len(data)*3/4 > largest {
					largest = len(data) * 3 / 4
				}
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(doc)
	require.Positive(t, largest, "the history has payloads")
	return largest
}
