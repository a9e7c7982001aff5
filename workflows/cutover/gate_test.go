package cutover

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/gate"
	"github.com/platformguide/ssocutover/workflows/workflowtest"
)

func TestApproveWithBlockersNeedsAnOverrideWithAReason(t *testing.T) {
	env := newEnv(t)
	(&fakePreflight{summaries: []preflight.Summary{blockedSummary}}).install(env)

	var plain, noReason, override *updateOutcome
	at(env, 1*time.Minute, func() { plain = sendUpdate(t, env, workflows.OpApprove, decision("alice", "", false)) })
	at(env, 2*time.Minute, func() { env.SignalWorkflow(workflows.OpApprove, decision("alice", "looks fine", false)) })
	at(env, 3*time.Minute, func() { noReason = sendUpdate(t, env, workflows.OpApprove, decision("alice", "", true)) })
	at(env, 4*time.Minute, func() {
		st := queryStatus(t, env)
		require.Equal(t, workflows.PhaseAwaitingPreflight, st.Phase)
		require.NotNil(t, st.Gate, "the gate stays open after refused approvals")
		require.Equal(t, workflows.GatePreflight, st.Gate.Name)
		require.Empty(t, st.Decisions)
		// The refused signal is recorded; the refused updates are not (their
		// senders got the error, and they never entered history).
		require.Equal(t, 1, st.RefusedTotal)
		require.Len(t, st.Refused, 1)
		require.Equal(t, workflows.OpApprove, st.Refused[0].Operation)
		require.Equal(t, workflows.GatePreflight, st.Refused[0].Gate)
		require.Equal(t, "alice", st.Refused[0].By)
		require.Contains(t, st.Refused[0].Error, "found 3 blockers")
	})
	at(env, 5*time.Minute, func() {
		override = sendUpdate(t, env, workflows.OpApprove, decision("alice", "the duplicate e-mails belong to test users; CHG-42", true))
	})

	env.ExecuteWorkflow(workflows.CutoverWorkflowName, testRequest())

	require.False(t, plain.accepted)
	require.ErrorContains(t, plain.rejected, "approve refused: the preflight (run 1) found 3 blockers")
	require.ErrorContains(t, plain.rejected, `"override": true`)
	require.False(t, noReason.accepted)
	require.ErrorContains(t, noReason.rejected, `"override" needs a "reason"`)

	require.True(t, override.accepted)
	require.True(t, override.completed)
	require.NoError(t, override.err)
	require.Equal(t, workflows.PhaseAwaitingSPMeta, override.status.Phase, "the update answers once the approval is carried out: the next gate is open")

	res := passedPreflight(t, env)
	require.Len(t, res.Decisions, 1)
	require.True(t, res.Decisions[0].Override)
	require.Equal(t, "the duplicate e-mails belong to test users; CHG-42", res.Decisions[0].Reason)
	require.Equal(t, blockedSummary, res.Preflight.Summary)
}

func TestOverrideWithoutBlockersIsAcceptedAndRecorded(t *testing.T) {
	env := newEnv(t)
	(&fakePreflight{summaries: []preflight.Summary{cleanSummary}}).install(env)
	at(env, time.Minute, func() { env.SignalWorkflow(workflows.OpApprove, decision("alice", "belt and braces", true)) })

	env.ExecuteWorkflow(workflows.CutoverWorkflowName, testRequest())

	res := passedPreflight(t, env)
	require.Len(t, res.Decisions, 1)
	require.True(t, res.Decisions[0].Override)
	require.Equal(t, "belt and braces", res.Decisions[0].Reason)
}

