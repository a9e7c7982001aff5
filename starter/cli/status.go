package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/platformguide/ssocutover/internal/words"
	"github.com/platformguide/ssocutover/workflows"
)

// target names the cutover a command is about: by workflow ID, or by the
// identity store the workflow ID is derived from.
type target struct {
	workflowID    string
	identityStore string
}

func (t *target) register(fs *pflag.FlagSet) {
	fs.StringVarP(&t.workflowID, "workflow-id", "w", "", "the cutover's workflow ID (cutover-d-...)")
	fs.StringVar(&t.identityStore, "identity-store", "", "the identity store ID (d-...) of the cutover, instead of --workflow-id")
}

// withCutover resolves the cutover t names, connects to Temporal and runs
// fn; the connection is closed when fn returns.
func (c *cli) withCutover(ctx context.Context, t target, fn func(tc client.Client, id string) error) error {
	id, err := t.resolve()
	if err != nil {
		return err
	}
	tc, err := c.dial(ctx)
	if err != nil {
		return err
	}
	defer tc.Close()
	return fn(tc, id)
}

func (t target) resolve() (string, error) {
	switch {
	case t.workflowID != "" && t.identityStore != "":
		if t.workflowID != workflows.CutoverWorkflowID(t.identityStore) {
			return "", fmt.Errorf("--workflow-id %s and --identity-store %s name different cutovers: give one", t.workflowID, t.identityStore)
		}
		return t.workflowID, nil
	case t.workflowID != "":
		return t.workflowID, nil
	case t.identityStore != "":
		return workflows.CutoverWorkflowID(t.identityStore), nil
	}
	return "", errors.New("say which cutover with --workflow-id (cutover-d-...) or --identity-store (d-...)")
}

func (c *cli) statusCommand() *cobra.Command {
	var t target
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status (--workflow-id ID | --identity-store d-...)",
		Short: "Show where a cutover is, what it waits for, and what the preflight found",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withCutover(cmd.Context(), t, func(tc client.Client, id string) error {
				if isRotation(id) {
					return c.printRotationRun(cmd.Context(), tc, id, asJSON)
				}
				view, err := FetchStatus(cmd.Context(), tc, id)
				if err != nil {
					return err
				}
				if asJSON {
					return WriteJSON(c.stdout, view)
				}
				RenderStatus(c.stdout, view, c.workflowLink(id), time.Now())
				return nil
			})
		},
	}
	t.register(cmd.Flags())
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	return cmd
}

// statusView is what status shows: the workflow's own status query answer,
// plus what only the server knows: whether the workflow still runs and the
// progress its running activities report by heartbeat.
type StatusView struct {
	workflows.CutoverStatus
	Execution  executionView      `json:"execution"`
	InProgress []ActivityProgress `json:"inProgress"`
	// QueryError is set when the status query got no answer (no worker
	// running, for instance); the fields above are then empty.
	QueryError string `json:"queryError,omitempty"`
}

type executionView struct {
	RunID     string     `json:"runId"`
	Status    string     `json:"status"`
	StartTime time.Time  `json:"startTime"`
	CloseTime *time.Time `json:"closeTime,omitempty"`
}

// activityProgress is a running (or retrying) activity.
type ActivityProgress struct {
	Activity      string          `json:"activity"`
	State         string          `json:"state"`
	Attempt       int32           `json:"attempt"`
	Started       *time.Time      `json:"started,omitempty"`
	LastHeartbeat *time.Time      `json:"lastHeartbeat,omitempty"`
	Progress      json.RawMessage `json:"progress,omitempty"`
	LastFailure   string          `json:"lastFailure,omitempty"`
}

// statusQueryTimeout bounds the status query: a query is answered by a
// worker, and with none running it would wait for one indefinitely.
const statusQueryTimeout = 10 * time.Second

