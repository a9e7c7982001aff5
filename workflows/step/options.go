package step

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Activities after the preflight change things, but each finds what it would
// create before creating it, so retrying them is safe. They retry transient
// failures for a bounded time; an error that retrying cannot fix (refused
// input, missing permission) stops at once.
var RetryPolicy = &temporal.RetryPolicy{
	InitialInterval:    2 * time.Second,
	BackoffCoefficient: 2,
	MaximumInterval:    time.Minute,
}

// Options are the activity options of a step that takes at most
// startToClose per attempt; steps that run long heartbeat, so a lost worker
// is noticed within heartbeat (0: the step does not heartbeat).
func Options(ctx workflow.Context, summary string, startToClose, heartbeat time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		Summary:                summary,
		StartToCloseTimeout:    startToClose,
		ScheduleToCloseTimeout: 4 * startToClose,
		HeartbeatTimeout:       heartbeat,
		RetryPolicy:            RetryPolicy,
	})
}
