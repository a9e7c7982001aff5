package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/activitytest"
	"github.com/platformguide/ssocutover/internal/codec"
	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/internal/store"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/world"
	"github.com/platformguide/ssocutover/starter/cli"
	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/statusview"
)

// These tests run the demo for real: the Temporal dev server from
// bin/temporal (built by `make tools`), the sandbox serving the sample
// organisation, and a worker with the real SDK clients.

func TestDemoExitPrintsTheReportAsJSON(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dataDir := t.TempDir()
	port := freePort(t)
	var stdout, progress activitytest.SyncBuffer

	err := runDemo(ctx, demoOptions{
		Port: port, UIPort: freePort(t), DataDir: dataDir, Until: workflows.GatePreflight,
		JSON: true, Exit: true, RequestedBy: "tester", Progress: &progress,
	}, &stdout)
	require.NoError(t, err, progress.String())

	var result demoResult
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &result), stdout.String())
	require.Equal(t, "cutover-"+world.Sample().AWS.IdentityStoreID, result.WorkflowID)
	require.Equal(t, workflows.PhaseAwaitingPreflight, result.Phase)
	require.NotNil(t, result.Gate)
	require.Equal(t, workflows.GatePreflight, result.Gate.Name)
	require.Equal(t, "running", result.Execution.Status)
	require.NotNil(t, result.Report, "at the preflight gate the JSON carries the full report")
	require.Equal(t, result.Preflight.Report, result.Report.Ref)

	// The sample organisation's problems are found, with the names they concern.
	require.Contains(t, findingNames(result.Report.Findings, preflight.MissingGroup), "aws-billing")
	require.Contains(t, findingNames(result.Report.Findings, preflight.UserAssignment), "dana.okafor@corp.example")
	require.Positive(t, result.Preflight.Summary.Blockers)

	require.Contains(t, progress.String(), "Started cutover cutover-d-1234567890")
	require.FileExists(t, filepath.Join(dataDir, "temporal.db"))
	// The demo stopped the dev server on its way out.
	require.True(t, portFree(strconv.Itoa(port), t), "the dev server was stopped")

	// The stored documents (inventories, the report) are sealed: the disk
	// holds no user's name in clear.
	files, err := filepath.Glob(filepath.Join(store.DirIn(dataDir), "*.json.gz"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		require.True(t, codec.IsSealed(data), f)
		require.NotContains(t, string(data), "dana.okafor", f)
	}
}

func TestDemoWithTheS3Store(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dataDir := t.TempDir()
	var stdout, progress activitytest.SyncBuffer

	err := runDemo(ctx, demoOptions{
		Port: freePort(t), UIPort: freePort(t), DataDir: dataDir, Until: workflows.GatePreflight,
		JSON: true, Exit: true, RequestedBy: "tester", Progress: &progress, Store: store.KindS3,
	}, &stdout)
	require.NoError(t, err, progress.String())

	var result demoResult
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &result), stdout.String())
	require.NotNil(t, result.Report, "the report is read back from the bucket")
	require.Contains(t, findingNames(result.Report.Findings, preflight.MissingGroup), "aws-billing")
	require.Contains(t, progress.String(), "s3://"+sandbox.StoreBucket)
	require.NoDirExists(t, store.DirIn(dataDir), "nothing is stored in the data directory")

	err = runDemo(ctx, demoOptions{DataDir: t.TempDir(), Store: "gcs", Progress: &progress}, &stdout)
	require.ErrorContains(t, err, `--store "gcs": want dir or s3`)
}

