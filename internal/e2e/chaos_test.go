//go:build chaos

package e2e

// The crash-and-fault campaign (`make chaos`, CHAOS_RUNS runs, 50 by
// default): each run plays a whole cutover of the sample (half of them
// then rotate the SCIM token), or rolls one back from a random gate,
// against the real binaries, while the worker
// is SIGKILLed at random moments and restarted, and the sandbox throttles,
// fails and loses answers to requests it carried out. Each run prints its
// seed; CHAOS_SEED replays one. Afterwards the sandbox's state is checked:
// no second app, job or assignment; nothing of a rolled-back cutover left;
// every snapshot assignment present after a completed one; no secret in
// history, logs or output.

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/leakscan"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/world"
	"github.com/platformguide/ssocutover/workflows"
)

// chaosTotals is the campaign's summary line, also written as JSON.
type chaosTotals struct {
	Runs            int     `json:"runs"`
	Kills           int     `json:"workerKills"`
	KillsInActivity int     `json:"workerKillsInsideAnActivity"`
	Faults          int64   `json:"faults"`
	AppliedThenLost int64   `json:"appliedThenLost"`
	Requests        int64   `json:"requests"`
	Duplicates      int     `json:"duplicates"`
	Orphans         int     `json:"orphans"`
	Missing         int     `json:"missing"`
	Leaks           int     `json:"leaks"`
	Seeds           []int64 `json:"seeds"`
	// Failed lists the runs that stopped on an error (a step that never
	// finished, a wrong end state) before they could be counted.
	Failed []int64 `json:"failedRuns"`

	mu sync.Mutex
}

func (c *chaosTotals) line() string {
	return fmt.Sprintf("chaos: %d runs, %d worker kills (%d inside an activity), %d faults injected (%d applied-then-lost) in %d requests, %d duplicates, %d orphans, %d missing, %d leaks, %d failed runs",
		c.Runs, c.Kills, c.KillsInActivity, c.Faults, c.AppliedThenLost, c.Requests, c.Duplicates, c.Orphans, c.Missing, c.Leaks, len(c.Failed))
}

func TestChaos(t *testing.T) {
	var totals chaosTotals
	// Runs are independent (each has its own dev server, sandbox and
	// worker) and mostly wait for timeouts after a kill, so several run at
	// once (go test -parallel, CHAOS_PARALLEL in the Makefile).
	t.Run("runs", func(t *testing.T) {
		for _, seed := range chaosSeeds(t) {
			totals.add(func(c *chaosTotals) { c.Seeds = append(c.Seeds, seed); c.Runs++ })
			t.Run(fmt.Sprintf("seed-%d", seed), func(t *testing.T) {
				t.Parallel()
				defer func() {
					if t.Failed() {
						totals.add(func(c *chaosTotals) { c.Failed = append(c.Failed, seed) })
					}
				}()
				chaosRun(t, seed, &totals)
			})
		}
	})
	slices.Sort(totals.Seeds)
	line := totals.line()
	fmt.Println(line)
	data, err := json.MarshalIndent(&totals, "", "  ")
	require.NoError(t, err)
	out := os.Getenv("CHAOS_REPORT")
	if out == "" {
		out = filepath.Join(t.TempDir(), "chaos.json")
	}
	require.NoError(t, os.WriteFile(out, data, 0o600))
	require.Zero(t, totals.Duplicates+totals.Orphans+totals.Missing+totals.Leaks+len(totals.Failed), line)
}

// add changes the totals under their lock: runs end in any order.
func (c *chaosTotals) add(change func(*chaosTotals)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	change(c)
}

// chaosSeeds are the runs' seeds: CHAOS_SEED's (one, or several separated
// by commas, to replay them), or CHAOS_RUNS (50 by default) consecutive
// seeds from a random start.
func chaosSeeds(t *testing.T) []int64 {
	var seeds []int64
	if list := os.Getenv("CHAOS_SEED"); list != "" {
		for _, s := range strings.Split(list, ",") {
			seed, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			require.NoError(t, err, "CHAOS_SEED is a seed or seeds separated by commas")
			seeds = append(seeds, seed)
		}
		return seeds
	}
	runs, base := 50, time.Now().UnixNano()%1_000_000
	if n, err := strconv.Atoi(os.Getenv("CHAOS_RUNS")); err == nil && n > 0 {
		runs = n
	}
	for i := range runs {
		seeds = append(seeds, base+int64(i))
	}
	return seeds
}

// chaosRollbackGates are the gates a run may roll back from, by rejecting.
var chaosRollbackGates = []string{workflows.GateAWSSPMetadata, workflows.GateSCIMCredentials, workflows.GateConfirmSignIn}

