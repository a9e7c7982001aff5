package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/platformguide/ssocutover/activities/schedules"
	"github.com/platformguide/ssocutover/internal/codec"
	"github.com/platformguide/ssocutover/internal/logging"
	"github.com/platformguide/ssocutover/internal/store"
	"github.com/platformguide/ssocutover/internal/temporalclient"
	"github.com/platformguide/ssocutover/internal/words"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/devserver"
	"github.com/platformguide/ssocutover/sandbox/sandboxworker"
	"github.com/platformguide/ssocutover/sandbox/world"
	"github.com/platformguide/ssocutover/starter/cli"
	"github.com/platformguide/ssocutover/worker/app"
	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/statusview"
)

// demoGates are the gates --until can name, in the order a cutover meets them.
var demoGates = workflows.Gates

// demoOptions configure a demo run.
type demoOptions struct {
	// TemporalCLI is the CLI that runs the dev server; "" looks for one
	// (devserver.FindTemporalCLI).
	TemporalCLI string
	// Port and UIPort of the dev server on 127.0.0.1; 0 picks free ones.
	Port   int
	UIPort int
	// DataDir keeps the dev server's database, its log and the store.
	DataDir string
	// WorldFile is the organisation the sandbox serves; "" is the sample.
	WorldFile string
	// Until is the gate at which the demo stops following the cutover;
	// empty runs the whole cutover.
	Until string
	// Interactive waits at each gate for the user to run the commands it
	// prints, instead of playing the person.
	Interactive bool
	// JSON prints the final status (with the full report at the preflight
	// gate) as JSON on stdout; progress then goes to Progress.
	JSON bool
	// Exit stops everything once the gate is reached; otherwise the demo
	// keeps the server, sandbox and worker up until ctx is done.
	Exit bool
	// RequestedBy names the person in the cutover request.
	RequestedBy string
	// Store is where the worker keeps documents: "dir" (the data
	// directory, the default) or "s3" (the sandbox's S3 bucket).
	Store string
	// Progress receives what the demo is doing (stdout unless JSON).
	Progress io.Writer
	Logger   *zap.Logger
	// PollInterval is how often progress is read; 0 is 500ms.
	PollInterval time.Duration
	// Getenv is os.Getenv outside tests.
	Getenv func(string) string
}

// newDemoCommand is the demo's command line: the flags of the former
// `starter demo`, plus where to keep its data and how to log.
func newDemoCommand(stdout, stderr io.Writer, getenv func(string) string) *cobra.Command {
	opts := demoOptions{Getenv: getenv}
	var logs logging.Flags
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a cutover locally: Temporal dev server, sandbox with a sample organisation, worker",
		Long: `Run a cutover of a sample organisation on this machine, with nothing to set up:

  1. starts the Temporal dev server (the CLI built into bin/temporal by 'make
     tools'; never downloaded), keeping its state in DATA_DIR/temporal.db and
     serving its UI on 127.0.0.1:8233;
  2. starts the sandbox, which serves the organisation (the sample, or
     --world FILE) over the real AWS and Microsoft Graph protocols;
  3. runs a worker that talks to the sandbox with the real SDK clients;
  4. starts a cutover and follows it step by step, playing the person at each
     gate: it approves the preflight, does the IAM Identity Center console
     steps through the sandbox's console (switch the identity source, upload
     Entra's metadata, enable automatic provisioning), sends what they give,
     and confirms sign-in; it ends with the cutover's report.

With --interactive it prints the commands at each gate (bin/starter, or
bin/sandbox console) and waits for you to run them. With --until GATE it
stops at that gate and prints what to do there. Without --exit everything
stays up until Ctrl-C, so the workflow can be explored in the Temporal UI.`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := logs.Logger()
			if err != nil {
				return err
			}
			opts.Logger = logger
			opts.Progress = stdout
			if opts.JSON {
				opts.Progress = stderr
			}
			return runDemo(cmd.Context(), opts, stdout)
		},
	}
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	f := cmd.Flags()
	f.StringVar(&opts.TemporalCLI, "temporal-cli", "", "the Temporal CLI binary (default: $"+devserver.EnvTemporalCLI+", bin/temporal beside this program or in the repository, then temporal on the PATH)")
	f.IntVar(&opts.Port, "port", 7233, "gRPC port of the dev server on 127.0.0.1")
	f.IntVar(&opts.UIPort, "ui-port", 8233, "port of the Temporal UI on 127.0.0.1")
	f.StringVar(&opts.DataDir, "data-dir", store.DataDirFromEnv(getenv), "where the dev server's database and log, the payload key and the store are kept (env "+store.EnvDataDir+")")
	f.StringVar(&opts.WorldFile, "world", "", "world file (JSON) the sandbox serves (default: the built-in sample organisation)")
	f.StringVar(&opts.Until, "until", "", "stop once the cutover waits at this gate ("+strings.Join(demoGates, ", ")+"); default: run it to the end")
	f.BoolVar(&opts.Interactive, "interactive", false, "at each gate print the commands to run and wait for you to run them, instead of playing the person")
	f.BoolVar(&opts.JSON, "json", false, "print the final status as JSON (at the preflight gate with every finding); progress goes to standard error")
	f.BoolVar(&opts.Exit, "exit", false, "stop the dev server and exit once the gate is reached, instead of waiting for Ctrl-C")
	f.StringVar(&opts.Store, "store", store.KindDir, "where the worker keeps inventories and reports: dir (the data directory) or s3 (the sandbox's S3 bucket, as several workers on Kubernetes would)")
	f.StringVar(&opts.RequestedBy, "requested-by", cmp.Or(getenv("USER"), "demo"), "the person named in the cutover request")
	logs.Register(f, getenv, logging.FormatConsole, "warn")
	return cmd
}

