package e2e

import (
	"cmp"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/leakscan"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/world"
	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/gate"
)

// A cutover that schedules its token's rotation, then a year and a day:
// the token expires, Entra's job goes to quarantine, a rotation run (started
// on demand from the schedule) asks for a new token, swaps it in, restarts
// the job, and has the old token deleted. Every gate of both workflows is
// announced on a chat webhook served here.
func TestTokenRotationEndToEnd(t *testing.T) {
	hook := newWebhookRecorder(t)
	e := startEnv(t, world.Sample(), sandbox.Faults{}, "SSOCUTOVER_WEBHOOK_URL="+hook.url())
	store := e.world.AWS.IdentityStoreID

	id := e.startAndApprove(t, e.requestWith(t, "verifyInterval: 2s\nverifyDeadline: 2m\nscheduleTokenRotation: true\n"))
	e.passSPMetadataGate(t, id)
	oldToken := e.passSCIMGate(t, id)
	e.waitForGate(t, id, workflows.GateConfirmSignIn)
	e.starter(t, "approve", "--workflow-id", id, "--gate", workflows.GateConfirmSignIn, "--by", "e2e-operator")
	st := e.waitForEnd(t, id)
	require.Equal(t, workflows.PhaseCompleted, st.Phase, st.Step)
	require.Equal(t, workflows.RotationScheduleID(store), st.Resources.RotationSchedule, "the completed cutover scheduled the rotation")
	require.Contains(t, st.Step, "checks the SCIM token daily")
	hook.requireGates(t, id, workflows.Gates...)

	// The sandbox's job runs a cycle every 2 seconds, not every 40 minutes.
	out := e.starter(t, "rotation", "schedule", "--identity-store", store, "--health-interval", "2s", "--health-deadline", "1m")
	require.Contains(t, out, "Updated the Temporal Schedule "+workflows.RotationScheduleID(store))
	out = e.starter(t, "rotation", "status", "--identity-store", store)
	require.Contains(t, out, "every 24h0m0s")
	require.Contains(t, out, st.Resources.Provisioning.JobID)

	// A year and a day pass: the token expires and the job stops on it.
	spID, jobID := st.Resources.App.ServicePrincipalID, st.Resources.Provisioning.JobID
	out = e.console(t, "advance-clock", "--by", "8784h")
	require.Contains(t, out, "The sandbox's clock now reads")
	require.Eventually(t, func() bool {
		health, ok := e.sandbox.ProvisioningJobHealth(spID, jobID)
		return ok && health.Quarantined
	}, time.Minute, 200*time.Millisecond, "the job goes to quarantine once its token has expired")

	out = e.starter(t, "rotation", "run", "--identity-store", store)
	run := regexp.MustCompile(`Started the SCIM token rotation run (\S+)\.`).FindStringSubmatch(out)
	require.NotNil(t, run, out)
	runID := run[1]
	rst := e.waitForRotation(t, runID, func(s rotationJSON) bool { return s.Gate != nil })
	require.Equal(t, workflows.GateNewSCIMToken, rst.Gate.Name)
	require.Contains(t, rst.Due, "quarantine")
	require.Contains(t, gate.CommandsIn(rst.Gate.Instructions), "starter submit-scim --workflow-id "+runID+" --token-file FILE --by NAME")

	// The person creates a token in the console (the expired one is the
	// only other) and submits it; the starter waits for the healthy cycle.
	newToken := filepath.Join(t.TempDir(), "new-token")
	e.console(t, "create-token", "--token-file", newToken)
	submitted := time.Now()
	out = e.starter(t, "submit-scim", "--workflow-id", runID, "--token-file", newToken, "--by", "e2e-operator")
	require.Contains(t, out, "pending version")
	require.Contains(t, out, "the job runs on the new token")

	rst = e.waitForRotation(t, runID, func(s rotationJSON) bool { return s.Gate != nil && s.Gate.Name == workflows.GateDeleteOldToken })
	tokens := e.sandbox.ListSCIMTokens()
	require.Len(t, tokens, 2)
	e.console(t, "delete-token", tokens[0].ID) // the oldest: the expired one
	e.starter(t, "approve", "--workflow-id", runID, "--gate", workflows.GateDeleteOldToken, "--by", "e2e-operator")
	rst = e.waitForRotation(t, runID, func(s rotationJSON) bool { return !strings.EqualFold(s.Execution.Status, "running") })
	require.Equal(t, workflows.RotationPhaseRotated, rst.Phase, rst.Step)

	// The job runs healthy on the new token (its cycles reach AWS; the
	// sample's broken users stay entry-level errors), with its endpoint
	// kept; only the new token is left; the secret's current version is it.
	require.Eventually(t, func() bool {
		health, _ := e.sandbox.ProvisioningJobHealth(spID, jobID)
		return !health.Quarantined && health.LastCycleState == "EntryLevelErrors" && health.LastCycleEnded.After(submitted)
	}, time.Minute, 200*time.Millisecond)
	saved := e.sandbox.SavedProvisioningSecrets(spID)
	require.Equal(t, sandbox.SecretTokenFingerprint(readFile(t, newToken)), saved["SecretToken"])
	require.Equal(t, st.Resources.SCIM.Endpoint, saved["BaseAddress"])
	require.Len(t, e.sandbox.ListSCIMTokens(), 1)
	require.Equal(t, tokens[1].ID, e.sandbox.ListSCIMTokens()[0].ID)
	require.Equal(t, readFile(t, newToken), e.secretValue(t, st.Resources.SCIM.Token.ARN), "AWSCURRENT is the new token")
	require.NotNil(t, rst.New)
	require.True(t, rst.New.Expires.After(e.sandbox.Now().Add(360*24*time.Hour)), "the new expiry is recorded")

	hook.requireGates(t, runID, workflows.GateNewSCIMToken, workflows.GateDeleteOldToken)
	out = e.starter(t, "rotation", "status", "--identity-store", store)
	require.Contains(t, out, "rotated: The SCIM token was rotated")

	// Neither token, nor the webhook's URL (a credential too), went
	// anywhere but Secrets Manager, Entra and the worker's environment.
	// Histories are searched decrypted and with every payload decoded.
	codecURL := e.startCodecServer(t)
	cutoverHistory := e.temporal(t, "workflow", "show", "--workflow-id", id, "--output", "json", "--codec-endpoint", codecURL)
	history := e.temporal(t, "workflow", "show", "--workflow-id", runID, "--output", "json", "--codec-endpoint", codecURL)
	writeRecordedHistory(t, "cutover-scheduling-rotation.json", cutoverHistory)
	writeRecordedHistory(t, "rotation-rotated.json", history)
	places := map[string]string{
		"rotation history": withPayloadsDecoded(t, history), "cutover history": withPayloadsDecoded(t, cutoverHistory),
		"worker log": e.workerLog.String(), "starter output": e.starterOutput.String(), "webhook messages": hook.all(),
	}
	require.Contains(t, places["rotation history"], st.Resources.SCIM.Token.ARN, "the history is searched decoded")
	require.Empty(t, leakscan.Find(places, map[string]string{
		"old SCIM token": readFile(t, oldToken), "new SCIM token": readFile(t, newToken), "webhook URL path": webhookSecretPath,
		"payload key": e2eCodecKeys[strings.Index(e2eCodecKeys, ":")+1:],
	}))
}