func TestRejectNeedsAReason(t *testing.T) {
	env := newEnv(t)
	(&fakePreflight{summaries: []preflight.Summary{blockedSummary}}).install(env)

	var noReason, withReason *updateOutcome
	at(env, 1*time.Minute, func() { env.SignalWorkflow(workflows.OpReject, decision("bob", "", false)) })
	at(env, 2*time.Minute, func() { noReason = sendUpdate(t, env, workflows.OpReject, decision("bob", "  ", false)) })
	at(env, 3*time.Minute, func() {
		st := queryStatus(t, env)
		require.NotNil(t, st.Gate)
		require.Len(t, st.Refused, 1)
		require.Contains(t, st.Refused[0].Error, `reject needs a "reason"`)
	})
	at(env, 4*time.Minute, func() {
		withReason = sendUpdate(t, env, workflows.OpReject, decision("bob", "Entra groups are not owned yet", false))
	})

	env.ExecuteWorkflow(workflows.CutoverWorkflowName, testRequest())

	require.ErrorContains(t, noReason.rejected, `reject needs a "reason"`)
	require.True(t, withReason.completed)
	require.NoError(t, withReason.err)
	require.Equal(t, workflows.PhaseRejected, withReason.status.Phase)

	res := result(t, env)
	require.Equal(t, workflows.PhaseRejected, res.Outcome)
	require.Contains(t, res.Message, "rejected at gate preflight by bob: Entra groups are not owned yet")
	require.Contains(t, res.Message, "Nothing was changed in AWS or Entra")
	require.Len(t, res.Decisions, 1)
	require.Equal(t, workflows.OpReject, res.Decisions[0].Action)
}

func TestRejectBySignal(t *testing.T) {
	env := newEnv(t)
	(&fakePreflight{summaries: []preflight.Summary{cleanSummary}}).install(env)
	at(env, time.Minute, func() { env.SignalWorkflow(workflows.OpReject, decision("bob", "change freeze", false)) })

	env.ExecuteWorkflow(workflows.CutoverWorkflowName, testRequest())

	res := result(t, env)
	require.Equal(t, workflows.PhaseRejected, res.Outcome)
	require.Contains(t, res.Message, "change freeze")
}

// Every bad input is refused the same way as a signal (recorded, ignored)
// and as an update (rejected by the validator), and leaves the gate open.
func TestInvalidDecisionsAreRefused(t *testing.T) {
	cases := []struct {
		name  string
		op    string
		input any
		want  string
	}{
		{"wrong gate", workflows.OpApprove, workflows.GateDecision{Gate: "scim-credentials", By: "alice"}, `gate "scim-credentials" is not open; the open gate is "preflight"`},
		{"no gate", workflows.OpApprove, workflows.GateDecision{By: "alice"}, `gate "" is not open`},
		{"missing by", workflows.OpApprove, workflows.GateDecision{Gate: workflows.GatePreflight}, `"by" is required`},
		{"blank by", workflows.OpRecheck, workflows.GateDecision{Gate: workflows.GatePreflight, By: " \t"}, `"by" is required`},
		{"by too long", workflows.OpRecheck, workflows.GateDecision{Gate: workflows.GatePreflight, By: strings.Repeat("x", workflows.MaxByLength+1)}, `"by" is longer than 200 characters`},
		{"override on recheck", workflows.OpRecheck, workflows.GateDecision{Gate: workflows.GatePreflight, By: "alice", Reason: "r", Override: true}, `"override" applies to approve only`},
		{"misspelt field", workflows.OpApprove, map[string]any{"gate": workflows.GatePreflight, "by": "alice", "reason": "r", "overide": true}, `unknown field "overide"`},
		{"not an object", workflows.OpApprove, "approve", "input is not a gate decision"},
		{"no input", workflows.OpApprove, nil, "no input"},
		{"a list", workflows.OpReject, []workflows.GateDecision{decision("bob", "r", false)}, "input is not a gate decision"},
	}

	env := newEnv(t)
	(&fakePreflight{summaries: []preflight.Summary{cleanSummary}}).install(env)
	updates := make([]*updateOutcome, len(cases))
	for i, c := range cases {
		at(env, time.Duration(i+1)*time.Minute, func() {
			env.SignalWorkflow(c.op, c.input)
			updates[i] = sendUpdate(t, env, c.op, c.input)
		})
	}
	var unknownOperation *updateOutcome
	at(env, 30*time.Minute, func() { unknownOperation = sendUpdate(t, env, "aprove", decision("alice", "", false)) })
	var atGate workflows.CutoverStatus
	at(env, 31*time.Minute, func() { atGate = queryStatus(t, env) })
	at(env, 32*time.Minute, func() { env.SignalWorkflow(workflows.OpApprove, decision("alice", "", false)) })

	env.ExecuteWorkflow(workflows.CutoverWorkflowName, testRequest())

	for i, c := range cases {
		require.False(t, updates[i].accepted, c.name)
		require.ErrorContains(t, updates[i].rejected, c.op+" refused", c.name)
		require.ErrorContains(t, updates[i].rejected, c.want, c.name)
	}
	require.False(t, unknownOperation.accepted)
	require.Error(t, unknownOperation.rejected)

	require.Equal(t, workflows.PhaseAwaitingPreflight, atGate.Phase)
	require.NotNil(t, atGate.Gate)
	require.Empty(t, atGate.Decisions)
	require.Equal(t, len(cases), atGate.RefusedTotal)
	require.Len(t, atGate.Refused, len(cases))
	for i, c := range cases {
		require.Equal(t, c.op, atGate.Refused[i].Operation, c.name)
		require.Contains(t, atGate.Refused[i].Error, c.want, c.name)
	}
	require.Equal(t, "scim-credentials", atGate.Refused[0].Gate)
	require.Equal(t, "alice", atGate.Refused[0].By)
	require.Len(t, atGate.Refused[4].By, workflows.MaxByLength+len("..."), "a long name is clipped in status")

	res := passedPreflight(t, env)
	require.Len(t, res.Decisions, 1)
}

