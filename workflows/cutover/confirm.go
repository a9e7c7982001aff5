package cutover

import (
	"fmt"
	"strings"

	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/gate"
	"go.temporal.io/sdk/workflow"
)

// confirmSignIn is gate G4: the person signs in through Entra and approves.
// When the verification found something missing, approving needs an
// override with a reason, as at the preflight gate.
func (c *cutover) confirmSignIn(ctx workflow.Context) (*gate.Pending, error) {
	verification := c.resources().Verification
	complete := verification != nil && verification.Complete()
	return c.waitAtGate(ctx, &gate.Gate{
		Name:               workflows.GateConfirmSignIn,
		Phase:              workflows.PhaseAwaitingSignIn,
		Instructions:       confirmInstructions(c.status.WorkflowID, c.status.Resources),
		Operations:         []string{workflows.OpApprove, workflows.OpReject, workflows.OpRollback},
		RollsBackOnTimeout: true,
		Check: func(op string, d workflows.GateDecision) error {
			if op == workflows.OpApprove && !complete && !d.Override {
				return fmt.Errorf("the verification did not find everything of the snapshot in Identity Center (%s): "+
					`check the report, then approve with "override": true and a "reason" that says why going on is safe, or reject`,
					workflows.VerificationLine(c.status.Resources))
			}
			return nil
		},
	})
}

func confirmInstructions(workflowID string, res *workflows.Resources) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Provisioning verified: %s.\n", workflows.VerificationLine(res))
	if res != nil && res.Verification != nil {
		fmt.Fprintf(&b, "Every difference is listed in the report `%s`.\n", res.Verification.Report.Key)
		if refused := res.Verification.AssignmentsRefused; len(refused) > 0 {
			fmt.Fprintf(&b, "\nAWS refused %d of the assignments to restore to the worker's account (a delegated administrator may not assign in the management account). "+
				"Create them with the management account's credentials before you confirm:\n\n", len(refused))
			for _, command := range refused {
				fmt.Fprintf(&b, "    %s\n\n", command)
			}
		}
	}
	b.WriteString("\nCheck that signing in works before calling the cutover done:\n\n" +
		"1. In a private browser window, open the AWS access portal URL (IAM Identity Center > Settings > Identity source).\n" +
		"2. Sign in with an Entra account that is a member of an assigned group.\n" +
		"3. Check that its AWS accounts and permission sets are listed, and open one.\n\n")
	if res != nil && res.BreakGlass != nil {
		fmt.Fprintf(&b, "If signing in fails, the break-glass IAM user %s still opens the console; its password is in Secrets Manager (%s).\n\n",
			res.BreakGlass.UserName, res.BreakGlass.Password.ARN)
	}
	args := []string{"--gate", workflows.GateConfirmSignIn, "--by", "NAME"}
	if res != nil && res.Verification != nil && res.Verification.Complete() {
		fmt.Fprintf(&b, "When it works:\n\n    %s\n\n", gate.StarterCommand(workflows.OpApprove, workflowID, args...))
	} else {
		fmt.Fprintf(&b, "Something is missing: read the report. To finish anyway, saying why that is safe:\n\n    %s\n\n",
			gate.StarterCommand(workflows.OpApprove, workflowID, append(args, "--override", "--reason", `"WHY"`)...))
	}
	fmt.Fprintf(&b, "If it does not work, stop here:\n\n    %s\n\n", gate.StarterCommand(workflows.OpReject, workflowID, append(args, "--reason", `"WHY"`)...))
	fmt.Fprintf(&b, "With the Temporal CLI:\n\n    %s\n", gate.SignalCommand(workflowID, workflows.OpApprove, workflows.GateDecision{Gate: workflows.GateConfirmSignIn, By: "NAME"}))
	return b.String()
}

// completedMessage is the final word of a completed cutover.
func completedMessage(d *gate.Pending, res *workflows.Resources) string {
	msg := fmt.Sprintf("The cutover is complete: %s confirmed that signing in through Entra works. %s.", d.By, capitalize(workflows.VerificationLine(res)))
	if res != nil && res.BreakGlass != nil {
		msg += fmt.Sprintf(" The break-glass IAM user %s stays until a person removes it.", res.BreakGlass.UserName)
	}
	return msg
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
