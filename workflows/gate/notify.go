package gate

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/platformguide/ssocutover/activities/notify"
	"github.com/platformguide/ssocutover/workflows/step"
)

// notifier names the notification activities (see workflows/step).
var notifier *notify.Activities

// gateAnnouncement is what people are told when a gate opens.
type gateAnnouncement struct {
	workflow        string
	identityStoreID string
	gate            *Gate
	summary         string
	reminder        bool
}

// notifyOptions: a notification is worth a few tries, never a stuck gate.
var notifyOptions = workflow.ActivityOptions{
	Summary:                "Gate notification",
	StartToCloseTimeout:    30 * time.Second,
	ScheduleToCloseTimeout: 10 * time.Minute,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    5 * time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    time.Minute,
	},
}

// notifyGate tells the people who act on a gate that it is open, in the
// log and, when the worker has a webhook configured, in chat. It does not
// wait: the gate is open whether or not the message gets through, and
// status and the Temporal UI say the same.
func notifyGate(ctx workflow.Context, a gateAnnouncement) {
	in := notify.GateOpened{
		Workflow:        a.workflow,
		WorkflowID:      workflow.GetInfo(ctx).WorkflowExecution.ID,
		IdentityStoreID: a.identityStoreID,
		Gate:            a.gate.Name,
		Summary:         a.summary,
		Instructions:    a.gate.Instructions,
		Reminder:        a.reminder,
	}
	future := step.Start(workflow.WithActivityOptions(ctx, notifyOptions), notifier.NotifyGateOpened, in)
	workflow.Go(ctx, func(ctx workflow.Context) {
		if _, err := future.Get(ctx); err != nil && !temporal.IsCanceledError(err) {
			workflow.GetLogger(ctx).Warn("The gate notification could not be sent; status and the Temporal UI show the gate",
				"gate", a.gate.Name, "error", err)
		}
	})
}

// NotifyAttention tells people of a problem no gate waits for: a run that
// failed, a job in quarantine for a reason the workflow cannot fix. It
// waits for the message to go out, since the workflow ends next and would
// leave it unsent; a message that cannot be sent is only logged.
func NotifyAttention(ctx workflow.Context, kind, identityStoreID, problem, detail string) {
	in := notify.Attention{
		Workflow:        kind,
		WorkflowID:      workflow.GetInfo(ctx).WorkflowExecution.ID,
		IdentityStoreID: identityStoreID,
		Problem:         problem,
		Detail:          detail,
	}
	if _, err := step.Run(workflow.WithActivityOptions(ctx, notifyOptions), notifier.NotifyAttention, in); err != nil {
		workflow.GetLogger(ctx).Warn("The notification could not be sent; the workflow's status and result say the same", "problem", problem, "error", err)
	}
}
