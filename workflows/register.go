package workflows

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Register registers the workflows under the names clients start them by.
func Register(r worker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(Cutover, workflow.RegisterOptions{Name: CutoverWorkflowName})
	r.RegisterWorkflowWithOptions(ScimTokenRotation, workflow.RegisterOptions{Name: RotationWorkflowName})
}
