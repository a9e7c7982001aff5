package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/platformguide/ssocutover/activities/schedules"
	"github.com/platformguide/ssocutover/internal/awsclient"
	"github.com/platformguide/ssocutover/internal/secretref"
	"github.com/platformguide/ssocutover/internal/secretstore"
	"github.com/platformguide/ssocutover/internal/words"
	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/statusview"
)

// The SCIM token rotation: a Temporal Schedule runs the ScimTokenRotation
// workflow daily; these commands create it, run it now, and show it. Its
// gates take the same commands as the cutover's (submit-scim, approve,
// reject) with the run's --workflow-id.

// rotationRunPrefix starts the workflow ID of every rotation run; the
// schedule appends the time it started the run.
const rotationRunPrefix = "scim-token-rotation-"

// isRotation reports whether a workflow ID is a rotation run's.
func isRotation(workflowID string) bool {
	return strings.HasPrefix(workflowID, rotationRunPrefix)
}

func (c *cli) rotationCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rotation",
		Short: "Keep the SCIM token of a completed cutover fresh: schedule, run and follow its rotation",
		Long: `IAM Identity Center's SCIM access tokens expire after a year, and no API creates
one. The ScimTokenRotation workflow checks the token and Entra's provisioning
job; within the warning window (30 days by default), or at once when the job
is quarantined because the token stopped working, it asks a person for a new
token at gate new-scim-token, swaps it in once it works, and asks for the old
one to be deleted at gate delete-old-token.

A Temporal Schedule runs it (daily by default). A run that waits at a gate
keeps the schedule from starting another.`,
	}
	cmd.AddCommand(c.rotationScheduleCommand(), c.rotationRunCommand(), c.rotationStatusCommand())
	return cmd
}

// rotationScheduleOptions are the flags of `rotation schedule`.
type rotationScheduleOptions struct {
	target
	requestFile    string
	every          time.Duration
	warningWindow  string
	healthInterval string
	healthDeadline string
	tokenExpiresAt string
}

