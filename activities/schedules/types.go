// Package schedules holds the activity that keeps an identity store's SCIM
// token rotation on its Temporal Schedule: a completed cutover calls it so
// the token it set up is kept fresh without anyone remembering to.
//
// The cutover workflow calls it typed, like every activity (workflows/step);
// this package imports only the workflows' contract (package workflows).
package schedules

import "github.com/platformguide/ssocutover/workflows"

// EnsureRotationScheduleName is the activity's name.
const EnsureRotationScheduleName = "EnsureRotationSchedule"

// EnsureRotationScheduleInput is the rotation to schedule.
type EnsureRotationScheduleInput struct {
	Request workflows.ScimTokenRotationRequest `json:"request"`
	// Every is how often a run checks the token, as a Go duration ("24h");
	// empty means a day.
	Every string `json:"every,omitempty"`
}

// EnsureRotationScheduleResult names the schedule and says whether this
// call created it (false: it existed and now has the input's request and
// interval).
type EnsureRotationScheduleResult struct {
	ScheduleID string `json:"scheduleId"`
	Created    bool   `json:"created"`
}

// Types of the activity's non-retryable errors.
const (
	// ErrInvalidRequest: the request or the interval is wrong; retrying the
	// same input cannot help.
	ErrInvalidRequest = "InvalidRequest"
	// ErrNoScheduleClient: the worker was built without a schedule client.
	ErrNoScheduleClient = "NoScheduleClient"
)