// withPayloadsDecoded is a history (`temporal workflow show --output json`)
// followed by the data of each of its payloads, decoded from base64.
func withPayloadsDecoded(t *testing.T, history string) string {
	var b strings.Builder
	b.WriteString(history)
	for _, p := range historyPayloads(t, history) {
		b.WriteString("\n")
		b.Write(p.data)
	}
	return b.String()
}

// rotationJSON is what `starter status --json` prints for a rotation run.
type rotationJSON struct {
	workflows.ScimTokenRotationStatus
	Execution struct {
		Status string `json:"status"`
	} `json:"execution"`
}

// waitForRotation polls a rotation run's status until ok accepts it.
func (e *env) waitForRotation(t *testing.T, id string, ok func(rotationJSON) bool) rotationJSON {
	t.Helper()
	deadline := time.Now().Add(cmp.Or(e.gateWait, 3*time.Minute))
	for {
		var st rotationJSON
		out := e.starter(t, "status", "--workflow-id", id, "--json")
		require.NoError(t, json.Unmarshal([]byte(out), &st), out)
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			require.FailNow(t, "timed out waiting for the rotation", "last status: %+v\nworker log:\n%s", st, e.workerLog.String())
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return strings.TrimSpace(string(data))
}

// webhookRecorder is a chat incoming webhook: it keeps what was posted.
type webhookRecorder struct {
	server *httptest.Server
	mu     sync.Mutex
	texts  []string
}

// webhookSecretPath is the part of the URL that is its credential.
const webhookSecretPath = "/services/T0E2E/B0E2E/e2e-webhook-secret-path"

func newWebhookRecorder(t *testing.T) *webhookRecorder {
	r := &webhookRecorder{}
	r.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var msg struct {
			Text string `json:"text"`
		}
		if req.URL.Path != webhookSecretPath || req.Method != http.MethodPost || json.Unmarshal(body, &msg) != nil || msg.Text == "" {
			http.Error(w, "not a webhook message", http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.texts = append(r.texts, msg.Text)
		r.mu.Unlock()
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(r.server.Close)
	return r
}

func (r *webhookRecorder) url() string { return r.server.URL + webhookSecretPath }

func (r *webhookRecorder) all() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.texts, "\n")
}

// requireGates checks that each gate of workflow id was announced, with
// the command that answers it.
func (r *webhookRecorder) requireGates(t *testing.T, id string, gates ...string) {
	t.Helper()
	require.Eventually(t, func() bool {
		all := r.all()
		for _, g := range gates {
			if !strings.Contains(all, "waits at gate "+g) {
				return false
			}
		}
		return strings.Contains(all, id) && strings.Contains(all, "starter ")
	}, 30*time.Second, 200*time.Millisecond, "webhook messages:\n%s", r.all())
}
