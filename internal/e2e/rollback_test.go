package e2e

import (
	"cmp"
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/leakscan"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/world"
	"github.com/platformguide/ssocutover/starter/cli"
	"github.com/platformguide/ssocutover/workflows"
)

// Rollbacks against a real dev server and the sandbox: the world must end
// as it started, apart from the break-glass user and what the report says
// a person must still do.

func TestRejectAtSCIMCredentialsRollsBack(t *testing.T) {
	e := startEnv(t, world.Sample(), sandbox.Faults{})
	id := e.startAndApprove(t, e.request(t))
	e.passSPMetadataGate(t, id)
	e.waitForGate(t, id, workflows.GateSCIMCredentials)
	idp := filepath.Join(t.TempDir(), "idp.xml")
	e.starter(t, "metadata", "--workflow-id", id, "-o", idp)
	e.console(t, "upload-idp-metadata", "--file", idp)

	e.starter(t, "reject", "--workflow-id", id, "--gate", workflows.GateSCIMCredentials, "--by", "e2e-operator", "--reason", "change window closed")
	// The worker dies in the middle of the rollback; another takes over.
	st := e.waitForGate(t, id, workflows.GateRevertIdentitySource)
	require.Len(t, st.Rollback.Steps, 2, "group assignments and the app undone so far")
	e.crashWorker(t)
	e.revertIdentitySource(t, id)

	st = e.waitForEnd(t, id)
	require.Equal(t, workflows.PhaseRolledBack, st.Phase)
	require.Equal(t, workflows.TriggerReject, st.Rollback.Trigger)
	e.assertBackToTheStart(t, st)
	e.recordHistory(t, id, "cutover-rolled-back.json")

	// Nothing of the break-glass password, in any form, on the way back
	// either (the worker crashed in the middle of it).
	e.requireNoLeak(t, id, st)
}

func TestCancelDuringProvisioningRollsBack(t *testing.T) {
	// Entra's first provisioning cycle never comes, so the cutover is
	// still provisioning when it is cancelled.
	e := startEnvWith(t, world.Sample(), sandbox.Options{Graph: sandbox.GraphOptions{FirstCycleDelay: time.Hour}})
	id := e.startAndApprove(t, e.requestWith(t, "verifyInterval: 2s\nverifyDeadline: 1h\n"))
	e.passSPMetadataGate(t, id)
	e.passSCIMGate(t, id)
	e.waitFor(t, id, time.Minute, func(s statusJSON) bool {
		return s.Phase == workflows.PhaseProvisioning && s.Resources.Provisioning != nil && !s.Resources.Provisioning.StartedAt.IsZero()
	})

	e.temporal(t, "workflow", "cancel", "--workflow-id", id)
	e.waitForGate(t, id, workflows.GateDeleteSCIMTokens)
	for _, token := range e.sandbox.ListSCIMTokens() {
		e.console(t, "delete-token", token.ID)
	}
	e.starter(t, "approve", "--workflow-id", id, "--gate", workflows.GateDeleteSCIMTokens, "--by", "e2e-operator")
	e.revertIdentitySource(t, id)

	st := e.waitForEnd(t, id)
	require.Equal(t, workflows.PhaseRolledBack, st.Phase)
	require.Equal(t, workflows.TriggerCancelled, st.Rollback.Trigger)
	require.Empty(t, e.sandbox.ListSCIMTokens())
	e.assertBackToTheStart(t, st)
}

func TestAPermanentFailureCreatingTheAppRollsBack(t *testing.T) {
	// The worker's Entra app may not instantiate applications.
	e := startEnvWith(t, world.Sample(), sandbox.Options{Graph: sandbox.GraphOptions{
		ForbiddenPaths: []string{"POST /applicationTemplates/*/instantiate"},
	}})
	id := e.startAndApprove(t, e.request(t))
	e.passSPMetadataGate(t, id)

	st := e.waitForGate(t, id, workflows.GateStepFailed)
	require.Contains(t, st.Gate.Instructions, "Authorization_RequestDenied")
	// A retry without fixing the cause fails again and comes back here;
	// the starter answers as soon as it has.
	out := e.starter(t, "retry", "--workflow-id", id, "--gate", workflows.GateStepFailed, "--by", "e2e-operator")
	require.Contains(t, out, workflows.GateStepFailed)
	e.waitForGate(t, id, workflows.GateStepFailed)
	e.temporal(t, "workflow", "signal", "--workflow-id", id, "--name", workflows.OpRollback, "--codec-endpoint", e.startCodecServer(t),
		"--input", `{"gate":"step-failed","by":"e2e-operator","reason":"no permission today"}`)
	e.revertIdentitySource(t, id)

	st = e.waitForEnd(t, id)
	require.Equal(t, workflows.PhaseRolledBack, st.Phase)
	require.Equal(t, workflows.TriggerStepFailed, st.Rollback.Trigger)
	e.assertBackToTheStart(t, st)
	e.recordHistory(t, id, "cutover-step-failed-rolled-back.json")
	e.requireNoLeak(t, id, st)
}