// demoResult is what --json prints: the status, and at the preflight gate
// the full report with every finding.
type demoResult struct {
	statusview.Cutover
	Report *cli.ReportView `json:"report,omitempty"`
}

// runDemo runs the demo; see demoCommand. It returns once the cutover waits
// at opts.Until (with Exit) or when ctx is done, having stopped everything
// it started.
func runDemo(ctx context.Context, opts demoOptions, stdout io.Writer) error {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Progress == nil {
		opts.Progress = stdout
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 500 * time.Millisecond
	}
	if opts.Store != "" && opts.Store != store.KindDir && opts.Store != store.KindS3 {
		return fmt.Errorf("--store %q: want %s or %s", opts.Store, store.KindDir, store.KindS3)
	}
	if opts.Until != "" && !slices.Contains(demoGates, opts.Until) {
		return fmt.Errorf("--until %q: the cutover has gates %s", opts.Until, strings.Join(demoGates, ", "))
	}
	say := func(format string, args ...any) { fmt.Fprintf(opts.Progress, format+"\n", args...) }

	w, source, err := loadDemoWorld(opts.WorldFile)
	if err != nil {
		return err
	}
	cliPath, err := devserver.FindTemporalCLI(opts.TemporalCLI, opts.Getenv)
	if err != nil {
		return err
	}
	dataDir, err := filepath.Abs(cmp.Or(opts.DataDir, store.DefaultDataDir))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("create the data directory: %w", err)
	}

	// 0. The payload key and the codec server, so that the dev server's UI
	// shows the encrypted payloads decrypted.
	keys, err := demoKeys(dataDir, opts.Getenv, say)
	if err != nil {
		return err
	}
	payloads, err := keys.LoadCodec()
	if err != nil {
		return err
	}
	// The demo's UI calls it from the browser, which sends no token: it
	// listens on loopback for any local caller, as --insecure-local does.
	codecServer, err := codec.Listen("127.0.0.1:0", codec.ServerOptions{Codec: payloads, InsecureLocal: true})
	if err != nil {
		return err
	}
	defer codecServer.Close()

	// 1. The Temporal dev server.
	serverLogPath := filepath.Join(dataDir, "temporal-server.log")
	serverLog, err := os.OpenFile(serverLogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open the dev server's log: %w", err)
	}
	defer serverLog.Close()
	say("Starting the Temporal dev server (%s); its state is kept in %s, its log in %s", cliPath,
		filepath.Join(dataDir, "temporal.db"), serverLogPath)
	server, err := devserver.Start(ctx, devserver.Options{
		CLIPath: cliPath,
		Port:    opts.Port,
		UIPort:  opts.UIPort,
		DBFile:  filepath.Join(dataDir, "temporal.db"),
		Log:     serverLog,
		// The UI decrypts payloads with the demo's codec server.
		UICodecEndpoint: codecServer.URL,
	}, opts.Logger)
	if err != nil {
		return err
	}
	defer func() {
		say("\nStopping the Temporal dev server")
		if err := server.Stop(); err != nil {
			opts.Logger.Warn("Dev server stop", zap.Error(err))
		}
	}()
	say("Temporal is up at %s, its UI at %s", server.Address, server.UIURL)
	codecServer.Handler.AllowOrigin(server.UIURL)
	codecServer.Handler.AllowOrigin(strings.Replace(server.UIURL, "127.0.0.1", "localhost", 1))
	say("The UI decrypts payloads with the codec server at %s; so does `temporal workflow show --codec-endpoint %s`", codecServer.URL, codecServer.URL)

	// 2. The sandbox serving the organisation.
	sb, err := sandbox.Start(w, sandbox.Options{})
	if err != nil {
		return err
	}
	defer sb.Close()
	say("The sandbox serves %s: AWS at %s, Microsoft Graph at %s, SCIM at %s", source, sb.AWSURL, sb.GraphURL, sb.SCIMURL)

	// 3. A worker pointed at the sandbox.
	// The worker refuses plain JSON from outside, as bin/worker does.
	conn := temporalclient.Options{Address: server.Address, Namespace: temporalclient.DefaultNamespace, Codec: payloads.RefusingPlaintext()}
	tc, err := conn.Dial(ctx, opts.Logger)
	if err != nil {
		return err
	}
	defer tc.Close()
	cfg := sandboxworker.Config(sb, w, dataDir)
	cfg.Sealer = payloads
	storeAt := store.DirIn(dataDir)
	if opts.Store == store.KindS3 {
		cfg.Store = sandboxworker.S3Store(sb)
		storeAt = "the sandbox's S3 bucket s3://" + sandbox.StoreBucket + " at " + sb.S3URL
	}
	acts, err := app.NewActivities(ctx, cfg)
	if err != nil {
		return err
	}
	worker := app.NewWorker(tc, acts, cfg)
	if err := worker.Start(); err != nil {
		return fmt.Errorf("start the worker: %w", err)
	}
	defer worker.Stop()
	say("A worker runs on task queue %s, its store (documents sealed with the payload key) in %s", temporalclient.TaskQueue, storeAt)
	say("It has no approval policy, so the gates take unsigned decisions (a real worker takes one with --approval-policy; README, Signed approvals)")

	// 4. The cutover.
	req := workflows.CutoverRequest{
		IdentityStoreID: w.AWS.IdentityStoreID,
		InstanceARN:     w.AWS.InstanceARN,
		Region:          w.AWS.Region,
		EntraTenantID:   w.Entra.TenantID,
		RequestedBy:     opts.RequestedBy,
		Ticket:          "DEMO",
		// The sandbox provisions in seconds, not in Entra's 40-minute cycles.
		VerifyInterval: "2s",
		VerifyDeadline: "2m",
		Sandbox:        true,
		// Once complete, the cutover schedules the SCIM token's rotation.
		ScheduleTokenRotation: true,
	}
	id, err := startDemoCutover(ctx, tc, req, say)
	if err != nil {
		return err
	}
	link := cli.WorkflowLink(server.UIURL, temporalclient.DefaultNamespace, id)
	say("Started cutover %s: %s", id, link)

	awsConfig, err := app.AWSConfig(ctx, cfg)
	if err != nil {
		return err
	}
	person := &demoPerson{
		tc: tc, id: id, console: sandbox.NewConsoleClient(sb.AWSURL, nil),
		secrets: secretsmanager.NewFromConfig(awsConfig), dir: dataDir, say: say,
	}
	flags := demoFlags(server.Address, dataDir)
	if cfg.Store.IsS3() {
		// starter report reads the same bucket (with the sandbox's AWS
		// keys in the environment).
		flags += " --store s3 --store-bucket " + cfg.Store.Bucket + " --store-s3-endpoint-url " + cfg.Store.S3Endpoint + " --store-s3-path-style"
	}
	var view statusview.Cutover
	for {
		view, err = followCutover(ctx, tc, id, func(v statusview.Cutover) bool { return v.Gate != nil }, opts.PollInterval, opts.Progress)
		if err != nil {
			return err
		}
		if view.Gate == nil || view.Gate.Name == opts.Until {
			break
		}
		if opts.Interactive {
			say("\nThe cutover waits at gate %s. Run, from another terminal in %s:\n", view.Gate.Name, dataDir)
			commands := interactiveCommands(view.Gate.Name, id, flags, sb.AWSURL,
				sandboxAWSEnv(sb.AWSURL, w.AWS.Region, sandboxworker.AccessKeyID, sandboxworker.SecretAccessKey))
			for _, command := range commands {
				say("    %s", command)
			}
			if len(commands) == 0 { // the gates of a rollback or of a failure
				say("%s", statusview.IndentLines(view.Gate.Instructions, "    "))
			}
			say("")
			opened := view.Gate.OpenedAt
			view, err = followCutover(ctx, tc, id, func(v statusview.Cutover) bool { return v.Gate == nil || !v.Gate.OpenedAt.Equal(opened) }, opts.PollInterval, opts.Progress)
			if err != nil {
				return err
			}
			continue
		}
		if err := person.answer(ctx, view); err != nil {
			return fmt.Errorf("the demo's person at gate %s: %w", view.Gate.Name, err)
		}
	}

	// The gate is open (or the cutover ended): show what a person would see.
	result := demoResult{Cutover: view}
	if view.Preflight != nil && view.Gate != nil && view.Gate.Name == workflows.GatePreflight {
		report, err := cli.ReadReport(ctx, acts.Store, storeAt, view.CutoverStatus)
		if err != nil {
			return err
		}
		result.Report = &report
	}
	if opts.JSON {
		if err := cli.WriteJSON(stdout, result); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(stdout)
		if result.Report != nil {
			cli.RenderReport(stdout, *result.Report)
			fmt.Fprintln(stdout)
		}
		statusview.WriteCutover(stdout, view, link, time.Now())
		if view.Gate == nil {
			renderSandboxState(stdout, sb)
		}
	}
	if view.Execution.Status == "failed" {
		return fmt.Errorf("the cutover failed: %s", words.OneLine(view.Step))
	}
	if view.Phase == workflows.PhaseCompleted {
		awsEnv := sandboxAWSEnv(sb.AWSURL, w.AWS.Region, sandboxworker.AccessKeyID, sandboxworker.SecretAccessKey)
		if err := tryRotation(ctx, tc, req, view.Resources, flags, sb.AWSURL, awsEnv, say); err != nil {
			return err
		}
	}
	if opts.Exit {
		return nil
	}

	say("\nEverything keeps running: the Temporal UI shows the cutover at\n\n    %s\n", link)
	if view.Gate != nil {
		say("Decide from another terminal, for example:\n")
		for _, command := range gateCommands(*view.Gate, id, flags) {
			say("    %s", command)
		}
		say("")
	}
	say("Press Ctrl-C to stop the worker, the sandbox and the dev server.")
	<-ctx.Done()
	return nil
}

