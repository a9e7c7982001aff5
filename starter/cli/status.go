package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/statusview"
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
				statusview.WriteCutover(c.stdout, view, c.workflowLink(id), time.Now())
				return nil
			})
		},
	}
	t.register(cmd.Flags())
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	return cmd
}

// statusQueryTimeout bounds the status query: a query is answered by a
// worker, and with none running it would wait for one indefinitely.
const statusQueryTimeout = 10 * time.Second

// FetchStatus asks the server about the execution and the workflow (through
// a worker) about its status.
func FetchStatus(ctx context.Context, tc client.Client, id string) (statusview.Cutover, error) {
	execution, progress, err := describeExecution(ctx, tc, id)
	if err != nil {
		return statusview.Cutover{}, err
	}
	view := statusview.Cutover{Execution: execution, InProgress: progress}
	view.QueryError, err = queryStatus(ctx, tc, id, execution.RunID, &view.CutoverStatus)
	return view, err
}

// describeExecution is what the server knows of workflow id: whether it
// runs, and the progress its running activities report by heartbeat.
func describeExecution(ctx context.Context, tc client.Client, id string) (statusview.Execution, []statusview.ActivityProgress, error) {
	described, err := tc.DescribeWorkflow(ctx, id, "")
	if err != nil {
		var notFound *serviceerror.NotFound
		if errors.As(err, &notFound) {
			return statusview.Execution{}, nil, fmt.Errorf("no workflow with ID %s in this namespace: check the ID (a cutover's is cutover-<identity store ID>, "+
				"a token rotation run's starts with %s<identity store ID>-) and --namespace", id, rotationRunPrefix)
		}
		return statusview.Execution{}, nil, fmt.Errorf("describe workflow %s: %w", id, err)
	}
	desc := described.RawResponse
	info := desc.GetWorkflowExecutionInfo()
	execution := statusview.Execution{
		RunID:     info.GetExecution().GetRunId(),
		Status:    executionStatus(info.GetStatus()),
		StartTime: info.GetStartTime().AsTime(),
	}
	if info.GetCloseTime() != nil {
		t := info.GetCloseTime().AsTime()
		execution.CloseTime = &t
	}
	progress := []statusview.ActivityProgress{}
	for _, pa := range desc.GetPendingActivities() {
		p := statusview.ActivityProgress{
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

func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
