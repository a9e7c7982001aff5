package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"golang.org/x/crypto/ssh"

	"github.com/platformguide/ssocutover/internal/approval"
	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/statusview"
)

// decision is what a person says at a gate.
type decision struct {
	target
	gate     string
	by       string
	reason   string
	override bool
	signal   bool
	// key is the private key file that signs the decision; with
	// printStatement the statement is printed for ssh-keygen instead.
	key            string
	printStatement bool
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
a refused one only shows under "Refused signals" in 'starter status'.

Where the cutover request names approvers, its gates in requiredApprovals
take only signed decisions: --key signs this one with your SSH private key
(one without a passphrase) and prints the statement it signed. With a key
that has a passphrase, or to sign elsewhere, --print-statement prints the
statement and how to sign and send it with ssh-keygen (README, Signed
approvals).`,
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
	cmd.Flags().StringVar(&d.key, "key", "", "sign the decision with this SSH private key (such as ~/.ssh/id_ed25519), for gates that need approvers' signatures")
	cmd.Flags().BoolVar(&d.printStatement, "print-statement", false, "print the statement to sign (to stdout) and how to sign and send it with ssh-keygen (to stderr); sends nothing")
	cmd.MarkFlagsMutuallyExclusive("key", "print-statement")
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
	var signer ssh.Signer
	if d.key != "" { // before dialing: a wrong key file fails at once
		if signer, err = approval.LoadSigner(d.key); err != nil {
			return err
		}
	}
	tc, err := c.dial(ctx)
	if err != nil {
		return err
	}
	defer tc.Close()

	input := workflows.GateDecision{Gate: d.gate, By: d.by, Reason: d.reason, Override: d.override}
	if signer != nil || d.printStatement {
		statement, err := decisionStatement(ctx, tc, id, op, input, time.Now())
		if err != nil {
			return err
		}
		if d.printStatement {
			return c.printStatement(id, op, d, statement)
		}
		if input, err = signDecision(input, statement, signer); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "Signed with key %s this statement:\n\n%s\n", ssh.FingerprintSHA256(signer.PublicKey()), indent(statement))
	}
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
	return c.sendAndShow(ctx, tc, id, op, input)
}

// sendAndShow sends op as an update (sendDecision) and prints the status the
// workflow answers with once it has carried op out.
func (c *cli) sendAndShow(ctx context.Context, tc client.Client, id, op string, input workflows.GateDecision) error {
	if isRotation(id) {
		status, err := SendDecision[workflows.ScimTokenRotationStatus](ctx, tc, id, op, input)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "%s at gate %s by %s: done.\n\n", op, input.Gate, input.By)
		statusview.WriteRotation(c.stdout, statusview.Rotation{ScimTokenRotationStatus: status}, c.workflowLink(id), time.Now())
		return nil
	}
	status, err := SendDecision[workflows.CutoverStatus](ctx, tc, id, op, input)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "%s at gate %s by %s: done.\n\n", op, input.Gate, input.By)
	statusview.WriteCutover(c.stdout, statusview.Cutover{CutoverStatus: status}, c.workflowLink(id), time.Now())
	return nil
}

// DecisionWait is how long SendDecision waits for the workflow to carry a
// decision out once it has accepted it. Carrying one out runs activities;
// when a worker dies in one, its retry waits for the activity's timeout,
// and a command that hangs that long helps nobody.
var DecisionWait = 2 * time.Minute

// ErrStillCarryingOut is in the chain of SendDecision's error when the
// decision was accepted and is still being carried out after DecisionWait:
// neither taken nor refused yet.
var ErrStillCarryingOut = errors.New("still being carried out")

// SendDecision sends op as an update and waits until the workflow has
// carried it out; a refusal by the workflow's validator comes back as the
// error, at once. S is the workflow's status type.
func SendDecision[S any](ctx context.Context, tc client.Client, id, op string, input workflows.GateDecision) (S, error) {
	var status S
	// One update ID for every attempt: the server takes an update once
	// per ID, so sending it again after a lost answer cannot decide twice.
	options := client.UpdateWorkflowOptions{
		UpdateID:     uuid.NewString(),
		WorkflowID:   id,
		UpdateName:   op,
		Args:         []any{input},
		WaitForStage: client.WorkflowUpdateStageAccepted,
	}
	handle, err := tc.UpdateWorkflow(ctx, options)
	for delay := time.Second; err != nil && updateNotDelivered(err) && delay <= 8*time.Second; delay *= 2 {
		select {
		case <-ctx.Done():
			return status, decisionError(op, id, ctx.Err())
		case <-time.After(delay):
		}
		handle, err = tc.UpdateWorkflow(ctx, options)
	}
	if err != nil {
		return status, decisionError(op, id, err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, DecisionWait)
	defer cancel()
	err = handle.Get(waitCtx, &status)
	if err != nil && waitCtx.Err() != nil && ctx.Err() == nil {
		return status, fmt.Errorf("%s was accepted by %s and is %w after %s (a worker may have restarted in the middle of it): "+
			"it can still be taken or refused; follow it with starter status --workflow-id %s, and do not send it again unless the gate opens again",
			op, id, ErrStillCarryingOut, DecisionWait, id)
	}
	if err != nil {
		return status, decisionError(op, id, err)
	}
	return status, nil
}

// updateNotDelivered says whether err means the update never reached the
// workflow's code, so sending it again is the answer: the workflow task
// that carried it failed (its worker died in the middle, found by the
// chaos campaign: "Unable to perform workflow execution update due to
// unexpected workflow task failure"), or the server was briefly
// unavailable. A refusal by the workflow is an application error, never
// this.
func updateNotDelivered(err error) bool {
	var refused *temporal.ApplicationError
	if errors.As(err, &refused) {
		return false
	}
	var aborted *serviceerror.Aborted
	var unavailable *serviceerror.Unavailable
	var notReady *serviceerror.WorkflowNotReady
	return errors.As(err, &aborted) || errors.As(err, &unavailable) || errors.As(err, &notReady) ||
		strings.Contains(err.Error(), "unexpected workflow task failure")
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

// decisionStatement is the statement a signature of input must sign: it
// names the cutover's current run, which only the server knows.
func decisionStatement(ctx context.Context, tc client.Client, id, op string, input workflows.GateDecision, now time.Time) (approval.Statement, error) {
	described, err := tc.DescribeWorkflow(ctx, id, "")
	if err != nil {
		return approval.Statement{}, fmt.Errorf("find the run of %s, which the signed statement names: %w", id, err)
	}
	return approval.Statement{
		WorkflowID: id,
		RunID:      described.RawResponse.GetWorkflowExecutionInfo().GetExecution().GetRunId(),
		Gate:       input.Gate,
		Decision:   op,
		Override:   input.Override,
		SignedAt:   now,
	}, nil
}

// signDecision adds the signature of statement by signer to input.
func signDecision(input workflows.GateDecision, statement approval.Statement, signer ssh.Signer) (workflows.GateDecision, error) {
	text, err := statement.Text()
	if err != nil {
		return input, err
	}
	if input.Signature, err = approval.Sign(text, signer); err != nil {
		return input, err
	}
	input.SignedAt = approval.FormatSignedAt(statement.SignedAt)
	return input, nil
}

// printStatement writes the statement to stdout, so it can be redirected
// to a file, and how to sign and send it to stderr.
func (c *cli) printStatement(id, op string, d decision, statement approval.Statement) error {
	text, err := statement.Text()
	if err != nil {
		return err
	}
	if _, err := c.stdout.Write(text); err != nil {
		return err
	}
	input := fmt.Sprintf(`{gate: %q, by: %q, signedAt: %q, signature: $sig`, d.gate, d.by, approval.FormatSignedAt(statement.SignedAt))
	if d.reason != "" {
		input += fmt.Sprintf(", reason: %q", d.reason)
	}
	if d.override {
		input += ", override: true"
	}
	input += "}"
	fmt.Fprintf(c.stderr, `
Save the statement above as statement.txt (run this command with > statement.txt: these lines go to stderr and match it),
then within %s sign it and send the decision:

    ssh-keygen -Y sign -f ~/.ssh/id_ed25519 -n %s statement.txt
    temporal workflow update execute --workflow-id %s --name %s \
      --codec-endpoint CODEC_URL --input "$(jq -n --rawfile sig statement.txt.sig '%s')"

(temporal workflow signal with the same --input sends it as a signal. CODEC_URL is where
'starter codec-server' listens: the worker refuses a decision sent as plain JSON.)
`, workflows.MaxSignatureAge, approval.Namespace, id, op, input)
	return nil
}

// indent indents a statement for printing.
func indent(statement approval.Statement) string {
	text, _ := statement.Text()
	return "    " + strings.ReplaceAll(strings.TrimSuffix(string(text), "\n"), "\n", "\n    ") + "\n"
}
