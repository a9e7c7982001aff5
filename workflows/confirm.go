package workflows

import (
	"fmt"
	"strings"

	"go.temporal.io/sdk/workflow"
)

// confirmSignIn is gate G4: the person signs in through Entra and approves.
// When the verification found something missing, approving needs an
// override with a reason, as at the preflight gate.
func (c *cutover) confirmSignIn(ctx workflow.Context) (*pendingDecision, error) {
	verification := c.resources().Verification
	complete := verification != nil && verification.Complete()
	return c.waitAtGate(ctx, &gate{
		name:               GateConfirmSignIn,
		phase:              PhaseAwaitingSignIn,
		instructions:       confirmInstructions(c.status.WorkflowID, c.status.Resources),
		operations:         []string{OpApprove, OpReject, OpRollback},
		rollsBackOnTimeout: true,
		check: func(op string, d GateDecision) error {
			if op == OpApprove && !complete && !d.Override {
				return fmt.Errorf("the verification did not find everything of the snapshot in Identity Center (%s): "+
					`check the report, then approve with "override": true and a "reason" that says why going on is safe, or reject`,
					verificationLine(c.status.Resources))
			}
			return nil
		},
	})
}

// verificationLine sums the verification up in one line.
func verificationLine(res *Resources) string {
	if res == nil || res.Verification == nil {
		return "no provisioning cycle finished before the deadline, so nothing was verified"
	}
	v := res.Verification
	// AssignmentsRestored adds up every check's restorations (see
	// verifyAssignments); the rest is the latest check.
	return fmt.Sprintf("groups %d of %d present, users %d of %d, memberships missing %d, account assignments %d of %d present (%d restored by the cutover)",
		v.GroupsPresent, v.GroupsExpected, v.UsersPresent, v.UsersExpected, v.MembersMissing,
		v.AssignmentsExpected-v.AssignmentsMissing, v.AssignmentsExpected, v.AssignmentsRestored)
}

func confirmInstructions(workflowID string, res *Resources) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Provisioning verified: %s.\n", verificationLine(res))
	if res != nil && res.Verification != nil {
		fmt.Fprintf(&b, "Every difference is listed in the report `%s`.\n", res.Verification.Report.Key)
	}
	b.WriteString("\nCheck that signing in works before calling the cutover done:\n\n" +
		"1. In a private browser window, open the AWS access portal URL (IAM Identity Center > Settings > Identity source).\n" +
		"2. Sign in with an Entra account that is a member of an assigned group.\n" +
		"3. Check that its AWS accounts and permission sets are listed, and open one.\n\n")
	if res != nil && res.BreakGlass != nil {
		fmt.Fprintf(&b, "If signing in fails, the break-glass IAM user %s still opens the console; its password is in Secrets Manager (%s).\n\n",
			res.BreakGlass.UserName, res.BreakGlass.Password.ARN)
	}
	args := []string{"--gate", GateConfirmSignIn, "--by", "NAME"}
	if res != nil && res.Verification != nil && res.Verification.Complete() {
		fmt.Fprintf(&b, "When it works:\n\n    %s\n\n", starterCommand(OpApprove, workflowID, args...))
	} else {
		fmt.Fprintf(&b, "Something is missing: read the report. To finish anyway, saying why that is safe:\n\n    %s\n\n",
			starterCommand(OpApprove, workflowID, append(args, "--override", "--reason", `"WHY"`)...))
	}
	fmt.Fprintf(&b, "If it does not work, stop here:\n\n    %s\n\n", starterCommand(OpReject, workflowID, append(args, "--reason", `"WHY"`)...))
	fmt.Fprintf(&b, "With the Temporal CLI:\n\n    %s\n", signalCommand(workflowID, OpApprove, GateDecision{Gate: GateConfirmSignIn, By: "NAME"}))
	return b.String()
}

// completedMessage is the final word of a completed cutover.
func completedMessage(d *pendingDecision, res *Resources) string {
	msg := fmt.Sprintf("The cutover is complete: %s confirmed that signing in through Entra works. %s.", d.By, capitalize(verificationLine(res)))
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