// requireNoLeak checks that the break-glass password shows, in no form,
// in what a person or a log collector can read of the cutover.
func (e *env) requireNoLeak(t *testing.T, id string, st statusJSON) {
	t.Helper()
	places := e.placesToSearch(t, id, e.startCodecServer(t))
	places["the starter's output"] = e.starterOutput.String()
	require.Empty(t, leakscan.Find(places, map[string]string{"the break-glass password": e.secretValue(t, st.Resources.BreakGlass.Password.ARN)}))
}

// startAndApprove starts a cutover of the sample and approves its
// preflight over the sample's blockers.
func (e *env) startAndApprove(t *testing.T, request string) string {
	id := workflows.CutoverWorkflowID(e.world.AWS.IdentityStoreID)
	e.starter(t, "start", "-f", request)
	e.waitForGate(t, id, workflows.GatePreflight)
	e.starter(t, "approve", "--workflow-id", id, "--gate", workflows.GatePreflight, "--by", "e2e-approver", "--override", "--reason", "e2e")
	return id
}

func (e *env) passSPMetadataGate(t *testing.T, id string) {
	e.waitForGate(t, id, workflows.GateAWSSPMetadata)
	sp := filepath.Join(t.TempDir(), "sp.xml")
	e.console(t, "switch-identity-source", "-o", sp)
	e.starter(t, "submit-sp-metadata", "--workflow-id", id, "--file", sp, "--by", "e2e-operator")
}

// passSCIMGate plays the person at gate scim-credentials and returns the
// file that holds the SCIM token.
func (e *env) passSCIMGate(t *testing.T, id string) string {
	return e.passSCIMGateTrying(t, id, 1)
}

// passSCIMGateTrying is passSCIMGate for a person who submits again, up
// to attempts times, when the submission is refused (under injected
// faults Entra's credential test can meet a throttled SCIM endpoint, and
// the gate reopens saying so).
func (e *env) passSCIMGateTrying(t *testing.T, id string, attempts int) string {
	e.waitForGate(t, id, workflows.GateSCIMCredentials)
	dir := t.TempDir()
	idp, token := filepath.Join(dir, "idp.xml"), filepath.Join(dir, "scim-token")
	e.starter(t, "metadata", "--workflow-id", id, "-o", idp)
	e.console(t, "upload-idp-metadata", "--file", idp)
	out := e.console(t, "enable-provisioning", "--token-file", token)
	endpoint := regexp.MustCompile(`SCIM endpoint: (\S+)`).FindStringSubmatch(out)[1]
	e.starterTrying(t, attempts, func() { e.waitForGate(t, id, workflows.GateSCIMCredentials) },
		"submit-scim", "--workflow-id", id, "--endpoint", endpoint, "--token-file", token, "--by", "e2e-operator")
	return token
}

// starterTrying runs the starter with args up to attempts times while its
// submission is refused ("was not taken"), calling reopened before each
// new attempt to wait for the gate to open again. A submission still being
// carried out when the starter stops waiting (a worker died in the middle
// of it) is not sent again: the gates the caller waits for next tell.
func (e *env) starterTrying(t *testing.T, attempts int, reopened func(), args ...string) {
	for range attempts - 1 {
		// Longer than the starter waits for a decision to be carried out.
		ctx, cancel := context.WithTimeout(context.Background(), cli.DecisionWait+2*time.Minute)
		cmd := exec.CommandContext(ctx, filepath.Join(binDir, "starter"), args...)
		cmd.Env = e.environ()
		out, err := cmd.CombinedOutput()
		cancel()
		e.starterOutput.Write(out)
		if err == nil || strings.Contains(string(out), cli.ErrStillCarryingOut.Error()) {
			return
		}
		require.Contains(t, string(out), "was not taken", "only a refused submission is sent again")
		reopened()
	}
	e.starter(t, args...)
}

// revertIdentitySource plays the person at the rollback's console gate.
func (e *env) revertIdentitySource(t *testing.T, id string) {
	e.waitForGate(t, id, workflows.GateRevertIdentitySource)
	e.console(t, "revert")
	e.starter(t, "approve", "--workflow-id", id, "--gate", workflows.GateRevertIdentitySource, "--by", "e2e-operator")
}

func (e *env) waitForGate(t *testing.T, id, gate string) statusJSON {
	return e.waitFor(t, id, cmp.Or(e.gateWait, 2*time.Minute), func(s statusJSON) bool { return s.Gate != nil && s.Gate.Name == gate })
}

func (e *env) waitForEnd(t *testing.T, id string) statusJSON {
	return e.waitFor(t, id, 2*time.Minute, func(s statusJSON) bool { return !strings.EqualFold(s.Execution.Status, "running") })
}

// assertBackToTheStart checks the sandbox against the world it started from.
func (e *env) assertBackToTheStart(t *testing.T, st statusJSON) {
	t.Helper()
	assertWorldRestored(t, e.sandbox, e.world, st.CutoverStatus)
}