func TestStatusKeepsOnlyTheNewestRefusedSignals(t *testing.T) {
	env := newEnv(t)
	(&fakePreflight{summaries: []preflight.Summary{cleanSummary}}).install(env)
	const sent = workflows.MaxRefusedShown + 5
	at(env, time.Minute, func() {
		for i := range sent {
			env.SignalWorkflow(workflows.OpApprove, workflows.GateDecision{Gate: "elsewhere", By: fmt.Sprintf("script-%d", i)})
		}
	})
	var st workflows.CutoverStatus
	at(env, 2*time.Minute, func() { st = queryStatus(t, env) })
	at(env, 3*time.Minute, func() { env.SignalWorkflow(workflows.OpApprove, decision("alice", "", false)) })

	env.ExecuteWorkflow(workflows.CutoverWorkflowName, testRequest())

	require.Equal(t, sent, st.RefusedTotal)
	require.Len(t, st.Refused, workflows.MaxRefusedShown)
	require.Equal(t, "script-5", st.Refused[0].By)
	require.Equal(t, fmt.Sprintf("script-%d", sent-1), st.Refused[workflows.MaxRefusedShown-1].By)
	passedPreflight(t, env)
}

// Two decisions that reach the workflow in the same workflow task: the
// most cautious is taken, and the other is refused because the gate closed.
func TestOfTwoDecisionsSentTogetherTheMostCautiousIsTaken(t *testing.T) {
	env := newEnv(t)
	(&fakePreflight{summaries: []preflight.Summary{cleanSummary}}).install(env)
	at(env, time.Minute, func() {
		env.SignalWorkflowSkippingWorkflowTask(workflows.OpApprove, decision("alice", "", false))
		env.SignalWorkflow(workflows.OpReject, decision("bob", "not today", false))
	})

	env.ExecuteWorkflow(workflows.CutoverWorkflowName, testRequest())

	res := result(t, env)
	require.Equal(t, workflows.PhaseRejected, res.Outcome)
	require.Len(t, res.Decisions, 1)
	require.Equal(t, "bob", res.Decisions[0].By)

	st := queryStatus(t, env)
	require.Len(t, st.Decisions, 1)
	require.Len(t, st.Refused, 1)
	require.Equal(t, workflows.OpApprove, st.Refused[0].Operation)
	require.Contains(t, st.Refused[0].Error, "approve refused: no gate is open now (reject at gate preflight by bob accepted")
}