// chaosRun is one run: a cutover played to its end, then for some runs a
// token rotation, or rolled back from a random gate, while a killer
// SIGKILLs the worker at random moments.
func chaosRun(t *testing.T, seed int64, totals *chaosTotals) {
	t.Logf("seed %d (replay: CHAOS_SEED=%d make chaos)", seed, seed)
	rnd := rand.New(rand.NewSource(seed))
	faults := sandbox.Faults{ThrottleRate: 0.02, ServerErrorRate: 0.01, AppliedThenLostRate: 0.015, Seed: seed}
	e := startEnv(t, world.Sample(), faults)
	e.gateWait = 10 * time.Minute
	before := e.sandbox.CreatedResources()
	var rollbackAt string
	if rnd.Intn(3) == 0 {
		rollbackAt = chaosRollbackGates[rnd.Intn(len(chaosRollbackGates))]
	}
	rotate := rollbackAt == "" && rnd.Intn(2) == 0

	id := e.chaosStartAndApprove(t, rotate)
	killer := e.startKiller(t, id, randomDelays(rnd, 1+rnd.Intn(3), 6*time.Second))
	var tokenFile string
	if rollbackAt == "" {
		e.passSPMetadataGate(t, id)
		tokenFile = e.passSCIMGateTrying(t, id, 5)
		e.waitForGate(t, id, workflows.GateConfirmSignIn)
		e.starter(t, "approve", "--workflow-id", id, "--gate", workflows.GateConfirmSignIn, "--by", "chaos")
	} else {
		if rollbackAt != workflows.GateAWSSPMetadata {
			e.passSPMetadataGate(t, id)
		}
		if rollbackAt == workflows.GateConfirmSignIn {
			tokenFile = e.passSCIMGateTrying(t, id, 5)
		}
		e.waitForGate(t, id, rollbackAt)
		e.starter(t, "reject", "--workflow-id", id, "--gate", rollbackAt, "--by", "chaos", "--reason", "rolled back by the campaign")
		e.playRollbackGates(t, id)
	}
	e.waitFor(t, id, 10*time.Minute, func(s statusJSON) bool { return !strings.EqualFold(s.Execution.Status, "running") })
	kills, inActivity := killer.stop()
	// A closed workflow's status is a query a worker answers: read it once
	// the killer has stopped (a kill at the very end leaves it unanswered).
	st := e.waitFor(t, id, 5*time.Minute, func(s statusJSON) bool { return s.Phase != "" })

	secrets := map[string]string{}
	if st.Resources != nil && st.Resources.BreakGlass != nil {
		secrets["the break-glass password"] = e.secretValue(t, st.Resources.BreakGlass.Password.ARN)
	}
	if tokenFile != "" {
		secrets["the SCIM token"] = readFile(t, tokenFile)
	}
	if rollbackAt != "" {
		require.Equal(t, workflows.PhaseRolledBack, st.Phase, st.Step)
	} else {
		require.Equal(t, workflows.PhaseCompleted, st.Phase, st.Step)
	}
	var rotationID string
	if rotate {
		var newToken string
		var k, a int
		rotationID, newToken, k, a = e.chaosRotate(t, rnd)
		secrets["the new SCIM token"] = newToken
		kills, inActivity = kills+k, inActivity+a
	}

	counts := e.sandbox.FaultCounts()
	duplicates, orphans := countCreated(t, before, e.sandbox.CreatedResources(), rollbackAt != "")
	duplicates += duplicateAssignments(e.sandbox)
	missing := 0
	if rollbackAt == "" {
		missing = missingAssignments(e.sandbox, e.world)
	}
	places := e.placesToSearch(t, id, e.startCodecServer(t))
	if rotationID != "" {
		codec := e.startCodecServer(t)
		places["the rotation's history"] = withPayloadsDecoded(t, e.temporal(t, "workflow", "show", "--workflow-id", rotationID, "--output", "json", "--codec-endpoint", codec))
	}
	places["the starter's output"] = e.starterOutput.String()
	leaks := leakscan.Find(places, secrets)
	totals.add(func(c *chaosTotals) {
		c.Kills += kills
		c.KillsInActivity += inActivity
		c.Requests += counts.Requests
		c.Faults += counts.Throttled + counts.ServerErrors + counts.AppliedThenLost
		c.AppliedThenLost += counts.AppliedThenLost
		c.Duplicates += duplicates
		c.Orphans += orphans
		c.Missing += missing
		c.Leaks += len(leaks)
	})
	t.Logf("seed %d: rollbackAt=%q rotate=%t kills=%d (in an activity: %d) faults=%+v duplicates=%d orphans=%d leaks=%v",
		seed, rollbackAt, rotate, kills, inActivity, counts, duplicates, orphans, leaks)
}

