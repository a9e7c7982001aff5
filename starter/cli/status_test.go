package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/internal/store"
	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/statusview"
)

func TestHeartbeatProgress(t *testing.T) {
	payloads, err := converter.GetDefaultDataConverter().ToPayloads(map[string]any{"step": "users", "done": 3, "total": 7})
	require.NoError(t, err)
	raw := heartbeatProgress(payloads)
	require.JSONEq(t, `{"step":"users","done":3,"total":7}`, string(raw))
	require.Equal(t, "users: 3/7", statusview.FormatProgress(raw))
	require.Nil(t, heartbeatProgress(&commonpb.Payloads{}))
	require.Equal(t, `"plain"`, statusview.FormatProgress(json.RawMessage(`"plain"`)))
	require.Equal(t, "assignments: 40/120; members: 7",
		statusview.FormatProgress(json.RawMessage(`{"step":"assignments","done":40,"total":120,"alongside":[{"step":"members","done":7}]}`)))
}

func TestRenderReportGroupsBySeverityAndCode(t *testing.T) {
	v := ReportView{
		WorkflowID: "cutover-d-1234567890",
		Run:        1,
		Report: preflight.Report{
			Findings: []preflight.Finding{
				{Code: preflight.UserAssignment, Severity: preflight.Warning, Names: []string{"dana.okafor@corp.example"}, Message: "Dana holds a direct assignment."},
				{Code: preflight.MissingGroup, Severity: preflight.Blocker, Names: []string{"aws-billing"}, Message: "No Entra group aws-billing."},
				{Code: preflight.DuplicateEmail, Severity: preflight.Blocker, Names: []string{"chen.wei@corp.example", "chen.wei.admin@corp.example"}, Message: "Two users share an email."},
				{Code: preflight.MissingGroup, Severity: preflight.Blocker, Names: []string{"aws-data"}, Message: "No Entra group aws-data."},
			},
			Stats: preflight.Stats{Groups: 6, MatchedGroups: 4, AWSUsers: 15, UsersToProvision: 13, Assignments: 9, GroupAssignments: 8, UserAssignments: 1, Accounts: 3, PermissionSets: 4},
		},
	}
	var b bytes.Buffer
	RenderReport(&b, v)
	out := b.String()

	require.Contains(t, out, "Preflight report of cutover-d-1234567890, run 1: 3 blockers, 1 warning.")
	require.Contains(t, out, "9 account assignments (8 by group, 1 by user) in 3 accounts")
	require.Contains(t, out, "  missing-group (2)\n    - No Entra group aws-billing.\n      names: aws-billing\n    - No Entra group aws-data.\n      names: aws-data\n")
	require.Contains(t, out, "      names: chen.wei@corp.example, chen.wei.admin@corp.example")
	order := []string{"BLOCKERS", "duplicate-email (1)", "missing-group (2)", "WARNINGS", "user-assignment (1)"}
	last := -1
	for _, s := range order {
		i := strings.Index(out, s)
		require.Greater(t, i, last, "%q out of order in:\n%s", s, out)
		last = i
	}
}

func TestRenderReportWithoutFindings(t *testing.T) {
	var b bytes.Buffer
	RenderReport(&b, ReportView{WorkflowID: "cutover-d-1234567890", Run: 1})
	require.Contains(t, b.String(), "0 blockers, 0 warnings")
	require.Contains(t, b.String(), "No findings")
}

func TestReadReportFromTheStore(t *testing.T) {
	dataDir := t.TempDir()
	c := &cli{dataDir: dataDir}
	report := preflight.Report{Findings: []preflight.Finding{{Code: preflight.EmptyGroup, Severity: preflight.Warning, Names: []string{"aws-empty"}, Message: "empty"}}}
	ref, err := (store.Dir{Path: c.storeDir()}).Put(context.Background(), "preflight-report", report)
	require.NoError(t, err)

	status := workflows.CutoverStatus{WorkflowID: "cutover-d-1234567890", Preflight: &workflows.PreflightResult{Run: 3, Report: ref}}
	got, err := c.readReport(context.Background(), status)
	require.NoError(t, err)
	require.Equal(t, 3, got.Run)
	require.Equal(t, report.Findings, got.Findings)

	other := &cli{dataDir: t.TempDir()}
	_, err = other.readReport(context.Background(), status)
	require.ErrorContains(t, err, "run it with the worker's setting")

	_, err = c.readReport(context.Background(), workflows.CutoverStatus{WorkflowID: "cutover-d-1234567890", Step: "preflight run 1: inventory"})
	require.ErrorContains(t, err, "has no preflight report yet (preflight run 1: inventory)")
}

func TestTargetResolve(t *testing.T) {
	id, err := target{identityStore: "d-1234567890"}.resolve()
	require.NoError(t, err)
	require.Equal(t, "cutover-d-1234567890", id)
	id, err = target{workflowID: "cutover-d-1234567890", identityStore: "d-1234567890"}.resolve()
	require.NoError(t, err)
	require.Equal(t, "cutover-d-1234567890", id)
	_, err = target{}.resolve()
	require.Error(t, err)
}