// fetchStatus asks the server about the execution and the workflow (through
// a worker) about its status.
func FetchStatus(ctx context.Context, tc client.Client, id string) (StatusView, error) {
	execution, progress, err := describeExecution(ctx, tc, id)
	if err != nil {
		return StatusView{}, err
	}
	view := StatusView{Execution: execution, InProgress: progress}
	view.QueryError, err = queryStatus(ctx, tc, id, execution.RunID, &view.CutoverStatus)
	return view, err
}

// describeExecution is what the server knows of workflow id: whether it
// runs, and the progress its running activities report by heartbeat.
func describeExecution(ctx context.Context, tc client.Client, id string) (executionView, []ActivityProgress, error) {
	described, err := tc.DescribeWorkflow(ctx, id, "")
	if err != nil {
		var notFound *serviceerror.NotFound
		if errors.As(err, &notFound) {
			return executionView{}, nil, fmt.Errorf("no workflow with ID %s in this namespace: check the ID (a cutover's is cutover-<identity store ID>, "+
				"a token rotation run's starts with %s<identity store ID>-) and --namespace", id, rotationRunPrefix)
		}
		return executionView{}, nil, fmt.Errorf("describe workflow %s: %w", id, err)
	}
	desc := described.RawResponse
	info := desc.GetWorkflowExecutionInfo()
	execution := executionView{
		RunID:     info.GetExecution().GetRunId(),
		Status:    executionStatus(info.GetStatus()),
		StartTime: info.GetStartTime().AsTime(),
	}
	if info.GetCloseTime() != nil {
		t := info.GetCloseTime().AsTime()
		execution.CloseTime = &t
	}
	progress := []ActivityProgress{}
	for _, pa := range desc.GetPendingActivities() {
		p := ActivityProgress{
			Activity:    pa.GetActivityType().GetName(),
			State:       strings.ToLower(strings.TrimPrefix(pa.GetState().String(), "PENDING_ACTIVITY_STATE_")),
			Attempt:     pa.GetAttempt(),
			Progress:    heartbeatProgress(pa.GetHeartbeatDetails()),
			LastFailure: pa.GetLastFailure().GetMessage(),
		}
		if ts := pa.GetLastStartedTime(); ts != nil {
			t := ts.AsTime()
			p.Started = &t
		}
		if ts := pa.GetLastHeartbeatTime(); ts != nil {
			t := ts.AsTime()
			p.LastHeartbeat = &t
		}
		progress = append(progress, p)
	}
	return execution, progress, nil
}

// queryStatus asks run runID of workflow id for its status, into status.
// queryError says why the workflow did not answer (no worker running, for
// instance); err is only a cancelled ctx.
func queryStatus(ctx context.Context, tc client.Client, id, runID string, status any) (queryError string, err error) {
	queryCtx, cancel := context.WithTimeout(ctx, statusQueryTimeout)
	defer cancel()
	value, err := tc.QueryWorkflow(queryCtx, id, runID, workflows.QueryStatus)
	if err == nil {
		err = value.Get(status)
	}
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return fmt.Sprintf("the workflow did not answer the status query (%v): is a worker running on task queue ssocutover? Start one with bin/worker", err), nil
	}
	return "", nil
}

func executionStatus(s enumspb.WorkflowExecutionStatus) string {
	name := strings.TrimPrefix(s.String(), "WORKFLOW_EXECUTION_STATUS_")
	return strings.ReplaceAll(strings.ToLower(name), "_", "-")
}

// heartbeatProgress is the last heartbeat's details as JSON: the activities
// report their progress (pages read, objects seen) that way.
func heartbeatProgress(details *commonpb.Payloads) json.RawMessage {
	payloads := details.GetPayloads()
	if len(payloads) == 0 {
		return nil
	}
	values := make([]json.RawMessage, 0, len(payloads))
	for _, p := range payloads {
		var v any
		if err := converter.GetDefaultDataConverter().FromPayload(p, &v); err != nil {
			continue
		}
		data, err := json.Marshal(v)
		if err != nil {
			continue
		}
		values = append(values, data)
	}
	switch len(values) {
	case 0:
		return nil
	case 1:
		return values[0]
	}
	data, _ := json.Marshal(values)
	return data
}