// activityRunning says whether the workflow has an activity running now
// (started on a worker, not just scheduled), by describing it.
func (e *env) activityRunning(id string) bool {
	out, err := exec.Command(e.cli, "workflow", "describe", "--workflow-id", id, "--output", "json", "--address", e.server.Address).Output()
	if err != nil {
		return false
	}
	var described struct {
		PendingActivities []struct {
			State string `json:"state"`
		} `json:"pendingActivities"`
	}
	if json.Unmarshal(out, &described) != nil {
		return false
	}
	for _, a := range described.PendingActivities {
		if a.State == "PENDING_ACTIVITY_STATE_STARTED" {
			return true
		}
	}
	return false
}

// chaosStartAndApprove starts the cutover (scheduling the token rotation
// when rotate) and approves its preflight.
func (e *env) chaosStartAndApprove(t *testing.T, rotate bool) string {
	id := workflows.CutoverWorkflowID(e.world.AWS.IdentityStoreID)
	more := "verifyInterval: 2s\nverifyDeadline: 2m\n"
	if rotate {
		more += "scheduleTokenRotation: true\n"
	}
	e.starter(t, "start", "-f", e.requestWith(t, more))
	e.waitForGate(t, id, workflows.GatePreflight)
	e.starter(t, "approve", "--workflow-id", id, "--gate", workflows.GatePreflight, "--by", "chaos", "--override", "--reason", "chaos")
	return id
}

// randomDelays draws n delays between half a second and longest.
func randomDelays(rnd *rand.Rand, n int, longest time.Duration) []time.Duration {
	delays := make([]time.Duration, n)
	for i := range delays {
		delays[i] = 500*time.Millisecond + time.Duration(rnd.Int63n(int64(longest-500*time.Millisecond)))
	}
	return delays
}

// killer SIGKILLs the worker after each of its delays in turn, and counts
// the kills that landed while an activity was running.
type killer struct {
	done              chan struct{}
	wg                sync.WaitGroup
	kills, inActivity int
}

func (e *env) startKiller(t *testing.T, workflowID string, delays []time.Duration) *killer {
	k := &killer{done: make(chan struct{})}
	k.wg.Add(1)
	go func() {
		defer k.wg.Done()
		for _, d := range delays {
			select {
			case <-k.done:
				return
			case <-time.After(d):
				running := e.activityRunning(workflowID)
				if running {
					k.inActivity++
				}
				e.crashWorker(t)
				k.kills++
				t.Logf("killed the worker during %s after %s (an activity running: %t)", workflowID, d.Round(time.Millisecond), running)
			}
		}
	}()
	return k
}

// stop ends the killer's schedule and returns what it did.
func (k *killer) stop() (kills, inActivity int) {
	close(k.done)
	k.wg.Wait()
	return k.kills, k.inActivity
}

// playRollbackGates plays the person at the rollback's gates (delete the
// SCIM tokens, put the built-in directory back) until the cutover ends.
func (e *env) playRollbackGates(t *testing.T, id string) {
	played := map[string]bool{}
	for {
		st := e.waitFor(t, id, e.gateWait, func(s statusJSON) bool {
			return !strings.EqualFold(s.Execution.Status, "running") || s.Gate != nil && !played[s.Gate.Name] &&
				(s.Gate.Name == workflows.GateDeleteSCIMTokens || s.Gate.Name == workflows.GateRevertIdentitySource)
		})
		if !strings.EqualFold(st.Execution.Status, "running") {
			return
		}
		switch st.Gate.Name {
		case workflows.GateDeleteSCIMTokens:
			for _, token := range e.sandbox.ListSCIMTokens() {
				e.console(t, "delete-token", token.ID)
			}
		case workflows.GateRevertIdentitySource:
			e.console(t, "revert")
		}
		e.starter(t, "approve", "--workflow-id", id, "--gate", st.Gate.Name, "--by", "chaos")
		played[st.Gate.Name] = true
	}
}