func TestDemoRunsAWholeCutover(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var stdout, progress activitytest.SyncBuffer

	err := runDemo(ctx, demoOptions{
		Port: freePort(t), UIPort: freePort(t), DataDir: t.TempDir(),
		JSON: true, Exit: true, RequestedBy: "tester", Progress: &progress,
	}, &stdout)
	require.NoError(t, err, progress.String())

	var result demoResult
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &result), stdout.String())
	require.Equal(t, "completed", result.Execution.Status)
	require.Equal(t, workflows.PhaseCompleted, result.Phase)
	require.Len(t, result.Decisions, 4, "one decision at each gate")
	v := result.Resources.Verification
	require.NotNil(t, v)
	require.Zero(t, v.AssignmentsMissing)
	require.Positive(t, v.AssignmentsRestored, "the sandbox's switch drops assignments and the cutover restores them")
	require.Equal(t, 2, v.ApplicationAssignmentsRestored, "the sample's application assignments too (Grafana: a group and a user)")
	require.Zero(t, v.ApplicationAssignmentsMissing)
	require.Contains(t, stdout.String(), "application assignments 2 of 2 present (2 restored by the cutover)", "the report says so")
	// Each of the person's steps is printed.
	for _, step := range []string{"[person] approves the preflight", "Change identity source", "uploads idp.xml", "Automatic provisioning > Enable", "approves gate confirm-sign-in"} {
		require.Contains(t, progress.String(), step)
	}
	require.Nil(t, result.Report, "the preflight report is printed only when the demo stops at the preflight gate")
	// The completed cutover scheduled its token's rotation; the demo says how to try it.
	require.Equal(t, workflows.RotationScheduleID(result.Request.IdentityStoreID), result.Resources.RotationSchedule)
	require.Contains(t, progress.String(), "advance-clock --by 8784h")
	require.Contains(t, progress.String(), "bin/starter rotation run --identity-store "+result.Request.IdentityStoreID)
}

func TestDemoKeepsRunningForDecisions(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dataDir := t.TempDir()
	port := freePort(t)
	var stdout, progress activitytest.SyncBuffer

	demoCtx, stopDemo := context.WithCancel(ctx)
	demoDone := make(chan error, 1)
	go func() {
		demoDone <- runDemo(demoCtx, demoOptions{
			Port: port, UIPort: freePort(t), DataDir: dataDir, Until: workflows.GatePreflight, RequestedBy: "tester", Progress: &progress,
		}, &stdout)
	}()

	// The starter's own commands, against the demo's server and data.
	starter := func(args ...string) (string, error) {
		var out bytes.Buffer
		root := cli.NewRootCommand(&out, &out, func(string) string { return "" })
		root.SetArgs(append(args, "--address", "127.0.0.1:"+strconv.Itoa(port), "--data-dir", dataDir))
		err := root.ExecuteContext(ctx)
		return out.String(), err
	}
	id := "cutover-d-1234567890"
	// Wait for the gate, failing at once if the demo stops.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		select {
		case err := <-demoDone:
			t.Fatalf("the demo stopped before the gate: %v\n%s", err, progress.String())
		default:
		}
		out, err := starter("status", "--workflow-id", id, "--json")
		var v statusview.Cutover
		if err == nil && json.Unmarshal([]byte(out), &v) == nil && v.Gate != nil {
			break
		}
		require.True(t, time.Now().Before(deadline), "the cutover did not reach gate preflight; demo output:\n%s", progress.String())
		time.Sleep(500 * time.Millisecond)
	}
	// The demo prints the report once it has seen the gate itself.
	require.Eventually(t, func() bool { return strings.Contains(progress.String(), "Press Ctrl-C to stop") }, 30*time.Second, 100*time.Millisecond)
	require.Contains(t, stdout.String(), "BLOCKERS", "the readable report was printed")

	out, err := starter("status", "--identity-store", "d-1234567890")
	require.NoError(t, err)
	require.Contains(t, out, `Waiting for you at gate "preflight"`)
	require.Contains(t, out, "Preflight run 1")

	// A second start of the same instance is refused while the first runs.
	request := filepath.Join(t.TempDir(), "request.yaml")
	require.NoError(t, os.WriteFile(request, []byte("identityStoreId: d-1234567890\nregion: eu-west-1\n"+
		"entraTenantId: "+world.Sample().Entra.TenantID+"\nrequestedBy: tester\n"), 0o600))
	_, err = starter("start", "-f", request)
	require.ErrorContains(t, err, "already running as workflow cutover-d-1234567890")

	// The validator answers at once: blockers need an override.
	_, err = starter("approve", "--workflow-id", id, "--gate", "preflight", "--by", "tester")
	require.ErrorContains(t, err, "blocker")
	_, err = starter("reject", "--workflow-id", id, "--gate", "preflight", "--by", "tester")
	require.ErrorContains(t, err, "reason")

	out, err = starter("recheck", "--workflow-id", id, "--gate", "preflight", "--by", "tester")
	require.NoError(t, err)
	require.Contains(t, out, "Preflight run 2")

	out, err = starter("report", "--workflow-id", id)
	require.NoError(t, err)
	require.Contains(t, out, "run 2")
	require.Contains(t, out, "missing-group")
	require.Contains(t, out, "aws-billing")

	// The approval answers once the next gate is open.
	out, err = starter("approve", "--workflow-id", id, "--gate", "preflight", "--by", "tester", "--override", "--reason", "test")
	require.NoError(t, err)
	require.Contains(t, out, workflows.PhaseAwaitingSPMeta)

	out, err = starter("status", "--workflow-id", id)
	require.NoError(t, err)
	require.Contains(t, out, `Waiting for you at gate "aws-sp-metadata"`)
	require.Contains(t, out, "approve at preflight by tester (override): test")

	stopDemo()
	select {
	case err := <-demoDone:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("the demo did not stop after its context ended")
	}
	require.True(t, portFree(strconv.Itoa(port), t), "the dev server was stopped")
}

