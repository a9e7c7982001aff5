package e2e

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/leakscan"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/world"
	"github.com/platformguide/ssocutover/workflows"
)

// A whole cutover with known secrets (the SCIM token, the break-glass
// password): neither shows, in any form, in the history (as stored, and
// decoded by the codec server), the worker's log, the starter's output or
// the status query's answer.
func TestSecretsNeverLeak(t *testing.T) {
	e := startEnv(t, world.Sample(), sandbox.Faults{})
	codecURL := e.startCodecServer(t)
	id := e.startAndApprove(t, e.request(t))
	e.passSPMetadataGate(t, id)
	tokenFile := e.passSCIMGate(t, id)
	e.waitForGate(t, id, workflows.GateConfirmSignIn)
	e.starter(t, "approve", "--workflow-id", id, "--gate", workflows.GateConfirmSignIn, "--by", "e2e")
	st := e.waitForEnd(t, id)
	require.Equal(t, workflows.PhaseCompleted, st.Phase)
	e.starter(t, "status", "--workflow-id", id)
	e.starter(t, "status", "--workflow-id", id, "--json")

	token, err := os.ReadFile(tokenFile)
	require.NoError(t, err)
	secrets := map[string]string{
		"the SCIM token":           strings.TrimSpace(string(token)),
		"the break-glass password": e.secretValue(t, st.Resources.BreakGlass.Password.ARN),
	}
	places := e.placesToSearch(t, id, codecURL)
	places["the starter's output"] = e.starterOutput.String()
	require.Empty(t, leakscan.Find(places, secrets))
}

// The same under injected faults (throttling and server errors on AWS and
// Graph, which the SDKs retry), with the chat webhook on: no secret in any
// form in history, logs, outputs or the webhook's messages.
func TestSecretsNeverLeakUnderFaults(t *testing.T) {
	hook := newWebhookRecorder(t)
	e := startEnv(t, world.Sample(), sandbox.Faults{ThrottleRate: 0.1, ServerErrorRate: 0.05, Seed: 15}, "SSOCUTOVER_WEBHOOK_URL="+hook.url())
	codecURL := e.startCodecServer(t)
	id := e.startAndApprove(t, e.request(t))
	e.passSPMetadataGate(t, id)
	tokenFile := e.passSCIMGateTrying(t, id, 5)
	e.waitForGate(t, id, workflows.GateConfirmSignIn)
	e.starter(t, "approve", "--workflow-id", id, "--gate", workflows.GateConfirmSignIn, "--by", "e2e")
	st := e.waitForEnd(t, id)
	require.Equal(t, workflows.PhaseCompleted, st.Phase)
	hook.requireGates(t, id, workflows.Gates...)

	token, err := os.ReadFile(tokenFile)
	require.NoError(t, err)
	places := e.placesToSearch(t, id, codecURL)
	places["the starter's output"] = e.starterOutput.String()
	places["the webhook's messages"] = hook.all()
	require.Empty(t, leakscan.Find(places, map[string]string{
		"the SCIM token":           strings.TrimSpace(string(token)),
		"the break-glass password": e.secretValue(t, st.Resources.BreakGlass.Password.ARN),
		"the webhook URL's secret": webhookSecretPath,
	}))
}

// A secret put into a signal on purpose is found: the search above can fail.
func TestASecretSentInASignalIsFound(t *testing.T) {
	e := startEnv(t, world.Sample(), sandbox.Faults{})
	codecURL := e.startCodecServer(t)
	id := workflows.CutoverWorkflowID(e.world.AWS.IdentityStoreID)
	e.starter(t, "start", "-f", e.request(t))
	e.waitForGate(t, id, workflows.GatePreflight)

	secret := "leaked-on-purpose-" + strings.Repeat("7f3a", 8)
	e.temporal(t, "workflow", "signal", "--workflow-id", id, "--name", workflows.OpReject,
		"--input", `{"gate":"preflight","by":"careless","reason":"`+secret+`"}`)
	// The worker refuses the plain JSON (the gate stays open), but the
	// server stored it as sent.
	st := e.waitFor(t, id, time.Minute, func(s statusJSON) bool { return len(s.Refused) > 0 })
	require.Contains(t, st.Refused[0].Error, "sent without encryption")
	require.Equal(t, workflows.GatePreflight, st.Gate.Name)

	leaks := strings.Join(leakscan.Find(e.placesToSearch(t, id, codecURL), map[string]string{"the secret": secret}), "\n")
	require.Contains(t, leaks, "in the decoded history", "found in the signal's payload itself")
	// The Temporal CLI sent the signal without the codec, so its payload
	// is stored as plain JSON: the scanner finds it in base64, at the
	// offset the reason has inside the JSON.
	require.Contains(t, leaks, "the secret (base64 of JSON, offset 0) in the history as stored")
	require.NotContains(t, leaks, "in the status query", "the refused decision's reason is not repeated")

	// Sent through the codec server, the same decision is taken, and the
	// reason the status repeats is found there.
	e.temporal(t, "workflow", "signal", "--workflow-id", id, "--name", workflows.OpReject, "--codec-endpoint", codecURL,
		"--input", `{"gate":"preflight","by":"careless","reason":"`+secret+`"}`)
	e.waitForEnd(t, id)
	leaks = strings.Join(leakscan.Find(e.placesToSearch(t, id, codecURL), map[string]string{"the secret": secret}), "\n")
	require.Contains(t, leaks, "the secret (plain) in the status query", "the reason the status repeats")
}

// placesToSearch exports what a person or a log collector can read of a
// cutover: its history as stored and as the codec server decodes it, the
// status query's answer, and the worker's log.
func (e *env) placesToSearch(t *testing.T, id, codecURL string) map[string]string {
	return map[string]string{
		"the history as stored": e.temporal(t, "workflow", "show", "--workflow-id", id, "--output", "json"),
		// The CLI prints a payload's data in base64, so each is decoded.
		"the decoded history": withPayloadsDecoded(t, e.temporal(t, "workflow", "show", "--workflow-id", id, "--output", "json", "--codec-endpoint", codecURL)),
		"the status query":    e.temporal(t, "workflow", "query", "--workflow-id", id, "--type", workflows.QueryStatus, "--codec-endpoint", codecURL),
		"the worker's log":    e.workerLog.String(),
		"the server's log":    e.serverLog.String(),
	}
}
