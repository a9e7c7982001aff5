package workflows

import (
	"fmt"
	"time"

	"github.com/platformguide/ssocutover/workflows/step"
	"go.temporal.io/sdk/workflow"
)

// EnsureRotationScheduleName is the activity that creates (or updates) the
// Temporal Schedule of the SCIM token rotation.
const EnsureRotationScheduleName = "EnsureRotationSchedule"

// ensureRotationScheduleInput and ensureRotationScheduleResult have the
// JSON shape of the activity's (activities/schedules, which imports this
// package and so cannot be imported here).
type ensureRotationScheduleInput struct {
	Request ScimTokenRotationRequest `json:"request"`
	Every   string                   `json:"every,omitempty"`
}

type ensureRotationScheduleResult struct {
	ScheduleID string `json:"scheduleId"`
	Created    bool   `json:"created"`
}

// scheduleTokenRotation creates the schedule that keeps the SCIM token
// fresh, when the request asks for it. The cutover is complete either way:
// a failure here only says how to schedule the rotation by hand.
func (c *cutover) scheduleTokenRotation(ctx workflow.Context) string {
	req := c.status.Request
	if !req.ScheduleTokenRotation {
		return ""
	}
	byHand := fmt.Sprintf("starter rotation schedule --identity-store %s", req.IdentityStoreID)
	rotation, err := RotationRequestFromCutover(req, c.status.Resources)
	if err != nil {
		return fmt.Sprintf(" The SCIM token rotation was not scheduled (%v); schedule it with `%s`.", err, byHand)
	}
	c.setStep(ctx, PhaseVerifying, "scheduling the SCIM token rotation")
	// activities/schedules imports this package, so its activity is
	// called by name, with types of the same JSON shape.
	scheduled, err := step.RunNamed[ensureRotationScheduleInput, ensureRotationScheduleResult](
		stepOptions(ctx, "SCIM token rotation schedule", time.Minute, 0), EnsureRotationScheduleName, ensureRotationScheduleInput{Request: rotation})
	if err != nil {
		workflow.GetLogger(ctx).Warn("The SCIM token rotation could not be scheduled", "error", err)
		return fmt.Sprintf(" The SCIM token rotation could not be scheduled (%s); schedule it with `%s`.", describeError(err), byHand)
	}
	c.resources().RotationSchedule = scheduled.ScheduleID
	return fmt.Sprintf(" The Temporal Schedule %s checks the SCIM token daily and asks for a new one before it expires.", scheduled.ScheduleID)
}