func (c *cli) rotationScheduleCommand() *cobra.Command {
	var o rotationScheduleOptions
	cmd := &cobra.Command{
		Use:   "schedule (--identity-store d-... | --workflow-id CUTOVER | --request FILE) [--every 24h] [--warning-window 720h] [--token-expires-at DATE]",
		Short: "Create or update the Temporal Schedule that rotates the SCIM token",
		Long: `Create the schedule that runs the SCIM token rotation, or update the one that
exists. The rotation's request (enterprise app, provisioning job, SCIM endpoint,
token secret) comes from the completed cutover, or from --request (JSON or
YAML with the fields of ScimTokenRotationRequest).

--token-expires-at gives the current token's expiry (2027-03-01) when it was
stored in Secrets Manager later than it was created in the console; it applies
to the secret's current version only.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.scheduleRotation(cmd.Context(), o)
		},
	}
	o.target.register(cmd.Flags())
	cmd.Flags().StringVar(&o.requestFile, "request", "", "a rotation request file, instead of reading the cutover")
	cmd.Flags().DurationVar(&o.every, "every", schedules.DefaultEvery, "how often a run checks the token")
	cmd.Flags().StringVar(&o.warningWindow, "warning-window", "", "how long before expiry to ask for a new token (default 720h)")
	cmd.Flags().StringVar(&o.healthInterval, "health-interval", "", "how often to check the job after a token swap (default 2m)")
	cmd.Flags().StringVar(&o.healthDeadline, "health-deadline", "", "how long to wait for a healthy cycle after a token swap (default 2h)")
	cmd.Flags().StringVar(&o.tokenExpiresAt, "token-expires-at", "", "when the current token expires (2027-03-01 or RFC 3339), if not a year after its secret version")
	return cmd
}

func (c *cli) scheduleRotation(ctx context.Context, o rotationScheduleOptions) error {
	tc, err := c.dial(ctx)
	if err != nil {
		return err
	}
	defer tc.Close()
	req, err := c.rotationRequest(ctx, tc, o)
	if err != nil {
		return err
	}
	created, err := schedules.EnsureRotation(ctx, tc.ScheduleClient(), schedules.RotationSchedule{Request: req, Every: o.every})
	if err != nil {
		return err
	}
	verb := "Updated"
	if created {
		verb = "Created"
	}
	id := workflows.RotationScheduleID(req.IdentityStoreID)
	fmt.Fprintf(c.stdout, "%s the Temporal Schedule %s: every %s a run checks the SCIM token (secret %s) of %s and Entra's provisioning job %s.\n\n",
		verb, id, o.every, req.TokenSecretID(), req.IdentityStoreID, req.JobID)
	fmt.Fprintf(c.stdout, "Run it now:     starter rotation run --identity-store %s\n", req.IdentityStoreID)
	fmt.Fprintf(c.stdout, "                (or: temporal schedule trigger --schedule-id %s)\n", id)
	fmt.Fprintf(c.stdout, "Follow it:      starter rotation status --identity-store %s\n", req.IdentityStoreID)
	return nil
}

// rotationRequest is the request the schedule runs with: read from a file,
// or made from the completed cutover, then the flags applied.
func (c *cli) rotationRequest(ctx context.Context, tc client.Client, o rotationScheduleOptions) (workflows.ScimTokenRotationRequest, error) {
	var req workflows.ScimTokenRotationRequest
	if o.requestFile != "" {
		data, err := os.ReadFile(o.requestFile)
		if err != nil {
			return req, fmt.Errorf("read the rotation request: %w", err)
		}
		if err := decodeRequestFile(o.requestFile, data, &req); err != nil {
			return req, err
		}
	} else {
		id, err := o.target.resolve()
		if err != nil {
			return req, err
		}
		view, err := FetchStatus(ctx, tc, id)
		if err != nil {
			return req, err
		}
		if view.QueryError != "" {
			return req, errors.New(view.QueryError)
		}
		if view.Phase != workflows.PhaseCompleted {
			return req, fmt.Errorf("the cutover %s is %s, not completed (%s): schedule the rotation once it has completed", id, view.Phase, view.Step)
		}
		if req, err = workflows.RotationRequestFromCutover(view.Request, view.Resources); err != nil {
			return req, err
		}
	}
	for _, f := range []struct{ flag, into *string }{
		{&o.warningWindow, &req.WarningWindow}, {&o.healthInterval, &req.HealthInterval}, {&o.healthDeadline, &req.HealthDeadline},
	} {
		if *f.flag != "" {
			*f.into = *f.flag
		}
	}
	if o.tokenExpiresAt != "" {
		expires, err := parseDate(o.tokenExpiresAt)
		if err != nil {
			return req, err
		}
		cfg, err := awsclient.Load(ctx, awsclient.Options{Region: req.Region})
		if err != nil {
			return req, err
		}
		secret, err := secretstore.Describe(ctx, secretsmanager.NewFromConfig(cfg), req.TokenSecretID())
		if err != nil {
			return req, err
		}
		req.TokenExpiresAt, req.TokenVersionID = expires, secret.CurrentVersionID
	}
	return req, req.Validate()
}

// parseDate reads a date (2027-03-01, as midnight UTC) or an RFC 3339 time.
func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--token-expires-at %q: want a date such as 2027-03-01, or a time such as 2027-03-01T09:30:00Z", s)
	}
	return t, nil
}

func (c *cli) rotationRunCommand() *cobra.Command {
	return identityStoreCommand("run", "Run the SCIM token rotation now (the schedule starts it; none starts while one runs)", c.runRotation)
}

// identityStoreCommand is a rotation command about one identity store.
func identityStoreCommand(name, short string, run func(ctx context.Context, identityStore string) error) *cobra.Command {
	var identityStore string
	cmd := &cobra.Command{
		Use:   name + " --identity-store d-...",
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd.Context(), identityStore)
		},
	}
	cmd.Flags().StringVar(&identityStore, "identity-store", "", "the identity store ID (d-...) whose SCIM token it is")
	_ = cmd.MarkFlagRequired("identity-store")
	return cmd
}

// rotationStartWait bounds how long `rotation run` looks for the run the
// schedule started.
const rotationStartWait = 30 * time.Second

// withRotationSchedule connects to Temporal, describes the rotation
// schedule of identityStore and runs fn with them.
func (c *cli) withRotationSchedule(ctx context.Context, identityStore string, fn func(tc client.Client, dc converter.DataConverter, info schedules.RotationInfo) error) error {
	tc, err := c.dial(ctx)
	if err != nil {
		return err
	}
	defer tc.Close()
	dc, err := c.dataConverter()
	if err != nil {
		return err
	}
	info, err := schedules.DescribeRotation(ctx, tc.ScheduleClient(), dc, identityStore)
	if err != nil {
		return err
	}
	return fn(tc, dc, info)
}

func (c *cli) runRotation(ctx context.Context, identityStore string) error {
	return c.withRotationSchedule(ctx, identityStore, func(tc client.Client, dc converter.DataConverter, before schedules.RotationInfo) error {
		return c.triggerRotation(ctx, tc, dc, identityStore, before)
	})
}

// triggerRotation starts a run unless one is going on, and shows it.
func (c *cli) triggerRotation(ctx context.Context, tc client.Client, dc converter.DataConverter, identityStore string, before schedules.RotationInfo) error {
	if len(before.Running) > 0 {
		run := before.Running[0].WorkflowID
		fmt.Fprintf(c.stdout, "A rotation run is going on already (%s); the schedule starts no second one.\n\n", run)
		return c.printRotationRun(ctx, tc, run, false)
	}
	if err := schedules.TriggerRotation(ctx, tc.ScheduleClient(), identityStore); err != nil {
		return err
	}
	run, err := awaitRotationRun(ctx, tc, dc, identityStore, len(before.Recent))
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Started the SCIM token rotation run %s.\n\n", run)
	return c.printRotationRun(ctx, tc, run, false)
}

// awaitRotationRun waits until the schedule has started a run after the
// ones it had started (seen) and returns its workflow ID.
func awaitRotationRun(ctx context.Context, tc client.Client, dc converter.DataConverter, identityStore string, seen int) (string, error) {
	deadline := time.Now().Add(rotationStartWait)
	for {
		info, err := schedules.DescribeRotation(ctx, tc.ScheduleClient(), dc, identityStore)
		if err != nil {
			return "", err
		}
		if len(info.Recent) > seen || len(info.Running) > 0 {
			if len(info.Running) > 0 {
				return info.Running[0].WorkflowID, nil
			}
			return info.Recent[len(info.Recent)-1].WorkflowID, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("the schedule %s did not start a run within %s: check it with `temporal schedule describe --schedule-id %s` (is it paused?)",
				info.ScheduleID, rotationStartWait, info.ScheduleID)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (c *cli) rotationStatusCommand() *cobra.Command {
	return identityStoreCommand("status", "Show the rotation schedule, the run going on (with what it waits for) and the last run's outcome", c.rotationStatus)
}

func (c *cli) rotationStatus(ctx context.Context, identityStore string) error {
	return c.withRotationSchedule(ctx, identityStore, func(tc client.Client, _ converter.DataConverter, info schedules.RotationInfo) error {
		return c.showRotation(ctx, tc, info)
	})
}

// showRotation prints the schedule, the runs going on and the last outcome.
func (c *cli) showRotation(ctx context.Context, tc client.Client, info schedules.RotationInfo) error {
	renderRotationSchedule(c.stdout, info)
	for _, run := range info.Running {
		fmt.Fprintln(c.stdout)
		if err := c.printRotationRun(ctx, tc, run.WorkflowID, false); err != nil {
			return err
		}
	}
	if len(info.Running) == 0 && len(info.Recent) > 0 {
		last := info.Recent[len(info.Recent)-1]
		fmt.Fprintf(c.stdout, "\nLast run %s, started %s:\n", last.WorkflowID, statusview.FormatTime(last.ActualAt))
		var result workflows.ScimTokenRotationResult
		if err := tc.GetWorkflow(ctx, last.WorkflowID, "").Get(ctx, &result); err != nil {
			fmt.Fprintf(c.stdout, "  %s\n", words.OneLine(describeRunError(err)))
		} else {
			fmt.Fprintf(c.stdout, "  %s: %s\n", result.Outcome, result.Message)
		}
	}
	return nil
}

// describeRunError is what a failed run's error says: the workflow's own
// message, as decisionError gives it, without the SDK's wrapping.
func describeRunError(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return "failed: " + app.Message()
	}
	return "failed: " + err.Error()
}

func renderRotationSchedule(w io.Writer, info schedules.RotationInfo) {
	fmt.Fprintf(w, "SCIM token rotation schedule %s\n", info.ScheduleID)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  Identity Center\t%s (%s)\n", info.Request.IdentityStoreID, info.Request.Region)
	fmt.Fprintf(tw, "  Token secret\t%s\n", info.Request.TokenSecretID())
	fmt.Fprintf(tw, "  Provisioning job\t%s of %q\n", info.Request.JobID, info.Request.App.DisplayName)
	every := fmt.Sprintf("every %s", info.Every)
	if info.Paused {
		every += " (PAUSED: temporal schedule toggle --unpause --schedule-id " + info.ScheduleID + ")"
	}
	fmt.Fprintf(tw, "  Runs\t%s\n", every)
	if len(info.NextRuns) > 0 {
		fmt.Fprintf(tw, "  Next run\t%s\n", statusview.FormatTime(info.NextRuns[0]))
	}
	tw.Flush()
}

func fetchRotationStatus(ctx context.Context, tc client.Client, id string) (statusview.Rotation, error) {
	execution, progress, err := describeExecution(ctx, tc, id)
	if err != nil {
		return statusview.Rotation{}, err
	}
	view := statusview.Rotation{Execution: execution, InProgress: progress}
	view.QueryError, err = queryStatus(ctx, tc, id, execution.RunID, &view.ScimTokenRotationStatus)
	return view, err
}

// submitRotationToken stores a new SCIM token as a pending version of the
// rotation's token secret and sends its reference at gate new-scim-token.
func (c *cli) submitRotationToken(ctx context.Context, id, endpoint string, token secretstore.Value, by string) error {
	tc, err := c.dial(ctx)
	if err != nil {
		return err
	}
	defer tc.Close()
	view, err := fetchRotationStatus(ctx, tc, id)
	if err != nil {
		return err
	}
	if view.QueryError != "" {
		return errors.New(view.QueryError)
	}
	if view.Gate == nil || view.Gate.Name != workflows.GateNewSCIMToken {
		return fmt.Errorf("%s is not waiting at gate %s (%s): nothing was stored", id, workflows.GateNewSCIMToken, view.Step)
	}
	cfg, err := awsclient.Load(ctx, awsclient.Options{Region: view.Request.Region})
	if err != nil {
		return err
	}
	ref, err := storePendingSCIMToken(ctx, secretsmanager.NewFromConfig(cfg), view.Request.TokenSecretID(), token)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Stored the new SCIM token in Secrets Manager as a pending version: %s\n", ref)
	fmt.Fprintf(c.stdout, "The workflow checks it, swaps it into Entra's provisioning job and waits for a healthy cycle (up to %s); this waits for that.\n",
		cmp.Or(view.Request.HealthDeadline, workflows.DefaultHealthDeadline.String()))
	status, err := SendDecision[workflows.ScimTokenRotationStatus](ctx, tc, id, workflows.OpSubmitSCIM, workflows.GateDecision{
		Gate: workflows.GateNewSCIMToken, By: by, SCIMEndpoint: endpoint, SCIMToken: &ref,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "%s at gate %s by %s: the job runs on the new token.\n\n", workflows.OpSubmitSCIM, workflows.GateNewSCIMToken, by)
	statusview.WriteRotation(c.stdout, statusview.Rotation{ScimTokenRotationStatus: status}, c.workflowLink(id), time.Now())
	return nil
}

// storePendingSCIMToken keeps token as a new version of the secret, labelled
// AWSPENDING: it becomes AWSCURRENT only once the job works with it.
func storePendingSCIMToken(ctx context.Context, secrets secretstore.API, secret string, token secretstore.Value) (secretref.Ref, error) {
	requestToken, err := newRequestToken()
	if err != nil {
		return secretref.Ref{}, err
	}
	ref, err := secretstore.PutPending(ctx, secrets, secret, token, requestToken)
	if err != nil {
		return secretref.Ref{}, fmt.Errorf("store the new SCIM token in Secrets Manager (nothing was sent to the workflow): %w", err)
	}
	return ref, nil
}

// dataConverter is the converter payloads are written with: the codec's.
func (c *cli) dataConverter() (converter.DataConverter, error) {
	payloads, err := c.keySource().LoadCodec()
	if err != nil {
		return nil, err
	}
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), payloads), nil
}

// printRotationRun is `starter status` of a rotation run.
func (c *cli) printRotationRun(ctx context.Context, tc client.Client, id string, asJSON bool) error {
	view, err := fetchRotationStatus(ctx, tc, id)
	if err != nil {
		return err
	}
	if asJSON {
		return WriteJSON(c.stdout, view)
	}
	statusview.WriteRotation(c.stdout, view, c.workflowLink(id), time.Now())
	return nil
}