// renderStatus writes the status for a person reading a terminal.
func RenderStatus(w io.Writer, v StatusView, link string, now time.Time) {
	s := v.CutoverStatus
	id := cmp.Or(s.WorkflowID, "(unknown)")
	fmt.Fprintf(w, "Cutover %s\n", id)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if s.Request.IdentityStoreID != "" {
		fmt.Fprintf(tw, "  Identity Center\t%s (%s)\n", s.Request.IdentityStoreID, s.Request.Region)
		fmt.Fprintf(tw, "  Entra tenant\t%s\n", s.Request.EntraTenantID)
		requested := s.Request.RequestedBy
		if s.Request.Ticket != "" {
			requested += ", ticket " + s.Request.Ticket
		}
		fmt.Fprintf(tw, "  Requested by\t%s\n", requested)
	}
	if v.Execution.Status != "" {
		workflowLine := fmt.Sprintf("%s, started %s", v.Execution.Status, formatTime(v.Execution.StartTime))
		if v.Execution.CloseTime != nil {
			workflowLine += ", closed " + formatTime(*v.Execution.CloseTime)
		}
		fmt.Fprintf(tw, "  Workflow\t%s\n", workflowLine)
	}
	if link != "" {
		fmt.Fprintf(tw, "  Temporal UI\t%s\n", link)
	}
	if s.Phase != "" {
		fmt.Fprintf(tw, "  Phase\t%s\n", s.Phase)
		fmt.Fprintf(tw, "  Now\t%s\n", words.OneLine(s.Step))
	}
	tw.Flush()

	if v.QueryError != "" {
		fmt.Fprintf(w, "\n%s\n", v.QueryError)
	}

	if len(v.InProgress) > 0 {
		fmt.Fprintf(w, "\nIn progress:\n")
		for _, p := range v.InProgress {
			renderProgress(w, p, now)
		}
	}

	if p := s.Preflight; p != nil {
		sum := p.Summary
		fmt.Fprintf(w, "\nPreflight run %d, finished %s: %s, %s.\n", p.Run, formatTime(p.FinishedAt),
			words.Count(sum.Blockers, "blocker"), words.Count(sum.Warnings, "warning"))
		fmt.Fprintf(w, "  Checked %s (%d matched in Entra), %s (%d to provision), %s in %s, %s.\n",
			words.Count(sum.Stats.Groups, "group"), sum.Stats.MatchedGroups,
			words.Count(sum.Stats.AWSUsers, "user"), sum.Stats.UsersToProvision,
			words.Count(sum.Stats.Assignments, "account assignment"), words.Count(sum.Stats.Accounts, "account"),
			words.Count(sum.Stats.PermissionSets, "permission set"))
		if len(sum.ByCode) > 0 {
			fmt.Fprintln(w)
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "  SEVERITY\tFINDING\tCOUNT\n")
			for _, bySeverity := range []string{"blocker", "warning"} {
				for _, cc := range sum.ByCode {
					if string(cc.Severity) == bySeverity {
						fmt.Fprintf(tw, "  %s\t%s\t%d\n", cc.Severity, cc.Code, cc.Count)
					}
				}
			}
			for _, cc := range sum.ByCode { // any severity added later
				if cc.Severity != "blocker" && cc.Severity != "warning" {
					fmt.Fprintf(tw, "  %s\t%s\t%d\n", cc.Severity, cc.Code, cc.Count)
				}
			}
			tw.Flush()
			fmt.Fprintln(w)
		}
		if len(p.APICalls) > 0 {
			total := 0
			parts := make([]string, 0, len(p.APICalls))
			for _, oc := range p.APICalls {
				total += oc.Calls
				parts = append(parts, fmt.Sprintf("%s %d", oc.Operation, oc.Calls))
			}
			fmt.Fprintf(w, "  API calls: %d (%s)\n", total, strings.Join(parts, ", "))
		}
		if s.Gate == nil {
			fmt.Fprintf(w, "  Every finding with the names it concerns: starter report --workflow-id %s\n", id)
		}
	}

	if len(s.Decisions) > 0 {
		fmt.Fprintf(w, "\nDecisions:\n")
		for _, d := range s.Decisions {
			line := fmt.Sprintf("  %s  %s at %s by %s", formatTime(d.At), d.Action, d.Gate, words.OneLine(d.By))
			if d.Override {
				line += " (override)"
			}
			if d.Reason != "" {
				line += ": " + words.OneLine(d.Reason)
			}
			fmt.Fprintln(w, line)
		}
	}

	if s.Resources != nil {
		fmt.Fprintf(w, "\nCreated so far:\n")
		for _, line := range workflows.ResourceLines(s.Resources) {
			fmt.Fprintf(w, "  %s\n", line)
		}
	}
	if s.Rollback != nil {
		fmt.Fprintf(w, "\nRollback:\n")
		for _, line := range workflows.RollbackLines(s.Rollback, s.PendingCompensations) {
			fmt.Fprintf(w, "  %s\n", line)
		}
	}

	if s.RefusedTotal > 0 {
		fmt.Fprintf(w, "\nRefused signals: %d", s.RefusedTotal)
		if s.RefusedTotal > len(s.Refused) {
			fmt.Fprintf(w, " (the newest %d below)", len(s.Refused))
		}
		fmt.Fprintln(w, ":")
		for _, r := range s.Refused {
			fmt.Fprintf(w, "  %s  %s by %s: %s\n", formatTime(r.At), r.Operation, cmp.Or(words.OneLine(r.By), "-"), words.OneLine(r.Error))
		}
	}

	// What the person must do comes last, where the eye lands.
	if s.Gate != nil {
		fmt.Fprintf(w, "\nWaiting for you at gate %q since %s (%s ago). What to do:\n\n", s.Gate.Name,
			formatTime(s.Gate.OpenedAt), roundDuration(now.Sub(s.Gate.OpenedAt)))
		fmt.Fprintln(w, IndentLines(s.Gate.Instructions, "  "))
	}
}