// demoKeys is where the demo's payload keys are: those the environment
// names, else a key file in the data directory, made on the first demo and
// kept, since the dev server keeps the histories it encrypted. The starter
// finds that file by itself when given the same data directory.
func demoKeys(dataDir string, getenv func(string) string, say func(string, ...any)) (codec.KeySource, error) {
	if keys := codec.KeySourceFromEnv(getenv); keys.Configured() {
		say("Payloads are encrypted with the keys of %s / %s", codec.EnvKeys, codec.EnvKeyFile)
		return keys, nil
	}
	path := cli.DataDirKeyFile(dataDir)
	if _, err := os.Stat(path); err == nil {
		say("Payloads are encrypted with the key in %s (made by an earlier demo)", path)
		return codec.KeySource{KeyFile: path}, nil
	}
	if err := codec.WriteNewKeyFile(path, time.Now()); err != nil {
		return codec.KeySource{}, err
	}
	say("Payloads are encrypted with a new key, kept in %s (mode 600); a worker or starter elsewhere needs %s=%s", path, codec.EnvKeyFile, path)
	return codec.KeySource{KeyFile: path}, nil
}

// loadDemoWorld is the world file's organisation, or the sample.
func loadDemoWorld(path string) (*world.World, string, error) {
	if path == "" {
		return world.Sample(), "the sample organisation (corp.example)", nil
	}
	w, err := world.Load(path)
	if err != nil {
		return nil, "", err
	}
	return w, "the world in " + path, nil
}

