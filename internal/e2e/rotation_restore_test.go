package e2e

import (
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
	"github.com/platformguide/ssocutover/workflows"
)

// A new token that stops working once swapped in (the person deleted it
// in the console too early): the rotation gives the job its old token back,
// restarts it, and asks for another; the second one is rotated in. The
// history is kept for the replay tests.
func TestARotationPutsTheOldTokenBackWhenTheNewOneFails(t *testing.T) {
	// Each start of the job waits 3 seconds before its first cycle: the
	// window in which the new token is deleted.
	e := startEnvWith(t, world.Sample(), sandbox.Options{Graph: sandbox.GraphOptions{FirstCycleDelay: 3 * time.Second}})
	store := e.world.AWS.IdentityStoreID
	id := e.startAndApprove(t, e.requestWith(t, "verifyInterval: 2s\nverifyDeadline: 2m\nscheduleTokenRotation: true\n"))
	e.passSPMetadataGate(t, id)
	oldToken := e.passSCIMGate(t, id)
	e.waitForGate(t, id, workflows.GateConfirmSignIn)
	e.starter(t, "approve", "--workflow-id", id, "--gate", workflows.GateConfirmSignIn, "--by", "e2e-operator")
	st := e.waitForEnd(t, id)
	require.Equal(t, workflows.PhaseCompleted, st.Phase, st.Step)
	spID := st.Resources.App.ServicePrincipalID

	// A warning window longer than the token's life makes the rotation due
	// now, with the old token still good.
	e.starter(t, "rotation", "schedule", "--identity-store", store, "--warning-window", "9000h", "--health-interval", "2s", "--health-deadline", "1m")
	out := e.starter(t, "rotation", "run", "--identity-store", store)
	runID := regexp.MustCompile(`Started the SCIM token rotation run (\S+)\.`).FindStringSubmatch(out)[1]
	e.waitForRotation(t, runID, func(s rotationJSON) bool { return s.Gate != nil && s.Gate.Name == workflows.GateNewSCIMToken })

	// The first new token: submitted, swapped in, then deleted before the
	// job's first cycle on it.
	badToken := filepath.Join(t.TempDir(), "bad-token")
	e.console(t, "create-token", "--token-file", badToken)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	submit := exec.CommandContext(ctx, filepath.Join(binDir, "starter"), "submit-scim", "--workflow-id", runID, "--token-file", badToken, "--by", "e2e-operator")
	submit.Env = e.environ()
	require.NoError(t, submit.Start())
	bad := sandbox.SecretTokenFingerprint(readFile(t, badToken))
	require.Eventually(t, func() bool { return e.sandbox.SavedProvisioningSecrets(spID)["SecretToken"] == bad },
		time.Minute, 10*time.Millisecond, "the new token is swapped into the job")
	tokens := e.sandbox.ListSCIMTokens() // oldest first
	require.NoError(t, e.sandbox.DeleteSCIMToken(tokens[len(tokens)-1].ID))
	_ = submit.Wait() // the submission ends either way; the status says what happened

	// The job has its old token back and the gate asks for another.
	rst := e.waitForRotation(t, runID, func(s rotationJSON) bool {
		return s.Gate != nil && s.Gate.Name == workflows.GateNewSCIMToken && len(s.Decisions) > 0
	})
	require.Equal(t, sandbox.SecretTokenFingerprint(readFile(t, oldToken)), e.sandbox.SavedProvisioningSecrets(spID)["SecretToken"],
		"the job runs on its old token again")
	require.Contains(t, strings.ToLower(rst.Gate.Instructions+rst.Step), "old token")

	goodToken := filepath.Join(t.TempDir(), "good-token")
	e.console(t, "create-token", "--token-file", goodToken)
	e.starter(t, "submit-scim", "--workflow-id", runID, "--token-file", goodToken, "--by", "e2e-operator")
	e.waitForRotation(t, runID, func(s rotationJSON) bool { return s.Gate != nil && s.Gate.Name == workflows.GateDeleteOldToken })
	tokens = e.sandbox.ListSCIMTokens()
	require.Len(t, tokens, 2, "the old token and the good one")
	require.NoError(t, e.sandbox.DeleteSCIMToken(tokens[0].ID))
	e.starter(t, "approve", "--workflow-id", runID, "--gate", workflows.GateDeleteOldToken, "--by", "e2e-operator")
	rst = e.waitForRotation(t, runID, func(s rotationJSON) bool { return !strings.EqualFold(s.Execution.Status, "running") })
	require.Equal(t, workflows.RotationPhaseRotated, rst.Phase, rst.Step)
	e.recordHistory(t, runID, "rotation-old-token-restored.json")

	// None of the three tokens shows anywhere on this path.
	places := e.placesToSearch(t, runID, e.startCodecServer(t))
	places["the starter's output"] = e.starterOutput.String()
	require.Empty(t, leakscan.Find(places, map[string]string{
		"the old token": readFile(t, oldToken), "the failed token": readFile(t, badToken), "the new token": readFile(t, goodToken),
	}))
}