func renderProgress(w io.Writer, p ActivityProgress, now time.Time) {
	line := fmt.Sprintf("  %s (%s, attempt %d", p.Activity, p.State, p.Attempt)
	if p.Started != nil && p.State == "started" {
		line += fmt.Sprintf(", running for %s", roundDuration(now.Sub(*p.Started)))
	}
	if p.LastHeartbeat != nil {
		line += fmt.Sprintf(", last heartbeat %s ago", roundDuration(now.Sub(*p.LastHeartbeat)))
	}
	line += ")"
	if len(p.Progress) > 0 {
		line += ": " + FormatProgress(p.Progress)
	}
	fmt.Fprintln(w, line)
	if p.LastFailure != "" {
		fmt.Fprintf(w, "    last attempt failed: %s\n", words.OneLine(p.LastFailure))
	}
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func roundDuration(d time.Duration) time.Duration {
	if d < 0 {
		return 0
	}
	return d.Round(time.Second)
}

func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// formatProgress reads the activities' heartbeat details ({"step", "done",
// "total"}) as "step: done/total"; other details are shown as JSON.
func FormatProgress(raw json.RawMessage) string {
	var p struct {
		Step  string `json:"step"`
		Done  int    `json:"done"`
		Total int    `json:"total"`
	}
	if json.Unmarshal(raw, &p) != nil || p.Step == "" {
		return string(raw)
	}
	if p.Total > 0 {
		return fmt.Sprintf("%s: %d/%d", p.Step, p.Done, p.Total)
	}
	return fmt.Sprintf("%s: %d", p.Step, p.Done)
}