// startDemoCutover starts the cutover. The dev server keeps its state
// between demos, so a cutover left waiting by an earlier demo may still run
// under the same ID: the demo, unlike `starter start`, replaces it.
func startDemoCutover(ctx context.Context, tc client.Client, req workflows.CutoverRequest, say func(string, ...any)) (string, error) {
	id := workflows.CutoverWorkflowID(req.IdentityStoreID)
	if desc, err := tc.DescribeWorkflow(ctx, id, ""); err == nil &&
		desc.RawResponse.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		say("An earlier demo's cutover %s is still open; it is terminated and replaced by a new one", id)
	}
	run, err := tc.ExecuteWorkflow(ctx, cli.CutoverStartOptions(id, enumspb.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING),
		workflows.CutoverWorkflowName, req)
	if err != nil {
		return "", fmt.Errorf("start the cutover: %w", err)
	}
	return run.GetID(), nil
}

// demoFlags are the flags the starter's commands need to reach this demo's
// server and data directory when they are not the defaults.
func demoFlags(address, dataDir string) string {
	flags := ""
	if address != temporalclient.DefaultAddress {
		flags += " --address " + address
	}
	if rel, err := filepath.Rel(mustGetwd(), dataDir); err != nil || rel != store.DefaultDataDir {
		flags += " --data-dir " + cli.ShellQuote(dataDir)
	}
	return flags
}

