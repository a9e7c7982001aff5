package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/internal/store"
	"github.com/platformguide/ssocutover/workflows"
)

var t0 = time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)

func gateStatus() StatusView {
	return StatusView{
		CutoverStatus: workflows.CutoverStatus{
			WorkflowID: "cutover-d-1234567890",
			Request:    validRequest,
			Phase:      workflows.PhaseAwaitingPreflight,
			Step:       "waiting at gate preflight for a person to approve, reject or recheck",
			Preflight: &workflows.PreflightResult{
				Run: 2,
				Summary: preflight.Summary{
					Blockers: 3, Warnings: 1,
					ByCode: []preflight.CodeCount{
						{Code: preflight.UserAssignment, Severity: preflight.Warning, Count: 1},
						{Code: preflight.MissingGroup, Severity: preflight.Blocker, Count: 2},
						{Code: preflight.DuplicateEmail, Severity: preflight.Blocker, Count: 1},
					},
					Stats: preflight.Stats{Groups: 6, MatchedGroups: 4, AWSUsers: 15, UsersToProvision: 13, Assignments: 9, Accounts: 3, PermissionSets: 4},
				},
				Report:     store.Ref{Key: "preflight-report-abc", Digest: "abc"},
				APICalls:   []apicalls.OperationCount{{Operation: "identitystore:ListUsers", Calls: 2}, {Operation: "graph:GET /groups", Calls: 6}},
				FinishedAt: t0.Add(2 * time.Minute),
			},
			GateState: workflows.GateState{
				Gate: &workflows.GateStatus{
					Name:         workflows.GatePreflight,
					Instructions: "Read every finding:\n\n    starter report --workflow-id cutover-d-1234567890\n",
					Operations:   []string{"approve", "reject", "recheck"},
					OpenedAt:     t0.Add(2 * time.Minute),
				},
				Decisions: []workflows.Decision{{Gate: "preflight", Action: "recheck", By: "bob", Reason: "fixed\naws-billing", At: t0.Add(time.Minute)}},
				Refused: []workflows.RefusedInput{{Operation: "approve", Gate: "preflight", By: "eve",
					Error: "approve refused: the preflight (run 1) found 3 blockers", At: t0.Add(90 * time.Second)}},
				RefusedTotal: 25,
			},
		},
		Execution: executionView{RunID: "run-1", Status: "running", StartTime: t0},
	}
}

func TestRenderStatusAtGate(t *testing.T) {
	var b bytes.Buffer
	RenderStatus(&b, gateStatus(), "http://127.0.0.1:8233/namespaces/default/workflows/cutover-d-1234567890", t0.Add(5*time.Minute))
	out := b.String()

	for _, want := range []string{
		"Cutover cutover-d-1234567890",
		"Identity Center  d-1234567890 (eu-west-1)",
		"Requested by     alice@corp.example, ticket CHG-1234",
		"Workflow         running, started 2025-03-04 10:00:00Z",
		"Temporal UI      http://127.0.0.1:8233/namespaces/default/workflows/cutover-d-1234567890",
		"Phase            awaiting-preflight-approval",
		`Waiting for you at gate "preflight" since 2025-03-04 10:02:00Z (3m0s ago). What to do:`,
		"      starter report --workflow-id cutover-d-1234567890",
		"Preflight run 2, finished 2025-03-04 10:02:00Z: 3 blockers, 1 warning.",
		"Checked 6 groups (4 matched in Entra), 15 users (13 to provision), 9 account assignments in 3 accounts, 4 permission sets.",
		"API calls: 8 (identitystore:ListUsers 2, graph:GET /groups 6)",
		"recheck at preflight by bob: fixed aws-billing",
		"Refused signals: 25 (the newest 1 below):",
		"approve by eve: approve refused: the preflight (run 1) found 3 blockers",
	} {
		require.Contains(t, out, want)
	}
	// The findings table lists blockers before warnings.
	table := out[strings.Index(out, "SEVERITY"):]
	require.Regexp(t, `blocker\s+missing-group\s+2`, table)
	require.Less(t, strings.Index(table, "duplicate-email"), strings.Index(table, "user-assignment"))
	require.NotContains(t, out, "In progress")
}

func TestRenderStatusShowsProgressAndQueryError(t *testing.T) {
	started := t0
	beat := t0.Add(50 * time.Second)
	v := StatusView{
		Execution: executionView{Status: "running", StartTime: t0},
		InProgress: []ActivityProgress{{
			Activity: "InventoryAWS", State: "started", Attempt: 2, Started: &started, LastHeartbeat: &beat,
			Progress: json.RawMessage(`{"step":"group memberships","done":1200,"total":10000}`), LastFailure: "ThrottlingException: Rate exceeded",
		}},
		QueryError: "the workflow did not answer the status query",
	}
	var b bytes.Buffer
	RenderStatus(&b, v, "", t0.Add(time.Minute))
	out := b.String()
	require.Contains(t, out, "InventoryAWS (started, attempt 2, running for 1m0s, last heartbeat 10s ago): group memberships: 1200/10000")
	require.Contains(t, out, "last attempt failed: ThrottlingException: Rate exceeded")
	require.Contains(t, out, "the workflow did not answer the status query")
	require.NotContains(t, out, "Preflight run")
}

func TestStatusJSONKeepsTheQueryFields(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, WriteJSON(&b, gateStatus()))
	var got map[string]any
	require.NoError(t, json.Unmarshal(b.Bytes(), &got))
	require.Equal(t, "cutover-d-1234567890", got["workflowId"])
	require.Equal(t, workflows.PhaseAwaitingPreflight, got["phase"])
	require.Equal(t, "preflight", got["gate"].(map[string]any)["name"])
	require.Equal(t, "running", got["execution"].(map[string]any)["status"])
	require.EqualValues(t, 3, got["preflight"].(map[string]any)["summary"].(map[string]any)["blockers"])
}

func TestHeartbeatProgress(t *testing.T) {
	payloads, err := converter.GetDefaultDataConverter().ToPayloads(map[string]any{"step": "users", "done": 3, "total": 7})
	require.NoError(t, err)
	raw := heartbeatProgress(payloads)
	require.JSONEq(t, `{"step":"users","done":3,"total":7}`, string(raw))
	require.Equal(t, "users: 3/7", FormatProgress(raw))
	require.Nil(t, heartbeatProgress(&commonpb.Payloads{}))
	require.Equal(t, `"plain"`, FormatProgress(json.RawMessage(`"plain"`)))
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
