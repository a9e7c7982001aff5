package cutover

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/platformguide/ssocutover/activities/identitycenter"
	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/step"
)

// ensureBreakGlassUser carries out runbook step 4: an IAM user with a
// console password and Identity Center administration, so that a person can
// still sign in to the management account (and revert the identity source)
// if single sign-on through Entra does not work. The password is generated
// by the activity and kept only in Secrets Manager; history holds its ARN.
func (c *cutover) ensureBreakGlassUser(ctx workflow.Context) error {
	req := c.status.Request
	input := identitycenter.EnsureBreakGlassUserInput{
		WorkflowID: c.status.WorkflowID,
		UserName:   workflows.BreakGlassUserName(req.IdentityStoreID),
		SecretName: workflows.BreakGlassSecretName(req.IdentityStoreID),
		PolicyARNs: req.BreakGlassPolicyARNs,
	}
	if c.status.Preflight != nil {
		input.InstanceARN = c.status.Preflight.InstanceARN
	}
	result, err := runStep(c, ctx, step.Options(ctx, "Break-glass IAM user "+input.UserName, 5*time.Minute, 0),
		workflows.PhaseBreakGlass, fmt.Sprintf("creating the break-glass IAM user %s (its password goes to Secrets Manager only)", input.UserName),
		identityCenter.EnsureBreakGlassUser, input)
	if err != nil {
		return err
	}
	c.resources().BreakGlass = &result.BreakGlassUser
	c.publish(ctx)
	return nil
}
