package cutover

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/workflowtest"
)

func TestApproveAfterACleanPreflight(t *testing.T) {
	env := newEnv(t)
	f := &fakePreflight{summaries: []preflight.Summary{cleanSummary}}
	f.install(env)
	at(env, time.Minute, func() {
		env.SignalWorkflow(workflows.OpApprove, decision("alice", "warnings read", false))
	})

	env.ExecuteWorkflow(workflows.CutoverWorkflowName, testRequest())

	res := passedPreflight(t, env)
	require.Equal(t, workflows.BreakGlassUserName(workflowtest.IdentityStoreID), res.Resources.BreakGlass.UserName, "the approval led to the break-glass user")
	require.Len(t, res.Decisions, 1)
	require.Equal(t, workflows.Decision{Gate: workflows.GatePreflight, Action: workflows.OpApprove, By: "alice", Reason: "warnings read", At: res.Decisions[0].At}, res.Decisions[0])
	require.Equal(t, [3]int{1, 1, 1}, f.runs())

	// The activities were chained by reference: the request's names in, the
	// stored inventories' references from one step to the next.
	require.Equal(t, workflowtest.IdentityStoreID, f.awsInputs[0].IdentityStoreID)
	require.Equal(t, testRequest().EntraTenantID, f.entraInputs[0].TenantID)
	require.Equal(t, runRef("aws-inventory", 1), f.entraInputs[0].AWSInventory)
	require.Equal(t, runRef("aws-inventory", 1), f.analysisInputs[0].AWSInventory)
	require.Equal(t, runRef("entra-inventory", 1), f.analysisInputs[0].EntraInventory)
	require.Equal(t, runRef("preflight-report", 1), res.Preflight.Report)
	require.Equal(t, cleanSummary, res.Preflight.Summary)
	// API calls of both inventories, added up by operation.
	require.Equal(t, []apicalls.OperationCount{
		{Operation: "graph.$batch", Calls: 1},
		{Operation: "identitystore.ListUsers", Calls: 3},
		{Operation: "sso-admin.ListInstances", Calls: 1},
	}, res.Preflight.APICalls)
	require.Equal(t, harnessListing, res.Preflight.AssignmentListing, "how the assignments were listed, for the status")

	st := queryStatus(t, env)
	require.Equal(t, workflows.PhaseRolledBack, st.Phase, "the harness's reject at the next gate ended it")
	require.Nil(t, st.Gate)
}