func findingNames(findings []preflight.Finding, code preflight.Code) []string {
	var names []string
	for _, f := range findings {
		if f.Code == code {
			names = append(names, f.Names...)
		}
	}
	return names
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func portFree(port string, t *testing.T) bool {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

func TestDemoRefusesAnUnknownGate(t *testing.T) {
	var out bytes.Buffer
	cmd := newDemoCommand(&out, &out, func(string) string { return "" })
	cmd.SetArgs([]string{"--until", "nowhere"})
	require.ErrorContains(t, cmd.Execute(), `--until "nowhere"`)
}

// The demo's hints at an open gate are the operations that gate takes, each
// a starter command whose flags parse (before, it suggested recheck and
// approve --override at every gate, which scim-credentials refuses).
func TestGateCommandsAreWhatTheOpenGateTakes(t *testing.T) {
	gates := []workflows.GateStatus{
		{Name: workflows.GatePreflight, Operations: []string{workflows.OpApprove, workflows.OpReject, workflows.OpRecheck}},
		{Name: workflows.GateAWSSPMetadata, Operations: []string{workflows.OpSubmitSPMetadata, workflows.OpReject, workflows.OpRollback}},
		{Name: workflows.GateSCIMCredentials, Operations: []string{workflows.OpSubmitSCIM, workflows.OpReject, workflows.OpRollback}},
		{Name: workflows.GateConfirmSignIn, Operations: []string{workflows.OpApprove, workflows.OpReject, workflows.OpRollback}},
		{Name: workflows.GateCompensationFailed, Operations: []string{workflows.OpRetry, workflows.OpSkip}},
	}
	for _, g := range gates {
		commands := gateCommands(g, "cutover-d-1234567890", " --address 127.0.0.1:7299")
		var ops []string
		for _, command := range commands {
			args, err := shellCommandWords(strings.TrimPrefix(command, "bin/"))
			require.NoError(t, err, command)
			require.NoError(t, checkStarter(args[1:]), command)
			root := cli.NewRootCommand(&bytes.Buffer{}, &bytes.Buffer{}, func(string) string { return "" })
			cmd, rest, err := root.Find(args[1:])
			require.NoError(t, err, command)
			require.NoError(t, cmd.ParseFlags(rest), command)
			if cmd.Name() == "report" {
				continue
			}
			ops = append(ops, cmd.Name())
			if gate := cmd.Flags().Lookup("gate"); gate != nil && gate.Changed {
				require.Equal(t, g.Name, gate.Value.String(), command)
			}
			if reason := cmd.Flags().Lookup("reason"); cmd.Name() == workflows.OpReject || cmd.Name() == workflows.OpRollback || cmd.Name() == workflows.OpSkip {
				require.NotEmpty(t, reason.Value.String(), "%s needs a reason: %s", cmd.Name(), command)
			}
		}
		require.Equal(t, g.Operations, ops, "gate %s", g.Name)
	}
}
