package cutover

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/gate"
)

// The assignments AWS refused to restore from a delegated administrator
// account are listed at the confirm-sign-in gate with the command that
// creates each from the management account, and the approval needs an
// override.
func TestConfirmInstructionsListTheRefusedAssignments(t *testing.T) {
	command := "aws sso-admin create-account-assignment --instance-arn arn:aws:sso:::instance/ssoins-1234567890abcdef --target-id 210987654321 --target-type AWS_ACCOUNT --permission-set-arn arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-1 --principal-type GROUP --principal-id g-1"
	verification := incompleteVerification
	verification.AssignmentsRefused = []string{command}
	instructions := gate.CommandsAsCode(confirmInstructions(testWorkflowID, &workflows.Resources{Verification: &verification}))
	require.Contains(t, instructions, "AWS refused 1 of the assignments")
	require.Contains(t, gate.CommandsIn(instructions), command, "the command comes back whole from its block")
	require.Contains(t, instructions, "--override")

	none := completeVerification
	require.NotContains(t, confirmInstructions(testWorkflowID, &workflows.Resources{Verification: &none}), "AWS refused")
}
