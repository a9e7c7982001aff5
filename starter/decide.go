package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/platformguide/ssocutover/workflows"
)

// decision is what a person says at a gate.
type decision struct {
	target
	gate     string
	by       string
	reason   string
	override bool
	signal   bool
}

var decisionHelp = map[string]string{
	workflows.OpApprove: "Approve the open gate (with --override and --reason to go on despite blockers)",
	workflows.OpReject:  "Reject the cutover at the open gate (--reason required); after the preflight gate this rolls back what was done",
	workflows.OpRecheck: "Run the preflight again (after fixing findings) and come back to the gate",
	workflows.OpRollback: "Undo what the cutover did, newest first (--reason required); without --gate, while a step runs " +
		"(the rollback starts when the step ends)",
	workflows.OpRetry: "Run a failed step (gate step-failed) or compensation (gate compensation-failed) again, after fixing the cause",
	workflows.OpSkip:  "Leave a compensation that keeps failing to a person (gate compensation-failed); --reason says what you did by hand",
}

func (c *cli) decideCommand(op string) *cobra.Command {
	d := decision{by: c.getenv("USER")}
	cmd := &cobra.Command{
		Use:   op + " (--workflow-id ID | --identity-store d-...) --gate GATE [--by NAME] [--reason WHY]",
		Short: decisionHelp[op],
		Long: decisionHelp[op] + `.

The decision is sent as an update: the workflow checks it at once (is this
gate open? is a reason given where one is needed? are there blockers?) and
this command prints its answer, or the reason it was refused. It waits until
the workflow has carried the decision out: for recheck, until the preflight
has run again.

With --signal the decision is sent as a signal instead, as
'temporal workflow signal' would: a signal cannot be refused to its sender, so
a refused one only shows under "Refused signals" in 'starter status'.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.decide(cmd.Context(), op, d)
		},
	}
	d.target.register(cmd.Flags())
	cmd.Flags().StringVar(&d.gate, "gate", "", "the gate you decide at, as status shows it (e.g. preflight): a decision meant for one gate is never taken at another")
	cmd.Flags().StringVar(&d.by, "by", d.by, "who decides (default $USER)")
	cmd.Flags().StringVar(&d.reason, "reason", "", "why; required to reject, roll back, skip and override")
	if op == workflows.OpApprove {
		cmd.Flags().BoolVar(&d.override, "override", false, "approve despite blockers; needs --reason")
	}
	cmd.Flags().BoolVar(&d.signal, "signal", false, "send a signal instead of an update (no immediate answer)")
	if op != workflows.OpRollback {
		_ = cmd.MarkFlagRequired("gate")
	}
	return cmd
}

func (c *cli) decide(ctx context.Context, op string, d decision) error {
	id, err := d.resolve()
	if err != nil {
		return err
	}
	tc, err := c.dial(ctx)
	if err != nil {
		return err
	}
	defer tc.Close()

	input := workflows.GateDecision{Gate: d.gate, By: d.by, Reason: d.reason, Override: d.override}
	if d.signal {
		if err := tc.SignalWorkflow(ctx, id, "", op, input); err != nil {
			return fmt.Errorf("send %s to %s: %w", op, id, err)
		}
		fmt.Fprintf(c.stdout, "Sent %s as a signal to %s. A signal cannot be refused to its sender: check that it was taken with\n\n    starter status --workflow-id %s\n", op, id, id)
		return nil
	}

	if op == workflows.OpRecheck {
		fmt.Fprintf(c.stdout, "Asking %s to run the preflight again; this waits until it has run (Ctrl-C stops the waiting, not the recheck).\n", id)
	}
	status, err := sendDecision(ctx, tc, id, op, input)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "%s at gate %s by %s: done.\n\n", op, d.gate, d.by)
	renderStatus(c.stdout, statusView{CutoverStatus: status}, c.workflowLink(id), time.Now())
	return nil
}

// sendDecision sends op as an update and waits until the workflow has
// carried it out; a refusal by the workflow's validator comes back as the
// error, at once.
func sendDecision(ctx context.Context, tc client.Client, id, op string, input workflows.GateDecision) (workflows.CutoverStatus, error) {
	handle, err := tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   id,
		UpdateName:   op,
		Args:         []any{input},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return workflows.CutoverStatus{}, decisionError(op, id, err)
	}
	var status workflows.CutoverStatus
	if err := handle.Get(ctx, &status); err != nil {
		return workflows.CutoverStatus{}, decisionError(op, id, err)
	}
	return status, nil
}

// decisionError says why a decision was not taken. A refusal by the
// workflow's validator arrives as an application error whose message is
// the whole explanation; the SDK's rendering of it would repeat its cause.
func decisionError(op, id string, err error) error {
	var refused *temporal.ApplicationError
	if errors.As(err, &refused) {
		return fmt.Errorf("%s was not taken by %s: %s", op, id, refused.Message())
	}
	return fmt.Errorf("%s was not taken by %s: %w", op, id, err)
}