// renderSandboxState shows what the cutover left in the sandbox: the
// identity store that SCIM provisioned and the account assignments.
func renderSandboxState(out io.Writer, sb *sandbox.Sandbox) {
	state := sb.IdentityStoreSnapshot()
	provisioned := 0
	for _, u := range state.Users {
		if u.ExternalID != "" {
			provisioned++
		}
	}
	source := sb.IdentitySource()
	fmt.Fprintf(out, "\nThe sandbox now: identity source %s, automatic provisioning %v; the identity store %s holds %d users "+
		"(%d provisioned by Entra through SCIM) and %d groups; %d account assignments.\n",
		source.Source, source.AutomaticProvisioning, source.IdentityStoreID, len(state.Users), provisioned, len(state.Groups), len(sb.AccountAssignments()))
}

// followCutover prints the cutover's steps and its activities' progress as
// they change, until stop says so or the cutover ends.
func followCutover(ctx context.Context, tc client.Client, id string, stop func(statusview.Cutover) bool, interval time.Duration, out io.Writer) (statusview.Cutover, error) {
	var lastStep string
	lastProgress := map[string]string{}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		view, err := cli.FetchStatus(ctx, tc, id)
		if err != nil {
			return statusview.Cutover{}, err
		}
		if view.QueryError == "" && view.Step != lastStep {
			fmt.Fprintf(out, "  %s  %s\n", time.Now().Format("15:04:05"), words.OneLine(view.Step))
			lastStep = view.Step
		}
		for _, p := range view.InProgress {
			line := progressLine(p)
			if line != "" && line != lastProgress[p.Activity] {
				fmt.Fprintf(out, "  %s    %s\n", time.Now().Format("15:04:05"), line)
				lastProgress[p.Activity] = line
			}
		}
		if view.QueryError == "" && stop(view) {
			return view, nil
		}
		if view.Execution.Status != "running" {
			return view, nil
		}
		select {
		case <-ctx.Done():
			return statusview.Cutover{}, fmt.Errorf("stopped while following the cutover: %w", ctx.Err())
		case <-ticker.C:
		}
	}
}

// progressLine is an activity's progress on one line, "" when it reports none.
func progressLine(p statusview.ActivityProgress) string {
	var parts []string
	if len(p.Progress) > 0 {
		parts = append(parts, statusview.FormatProgress(p.Progress))
	}
	if p.LastFailure != "" {
		parts = append(parts, fmt.Sprintf("attempt %d, the last one failed: %s", p.Attempt, words.OneLine(p.LastFailure)))
	}
	if len(parts) == 0 {
		return ""
	}
	return p.Activity + ": " + strings.Join(parts, "; ")
}

func mustGetwd() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	return dir
}

// tryRotation makes the rotation the completed cutover scheduled check the
// sandbox's job every few seconds after a swap, as the sandbox's cycles
// run, and says how to try it: move the sandbox's clock a year on, run it.
func tryRotation(ctx context.Context, tc client.Client, req workflows.CutoverRequest, res *workflows.Resources, flags, sandboxURL, awsEnv string, say func(string, ...any)) error {
	rotation, err := workflows.RotationRequestFromCutover(req, res)
	if err != nil {
		return err
	}
	rotation.HealthInterval, rotation.HealthDeadline = "2s", "2m"
	if _, err := schedules.EnsureRotation(ctx, tc.ScheduleClient(), schedules.RotationSchedule{Request: rotation}); err != nil {
		return err
	}
	console := "bin/sandbox console --sandbox-url " + sandboxURL
	say("The cutover scheduled the SCIM token's rotation (daily). To try it, let a year pass in the sandbox and run it now:\n")
	say("    %s advance-clock --by 8784h", console)
	say("    bin/starter rotation run --identity-store %s%s", req.IdentityStoreID, flags)
	say("    %s create-token --token-file new-token", console)
	say("    %s bin/starter submit-scim --workflow-id RUN_ID --token-file new-token%s", awsEnv, flags)
	say("    %s identity-source                # the tokens, oldest first", console)
	say("    %s delete-token OLD_TOKEN_ID", console)
	say("    bin/starter approve --workflow-id RUN_ID --gate %s%s\n", workflows.GateDeleteOldToken, flags)
	return nil
}
