//go:build chaos

package e2e

// The crash-and-fault campaign (`make chaos`, CHAOS_RUNS runs, 50 by
// default): each run plays a whole cutover of the sample, or rolls one back
// from gate scim-credentials, against the real binaries, while the worker
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
}

func (c chaosTotals) line() string {
	return fmt.Sprintf("chaos: %d runs, %d worker kills (%d inside an activity), %d faults injected (%d applied-then-lost), %d duplicates, %d orphans, %d missing, %d leaks",
		c.Runs, c.Kills, c.KillsInActivity, c.Faults, c.AppliedThenLost, c.Duplicates, c.Orphans, c.Missing, c.Leaks)
}

func TestChaos(t *testing.T) {
	runs, base := 50, time.Now().UnixNano()%1_000_000
	if n, err := strconv.Atoi(os.Getenv("CHAOS_RUNS")); err == nil && n > 0 {
		runs = n
	}
	if s, err := strconv.ParseInt(os.Getenv("CHAOS_SEED"), 10, 64); err == nil {
		base, runs = s, 1
	}
	var totals chaosTotals
	for i := range runs {
		seed := base + int64(i)
		totals.Seeds = append(totals.Seeds, seed)
		t.Run(fmt.Sprintf("seed-%d", seed), func(t *testing.T) { chaosRun(t, seed, &totals) })
		totals.Runs++
	}
	line := totals.line()
	fmt.Println(line)
	data, err := json.MarshalIndent(totals, "", "  ")
	require.NoError(t, err)
	out := os.Getenv("CHAOS_REPORT")
	if out == "" {
		out = filepath.Join(t.TempDir(), "chaos.json")
	}
	require.NoError(t, os.WriteFile(out, data, 0o600))
	require.Zero(t, totals.Duplicates+totals.Orphans+totals.Missing+totals.Leaks, line)
}

// chaosRun is one run: a cutover played to its end (or rolled back) while
// a killer goroutine SIGKILLs the worker at random.
func chaosRun(t *testing.T, seed int64, totals *chaosTotals) {
	t.Logf("seed %d (replay: CHAOS_SEED=%d make chaos)", seed, seed)
	rnd := rand.New(rand.NewSource(seed))
	faults := sandbox.Faults{ThrottleRate: 0.02, ServerErrorRate: 0.01, AppliedThenLostRate: 0.01, Seed: seed}
	e := startEnv(t, world.Sample(), faults)
	e.gateWait = 10 * time.Minute
	rollback := rnd.Intn(3) == 0

	// The killer: one to three kills at random moments after the preflight.
	stop := make(chan struct{})
	var kills, inActivity int
	var wg sync.WaitGroup
	killAt := make([]time.Duration, 1+rnd.Intn(3))
	for i := range killAt {
		killAt[i] = time.Duration(500+rnd.Intn(6000)) * time.Millisecond
	}
	id := e.chaosStartAndApprove(t)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, d := range killAt {
			select {
			case <-stop:
				return
			case <-time.After(d):
				if e.activityRunning(id) {
					inActivity++
				}
				e.crashWorker(t)
				kills++
			}
		}
	}()

	e.passSPMetadataGate(t, id)
	var tokenFile string
	if rollback {
		e.waitForGate(t, id, workflows.GateSCIMCredentials)
		e.starter(t, "reject", "--workflow-id", id, "--gate", workflows.GateSCIMCredentials, "--by", "chaos", "--reason", "rolled back by the campaign")
		e.waitForGate(t, id, workflows.GateRevertIdentitySource)
		e.console(t, "revert")
		e.starter(t, "approve", "--workflow-id", id, "--gate", workflows.GateRevertIdentitySource, "--by", "chaos")
	} else {
		tokenFile = e.passSCIMGateTrying(t, id, 5)
		e.waitForGate(t, id, workflows.GateConfirmSignIn)
		e.starter(t, "approve", "--workflow-id", id, "--gate", workflows.GateConfirmSignIn, "--by", "chaos")
	}
	e.waitFor(t, id, 10*time.Minute, func(s statusJSON) bool { return !strings.EqualFold(s.Execution.Status, "running") })
	close(stop)
	wg.Wait()
	// A closed workflow's status is a query a worker answers: read it once
	// the killer has stopped (a kill at the very end leaves it unanswered).
	st := e.waitFor(t, id, 5*time.Minute, func(s statusJSON) bool { return s.Phase != "" })

	counts := e.sandbox.FaultCounts()
	totals.Kills += kills
	totals.KillsInActivity += inActivity
	totals.Requests += counts.Requests
	totals.Faults += counts.Throttled + counts.ServerErrors + counts.AppliedThenLost
	totals.AppliedThenLost += counts.AppliedThenLost

	// Duplicates: a second app, or an assignment twice.
	apps := e.sandbox.EnterpriseApps()
	seen := map[string]bool{}
	for _, a := range e.sandbox.AccountAssignments() {
		key := a.AccountID + "/" + a.PermissionSetARN + "/" + a.PrincipalType + "/" + a.PrincipalID
		if seen[key] {
			totals.Duplicates++
		}
		seen[key] = true
	}
	secrets := map[string]string{}
	if st.Resources != nil && st.Resources.BreakGlass != nil {
		secrets["the break-glass password"] = e.secretValue(t, st.Resources.BreakGlass.Password.ARN)
	}
	if rollback {
		require.Equal(t, workflows.PhaseRolledBack, st.Phase, st.Step)
		totals.Orphans += len(apps) // the rollback deletes the app
	} else {
		require.Equal(t, workflows.PhaseCompleted, st.Phase, st.Step)
		if len(apps) > 1 {
			totals.Duplicates += len(apps) - 1
		}
		totals.Missing += missingAssignments(e.sandbox, e.world)
		secrets["the SCIM token"] = readFile(t, tokenFile)
	}
	places := e.placesToSearch(t, id, e.startCodecServer(t))
	places["the starter's output"] = e.starterOutput.String()
	leaks := leakscan.Find(places, secrets)
	totals.Leaks += len(leaks)
	t.Logf("seed %d: rollback=%t kills=%d (in an activity: %d) faults=%+v apps=%d leaks=%v", seed, rollback, kills, inActivity, counts, len(apps), leaks)
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

// chaosStartAndApprove starts the cutover and approves its preflight.
func (e *env) chaosStartAndApprove(t *testing.T) string {
	id := workflows.CutoverWorkflowID(e.world.AWS.IdentityStoreID)
	e.starter(t, "start", "-f", e.request(t))
	e.waitForGate(t, id, workflows.GatePreflight)
	e.starter(t, "approve", "--workflow-id", id, "--gate", workflows.GatePreflight, "--by", "chaos", "--override", "--reason", "chaos")
	return id
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
