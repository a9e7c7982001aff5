package cutover

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/model"
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

// The aws-sp-metadata gate says which account the break-glass user is in
// when that is not the instance's owner (a delegated administrator's).
func TestSPMetadataInstructionsSayWhereTheBreakGlassUserIs(t *testing.T) {
	bg := &model.BreakGlassUser{UserName: "ssocutover-breakglass-d-1234567890", Account: "321098765432", InstanceOwnerAccount: "210987654321"}
	got := spMetadataInstructions(testWorkflowID, &workflows.Resources{BreakGlass: bg})
	require.Contains(t, got, "It is in account 321098765432, the delegated administrator account")
	require.Contains(t, got, "management account 210987654321")

	bg.Account = bg.InstanceOwnerAccount
	require.NotContains(t, spMetadataInstructions(testWorkflowID, &workflows.Resources{BreakGlass: bg}), "delegated administrator")
}