// chaosRotate rotates the SCIM token of the completed cutover while the
// worker is killed at random: the warning window is made longer than the
// token's life so the run asks for a new token at once. It returns the
// run's workflow ID, the new token, and the killer's counts.
func (e *env) chaosRotate(t *testing.T, rnd *rand.Rand) (runID, newToken string, kills, inActivity int) {
	store := e.world.AWS.IdentityStoreID
	e.starter(t, "rotation", "schedule", "--identity-store", store, "--warning-window", "9000h", "--health-interval", "2s", "--health-deadline", "2m")
	out := e.starter(t, "rotation", "run", "--identity-store", store)
	run := regexp.MustCompile(`Started the SCIM token rotation run (\S+)\.`).FindStringSubmatch(out)
	require.NotNil(t, run, out)
	runID = run[1]
	k := e.startKiller(t, runID, randomDelays(rnd, 1+rnd.Intn(2), 2*time.Second))

	e.waitForRotation(t, runID, func(s rotationJSON) bool { return s.Gate != nil && s.Gate.Name == workflows.GateNewSCIMToken })
	tokenFile := filepath.Join(t.TempDir(), "new-token")
	e.console(t, "create-token", "--token-file", tokenFile)
	e.starterTrying(t, 5, func() {
		e.waitForRotation(t, runID, func(s rotationJSON) bool { return s.Gate != nil && s.Gate.Name == workflows.GateNewSCIMToken })
	}, "submit-scim", "--workflow-id", runID, "--token-file", tokenFile, "--by", "chaos")
	e.waitForRotation(t, runID, func(s rotationJSON) bool { return s.Gate != nil && s.Gate.Name == workflows.GateDeleteOldToken })
	tokens := e.sandbox.ListSCIMTokens()
	require.Len(t, tokens, 2)
	e.console(t, "delete-token", tokens[0].ID) // the oldest: the cutover's
	e.starter(t, "approve", "--workflow-id", runID, "--gate", workflows.GateDeleteOldToken, "--by", "chaos")
	e.waitForRotation(t, runID, func(s rotationJSON) bool { return !strings.EqualFold(s.Execution.Status, "running") })
	kills, inActivity = k.stop()
	rst := e.waitForRotation(t, runID, func(s rotationJSON) bool { return s.Phase != "" })
	require.Equal(t, workflows.RotationPhaseRotated, rst.Phase, rst.Step)
	require.Len(t, e.sandbox.ListSCIMTokens(), 1)
	return runID, readFile(t, tokenFile), kills, inActivity
}

// countCreated compares what the sandbox held before a run with what it
// holds after: a completed cutover leaves exactly one service principal
// with one provisioning job; a rolled-back one none; either leaves one
// break-glass IAM user (the report leaves it to a person) and no more
// secrets than it names (the break-glass password and the SCIM token).
// More than one is a duplicate; anything a rollback should have removed
// is an orphan.
func countCreated(t *testing.T, before, after sandbox.CreatedResources, rolledBack bool) (duplicates, orphans int) {
	sps := len(after.ServicePrincipals) - len(before.ServicePrincipals)
	jobs := 0
	for _, sp := range after.ServicePrincipals {
		jobs += len(after.ProvisioningJobs[sp])
	}
	users := len(after.IAMUsers) - len(before.IAMUsers)
	secrets := len(after.LiveSecrets) - len(before.LiveSecrets)
	t.Logf("created: %d service principals, %d provisioning jobs, IAM users %v, live secrets %v", sps, jobs, after.IAMUsers, after.LiveSecrets)
	if rolledBack {
		orphans += sps + jobs
	} else {
		require.Positive(t, sps, "a completed cutover has its service principal")
		require.Positive(t, jobs, "and its provisioning job")
		duplicates += max(sps-1, 0) + max(jobs-1, 0)
	}
	duplicates += max(users-1, 0) + max(secrets-2, 0)
	return duplicates, orphans
}

// duplicateAssignments counts account assignments held twice.
func duplicateAssignments(sb *sandbox.Sandbox) int {
	seen, duplicates := map[string]bool{}, 0
	for _, a := range sb.AccountAssignments() {
		key := a.AccountID + "/" + a.PermissionSetARN + "/" + a.PrincipalType + "/" + a.PrincipalID
		if seen[key] {
			duplicates++
		}
		seen[key] = true
	}
	return duplicates
}

// missingAssignments counts the world's assignments the sandbox lacks.
func missingAssignments(sb *sandbox.Sandbox, w *world.World) int {
	present := map[string]bool{}
	for _, a := range sb.AccountAssignments() {
		present[a.AccountID+"/"+a.PermissionSetName+"/"+a.PrincipalType+"/"+strings.ToLower(a.PrincipalName)] = true
	}
	missing := 0
	for _, a := range w.AWS.Assignments {
		principalType, principal := "GROUP", a.Group
		if a.User != "" {
			principalType, principal = "USER", a.User
		}
		if !present[a.Account+"/"+a.PermissionSet+"/"+principalType+"/"+strings.ToLower(principal)] {
			missing++
		}
	}
	return missing
}
