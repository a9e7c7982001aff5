package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/platformguide/ssocutover/activities/notify"
	"github.com/platformguide/ssocutover/internal/readiness"
	"github.com/platformguide/ssocutover/internal/temporalclient"
	"github.com/platformguide/ssocutover/workflows"
)

// ErrNotReady is what doctor returns when a check is missing: the exit
// status is 1, and the report already said why.
var ErrNotReady = errors.New("not ready")

// doctorTimeout bounds the whole check, the worker's part included.
const doctorTimeout = 3 * time.Minute

func (c *cli) doctorCommand() *cobra.Command {
	var req workflows.ReadinessRequest
	var asJSON, sendTest bool
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check, read-only, that Temporal, a worker, AWS and Entra are ready for a cutover",
		Long: `doctor checks what a cutover needs before one starts, and changes nothing:
Temporal (reachable, the namespace, TLS or API key as configured, the payload
keys, a worker polling the task queue); then, on that worker with its own
identity, AWS (the caller, the Identity Center instance, every IAM action the
cutover calls, simulated) and Entra (the Graph permissions of the worker's
token, an Entra ID P1 licence, the gallery app, the app management policy);
and here, the data directory and the chat webhook (called only with
--send-test-notification).

It prints one line per check, ok, missing or warning, with what to do, and
exits 1 when something is missing. 'bin/worker --check' makes the same AWS,
Entra and local checks in the worker's own process.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if req.Region == "" || req.IdentityStoreID == "" {
				return errors.New("--region and --identity-store are required: the Region and identity store ID (d-...) of the instance to cut over")
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), doctorTimeout)
			defer cancel()
			report := c.doctor(ctx, req, sendTest)
			if asJSON {
				enc := json.NewEncoder(c.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(report); err != nil {
					return err
				}
			} else if err := report.Write(c.stdout); err != nil {
				return err
			}
			if !report.Ready() {
				return ErrNotReady
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&req.Region, "region", c.getenv("AWS_REGION"), "the instance's AWS Region (env AWS_REGION)")
	cmd.Flags().StringVar(&req.IdentityStoreID, "identity-store", "", "the instance's identity store ID (d-...)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	cmd.Flags().BoolVar(&sendTest, "send-test-notification", false, "post a test message to the chat webhook")
	return cmd
}

// doctor makes every check it can: those that need a worker only when one
// polls the task queue.
func (c *cli) doctor(ctx context.Context, req workflows.ReadinessRequest, sendTest bool) readiness.Report {
	var r readiness.Report
	tc, ok := c.checkTemporal(ctx, &r)
	if ok {
		defer tc.Close()
		if c.checkPollers(ctx, &r, tc) {
			c.checkOnWorker(ctx, &r, tc, req)
		}
	}
	r.Add(readiness.CheckDataDir(c.dataDir))
	c.checkWebhook(ctx, &r, sendTest)
	return r
}

// checkTemporal loads the payload keys, connects, and reads the namespace.
func (c *cli) checkTemporal(ctx context.Context, r *readiness.Report) (client.Client, bool) {
	if _, err := c.keySource().LoadCodec(); err != nil {
		r.Fail(readiness.AreaTemporal, "payload keys", readiness.CodeNotReady, err.Error(),
			"give the starter the worker's keys (SSOCUTOVER_CODEC_KEYS or --codec-key-file); 'starter codec-key' makes one")
		return nil, false
	}
	r.Pass(readiness.AreaTemporal, "payload keys", "loaded; payloads are encrypted")
	tc, err := c.dial(ctx)
	if err != nil {
		r.Fail(readiness.AreaTemporal, "Temporal server", readiness.CodeNotReady, err.Error(),
			"check TEMPORAL_ADDRESS, the TLS settings or the API key; 'make dev-server' starts a local server")
		return nil, false
	}
	r.Pass(readiness.AreaTemporal, "Temporal server", "reachable: "+c.temporal.String())
	ns := c.temporal.Namespace
	if ns == "" {
		ns = temporalclient.DefaultNamespace
	}
	if _, err := tc.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: ns}); err != nil {
		r.Fail(readiness.AreaTemporal, "namespace", readiness.CodeNotReady, fmt.Sprintf("%s: %v", ns, err),
			"create the namespace (temporal operator namespace create "+ns+") or set TEMPORAL_NAMESPACE")
		tc.Close()
		return nil, false
	}
	r.Pass(readiness.AreaTemporal, "namespace", ns)
	return tc, true
}

// pollerWait is how long doctor waits for a worker that has just started
// to poll (Temporal lists a poller once it has polled).
const pollerWait = 15 * time.Second

// checkPollers asks whether a worker polls the cutover's task queue, for
// workflows and for activities.
func (c *cli) checkPollers(ctx context.Context, r *readiness.Report, tc client.Client) bool {
	deadline := time.Now().Add(pollerWait)
	for _, kind := range []enumspb.TaskQueueType{enumspb.TASK_QUEUE_TYPE_WORKFLOW, enumspb.TASK_QUEUE_TYPE_ACTIVITY} {
		for {
			described, err := tc.DescribeTaskQueue(ctx, temporalclient.TaskQueue, kind)
			if err == nil && len(described.GetPollers()) > 0 {
				break
			}
			if err != nil || time.Now().After(deadline) {
				detail := fmt.Sprintf("no worker polls task queue %q (%s)", temporalclient.TaskQueue, kind)
				if err != nil {
					detail += ": " + err.Error()
				}
				r.Fail(readiness.AreaTemporal, "worker", readiness.CodeNotReady, detail,
					"start bin/worker against the same Temporal server and namespace; the AWS and Entra checks run on it")
				return false
			}
			select {
			case <-ctx.Done():
				return false
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
	r.Pass(readiness.AreaTemporal, "worker", fmt.Sprintf("polling task queue %q", temporalclient.TaskQueue))
	return true
}

// checkOnWorker runs the Readiness workflow, so that the AWS and Entra
// checks use the worker's identity and environment.
func (c *cli) checkOnWorker(ctx context.Context, r *readiness.Report, tc client.Client, req workflows.ReadinessRequest) {
	run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       fmt.Sprintf("readiness-%s-%d", req.IdentityStoreID, time.Now().UnixNano()),
		TaskQueue:                temporalclient.TaskQueue,
		WorkflowExecutionTimeout: doctorTimeout,
	}, workflows.ReadinessWorkflowName, req)
	var report readiness.Report
	if err == nil {
		err = run.Get(ctx, &report)
	}
	if err != nil {
		r.Fail(readiness.AreaTemporal, "checks on the worker", readiness.CodeNotReady, err.Error(),
			"see the worker's log; a worker older than this starter lacks the Readiness workflow")
		return
	}
	r.Add(report.Checks...)
}

// checkWebhook reads the webhook the way the worker does, and posts to it
// only when asked.
func (c *cli) checkWebhook(ctx context.Context, r *readiness.Report, sendTest bool) {
	hook, err := notify.WebhookFromEnv(c.getenv)
	host := ""
	if hook != nil {
		host = hook.Host()
	}
	check := readiness.CheckWebhook(hook != nil, host, err)
	if check.Status == readiness.OK && hook != nil && sendTest {
		if err := (&notify.Activities{Webhook: hook}).SendTest(ctx); err != nil {
			check = readiness.Check{Area: readiness.AreaWorker, Name: check.Name, Status: readiness.Missing, Code: readiness.CodeNotReady,
				Detail: err.Error(), Fix: "check the URL Slack or Teams gave (it may have been revoked)"}
		} else {
			check.Detail = "a test message was posted to " + host
		}
	}
	r.Add(check)
}
