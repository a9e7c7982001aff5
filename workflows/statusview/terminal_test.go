package statusview

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/internal/store"
	"github.com/platformguide/ssocutover/workflows"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)

var testRequest = workflows.CutoverRequest{
	IdentityStoreID: "d-1234567890",
	Region:          "eu-west-1",
	EntraTenantID:   "00000000-0000-0000-0000-000000000001",
	RequestedBy:     "alice@corp.example",
	Ticket:          "CHG-1234",
}

func gateStatus() Cutover {
	return Cutover{
		CutoverStatus: workflows.CutoverStatus{
			WorkflowID: "cutover-d-1234567890",
			Request:    testRequest,
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
				Report:   store.Ref{Key: "preflight-report-abc", Digest: "abc"},
				APICalls: []apicalls.OperationCount{{Operation: "identitystore:ListUsers", Calls: 2}, {Operation: "graph:GET /groups", Calls: 6}},
				AssignmentListing: preflight.AssignmentListing{Strategy: preflight.ListPerPrincipal, Pairs: 40, Principals: 21,
					Reason: "21 users and groups take fewer calls than 40 provisioned (account, permission set) pairs"},
				UserMappings: "the provisioning job's schema job-1; changed from the gallery's: userName ← [mail]",
				FinishedAt:   t0.Add(2 * time.Minute),
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
		Execution: Execution{RunID: "run-1", Status: "running", StartTime: t0},
	}
}

func TestRenderStatusAtGate(t *testing.T) {
	var b bytes.Buffer
	WriteCutover(&b, gateStatus(), "http://127.0.0.1:8233/namespaces/default/workflows/cutover-d-1234567890", t0.Add(5*time.Minute))
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
		"Account assignments listed per-principal: 21 users and groups take fewer calls than 40 provisioned (account, permission set) pairs",
		"Users judged by the user mappings of the provisioning job's schema job-1; changed from the gallery's: userName ← [mail]",
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
	v := Cutover{
		Execution: Execution{Status: "running", StartTime: t0},
		InProgress: []ActivityProgress{{
			Activity: "InventoryAWS", State: "started", Attempt: 2, Started: &started, LastHeartbeat: &beat,
			Progress: json.RawMessage(`{"step":"group memberships","done":1200,"total":10000}`), LastFailure: "ThrottlingException: Rate exceeded",
		}},
		QueryError: "the workflow did not answer the status query",
	}
	var b bytes.Buffer
	WriteCutover(&b, v, "", t0.Add(time.Minute))
	out := b.String()
	require.Contains(t, out, "InventoryAWS (started, attempt 2, running for 1m0s, last heartbeat 10s ago): group memberships: 1200/10000")
	require.Contains(t, out, "last attempt failed: ThrottlingException: Rate exceeded")
	require.Contains(t, out, "the workflow did not answer the status query")
	require.NotContains(t, out, "Preflight run")
}

func TestStatusJSONKeepsTheQueryFields(t *testing.T) {
	data, err := json.Marshal(gateStatus())
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(data, &got))
	require.Equal(t, "cutover-d-1234567890", got["workflowId"])
	require.Equal(t, workflows.PhaseAwaitingPreflight, got["phase"])
	require.Equal(t, "preflight", got["gate"].(map[string]any)["name"])
	require.Equal(t, "running", got["execution"].(map[string]any)["status"])
	require.EqualValues(t, 3, got["preflight"].(map[string]any)["summary"].(map[string]any)["blockers"])
}

// A rotation run's status ends with what the person must do.
func TestRenderRotationStatus(t *testing.T) {
	opened := time.Date(2027, 2, 1, 9, 0, 0, 0, time.UTC)
	created := opened.AddDate(-1, 0, 10)
	view := Rotation{ScimTokenRotationStatus: workflows.ScimTokenRotationStatus{
		WorkflowID: "scim-token-rotation-d-1234567890-2027-02-01T09:00:00Z",
		Phase:      workflows.RotationPhaseAwaitingToken,
		Step:       "waiting at gate new-scim-token",
		Due:        "The SCIM token expires in 9 days.",
		Current:    &workflows.TokenState{Created: created, Expires: created.AddDate(1, 0, 0), ExpirySource: workflows.ExpiryFromSecretVersion},
		GateState: workflows.GateState{Gate: &workflows.GateStatus{Name: workflows.GateNewSCIMToken, OpenedAt: opened,
			Instructions: "Generate a token, then:\n\n    starter submit-scim --workflow-id X --token-file FILE --by NAME"}},
	}}
	var b bytes.Buffer
	WriteRotation(&b, view, "", opened.Add(2*time.Hour))
	out := b.String()
	require.Contains(t, out, "Why a new token  The SCIM token expires in 9 days.")
	require.Contains(t, out, "expires 2027-02-11 (secret version created)")
	require.True(t, strings.HasSuffix(strings.TrimSpace(out), "starter submit-scim --workflow-id X --token-file FILE --by NAME"), out)
	require.Contains(t, out, `Waiting for you at gate "new-scim-token"`)
}
