package cutover

import (
	"fmt"
	"time"

	"github.com/platformguide/ssocutover/activities/schedules"
	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/step"
	"go.temporal.io/sdk/workflow"
)

// scheduler names the schedule activity (see workflows/step).
var scheduler *schedules.Activities

// scheduleTokenRotation creates the schedule that keeps the SCIM token
// fresh, when the request asks for it. The cutover is complete either way:
// a failure here only says how to schedule the rotation by hand.
func (c *cutover) scheduleTokenRotation(ctx workflow.Context) string {
	req := c.status.Request
	if !req.ScheduleTokenRotation {
		return ""
	}
	byHand := fmt.Sprintf("starter rotation schedule --identity-store %s", req.IdentityStoreID)
	rotation, err := workflows.RotationRequestFromCutover(req, c.status.Resources)
	if err != nil {
		return fmt.Sprintf(" The SCIM token rotation was not scheduled (%v); schedule it with `%s`.", err, byHand)
	}
	c.setStep(ctx, workflows.PhaseVerifying, "scheduling the SCIM token rotation")
	scheduled, err := step.Run(step.Options(ctx, "SCIM token rotation schedule", time.Minute, 0),
		scheduler.EnsureRotationSchedule, schedules.EnsureRotationScheduleInput{Request: rotation})
	if err != nil {
		workflow.GetLogger(ctx).Warn("The SCIM token rotation could not be scheduled", "error", err)
		return fmt.Sprintf(" The SCIM token rotation could not be scheduled (%s); schedule it with `%s`.", step.DescribeError(err), byHand)
	}
	c.resources().RotationSchedule = scheduled.ScheduleID
	return fmt.Sprintf(" The Temporal Schedule %s checks the SCIM token daily and asks for a new one before it expires.", scheduled.ScheduleID)
}
