package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/platformguide/ssocutover/internal/activitytest"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/devserver"
	"github.com/platformguide/ssocutover/sandbox/sandboxworker"
	"github.com/platformguide/ssocutover/sandbox/world"
	"github.com/platformguide/ssocutover/starter/cli"
	"github.com/platformguide/ssocutover/workflows"
)

// binDir holds the worker, the starter and the sandbox command (for the
// console steps) built once for the whole package.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ssocutover-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	build := exec.Command("go", "build", "-o", dir+"/", "../../worker", "../../starter", "../../sandbox/cmd/sandbox")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building worker, starter and sandbox:", err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// env is one organisation under test: a dev server, the sandbox serving the
// world, and a worker process pointed at both.
type env struct {
	world     *world.World
	server    *devserver.Server
	sandbox   *sandbox.Sandbox
	dataDir   string
	cli       string
	worker    *exec.Cmd
	workerEnv []string
	workerLog *bytes.Buffer
	// gateWait is how long waitForGate waits (2 minutes when zero); the
	// chaos campaign, whose killed activities run again only after their
	// heartbeat timeout, waits longer.
	gateWait time.Duration
	// serverLog is the Temporal dev server's output.
	serverLog *activitytest.SyncBuffer
	// starterOutput is everything the starter printed, for the leak test.
	starterOutput strings.Builder
}

func startEnv(t testing.TB, w *world.World, faults sandbox.Faults, workerEnv ...string) *env {
	t.Helper()
	return startEnvWith(t, w, sandbox.Options{Faults: faults}, workerEnv...)
}

// startEnvWith is startEnv with every sandbox option.
func startEnvWith(t testing.TB, w *world.World, opts sandbox.Options, workerEnv ...string) *env {
	t.Helper()
	cli, err := devserver.FindTemporalCLI("", os.Getenv)
	require.NoError(t, err, "the Temporal CLI is built by `make test` into bin/temporal")
	dir := t.TempDir()
	ctx := context.Background()
	serverLog := &activitytest.SyncBuffer{}
	server, err := devserver.Start(ctx, devserver.Options{
		CLIPath: cli, Headless: true, DBFile: filepath.Join(dir, "temporal.db"), Log: serverLog,
	}, zap.NewNop())
	require.NoError(t, err)
	t.Cleanup(func() { _ = server.Stop() })

	sb, err := sandbox.Start(w, opts)
	require.NoError(t, err)
	t.Cleanup(sb.Close)

	e := &env{world: w, server: server, sandbox: sb, dataDir: filepath.Join(dir, "data"), cli: cli, workerLog: &bytes.Buffer{}, workerEnv: workerEnv, serverLog: serverLog}
	e.startWorker(t)
	t.Cleanup(func() {
		_ = e.worker.Process.Signal(os.Interrupt)
		_ = e.worker.Wait()
		if t.Failed() {
			t.Logf("worker log:\n%s", e.workerLog.String())
		}
	})
	return e
}

func (e *env) startWorker(t testing.TB) {
	e.worker = exec.Command(filepath.Join(binDir, "worker"))
	e.worker.Env = append(e.environ(), e.workerEnv...)
	e.worker.Stdout, e.worker.Stderr = e.workerLog, e.workerLog
	require.NoError(t, e.worker.Start())
}

// crashWorker kills the worker without letting it finish anything and
// starts a new one, as a machine that dies and a new one that takes over.
func (e *env) crashWorker(t testing.TB) {
	require.NoError(t, e.worker.Process.Kill())
	_ = e.worker.Wait()
	e.startWorker(t)
}

// environ is what the worker, the starter and the temporal CLI see: the
// real SDK clients, with only endpoints and credentials pointing at the
// sandbox.
func (e *env) environ() []string {
	env := append(os.Environ(), sandboxworker.Env(e.sandbox, e.world)...)
	return append(env,
		"TEMPORAL_ADDRESS="+e.server.Address,
		"TEMPORAL_NAMESPACE=default",
		"SSOCUTOVER_DATA_DIR="+e.dataDir,
		"SSOCUTOVER_LOG_FORMAT=json",
		// Payloads are encrypted: the worker and the starter share a key.
		"SSOCUTOVER_CODEC_KEYS="+e2eCodecKeys,
		"SSOCUTOVER_CODEC_KEY_FILE=",
	)
}

// run runs a binary and returns its standard output; it fails the test
// unless the exit status is as wanted.
func (e *env) run(t testing.TB, wantOK bool, name string, args ...string) string {
	t.Helper()
	// Longer than the starter waits for a decision to be carried out.
	ctx, cancel := context.WithTimeout(context.Background(), cli.DecisionWait+2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = e.environ()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if filepath.Base(name) == "starter" {
		e.starterOutput.WriteString(stdout.String() + stderr.String())
	}
	if wantOK {
		require.NoError(t, err, "%s %s\nstdout:\n%s\nstderr:\n%s", filepath.Base(name), strings.Join(args, " "), stdout.String(), stderr.String())
	} else {
		require.Error(t, err, "%s %s should fail\nstdout:\n%s", filepath.Base(name), strings.Join(args, " "), stdout.String())
		return stdout.String() + stderr.String()
	}
	return stdout.String()
}

func (e *env) starter(t testing.TB, args ...string) string {
	return e.run(t, true, filepath.Join(binDir, "starter"), args...)
}

// console plays an IAM Identity Center console step against the sandbox
// (bin/sandbox console ...).
func (e *env) console(t testing.TB, args ...string) string {
	return e.run(t, true, filepath.Join(binDir, "sandbox"), append([]string{"console"}, args...)...)
}

func (e *env) temporal(t testing.TB, args ...string) string {
	return e.run(t, true, e.cli, args...)
}

// request writes the cutover request of the world to a YAML file.
func (e *env) request(t testing.TB) string {
	return e.requestWith(t, "verifyInterval: 2s\nverifyDeadline: 2m\n")
}

// requestWith is request with more YAML lines.
func (e *env) requestWith(t testing.TB, more string) string {
	path := filepath.Join(t.TempDir(), "request.yaml")
	body := fmt.Sprintf("identityStoreId: %s\nregion: %s\nentraTenantId: %s\nrequestedBy: e2e-requester\nticket: CHG-1\nsandbox: true\n",
		e.world.AWS.IdentityStoreID, e.world.AWS.Region, e.world.Entra.TenantID) + more
	require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
	return path
}

// statusJSON is what `starter status --json` prints: the workflow's status
// query answer and the execution's state.
type statusJSON struct {
	workflows.CutoverStatus
	Execution struct {
		Status string `json:"status"`
	} `json:"execution"`
}

// status reads the cutover's status through `starter status --json`.
func (e *env) status(t testing.TB, id string) statusJSON {
	var st statusJSON
	out := e.starter(t, "status", "--workflow-id", id, "--json")
	require.NoError(t, json.Unmarshal([]byte(out), &st), out)
	return st
}

// waitFor polls status until ok accepts it.
func (e *env) waitFor(t testing.TB, id string, timeout time.Duration, ok func(statusJSON) bool) statusJSON {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st := e.status(t, id)
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			require.FailNow(t, "timed out waiting for the cutover", "last status: %+v\nworker log:\n%s", st, e.workerLog.String())
		}
		time.Sleep(300 * time.Millisecond)
	}
}
