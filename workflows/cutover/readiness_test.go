package cutover

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/internal/readiness"
	"github.com/platformguide/ssocutover/workflows"
)

// What the readiness checks of a world without the permission, the licence
// and the policy exemption find.
var notReadyChecks = []readiness.Check{
	{Area: readiness.AreaAWS, Name: "sso:CreateAccountAssignment", Status: readiness.Missing, Code: readiness.CodeMissingPermission,
		Detail: "implicitDeny", Fix: "allow sso:CreateAccountAssignment"},
	{Area: readiness.AreaEntra, Name: "Entra ID P1 licence", Status: readiness.Missing, Code: readiness.CodeMissingLicence, Detail: "no P1", Fix: "buy P1"},
	{Area: readiness.AreaEntra, Name: "identifier URI policy", Status: readiness.Missing, Code: readiness.CodeIdentifierURIBlocked, Detail: "restricted", Fix: "exempt SAML apps"},
}

// A worker that cannot carry the cutover out stops it at the preflight gate
// before any inventory: the findings are blockers no override passes, and
// a recheck once they are fixed takes the inventories and goes on.
func TestAnEnvironmentThatIsNotReadyStopsAtThePreflightGate(t *testing.T) {
	env := newEnv(t)
	f := &fakePreflight{summaries: []preflight.Summary{
		{Blockers: 3, ByCode: []preflight.CodeCount{{Code: preflight.Code(readiness.CodeIdentifierURIBlocked), Severity: preflight.Blocker, Count: 1}}},
		cleanSummary,
	}, notReady: notReadyChecks, notReadyRuns: 1}
	f.install(env)

	var atGate workflows.CutoverStatus
	var override, recheck *updateOutcome
	at(env, time.Minute, func() {
		atGate = queryStatus(t, env)
		override = sendUpdate(t, env, workflows.OpApprove, decision("alice", "we know", true))
	})
	at(env, 2*time.Minute, func() {
		recheck = sendUpdate(t, env, workflows.OpRecheck, decision("bob", "granted, licensed, exempted", false))
	})
	at(env, 3*time.Minute, func() { env.SignalWorkflow(workflows.OpApprove, decision("alice", "", false)) })

	env.ExecuteWorkflow(workflows.CutoverWorkflowName, testRequest())

	// Run 1: the checks, then the analysis of their findings alone.
	require.Equal(t, workflows.PhaseAwaitingPreflight, atGate.Phase)
	require.Equal(t, []string{"sso:CreateAccountAssignment", "Entra ID P1 licence", "identifier URI policy"}, atGate.Preflight.NotReady)
	require.Empty(t, f.analysisInputs[0].AWSInventory.Key, "no inventory was taken")
	require.Equal(t, notReadyChecks, f.analysisInputs[0].Readiness)
	require.Contains(t, atGate.Gate.Instructions, "stopped before the inventories")
	require.Contains(t, atGate.Gate.Instructions, "sso:CreateAccountAssignment, Entra ID P1 licence, identifier URI policy")
	require.ErrorContains(t, override.rejected, "this cannot be overridden")

	// Run 2: ready, so the inventories and the analysis ran, and a plain
	// approval goes through.
	require.True(t, recheck.completed)
	require.Empty(t, recheck.status.Preflight.NotReady)
	require.Equal(t, [3]int{1, 1, 2}, f.runs())
	require.Empty(t, f.analysisInputs[1].Readiness)
	res := passedPreflight(t, env)
	require.Equal(t, workflows.OpApprove, res.Decisions[len(res.Decisions)-1].Action)
}
