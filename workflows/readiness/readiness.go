// Package readiness is the Readiness workflow: one activity, the readiness
// checks, run on a worker so that they use the worker's identity and
// environment (`starter doctor` starts it and prints the report).
package readiness

import (
	"time"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/platformguide/ssocutover/activities/checks"
	"github.com/platformguide/ssocutover/internal/readiness"
	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/step"
)

// checker names the activity (see workflows/step).
var checker *checks.Activities

// Readiness runs the checks once; a check that fails is a line of the
// report, so the activity is retried only when the worker fails.
func Readiness(ctx workflow.Context, req workflows.ReadinessRequest) (readiness.Report, error) {
	ctx = step.Options(ctx, "Readiness checks", 2*time.Minute, 0)
	return step.Run(ctx, checker.CheckReadiness, checks.CheckReadinessInput{Region: req.Region, IdentityStoreID: req.IdentityStoreID})
}

// Register registers the Readiness workflow under the name clients start it by.
func Register(r worker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(Readiness, workflow.RegisterOptions{Name: workflows.ReadinessWorkflowName})
}