func TestStatusAtTheGateSaysWhatToDo(t *testing.T) {
	env := newEnv(t)
	(&fakePreflight{summaries: []preflight.Summary{blockedSummary}, delay: 10 * time.Minute}).install(env)

	var during, atGate workflows.CutoverStatus
	var details string
	at(env, 5*time.Minute, func() { during = queryStatus(t, env) })
	at(env, 20*time.Minute, func() {
		atGate = queryStatus(t, env)
		details = workflowtest.CurrentDetails(t, env)
	})
	// Send exactly the signal input the instructions print.
	at(env, 21*time.Minute, func() {
		const marker = "--name approve --codec-endpoint CODEC_URL --input '"
		var input string
		for _, command := range gate.CommandsIn(queryStatus(t, env).Gate.Instructions) {
			if _, rest, ok := strings.Cut(command, marker); ok {
				input = strings.TrimSuffix(rest, "'")
			}
		}
		require.NotEmpty(t, input, "the instructions print the signal command")
		env.SignalWorkflow(workflows.OpApprove, json.RawMessage(input))
	})

	env.ExecuteWorkflow(workflows.CutoverWorkflowName, testRequest())

	require.Equal(t, testWorkflowID, during.WorkflowID)
	require.Equal(t, workflows.PhasePreflight, during.Phase)
	require.Contains(t, during.Step, "preflight run 1: inventory of Identity Center d-1234567890")
	require.Nil(t, during.Gate)
	require.Nil(t, during.Preflight)

	require.Equal(t, testRequest(), atGate.Request)
	require.Equal(t, workflows.PhaseAwaitingPreflight, atGate.Phase)
	require.Contains(t, atGate.Step, "waiting at gate preflight")
	require.NotNil(t, atGate.Gate)
	require.Equal(t, workflows.GatePreflight, atGate.Gate.Name)
	require.Equal(t, []string{workflows.OpApprove, workflows.OpReject, workflows.OpRecheck}, atGate.Gate.Operations)
	require.Equal(t, 1, atGate.Preflight.Run)
	require.Equal(t, blockedSummary, atGate.Preflight.Summary)
	require.Equal(t, "arn:aws:sso:::instance/ssoins-1234567890abcdef", atGate.Preflight.InstanceARN)
	require.Contains(t, atGate.Gate.Instructions, "found 3 blockers and 1 warning")
	for _, want := range []string{
		"starter report --workflow-id cutover-d-1234567890",
		"starter recheck --workflow-id cutover-d-1234567890 --gate preflight --by NAME",
		`starter approve --workflow-id cutover-d-1234567890 --gate preflight --by NAME --override --reason "WHY"`,
		`starter reject --workflow-id cutover-d-1234567890 --gate preflight --by NAME --reason "WHY"`,
		`temporal workflow signal --workflow-id cutover-d-1234567890 --name approve --codec-endpoint CODEC_URL --input '{"gate":"preflight","by":"NAME","reason":"WHY","override":true}'`,
	} {
		// Each command whole, in a code block, as it must be typed.
		require.Contains(t, gate.CommandsIn(atGate.Gate.Instructions), want)
	}

	// The UI shows the same: what to do, and the findings table.
	require.Contains(t, details, "**Phase:** awaiting-preflight-approval")
	require.Contains(t, details, "### Waiting for you at gate `preflight`")
	require.Contains(t, details, atGate.Gate.Instructions)
	require.Contains(t, details, "| `missing-group` | blocker | 1 |")
	require.Contains(t, details, "| `duplicate-email` | blocker | 2 |")
	require.Contains(t, details, "3 blockers, 1 warning")

	res := passedPreflight(t, env) // the printed signal command approved
	require.Equal(t, "NAME", res.Decisions[0].By)
}

func TestInstructionsWithoutBlockersOfferAPlainApproval(t *testing.T) {
	text := preflightInstructions(testWorkflowID, workflows.PreflightResult{Run: 2, Summary: cleanSummary})
	require.Contains(t, text, "The preflight (run 2) checked 3 groups, 10 users and 5 account assignments and found 0 blockers and 1 warning.")
	require.Contains(t, text, `starter approve --workflow-id cutover-d-1234567890 --gate preflight --by NAME --reason "WHY"`)
	require.NotContains(t, text, "--override")
	require.Contains(t, text, `--input '{"gate":"preflight","by":"NAME","reason":"WHY"}'`)
}
